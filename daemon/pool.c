/*
 * pool.c: the bounded thread pool of pool.h, with fair shares between
 * tenants.  One mutex guards everything: the tenants (a short list of
 * those with jobs in the pool or slot time not yet decayed), each with
 * its queue of jobs not started and its list of parked ones; the jobs
 * handed to an idle thread (ready); the counts of slots and threads.
 * Idle threads wait on work, parked jobs on slot.  Each thread takes a
 * job, runs its work and posts its done to the job's event_base with
 * event_base_once (the bases are made thread-aware by
 * evthread_use_pthreads, so the owning loop is woken).
 *
 * grant() hands out free slots, under the lock, whenever one frees or a
 * job arrives: to the waiting job (parked or queued; a tenant's parked
 * ones first, as they hold their tenant's locks) of the tenant with the
 * least decayed slot time.  A queued job needs a thread: an idle one, or
 * a new one up to POOL_THREADS_MAX.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "pool.h"

struct pool_tenant {
	unsigned int	 id;
	unsigned int	 jobs;		/* queued, parked or running */
	uint64_t	 usage;		/* decayed slot time, ns */
	uint64_t	 stamp;		/* usage's time */
	struct pool_job	*qhead, *qtail;	/* not started */
	struct pool_job	*parked;	/* started, waiting for a slot */
	struct pool_tenant *next;
};

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 work;		/* idle threads: ready */
	pthread_cond_t	 slot;		/* parked jobs: go */
	struct pool_tenant *tenants;
	struct pool_job	*ready;		/* granted, for an idle thread */
	unsigned int	 queued, qmax, tenant_max;
	unsigned int	 waiting;	/* atomic reads: queued + parked */
	int		 nslots, running;
	int		 nthreads, maxthreads, idle, nready;
	unsigned long long yields;
	bool		 stopping;
	pthread_t	*threads;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* t's usage decayed to now: halved every half-life, linearly between. */
static uint64_t decay(struct pool_tenant *t, uint64_t now)
{
	uint64_t dt = now > t->stamp ? now - t->stamp : 0, rem;

	if (dt >= 63 * POOL_HALF_LIFE_NS)
		t->usage = 0;
	else {
		t->usage >>= dt / POOL_HALF_LIFE_NS;
		rem = dt % POOL_HALF_LIFE_NS;
		t->usage -= (uint64_t)((double)t->usage * (double)rem /
		    (double)(2 * POOL_HALF_LIFE_NS));
	}
	t->stamp = now;
	return t->usage;
}

/* Charge j's slot time up to now to its tenant. */
static void charge(struct pool_job *j, uint64_t now)
{
	decay(j->pt, now);
	if (now > j->charged)
		j->pt->usage += now - j->charged;
	j->charged = now;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_job *j = arg;

	(void)fd;
	(void)what;
	j->done(j);
}

/* The tenant with a waiting job that has had least of the pool; with
 * need_thread false, only tenants with a parked job count. */
static struct pool_tenant *best_tenant(struct pool *p, uint64_t now,
    bool need_thread)
{
	struct pool_tenant *t, *best = NULL;

	for (t = p->tenants; t != NULL; t = t->next) {
		if (t->parked == NULL && (t->qhead == NULL || !need_thread))
			continue;
		if (best == NULL || decay(t, now) < best->usage)
			best = t;
	}
	return best;
}

static void *pool_main(void *arg);

/* Whether a queued job could find a thread (an idle one, or a new one). */
static bool thread_free(struct pool *p)
{
	return p->idle > p->nready || p->nthreads < p->maxthreads;
}

/* Hand j (queued) to a thread; false if none could be had. */
static bool start_job(struct pool *p, struct pool_job *j)
{
	if (p->idle <= p->nready) {
		if (p->nthreads >= p->maxthreads ||
		    pthread_create(&p->threads[p->nthreads], NULL, pool_main,
		    p) != 0)
			return false;
		p->nthreads++;
	}
	j->next = p->ready;
	p->ready = j;
	p->nready++;
	pthread_cond_signal(&p->work);
	return true;
}

/* Give the free slots to the waiting jobs that deserve them most. */
static void grant(struct pool *p)
{
	struct pool_tenant *t;
	struct pool_job *j;
	uint64_t now = mono_ns();

	while (p->running < p->nslots && !p->stopping &&
	    (t = best_tenant(p, now, thread_free(p))) != NULL) {
		if ((j = t->parked) != NULL) {
			t->parked = j->next;
			j->go = true;
			pthread_cond_broadcast(&p->slot);
		} else {
			j = t->qhead;
			t->qhead = j->next;
			if (!start_job(p, j)) {
				t->qhead = j;	/* put back: no thread */
				break;
			}
			if (t->qhead == NULL)
				t->qtail = NULL;
			p->queued--;
		}
		__atomic_store_n(&p->waiting, p->waiting - 1,
		    __ATOMIC_RELAXED);
		p->running++;
	}
}

/* A job of t's ended: drop t once it has none and its usage is gone. */
static void tenant_gc(struct pool *p, uint64_t now)
{
	struct pool_tenant **tp = &p->tenants, *t;

	while ((t = *tp) != NULL) {
		if (t->jobs == 0 && decay(t, now) < POOL_QUANTUM_NS) {
			*tp = t->next;
			free(t);
		} else
			tp = &t->next;
	}
}

static void *pool_main(void *arg)
{
	struct pool *p = arg;
	struct pool_job *j;
	uint64_t now;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->ready == NULL && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		if (p->stopping)
			break;
		j = p->ready;
		p->ready = j->next;
		p->nready--;
		j->granted = j->charged = mono_ns();
		pthread_mutex_unlock(&p->lock);
		j->work(j);
		pthread_mutex_lock(&p->lock);
		now = mono_ns();
		charge(j, now);
		j->pt->jobs--;
		p->running--;
		p->idle++;	/* this thread, in a moment: no new one */
		grant(p);
		p->idle--;
		tenant_gc(p, now);
		pthread_mutex_unlock(&p->lock);
		/* j is done's from here: it may be freed at once. */
		if (event_base_once(j->base, -1, EV_TIMEOUT, done_cb, j,
		    NULL) != 0)
			log_msg(LOG_ERR, "cannot post a finished job");
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(int nslots, unsigned int qmax, unsigned int tenant_max)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->slot, NULL);
	p->qmax = qmax;
	p->tenant_max = tenant_max;
	p->nslots = nslots;
	p->maxthreads = POOL_THREADS_MAX(nslots);
	if ((p->threads = calloc((size_t)p->maxthreads,
	    sizeof(*p->threads))) == NULL) {
		pool_free(p);
		return NULL;
	}
	/* The first nslots threads at once; the others when jobs park. */
	pthread_mutex_lock(&p->lock);
	while (p->nthreads < nslots) {
		if (pthread_create(&p->threads[p->nthreads], NULL, pool_main,
		    p) != 0) {
			pthread_mutex_unlock(&p->lock);
			pool_free(p);
			return NULL;
		}
		p->nthreads++;
	}
	pthread_mutex_unlock(&p->lock);
	return p;
}

int pool_submit(struct pool *p, struct pool_job *j)
{
	struct pool_tenant *t;
	int rc = 0;

	j->next = NULL;
	j->go = false;
	pthread_mutex_lock(&p->lock);
	for (t = p->tenants; t != NULL && t->id != j->tenant; t = t->next)
		;
	if (p->stopping)
		rc = -ESHUTDOWN;
	else if (p->queued >= p->qmax)
		rc = -EAGAIN;
	else if (t != NULL && p->tenant_max > 0 && t->jobs >= p->tenant_max)
		rc = -EDQUOT;
	else if (t == NULL && (t = calloc(1, sizeof(*t))) != NULL) {
		t->id = j->tenant;
		t->stamp = mono_ns();
		t->next = p->tenants;
		p->tenants = t;
	}
	if (rc == 0 && t == NULL)
		rc = -EAGAIN;
	if (rc == 0) {
		j->pt = t;
		t->jobs++;
		if (t->qtail != NULL)
			t->qtail->next = j;
		else
			t->qhead = j;
		t->qtail = j;
		p->queued++;
		__atomic_store_n(&p->waiting, p->waiting + 1,
		    __ATOMIC_RELAXED);
		grant(p);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

bool pool_yield(struct pool *p, struct pool_job *j)
{
	struct pool_tenant *best;
	struct pool_job **jp;
	uint64_t now;

	if (p == NULL || j == NULL ||
	    __atomic_load_n(&p->waiting, __ATOMIC_RELAXED) == 0)
		return false;
	if ((now = mono_ns()) - j->granted < POOL_QUANTUM_NS)
		return false;
	pthread_mutex_lock(&p->lock);
	charge(j, now);
	j->granted = now;	/* asked again a quantum from now */
	best = best_tenant(p, now, thread_free(p));
	if (p->stopping || best == NULL || best == j->pt ||
	    best->usage >= decay(j->pt, now)) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	/* Park: last of its tenant's parked jobs. */
	j->go = false;
	j->next = NULL;
	for (jp = &j->pt->parked; *jp != NULL; jp = &(*jp)->next)
		;
	*jp = j;
	__atomic_store_n(&p->waiting, p->waiting + 1, __ATOMIC_RELAXED);
	p->running--;
	p->yields++;
	metrics_inc(MC_POOL_YIELDS);
	grant(p);
	while (!j->go)
		pthread_cond_wait(&p->slot, &p->lock);
	j->granted = j->charged = mono_ns();
	pthread_mutex_unlock(&p->lock);
	return true;
}

void pool_free(struct pool *p)
{
	struct pool_tenant *t;
	struct pool_job *j;
	int i, n;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->ready = NULL;
	for (t = p->tenants; t != NULL; t = t->next) {
		t->qhead = t->qtail = NULL;
		for (j = t->parked; j != NULL; j = j->next)
			j->go = true;	/* parked ones run to their end */
		t->parked = NULL;
	}
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->slot);
	pthread_mutex_unlock(&p->lock);
	/* Threads are started under the lock (grant() of a running job):
	 * read their number again until it holds still. */
	for (i = 0;;) {
		pthread_mutex_lock(&p->lock);
		n = p->nthreads;
		pthread_mutex_unlock(&p->lock);
		if (i >= n)
			break;
		for (; i < n; i++)
			pthread_join(p->threads[i], NULL);
	}
	while ((t = p->tenants) != NULL) {
		p->tenants = t->next;
		free(t);
	}
	free(p->threads);
	pthread_cond_destroy(&p->slot);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

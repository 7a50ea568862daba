/*
 * pool.c: the bounded thread pool of pool.h.  One mutex and condition
 * variable guard a FIFO of jobs; each thread takes a job, runs its work
 * and posts its done to the job's event_base with event_base_once (the
 * bases are made thread-aware by evthread_use_pthreads, so the owning
 * loop is woken).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "log.h"
#include "pool.h"

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct pool_job	*head, *tail;
	unsigned int	 queued, qmax;
	bool		 stopping;
	int		 nthreads;
	pthread_t	*threads;
};

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_job *j = arg;

	(void)fd;
	(void)what;
	j->done(j);
}

static void *pool_main(void *arg)
{
	struct pool *p = arg;
	struct pool_job *j;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stopping)
			break;
		j = p->head;
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		j->work(j);
		if (event_base_once(j->base, -1, EV_TIMEOUT, done_cb, j,
		    NULL) != 0)
			log_msg(LOG_ERR, "cannot post a finished job");
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(int nthreads, unsigned int qmax)
{
	struct pool *p = calloc(1, sizeof(*p));
	int i;

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->qmax = qmax;
	if ((p->threads = calloc((size_t)nthreads, sizeof(*p->threads))) ==
	    NULL) {
		pool_free(p);
		return NULL;
	}
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
			pool_free(p);
			return NULL;
		}
		p->nthreads++;
	}
	return p;
}

int pool_submit(struct pool *p, struct pool_job *j)
{
	int rc = 0;

	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping)
		rc = -ESHUTDOWN;
	else if (p->queued >= p->qmax)
		rc = -EAGAIN;
	else {
		if (p->tail != NULL)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
		p->queued++;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void pool_free(struct pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->head = p->tail = NULL;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

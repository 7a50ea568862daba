/*
 * server-worker.c: the worker threads (server-int.h), and what the
 * service asks of them (service.h): heartbeats, the drain at SIGTERM,
 * the counts for STATUS=.
 */
#include "server-int.h"

/* --- workers ---------------------------------------------------------------- */

static struct newconn *worker_pop(struct worker *w)
{
	struct newconn *n;

	pthread_mutex_lock(&w->qlock);
	if ((n = w->qhead) != NULL && (w->qhead = n->next) == NULL)
		w->qtail = NULL;
	pthread_mutex_unlock(&w->qlock);
	return n;
}

/* Undo what n was queued for: it will not be. */
static void worker_unqueue(struct worker *w, struct newconn *n)
{
	if (n->evict)
		admission_evicted(w->srv->adm);
	hand_undo(w->srv, n);
	close(n->fd);
}

static void worker_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct newconn *n;
	char buf[64];
	ssize_t got = read(fd, buf, sizeof(buf)), i;

	(void)what;
	for (i = 0; i < got; i++) {
		if ((n = worker_pop(w)) == NULL)
			break;
		conn_new(w, n);
		free(n);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/*
 * A worker's loop.  With the change list, a write event added and
 * removed in one pass (a response queued and written) costs no
 * epoll_ctl() at all.
 */
static struct event_base *worker_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int worker_init(struct server *srv, struct worker *w)
{
	w->srv = srv;
	w->notify[0] = w->notify[1] = -1;
	pthread_mutex_init(&w->qlock, NULL);
	if ((w->base = worker_base_new()) == NULL ||
	    pipe2(w->notify, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	w->notify_ev = event_new(w->base, w->notify[0], EV_READ | EV_PERSIST,
	    worker_notify_cb, w);
	if (w->notify_ev == NULL || event_add(w->notify_ev, NULL) != 0)
		return -1;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -1;
	w->started = true;
	return 0;
}

/* Stop w's loop. */
void worker_stop(struct worker *w)
{
	if (w->started) {
		event_base_loopexit(w->base, NULL);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
}

/* Free w's connections (the pool stopped: jobs are dropped), queue, base. */
void worker_fini(struct worker *w)
{
	struct newconn *n;
	struct conn *c;

	worker_stop(w);
	if (w->beat_ev != NULL)
		event_free(w->beat_ev);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	for (c = w->conns; c != NULL; c = c->next) {
		if (c->job != NULL) {
			if (c->job->gone_ev != NULL)
				event_free(c->job->gone_ev);
			as_buf_free(&c->job->x.buf);
			free(c->job);
			c->job = NULL;
		}
	}
	while (w->conns != NULL)
		conn_free(w->conns);
	while ((n = worker_pop(w)) != NULL) {
		worker_unqueue(w, n);
		free(n);
	}
	if (w->notify_ev != NULL)
		event_free(w->notify_ev);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->notify[0] >= 0)
		close(w->notify[0]);
	if (w->notify[1] >= 0)
		close(w->notify[1]);
	pthread_mutex_destroy(&w->qlock);
}

/* Queue n for w and wake it. */
static void worker_queue(struct worker *w, struct newconn *n)
{
	pthread_mutex_lock(&w->qlock);
	if (w->qtail != NULL)
		w->qtail->next = n;
	else
		w->qhead = n;
	w->qtail = n;
	pthread_mutex_unlock(&w->qlock);
	if (write(w->notify[1], "c", 1) != 1)
		log_msg(LOG_ERR, "cannot wake a worker: %s", strerror(errno));
}

/* Queue fd for w and wake it. */
void worker_hand(struct worker *w, int fd, const struct adm_peer *key,
    uid_t uid, bool tls, enum adm_verdict v)
{
	struct newconn *n = calloc(1, sizeof(*n));
	struct newconn tmp;

	if (n == NULL) {
		close(fd);
		tmp.key = *key;
		tmp.tls = tls;
		tmp.refuse = !adm_admits(v);
		tmp.evict = adm_evicts(v);
		worker_unqueue(w, &tmp);
		return;
	}
	n->key = *key;
	n->fd = fd;
	n->uid = uid;
	n->tls = tls;
	n->refuse = !adm_admits(v);
	n->evict = adm_evicts(v);
	n->early = v == ADM_EVICT_DROP;
	worker_queue(w, n);
}

/* --- for the service (service.h): heartbeats, drain, reload ------------------ */

void server_stats(struct server *srv, struct server_stats *st)
{
	int i;

	st->conns = admission_conns(srv->adm);
	pthread_mutex_lock(&srv->sessions.lock);
	st->sessions = srv->sessions.count;
	pthread_mutex_unlock(&srv->sessions.lock);
	st->requests = 0;
	for (i = 0; i < srv->nworkers; i++)
		st->requests += __atomic_load_n(&srv->workers[i].requests,
		    __ATOMIC_RELAXED);
}

unsigned int server_drain_timeout(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.drain_timeout_ms, __ATOMIC_RELAXED);
}

/* On w's loop: it is alive.  A debug build may be asked (SIGUSR2) to
 * stall worker 0 here, as a stuck loop would. */
static void beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
#ifdef ASPACE_DEBUG
	unsigned int ms;
	struct timespec ts;

	if (w == &w->srv->workers[0] && (ms = __atomic_exchange_n(
	    &w->srv->debug_stall_ms, 0, __ATOMIC_RELAXED)) > 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
#endif
	(void)fd;
	(void)what;
	__atomic_store_n(&w->beat, sdp_monotonic_usec(), __ATOMIC_RELAXED);
}

int server_heartbeats(struct server *srv, uint64_t interval_usec)
{
	struct timeval tv;
	struct worker *w;
	int i;

	tv.tv_sec = (time_t)(interval_usec / 1000000);
	tv.tv_usec = (suseconds_t)(interval_usec % 1000000);
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		__atomic_store_n(&w->beat, sdp_monotonic_usec(),
		    __ATOMIC_RELAXED);
		w->beat_ev = event_new(w->base, -1, EV_PERSIST, beat_cb, w);
		if (w->beat_ev == NULL || event_add(w->beat_ev, &tv) != 0)
			return -1;
	}
	return 0;
}

bool server_workers_alive(struct server *srv, uint64_t now, uint64_t max_age)
{
	uint64_t beats[256];
	int i, n = srv->nworkers < 256 ? srv->nworkers : 256;

	for (i = 0; i < n; i++)
		beats[i] = __atomic_load_n(&srv->workers[i].beat,
		    __ATOMIC_RELAXED);
	return sdp_beats_alive(beats, n, now, max_age);
}

void server_debug_stall(struct server *srv, unsigned int ms)
{
	__atomic_store_n(&srv->debug_stall_ms, ms, __ATOMIC_RELAXED);
}

void server_stop(struct server *srv)
{
	event_base_loopexit(srv->base, NULL);
}

/* Close every listener; unlink the Unix sockets this process made. */
void server_stop_accepting(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlst; i++) {
		evconnlistener_free(srv->lst[i]);
		if (srv->unlink[i] != NULL)
			unlink(srv->unlink[i]);
		srv->unlink[i] = NULL;
	}
	srv->nlst = 0;
	evtimer_del(srv->backoff);
	web_http_stop(srv->web);	/* its traces stop at their next line */
}

/* On w's loop: close the idle connections; note when none is left. */
static void worker_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct conn *c, *next;
	bool queued;

	(void)fd;
	(void)what;
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (conn_idle(c))
			conn_free(c);
	}
	pthread_mutex_lock(&w->qlock);
	queued = w->qhead != NULL;
	pthread_mutex_unlock(&w->qlock);
	if (w->conns == NULL && !queued)
		__atomic_store_n(&w->drained, true, __ATOMIC_RELEASE);
}

/* On w's loop: start draining; a sweep every 20 ms catches what no
 * callback reports (a peer that sent nothing more, a bare TLS record). */
static void worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, 20000 };

	w->draining = true;
	w->drain_ev = event_new(w->base, -1, EV_PERSIST, worker_sweep, w);
	if (w->drain_ev != NULL)
		event_add(w->drain_ev, &tv);
	worker_sweep(fd, what, w);
}

void server_drain(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nworkers; i++)
		if (event_base_once(srv->workers[i].base, -1, EV_TIMEOUT,
		    worker_drain_cb, &srv->workers[i], NULL) != 0)
			fprintf(stderr, "aspaced: cannot drain a worker\n");
}

bool server_drained(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nworkers; i++)
		if (!__atomic_load_n(&srv->workers[i].drained,
		    __ATOMIC_ACQUIRE))
			return false;
	return true;
}

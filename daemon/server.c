/*
 * server.c: the listener and the workers (server.h).
 *
 * Threads: the listener thread runs srv->base (the accept listener and
 * the SIGINT/SIGTERM events); each worker runs its own w->base with its
 * connections.  A connection belongs to one worker for its life, so its
 * state needs no lock.  The listener hands an accepted fd to a worker by
 * queueing it under w->qlock and writing one byte to w's pipe.  Locks
 * of the sessions: session-table.c.
 *
 * Reading a frame: the header first, checked byte by byte as it arrives
 * against the connection's cap (FRAME_MAX_BODY_PREAUTH before hello,
 * cfg.max_body after); the body is pulled up only once it is whole, and
 * the bufferevent's read high-water mark keeps what libevent buffers to
 * one frame's worth.  A bad header or an over-cap length is answered
 * (id 0) and the connection closed once the answer is written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "req.h"
#include "server.h"

#define RESPONSE_ARENA	(4u << 20)	/* bytes for one response's parts */

struct newconn {
	int		 fd;
	uid_t		 uid;
	struct newconn	*next;
};

struct conn;

struct worker {
	struct server	*srv;
	pthread_t	 thread;
	bool		 started;
	struct event_base *base;
	int		 notify[2];	/* pipe: [0] read by the worker */
	struct event	*notify_ev;
	pthread_mutex_t	 qlock;
	struct newconn	*qhead, *qtail;
	struct conn	*conns;		/* the worker's own */
};

struct conn {
	struct worker	*w;
	struct bufferevent *bev;
	struct req_conn	 rc;
	struct frame_arena in;		/* the request's decoding */
	struct frame_arena out;		/* the response's parts */
	bool		 closing;	/* close once the output is written */
	struct conn	*prev, *next;
};

struct server {
	struct server_config cfg;
	struct session_table sessions;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event	*sig[2];
	struct worker	*workers;
	int		 nworkers;
	int		 next_worker;
	bool		 unlink_path;
};

void server_config_default(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 2;
	cfg->max_body = FRAME_MAX_BODY_DEFAULT;
	cfg->max_sessions = 16;
	cfg->max_sessions_total = 1024;
	cfg->trace_output_max = FRAME_MAX_BODY_DEFAULT - 4096;
	cfg->ram_max = 4UL << 30;
}

struct session_table *server_sessions(struct server *srv)
{
	return &srv->sessions;
}

size_t server_trace_output_max(struct server *srv)
{
	return srv->cfg.trace_output_max;
}

unsigned long server_ram_max(struct server *srv)
{
	return srv->cfg.ram_max;
}

unsigned int server_max_sessions(struct server *srv)
{
	return srv->cfg.max_sessions;
}

/* --- connections ---------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	frame_arena_free(&c->in);
	frame_arena_free(&c->out);
	free(c);
}

static unsigned int conn_cap(const struct conn *c)
{
	return c->rc.authed ? c->rc.max_body : FRAME_MAX_BODY_PREAUTH;
}

/* Bound what libevent buffers to one whole frame at the current cap. */
static void conn_set_cap(struct conn *c)
{
	size_t cap = conn_cap(c);

	c->in.budget = FRAME_ARENA_BUDGET(cap);
	bufferevent_setwatermark(c->bev, EV_READ, 0, FRAME_HEADER_SIZE + cap);
}

/* Frame and queue resp; a response too large for a frame is replaced. */
static void conn_send(struct conn *c, Aspace__Response *resp)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t size = frame_encoded_size(&resp->base);
	struct evbuffer_iovec v;
	long n;

	if (size - FRAME_HEADER_SIZE > FRAME_MAX_BODY_LIMIT) {
		resp->result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
		resp->status->code = ASPACE__STATUS__CODE__TOO_LARGE;
		resp->status->message = (char *)"result over the output cap";
		size = frame_encoded_size(&resp->base);
	}
	if (evbuffer_reserve_space(out, (ev_ssize_t)size, &v, 1) < 1)
		goto fail;
	n = frame_encode(&resp->base, 0, v.iov_base, v.iov_len);
	if (n < 0)
		goto fail;
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(out, &v, 1) == 0)
		return;
fail:
	fprintf(stderr, "aspaced: cannot queue a response\n");
	c->closing = true;
}

/* Answer id 0 with code and close once the answer is out. */
static void conn_fail(struct conn *c, Aspace__Status__Code code,
    const char *msg)
{
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;

	st.has_code = true;
	st.code = code;
	st.message = (char *)msg;
	resp.status = &st;
	conn_send(c, &resp);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
}

/* The status for a body frame_decode_request() refused. */
static void decode_failed(struct req_ctx *x, int err)
{
	if (err == -ENOBUFS)
		req_status(x, ASPACE__STATUS__CODE__TOO_LARGE,
		    "body over the decode budget");
	else if (err == -ENOMEM)
		req_status(x, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
	else
		req_status(x, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "body is not a valid Request");
}

/* Decode, run and answer one body. */
static void conn_request(struct conn *c, const uint8_t *body, size_t len)
{
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__Request *req;
	struct req_ctx x;
	bool was_authed = c->rc.authed;
	int err;

	memset(&x, 0, sizeof(x));
	x.srv = c->w->srv;
	x.conn = &c->rc;
	x.resp = &resp;
	x.status = &st;
	x.out = &c->out;
	as_buf_init(&x.buf, 0);
	resp.status = &st;
	if ((err = frame_decode_request(&c->in, body, len, &req)) != 0) {
		decode_failed(&x, err);
	} else {
		x.req = req;
		req_dispatch(&x);
	}
	conn_send(c, &resp);
	as_buf_free(&x.buf);
	frame_arena_reset(&c->in);
	frame_arena_reset(&c->out);
	if (c->rc.authed != was_authed)
		conn_set_cap(c);
}

/* Handle one whole frame if there is one; false to stop reading. */
static bool conn_frame(struct conn *c, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in), total;
	size_t hl = avail < FRAME_HEADER_SIZE ? avail : FRAME_HEADER_SIZE;
	struct frame_header h;
	uint8_t *p;
	int r;

	if (avail == 0 || (p = evbuffer_pullup(in, (ev_ssize_t)hl)) == NULL)
		return false;
	r = frame_parse_header(p, hl, conn_cap(c), &h);
	if (r == -EMSGSIZE) {
		conn_fail(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "frame over the body cap");
		return false;
	}
	if (r < 0) {
		conn_fail(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "bad frame header");
		return false;
	}
	total = FRAME_HEADER_SIZE + (size_t)h.length;
	if (r > 0 || avail < total)
		return false;
	if ((p = evbuffer_pullup(in, (ev_ssize_t)total)) == NULL) {
		conn_fail(c, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
		return false;
	}
	conn_request(c, p + FRAME_HEADER_SIZE, h.length);
	evbuffer_drain(in, total);
	return !c->closing;
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	while (conn_frame(c, bufferevent_get_input(bev)))
		;
	conn_write_cb(bev, c);	/* closing with nothing left to write */
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void conn_new(struct worker *w, int fd, uid_t uid)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL ||
	    (c->bev = bufferevent_socket_new(w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->w = w;
	c->rc.tenant = uid;
	c->rc.max_body = w->srv->cfg.max_body;
	frame_arena_init(&c->in, FRAME_ARENA_BUDGET(FRAME_MAX_BODY_PREAUTH));
	frame_arena_init(&c->out, RESPONSE_ARENA);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	conn_set_cap(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

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
		conn_new(w, n->fd, n->uid);
		free(n);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static int worker_init(struct server *srv, struct worker *w)
{
	w->srv = srv;
	w->notify[0] = w->notify[1] = -1;
	pthread_mutex_init(&w->qlock, NULL);
	if ((w->base = event_base_new()) == NULL ||
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

/* Stop w's loop and free its connections, queue and base. */
static void worker_fini(struct worker *w)
{
	struct newconn *n;

	if (w->started) {
		event_base_loopexit(w->base, NULL);
		pthread_join(w->thread, NULL);
	}
	while (w->conns != NULL)
		conn_free(w->conns);
	while ((n = worker_pop(w)) != NULL) {
		close(n->fd);
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

/* Queue fd for w and wake it. */
static void worker_hand(struct worker *w, int fd, uid_t uid)
{
	struct newconn *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		close(fd);
		return;
	}
	n->fd = fd;
	n->uid = uid;
	pthread_mutex_lock(&w->qlock);
	if (w->qtail != NULL)
		w->qtail->next = n;
	else
		w->qhead = n;
	w->qtail = n;
	pthread_mutex_unlock(&w->qlock);
	if (write(w->notify[1], "c", 1) != 1)
		fprintf(stderr, "aspaced: cannot wake a worker\n");
}

/* --- the listener ------------------------------------------------------------ */

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct server *srv = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)l;
	(void)sa;
	(void)socklen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	worker_hand(&srv->workers[srv->next_worker], fd, cred.uid);
	srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	perror("aspaced: accept");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)sig;
	(void)what;
	event_base_loopexit(srv->base, NULL);
}

static int listen_unix(struct server *srv, const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "aspaced: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (srv->listener == NULL) {
		fprintf(stderr, "aspaced: cannot listen on %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	srv->unlink_path = true;
	/* Every local user may connect: each is its own tenant. */
	chmod(path, 0666);
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	return 0;
}

static int add_signals(struct server *srv)
{
	int sigs[2] = { SIGINT, SIGTERM }, i;

	for (i = 0; i < 2; i++) {
		srv->sig[i] = evsignal_new(srv->base, sigs[i], signal_cb, srv);
		if (srv->sig[i] == NULL || event_add(srv->sig[i], NULL) != 0)
			return -1;
	}
	return 0;
}

/* Start the workers with SIGINT and SIGTERM blocked: the listener's. */
static int start_workers(struct server *srv)
{
	sigset_t block, old;
	int i, err = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < srv->nworkers && err == 0; i++)
		err = worker_init(srv, &srv->workers[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

struct server *server_new(const struct server_config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	srv->cfg = *cfg;
	stable_init(&srv->sessions, cfg->max_sessions_total, cfg->max_sessions);
	signal(SIGPIPE, SIG_IGN);
	srv->nworkers = cfg->workers;
	srv->workers = calloc((size_t)cfg->workers, sizeof(*srv->workers));
	if (srv->workers == NULL || evthread_use_pthreads() != 0 ||
	    (srv->base = event_base_new()) == NULL || add_signals(srv) != 0 ||
	    start_workers(srv) != 0 || listen_unix(srv, cfg->unix_path) != 0) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

int server_run(struct server *srv)
{
	return event_base_dispatch(srv->base) < 0 ? -1 : 0;
}

void server_free(struct server *srv)
{
	int i;

	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->unlink_path)
		unlink(srv->cfg.unix_path);
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		worker_fini(&srv->workers[i]);
	for (i = 0; i < 2; i++)
		if (srv->sig[i] != NULL)
			event_free(srv->sig[i]);
	if (srv->base != NULL)
		event_base_free(srv->base);
	free(srv->workers);
	stable_free(&srv->sessions);
	free(srv);
}

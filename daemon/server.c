/*
 * server.c: the listener and the workers (server.h).
 *
 * Threads: the listener thread runs srv->base (the accept listener and
 * the signals, which service.c handles); each worker runs its own
 * w->base with its connections.  A connection belongs to one worker for
 * its life, so its state needs no lock.  The listener hands an accepted
 * fd to a worker by queueing it under w->qlock and writing one byte to
 * w's pipe.  Locks of the sessions: session-table.c.  A reload swaps the
 * TLS context under ctx_lock and the tokens under tokens_lock, and
 * stores the live limits atomically (the end of this file).
 *
 * Reading a frame: the header first, checked byte by byte as it arrives
 * against the connection's cap (FRAME_MAX_BODY_PREAUTH before hello,
 * cfg.max_body after); the body is pulled up only once it is whole, and
 * the bufferevent's read high-water mark keeps what libevent buffers to
 * one frame's worth.  A bad header or an over-cap length is answered
 * (id 0) and the connection closed once the answer is written.
 *
 * A batch costs one read() and one write() (docs/architecture.md, the
 * daemon's hot path): TLS reads ahead once the handshake is done; the
 * frames of a callback are drained from the input once; their answers
 * are staged in c->stage and written straight to the socket at the end
 * when nothing waits in the bufferevent before them, the rest handed to
 * the bufferevent; access requests and answers use frame-fast.c.
 *
 * Tenants (tokens.h): a Unix-socket connection's is "uid:N" from its
 * peer credentials, known at accept.  A TLS connection (a TCP listener
 * speaks nothing else) runs a bufferevent_openssl; once its handshake is
 * done, a verified client certificate gives "cert:CN" (tls.h); without
 * one, the connection's hello must carry a token of the token file
 * ("token:NAME"), else it is answered UNAUTHENTICATED and closed.  A TLS
 * connection closed by the daemon, or by a peer that sent close_notify,
 * gets a close_notify (SSL_shutdown) before its socket is closed; one
 * that failed (handshake, a dirty close) does not.
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
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "metrics-http.h"
#include "persist.h"
#include "pool.h"
#include "req.h"
#include "sd.h"
#include "server.h"
#include "service.h"
#include "tls.h"
#include "tokens.h"

#define RESPONSE_ARENA	(4u << 20)	/* bytes for one response's parts */
#define TLS_RECORD_MAX	16384		/* plaintext bytes in one record */

/* The listener's signals (service.c): stop, stop, reload; in debug builds
 * also one that stalls a worker, for the watchdog's test. */
static const int server_signals[] = { SIGINT, SIGTERM, SIGHUP,
#ifdef ASPACE_DEBUG
	SIGUSR2,
#endif
};
#define SERVER_NSIGNALS	(sizeof(server_signals) / sizeof(server_signals[0]))

struct newconn {
	int		 fd;
	uid_t		 uid;		/* the peer's, on the Unix socket */
	bool		 tls;		/* from the TLS listener */
	bool		 refuse;	/* over max_conns: answer, close */
	struct newconn	*next;
};

struct conn;

/* A request running on the pool (pool.h) for its connection. */
struct conn_job {
	struct pool_job	 pj;
	struct conn	*c;
	Aspace__Response resp;
	Aspace__Status	 st;
	struct req_ctx	 x;
	uint64_t	 t0;		/* its start (conn.now) */
	struct event	*gone_ev;	/* the peer's close, while it runs */
};

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
	/* For the service (service.h): the watchdog's heartbeat, a count
	 * for STATUS=, the drain at SIGTERM. */
	struct event	*beat_ev;
	uint64_t	 beat;		/* atomic: CLOCK_MONOTONIC, usec */
	unsigned long long requests;	/* answered; atomic for others */
	bool		 draining;
	bool		 drained;	/* atomic: draining, no connection */
	struct event	*drain_ev;
};

struct conn {
	struct worker	*w;
	struct bufferevent *bev;
	SSL		*ssl;		/* a TLS connection's, owned by bev */
	bool		 tls_failed;	/* no close_notify at the close */
	bool		 cert_checked;	/* the peer certificate looked at */
	bool		 has_tenant;	/* rc.tenant is known */
	bool		 refused;	/* hello refused: close after answering */
	struct req_conn	 rc;
	struct frame_arena in;		/* the request's decoding */
	struct frame_arena out;		/* the response's parts */
	struct evbuffer	*stage;		/* answers not yet handed on */
	bool		 closing;	/* close once the output is written */
	bool		 counted;	/* in srv->nconns */
	bool		 gone;		/* peer gone while busy: free at done */
	bool		 paused;	/* reading stopped: busy or inflight */
	struct conn_job	*job;		/* the request on the pool, or NULL */
	bool		 handshaked;	/* TLS: the handshake completed */
	char		 peer[96];	/* "ADDR:PORT" or "uid:N", for logs */
	char		 tls_err[96];	/* why the handshake failed, if known */
	uint64_t	 now;		/* the next request's start (below) */
	unsigned int	 queued;	/* responses not yet written out */
	struct conn	*prev, *next;
};

struct server {
	struct server_config cfg;
	struct session_table sessions;
	struct event_base *base;
	struct evconnlistener *lst[2 * SERVER_LISTEN_MAX];
	char		 addr[2 * SERVER_LISTEN_MAX][128];	/* as bound */
	const char	*unlink[2 * SERVER_LISTEN_MAX];	/* unix paths */
	int		 nlst;
	struct event	*backoff;	/* re-enables the listeners */
	SSL_CTX		*ssl_ctx;	/* swapped at reload under ctx_lock */
	pthread_mutex_t	 ctx_lock;
	struct pool	*pool;
	struct metrics_http *metrics;	/* the metrics listener, or NULL */
	unsigned int	 nconns;	/* atomic */
	struct persist	*persist;	/* with a state directory */
	struct token_table tokens;	/* swapped at reload */
	pthread_rwlock_t tokens_lock;
	struct tenants	 tenants;
	struct event	*sig[SERVER_NSIGNALS];
	struct service	*svc;		/* systemd, reload, drain */
	unsigned int	 debug_stall_ms;	/* atomic: tests' stuck worker */
	bool		 cancel_all;	/* atomic: the drain's deadline passed */
	struct worker	*workers;
	int		 nworkers;
	int		 next_worker;
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
	cfg->max_conns = 1024;
	cfg->idle_timeout_ms = 300000;
	cfg->drain_timeout_ms = 10000;
	cfg->max_inflight = 64;
	cfg->ram_total = 64ULL << 30;
	cfg->pool_threads = 4;
	cfg->pool_queue = 256;
	cfg->accept_backoff_ms = 100;
	cfg->request_cpu_ms = 5000;
	cfg->trace_line_limit = 1000000;
	cfg->pool_tenant_jobs = 32;
	cfg->log_level = LOG_INFO;
}

unsigned long long server_ram_total(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.ram_total, __ATOMIC_RELAXED);
}

struct session_table *server_sessions(struct server *srv)
{
	return &srv->sessions;
}

/* These limits may change at a reload (server_reload()): atomic loads. */
size_t server_trace_output_max(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.trace_output_max, __ATOMIC_RELAXED);
}

unsigned long server_ram_max(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.ram_max, __ATOMIC_RELAXED);
}

unsigned int server_max_sessions(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.max_sessions, __ATOMIC_RELAXED);
}

unsigned int server_request_cpu_ms(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.request_cpu_ms, __ATOMIC_RELAXED);
}

unsigned int server_trace_line_limit(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.trace_line_limit, __ATOMIC_RELAXED);
}

struct pool *server_pool(struct server *srv)
{
	return srv->pool;
}

bool server_cancelled(struct server *srv)
{
	return __atomic_load_n(&srv->cancel_all, __ATOMIC_RELAXED);
}

void server_cancel_all(struct server *srv)
{
	__atomic_store_n(&srv->cancel_all, true, __ATOMIC_RELAXED);
}

/* --- connections ---------------------------------------------------------- */

/* A TLS connection going before its handshake completed. */
static void conn_tls_failed(struct conn *c)
{
	metrics_inc(MC_TLS_FAILURES);
	log_abuse(ABUSE_TLS, LOG_NOTICE, "%s: TLS handshake failed: %s",
	    c->peer, c->tls_err[0] != '\0' ? c->tls_err :
	    "closed before it completed");
}

static void conn_free(struct conn *c)
{
	if (c->job != NULL) {	/* on the pool: freed when it is done */
		c->gone = true;
		/* Its request stops at its next step (req.h). */
		__atomic_store_n(&c->job->x.cancel, REQ_CANCEL_GONE,
		    __ATOMIC_RELAXED);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	if (c->counted) {
		__atomic_sub_fetch(&c->w->srv->nconns, 1, __ATOMIC_RELAXED);
		metrics_inc(MC_CONN_CLOSED);
	}
	if (c->ssl != NULL && !c->handshaked)
		conn_tls_failed(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ssl != NULL && !c->tls_failed && SSL_is_init_finished(c->ssl)) {
		/* close_notify; the socket is closed without waiting for the
		 * peer's (a unidirectional shutdown). */
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	bufferevent_free(c->bev);
	if (c->stage != NULL)
		evbuffer_free(c->stage);
	req_conn_release(c->w->srv, &c->rc);
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

/* Frame and stage resp; a response too large for a frame is replaced. */
static void conn_send(struct conn *c, Aspace__Response *resp)
{
	struct frame_fast_sizes fs;
	bool fast = frame_fast_size(resp, &fs);
	size_t size = fast ? FRAME_HEADER_SIZE + fs.body :
	    frame_encoded_size(&resp->base);
	struct evbuffer_iovec v;
	long n;

	if (size - FRAME_HEADER_SIZE > FRAME_MAX_BODY_LIMIT) {
		resp->result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
		resp->status->code = ASPACE__STATUS__CODE__TOO_LARGE;
		resp->status->message = (char *)"result over the output cap";
		size = frame_encoded_size(&resp->base);
		fast = false;
	}
	if (evbuffer_reserve_space(c->stage, (ev_ssize_t)size, &v, 1) < 1)
		goto fail;
	n = fast ? frame_fast_encode(resp, &fs, v.iov_base, v.iov_len) :
	    frame_encode_sized(&resp->base, size - FRAME_HEADER_SIZE, 0,
	    v.iov_base, v.iov_len);
	if (n < 0)
		goto fail;
	v.iov_len = (size_t)n;
	if (evbuffer_commit_space(c->stage, &v, 1) == 0) {
		c->queued++;
		return;
	}
fail:
	log_msg(LOG_ERR, "%s: cannot queue a response", c->peer);
	c->closing = true;
}

/*
 * Write up to len staged bytes straight to c's socket; the bytes written,
 * 0 when it would block or failed (libevent then meets the error).  One
 * SSL_write is at most one record, so a write OpenSSL must retry is never
 * longer than the first chain libevent later hands it.
 */
static size_t conn_write_some(struct conn *c, const uint8_t *p, size_t len)
{
	ssize_t n;

	if (c->ssl != NULL) {
		n = SSL_write(c->ssl, p, (int)len);
		if (n <= 0)
			ERR_clear_error();
	} else {
		do
			n = write(bufferevent_getfd(c->bev), p, len);
		while (n < 0 && errno == EINTR);
	}
	return n > 0 ? (size_t)n : 0;
}

/*
 * Hand on the staged answers.  When nothing waits in the bufferevent
 * before them they go straight to the socket, as redis writes its
 * replies before it sleeps: no write event to add and delete, no loop
 * turn.  What the socket does not take goes to the bufferevent.
 */
static void conn_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len, n;
	uint8_t *p;

	if (evbuffer_get_length(out) == 0 && (c->ssl == NULL || c->handshaked))
		while ((len = evbuffer_get_length(c->stage)) > 0) {
			if (len > TLS_RECORD_MAX)
				len = TLS_RECORD_MAX;
			if ((p = evbuffer_pullup(c->stage, (ev_ssize_t)len)) ==
			    NULL || (n = conn_write_some(c, p, len)) == 0)
				break;
			evbuffer_drain(c->stage, n);
		}
	if (evbuffer_get_length(c->stage) > 0)
		evbuffer_add_buffer(out, c->stage);
	else if (evbuffer_get_length(out) == 0)
		c->queued = 0;
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
	conn_flush(c);
}

/* The status for a body frame_decode_request() refused. */
static void decode_failed(struct conn *c, struct req_ctx *x, int err)
{
	if (err == -ENOBUFS) {
		metrics_inc(MC_LIMIT_BODY);
		log_abuse(ABUSE_LIMITS, LOG_NOTICE, "%s: a body over the "
		    "decode budget", c->peer);
		req_status(x, ASPACE__STATUS__CODE__TOO_LARGE,
		    "body over the decode budget");
	} else if (err == -ENOMEM)
		req_status(x, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
	else {
		log_abuse(ABUSE_PROTOCOL, LOG_NOTICE, "%s: a body that is not "
		    "a valid Request", c->peer);
		req_status(x, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "body is not a valid Request");
	}
}

/* A TLS connection's tenant from its verified client certificate. */
static void conn_check_cert(struct conn *c)
{
	char name[TENANT_NAME_MAX + 1];
	uid_t t;

	c->cert_checked = true;
	if (!tls_peer_tenant(c->ssl, name, sizeof(name)))
		return;
	if ((t = tenants_intern(&c->w->srv->tenants, name)) == TENANT_NONE)
		return;
	c->rc.tenant = t;
	c->has_tenant = true;
}

/* The ops that may run long: they go to the pool (pool.h). */
static bool op_is_long(int op)
{
	return op == ASPACE__REQUEST__OP_RUN_TRACE ||
	    op == ASPACE__REQUEST__OP_FORK || op == ASPACE__REQUEST__OP_EXEC;
}

/*
 * Answer x (started at t0), then make c ready for its next request.  A
 * request's duration runs from its start to its answer: the start is
 * when the read callback that found it began, or the previous answer's
 * time if that came later in the same callback, so that a pipelined run
 * of requests costs one clock reading each.
 */
static void conn_answer(struct conn *c, struct req_ctx *x, bool was_authed,
    uint64_t t0)
{
	c->now = metrics_now();
	metrics_request(x->req != NULL ? frame_request_op(x->req) : -1,
	    (int)x->status->code, c->now - t0);
	conn_send(c, x->resp);
	/* Only c's worker writes it: no locked add needed. */
	__atomic_store_n(&c->w->requests, c->w->requests + 1, __ATOMIC_RELAXED);
	as_buf_free(&x->buf);
	frame_arena_reset(&c->in);
	frame_arena_reset(&c->out);
	if (c->rc.authed != was_authed)
		conn_set_cap(c);
	if (c->refused) {
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg);

/* Start reading and handling c's frames again. */
static void conn_resume(struct conn *c)
{
	c->paused = false;
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ);
	conn_read_cb(c->bev, c);
}

static void job_work(struct pool_job *pj)
{
	struct conn_job *j = (struct conn_job *)pj;

	req_dispatch(&j->x);
	metrics_events();
}

/* On c's worker: the peer closed (EV_CLOSED: its end is shut, which a
 * connection paused while its request runs would not see until the
 * answer): the request stops at its next step (req.h). */
static void job_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn_job *j = arg;

	(void)fd;
	(void)what;
	__atomic_store_n(&j->x.cancel, REQ_CANCEL_GONE, __ATOMIC_RELAXED);
}

/* On c's worker: the pool has run c's request. */
static void job_done(struct pool_job *pj)
{
	struct conn_job *j = (struct conn_job *)pj;
	struct conn *c = j->c;

	if (j->gone_ev != NULL)
		event_free(j->gone_ev);
	c->job = NULL;
	if (c->gone) {
		as_buf_free(&j->x.buf);
		free(j);
		conn_free(c);
		return;
	}
	conn_answer(c, &j->x, c->rc.authed, j->t0);
	free(j);
	conn_resume(c);
}

/* Run req (decoded into c->in) on the pool; false to run it here. */
static bool conn_submit(struct conn *c, Aspace__Request *req, uint64_t t0)
{
	struct conn_job *j;
	int err;

	if (!c->rc.authed || !op_is_long(frame_request_op(req)) ||
	    c->w->srv->pool == NULL || (j = calloc(1, sizeof(*j))) == NULL)
		return false;
	aspace__response__init(&j->resp);
	aspace__status__init(&j->st);
	j->resp.status = &j->st;
	j->c = c;
	j->t0 = t0;
	j->x.srv = c->w->srv;
	j->x.conn = &c->rc;
	j->x.resp = &j->resp;
	j->x.status = &j->st;
	j->x.out = &c->out;
	j->x.req = req;
	as_buf_init(&j->x.buf, 0);
	j->x.pj = &j->pj;
	j->pj.work = job_work;
	j->pj.done = job_done;
	j->pj.base = c->w->base;
	j->pj.tenant = (unsigned int)c->rc.tenant;
	c->job = j;
	if ((err = pool_submit(c->w->srv->pool, &j->pj)) == -EDQUOT) {
		/* The tenant's share of the pool is taken: QUOTA. */
		c->job = NULL;
		j->x.pj = NULL;
		metrics_inc(MC_POOL_TENANT_FULL);
		req_dispatch_refused(&j->x, "the tenant has --pool-tenant-jobs "
		    "long requests in the pool");
		conn_answer(c, &j->x, c->rc.authed, t0);
		free(j);
		return true;
	}
	if (err != 0) {
		c->job = NULL;
		free(j);
		metrics_inc(MC_POOL_FULL);
		return false;	/* the pool is full: run it here */
	}
	/* j is the pool's now, but done (on this thread) frees it. */
	if ((j->gone_ev = event_new(c->w->base, bufferevent_getfd(c->bev),
	    EV_CLOSED, job_gone_cb, j)) != NULL &&
	    event_add(j->gone_ev, NULL) != 0) {
		event_free(j->gone_ev);
		j->gone_ev = NULL;
	}
	return true;
}

/* Decode, run and answer one body (or hand it to the pool). */
static void conn_request(struct conn *c, const uint8_t *body, size_t len)
{
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__Request *req;
	struct frame_fast_req fr;
	struct req_ctx x;
	bool was_authed = c->rc.authed;
	uint64_t t0 = c->now;
	int err;

	memset(&x, 0, sizeof(x));
	x.srv = c->w->srv;
	x.conn = &c->rc;
	x.resp = &resp;
	x.status = &st;
	x.out = &c->out;
	as_buf_init(&x.buf, 0);
	resp.status = &st;
	if (c->ssl != NULL && !c->cert_checked)
		conn_check_cert(c);
	if (frame_fast_decode(body, len, &fr)) {
		x.req = &fr.req;	/* an access: never long, never pooled */
		req_dispatch(&x);
		metrics_events();
	} else if ((err = frame_decode_request(&c->in, body, len, &req)) !=
	    0) {
		decode_failed(c, &x, err);
	} else {
		if (conn_submit(c, req, t0))
			return;
		x.req = req;
		req_dispatch(&x);
		metrics_events();
	}
	conn_answer(c, &x, was_authed, t0);
}

/*
 * Handle the whole frame at *used bytes into in, if there is one, and
 * step *used over it; false to stop reading.  The caller drains what was
 * used once, at the end: each drain would re-arm the read event.
 */
static bool conn_frame(struct conn *c, struct evbuffer *in, size_t *used)
{
	size_t avail = evbuffer_get_length(in) - *used, total;
	size_t hl = avail < FRAME_HEADER_SIZE ? avail : FRAME_HEADER_SIZE;
	unsigned int inflight = __atomic_load_n(&c->w->srv->cfg.max_inflight,
	    __ATOMIC_RELAXED);
	struct frame_header h;
	uint8_t *p;
	int r;

	if (c->queued >= inflight)
		conn_flush(c);	/* written now, they are not in flight */
	if (c->job != NULL || c->queued >= inflight) {
		/* Until the pool answers, or the responses drain. */
		if (c->job == NULL)
			metrics_inc(MC_INFLIGHT_PAUSES);
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
		return false;
	}
	if (avail == 0 ||
	    (p = evbuffer_pullup(in, (ev_ssize_t)(*used + hl))) == NULL)
		return false;
	r = frame_parse_header(p + *used, hl, conn_cap(c), &h);
	if (r == -EMSGSIZE) {
		metrics_inc(MC_LIMIT_BODY);
		log_abuse(ABUSE_LIMITS, LOG_NOTICE, "%s: a frame over the body "
		    "cap of %u bytes", c->peer, conn_cap(c));
		conn_fail(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "frame over the body cap");
		return false;
	}
	if (r < 0) {
		log_abuse(ABUSE_PROTOCOL, LOG_NOTICE, "%s: a bad frame header",
		    c->peer);
		conn_fail(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "bad frame header");
		return false;
	}
	total = FRAME_HEADER_SIZE + (size_t)h.length;
	if (r > 0 || avail < total)
		return false;
	if ((p = evbuffer_pullup(in, (ev_ssize_t)(*used + total))) == NULL) {
		conn_fail(c, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
		return false;
	}
	conn_request(c, p + *used + FRAME_HEADER_SIZE, h.length);
	*used += total;
	return !c->closing;
}

/*
 * Draining: c has nothing in flight, no request running or buffered, no
 * response unwritten, no byte waiting in its socket (closing a socket
 * with unread bytes would reset the connection, and the peer could lose
 * answers it has not read yet).
 */
static bool conn_idle(struct conn *c)
{
	int unread = 0;

	if (c->job != NULL || c->closing ||
	    evbuffer_get_length(c->stage) != 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) != 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return false;
	if (c->ssl != NULL && SSL_has_pending(c->ssl))
		return false;
	return ioctl(bufferevent_getfd(c->bev), FIONREAD, &unread) == 0 &&
	    unread == 0;
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	c->queued = 0;
	if (c->closing)
		conn_free(c);
	else if (c->paused && c->job == NULL)
		conn_resume(c);
	else if (c->w->draining && conn_idle(c))
		conn_free(c);	/* SIGTERM: all it asked is answered */
}

/*
 * Records read ahead wait in OpenSSL, where epoll does not see them, and
 * libevent reads on only while a record's plaintext is pending: have it
 * read again, by its own read event, while c is reading.
 */
static void conn_read_ahead(struct conn *c)
{
	if (c->ssl != NULL && !c->paused && !c->closing &&
	    SSL_has_pending(c->ssl))
		event_active(&c->bev->ev_read, EV_READ, 1);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t used = 0;

	c->now = metrics_now();
	while (conn_frame(c, in, &used))
		;
	evbuffer_drain(in, used);
	conn_flush(c);
	conn_read_ahead(c);
	conn_write_cb(bev, c);	/* closing with nothing left to write */
}

/* The idle timeout: answer QUOTA and close, or (why) close at once. */
static void conn_idle_timeout(struct conn *c, const char *why)
{
	metrics_inc(MC_LIMIT_IDLE);
	log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: idle timeout%s%s", c->peer,
	    why != NULL ? ": the peer " : "", why != NULL ? why : "");
	if (why != NULL) {
		conn_free(c);
		return;
	}
	conn_fail(c, ASPACE__STATUS__CODE__QUOTA,
	    "idle timeout: closing the connection");
	conn_write_cb(c->bev, c);	/* written at once: close now */
}

/* Empty libevent's copies of the OpenSSL errors, keeping the first. */
static void conn_drain_tls_errors(struct conn *c)
{
	unsigned long e;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (c->tls_err[0] == '\0')
			ERR_error_string_n(e, c->tls_err, sizeof(c->tls_err));
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {	/* TLS: the handshake is done */
		c->handshaked = true;
		/* Whole batches of records in one read() from now on (the
		 * handshake itself reads no further than its own records). */
		SSL_set_read_ahead(c->ssl, 1);
		metrics_inc(MC_TLS_HANDSHAKES);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !(what & (BEV_EVENT_EOF |
	    BEV_EVENT_ERROR))) {
		if (c->closing)
			conn_free(c);	/* its last answer is not read */
		else if (what & BEV_EVENT_WRITING)
			conn_idle_timeout(c, "reads nothing");
		else if (c->paused || c->job != NULL)
			;	/* ours to answer: not idle */
		else
			conn_idle_timeout(c, NULL);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		c->tls_failed = true;
		if (c->ssl != NULL)
			conn_drain_tls_errors(c);
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

/* The TCP peer's "ADDR:PORT" into c->peer, for the logs. */
static void conn_peer_name(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	snprintf(c->peer, sizeof(c->peer), "tls peer");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(c->peer, sizeof(c->peer), ss.ss_family == AF_INET6 ?
		    "[%s]:%s" : "%s:%s", host, port);
}

/* A reference to the TLS context new connections use (server_reload()
 * swaps it); NULL if there is none. */
static SSL_CTX *tls_ctx_get(struct server *srv)
{
	SSL_CTX *ctx;

	pthread_mutex_lock(&srv->ctx_lock);
	if ((ctx = srv->ssl_ctx) != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&srv->ctx_lock);
	return ctx;
}

/* A bufferevent for n's socket: TLS (accepting) or plain Unix. */
static bool conn_bev(struct conn *c, struct worker *w, struct newconn *n)
{
	struct server *srv = w->srv;
	char name[TENANT_NAME_MAX + 1];
	SSL_CTX *ctx;

	if (!n->tls) {
		snprintf(name, sizeof(name), "uid:%lu", (unsigned long)n->uid);
		snprintf(c->peer, sizeof(c->peer), "%s", name);
		if ((c->rc.tenant = tenants_intern(&srv->tenants, name)) ==
		    TENANT_NONE)
			return false;
		c->has_tenant = true;
		c->bev = bufferevent_socket_new(w->base, n->fd,
		    BEV_OPT_CLOSE_ON_FREE);
		return c->bev != NULL;
	}
	c->rc.tenant = TENANT_NONE;
	conn_peer_name(c, n->fd);
	ctx = tls_ctx_get(srv);
	c->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);	/* c->ssl holds its own reference */
	if (c->ssl == NULL)
		return false;
	c->bev = bufferevent_openssl_socket_new(w->base, n->fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
		return false;
	}
	return true;
}

static void conn_new(struct worker *w, struct newconn *n)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval idle;
	unsigned int idle_ms = __atomic_load_n(&w->srv->cfg.idle_timeout_ms,
	    __ATOMIC_RELAXED);

	if (c != NULL && (c->stage = evbuffer_new()) == NULL) {
		free(c);
		c = NULL;
	}
	if (c == NULL || !conn_bev(c, w, n)) {
		if (c != NULL)
			evbuffer_free(c->stage);
		free(c);
		close(n->fd);
		if (!n->refuse)
			__atomic_sub_fetch(&w->srv->nconns, 1,
			    __ATOMIC_RELAXED);
		return;
	}
	c->w = w;
	c->counted = !n->refuse;
	if (c->counted)
		metrics_inc(MC_CONN_OPENED);
	c->rc.max_body = __atomic_load_n(&w->srv->cfg.max_body,
	    __ATOMIC_RELAXED);
	frame_arena_init(&c->in, FRAME_ARENA_BUDGET(FRAME_MAX_BODY_PREAUTH));
	frame_arena_init(&c->out, RESPONSE_ARENA);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	conn_set_cap(c);
	if (idle_ms > 0) {
		idle.tv_sec = idle_ms / 1000;
		idle.tv_usec = (idle_ms % 1000) * 1000;
		/* Reading: idle; writing: a peer that reads nothing. */
		bufferevent_set_timeouts(c->bev, &idle, &idle);
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (n->refuse) {
		log_abuse(ABUSE_CONNECTIONS, LOG_WARNING, "%s: refused: over "
		    "%u connections", c->peer, w->srv->cfg.max_conns);
		conn_fail(c, ASPACE__STATUS__CODE__QUOTA,
		    "too many connections: try again later");
		conn_write_cb(c->bev, c);
	}
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

static int worker_init(struct server *srv, struct worker *w)
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
static void worker_stop(struct worker *w)
{
	if (w->started) {
		event_base_loopexit(w->base, NULL);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
}

/* Free w's connections (the pool stopped: jobs are dropped), queue, base. */
static void worker_fini(struct worker *w)
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
static void worker_hand(struct worker *w, int fd, uid_t uid, bool tls,
    bool refuse)
{
	struct newconn *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		close(fd);
		if (!refuse)
			__atomic_sub_fetch(&w->srv->nconns, 1, __ATOMIC_RELAXED);
		return;
	}
	n->fd = fd;
	n->uid = uid;
	n->tls = tls;
	n->refuse = refuse;
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

/* --- the listener ------------------------------------------------------------ */

/* Count fd against max_conns and give it to the next worker: over the
 * cap, the worker answers QUOTA and closes it (and past a margin more,
 * it is closed at once). */
static void hand(struct server *srv, int fd, uid_t uid, bool tls)
{
	unsigned int n = __atomic_add_fetch(&srv->nconns, 1, __ATOMIC_RELAXED);
	bool refuse = n > srv->cfg.max_conns;

	metrics_inc(tls ? MC_ACCEPTED_TLS : MC_ACCEPTED_UNIX);
	if (refuse) {
		__atomic_sub_fetch(&srv->nconns, 1, __ATOMIC_RELAXED);
		metrics_inc(MC_LIMIT_CONNECTIONS);
		if (n > srv->cfg.max_conns + 64) {
			log_abuse(ABUSE_CONNECTIONS, LOG_WARNING, "refused: "
			    "over %u connections, closed unanswered",
			    srv->cfg.max_conns);
			close(fd);
			return;
		}
	}
	worker_hand(&srv->workers[srv->next_worker], fd, uid, tls, refuse);
	srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
}

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
	hand(srv, fd, cred.uid, false);
}

static void tls_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct server *srv = arg;
	int one = 1;

	(void)l;
	(void)sa;
	(void)socklen;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	hand(srv, fd, 0, true);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nlst; i++)
		evconnlistener_enable(srv->lst[i]);
}

/* Out of descriptors (EMFILE, ENFILE) or memory: pause every listener
 * for accept_backoff_ms rather than spin on a pending connection. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR(), i;
	struct timeval tv;

	(void)l;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_msg(LOG_ERR, "accept: %s", strerror(err));
		return;
	}
	if (evtimer_pending(srv->backoff, NULL))
		return;
	log_msg(LOG_WARNING, "accept: %s: pausing the listeners %u ms",
	    strerror(err), srv->cfg.accept_backoff_ms);
	for (i = 0; i < srv->nlst; i++)
		evconnlistener_disable(srv->lst[i]);
	tv.tv_sec = srv->cfg.accept_backoff_ms / 1000;
	tv.tv_usec = (srv->cfg.accept_backoff_ms % 1000) * 1000;
	evtimer_add(srv->backoff, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	service_signal(srv->svc, (int)sig);
}

static int listen_unix(struct server *srv, const char *path)
{
	struct sockaddr_un sun;
	struct evconnlistener *l;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_msg(LOG_ERR, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	l = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (l == NULL) {
		log_msg(LOG_ERR, "cannot listen on %s: %s", path,
		    strerror(errno));
		return -1;
	}
	srv->unlink[srv->nlst] = path;
	snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]), "unix:%s", path);
	srv->lst[srv->nlst++] = l;
	/* Every local user may connect: each is its own tenant. */
	chmod(path, 0666);
	evconnlistener_set_error_cb(l, accept_error_cb);
	return 0;
}

/* Note the bound address of TLS listener l in srv->addr. */
static void note_tls_address(struct server *srv, struct evconnlistener *l)
{
	listen_address(l, "tls", srv->addr[srv->nlst], sizeof(srv->addr[0]));
}

static int listen_tls(struct server *srv, const char *spec)
{
	char host[NI_MAXHOST];
	struct evconnlistener *l;
	const char *port;

	if (listen_split(spec, host, sizeof(host), &port) != 0) {
		log_msg(LOG_ERR, "not HOST:PORT: %s", spec);
		return -1;
	}
	if ((l = listen_tcp(srv->base, "tls", spec, host, port, 128,
	    tls_accept_cb, srv)) == NULL)
		return -1;
	evconnlistener_set_error_cb(l, accept_error_cb);
	note_tls_address(srv, l);
	srv->lst[srv->nlst++] = l;
	return 0;
}

bool server_address(struct server *srv, int i, char *buf, size_t size)
{
	if (i < 0 || i >= srv->nlst)
		return false;
	snprintf(buf, size, "%s", srv->addr[i]);
	return true;
}

bool server_tls_address(struct server *srv, char *buf, size_t size)
{
	int i;

	for (i = 0; i < srv->nlst; i++)
		if (strncmp(srv->addr[i], "tls://", 6) == 0)
			return server_address(srv, i, buf, size);
	return false;
}

/* Note the path of Unix listener fd in srv->addr ("@name": abstract). */
static void note_unix_address(struct server *srv, int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	size_t n;

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path))
		return;
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (sun.sun_path[0] == '\0' && n > 1)
		snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]),
		    "unix:@%.*s", (int)(n - 1), sun.sun_path + 1);
	else
		snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]),
		    "unix:%.*s", (int)strnlen(sun.sun_path, n), sun.sun_path);
}

/* Serve on fd, a listening socket systemd passed: a Unix one, or a TCP
 * one that speaks TLS.  It is not unlinked at the end: systemd's. */
static int listen_fd(struct server *srv, int fd, bool is_unix)
{
	struct evconnlistener *l;

	if (srv->nlst >= 2 * SERVER_LISTEN_MAX) {
		fprintf(stderr, "aspaced: more than %d sockets\n",
		    2 * SERVER_LISTEN_MAX);
		return -1;
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (l = evconnlistener_new(srv->base, is_unix ? accept_cb :
	    tls_accept_cb, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, fd)) == NULL) {
		fprintf(stderr, "aspaced: cannot serve descriptor %d: %s\n",
		    fd, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	if (is_unix)
		note_unix_address(srv, fd);
	else
		note_tls_address(srv, l);
	srv->lst[srv->nlst++] = l;
	return 0;
}

/*
 * Socket activation: the sockets systemd passed take the place of every
 * --listen, each classified by its address family (AF_UNIX: a Unix
 * listener; AF_INET, AF_INET6: TLS).
 */
static int listen_passed(struct server *srv, const struct server_config *cfg)
{
	int i, fam;

	for (i = 0; i < cfg->nlisten_fds; i++) {
		if ((fam = sdp_socket_family(cfg->listen_fds[i])) < 0) {
			fprintf(stderr, "aspaced: descriptor %d from systemd "
			    "is not a listening stream socket\n",
			    cfg->listen_fds[i]);
			return -1;
		}
		if (fam != AF_UNIX && srv->ssl_ctx == NULL) {
			fprintf(stderr, "aspaced: a TCP socket from systemd "
			    "needs --tls-cert and --tls-key\n");
			return -1;
		}
		if (listen_fd(srv, cfg->listen_fds[i], fam == AF_UNIX) != 0)
			return -1;
	}
	return 0;
}

/* Every listener of cfg; 0 or -1. */
static int listen_all(struct server *srv, const struct server_config *cfg)
{
	int i;

	if (cfg->nlisten_fds > 0)
		return listen_passed(srv, cfg);
	if (cfg->unix_path != NULL && listen_unix(srv, cfg->unix_path) != 0)
		return -1;
	for (i = 0; i < SERVER_LISTEN_MAX - 1 && cfg->unix_more[i] != NULL;
	    i++)
		if (listen_unix(srv, cfg->unix_more[i]) != 0)
			return -1;
	if (cfg->tls_listen != NULL && listen_tls(srv, cfg->tls_listen) != 0)
		return -1;
	for (i = 0; i < SERVER_LISTEN_MAX - 1 && cfg->tls_more[i] != NULL;
	    i++)
		if (listen_tls(srv, cfg->tls_more[i]) != 0)
			return -1;
	return 0;
}

/* --- authentication (req-hello.c) -------------------------------------------- */

static struct conn *conn_of(const struct req_conn *rc)
{
	return (struct conn *)((char *)rc - offsetof(struct conn, rc));
}

int server_authenticate(struct server *srv, struct req_conn *rc,
    const char *token, size_t len)
{
	struct conn *c = conn_of(rc);
	char name[TENANT_NAME_MAX + 1];
	const char *who;
	uid_t t;

	if (c->has_tenant)
		return 0;
	pthread_rwlock_rdlock(&srv->tokens_lock);	/* vs a reload */
	who = token != NULL ? tokens_lookup(&srv->tokens, token, len) : NULL;
	if (who != NULL)
		snprintf(name, sizeof(name), "token:%s", who);
	pthread_rwlock_unlock(&srv->tokens_lock);
	if (who == NULL)
		goto refuse;
	if ((t = tenants_intern(&srv->tenants, name)) == TENANT_NONE)
		goto refuse;
	rc->tenant = t;
	c->has_tenant = true;
	return 0;
refuse:
	metrics_inc(MC_AUTH_FAILURES);
	log_abuse(ABUSE_AUTH, LOG_WARNING, "%s: hello refused: %s", c->peer,
	    token == NULL ? "no token" : "unknown token");
	c->refused = true;
	return -EACCES;
}

bool server_tenant_name(struct server *srv, const struct req_conn *rc,
    char *buf, size_t size)
{
	return conn_of(rc)->has_tenant &&
	    tenants_name(&srv->tenants, rc->tenant, buf, size);
}

static int add_signals(struct server *srv)
{
	size_t i;

	for (i = 0; i < SERVER_NSIGNALS; i++) {
		srv->sig[i] = evsignal_new(srv->base, server_signals[i],
		    signal_cb, srv);
		if (srv->sig[i] == NULL || event_add(srv->sig[i], NULL) != 0)
			return -1;
	}
	return 0;
}

/* Start the workers with the listener's signals blocked. */
static int start_workers(struct server *srv)
{
	sigset_t block, old;
	int i, err = 0;
	size_t j;

	sigemptyset(&block);
	for (j = 0; j < SERVER_NSIGNALS; j++)
		sigaddset(&block, server_signals[j]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < srv->nworkers && err == 0; i++)
		err = worker_init(srv, &srv->workers[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* Sessions from the state directory, and the checkpoint thread. */
static int persist_setup(struct server *srv, const struct server_config *cfg)
{
	unsigned int n;

	if (cfg->state_dir == NULL)
		return 0;
	srv->persist = persist_new(cfg->state_dir, &srv->tenants,
	    cfg->ram_max);
	if (srv->persist == NULL)
		return -1;
	if ((n = persist_restore(srv->persist, &srv->sessions)) > 0)
		log_msg(LOG_NOTICE, "%u session%s restored from %s", n,
		    n == 1 ? "" : "s", cfg->state_dir);
	return persist_start(srv->persist, &srv->sessions, cfg->checkpoint_ms);
}

struct persist *server_persist(struct server *srv)
{
	return srv->persist;
}

/* The metrics listener on srv's loop, unless metrics_listen is NULL or
 * "none": 0 or -1. */
static int listen_metrics(struct server *srv, const struct server_config *cfg)
{
	if (cfg->metrics_listen == NULL ||
	    strcmp(cfg->metrics_listen, "none") == 0)
		return 0;
	srv->metrics = metrics_http_new(srv->base, cfg->metrics_listen);
	return srv->metrics != NULL ? 0 : -1;
}

bool server_metrics_address(struct server *srv, char *buf, size_t size)
{
	if (srv->metrics == NULL)
		return false;
	metrics_http_address(srv->metrics, buf, size);
	return true;
}

struct server *server_new(const struct server_config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	srv->cfg = *cfg;
	metrics_start();
	pthread_mutex_init(&srv->ctx_lock, NULL);
	pthread_rwlock_init(&srv->tokens_lock, NULL);
	stable_init(&srv->sessions, cfg->max_sessions_total, cfg->max_sessions);
	tenants_init(&srv->tenants);
	signal(SIGPIPE, SIG_IGN);
	srv->nworkers = cfg->workers;
	srv->workers = calloc((size_t)cfg->workers, sizeof(*srv->workers));
	if (srv->workers == NULL ||
	    tokens_load(&srv->tokens, cfg->token_file) != 0 ||
	    ((cfg->tls_listen != NULL || cfg->tls_cert != NULL) &&
	    (srv->ssl_ctx = tls_server_ctx(
	    cfg->tls_cert, cfg->tls_key, cfg->tls_client_ca)) == NULL) ||
	    evthread_use_pthreads() != 0 ||
	    (srv->base = event_base_new()) == NULL || add_signals(srv) != 0 ||
	    (srv->backoff = evtimer_new(srv->base, backoff_cb, srv)) == NULL ||
	    (cfg->pool_threads > 0 && (srv->pool = pool_new(cfg->pool_threads,
	    cfg->pool_queue, cfg->pool_tenant_jobs)) == NULL) ||
	    persist_setup(srv, cfg) != 0 ||
	    start_workers(srv) != 0 || listen_all(srv, cfg) != 0 ||
	    listen_metrics(srv, cfg) != 0 ||
	    (srv->svc = service_new(srv, srv->base)) == NULL) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

int server_run(struct server *srv)
{
	int rc;

	service_ready(srv->svc);
	rc = event_base_dispatch(srv->base) < 0 ? -1 : 0;
	server_before_exit(srv);
	return rc;
}

void server_free(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlst; i++) {
		evconnlistener_free(srv->lst[i]);
		if (srv->unlink[i] != NULL)
			unlink(srv->unlink[i]);
	}
	/* The loops first, then the pool: a job done later is never run,
	 * and worker_fini() frees what it left. */
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		worker_stop(&srv->workers[i]);
	pool_free(srv->pool);
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		worker_fini(&srv->workers[i]);
	metrics_http_free(srv->metrics);
	if (srv->backoff != NULL)
		event_free(srv->backoff);
	for (i = 0; i < (int)SERVER_NSIGNALS; i++)
		if (srv->sig[i] != NULL)
			event_free(srv->sig[i]);
	service_free(srv->svc);
	if (srv->base != NULL)
		event_base_free(srv->base);
	free(srv->workers);
	if (srv->persist != NULL) {	/* every request is done: save all */
		persist_save_all(srv->persist, &srv->sessions);
		persist_free(srv->persist);
	}
	stable_free(&srv->sessions);
	SSL_CTX_free(srv->ssl_ctx);
	tokens_free(&srv->tokens);
	tenants_free(&srv->tenants);
	pthread_mutex_destroy(&srv->ctx_lock);
	pthread_rwlock_destroy(&srv->tokens_lock);
	free(srv);
}

/* --- for the service (service.h): heartbeats, drain, reload ------------------ */

void server_stats(struct server *srv, struct server_stats *st)
{
	int i;

	st->conns = __atomic_load_n(&srv->nconns, __ATOMIC_RELAXED);
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

/* A new TLS context from nc's files; the old one stays if they fail. */
static int reload_tls(struct server *srv, const struct server_config *nc)
{
	SSL_CTX *ctx, *old;

	if (srv->ssl_ctx == NULL)
		return 0;	/* no TLS listener */
	if (nc->tls_cert == NULL || nc->tls_key == NULL) {
		fprintf(stderr, "aspaced: reload: no certificate and key "
		    "given: keeping the old ones\n");
		return -1;
	}
	if ((ctx = tls_server_ctx(nc->tls_cert, nc->tls_key,
	    nc->tls_client_ca)) == NULL) {
		fprintf(stderr, "aspaced: reload: keeping the old "
		    "certificate\n");
		return -1;
	}
	pthread_mutex_lock(&srv->ctx_lock);
	old = srv->ssl_ctx;
	srv->ssl_ctx = ctx;
	pthread_mutex_unlock(&srv->ctx_lock);
	SSL_CTX_free(old);	/* its connections keep their references */
	return 0;
}

static int reload_tokens(struct server *srv, const struct server_config *nc)
{
	struct token_table tt, old;

	if (tokens_load(&tt, nc->token_file) != 0) {
		fprintf(stderr, "aspaced: reload: keeping the old tokens\n");
		return -1;
	}
	pthread_rwlock_wrlock(&srv->tokens_lock);
	old = srv->tokens;
	srv->tokens = tt;
	pthread_rwlock_unlock(&srv->tokens_lock);
	tokens_free(&old);
	return 0;
}

#define LIVE_SET(field)	__atomic_store_n(&srv->cfg.field, nc->field, \
    __ATOMIC_RELAXED)

/* The limits that may change under running connections; a lower one
 * holds for what comes next (connections, sessions, requests), and
 * what is already there stays. */
static void reload_limits(struct server *srv, const struct server_config *nc)
{
	LIVE_SET(max_conns);
	LIVE_SET(idle_timeout_ms);
	LIVE_SET(drain_timeout_ms);
	LIVE_SET(max_inflight);
	LIVE_SET(max_body);
	LIVE_SET(ram_max);
	LIVE_SET(trace_output_max);
	LIVE_SET(accept_backoff_ms);
	LIVE_SET(max_sessions);
	LIVE_SET(request_cpu_ms);
	LIVE_SET(trace_line_limit);
	LIVE_SET(ram_total);
	pthread_mutex_lock(&srv->sessions.lock);
	srv->sessions.max_total = nc->max_sessions_total;
	srv->sessions.max_per_tenant = nc->max_sessions;
	srv->cfg.max_sessions_total = nc->max_sessions_total;
	pthread_mutex_unlock(&srv->sessions.lock);
	if (nc->workers != srv->cfg.workers ||
	    nc->pool_threads != srv->cfg.pool_threads ||
	    nc->pool_queue != srv->cfg.pool_queue ||
	    nc->pool_tenant_jobs != srv->cfg.pool_tenant_jobs)
		fprintf(stderr, "aspaced: reload: the workers, pool threads, "
		    "pool queue and pool-tenant-jobs change at a restart "
		    "only\n");
}

int server_reload(struct server *srv, const struct server_config *nc)
{
	int rc = 0;

	if (reload_tls(srv, nc) != 0)
		rc = -1;
	if (reload_tokens(srv, nc) != 0)
		rc = -1;
	reload_limits(srv, nc);
	return rc;
}

int server_reload_files(struct server *srv)
{
	return server_reload(srv, &srv->cfg);
}

void server_set_reload(struct server *srv,
    void (*fn)(struct server *, void *), void *arg)
{
	service_set_reload(srv->svc, fn, arg);
}

/*
 * After the drain at SIGTERM (or when the loop failed), before
 * server_run() returns: no connection is left and the listeners are
 * closed, but the workers, the pool and the sessions are all there.  The
 * place for writing every session out (persistence, to come).
 */
void server_before_exit(struct server *srv)
{
	unsigned int failed;

	if (srv->persist == NULL)
		return;
	if ((failed = persist_save_all(srv->persist, &srv->sessions)) > 0)
		log_msg(LOG_ERR, "%u session%s not saved", failed,
		    failed == 1 ? "" : "s");
}

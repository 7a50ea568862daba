/*
 * server-conn.c: a client connection (server-int.h; the reading of frames,
 * batches and tenants: server.c's top comment), and hello's
 * authentication.
 */
#include <malloc.h>

#include "server-int.h"

#define CONN_LINGER_MS	5000	/* a closing connection's last answer */
#define CONN_TRIM_DELAY_S 1	/* from a connection freed to malloc_trim() */

/* --- connections ---------------------------------------------------------- */

/* A TLS connection going before its handshake completed. */
static void conn_tls_failed(struct conn *c)
{
	metrics_inc(MC_TLS_FAILURES);
	log_abuse(ABUSE_TLS, LOG_NOTICE, "%s: TLS handshake failed: %s",
	    c->peer, c->tls_err[0] != '\0' ? c->tls_err :
	    "closed before it completed");
}

/* Give back what c counts in (admission.h) and stop its timers. */
static void conn_release(struct conn *c)
{
	struct newconn n;

	if (c->hs_ev != NULL)
		event_free(c->hs_ev);
	if (c->frame_ev != NULL)
		event_free(c->frame_ev);
	n.key = c->key;
	n.tls = c->unauth;
	n.refuse = !c->counted;
	hand_undo(c->w->srv, &n);
	if (c->counted)
		metrics_inc(MC_CONN_CLOSED);
	if (c->unauth)
		metrics_inc(MC_UNAUTH_DONE);
}

/*
 * A second after connections were freed, the host memory malloc keeps
 * free goes back to the host (as session_free() does for sessions): the
 * buffers and TLS state of a class's thousands of idle connections
 * would otherwise stay in the daemon's RSS after they close.  Later, not
 * at once: libevent frees a TLS bufferevent after its last callback.
 * One trim pending at a time, whichever worker frees.
 */
static bool trim_pending;

static void conn_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	__atomic_store_n(&trim_pending, false, __ATOMIC_RELAXED);
	malloc_trim(0);
}

static void conn_trim_later(struct worker *w)
{
	static const struct timeval later = { CONN_TRIM_DELAY_S, 0 };

	if (__atomic_exchange_n(&trim_pending, true, __ATOMIC_RELAXED))
		return;
	if (event_base_once(w->base, -1, EV_TIMEOUT, conn_trim_cb, NULL,
	    &later) != 0)
		__atomic_store_n(&trim_pending, false, __ATOMIC_RELAXED);
}

void conn_free(struct conn *c)
{
	if (c->job != NULL) {	/* on the pool: freed when it is done */
		c->gone = true;
		/* Its request stops at its next step (req.h). */
		__atomic_store_n(&c->job->x.cancel, REQ_CANCEL_GONE,
		    __ATOMIC_RELAXED);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		evtimer_del(c->hs_ev);
		evtimer_del(c->frame_ev);
		return;
	}
	conn_release(c);
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
	conn_trim_later(c->w);
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

static struct timeval ms_tv(unsigned int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* Close c once its output is written, and at the latest CONN_LINGER_MS
 * from now (the frame deadline's timer): a peer that reads nothing
 * keeps no slot. */
static void conn_closing(struct conn *c)
{
	struct timeval tv = ms_tv(CONN_LINGER_MS);

	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	evtimer_del(c->hs_ev);
	evtimer_add(c->frame_ev, &tv);
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
	conn_closing(c);
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
	    op == ASPACE__REQUEST__OP_GRADE ||
	    op == ASPACE__REQUEST__OP_FORK || op == ASPACE__REQUEST__OP_EXEC;
}

/* c's hello succeeded: no handshake deadline, out of the
 * unauthenticated pool. */
static void conn_authed(struct conn *c)
{
	evtimer_del(c->hs_ev);
	if (!c->unauth)
		return;
	admission_authed(c->w->srv->adm, &c->key);
	c->unauth = false;
	metrics_inc(MC_UNAUTH_DONE);
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
	if (c->rc.authed != was_authed) {
		conn_set_cap(c);
		conn_authed(c);
	}
	if (c->refused)
		conn_closing(c);
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
bool conn_idle(struct conn *c)
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

/*
 * The frame deadline: armed when a frame's first bytes wait in c's input,
 * re-armed when a frame was whole and another begun (new), off when the
 * input is empty or c is paused (the wait is then ours).  A closing
 * connection's timer is its linger's (conn_closing()).
 */
static void conn_frame_deadline(struct conn *c, bool new)
{
	unsigned int ms = __atomic_load_n(&c->w->srv->cfg.frame_timeout_ms,
	    __ATOMIC_RELAXED);
	struct timeval tv = ms_tv(ms);

	if (c->closing)
		return;
	if (ms == 0 || c->paused || c->job != NULL ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
		evtimer_del(c->frame_ev);
	else if (new || !evtimer_pending(c->frame_ev, NULL))
		evtimer_add(c->frame_ev, &tv);
}

/* A frame not whole in time (or a closing connection's linger over):
 * close at once, whatever state its TLS is in. */
static void conn_frame_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->closing) {
		if (c->paused || c->job != NULL)
			return;
		metrics_inc(MC_DROPPED_FRAME);
		log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: closed: a frame not "
		    "whole within the frame timeout", c->peer);
	}
	conn_free(c);
}

/* The handshake deadline: the TLS handshake and the hello not done in
 * time; closed at once. */
static void conn_hs_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	metrics_inc(MC_DROPPED_HANDSHAKE);
	log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: closed: %s not done within the "
	    "handshake timeout", c->peer, c->ssl != NULL && !c->handshaked ?
	    "TLS handshake" : "hello");
	conn_free(c);
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
	conn_frame_deadline(c, used > 0);
	conn_write_cb(bev, c);	/* closing with nothing left to write */
}

/* The idle timeout: answer QUOTA and close, or (why) close at once. */
static void conn_idle_timeout(struct conn *c, const char *why)
{
	metrics_inc(MC_LIMIT_IDLE);
	log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: idle timeout%s%s", c->peer,
	    why != NULL ? ": the peer " : "", why != NULL ? why : "");
	if (why != NULL || (c->ssl != NULL && !c->handshaked)) {
		conn_free(c);	/* nothing it would read: close at once */
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

/* Is c stalled: unauthenticated, its TLS handshake not done within
 * ADM_EVICT_AGE_MS? */
static bool conn_stalled(const struct conn *c, uint64_t now)
{
	return c->unauth && c->ssl != NULL && !c->handshaked && !c->closing &&
	    c->job == NULL &&
	    now - c->born >= (uint64_t)ADM_EVICT_AGE_MS * 1000000u;
}

/*
 * n came over a full unauthenticated pool (ADM_EVICT), or random early
 * drop chose it (ADM_EVICT_DROP): close w's oldest stalled connection
 * for it; true if one was, else n is refused (closed here).
 */
static bool conn_evict(struct worker *w, struct newconn *n)
{
	uint64_t now = metrics_now();
	struct conn *c, *oldest = NULL;

	admission_evicted(w->srv->adm);
	/* New connections go to the head: the last one stalled is the
	 * oldest. */
	for (c = w->conns; c != NULL; c = c->next)
		if (conn_stalled(c, now))
			oldest = c;
	if (oldest == NULL) {
		metrics_inc(n->early ? MC_REFUSED_EARLY_DROP :
		    MC_REFUSED_UNAUTH);
		close(n->fd);
		hand_undo(w->srv, n);
		return false;
	}
	metrics_inc(MC_DROPPED_EVICTED);
	log_abuse(ABUSE_CONNECTIONS, LOG_INFO, "%s: closed: its TLS handshake "
	    "stalled with the unauthenticated pool full", oldest->peer);
	conn_free(oldest);
	return true;
}

/* c's buffers, bufferevent and timers for n; false (c's to free by
 * conn_unmake()) if one could not be had. */
static bool conn_make(struct conn *c, struct worker *w, struct newconn *n)
{
	c->w = w;
	c->key = n->key;
	return (c->stage = evbuffer_new()) != NULL &&
	    (c->hs_ev = evtimer_new(w->base, conn_hs_cb, c)) != NULL &&
	    (c->frame_ev = evtimer_new(w->base, conn_frame_cb, c)) != NULL &&
	    conn_bev(c, w, n);
}

static void conn_unmake(struct conn *c, struct newconn *n)
{
	struct server *srv = c->w->srv;

	if (c->stage != NULL)
		evbuffer_free(c->stage);
	if (c->hs_ev != NULL)
		event_free(c->hs_ev);
	if (c->frame_ev != NULL)
		event_free(c->frame_ev);
	free(c);
	close(n->fd);
	hand_undo(srv, n);
}

/* The idle timeout, and the handshake deadline of one not refused. */
static void conn_timers(struct conn *c, bool refuse)
{
	struct server *srv = c->w->srv;
	unsigned int idle_ms = __atomic_load_n(&srv->cfg.idle_timeout_ms,
	    __ATOMIC_RELAXED), hs_ms = __atomic_load_n(
	    &srv->cfg.handshake_timeout_ms, __ATOMIC_RELAXED);
	struct timeval idle = ms_tv(idle_ms), hs = ms_tv(hs_ms);

	if (idle_ms > 0)	/* reading: idle; writing: reads nothing */
		bufferevent_set_timeouts(c->bev, &idle, &idle);
	if (hs_ms > 0 && !refuse)
		evtimer_add(c->hs_ev, &hs);
}

void conn_new(struct worker *w, struct newconn *n)
{
	struct conn *c;

	if (n->evict && !conn_evict(w, n))
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL || !conn_make(c, w, n)) {
		if (c != NULL)
			conn_unmake(c, n);
		else {
			close(n->fd);
			hand_undo(w->srv, n);
		}
		return;
	}
	c->counted = !n->refuse;
	c->unauth = n->tls && !n->refuse;
	c->born = metrics_now();
	if (c->counted)
		metrics_inc(MC_CONN_OPENED);
	if (c->unauth)
		metrics_inc(MC_UNAUTH_OPENED);
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
	conn_timers(c, n->refuse);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (n->refuse) {
		log_abuse(ABUSE_CONNECTIONS, LOG_WARNING, "%s: refused: over "
		    "%u connections", c->peer, w->srv->cfg.max_conns);
		conn_fail(c, ASPACE__STATUS__CODE__QUOTA,
		    "too many connections: try again later");
		conn_write_cb(c->bev, c);
	}
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

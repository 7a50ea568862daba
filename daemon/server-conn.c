/*
 * server-conn.c: a client connection's frames in and answers out
 * (server-int.h; the reading of frames, batches and tenants: server.c's
 * top comment): the body cap, staging and flushing answers, decoding
 * and running a request here or on the pool, the in-flight pause, the
 * frame deadline and the read and write callbacks.  A connection's
 * making, timers, end and authentication: server-conn-life.c.
 */
#include "server-int.h"

#define CONN_LINGER_MS	5000	/* a closing connection's last answer */

/* --- reading frames, writing answers -------------------------------------- */

static unsigned int conn_cap(const struct conn *c)
{
	return c->rc.authed ? c->rc.max_body : FRAME_MAX_BODY_PREAUTH;
}

/* Bound what libevent buffers to one whole frame at the current cap. */
void conn_set_cap(struct conn *c)
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

struct timeval ms_tv(unsigned int ms)
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
void conn_fail(struct conn *c, Aspace__Status__Code code,
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

/* The ops that may run long: they go to the pool (pool.h). */
static bool op_is_long(int op)
{
	return op == ASPACE__REQUEST__OP_RUN_TRACE ||
	    op == ASPACE__REQUEST__OP_GRADE ||
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
	if (c->rc.authed != was_authed) {
		conn_set_cap(c);
		conn_authed(c);
	}
	if (c->refused)
		conn_closing(c);
}

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

void conn_write_cb(struct bufferevent *bev, void *arg)
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

void conn_read_cb(struct bufferevent *bev, void *arg)
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


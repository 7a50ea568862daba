/*
 * aspace-bench-load.c: aspace-bench's load (aspace-bench.h): the hot
 * requests encoded by hand (and checked against protobuf-c), and the
 * clients run by a thread's epoll loop, each keeping its requests in
 * flight, peeking at the responses and timing them.
 */
#include "aspace-bench.h"

/* --- the hot requests, encoded by hand ------------------------------------ */

/*
 * The requests of the load are written straight into wire bytes, as
 * redis-benchmark writes its commands, rather than built as protobuf-c
 * structs and packed: the same bytes protobuf-c packs (the fields set,
 * in field number order), which hot_check() verifies at startup.
 */
struct hot {
	int		 op;		/* access, mmap or munmap */
	uint64_t	 id, addr, length;	/* length: mmap, munmap */
	int		 kind;		/* access */
	bool		 has_value;	/* access WRITE */
	uint32_t	 value;
	const uint8_t	*session;	/* 16 bytes */
};

#define HOT_MAX		128	/* bytes of the longest hot frame */
#define WT_VARINT	0
#define WT_LEN		2

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t put_field(uint8_t *p, unsigned int field, uint64_t v)
{
	size_t n = put_varint(p, field << 3 | WT_VARINT);

	return n + put_varint(p + n, v);
}

/* The op's message body (fields of AccessRequest etc.). */
static size_t hot_op_body(const struct hot *q, uint8_t *p)
{
	size_t n = put_field(p, 1, q->addr);

	switch (q->op) {
	case ASPACE__REQUEST__OP_ACCESS:
		n += put_field(p + n, 2, (uint64_t)(int64_t)q->kind);
		if (q->has_value)
			n += put_field(p + n, 3, q->value);
		return n + put_field(p + n, 4, 0);	/* explain false */
	case ASPACE__REQUEST__OP_MMAP:
		n += put_field(p + n, 2, q->length);
		n += put_field(p + n, 3, PROT_RW);
		return n + put_field(p + n, 4, MAP_PRIVATE_ | MAP_ANON_ |
		    MAP_FIXED_);
	default:
		return n + put_field(p + n, 2, q->length);
	}
}

/* The frame of q into buf (HOT_MAX bytes): its length. */
static size_t hot_encode(const struct hot *q, uint8_t *buf)
{
	uint8_t op[HOT_MAX / 2], *p = buf + FRAME_HEADER_SIZE;
	size_t oplen = hot_op_body(q, op);

	p += put_field(p, 1, q->id);
	p += put_varint(p, 2 << 3 | WT_LEN);
	p += put_varint(p, 16);
	memcpy(p, q->session, 16);
	p += 16;
	p += put_varint(p, (uint64_t)q->op << 3 | WT_LEN);
	p += put_varint(p, oplen);
	memcpy(p, op, oplen);
	p += oplen;
	frame_build_header(buf, (size_t)(p - buf) - FRAME_HEADER_SIZE, 0);
	return (size_t)(p - buf);
}

/* The same frame through protobuf-c; its length or -1. */
static long hot_encode_pb(const struct hot *q, uint8_t *buf, size_t cap)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__AccessRequest a = ASPACE__ACCESS_REQUEST__INIT;
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;
	Aspace__MunmapRequest u = ASPACE__MUNMAP_REQUEST__INIT;

	r.has_id = r.has_session = true;
	r.id = q->id;
	r.session.len = 16;
	r.session.data = (uint8_t *)q->session;
	r.op_case = (Aspace__Request__OpCase)q->op;
	if (q->op == ASPACE__REQUEST__OP_ACCESS) {
		a.has_addr = a.has_kind = a.has_explain = true;
		a.addr = q->addr;
		a.kind = (Aspace__AccessKind)q->kind;
		a.has_value = q->has_value;
		a.value = q->value;
		a.explain = false;
		r.access = &a;
	} else if (q->op == ASPACE__REQUEST__OP_MMAP) {
		m.has_addr = m.has_length = m.has_prot = m.has_flags = true;
		m.addr = q->addr;
		m.length = q->length;
		m.prot = PROT_RW;
		m.flags = MAP_PRIVATE_ | MAP_ANON_ | MAP_FIXED_;
		r.mmap = &m;
	} else {
		u.has_addr = u.has_length = true;
		u.addr = q->addr;
		u.length = q->length;
		r.munmap = &u;
	}
	return frame_encode(&r.base, 0, buf, cap);
}

/*
 * hot_encode() and protobuf-c agree on every kind of hot request, with
 * values at the varint length boundaries; else a message on stderr.
 */
bool hot_check(void)
{
	static const uint64_t v[] = { 0, 1, 127, 128, 16383, 16384,
	    0xffffffffu, 1ull << 32, INT64_MAX, UINT64_MAX };
	static const uint8_t sess[16] = { 0, 0x80, 0xff, 1, 2, 3, 4, 5, 6, 7,
	    8, 9, 10, 11, 12, 0x7f };
	uint8_t mine[HOT_MAX], pb[HOT_MAX + 64];
	struct hot q = { .session = sess };
	unsigned int i, k;
	long n;

	for (i = 0; i < 5 * nitems(v); i++) {
		k = i % 5;
		q.op = k < 3 ? ASPACE__REQUEST__OP_ACCESS : k == 3 ?
		    ASPACE__REQUEST__OP_MMAP : ASPACE__REQUEST__OP_MUNMAP;
		q.kind = k == 0 ? ASPACE__ACCESS_KIND__ACCESS_READ :
		    ASPACE__ACCESS_KIND__ACCESS_WRITE;
		q.has_value = k == 2;
		q.value = (uint32_t)v[i % nitems(v)];
		q.id = v[(i / 5) % nitems(v)];
		q.addr = v[(i + 3) % nitems(v)];
		q.length = v[(i + 7) % nitems(v)];
		n = hot_encode_pb(&q, pb, sizeof(pb));
		if (n < 0 || (size_t)n != hot_encode(&q, mine) ||
		    memcmp(mine, pb, (size_t)n) != 0) {
			fprintf(stderr, "aspace-bench: the hand encoder "
			    "differs from protobuf-c (sample %u, op %d)\n", i,
			    q.op);
			return false;
		}
	}
	return true;
}

/* --- the load --------------------------------------------------------- */

/* Request number i of client cl. */
static void hot_make(struct client *cl, long i, struct hot *q)
{
	const struct sess *s = &sessions[cl->idx % opt.sessions];
	unsigned int total = opt.w_read + opt.w_write + opt.w_mmap, pick;
	uint64_t page;

	cl->rnd = cl->rnd * 6364136223846793005ull + 1442695040888963407ull;
	pick = (unsigned int)(cl->rnd >> 33) % total;
	page = (cl->rnd >> 13) % (REGION_LEN / PAGE);
	q->session = s->id;
	q->id = (uint64_t)i + 1;
	q->has_value = false;
	if (pick < opt.w_read + opt.w_write) {
		q->op = ASPACE__REQUEST__OP_ACCESS;
		q->addr = s->region + page * PAGE + (uint64_t)(i & 0xff) * 8;
		q->kind = pick < opt.w_read ? ASPACE__ACCESS_KIND__ACCESS_READ :
		    ASPACE__ACCESS_KIND__ACCESS_WRITE;
		q->has_value = pick >= opt.w_read;
		q->value = (uint32_t)i & 0xff;
	} else {
		q->op = (i & 1) == 0 ? ASPACE__REQUEST__OP_MMAP :
		    ASPACE__REQUEST__OP_MUNMAP;
		q->addr = s->scratch +
		    (uint64_t)((cl->idx + i / 2) % SCRATCH_PAGES) * PAGE;
		q->length = PAGE;
	}
}

/* Request number i of client cl, queued on its connection. */
static int send_one(struct client *cl, long i)
{
	struct conn *c = &cl->c;
	struct hot q;

	hot_make(cl, i, &q);
	if (sizeof(c->wbuf) - c->wlen < HOT_MAX && conn_flush(c) != 0)
		return -1;
	c->wlen += hot_encode(&q, c->wbuf + c->wlen);
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Write what is queued; 0 done, 1 would block, -1 failed. */
static int conn_push(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, c->wbuf + c->woff,
			    (int)(c->wlen - c->woff));

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				return e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ ? 1 : -1;
			}
			n = r;
		} else {
			n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno == EAGAIN ? 1 : -1;
		}
		c->woff += (size_t)n;
	}
	c->wlen = c->woff = 0;
	return 0;
}

/*
 * Read without blocking: one read() per readiness, as epoll is
 * level-triggered.  With read-ahead, OpenSSL may hold whole records that
 * epoll cannot see, so SSL_read goes on while SSL_has_pending().  0 when
 * the socket is to be waited for, 1 when rbuf is full (call again once
 * there is room), -1 at EOF or on an error.
 */
static int conn_pull(struct conn *c)
{
	ssize_t n;

	do {
		if (c->rlen == c->rsize)
			return 1;
		if (c->ssl == NULL) {
			n = read(c->fd, c->rbuf + c->rlen, c->rsize - c->rlen);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 :
				    -1;
			if (n == 0)
				return -1;
			c->rlen += (size_t)n;
			return c->rlen == c->rsize;
		}
		if ((n = SSL_read(c->ssl, c->rbuf + c->rlen,
		    (int)(c->rsize - c->rlen))) <= 0) {
			int e = SSL_get_error(c->ssl, (int)n);

			return e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE ? 0 : -1;
		}
		c->rlen += (size_t)n;
	} while (SSL_has_pending(c->ssl));
	return c->rlen == c->rsize;
}

/* A varint at *p (below end); false when malformed. */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift;

	*v = 0;
	for (shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return true;
	}
	return false;
}

/* Step over one field of wire type wt. */
static bool skip_field(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t v;

	switch (wt) {
	case 0:
		return get_varint(p, end, &v);
	case 1:
	case 5:
		v = wt == 1 ? 8 : 4;
		break;
	case 2:
		if (!get_varint(p, end, &v))
			return false;
		break;
	default:
		return false;
	}
	if (v > (uint64_t)(end - *p))
		return false;
	*p += v;
	return true;
}

/*
 * A Response's id (field 1) and Status.code (field 2, its field 1)
 * without decoding the rest, as redis-benchmark reads replies; false when
 * the body is malformed.  Any other outcome is decoded in full.
 */
static bool resp_peek(const uint8_t *p, size_t len, uint64_t *id, int *code)
{
	const uint8_t *end = p + len, *sub;
	uint64_t key, v;

	*id = 0;
	*code = 0;
	while (p < end) {
		if (!get_varint(&p, end, &key))
			return false;
		if (key == (1 << 3 | 0)) {
			if (!get_varint(&p, end, id))
				return false;
		} else if (key == (2 << 3 | 2)) {
			if (!get_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			for (sub = p, p += v; sub < p; ) {
				if (!get_varint(&sub, p, &key))
					return false;
				if (key == (1 << 3 | 0)) {
					if (!get_varint(&sub, p, &v))
						return false;
					*code = (int)v;
				} else if (!skip_field(&sub, p, key & 7))
					return false;
			}
		} else if (!skip_field(&p, end, key & 7))
			return false;
	}
	return true;
}

/* The next whole response's id, or -1 (need more, or *bad). */
static int conn_peek(struct conn *c, uint64_t *id, int *code, bool *bad)
{
	struct frame_header h;
	int r = frame_parse_header(c->rbuf, c->rlen, c->rsize -
	    FRAME_HEADER_SIZE, &h);

	*bad = r < 0;
	if (r != 0 || c->rlen < FRAME_HEADER_SIZE + h.length)
		return -1;
	if (!resp_peek(c->rbuf + FRAME_HEADER_SIZE, h.length, id, code)) {
		*bad = true;
		return -1;
	}
	c->consumed = FRAME_HEADER_SIZE + h.length;
	return 0;
}

/* A failed request: its message from the full decode. */
static void client_error(struct client *cl, uint64_t id)
{
	Aspace__Response *resp;
	bool need;

	if (cl->errors++ > 0 || (resp = conn_next(&cl->c, &need)) == NULL)
		return;
	snprintf(cl->err, sizeof(cl->err), "request %" PRIu64 ": %s", id,
	    code_of(resp));
}

/* Account every whole response buffered on cl's connection. */
static int client_take(struct client *cl)
{
	uint64_t id, now = now_ns();
	bool bad;
	int code;

	while (conn_peek(&cl->c, &id, &code, &bad) == 0) {
		if (id == 0 || id > (uint64_t)cl->nsent) {
			snprintf(cl->err, sizeof(cl->err), "response id %"
			    PRIu64, id);
			return -1;
		}
		if (code != ASPACE__STATUS__CODE__OK)
			client_error(cl, id);
		hist_add(&cl->h, now - cl->sent_at[id - 1]);
		conn_consume(&cl->c);
		cl->ndone++;
	}
	if (bad) {
		snprintf(cl->err, sizeof(cl->err), "bad response frame");
		return -1;
	}
	return 0;
}

/* Queue what the window and the schedule allow; the next send time. */
static int client_fill(struct client *cl, uint64_t now, uint64_t *next)
{
	*next = 0;
	if (cl->c.wlen > 0)	/* a write is pending: keep its buffer */
		return 0;
	while (cl->nsent < cl->nreq && cl->nsent - cl->ndone < opt.depth &&
	    cl->c.wlen < WBUF_SIZE - 1024) {
		uint64_t t = now;

		if (cl->interval != 0) {
			t = start_ns + (uint64_t)cl->nsent * cl->interval +
			    cl->phase;
			if (t > now) {
				*next = t;
				break;
			}
		}
		cl->sent_at[cl->nsent] = t;
		if (send_one(cl, cl->nsent) != 0)
			return -1;
		cl->nsent++;
	}
	return 0;
}

/* Interest in writability only while a write waits. */
static void client_watch(struct loop *lp, struct client *cl, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = cl };

	if (out == cl->want_out)
		return;
	cl->want_out = out;
	if (out)
		ev.events |= EPOLLOUT;
	epoll_ctl(lp->ep, EPOLL_CTL_MOD, cl->c.fd, &ev);
}

/* Read and account until the socket is to be waited for. */
static int client_recv(struct client *cl)
{
	int r;

	do {
		if ((r = conn_pull(&cl->c)) < 0 || client_take(cl) != 0)
			return -1;
	} while (r == 1);	/* full: what OpenSSL holds wakes no epoll */
	return 0;
}

/* Read, account, send; -1 when the connection failed. */
static int client_step(struct loop *lp, struct client *cl, uint64_t *next)
{
	int r;

	if (cl->done)
		return 0;
	if (client_recv(cl) != 0)
		return -1;
	if (cl->ndone == cl->nreq) {
		cl->done = true;
		cl->end_ns = now_ns();
		return 0;
	}
	if (client_fill(cl, now_ns(), next) != 0 ||
	    (r = conn_push(&cl->c)) < 0)
		return -1;
	client_watch(lp, cl, r == 1);
	return 0;
}

static void client_failed(struct client *cl)
{
	if (cl->err[0] == '\0')
		snprintf(cl->err, sizeof(cl->err), "connection failed");
	cl->errors += cl->nreq - cl->ndone;
	cl->done = true;
	cl->end_ns = now_ns();
}

/* One pass over every client (the schedule's timer fired). */
static uint64_t loop_sweep(struct loop *lp)
{
	uint64_t soonest = 0, next;
	int i;

	for (i = 0; i < lp->n; i++) {
		struct client *cl = &lp->first[i];

		if (client_step(lp, cl, &next) != 0)
			client_failed(cl);
		if (!cl->done && next != 0 && (soonest == 0 || next < soonest))
			soonest = next;
	}
	return soonest;
}

static int loop_pending(const struct loop *lp)
{
	int i, n = 0;

	for (i = 0; i < lp->n; i++)
		n += !lp->first[i].done;
	return n;
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;
	struct epoll_event evs[64];
	uint64_t next, soonest;
	int i, n, ms;

	pthread_barrier_wait(&start_barrier);
	soonest = loop_sweep(lp);
	while (loop_pending(lp) > 0) {
		ms = -1;
		if (soonest != 0) {
			uint64_t t = now_ns();

			ms = soonest > t ? (int)((soonest - t) / 1000000) : 0;
		}
		n = epoll_wait(lp->ep, evs, 64, ms);
		for (i = 0; i < n; i++) {
			struct client *cl = evs[i].data.ptr;

			if (client_step(lp, cl, &next) != 0)
				client_failed(cl);
			else if (next != 0 && (soonest == 0 || next < soonest))
				soonest = next;
		}
		if (soonest != 0 && now_ns() >= soonest)
			soonest = loop_sweep(lp);
	}
	return NULL;
}

/* Connect, say hello and register cl with lp. */
static int client_open(struct loop *lp, struct client *cl)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = cl };

	cl->rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(cl->idx + 1);
	if (opt.rate > 0) {
		cl->interval = (uint64_t)(1e9 * opt.clients / opt.rate);
		cl->phase = cl->interval * (uint64_t)cl->idx /
		    (uint64_t)opt.clients;
	}
	cl->sent_at = calloc((size_t)cl->nreq + 1, sizeof(*cl->sent_at));
	if (cl->sent_at == NULL ||
	    conn_open(&cl->c, cl->err, sizeof(cl->err)) != 0 ||
	    hello(&cl->c, cl->err, sizeof(cl->err)) != 0 ||
	    set_nonblock(cl->c.fd) != 0 ||
	    epoll_ctl(lp->ep, EPOLL_CTL_ADD, cl->c.fd, &ev) != 0)
		return -1;
	return 0;
}

/*
 * Connect every client (loop i gets a contiguous run of them), then
 * start the loops and the clock together.
 */
void start_loops(struct loop *lp, struct client *cl)
{
	int i, t;

	pthread_barrier_init(&start_barrier, NULL, (unsigned)opt.threads + 1);
	for (t = 0; t < opt.threads; t++) {
		if ((lp[t].ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("%s", "epoll_create1 failed");
		lp[t].first = &cl[t * opt.clients / opt.threads];
		lp[t].n = (t + 1) * opt.clients / opt.threads -
		    t * opt.clients / opt.threads;
	}
	for (i = 0, t = 0; i < opt.clients; i++) {
		while (&cl[i] >= lp[t].first + lp[t].n)
			t++;
		cl[i].idx = i;
		cl[i].nreq = opt.requests / opt.clients +
		    (i < opt.requests % opt.clients);
		if (client_open(&lp[t], &cl[i]) != 0)
			die("client: %s", cl[i].err[0] ? cl[i].err : "setup");
	}
	for (t = 0; t < opt.threads; t++)
		if (pthread_create(&lp[t].th, NULL, loop_main, &lp[t]) != 0)
			die("%s", "pthread_create failed");
	start_ns = now_ns();
	pthread_barrier_wait(&start_barrier);
}

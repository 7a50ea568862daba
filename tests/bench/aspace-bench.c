/*
 * aspace-bench: a load generator for aspaced in the manner of
 * redis-benchmark.
 *
 *   aspace-bench [--unix PATH | --host H --port P --tls --ca FILE
 *                [--cert FILE --key FILE] [--token T]] [-c CLIENTS]
 *                [-n REQUESTS] [-P DEPTH] [--sessions S] [--mix R:W:M]
 *                [--rate R] [--rbuf BYTES] [-q]
 *   aspace-bench --self-check
 *
 * Each client is a thread with its own connection (a Unix socket, or TCP
 * with TLS through OpenSSL), which says hello and then runs its share of
 * the -n requests keeping up to -P of them in flight.  Before the clock
 * starts, one setup connection creates S sessions (the daemon caps
 * sessions per tenant, so clients share them: client i uses session
 * i % S) and maps a 1 MiB read-write region in each; the requests are a
 * mix, by weight, of access READ and access WRITE at a page of that
 * region and of mmap MAP_FIXED / munmap of one page of a scratch area
 * (a pair counts as two requests).
 *
 * Latency is from a request's send to its response, in a histogram of
 * 32 sub-buckets per power of two (3 % precision).  With --rate R, the
 * clients send R requests/s in all on a fixed schedule and the latency
 * of each is measured from its scheduled send time, so that time spent
 * waiting behind a slow response (or the pipeline window) is counted.
 *
 * It is meant to cost the daemon it shares the machine with little CPU:
 * TLS reads ahead (one read() per batch of responses), responses are
 * peeked at rather than decoded, and the requests are encoded by hand
 * (checked against protobuf-c at startup; --self-check does only that).
 * --rbuf sets the read buffer's size (tests use a small one).
 *
 * Output: a summary, and one line "RESULT requests=N errors=E secs=S
 * rps=X p50_us=.. p99_us=.. p999_us=.. max_us=.." for scripts.  The
 * exit status is 1 if a request failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "frame.h"

#define REGION_LEN	(1ul << 20)
#define SCRATCH_PAGES	64
#define PAGE		4096ul
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	(64 * HIST_SUB)
#define RBUF_SIZE	(256 * 1024)	/* --rbuf: the default, the bounds */
#define RBUF_MIN	1024
#define RBUF_MAX	(64u << 20)
#define WBUF_SIZE	(64 * 1024)

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define PROT_RW		3
#define MAP_PRIVATE_	0x02
#define MAP_FIXED_	0x10
#define MAP_ANON_	0x20

static struct {
	const char	*unix_path, *host, *port, *ca, *cert, *key, *token;
	bool		 tls, quiet, self_check;
	int		 clients, depth, sessions, threads;
	long		 requests;
	size_t		 rbuf;
	double		 rate;
	unsigned int	 w_read, w_write, w_mmap;
} opt = {
	.host = "127.0.0.1", .clients = 50, .depth = 1, .requests = 100000,
	.threads = 1, .rbuf = RBUF_SIZE,
	.w_read = 1
};

static SSL_CTX *ssl_ctx;

struct sess {
	uint8_t		 id[16];
	uint64_t	 region, scratch;
};
static struct sess *sessions;

struct hist {
	uint64_t	 count[HIST_BUCKETS];
	uint64_t	 n, max;
};

struct conn {
	int		 fd;
	SSL		*ssl;
	uint8_t		*rbuf;
	size_t		 rlen, rsize;
	uint8_t		 wbuf[WBUF_SIZE];
	size_t		 wlen, woff;
	struct frame_arena arena;
	size_t		 consumed;	/* by the last conn_next() */
};

struct client {
	int		 idx;
	long		 nreq, nsent, ndone;
	struct conn	 c;
	uint64_t	*sent_at;	/* by request number */
	uint64_t	 rnd, interval, phase;
	bool		 want_out, done;
	struct hist	 h;
	long		 errors;
	uint64_t	 end_ns;
	char		 err[256];
};

static pthread_barrier_t start_barrier;
static uint64_t start_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "aspace-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* --- the histogram ------------------------------------------------------ */

static unsigned int hist_index(uint64_t v)
{
	int msb, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (unsigned int)((shift + 1) * HIST_SUB +
	    ((v >> shift) - HIST_SUB));
}

/* The highest value bucket i holds. */
static uint64_t hist_value(unsigned int i)
{
	unsigned int shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	return (((uint64_t)(i % HIST_SUB + HIST_SUB) + 1) << shift) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
	unsigned int i = hist_index(v);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->count[i]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		to->count[i] += from->count[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

static uint64_t hist_pct(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)((double)h->n * pct / 100.0 + 0.5), seen = 0;
	unsigned int i;

	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

/* --- connections ---------------------------------------------------------- */

static int conn_open(struct conn *c, char *err, size_t errsz)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (opt.unix_path != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(opt.unix_path) >= sizeof(sun.sun_path)) {
			snprintf(err, errsz, "socket path too long");
			return -1;
		}
		strcpy(sun.sun_path, opt.unix_path);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sun,
		    sizeof(sun)) != 0) {
			snprintf(err, errsz, "connect %s: %s", opt.unix_path,
			    strerror(errno));
			return -1;
		}
	} else {
		struct addrinfo hints, *ai, *a;
		int r, one = 1;

		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((r = getaddrinfo(opt.host, opt.port, &hints, &ai)) != 0) {
			snprintf(err, errsz, "%s: %s", opt.host,
			    gai_strerror(r));
			return -1;
		}
		for (a = ai; a != NULL; a = a->ai_next) {
			c->fd = socket(a->ai_family, a->ai_socktype |
			    SOCK_CLOEXEC, a->ai_protocol);
			if (c->fd >= 0 &&
			    connect(c->fd, a->ai_addr, a->ai_addrlen) == 0)
				break;
			if (c->fd >= 0)
				close(c->fd);
			c->fd = -1;
		}
		freeaddrinfo(ai);
		if (c->fd < 0) {
			snprintf(err, errsz, "connect %s:%s: %s", opt.host,
			    opt.port, strerror(errno));
			return -1;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (opt.tls) {
		c->ssl = SSL_new(ssl_ctx);
		if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
			snprintf(err, errsz, "SSL_new failed");
			return -1;
		}
		SSL_set_tlsext_host_name(c->ssl, opt.host);
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    opt.host))
			SSL_set1_host(c->ssl, opt.host);
		if (SSL_connect(c->ssl) != 1) {
			snprintf(err, errsz, "TLS handshake: %s",
			    ERR_reason_error_string(ERR_get_error()));
			return -1;
		}
	}
	c->rsize = opt.rbuf;
	c->rbuf = malloc(c->rsize);
	if (c->rbuf == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	frame_arena_init(&c->arena, FRAME_RESPONSE_BUDGET(c->rsize));
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	frame_arena_free(&c->arena);
}

static int conn_flush(struct conn *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t n;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, c->wbuf + off,
			    (int)(c->wlen - off));

			n = r > 0 ? r : -1;
		} else {
			n = write(c->fd, c->wbuf + off, c->wlen - off);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* Queue r; flushes when the buffer is full. */
static int conn_queue(struct conn *c, Aspace__Request *r)
{
	long n = frame_encode(&r->base, 0, c->wbuf + c->wlen,
	    sizeof(c->wbuf) - c->wlen);

	if (n < 0) {
		if (conn_flush(c) != 0)
			return -1;
		n = frame_encode(&r->base, 0, c->wbuf, sizeof(c->wbuf));
		if (n < 0)
			return -1;
	}
	c->wlen += (size_t)n;
	return 0;
}

/* Read what is there (blocking for at least one byte); -1 at EOF/error. */
static int conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->rlen == c->rsize)
		return -1;
	do {
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, c->rbuf + c->rlen,
			    (int)(c->rsize - c->rlen));

			n = r > 0 ? r : -1;
			break;
		}
		n = read(c->fd, c->rbuf + c->rlen, c->rsize - c->rlen);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->rlen += (size_t)n;
	return 0;
}

/*
 * The next whole response, decoded, or NULL with *need set when more
 * bytes are needed (need false: a protocol error).  The caller calls
 * conn_consume() when done with it.
 */
static Aspace__Response *conn_next(struct conn *c, bool *need)
{
	struct frame_header h;
	Aspace__Response *resp;
	int r = frame_parse_header(c->rbuf, c->rlen, c->rsize -
	    FRAME_HEADER_SIZE, &h);

	*need = false;
	if (r > 0 || (r == 0 && c->rlen < FRAME_HEADER_SIZE + h.length)) {
		*need = true;
		return NULL;
	}
	if (r < 0)
		return NULL;
	frame_arena_reset(&c->arena);
	if (frame_decode_response(&c->arena, c->rbuf + FRAME_HEADER_SIZE,
	    h.length, &resp) != 0 || resp->status == NULL)
		return NULL;
	c->consumed = FRAME_HEADER_SIZE + h.length;
	return resp;
}

static void conn_consume(struct conn *c)
{
	memmove(c->rbuf, c->rbuf + c->consumed, c->rlen - c->consumed);
	c->rlen -= c->consumed;
}

/* Send r and wait for its answer (setup only; nothing else in flight). */
static Aspace__Response *conn_call(struct conn *c, Aspace__Request *r)
{
	Aspace__Response *resp;
	bool need;

	if (conn_queue(c, r) != 0 || conn_flush(c) != 0)
		return NULL;
	for (;;) {
		if ((resp = conn_next(c, &need)) != NULL) {
			conn_consume(c);
			return resp;
		}
		if (!need || conn_fill(c) != 0)
			return NULL;
	}
}

static const char *code_of(const Aspace__Response *resp)
{
	return resp->status->message != NULL ? resp->status->message : "?";
}

static int hello(struct conn *c, char *err, size_t errsz)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;
	Aspace__Response *resp;

	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	h.token = (char *)opt.token;
	h.client = (char *)"aspace-bench";
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	r.has_id = true;
	r.id = 1;
	if ((resp = conn_call(c, &r)) == NULL ||
	    resp->status->code != ASPACE__STATUS__CODE__OK) {
		snprintf(err, errsz, "hello: %s",
		    resp != NULL ? code_of(resp) : "no answer");
		return -1;
	}
	return 0;
}

static void set_session(Aspace__Request *r, const struct sess *s)
{
	r->has_session = true;
	r->session.len = 16;
	r->session.data = (uint8_t *)s->id;
}

static int mmap_call(struct conn *c, struct sess *s, uint64_t addr,
    uint64_t len, uint64_t *out, char *err, size_t errsz)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;
	Aspace__Response *resp;

	set_session(&r, s);
	m.has_addr = addr != 0;
	m.addr = addr;
	m.has_length = true;
	m.length = len;
	m.has_prot = true;
	m.prot = PROT_RW;
	m.has_flags = true;
	m.flags = MAP_PRIVATE_ | MAP_ANON_;
	r.op_case = ASPACE__REQUEST__OP_MMAP;
	r.mmap = &m;
	if ((resp = conn_call(c, &r)) == NULL ||
	    resp->status->code != ASPACE__STATUS__CODE__OK ||
	    resp->result_case != ASPACE__RESPONSE__RESULT_MMAP ||
	    !resp->mmap->has_addr) {
		snprintf(err, errsz, "mmap: %s",
		    resp != NULL ? code_of(resp) : "no answer");
		return -1;
	}
	*out = resp->mmap->addr;
	return 0;
}

static int setup_sessions(struct conn *c, char *err, size_t errsz)
{
	int i;

	for (i = 0; i < opt.sessions; i++) {
		Aspace__Request r = ASPACE__REQUEST__INIT;
		Aspace__SessionCreateRequest sc =
		    ASPACE__SESSION_CREATE_REQUEST__INIT;
		Aspace__Response *resp;

		sc.has_ram_bytes = true;
		sc.ram_bytes = 256ul << 20;
		sc.label = (char *)"aspace-bench";
		r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
		r.session_create = &sc;
		if ((resp = conn_call(c, &r)) == NULL ||
		    resp->status->code != ASPACE__STATUS__CODE__OK ||
		    resp->result_case !=
		    ASPACE__RESPONSE__RESULT_SESSION_CREATE ||
		    resp->session_create->session.len != 16) {
			snprintf(err, errsz, "session_create: %s",
			    resp != NULL ? code_of(resp) : "no answer");
			return -1;
		}
		memcpy(sessions[i].id, resp->session_create->session.data, 16);
		if (mmap_call(c, &sessions[i], 0, REGION_LEN,
		    &sessions[i].region, err, errsz) != 0 ||
		    mmap_call(c, &sessions[i], 0, SCRATCH_PAGES * PAGE,
		    &sessions[i].scratch, err, errsz) != 0)
			return -1;
	}
	return 0;
}

static void destroy_sessions(struct conn *c)
{
	int i;

	for (i = 0; i < opt.sessions; i++) {
		Aspace__Request r = ASPACE__REQUEST__INIT;
		Aspace__SessionDestroyRequest d =
		    ASPACE__SESSION_DESTROY_REQUEST__INIT;

		set_session(&r, &sessions[i]);
		r.op_case = ASPACE__REQUEST__OP_SESSION_DESTROY;
		r.session_destroy = &d;
		(void)conn_call(c, &r);
	}
}

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
static bool hot_check(void)
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

/*
 * The clients of one thread: an epoll loop over their non-blocking
 * connections, as redis-benchmark runs its clients in one event loop.
 */
struct loop {
	pthread_t	 th;
	int		 ep;
	struct client	*first;
	int		 n;
};

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
static void start_loops(struct loop *lp, struct client *cl)
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

/* --- main ----------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: aspace-bench [--unix PATH | --host H --port P [--tls --ca FILE\n"
"           [--cert FILE --key FILE]]] [--token T] [-c CLIENTS] [-n REQUESTS]\n"
"           [-P DEPTH] [--threads T] [--sessions S] [--mix READ:WRITE:MMAP]\n"
"           [--rate R] [--rbuf BYTES] [-q]\n"
"       aspace-bench --self-check\n");
	exit(2);
}

static void parse_mix(const char *s)
{
	if (sscanf(s, "%u:%u:%u", &opt.w_read, &opt.w_write, &opt.w_mmap) !=
	    3 || opt.w_read + opt.w_write + opt.w_mmap == 0)
		die("--mix READ:WRITE:MMAP weights, not %s", s);
}

static void tls_setup(void)
{
	ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (ssl_ctx == NULL)
		die("%s", "SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_read_ahead(ssl_ctx, 1);	/* one read() per record batch */
	if (opt.ca != NULL ?
	    SSL_CTX_load_verify_locations(ssl_ctx, opt.ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(ssl_ctx) != 1)
		die("cannot load CA %s", opt.ca != NULL ? opt.ca : "defaults");
	if (opt.cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ssl_ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ssl_ctx, opt.key != NULL ? opt.key :
	    opt.cert, SSL_FILETYPE_PEM) != 1))
		die("cannot load client certificate %s", opt.cert);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unix", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "tls", no_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "token", required_argument, NULL, 'T' },
		{ "sessions", required_argument, NULL, 's' },
		{ "mix", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 'j' },
		{ "rbuf", required_argument, NULL, 'b' },
		{ "self-check", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct client *cl;
	struct loop *lp;
	struct hist all;
	struct conn setup;
	char err[256];
	uint64_t end = 0;
	long errors = 0;
	double secs;
	int ch, i;

	while ((ch = getopt_long(argc, argv, "c:n:P:q", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': opt.clients = atoi(optarg); break;
		case 'n': opt.requests = atol(optarg); break;
		case 'P': opt.depth = atoi(optarg); break;
		case 'q': opt.quiet = true; break;
		case 'u': opt.unix_path = optarg; break;
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = optarg; break;
		case 't': opt.tls = true; break;
		case 'A': opt.ca = optarg; break;
		case 'C': opt.cert = optarg; break;
		case 'K': opt.key = optarg; break;
		case 'T': opt.token = optarg; break;
		case 's': opt.sessions = atoi(optarg); break;
		case 'm': parse_mix(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'j': opt.threads = atoi(optarg); break;
		case 'b': opt.rbuf = (size_t)atol(optarg); break;
		case 'S': opt.self_check = true; break;
		default: usage();
		}
	}
	if (!hot_check())
		exit(1);
	if (opt.self_check) {
		printf("self-check: the hand encoder matches protobuf-c\n");
		exit(0);
	}
	if (optind != argc || opt.clients < 1 || opt.depth < 1 ||
	    opt.requests < opt.clients || opt.sessions < 0 || opt.rate < 0 ||
	    opt.threads < 1 || opt.threads > opt.clients ||
	    opt.rbuf < RBUF_MIN || opt.rbuf > RBUF_MAX ||
	    (opt.unix_path == NULL && opt.port == NULL) ||
	    (opt.unix_path != NULL && opt.tls))
		usage();
	if (opt.sessions == 0)
		opt.sessions = opt.clients < 8 ? opt.clients : 8;
	if (opt.tls)
		tls_setup();
	sessions = calloc((size_t)opt.sessions, sizeof(*sessions));
	cl = calloc((size_t)opt.clients, sizeof(*cl));
	if (sessions == NULL || cl == NULL)
		die("%s", "out of memory");
	if (conn_open(&setup, err, sizeof(err)) != 0 ||
	    hello(&setup, err, sizeof(err)) != 0 ||
	    setup_sessions(&setup, err, sizeof(err)) != 0)
		die("setup: %s", err);

	lp = calloc((size_t)opt.threads, sizeof(*lp));
	if (lp == NULL)
		die("%s", "out of memory");
	start_loops(lp, cl);
	memset(&all, 0, sizeof(all));
	for (i = 0; i < opt.threads; i++) {
		pthread_join(lp[i].th, NULL);
		close(lp[i].ep);
	}
	for (i = 0; i < opt.clients; i++) {
		hist_merge(&all, &cl[i].h);
		errors += cl[i].errors;
		if (cl[i].end_ns > end)
			end = cl[i].end_ns;
		if (cl[i].err[0] != '\0' && !opt.quiet)
			fprintf(stderr, "aspace-bench: client %d: %s\n", i,
			    cl[i].err);
		conn_close(&cl[i].c);
		free(cl[i].sent_at);
	}
	destroy_sessions(&setup);
	conn_close(&setup);
	secs = end > start_ns ? (double)(end - start_ns) / 1e9 : 1e-9;
	if (!opt.quiet) {
		printf("====== aspaced access %u:%u:%u (read:write:mmap) ======\n",
		    opt.w_read, opt.w_write, opt.w_mmap);
		printf("  %ld requests completed in %.2f seconds\n",
		    (long)all.n, secs);
		printf("  %d parallel clients, pipeline %d, %s, %d sessions\n",
		    opt.clients, opt.depth, opt.unix_path != NULL ? "unix" :
		    opt.tls ? "TLS" : "TCP", opt.sessions);
		if (opt.rate > 0)
			printf("  fixed rate %.0f requests/s (latency from the "
			    "scheduled send)\n", opt.rate);
		printf("  latency (us): p50 %.1f  p99 %.1f  p99.9 %.1f  "
		    "max %.1f\n", hist_pct(&all, 50) / 1e3,
		    hist_pct(&all, 99) / 1e3, hist_pct(&all, 99.9) / 1e3,
		    all.max / 1e3);
		printf("  throughput: %.2f requests per second\n",
		    (double)all.n / secs);
		if (errors > 0)
			printf("  errors: %ld\n", errors);
	}
	printf("RESULT requests=%" PRIu64 " errors=%ld secs=%.3f rps=%.1f "
	    "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n", all.n,
	    errors, secs, (double)all.n / secs, hist_pct(&all, 50) / 1e3,
	    hist_pct(&all, 99) / 1e3, hist_pct(&all, 99.9) / 1e3,
	    all.max / 1e3);
	free(cl);
	free(lp);
	free(sessions);
	if (ssl_ctx != NULL)
		SSL_CTX_free(ssl_ctx);
	return errors > 0 ? 1 : 0;
}

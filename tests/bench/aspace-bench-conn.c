/*
 * aspace-bench-conn.c: aspace-bench's latency histogram and its
 * connections (aspace-bench.h): opening one (Unix, or TCP with TLS),
 * writing and reading frames, one call at a time for the setup, hello,
 * and the sessions with their regions made before the clock starts and
 * destroyed after.
 */
#include "aspace-bench.h"
#include "bench-hello.h"

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

void hist_add(struct hist *h, uint64_t v)
{
	unsigned int i = hist_index(v);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->count[i]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		to->count[i] += from->count[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

uint64_t hist_pct(const struct hist *h, double pct)
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

int conn_open(struct conn *c, char *err, size_t errsz)
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

void conn_close(struct conn *c)
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

int conn_flush(struct conn *c)
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
Aspace__Response *conn_next(struct conn *c, bool *need)
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

void conn_consume(struct conn *c)
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

const char *code_of(const Aspace__Response *resp)
{
	return resp->status->message != NULL ? resp->status->message : "?";
}

int hello(struct conn *c, char *err, size_t errsz)
{
	Aspace__Request r;
	Aspace__HelloRequest h;
	Aspace__Response *resp;

	bench_hello(&r, &h, opt.token, "aspace-bench");
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

int setup_sessions(struct conn *c, char *err, size_t errsz)
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

void destroy_sessions(struct conn *c)
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

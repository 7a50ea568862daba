/*
 * aspace-scale: many sessions and many idle connections held against
 * one aspaced, for tests/daemon/test-scale.sh and
 * tests/bench/bench-scale.sh.
 *
 *   aspace-scale CONNECT-OPTIONS hold SESSIONS CONNECTIONS
 *   aspace-scale CONNECT-OPTIONS create N
 *   aspace-scale CONNECT-OPTIONS connect N
 *   aspace-scale CONNECT-OPTIONS churn SECONDS [-c CLIENTS]
 *
 *   CONNECT-OPTIONS: --unix PATH | --host H --port P --ca FILE,
 *                    and --token T (a TLS connection's hello)
 *
 * hold: on one connection, creates SESSIONS sessions; then opens
 * CONNECTIONS more connections, each through its hello and then idle;
 * prints "HELD sessions=S connections=C secs=..." and waits for its
 * standard input to end (or give a line); then destroys the sessions,
 * closes everything and prints "RELEASED secs=...".
 *
 * create: creates up to N sessions on one connection, stopping at the
 * first refusal; prints "CREATED k" and, on a refusal, "REFUSED CODE
 * message"; destroys what it created before it exits.
 *
 * connect: opens up to N connections, each through its hello, stopping
 * at the first one that fails; prints "OPENED k" and, on a failure,
 * "REFUSED how" (the status the daemon answered, or how the connection
 * ended); closes them all.
 *
 * churn: CLIENTS threads (default 4), each with its own connection,
 * create and destroy a session in turn for SECONDS; prints "RESULT
 * pairs=N errors=E secs=S rate=X" (create+destroy pairs per second).
 *
 * The exit status is 0 when the command did what it was asked (a
 * refusal of create or connect is an answer, also 0), 1 when a request
 * failed otherwise, 2 on a usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench-hello.h"
#include "frame.h"

#define BUF_SIZE	(64 * 1024)
#define ID_LEN		16

static struct {
	const char	*unix_path, *host, *port, *ca, *token;
	int		 clients;
} opt = { .host = "127.0.0.1", .clients = 4 };

static SSL_CTX *ssl_ctx;

/* A connection: idle ones keep only this (no buffers of their own). */
struct conn {
	int		 fd;
	SSL		*ssl;
};

/* The buffers of one thread's calls. */
struct io {
	uint8_t		 buf[BUF_SIZE];
	size_t		 len;
	struct frame_arena arena;
	char		 why[256];	/* the last failure */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "aspace-scale: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	exit(2);
}

/* --- connections ---------------------------------------------------------- */

static int sock_unix(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(opt.unix_path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, opt.unix_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int sock_tcp(void)
{
	struct addrinfo hints, *ai, *a;
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(opt.host, opt.port, &hints, &ai) != 0)
		return -1;
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Connect (and shake hands); -1 with io->why set. */
static int conn_open(struct conn *c, struct io *io)
{
	c->ssl = NULL;
	c->fd = opt.unix_path != NULL ? sock_unix() : sock_tcp();
	if (c->fd < 0) {
		snprintf(io->why, sizeof(io->why), "connect: %s",
		    strerror(errno));
		return -1;
	}
	if (opt.unix_path != NULL)
		return 0;
	if ((c->ssl = SSL_new(ssl_ctx)) == NULL || !SSL_set_fd(c->ssl, c->fd)) {
		snprintf(io->why, sizeof(io->why), "SSL_new failed");
		conn_close(c);
		return -1;
	}
	if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), opt.host))
		SSL_set1_host(c->ssl, opt.host);
	if (SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();

		snprintf(io->why, sizeof(io->why), "TLS handshake: %s",
		    e != 0 ? ERR_reason_error_string(e) :
		    "the connection was closed");
		ERR_clear_error();
		conn_close(c);
		return -1;
	}
	return 0;
}

static int conn_write(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, p, (int)n);

			w = r > 0 ? r : -1;
		} else if ((w = write(c->fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t conn_read(struct conn *c, uint8_t *p, size_t n)
{
	ssize_t r;

	if (c->ssl != NULL) {
		int k = SSL_read(c->ssl, p, (int)n);

		return k > 0 ? k : -1;
	}
	do
		r = read(c->fd, p, n);
	while (r < 0 && errno == EINTR);
	return r > 0 ? r : -1;
}

/* Send r, wait for one response (nothing else is in flight). */
static Aspace__Response *conn_call(struct conn *c, struct io *io,
    Aspace__Request *r)
{
	struct frame_header h;
	Aspace__Response *resp;
	long n = frame_encode(&r->base, 0, io->buf, sizeof(io->buf));
	int st;

	snprintf(io->why, sizeof(io->why), "the connection was closed");
	if (n < 0)
		return NULL;
	/* a failed write reads on: a daemon refusing a connection answers
	 * (QUOTA) and closes, maybe before the request went */
	(void)conn_write(c, io->buf, (size_t)n);
	io->len = 0;
	for (;;) {
		st = frame_parse_header(io->buf, io->len, sizeof(io->buf) -
		    FRAME_HEADER_SIZE, &h);
		if (st < 0)
			return NULL;
		if (st == 0 && io->len >= FRAME_HEADER_SIZE + h.length)
			break;
		if ((n = conn_read(c, io->buf + io->len,
		    sizeof(io->buf) - io->len)) < 0)
			return NULL;
		io->len += (size_t)n;
	}
	frame_arena_reset(&io->arena);
	if (frame_decode_response(&io->arena, io->buf + FRAME_HEADER_SIZE,
	    h.length, &resp) != 0 || resp->status == NULL)
		return NULL;
	return resp;
}

static const char *code_name(int code)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &aspace__status__code__descriptor, code);

	return v != NULL ? v->name : "?";
}

/* Not OK: io->why says "CODE message". */
static bool failed(struct io *io, const Aspace__Response *resp)
{
	if (resp == NULL)
		return true;
	if (resp->status->code == ASPACE__STATUS__CODE__OK)
		return false;
	snprintf(io->why, sizeof(io->why), "%s %s",
	    code_name(resp->status->code),
	    resp->status->message ? resp->status->message : "");
	return true;
}

static int hello(struct conn *c, struct io *io)
{
	Aspace__Request r;
	Aspace__HelloRequest h;

	bench_hello(&r, &h, opt.token, "aspace-scale");
	return failed(io, conn_call(c, io, &r)) ? -1 : 0;
}

/* A connection through its hello; -1 with io->why set. */
static int conn_ready(struct conn *c, struct io *io)
{
	if (conn_open(c, io) != 0)
		return -1;
	if (hello(c, io) != 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}

/* --- sessions ------------------------------------------------------------- */

static int session_create(struct conn *c, struct io *io, uint8_t *id)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest sc = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	sc.label = (char *)"aspace-scale";
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &sc;
	r.has_id = true;
	r.id = 2;
	if (failed(io, resp = conn_call(c, io, &r)))
		return -1;
	if (resp->result_case != ASPACE__RESPONSE__RESULT_SESSION_CREATE ||
	    resp->session_create->session.len != ID_LEN) {
		snprintf(io->why, sizeof(io->why), "no session in the answer");
		return -1;
	}
	memcpy(id, resp->session_create->session.data, ID_LEN);
	return 0;
}

static int session_destroy(struct conn *c, struct io *io, const uint8_t *id)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionDestroyRequest d = ASPACE__SESSION_DESTROY_REQUEST__INIT;

	r.has_session = true;
	r.session.len = ID_LEN;
	r.session.data = (uint8_t *)id;
	r.op_case = ASPACE__REQUEST__OP_SESSION_DESTROY;
	r.session_destroy = &d;
	r.has_id = true;
	r.id = 3;
	return failed(io, conn_call(c, io, &r)) ? -1 : 0;
}

/* Create up to n sessions into ids; how many were. */
static long create_many(struct conn *c, struct io *io, uint8_t *ids, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (session_create(c, io, ids + i * ID_LEN) != 0)
			break;
	return i;
}

/* Destroy n sessions; how many failed. */
static long destroy_many(struct conn *c, struct io *io, const uint8_t *ids,
    long n)
{
	long i, bad = 0;

	for (i = 0; i < n; i++)
		bad += session_destroy(c, io, ids + i * ID_LEN) != 0;
	return bad;
}

/* --- the commands --------------------------------------------------------- */

static struct io *io_new(void)
{
	struct io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		die("out of memory", NULL);
	frame_arena_init(&io->arena, FRAME_RESPONSE_BUDGET(BUF_SIZE));
	return io;
}

static void io_free(struct io *io)
{
	frame_arena_free(&io->arena);
	free(io);
}

/* Open up to n ready connections into cs; how many were. */
static long open_many(struct conn *cs, struct io *io, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (conn_ready(&cs[i], io) != 0)
			break;
	return i;
}

static int cmd_hold(long nsess, long nconn)
{
	struct io *io = io_new();
	uint8_t *ids = calloc((size_t)nsess + 1, ID_LEN);
	struct conn setup, *cs = calloc((size_t)nconn + 1, sizeof(*cs));
	double t0 = now_s();
	char line[64];
	long k, bad;

	if (ids == NULL || cs == NULL)
		die("out of memory", NULL);
	if (conn_ready(&setup, io) != 0)
		die("setup connection", io->why);
	if ((k = create_many(&setup, io, ids, nsess)) < nsess) {
		fprintf(stderr, "aspace-scale: session %ld: %s\n", k + 1,
		    io->why);
		destroy_many(&setup, io, ids, k);
		return 1;
	}
	if ((k = open_many(cs, io, nconn)) < nconn) {
		fprintf(stderr, "aspace-scale: connection %ld: %s\n", k + 1,
		    io->why);
		return 1;
	}
	printf("HELD sessions=%ld connections=%ld secs=%.3f\n", nsess, nconn,
	    now_s() - t0);
	fflush(stdout);
	(void)fgets(line, sizeof(line), stdin);
	t0 = now_s();
	bad = destroy_many(&setup, io, ids, nsess);
	for (k = 0; k < nconn; k++)
		conn_close(&cs[k]);
	conn_close(&setup);
	printf("RELEASED secs=%.3f destroy_errors=%ld\n", now_s() - t0, bad);
	free(cs);
	free(ids);
	io_free(io);
	return bad > 0;
}

static int cmd_create(long n)
{
	struct io *io = io_new();
	uint8_t *ids = calloc((size_t)n + 1, ID_LEN);
	struct conn c;
	long k;

	if (ids == NULL)
		die("out of memory", NULL);
	if (conn_ready(&c, io) != 0)
		die("connection", io->why);
	k = create_many(&c, io, ids, n);
	printf("CREATED %ld\n", k);
	if (k < n)
		printf("REFUSED %s\n", io->why);
	fflush(stdout);
	k = destroy_many(&c, io, ids, k);
	conn_close(&c);
	free(ids);
	io_free(io);
	return k > 0;
}

static int cmd_connect(long n)
{
	struct io *io = io_new();
	struct conn *cs = calloc((size_t)n + 1, sizeof(*cs));
	long k, i;

	if (cs == NULL)
		die("out of memory", NULL);
	k = open_many(cs, io, n);
	printf("OPENED %ld\n", k);
	if (k < n)
		printf("REFUSED %s\n", io->why);
	fflush(stdout);
	for (i = 0; i < k; i++)
		conn_close(&cs[i]);
	free(cs);
	io_free(io);
	return 0;
}

struct churner {
	pthread_t	 th;
	double		 until;
	long		 pairs, errors;
	char		 why[256];
};

static void *churn_main(void *arg)
{
	struct churner *ch = arg;
	struct io *io = io_new();
	uint8_t id[ID_LEN];
	struct conn c;

	if (conn_ready(&c, io) != 0) {
		ch->errors++;
		snprintf(ch->why, sizeof(ch->why), "%s", io->why);
		io_free(io);
		return NULL;
	}
	while (now_s() < ch->until) {
		if (session_create(&c, io, id) != 0 ||
		    session_destroy(&c, io, id) != 0) {
			if (ch->errors++ == 0)
				snprintf(ch->why, sizeof(ch->why), "%s",
				    io->why);
			if (ch->errors > 100)
				break;
			continue;
		}
		ch->pairs++;
	}
	conn_close(&c);
	io_free(io);
	return NULL;
}

static int cmd_churn(double secs)
{
	struct churner *ch = calloc((size_t)opt.clients, sizeof(*ch));
	double t0 = now_s(), t1;
	long pairs = 0, errors = 0;
	int i;

	if (ch == NULL)
		die("out of memory", NULL);
	for (i = 0; i < opt.clients; i++) {
		ch[i].until = t0 + secs;
		if (pthread_create(&ch[i].th, NULL, churn_main, &ch[i]) != 0)
			die("pthread_create failed", NULL);
	}
	for (i = 0; i < opt.clients; i++) {
		pthread_join(ch[i].th, NULL);
		pairs += ch[i].pairs;
		errors += ch[i].errors;
		if (ch[i].why[0] != '\0')
			fprintf(stderr, "aspace-scale: client %d: %s\n", i,
			    ch[i].why);
	}
	t1 = now_s();
	printf("RESULT pairs=%ld errors=%ld secs=%.3f rate=%.1f\n", pairs,
	    errors, t1 - t0, (double)pairs / (t1 - t0));
	free(ch);
	return errors > 0;
}

/* --- main ----------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: aspace-scale (--unix PATH | --host H --port P --ca FILE) [--token T]\n"
"           [-c CLIENTS] (hold SESSIONS CONNECTIONS | create N | connect N |\n"
"           churn SECONDS)\n");
	exit(2);
}

static void tls_setup(void)
{
	if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new failed", NULL);
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	/* Many idle connections: no buffers kept between records. */
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_load_verify_locations(ssl_ctx, opt.ca, NULL) != 1)
		die("cannot load the CA", opt.ca);
}

static long count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 10000000)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unix", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'A' },
		{ "token", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': opt.clients = (int)count_arg(optarg); break;
		case 'u': opt.unix_path = optarg; break;
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = optarg; break;
		case 'A': opt.ca = optarg; break;
		case 'T': opt.token = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || opt.clients < 1 ||
	    (opt.unix_path == NULL && (opt.port == NULL || opt.ca == NULL)))
		usage();
	signal(SIGPIPE, SIG_IGN);	/* a refused connection: EPIPE */
	if (opt.unix_path == NULL)
		tls_setup();
	cmd = argv[optind++];
	if (strcmp(cmd, "hold") == 0 && argc - optind == 2)
		return cmd_hold(count_arg(argv[optind]),
		    count_arg(argv[optind + 1]));
	if (strcmp(cmd, "create") == 0 && argc - optind == 1)
		return cmd_create(count_arg(argv[optind]));
	if (strcmp(cmd, "connect") == 0 && argc - optind == 1)
		return cmd_connect(count_arg(argv[optind]));
	if (strcmp(cmd, "churn") == 0 && argc - optind == 1)
		return cmd_churn((double)count_arg(argv[optind]));
	usage();
	return 2;
}

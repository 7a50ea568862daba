/*
 * test_tls.c: aspaced's TLS listener, authentication and tenants.  It
 * makes a CA, a server certificate and client certificates with
 * tests/daemon/certs.sh (skipped, exit 77, without the openssl command),
 * writes a token file, starts the built aspaced (path from $ASPACED or
 * argv[1]) with a Unix socket and a TLS listener on 127.0.0.1 port 0
 * (the bound port read from its stdout), and checks: a TLS 1.1 client is
 * refused; a plain TCP client is refused; mutual TLS as alice makes a
 * session that alice's other connections see and that the token client
 * bob and the Unix client cannot; a wrong or missing token gets
 * UNAUTHENTICATED and a clean close; a certificate from another CA is
 * refused; a bad token file stops start-up with file:line; 40 records
 * sent in one write() are all answered; 16 MiB of answers to a client that
 * waits before it reads arrive whole; clean TLS shutdown from the
 * client and at SIGTERM.  Loopback only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "frame.h"

#define RESP_CAP	(1u << 20)
#define NRECORDS	40	/* records sent in one write() */
#define NBIG		256	/* read_bytes of 64 KiB sent at once */
#define REGION		0x200000000000ULL
#define BOB_TOKEN	"bob-0123456789-secret"

static const char *daemon_path;
static char tmpdir[64];
static char sock_path[96];
static int tls_port;
static pid_t daemon_pid = -1;

/* --- the tiny client: TLS, plain TCP or Unix ------------------------------- */

struct client {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;		/* NULL: plain */
	struct frame_arena a;
	uint64_t	 next_id;
};

static void set_timeout(int fd)
{
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_tcp(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)tls_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	set_timeout(fd);
	return fd;
}

static int connect_unix(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	set_timeout(fd);
	return fd;
}

static void cl_init(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_id = 1;
	frame_arena_init(&c->a, FRAME_RESPONSE_BUDGET(RESP_CAP));
}

static void cl_close(struct client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	frame_arena_free(&c->a);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
	ERR_clear_error();
}

static char *tmp_file(const char *name)
{
	static char path[4][160];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

/*
 * A TLS client context trusting the test CA; cert names a key pair in
 * tmpdir (NULL: none); version, if not 0, is the only TLS version.
 */
static SSL_CTX *client_ctx(const char *cert, int version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char pem[64], key[64];

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx,
	    tmp_file("ca.pem"), NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL) {
		snprintf(pem, sizeof(pem), "%s.pem", cert);
		snprintf(key, sizeof(key), "%s.key", cert);
		assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx,
		    tmp_file(pem)), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx,
		    tmp_file(key), SSL_FILETYPE_PEM), 1);
	}
	if (version != 0) {
		/* Let this client offer old versions: the server must say no. */
		SSL_CTX_set_security_level(ctx, 0);
		assert_int_equal(SSL_CTX_set_cipher_list(ctx,
		    "DEFAULT:@SECLEVEL=0"), 1);
		assert_int_equal(SSL_CTX_set_min_proto_version(ctx, version), 1);
		assert_int_equal(SSL_CTX_set_max_proto_version(ctx, version), 1);
	}
	return ctx;
}

/* Connect with TLS; the handshake's result (1 done). */
static int cl_open_tls(struct client *c, const char *cert, int version)
{
	cl_init(c);
	c->ctx = client_ctx(cert, version);
	if ((c->fd = connect_tcp()) < 0)
		return -1;
	assert_non_null(c->ssl = SSL_new(c->ctx));
	assert_int_equal(SSL_set1_host(c->ssl, "localhost"), 1);
	SSL_set_fd(c->ssl, c->fd);
	return SSL_connect(c->ssl);
}

static bool cl_open_unix(struct client *c)
{
	cl_init(c);
	return (c->fd = connect_unix()) >= 0;
}

static bool write_all(struct client *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if (c->ssl != NULL)
			n = SSL_write(c->ssl, p, (int)len);
		else
			n = write(c->fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* 1 read, 0 EOF before any byte, -1 error or EOF midway. */
static int read_all(struct client *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (c->ssl != NULL)
			n = SSL_read(c->ssl, p + got, (int)(len - got));
		else if ((n = read(c->fd, p + got, len - got)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return got == 0 && n == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

static bool cl_send(struct client *c, Aspace__Request *r)
{
	size_t size = frame_encoded_size(&r->base);
	uint8_t *buf = malloc(size);
	bool ok = buf != NULL &&
	    frame_encode(&r->base, 0, buf, size) == (long)size &&
	    write_all(c, buf, size);

	free(buf);
	return ok;
}

static Aspace__Response *cl_recv(struct client *c)
{
	uint8_t hdr[FRAME_HEADER_SIZE], *body;
	struct frame_header h;
	Aspace__Response *resp = NULL;

	frame_arena_reset(&c->a);
	if (read_all(c, hdr, sizeof(hdr)) != 1 ||
	    frame_parse_header(hdr, sizeof(hdr), RESP_CAP, &h) != 0)
		return NULL;
	if ((body = malloc(h.length + 1)) == NULL)
		return NULL;
	if (read_all(c, body, h.length) == 1 || h.length == 0)
		frame_decode_response(&c->a, body, h.length, &resp);
	free(body);
	return resp;
}

static Aspace__Response *cl_call(struct client *c, Aspace__Request *r)
{
	Aspace__Response *resp;

	r->has_id = true;
	r->id = c->next_id++;
	if (!cl_send(c, r) || (resp = cl_recv(c)) == NULL)
		return NULL;
	return resp->id == r->id ? resp : NULL;
}

static int code_of(const Aspace__Response *r)
{
	return r == NULL ? -1 : r->status == NULL ? -2 : (int)r->status->code;
}

/* hello with token (NULL: none); the response. */
static Aspace__Response *cl_hello(struct client *c, const char *token)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;

	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	h.token = (char *)token;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	return cl_call(c, &r);
}

/* hello, OK, as tenant. */
static void hello_as(struct client *c, const char *token, const char *tenant)
{
	Aspace__Response *resp = cl_hello(c, token);

	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__OK);
	assert_non_null(resp->hello);
	assert_non_null(resp->hello->tenant);
	assert_string_equal(resp->hello->tenant, tenant);
	assert_non_null(resp->hello->limits);
}

static bool cl_session(struct client *c, uint8_t id[16])
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(c, &r);
	if (code_of(resp) != 0 || resp->session_create == NULL ||
	    resp->session_create->session.len != 16)
		return false;
	memcpy(id, resp->session_create->session.data, 16);
	return true;
}

/* How many sessions the client's tenant has; -1 on an error. */
static int cl_count(struct client *c)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionListRequest l = ASPACE__SESSION_LIST_REQUEST__INIT;
	Aspace__Response *resp;

	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &l;
	resp = cl_call(c, &r);
	if (code_of(resp) != 0 || resp->session_list == NULL)
		return -1;
	return (int)resp->session_list->n_sessions;
}

/* maps of id's task 1: the status code. */
static int cl_maps_code(struct client *c, uint8_t id[16])
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MapsRequest m = ASPACE__MAPS_REQUEST__INIT;

	r.op_case = ASPACE__REQUEST__OP_MAPS;
	r.maps = &m;
	r.has_session = true;
	r.session.data = id;
	r.session.len = 16;
	r.has_task = true;
	r.task = 1;
	return code_of(cl_call(c, &r));
}

/* The peer closed with close_notify: a clean TLS end of stream. */
static void assert_clean_eof(struct client *c)
{
	char b;

	assert_int_equal(SSL_read(c->ssl, &b, 1), 0);
	assert_int_equal(SSL_get_error(c->ssl, 0), SSL_ERROR_ZERO_RETURN);
}

/* --- the daemon -------------------------------------------------------------- */

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* Run aspaced with tokens and sock; its stdout (or stderr) on *out; the pid. */
static pid_t spawn(const char *tokens, const char *sock, int *out,
    bool want_stderr)
{
	char tok[160], sk[160], cert[160], key[160], ca[160];
	int p[2];
	pid_t pid;

	/* Copies: tmp_file()'s buffers are reused. */
	snprintf(tok, sizeof(tok), "%s", tokens);
	snprintf(sk, sizeof(sk), "%s", sock);
	snprintf(cert, sizeof(cert), "%s", tmp_file("server.pem"));
	snprintf(key, sizeof(key), "%s", tmp_file("server.key"));
	snprintf(ca, sizeof(ca), "%s", tmp_file("ca.pem"));
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(p[1], want_stderr ? 2 : 1);
		execl(daemon_path, daemon_path, "-s", sk, "-l", "127.0.0.1:0",
		    "-c", cert, "-k", key, "-a", ca, "-t", tok, "-w", "2",
		    "-f", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Read fd to its end (at most size - 1 bytes) into buf. */
static void read_to_end(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
}

static int start_daemon(void **state)
{
	char cmd[512], line[256];
	const char *srcdir = getenv("srcdir");
	FILE *f;
	int fd, rc;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aspaced-tls.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/daemon/certs.sh' '%s'",
	    srcdir != NULL ? srcdir : ".", tmpdir);
	if ((rc = system(cmd)) != 0 || !write_file(tmp_file("tokens"),
	    "# test tokens\n\n" BOB_TOKEN " bob\n"))
		return -1;
	if ((daemon_pid = spawn(tmp_file("tokens"), sock_path, &fd, false)) < 0 ||
	    (f = fdopen(fd, "r")) == NULL)
		return -1;
	/* "listening unix:...", then "listening tls://127.0.0.1:PORT" */
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "listening tls://127.0.0.1:%d", &tls_port) == 1)
			break;
	fclose(f);
	return tls_port > 0 ? 0 : -1;
}

static int stop_daemon(void **state)
{
	static const char *const files[] = {
		"ca.pem", "ca.key", "other.pem", "other.key", "server.pem",
		"server.key", "alice.pem", "alice.key", "mallory.pem",
		"mallory.key", "tokens", "tokens-bad", "sock", "sock-bad"
	};
	size_t i;

	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tmp_file(files[i]));
	rmdir(tmpdir);
	return 0;
}

/* --- the tests ------------------------------------------------------------------ */

static void test_tls11_refused(void **state)
{
	struct client c;
	unsigned long err;

	(void)state;
	/* The same client at TLS 1.2 gets in: the refusal is the server's. */
	assert_int_equal(cl_open_tls(&c, "alice", TLS1_2_VERSION), 1);
	cl_close(&c);
	assert_true(cl_open_tls(&c, "alice", TLS1_1_VERSION) <= 0);
	err = ERR_peek_last_error();
	assert_int_equal(ERR_GET_REASON(err), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	cl_close(&c);
}

static void test_plain_refused(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;
	struct client c;

	(void)state;
	cl_init(&c);
	assert_true((c.fd = connect_tcp()) >= 0);
	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	assert_true(cl_send(&c, &r));
	/* Whatever comes back (a TLS alert) is no frame, then the end. */
	while (got < sizeof(buf) &&
	    (n = read(c.fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	assert_true(got < sizeof(buf));
	assert_false(got >= 4 && memcmp(buf, "ASPC", 4) == 0);
	cl_close(&c);
}

static void test_tenants(void **state)
{
	struct client alice, alice2, bob, local;
	uint8_t id[16];
	char uid[32];

	(void)state;
	assert_int_equal(cl_open_tls(&alice, "alice", 0), 1);
	hello_as(&alice, NULL, "cert:alice");
	assert_true(cl_session(&alice, id));
	assert_int_equal(cl_count(&alice), 1);
	assert_int_equal(cl_maps_code(&alice, id), ASPACE__STATUS__CODE__OK);

	/* alice again, on another connection: hers. */
	assert_int_equal(cl_open_tls(&alice2, "alice", 0), 1);
	hello_as(&alice2, NULL, "cert:alice");
	assert_int_equal(cl_count(&alice2), 1);
	assert_int_equal(cl_maps_code(&alice2, id), ASPACE__STATUS__CODE__OK);
	cl_close(&alice2);

	/* bob by token: not his; as if there were no such session. */
	assert_int_equal(cl_open_tls(&bob, NULL, 0), 1);
	hello_as(&bob, BOB_TOKEN, "token:bob");
	assert_int_equal(cl_count(&bob), 0);
	assert_int_equal(cl_maps_code(&bob, id),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&bob);

	/* The local user on the Unix socket: not theirs either. */
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)geteuid());
	assert_true(cl_open_unix(&local));
	hello_as(&local, NULL, uid);
	assert_int_equal(cl_count(&local), 0);
	assert_int_equal(cl_maps_code(&local, id),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&local);

	assert_int_equal(cl_count(&alice), 1);
	cl_close(&alice);
}

static void test_bad_token(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;

	(void)state;
	/* Before hello: UNAUTHENTICATED, still open. */
	assert_int_equal(cl_open_tls(&c, NULL, 0), 1);
	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &(Aspace__SessionListRequest)
	    ASPACE__SESSION_LIST_REQUEST__INIT;
	assert_int_equal(code_of(cl_call(&c, &r)),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	/* A wrong token: UNAUTHENTICATED, then a clean close. */
	resp = cl_hello(&c, "bob-0123456789-secreT");
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__UNAUTHENTICATED);
	assert_null(resp->hello == NULL ? NULL : resp->hello->tenant);
	assert_clean_eof(&c);
	cl_close(&c);

	/* No certificate and no token: the same. */
	assert_int_equal(cl_open_tls(&c, NULL, 0), 1);
	assert_int_equal(code_of(cl_hello(&c, NULL)),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	assert_clean_eof(&c);
	cl_close(&c);
}

static void test_bad_cert(void **state)
{
	struct client c;

	(void)state;
	/* mallory's CA is not the daemon's: no hello answered. */
	if (cl_open_tls(&c, "mallory", 0) == 1)
		assert_null(cl_hello(&c, BOB_TOKEN));
	cl_close(&c);
}

static void test_bad_token_file(void **state)
{
	char err[1024], want[256];
	int fd, st;
	pid_t pid;

	(void)state;
	assert_true(write_file(tmp_file("tokens-bad"),
	    "# fine\n" BOB_TOKEN " bob\nlonely-token-without-tenant\n"));
	assert_true((pid = spawn(tmp_file("tokens-bad"),
	    tmp_file("sock-bad"), &fd, true)) > 0);
	read_to_end(fd, err, sizeof(err));
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	snprintf(want, sizeof(want), "%s:3: ", tmp_file("tokens-bad"));
	assert_non_null(strstr(err, want));
}

/*
 * Many TLS records in one TCP segment: the daemon reads ahead, so all of
 * them may land in OpenSSL's buffer at once, where epoll does not see
 * them; every request must still be answered.  The client's records go
 * through a buffering BIO and out in one write().
 */
static void test_records_in_one_write(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionListRequest l = ASPACE__SESSION_LIST_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;
	BIO *sock, *buf;
	bool seen[NRECORDS + 1] = { false };
	int i;

	(void)state;
	assert_int_equal(cl_open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	sock = SSL_get_wbio(c.ssl);
	assert_int_equal(BIO_up_ref(sock), 1);	/* the chain's own */
	assert_non_null(buf = BIO_new(BIO_f_buffer()));
	assert_int_equal(BIO_set_write_buffer_size(buf, 64 * 1024), 1);
	SSL_set0_wbio(c.ssl, BIO_push(buf, sock));
	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &l;
	r.has_id = true;
	for (i = 1; i <= NRECORDS; i++) {
		r.id = (uint64_t)i;
		assert_true(cl_send(&c, &r));	/* one record each */
	}
	assert_int_equal(BIO_flush(buf), 1);
	for (i = 1; i <= NRECORDS; i++) {
		assert_non_null(resp = cl_recv(&c));
		assert_int_equal(code_of(resp), 0);
		assert_true(resp->id >= 1 && resp->id <= NRECORDS);
		assert_false(seen[resp->id]);
		seen[resp->id] = true;
	}
	cl_close(&c);
}

/* A session of c with one private anonymous mapping of len bytes at
 * REGION, the first FRAME_MAX_RW_BYTES of it filled with a pattern. */
static void cl_region(struct client *c, uint8_t id[16], uint8_t *pattern)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;
	Aspace__WriteBytesRequest w = ASPACE__WRITE_BYTES_REQUEST__INIT;
	size_t i;

	assert_true(cl_session(c, id));
	r.has_session = true;
	r.session.data = id;
	r.session.len = 16;
	m.has_addr = m.has_length = m.has_prot = m.has_flags = true;
	m.addr = REGION;
	m.length = FRAME_MAX_RW_BYTES;
	m.prot = 3;			/* PROT_READ | PROT_WRITE */
	m.flags = 0x02 | 0x20 | 0x10;	/* MAP_PRIVATE | ANONYMOUS | FIXED */
	r.op_case = ASPACE__REQUEST__OP_MMAP;
	r.mmap = &m;
	assert_int_equal(code_of(cl_call(c, &r)), 0);
	for (i = 0; i < FRAME_MAX_RW_BYTES; i++)
		pattern[i] = (uint8_t)(i * 31 + 7);
	w.has_addr = w.has_data = true;
	w.addr = REGION;
	w.data.data = pattern;
	w.data.len = FRAME_MAX_RW_BYTES;
	r.op_case = ASPACE__REQUEST__OP_WRITE_BYTES;
	r.write_bytes = &w;
	assert_int_equal(code_of(cl_call(c, &r)), 0);
}

/*
 * Answers larger than the socket takes: the daemon writes what it can
 * straight away and leaves the rest, in the middle of a TLS record
 * OpenSSL must finish, to the bufferevent.  A client that reads nothing
 * for a while, then everything, gets every byte, and the connection
 * serves on.
 */
static void test_answers_over_the_socket(void **state)
{
	static uint8_t pattern[FRAME_MAX_RW_BYTES];
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ReadBytesRequest rb = ASPACE__READ_BYTES_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;
	bool seen[NBIG + 1] = { false };
	uint8_t id[16];
	int i;

	(void)state;
	assert_int_equal(cl_open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	cl_region(&c, id, pattern);
	r.has_session = r.has_id = true;
	r.session.data = id;
	r.session.len = 16;
	rb.has_addr = rb.has_length = true;
	rb.addr = REGION;
	rb.length = FRAME_MAX_RW_BYTES;
	r.op_case = ASPACE__REQUEST__OP_READ_BYTES;
	r.read_bytes = &rb;
	for (i = 1; i <= NBIG; i++) {	/* NBIG * 64 KiB of answers */
		r.id = (uint64_t)i;
		assert_true(cl_send(&c, &r));
	}
	usleep(300 * 1000);
	for (i = 1; i <= NBIG; i++) {
		assert_non_null(resp = cl_recv(&c));
		assert_int_equal(code_of(resp), 0);
		assert_true(resp->id >= 1 && resp->id <= NBIG);
		assert_false(seen[resp->id]);
		seen[resp->id] = true;
		assert_non_null(resp->read_bytes);
		assert_int_equal(resp->read_bytes->data.len, sizeof(pattern));
		assert_memory_equal(resp->read_bytes->data.data, pattern,
		    sizeof(pattern));
	}
	assert_true(cl_count(&c) >= 1);	/* it serves on */
	cl_close(&c);
}

static void test_shutdown(void **state)
{
	struct client c, d;
	int st;

	(void)state;
	/* The client closes: the daemon answers close_notify. */
	assert_int_equal(cl_open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	assert_int_equal(SSL_shutdown(c.ssl), 0);	/* ours sent */
	assert_int_equal(SSL_shutdown(c.ssl), 1);	/* theirs came */
	cl_close(&c);

	/* The daemon stops: each TLS connection gets close_notify. */
	assert_int_equal(cl_open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	assert_int_equal(cl_open_tls(&d, NULL, 0), 1);
	hello_as(&d, BOB_TOKEN, "token:bob");
	assert_int_equal(kill(daemon_pid, SIGTERM), 0);
	assert_int_equal(waitpid(daemon_pid, &st, 0), daemon_pid);
	daemon_pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_clean_eof(&c);
	assert_clean_eof(&d);
	cl_close(&c);
	cl_close(&d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls11_refused),
		cmocka_unit_test(test_plain_refused),
		cmocka_unit_test(test_tenants),
		cmocka_unit_test(test_bad_token),
		cmocka_unit_test(test_bad_cert),
		cmocka_unit_test(test_bad_token_file),
		cmocka_unit_test(test_records_in_one_write),
		cmocka_unit_test(test_answers_over_the_socket),
		cmocka_unit_test(test_shutdown),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	if (daemon_path == NULL) {
		fprintf(stderr, "test_tls: set ASPACED or pass the path\n");
		return 1;
	}
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_tls: SKIP: the openssl command is "
		    "missing (Debian package: openssl)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}

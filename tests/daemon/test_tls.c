/*
 * test_tls.c: aspaced's TLS listener, authentication and tenants.  It
 * makes a CA, a server certificate and client certificates with
 * tests/daemon/certs.sh (skipped, exit 77, without the openssl command),
 * writes a token file, starts the built aspaced (path from $ASPACED or
 * argv[1]) with a Unix socket and a TLS listener on 127.0.0.1 port 0
 * (the bound port read from its stdout), talks to it with the framed
 * client of harness.h, and checks: a TLS 1.1 client is
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
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "frame.h"
#include "harness.h"

#define RESP_CAP	(1u << 20)
#define NRECORDS	40	/* records sent in one write() */
#define NBIG		256	/* read_bytes of 64 KiB sent at once */
#define REGION		0x200000000000ULL
#define BOB_TOKEN	"bob-0123456789-secret"

static const char *daemon_path;
static struct hdaemon dmn;
static int tls_port;

/* --- the client: TLS, plain TCP or Unix ----------------------------------- */

/* Connect with TLS as cert (a key pair in the directory; NULL: none),
 * offering only version (0: any); the handshake's result (1 done). */
static int open_tls(struct client *c, const char *cert, int version)
{
	SSL_CTX *ctx = htls_ctx(dmn.tmpdir, cert, version);
	int rc;

	assert_non_null(ctx);
	rc = cl_open_tls(c, tls_port, ctx, RESP_CAP);
	assert_true(c->fd < 0 || c->ssl != NULL);	/* connected: an SSL */
	return rc;
}

/* hello, OK, as tenant. */
static void hello_as(struct client *c, const char *token, const char *tenant)
{
	Aspace__Response *resp = cl_hello_token(c, token);

	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__OK);
	assert_non_null(resp->hello);
	assert_non_null(resp->hello->tenant);
	assert_string_equal(resp->hello->tenant, tenant);
	assert_non_null(resp->hello->limits);
}

/* How many sessions the client's tenant has; -1 on an error. */
static int cl_count(struct client *c)
{
	Aspace__SessionListRequest l = ASPACE__SESSION_LIST_REQUEST__INIT;
	Aspace__Response *resp;

	resp = cl_op_in(c, NULL, 0, ASPACE__REQUEST__OP_SESSION_LIST, &l);
	if (code_of(resp) != 0 || resp->session_list == NULL)
		return -1;
	return (int)resp->session_list->n_sessions;
}

/* maps of id's task 1: the status code. */
static int cl_maps_code(struct client *c, uint8_t id[16])
{
	Aspace__MapsRequest m = ASPACE__MAPS_REQUEST__INIT;

	return code_of(cl_op_in(c, id, 1, ASPACE__REQUEST__OP_MAPS, &m));
}

/* The peer closed with close_notify: a clean TLS end of stream. */
static void assert_clean_eof(struct client *c)
{
	char b;

	assert_int_equal(SSL_read(c->ssl, &b, 1), 0);
	assert_int_equal(SSL_get_error(c->ssl, 0), SSL_ERROR_ZERO_RETURN);
}

/* --- the daemon -------------------------------------------------------------- */

/* Into argv[20]: aspaced with tokens and sock, TLS on 127.0.0.1 port 0. */
static void tls_argv(const char **argv, const char *tokens, const char *sock)
{
	const char *const a[] = {
		daemon_path, "-s", sock, "-l", "127.0.0.1:0",
		"-c", hdaemon_file(&dmn, "server.pem"),
		"-k", hdaemon_file(&dmn, "server.key"),
		"-a", hdaemon_file(&dmn, "ca.pem"),
		"-t", tokens, "-w", "2", "-f", NULL
	};

	memcpy(argv, a, sizeof(a));
}

static int start_daemon(void **state)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[20];
	int p[2];

	*state = &dmn;
	if (hdaemon_mkdir(&dmn, "tls") != 0 || hcerts(dmn.tmpdir) != 0 ||
	    !hwrite_file(hdaemon_file(&dmn, "tokens"),
	    "# test tokens\n\n" BOB_TOKEN " bob\n") ||
	    pipe2(p, O_CLOEXEC) != 0)
		return -1;
	tls_argv(argv, hdaemon_file(&dmn, "tokens"), dmn.sock);
	how.out = p[1];
	dmn.pid = hspawn(argv, &how);
	close(p[1]);
	/* "listening unix:...", then "listening tls://127.0.0.1:PORT" */
	return hdaemon_ports(p[0], &tls_port, NULL);
}

/* --- the tests ------------------------------------------------------------------ */

static void test_tls11_refused(void **state)
{
	struct client c;
	unsigned long err;

	(void)state;
	/* The same client at TLS 1.2 gets in: the refusal is the server's. */
	assert_int_equal(open_tls(&c, "alice", TLS1_2_VERSION), 1);
	cl_close(&c);
	assert_true(open_tls(&c, "alice", TLS1_1_VERSION) <= 0);
	err = ERR_peek_last_error();
	assert_int_equal(ERR_GET_REASON(err), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	cl_close(&c);
}

static void test_plain_refused(void **state)
{
	Aspace__Request r;
	Aspace__HelloRequest h;
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;
	struct client c;

	(void)state;
	cl_init(&c, RESP_CAP);
	assert_true((c.fd = hconnect_tcp(tls_port)) >= 0);
	req_hello(&r, &h, NULL);
	assert_true(cl_send_as_is(&c, &r));
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
	assert_int_equal(open_tls(&alice, "alice", 0), 1);
	hello_as(&alice, NULL, "cert:alice");
	assert_int_equal(cl_session_create(&alice, 0, id), 0);
	assert_int_equal(cl_count(&alice), 1);
	assert_int_equal(cl_maps_code(&alice, id), ASPACE__STATUS__CODE__OK);

	/* alice again, on another connection: hers. */
	assert_int_equal(open_tls(&alice2, "alice", 0), 1);
	hello_as(&alice2, NULL, "cert:alice");
	assert_int_equal(cl_count(&alice2), 1);
	assert_int_equal(cl_maps_code(&alice2, id), ASPACE__STATUS__CODE__OK);
	cl_close(&alice2);

	/* bob by token: not his; as if there were no such session. */
	assert_int_equal(open_tls(&bob, NULL, 0), 1);
	hello_as(&bob, BOB_TOKEN, "token:bob");
	assert_int_equal(cl_count(&bob), 0);
	assert_int_equal(cl_maps_code(&bob, id),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&bob);

	/* The local user on the Unix socket: not theirs either. */
	snprintf(uid, sizeof(uid), "uid:%lu", (unsigned long)geteuid());
	assert_true(cl_open_unix(&local, dmn.sock, RESP_CAP, true));
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
	assert_int_equal(open_tls(&c, NULL, 0), 1);
	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &(Aspace__SessionListRequest)
	    ASPACE__SESSION_LIST_REQUEST__INIT;
	assert_int_equal(code_of(cl_call(&c, &r)),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	/* A wrong token: UNAUTHENTICATED, then a clean close. */
	resp = cl_hello_token(&c, "bob-0123456789-secreT");
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__UNAUTHENTICATED);
	assert_null(resp->hello == NULL ? NULL : resp->hello->tenant);
	assert_clean_eof(&c);
	cl_close(&c);

	/* No certificate and no token: the same. */
	assert_int_equal(open_tls(&c, NULL, 0), 1);
	assert_int_equal(code_of(cl_hello_token(&c, NULL)),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	assert_clean_eof(&c);
	cl_close(&c);
}

static void test_bad_cert(void **state)
{
	struct client c;

	(void)state;
	/* mallory's CA is not the daemon's: no hello answered. */
	if (open_tls(&c, "mallory", 0) == 1)
		assert_null(cl_hello_token(&c, BOB_TOKEN));
	cl_close(&c);
}

static void test_bad_token_file(void **state)
{
	const char *argv[20];
	char err[1024], want[256];

	(void)state;
	assert_true(hwrite_file(hdaemon_file(&dmn, "tokens-bad"),
	    "# fine\n" BOB_TOKEN " bob\nlonely-token-without-tenant\n"));
	tls_argv(argv, hdaemon_file(&dmn, "tokens-bad"),
	    hdaemon_file(&dmn, "sock-bad"));
	/* An exit with a status, not 0 (nor a signal). */
	assert_true(hrun(argv, HRUN_STDERR, 0, err, sizeof(err)) > 0);
	snprintf(want, sizeof(want), "%s:3: ",
	    hdaemon_file(&dmn, "tokens-bad"));
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
	assert_int_equal(open_tls(&c, "alice", 0), 1);
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
		assert_true(cl_send_as_is(&c, &r));	/* one record each */
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

	assert_int_equal(cl_session_create(c, 0, id), 0);
	req_session(&r, id, 0);
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
	assert_int_equal(open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	cl_region(&c, id, pattern);
	r.has_id = true;
	req_session(&r, id, 0);
	rb.has_addr = rb.has_length = true;
	rb.addr = REGION;
	rb.length = FRAME_MAX_RW_BYTES;
	r.op_case = ASPACE__REQUEST__OP_READ_BYTES;
	r.read_bytes = &rb;
	for (i = 1; i <= NBIG; i++) {	/* NBIG * 64 KiB of answers */
		r.id = (uint64_t)i;
		assert_true(cl_send_as_is(&c, &r));
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
	assert_int_equal(open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	assert_int_equal(SSL_shutdown(c.ssl), 0);	/* ours sent */
	assert_int_equal(SSL_shutdown(c.ssl), 1);	/* theirs came */
	cl_close(&c);

	/* The daemon stops: each TLS connection gets close_notify. */
	assert_int_equal(open_tls(&c, "alice", 0), 1);
	hello_as(&c, NULL, "cert:alice");
	assert_int_equal(open_tls(&d, NULL, 0), 1);
	hello_as(&d, BOB_TOKEN, "token:bob");
	assert_int_equal(kill(dmn.pid, SIGTERM), 0);
	assert_int_equal(waitpid(dmn.pid, &st, 0), dmn.pid);
	dmn.pid = -1;
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

	if ((daemon_path = hdaemon_path(argc, argv, "test_tls")) == NULL)
		return 1;
	if (!hhave_openssl()) {
		fprintf(stderr, "test_tls: SKIP: the openssl command is "
		    "missing (Debian package: openssl)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

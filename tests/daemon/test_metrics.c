/*
 * test_metrics.c: aspaced's metrics listener and logs, against the built
 * daemon ($ASPACED or argv[1]) started once with a Unix socket, a TLS
 * listener when the openssl command can make certificates
 * (tests/daemon/certs.sh; without it the TLS figures are skipped), the
 * metrics on 127.0.0.1 port 0 (read from its "metrics http://..." line)
 * and its log to a file as the journal would see it; the framed client
 * and the daemon's plumbing are harness.h's.
 *
 * Every scrape is checked line by line against the text format 0.0.4:
 * names and label escapes, HELP and TYPE once and before their samples,
 * a family's samples together, counters named _total, histogram buckets
 * in order, cumulative, ending in +Inf equal to _count.  Then the
 * figures: between two scrapes the test does a known amount of work
 * (sessions made, refused over a quota and over --max-ram, destroyed;
 * writes to fresh pages, reads of untouched ones, accesses that end in
 * SIGSEGV; an unknown op and one with no op; a frame over the body cap;
 * connections over --max-connections; a TLS handshake that fails, a
 * token refused) and checks the deltas exactly, and against the
 * session's own counters request.  The HTTP side: 404, 405, HEAD, 400,
 * 431 and the connection cap.  The log: journal "<N>" lines, refusals
 * logged, rate-limited.  The options: --metrics-listen (none, a bare
 * port, a bad address), --log-level and --log-target.
 *
 * Here the client, the daemon and the tests; HTTP and the exposition's
 * parser and checks: test_metrics-expo.c (test_metrics.h).
 */
#include "test_metrics.h"

static const char *daemon_path;
static struct hdaemon dmn;
int metrics_port;
static int tls_port;		/* 0: no TLS listener */

/* --- the client: Unix or TLS ---------------------------------------------- */

static void open_unix(struct client *c)
{
	assert_true(cl_open_unix(c, dmn.sock, RESP_CAP, true));
}

/* Connect with TLS, trusting the test CA; the handshake's result. */
static int open_tls(struct client *c)
{
	SSL_CTX *ctx = htls_ctx(dmn.tmpdir, NULL, 0);

	assert_non_null(ctx);
	return cl_open_tls(c, tls_port, ctx, RESP_CAP);
}

/* hello with token (NULL: none): its status code. */
static int hello(struct client *c, const char *token)
{
	return code_of(cl_hello_token(c, token));
}

/* One access; the signal it ended in (0: none). */
static int cl_access(struct client *c, uint8_t id[16], uint64_t addr,
    bool write)
{
	Aspace__AccessRequest a = ASPACE__ACCESS_REQUEST__INIT;
	Aspace__Response *resp;

	a.has_addr = a.has_kind = true;
	a.addr = addr;
	a.kind = write ? ASPACE__ACCESS_KIND__ACCESS_WRITE :
	    ASPACE__ACCESS_KIND__ACCESS_READ;
	a.has_value = write;
	a.value = 0x5a;
	resp = cl_op_in(c, id, 0, ASPACE__REQUEST__OP_ACCESS, &a);
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->access);
	return resp->access->fault != NULL ? resp->access->fault->signal : 0;
}

struct counters {
	uint64_t	 minor, zero, cow, sigsegv;
};

static void cl_counters(struct client *c, uint8_t id[16], struct counters *k)
{
	Aspace__CountersRequest q = ASPACE__COUNTERS_REQUEST__INIT;
	Aspace__Response *resp;

	resp = cl_op_in(c, id, 0, ASPACE__REQUEST__OP_COUNTERS, &q);
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->counters);
	k->minor = resp->counters->minor_faults;
	k->zero = resp->counters->zero_page_maps;
	k->cow = resp->counters->cow_copies;
	k->sigsegv = resp->counters->sigsegv;
}

/* A request whose only op is field 99, unknown to the daemon (60 is mt). */
static int cl_unknown_op(struct client *c)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	ProtobufCMessageUnknownField u;
	uint8_t one = 1;

	u.tag = 99;
	u.wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
	u.len = 1;
	u.data = &one;
	r.base.n_unknown_fields = 1;
	r.base.unknown_fields = &u;
	return code_of(cl_call(c, &r));
}

static int cl_no_op(struct client *c)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;

	return code_of(cl_call(c, &r));
}

/* --- the daemon ------------------------------------------------------------- */

/* Certificates and a token file in the directory: false without
 * openssl. */
static bool make_certs(void)
{
	return hhave_openssl() && hcerts(dmn.tmpdir) == 0 &&
	    hwrite_file(hdaemon_file(&dmn, "tokens"), BOB_TOKEN " bob\n");
}

/* Into argv[40]: aspaced on listen with the metrics, the quotas the
 * tests count and the journal's log; a TLS listener if tls. */
static void metrics_argv(const char **argv, const char *listen, bool tls)
{
	const char *const base[] = {
		daemon_path, "--listen", listen,
		"--metrics-listen", "127.0.0.1:0", "--max-sessions", "3",
		"--max-ram", "64M", "--max-connections", "4",
		"--log-target", "journal", NULL
	};
	const char *const with_tls[] = {
		"--listen", "tls://127.0.0.1:0",
		"--tls-cert", hdaemon_file(&dmn, "server.pem"),
		"--tls-key", hdaemon_file(&dmn, "server.key"),
		"--tokens", hdaemon_file(&dmn, "tokens"), NULL
	};
	size_t n = sizeof(base) / sizeof(base[0]) - 1;

	memcpy(argv, base, sizeof(base));
	if (tls)
		memcpy(argv + n, with_tls, sizeof(with_tls));
}

/* Spawn aspaced, its log to the directory's "log": the read end of
 * its stdout, or -1. */
static int spawn_daemon(bool tls)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[40];
	char listen[128];
	int p[2];

	snprintf(listen, sizeof(listen), "unix:%s", dmn.sock);
	metrics_argv(argv, listen, tls);
	if ((how.err = open(hdaemon_file(&dmn, "log"),
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) == 0) {
		how.out = p[1];
		dmn.pid = hspawn(argv, &how);
		close(p[1]);
	}
	close(how.err);
	return how.out >= 0 ? p[0] : -1;
}

static int start_daemon(void **state)
{
	bool tls;
	int fd;

	*state = &dmn;
	if (hdaemon_mkdir(&dmn, "metrics") != 0)
		return -1;
	if (!(tls = make_certs()))
		fprintf(stderr, "test_metrics: no openssl: TLS figures "
		    "skipped\n");
	if ((fd = spawn_daemon(tls)) < 0)
		return -1;
	return hdaemon_ports(fd, tls ? &tls_port : NULL, &metrics_port);
}

/* The daemon's log so far (NUL-ended, static). */
static const char *log_text(void)
{
	static char buf[65536];
	FILE *f = fopen(hdaemon_file(&dmn, "log"), "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

/* Run aspaced with args (NULL-ended) for at most 2 s: its exit status
 * (-1 if it ran on and was stopped), its stdout and stderr in out. */
#define run_args(out, size, ...)	hrun((const char *const []){ \
	daemon_path, __VA_ARGS__ }, HRUN_STDOUT | HRUN_STDERR, 2, out, size)

/* --- the tests -------------------------------------------------------------- */

static void test_options(void **state)
{
	char out[2048], listen[128];

	(void)state;
	snprintf(listen, sizeof(listen), "unix:%s/other", dmn.tmpdir);
	assert_int_equal(run_args(out, sizeof(out), "--listen", listen,
	    "--log-level", "loud", NULL), 2);
	assert_non_null(strstr(out, "--log-level"));
	assert_int_equal(run_args(out, sizeof(out), "--listen", listen,
	    "--log-target", "file", NULL), 2);
	assert_non_null(strstr(out, "--log-target"));
	/* A bare IPv6 address needs its brackets: a configuration error. */
	assert_int_equal(run_args(out, sizeof(out), "--listen", listen,
	    "--metrics-listen", "::1:9464", "--log-target", "stderr",
	    NULL), 2);
	assert_non_null(strstr(out, "--metrics-listen: '::1:9464' is not "
	    "HOST:PORT"));
	/* "none": no listener, no line (stopped by its alarm). */
	assert_int_equal(run_args(out, sizeof(out), "--listen", listen,
	    "--metrics-listen", "none", NULL), -1);
	assert_non_null(strstr(out, "listening unix:"));
	assert_null(strstr(out, "metrics http"));
	/* Port 0 picks a free port, printed. */
	assert_int_equal(run_args(out, sizeof(out), "--listen", listen,
	    "--metrics-listen", "127.0.0.1:0", NULL), -1);
	assert_non_null(strstr(out, "\nmetrics http://127.0.0.1:"));
}

static void test_http(void **state)
{
	static char resp[HTTP_MAX], big[6000];
	const char *body;

	(void)state;
	assert_true(http("GET /nope HTTP/1.1\r\n\r\n", resp, sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 404);
	assert_true(http("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
	    resp, sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 405);
	assert_non_null(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
	assert_true(http("DELETE /metrics?x=1 HTTP/1.0\n\n", resp,
	    sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 405);
	assert_true(http("HEAD /metrics HTTP/1.1\r\n\r\n", resp,
	    sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 200);
	assert_non_null(body = http_body(resp));
	assert_string_equal(body, "");
	assert_non_null(strstr(resp, "\r\nContent-Length: "));
	assert_true(http("GET /metrics?name[]=x HTTP/1.1\r\n\r\n", resp,
	    sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 200);
	assert_true(http("GET /metrics\r\n\r\n", resp, sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 400);
	assert_true(http("GET /metrics HTTP/1.1\r\n bad: fold\r\n\r\n", resp,
	    sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 400);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(big + 26, 'a', sizeof(big) - 27);
	big[sizeof(big) - 1] = '\0';
	assert_true(http(big, resp, sizeof(resp)) > 0);
	assert_int_equal(http_status(resp), 431);
}

/* Content-Length matches; the cap: one over it is closed unanswered. */
static void test_http_cap(void **state)
{
	static char resp[HTTP_MAX];
	static struct expo a, b;
	int idle[HTTP_CONNS], i;
	const char *body;

	(void)state;
	scrape(&a);
	assert_true(http("GET /metrics HTTP/1.0\r\n\r\n", resp,
	    sizeof(resp)) > 0);
	assert_non_null(body = http_body(resp));
	{
		char want[64];

		snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n",
		    strlen(body));
		assert_non_null(strstr(resp, want));
	}
	for (i = 0; i < HTTP_CONNS; i++)
		assert_true((idle[i] = hconnect_tcp(metrics_port)) >= 0);
	/* Accepted in order: this one is over the cap. */
	assert_true(http("GET /metrics HTTP/1.1\r\n\r\n", resp,
	    sizeof(resp)) <= 0 || strstr(resp, "HTTP/") == NULL);
	for (i = 0; i < HTTP_CONNS; i++)
		close(idle[i]);
	scrape(&b);
	assert_true(D(&a, &b, "aspaced_limit_rejections_total"
	    "{limit=\"metrics_connections\"}") >= 1);
}

/* Sessions and requests by op and status; quotas. */
static void work_sessions(struct client *c, uint8_t id[3][16])
{
	uint8_t extra[16];
	int i;

	assert_int_equal(hello(c, NULL), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(cl_session_create(c, SESSION_RAM, id[i]), 0);
	assert_int_equal(cl_session_create(c, SESSION_RAM, extra),
	    ASPACE__STATUS__CODE__QUOTA);		/* --max-sessions 3 */
	assert_int_equal(cl_session_create(c, 128ul << 20, extra),
	    ASPACE__STATUS__CODE__QUOTA);		/* --max-ram 64M */
	assert_int_equal(cl_unknown_op(c), ASPACE__STATUS__CODE__UNIMPLEMENTED);
	assert_int_equal(cl_no_op(c), ASPACE__STATUS__CODE__BAD_REQUEST);
}

static void check_sessions(const struct expo *a, const struct expo *b)
{
	assert_true(D(a, b, "aspaced_sessions") == 3);
	assert_true(D(a, b, "aspaced_sessions_created_total") == 3);
	assert_true(D(a, b, "aspaced_sessions_ram_bytes") == 3 * SESSION_RAM);
	assert_true(D(a, b, "aspaced_limit_rejections_total"
	    "{limit=\"sessions\"}") == 1);
	assert_true(D(a, b, "aspaced_limit_rejections_total"
	    "{limit=\"ram\"}") == 1);
	assert_true(req(b, "hello", "ok") - req(a, "hello", "ok") == 1);
	assert_true(req(b, "session_create", "ok") -
	    req(a, "session_create", "ok") == 3);
	assert_true(req(b, "session_create", "quota") -
	    req(a, "session_create", "quota") == 2);
	assert_true(req(b, "invalid", "unimplemented") -
	    req(a, "invalid", "unimplemented") == 1);
	assert_true(req(b, "invalid", "bad_request") -
	    req(a, "invalid", "bad_request") == 1);
	assert_true(D(a, b, "aspaced_request_duration_seconds_count"
	    "{class=\"session\"}") == 6);
	assert_true(D(a, b, "aspaced_request_duration_seconds_count"
	    "{class=\"invalid\"}") == 2);
	assert_true(D(a, b, "aspaced_connections_accepted_total"
	    "{transport=\"unix\"}") == 1);
	assert_true(val(b, "aspaced_connections") == 1);
}

/* Faults: P fresh pages written, R read, K accesses without a VMA. */
enum { P = 8, R = 5, K = 4 };

static void work_faults(struct client *c, uint8_t id[16], uint64_t base)
{
	int i;

	for (i = 1; i <= P; i++)
		assert_int_equal(cl_access(c, id, base + (uint64_t)i * PAGE,
		    true), 0);
	for (i = 0; i < R; i++)
		assert_int_equal(cl_access(c, id, base +
		    (uint64_t)(P + 1 + i) * PAGE, false), 0);
	for (i = 0; i < K; i++)
		assert_int_equal(cl_access(c, id, PAGE, false), 11);
}

static void check_faults(const struct expo *a, const struct expo *b,
    const struct counters *ka, const struct counters *kb)
{
	assert_true(D(a, b, "aspaced_page_faults_total") == P + R);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"anonymous\"}") == P);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"zero_page\"}") == R);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"sigsegv\"}") == K);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"cow\"}") == 0);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"file_read\"}") == 0);
	assert_true(D(a, b, "aspaced_faults_total{kind=\"oom\"}") == 0);
	/* The pages written, nothing else: their PTE table was there. */
	assert_true(D(a, b, "aspaced_frames_in_use") == P);
	/* The session's own counters saw the same. */
	assert_true(kb->minor - ka->minor == P + R);
	assert_true(kb->zero - ka->zero == R);
	assert_true(kb->sigsegv - ka->sigsegv == K);
	assert_true(kb->cow == ka->cow);
	/* Requests: the accesses and one counters request (before b). */
	assert_true(req(b, "access", "ok") - req(a, "access", "ok") ==
	    P + R + K);
	assert_true(D(a, b, "aspaced_request_duration_seconds_count"
	    "{class=\"access\"}") == P + R + K);
	assert_true(D(a, b, "aspaced_request_duration_seconds_bucket"
	    "{class=\"access\",le=\"+Inf\"}") == P + R + K);
	assert_true(D(a, b, "aspaced_request_duration_seconds_sum"
	    "{class=\"access\"}") > 0);
	assert_true(req(b, "counters", "ok") - req(a, "counters", "ok") == 1);
	/* Every request is in one class of the histogram. */
	assert_true(sum(b, "aspaced_request_duration_seconds_count", "") -
	    sum(a, "aspaced_request_duration_seconds_count", "") ==
	    sum(b, "aspaced_requests_total", "") -
	    sum(a, "aspaced_requests_total", ""));
}

/* A frame over the pre-hello body cap: TOO_LARGE, closed. */
static void work_body_cap(void)
{
	struct client c;
	uint8_t hdr[FRAME_HEADER_SIZE];
	Aspace__Response *resp;

	open_unix(&c);
	assert_int_equal(frame_build_header(hdr, FRAME_MAX_BODY_PREAUTH + 1,
	    0), 0);
	assert_true(cl_write_all(&c, hdr, sizeof(hdr)));
	resp = cl_recv(&c);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__TOO_LARGE);
	assert_null(cl_recv(&c));
	cl_close(&c);
}

static void test_work(void **state)
{
	static struct expo s0, s1, s2, s3;
	struct counters ka, kb;
	struct client c;
	uint8_t id[3][16];
	uint64_t addr, base;

	(void)state;
	wait_connections(&s0, 0);
	open_unix(&c);
	work_sessions(&c, id);
	scrape(&s1);
	check_sessions(&s0, &s1);
	/* 4 MiB: a 2 MiB-aligned page inside, its PTE table made by the
	 * first write, the next pages' frames then one each. */
	assert_true((addr = cl_mmap_anon(&c, id[0], 4ul << 20)) != 0);
	base = (addr + (2ul << 20) - 1) & ~((2ul << 20) - 1);
	assert_int_equal(cl_access(&c, id[0], base, true), 0);
	cl_counters(&c, id[0], &ka);
	scrape(&s1);
	work_faults(&c, id[0], base);
	cl_counters(&c, id[0], &kb);
	scrape(&s2);
	check_faults(&s1, &s2, &ka, &kb);
	/* A destroy and a frame over the cap. */
	assert_int_equal(cl_session_destroy(&c, id[2]), 0);
	work_body_cap();
	scrape(&s3);
	assert_true(D(&s2, &s3, "aspaced_sessions") == -1);
	assert_true(D(&s2, &s3, "aspaced_sessions_destroyed_total") == 1);
	assert_true(D(&s2, &s3, "aspaced_sessions_ram_bytes") ==
	    -(double)SESSION_RAM);
	assert_true(D(&s2, &s3, "aspaced_frames_in_use") < 0);
	assert_true(D(&s2, &s3, "aspaced_limit_rejections_total"
	    "{limit=\"body\"}") == 1);
	assert_true(D(&s2, &s3, "aspaced_connections_accepted_total"
	    "{transport=\"unix\"}") == 1);
	assert_true(req(&s3, "session_destroy", "ok") -
	    req(&s2, "session_destroy", "ok") == 1);
	cl_close(&c);
}

/* Over --max-connections: refused, counted, logged at most a burst. */
static void test_connection_limit(void **state)
{
	enum { REFUSED = 2 * ABUSE_BURST };
	static struct expo a, b;
	struct client c[MAX_CONNS], x;
	struct timespec t0, t1;
	int i, lines;

	(void)state;
	wait_connections(&a, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < MAX_CONNS; i++) {
		open_unix(&c[i]);
		assert_int_equal(hello(&c[i], NULL), 0);
	}
	for (i = 0; i < REFUSED; i++) {
		open_unix(&x);
		assert_int_equal(code_of(cl_recv(&x)),
		    ASPACE__STATUS__CODE__QUOTA);
		assert_null(cl_recv(&x));
		cl_close(&x);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	scrape(&b);
	assert_true(val(&b, "aspaced_connections") == MAX_CONNS);
	assert_true(D(&a, &b, "aspaced_limit_rejections_total"
	    "{limit=\"connections\"}") == REFUSED);
	assert_true(D(&a, &b, "aspaced_connections_accepted_total"
	    "{transport=\"unix\"}") == MAX_CONNS + REFUSED);
	lines = count(log_text(), ": refused: over 4 connections\n");
	assert_true(lines >= 1);
	/* Within one 5 s window, one burst at most. */
	if (t1.tv_sec - t0.tv_sec < 4)
		assert_true(lines <= ABUSE_BURST);
	assert_non_null(strstr(log_text(), "<4>uid:"));
	for (i = 0; i < MAX_CONNS; i++)
		cl_close(&c[i]);
}

/* A plain client on the TLS port, a refused token, an accepted one. */
static void test_tls(void **state)
{
	static struct expo a, b;
	struct client c;
	char buf[64];
	int fd;

	(void)state;
	if (tls_port == 0)
		skip();
	wait_connections(&a, 0);
	assert_true((fd = hconnect_tcp(tls_port)) >= 0);
	assert_true(write(fd, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	assert_int_equal(open_tls(&c), 1);
	assert_int_equal(hello(&c, "wrong-token"),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	cl_close(&c);
	assert_int_equal(open_tls(&c), 1);
	assert_int_equal(hello(&c, BOB_TOKEN), 0);
	cl_close(&c);
	wait_connections(&b, 0);
	assert_true(D(&a, &b, "aspaced_connections_accepted_total"
	    "{transport=\"tls\"}") == 3);
	assert_true(D(&a, &b, "aspaced_tls_handshakes_total") == 2);
	assert_true(D(&a, &b, "aspaced_tls_handshake_failures_total") == 1);
	assert_true(D(&a, &b, "aspaced_auth_failures_total") == 1);
	assert_true(req(&b, "hello", "unauthenticated") -
	    req(&a, "hello", "unauthenticated") == 1);
	assert_non_null(strstr(log_text(), ": hello refused: unknown token\n"));
	assert_non_null(strstr(log_text(), ": TLS handshake failed: "));
}

/* Every line of the log is a journal line. */
static void test_log_lines(void **state)
{
	const char *p = log_text();

	(void)state;
	assert_true(*p != '\0');
	for (; *p != '\0'; p = strchr(p, '\n') + 1) {
		assert_true(p[0] == '<' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] == '>');
		assert_non_null(strchr(p, '\n'));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_cap),
		cmocka_unit_test(test_work),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_log_lines),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_metrics")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

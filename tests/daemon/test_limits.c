/*
 * test_limits.c: aspaced's options and limits, against the built daemon
 * ($ASPACED or argv[1]) started per test on Unix sockets in a fresh
 * temporary directory, with the framed client of harness.h: the long
 * options (and bad ones: exit 2 with a message); --max-connections
 * (QUOTA, closed, others served);
 * --idle-timeout (QUOTA, closed, a busy client kept); --max-inflight
 * (a deep pipeline answered whole and in order); --ram-total (QUOTA for
 * a session beyond it, served again after a destroy); accept back-off
 * when the daemon is out of descriptors; and the pool: with one worker a
 * long run_trace on one connection does not delay a small request on
 * another.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "frame.h"
#include "harness.h"

#define RESP_CAP	(8u << 20)

static const char *daemon_path;
static struct hdaemon dmn;

/* --- the client ----------------------------------------------------------- */

static bool cl_open(struct client *c)
{
	return cl_open_unix(c, dmn.sock, RESP_CAP, false);
}

/* hello: its status code. */
static int hello(struct client *c)
{
	return code_of(cl_hello_token(c, NULL));
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the daemon ----------------------------------------------------------- */

/* argv: aspaced --listen unix:SOCK (listen, 128 bytes) --foreground and
 * the options (NULL-ended). */
static void long_argv(const char **argv, char *listen,
    const char *const *args)
{
	int argc = 0;

	snprintf(listen, 128, "unix:%s", dmn.sock);
	argv[argc++] = daemon_path;
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--foreground";
	while (argc < 39 && *args != NULL)
		argv[argc++] = *args++;
	argv[argc] = NULL;
}

/* Start aspaced with long_argv, its stdout to /dev/null; nofile > 0 sets
 * its RLIMIT_NOFILE.  0, or -1 if it never listened. */
static int start_argv(rlim_t nofile, const char *const *args)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[40];
	char listen[128];
	int rc = -1;

	how.nofile = nofile;
	if ((how.out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (hdaemon_mkdir(&dmn, "limits") == 0) {
		long_argv(argv, listen, args);
		rc = hdaemon_exec(&dmn, argv, &how);
	}
	close(how.out);
	return rc;
}

#define start_with(nofile, ...)	\
	start_argv(nofile, (const char *const []){ __VA_ARGS__ })

/* Run aspaced with args (NULL-ended); its exit status, stderr in err. */
#define run_args(err, size, ...)	hrun((const char *const []){ \
	daemon_path, __VA_ARGS__ }, HRUN_STDERR, 0, err, size)

/* --- options ---------------------------------------------------------------- */

static void test_bad_options(void **state)
{
	char err[1024];

	(void)state;
	assert_int_equal(run_args(err, sizeof(err), "--listen", "unix:/x",
	    "--config", "/nonexistent/aspaced.conf", NULL), 2);
	assert_non_null(strstr(err, "/nonexistent/aspaced.conf: No such"));
	assert_int_equal(run_args(err, sizeof(err), "--listen", "ftp://x",
	    NULL), 2);
	assert_non_null(strstr(err, "--listen"));
	assert_int_equal(run_args(err, sizeof(err), "--config", "/dev/null",
	    "--listen", "tls://127.0.0.1:0", NULL), 2);
	assert_non_null(strstr(err, "--listen: a tls:// listener needs "
	    "tls-cert"));
	assert_int_equal(run_args(err, sizeof(err), "--listen", "unix:/x",
	    "--max-inflight", "0", NULL), 2);
	assert_non_null(strstr(err, "--max-inflight"));
	assert_int_equal(run_args(err, sizeof(err), "--listen", "unix:/x",
	    "--idle-timeout", "soon", NULL), 2);
	assert_non_null(strstr(err, "--idle-timeout"));
	assert_int_equal(run_args(err, sizeof(err), "--listen", "unix:/x",
	    "--no-such-option", NULL), 2);
	assert_int_equal(run_args(err, sizeof(err), "--listen", "unix:/x",
	    "extra", NULL), 2);
}

/* Two --listen, long options: both listen and serve. */
static void test_long_options(void **state)
{
	char second[128], url[140];
	struct client a, b;
	int i;

	(void)state;
	/* A listener that cannot bind: a message, exit 1. */
	assert_int_equal(run_args(url, sizeof(url), "--listen",
	    "unix:/nonexistent-dir/s", "--workers", "1", NULL), 1);
	assert_non_null(strstr(url, "cannot listen"));
	snprintf(second, sizeof(second), "/tmp/aspaced-limits2.%ld.sock",
	    (long)getpid());
	snprintf(url, sizeof(url), "unix:%s", second);
	assert_int_equal(start_with(0, "--workers", "1",
	    "--max-connections", "8", "--idle-timeout", "30",
	    "--max-inflight", "4", "--ram-total", "1G", "--pool-threads", "2",
	    "--accept-backoff", "50", "--listen", url, NULL), 0);
	assert_true(cl_open(&a));
	/* The listeners are bound one after the other: the first may
	 * answer before the second exists. */
	for (i = 0; i < 200 && access(second, F_OK) != 0; i++)
		usleep(10000);
	assert_true(cl_open_unix(&b, second, RESP_CAP, false));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(hello(&b), 0);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(hdaemon_stop(&dmn), 0);
	assert_int_equal(access(second, F_OK), -1);
}

/* --- limits ----------------------------------------------------------------- */

static void test_max_connections(void **state)
{
	struct client a, b, c, d;
	Aspace__Response *resp;
	int i, rc = -1;

	(void)state;
	assert_int_equal(start_with(0, "--max-connections", "2", NULL), 0);
	assert_true(cl_open(&a));
	assert_int_equal(hello(&a), 0);
	/* start_with()'s readiness probe counts until the daemon sees it
	 * close, so the second connection may have to try again. */
	for (i = 0; i < 100 && rc != 0; i++) {
		if (i > 0) {
			cl_close(&b);
			usleep(20000);
		}
		assert_true(cl_open(&b));
		rc = hello(&b);
	}
	assert_int_equal(rc, 0);
	rc = -1;
	/* The third is told, then closed. */
	assert_true(cl_open(&c));
	resp = cl_recv(&c);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "too many connections"));
	assert_null(cl_recv(&c));
	cl_close(&c);
	/* The others are still served. */
	assert_int_equal(hello(&a), 0);
	assert_int_equal(hello(&b), 0);
	/* One gone, a new one gets in. */
	cl_close(&b);
	for (i = 0; i < 100 && rc != 0; i++) {
		usleep(20000);
		assert_true(cl_open(&d));
		rc = hello(&d);
		cl_close(&d);
	}
	assert_int_equal(rc, 0);
	cl_close(&a);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

static void test_idle_timeout(void **state)
{
	struct client idle, busy;
	Aspace__Response *resp;
	int i;

	(void)state;
	assert_int_equal(start_with(0, "--idle-timeout", "0.3", NULL), 0);
	assert_true(cl_open(&idle));
	assert_true(cl_open(&busy));
	assert_int_equal(hello(&idle), 0);
	for (i = 0; i < 10; i++) {	/* 1 s of a busy client */
		assert_int_equal(hello(&busy), 0);
		usleep(100000);
	}
	resp = cl_recv(&idle);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "idle"));
	assert_null(cl_recv(&idle));
	assert_int_equal(hello(&busy), 0);
	cl_close(&idle);
	cl_close(&busy);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* A pipeline much deeper than --max-inflight: every answer, in order,
 * even from a client that reads only once it has sent them all. */
static void test_max_inflight(void **state)
{
	enum { N = 200 };
	struct client a, b;
	Aspace__Request r;
	Aspace__HelloRequest h;
	Aspace__Response *resp;
	int i;

	(void)state;
	assert_int_equal(start_with(0, "--max-inflight", "2", "--workers", "1",
	    NULL), 0);
	assert_true(cl_open(&a));
	assert_true(cl_open(&b));
	assert_int_equal(hello(&a), 0);
	req_hello(&r, &h, NULL);
	for (i = 0; i < N; i++)
		assert_true(cl_send(&a, &r, NULL));
	assert_int_equal(hello(&b), 0);	/* others are served */
	for (i = 0; i < N; i++) {
		resp = cl_recv(&a);
		assert_int_equal(code_of(resp), 0);
		assert_int_equal(resp->id, (uint64_t)i + 2);
	}
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

static void test_ram_total(void **state)
{
	struct client a, b;
	uint8_t id[4][16];
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	(void)state;
	assert_int_equal(start_with(0, "--ram-total", "3M", NULL), 0);
	assert_true(cl_open(&a));
	assert_true(cl_open(&b));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(hello(&b), 0);
	assert_int_equal(cl_session_create(&a, 1 << 20, id[0]), 0);
	assert_int_equal(cl_session_create(&b, 1 << 20, id[1]), 0);
	assert_int_equal(cl_session_create(&a, 1 << 20, id[2]), 0);
	assert_int_equal(cl_session_create(&b, 1 << 20, id[3]),
	    ASPACE__STATUS__CODE__QUOTA);
	/* Nor one of the default size (1 GiB). */
	s.has_ram_bytes = false;
	aspace__request__init(&r);
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(&a, &r);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "RAM"));
	assert_int_equal(hello(&b), 0);
	assert_int_equal(cl_session_destroy(&a, id[0]), 0);
	assert_int_equal(cl_session_create(&b, 1 << 20, id[3]), 0);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* Out of descriptors: the daemon pauses accepting, then serves again. */
static void test_accept_backoff(void **state)
{
	enum { N = 40 };
	struct client c[N], late;
	int i, rc = -1;

	(void)state;
	assert_int_equal(start_with(24, "--accept-backoff", "20",
	    "--pool-threads", "1", "--workers", "1", NULL), 0);
	for (i = 0; i < N; i++)
		assert_true(cl_open(&c[i]));	/* the backlog takes them */
	usleep(200000);
	assert_int_equal(hello(&c[0]), 0);
	for (i = 0; i < N; i++)
		cl_close(&c[i]);
	for (i = 0; i < 200 && rc != 0; i++) {
		usleep(20000);
		if (!cl_open(&late)) {
			cl_close(&late);
			continue;
		}
		rc = readable(late.fd, 0) ? -1 : hello(&late);
		cl_close(&late);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- the pool --------------------------------------------------------------- */

static void test_long_trace_does_not_stall(void **state)
{
	/* Work, not output: the output is capped, and a trace stops there. */
	enum { REPS = 300 };
	struct client a, b;
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;
	Aspace__Response *resp;
	char *text, *p;
	double t0, t_small, t_long;
	int i;

	(void)state;
	assert_int_equal(start_with(0, "--workers", "1", "--max-body", "16M",
	    NULL), 0);
	assert_non_null(text = malloc(REPS * 120 + 1));
	for (p = text, i = 0; i < REPS; i++)
		p += sprintf(p, "mmap 0x200000000000 64M rw- "
		    "private,anon,fixed,populate\n"
		    "munmap 0x200000000000 64M\n");
	assert_true(cl_open(&a));
	assert_true(cl_open(&b));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(hello(&b), 0);
	t.has_text = true;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r.run_trace = &t;
	t0 = now();
	assert_true(cl_send(&a, &r, NULL));
	usleep(50000);
	assert_int_equal(hello(&b), 0);
	t_small = now() - t0;
	assert_false(readable(a.fd, 0));	/* the long one still runs */
	resp = cl_recv(&a);
	t_long = now() - t0;
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->run_trace);
	print_message("small request: %.3f s, long run_trace: %.3f s\n",
	    t_small, t_long);
	assert_true(t_small < t_long);
	free(text);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_long_options),
		cmocka_unit_test(test_max_connections),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_max_inflight),
		cmocka_unit_test(test_ram_total),
		cmocka_unit_test(test_accept_backoff),
		cmocka_unit_test(test_long_trace_does_not_stall),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_limits")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

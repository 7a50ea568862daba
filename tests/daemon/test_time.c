/*
 * test_time.c: time as aspaced accounts it, against the built daemon
 * ($ASPACED or argv[1]) started per test on a Unix socket in a fresh
 * temporary directory:
 *
 * - a trace bomb (populate lines of large mappings) over
 *   --request-cpu-limit is stopped with QUOTA, its output up to the line
 *   where it stopped, and stopped_at; --trace-line-limit likewise;
 * - a client that sends a long trace and goes: the daemon stops working
 *   on it (with one pool thread, another request is served at once);
 * - fair shares: two tenants (uids 1001 and 1002, children of the test)
 *   run trace bombs with --pool-threads 2 while a third (the test, uid
 *   0) times a small trace: within twice its time on an idle daemon
 *   (and one bomb line, which is not cut);
 * - the drain's deadline (SIGTERM, --drain-timeout) stops a running
 *   trace, and the daemon exits at once.
 *
 * TIME_SOAK=1 in the environment makes the bombs and the rounds longer
 * (tests/daemon/soak-time.sh, make soak).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "frame.h"
#include "harness.h"

#define RESP_CAP	(8u << 20)

static const char *daemon_path;
static struct hdaemon dmn;
static bool soak;
static pid_t kids[2] = { -1, -1 };	/* test_fair_shares's bombers */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start aspaced on dmn.sock with the options (NULL-ended). */
static int start_argv(const char *const *args)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[40];
	char listen[128];
	int argc = 0, rc = -1;

	if ((how.out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (hdaemon_mkdir(&dmn, "time") == 0) {
		snprintf(listen, sizeof(listen), "unix:%s", dmn.sock);
		argv[argc++] = daemon_path;
		argv[argc++] = "--config";
		argv[argc++] = "/dev/null";
		argv[argc++] = "--state-directory";
		argv[argc++] = "none";
		argv[argc++] = "--listen";
		argv[argc++] = listen;
		argv[argc++] = "--foreground";
		while (argc < 39 && *args != NULL)
			argv[argc++] = *args++;
		argv[argc] = NULL;
		rc = hdaemon_exec(&dmn, argv, &how);
	}
	close(how.out);
	return rc;
}

#define start_with(...)	start_argv((const char *const []){ __VA_ARGS__ })

/* A bomb: n pairs of a populated mapping of mib MiB and its munmap. */
static char *bomb(int n, int mib)
{
	char *text = malloc((size_t)n * 120 + 1), *p = text;
	int i;

	if (text == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p += sprintf(p, "mmap 0x200000000000 %dM rw- "
		    "private,anon,fixed,populate\nmunmap 0x200000000000 %dM\n",
		    mib, mib);
	return text;
}

/*
 * The fairness test's traces: n pairs of a populated 64 KiB mapping and
 * its munmap.  Each line costs the CPU, not the memory bandwidth (a 64 MiB
 * populate is memory-bound, and two tenants' bombs of those slow the
 * third tenant down through the memory bus, which no scheduler of slots
 * can help).
 */
static char *cpu_trace(int n)
{
	char *text = malloc((size_t)n * 120 + 1), *p = text;
	int i;

	if (text == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		p += sprintf(p, "mmap 0x200000000000 64K rw- "
		    "private,anon,fixed,populate\nwrite 0x200000001000 7\n"
		    "munmap 0x200000000000 64K\n");
	return text;
}

/* A small trace: a few dozen lines of a few milliseconds in all. */
static const char *small_trace(void)
{
	static char text[32768];
	char *p = text;
	int i;

	if (text[0] != '\0')
		return text;
	for (i = 0; i < 150; i++)
		p += sprintf(p, "mmap 0x200000000000 4M rw- "
		    "private,anon,fixed,populate\nwrite 0x200000001000 7\n"
		    "munmap 0x200000000000 4M\n");
	return text;
}

static void trace_req(Aspace__Request *r, Aspace__RunTraceRequest *t,
    const char *text)
{
	aspace__request__init(r);
	aspace__run_trace_request__init(t);
	t->has_text = true;
	t->text.data = (uint8_t *)text;
	t->text.len = strlen(text);
	r->op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r->run_trace = t;
}

static Aspace__Response *run_text(struct client *c, const char *text)
{
	Aspace__Request r;
	Aspace__RunTraceRequest t;

	trace_req(&r, &t, text);
	return cl_call(c, &r);
}

static bool open_hello(struct client *c)
{
	return cl_open_unix(c, dmn.sock, RESP_CAP, true) && cl_hello(c);
}

/* --- (a) the CPU budget and the line limit ----------------------------------- */

static void test_cpu_budget(void **state)
{
	struct client c;
	Aspace__Response *resp;
	char *text;
	double t0, t;

	(void)state;
	assert_int_equal(start_with("--request-cpu-limit", "300ms",
	    "--max-body", "16M", NULL), 0);
	assert_non_null(text = bomb(soak ? 20000 : 4000, 64));
	assert_true(open_hello(&c));
	t0 = now();
	resp = run_text(&c, text);
	t = now() - t0;
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	print_message("bomb stopped after %.3f s: %s\n", t,
	    resp->status->message);
	assert_non_null(strstr(resp->status->message, "CPU budget"));
	/* The output so far, up to the line it stopped at. */
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_RUN_TRACE);
	assert_true(resp->run_trace->has_stopped_at);
	assert_true(resp->run_trace->stopped_at >= 2);
	assert_true(resp->run_trace->stopped_at < 8000);
	assert_true(resp->run_trace->output.len > 0);
	assert_memory_equal(resp->run_trace->output.data,
	    "1: = 0x200000000000\n", 20);
	assert_true(t < 5.0);
	/* The daemon goes on serving. */
	assert_int_equal(code_of(run_text(&c, "window 0x200000000000 1M\n")),
	    0);
	cl_close(&c);
	free(text);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

static void test_line_limit(void **state)
{
	struct client c;
	Aspace__Response *resp;

	(void)state;
	assert_int_equal(start_with("--trace-line-limit", "3", NULL), 0);
	assert_true(open_hello(&c));
	resp = run_text(&c, "window 0x200000000000 1M\n"
	    "mmap 0x200000000000 4K rw- private,anon,fixed\n"
	    "write 0x200000000000 1\nread 0x200000000000\n"
	    "read 0x200000000000\n");
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "line limit"));
	assert_non_null(strstr(resp->status->message, "at line 4"));
	assert_int_equal(resp->run_trace->stopped_at, 4);
	assert_int_equal(resp->run_trace->output.len,
	    strlen("1: = 0\n2: = 0x200000000000\n3: = ok\n"));
	assert_memory_equal(resp->run_trace->output.data,
	    "1: = 0\n2: = 0x200000000000\n3: = ok\n",
	    resp->run_trace->output.len);
	/* Within the limit: as before. */
	assert_int_equal(code_of(run_text(&c, "window 0x200000000000 1M\n")),
	    0);
	cl_close(&c);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- (b) a client gone ------------------------------------------------------- */

static void test_client_gone(void **state)
{
	struct client a, b;
	Aspace__Request r;
	Aspace__RunTraceRequest t;
	Aspace__Response *resp;
	char *text;
	double t0, t_free, t_small;

	(void)state;
	/* One pool thread: while the bomb runs, nothing else long does. */
	assert_int_equal(start_with("--pool-threads", "1", "--workers", "1",
	    "--request-cpu-limit", "60s", "--max-body", "16M", NULL), 0);
	assert_non_null(text = bomb(4000, 64));
	assert_true(open_hello(&a));
	assert_true(open_hello(&b));
	t0 = now();
	resp = run_text(&b, small_trace());
	t_small = now() - t0;
	assert_int_equal(code_of(resp), 0);
	trace_req(&r, &t, text);
	assert_true(cl_send(&a, &r, NULL));
	usleep(300000);
	cl_close(&a);		/* gone, the bomb still running */
	t0 = now();
	resp = run_text(&b, small_trace());
	t_free = now() - t0;
	assert_int_equal(code_of(resp), 0);
	print_message("small trace: %.3f s alone, %.3f s after its "
	    "neighbour's client went\n", t_small, t_free);
	assert_true(t_free < 1.0 + 2 * t_small);
	cl_close(&b);
	free(text);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- (c) fair shares ------------------------------------------------------------ */

/* In a child as uid: run bombs until killed; exit status on failure. */
static int bomber(uid_t uid, const char *text)
{
	struct client c;

	if (setgid(uid) != 0 || setuid(uid) != 0)
		_exit(2);
	if (!cl_open_unix(&c, dmn.sock, RESP_CAP, false) || !cl_hello(&c))
		_exit(3);
	for (;;)
		if (run_text(&c, text) == NULL)
			_exit(4);
}

/* The median of n values (n odd), sorting them in place. */
static double median(double *v, int n)
{
	double x;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				x = v[i];
				v[i] = v[j];
				v[j] = x;
			}
	return v[n / 2];
}

/* The median time of three runs of text (1e9: one failed). */
static double median3(struct client *c, const char *text)
{
	double t[3], x;
	int i;

	for (i = 0; i < 3; i++) {
		x = now();
		if (code_of(run_text(c, text)) != 0)
			return 1e9;
		t[i] = now() - x;
	}
	return median(t, 3);
}

/*
 * How much slower than alone the third tenant may be: 2, or 5 where this
 * test and its daemon are built with ASan; 0 (only: every one of its
 * traces is answered, none starves) against check-tsan's ThreadSanitizer
 * daemon (ASPACE_SLOW_DAEMON), where this test looks for races and the
 * timing means nothing.
 */
static double fair_factor(void)
{
	if (getenv("ASPACE_SLOW_DAEMON") != NULL)
		return 0;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 5;
#else
	return 2;
#endif
}

/* One measurement, on a connection of its own: the third tenant's trace
 * alone, then beside two tenants' bombs (the median of rounds); the
 * bombers end with it.  A trace not answered makes its figure 1e9. */
static void fair_attempt(const char *text, const char *small, int rounds,
    double *alone, double *loaded)
{
	double per_round[21];
	struct client cl, *c = &cl;
	int i, st;

	assert_true(open_hello(c));
	(void)median3(c, small);	/* warm up */
	*alone = median3(c, small);
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0)
			_exit(bomber((uid_t)(1001 + i), text));
	}
	usleep(500000);		/* both bombs running */
	for (i = 0; i < rounds; i++) {
		per_round[i] = median3(c, small);
		usleep(100000);
	}
	*loaded = median(per_round, rounds);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(kids[i], &st, WNOHANG), 0); /* alive */
		kill(kids[i], SIGKILL);
		waitpid(kids[i], &st, 0);
		kids[i] = -1;
	}
	cl_close(c);
}

/*
 * The third tenant's trace beside two tenants' bombs takes at most twice
 * its time alone, but for the bomb's line it may wait out.  The host's
 * other load (a parallel make check, other builds on two cores) slows
 * the measurement itself, not the pool's fairness, and may run out the
 * harness's socket timeout: up to three attempts, each measured afresh
 * on a connection of its own, and one with every trace answered within
 * the bound passes; a pool that is unfair, or starves a tenant, fails all
 * three.
 */
static void test_fair_shares(void **state)
{
	struct client c;
	char *text, *one, *small;
	double alone = 0, loaded = 1e9, line;
	int attempt, rounds = soak ? 21 : 5;

	(void)state;
	if (geteuid() != 0)
		skip();		/* tenants are uids: root makes them */
	assert_int_equal(start_with("--pool-threads", "2", "--workers", "2",
	    "--request-cpu-limit", "120s", "--max-body", "16M", NULL), 0);
	assert_non_null(text = cpu_trace(100000));
	/* Against check-tsan's daemon, a fifth, to be answered within the
	 * harness's socket timeout under load. */
	assert_non_null(small = cpu_trace(getenv("ASPACE_SLOW_DAEMON") !=
	    NULL ? 150 : 1500));
	assert_true(open_hello(&c));
	/* A line is not cut: a bomb's line, the most a slot waits. */
	assert_non_null(one = cpu_trace(1));
	line = now();
	assert_int_equal(code_of(run_text(&c, one)), 0);
	line = now() - line;
	free(one);
	cl_close(&c);
	for (attempt = 1; attempt <= 3; attempt++) {
		fair_attempt(text, small, rounds, &alone, &loaded);
		print_message("attempt %d: third tenant's trace: %.1f ms alone, "
		    "%.1f ms beside two tenants' bombs (pool-threads 2; a "
		    "bomb's line %.1f ms)\n", attempt, alone * 1e3,
		    loaded * 1e3, line * 1e3);
		if (alone < 1e9 && loaded < 1e9 && (fair_factor() == 0 ||
		    loaded <= fair_factor() * alone + line + 0.005))
			break;
	}
	free(small);
	free(text);
	/* An instrumented daemon shares the host's memory bandwidth so
	 * badly between the three tenants that less can be asked of it
	 * (fair_factor()); the 2x is checked in plain builds (make
	 * distcheck). */
	assert_true(alone < 1e9 && loaded < 1e9);  /* every trace answered */
	if (fair_factor() > 0)
		assert_true(loaded <= fair_factor() * alone + line + 0.005);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- (d) the drain's deadline ------------------------------------------------ */

static void test_drain_deadline(void **state)
{
	struct client a;
	Aspace__Request r;
	Aspace__RunTraceRequest t;
	Aspace__Response *resp;
	char *text;
	double t0, t_exit;
	pid_t pid;
	int st = -1;

	(void)state;
	assert_int_equal(start_with("--pool-threads", "1",
	    "--request-cpu-limit", "60s", "--drain-timeout", "300ms",
	    "--max-body", "16M", NULL), 0);
	assert_non_null(text = bomb(4000, 64));
	assert_true(open_hello(&a));
	trace_req(&r, &t, text);
	assert_true(cl_send(&a, &r, NULL));
	usleep(300000);
	t0 = now();
	assert_int_equal(kill(dmn.pid, SIGTERM), 0);
	/* Answered CANCELLED with the output so far, or closed. */
	resp = cl_recv(&a);
	if (resp != NULL) {
		assert_int_equal(code_of(resp),
		    ASPACE__STATUS__CODE__CANCELLED);
		assert_true(resp->run_trace->stopped_at > 1);
	}
	while ((pid = waitpid(dmn.pid, &st, WNOHANG)) == 0 &&
	    now() - t0 < 20)
		usleep(10000);
	t_exit = now() - t0;
	print_message("SIGTERM to exit with a trace running: %.3f s "
	    "(drain-timeout 0.3 s)%s\n", t_exit,
	    resp != NULL ? ", answered CANCELLED" : "");
	assert_int_equal(pid, dmn.pid);
	dmn.pid = -1;
	assert_true(WIFEXITED(st));
	assert_true(t_exit < 3.0);
	cl_close(&a);
	free(text);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- cleaning up --------------------------------------------------------------- */

/*
 * After each test, passed or not: a failed assertion longjmps out of the
 * test past its own hdaemon_stop() and kill()s, and the bombers and the
 * daemon (busy with their bombs) would outlive the test run.  After a
 * test that passed there is nothing left to stop.  The test's verdict is
 * its own: this teardown never fails it.
 */
static int stop_all(void **state)
{
	int i, st;

	(void)state;
	for (i = 0; i < 2; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], &st, 0);
			kids[i] = -1;
		}
	(void)hdaemon_stop(&dmn);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cpu_budget, stop_all),
		cmocka_unit_test_teardown(test_line_limit, stop_all),
		cmocka_unit_test_teardown(test_client_gone, stop_all),
		cmocka_unit_test_teardown(test_fair_shares, stop_all),
		cmocka_unit_test_teardown(test_drain_deadline, stop_all),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_time")) == NULL)
		return 1;
	soak = getenv("TIME_SOAK") != NULL && atoi(getenv("TIME_SOAK")) > 0;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

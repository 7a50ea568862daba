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

/* run_trace text in session id; the response. */
static Aspace__Response *run_in(struct client *c, uint8_t *id,
    const char *text)
{
	Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;

	t.has_text = true;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	return cl_op_in(c, id, 0, ASPACE__REQUEST__OP_RUN_TRACE, &t);
}

/* The output of run_in(), NUL-ended in buf; false if not OK. */
static bool run_out(struct client *c, uint8_t *id, const char *text,
    char *buf, size_t size)
{
	Aspace__Response *resp = run_in(c, id, text);
	size_t n;

	if (code_of(resp) != 0 || resp->run_trace == NULL)
		return false;
	n = resp->run_trace->output.len < size - 1 ?
	    resp->run_trace->output.len : size - 1;
	memcpy(buf, resp->run_trace->output.data, n);
	buf[n] = '\0';
	return true;
}

/* A trace: a 2 MiB mapping, then a write to each of its first n pages. */
static char *writes(int n)
{
	char *t = malloc((size_t)n * 40 + 64), *p;
	int i;

	assert_non_null(p = t);
	p += sprintf(p, "mmap 0x200000000000 2M rw- private,anon,fixed\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "write 0x%lx 1\n",
		    0x200000000000UL + (unsigned long)i * 4096);
	return t;
}

/* session_list: the caller's one session with id, its SessionInfo. */
static Aspace__SessionInfo *info_of(struct client *c, const uint8_t *id)
{
	Aspace__SessionListRequest sl = ASPACE__SESSION_LIST_REQUEST__INIT;
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__Response *resp;
	size_t i;

	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &sl;
	resp = cl_call(c, &r);
	assert_int_equal(code_of(resp), 0);
	for (i = 0; i < resp->session_list->n_sessions; i++)
		if (memcmp(resp->session_list->sessions[i]->session.data, id,
		    16) == 0)
			return resp->session_list->sessions[i];
	fail_msg("no such session");
	return NULL;
}

/*
 * --ram-total caps what the sessions hold (their charge), not the sum of
 * their RAM sizes: a session larger than all of it is refused, and once
 * the sessions' pages have spent it, faults get out of memory and new
 * sessions QUOTA, until a session is destroyed.
 */
static void test_ram_total(void **state)
{
	struct client a, b;
	uint8_t id[3][16];
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;
	char *w300, *w500, out[1 << 16];

	(void)state;
	assert_int_equal(start_with(0, "--ram-total", "3M", NULL), 0);
	assert_true(cl_open(&a));
	assert_true(cl_open(&b));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(hello(&b), 0);
	assert_int_equal(cl_session_create(&a, 4 << 20, id[0]),
	    ASPACE__STATUS__CODE__QUOTA);
	/* Nor one of the default size (1 GiB). */
	s.has_ram_bytes = false;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(&a, &r);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "RAM"));
	/* Two sessions of 2 MiB: RAM sizes over 3M together, but served. */
	assert_int_equal(cl_session_create(&a, 2 << 20, id[0]), 0);
	assert_int_equal(cl_session_create(&b, 2 << 20, id[1]), 0);
	w300 = writes(300);
	w500 = writes(500);
	assert_true(run_out(&a, id[0], w300, out, sizeof(out)));
	assert_null(strstr(out, "out of memory"));
	assert_true(run_out(&b, id[1], w500, out, sizeof(out)));
	assert_non_null(strstr(out, "out of memory"));	/* 3M spent */
	assert_true(info_of(&b, id[1])->charged_bytes < (2 << 20));
	assert_int_equal(cl_session_create(&b, 1 << 20, id[2]),
	    ASPACE__STATUS__CODE__QUOTA);
	assert_int_equal(cl_session_destroy(&a, id[0]), 0);
	assert_int_equal(cl_session_create(&b, 1 << 20, id[2]), 0);
	free(w300);
	free(w500);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/*
 * A session made without ram_bytes has 1 GiB, or --max-ram if less:
 * under --max-ram 512M it cannot lock 768 MiB in.
 */
static void test_max_ram_default(void **state)
{
	struct client a;
	uint8_t id[16];
	char out[4096];

	(void)state;
	assert_int_equal(start_with(0, "--max-ram", "512M", NULL), 0);
	assert_true(cl_open(&a));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(cl_session_create(&a, 0, id), 0);
	assert_int_equal(info_of(&a, id)->ram_bytes, 512UL << 20);
	assert_true(run_out(&a, id, "mmap 0x200000000000 768M rw- "
	    "private,anon,fixed\nmlock 0x200000000000 768M\n", out,
	    sizeof(out)));
	print_message("%s", out);
	assert_non_null(strstr(out, "2: = -E"));	/* not populated */
	assert_true(info_of(&a, id)->charged_bytes <= (512UL + 16) << 20);
	cl_close(&a);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/*
 * Many forks of a process of 1,000 VMAs in a session of 4 MiB: each copy
 * is charged, so the forks past the budget fail with -ENOMEM, the trace
 * ends cleanly, the session holds no more than its limit, and the
 * daemon serves on.
 */
static void test_fork_budget(void **state)
{
	struct client a;
	uint8_t id[16];
	char *text, *p, out[1 << 16];
	Aspace__SessionInfo *si;
	int i, n;

	(void)state;
	assert_int_equal(start_with(0, NULL), 0);
	assert_true(cl_open(&a));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(cl_session_create(&a, 4 << 20, id), 0);
	assert_non_null(p = text = malloc(1000 * 64 + 40 * 8));
	for (i = 0; i < 1000; i++)
		p += sprintf(p, "mmap 0x%lx 4K %s private,anon,fixed\n",
		    0x200000000000UL + (unsigned long)i * 8192,
		    i & 1 ? "r--" : "rw-");
	for (i = 0; i < 40; i++)
		p += sprintf(p, "fork\n");
	assert_true(run_out(&a, id, text, out, sizeof(out)));
	assert_non_null(strstr(out, "1001: = 2"));	/* the first fork */
	assert_non_null(strstr(out, "1040: = -ENOMEM"));
	for (n = 0, p = out; (p = strstr(p, "= -ENOMEM")) != NULL; p++)
		n++;
	print_message("%d of 40 forks refused\n", n);
	assert_true(n >= 10 && n < 40);
	si = info_of(&a, id);
	assert_true(si->charged_bytes <= (4UL << 20) + (64UL << 10));
	assert_true(si->tasks > 1 && si->tasks < 31);
	assert_int_equal(hello(&a), 0);
	free(text);
	cl_close(&a);
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* The daemon's resident set (VmRSS), in bytes. */
static unsigned long vm_rss(pid_t pid)
{
	char path[64], line[256];
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

/*
 * Memory goes back to the host: eight sessions of 48 MiB populated each
 * raise aspaced's RSS by some 384 MiB; once they are destroyed it falls
 * back to within 64 MiB of where it started (the chunk pool keeps 32).
 */
static void test_rss_returns(void **state)
{
	enum { N = 8 };
	struct client a;
	uint8_t id[N][16];
	unsigned long base, full, after = 0;
	char out[4096];
	int i;

	(void)state;
	assert_int_equal(start_with(0, NULL), 0);
	assert_true(cl_open(&a));
	assert_int_equal(hello(&a), 0);
	assert_int_equal(cl_session_create(&a, 1 << 20, id[0]), 0);
	assert_int_equal(cl_session_destroy(&a, id[0]), 0);
	base = vm_rss(dmn.pid);
	for (i = 0; i < N; i++) {
		assert_int_equal(cl_session_create(&a, 64 << 20, id[i]), 0);
		assert_true(run_out(&a, id[i], "mmap 0x200000000000 48M rw- "
		    "private,anon,fixed,populate\n", out, sizeof(out)));
		assert_null(strstr(out, "error"));
	}
	full = vm_rss(dmn.pid);
	for (i = 0; i < N; i++)
		assert_int_equal(cl_session_destroy(&a, id[i]), 0);
	for (i = 0; i < 50; i++) {	/* destroy may finish after answering */
		if ((after = vm_rss(dmn.pid)) < base + (64UL << 20))
			break;
		usleep(20000);
	}
	print_message("aspaced RSS: %lu MiB idle, %lu MiB with %d sessions of "
	    "48 MiB, %lu MiB after destroying them\n", base >> 20,
	    full >> 20, N, after >> 20);
	assert_true(full > base + (300UL << 20));
	assert_true(after < base + (64UL << 20));
	cl_close(&a);
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
		cmocka_unit_test(test_max_ram_default),
		cmocka_unit_test(test_fork_budget),
		cmocka_unit_test(test_rss_returns),
		cmocka_unit_test(test_accept_backoff),
		cmocka_unit_test(test_long_trace_does_not_stall),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_limits")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

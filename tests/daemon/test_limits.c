/*
 * test_limits.c: aspaced's options and limits, against the built daemon
 * ($ASPACED or argv[1]) started per test on Unix sockets in a fresh
 * temporary directory: the long options (and bad ones: exit 2 with a
 * message); --max-connections (QUOTA, closed, others served);
 * --idle-timeout (QUOTA, closed, a busy client kept); --max-inflight
 * (a deep pipeline answered whole and in order); --ram-total (QUOTA for
 * a session beyond it, served again after a destroy); accept back-off
 * when the daemon is out of descriptors; and the pool: with one worker a
 * long run_trace on one connection does not delay a small request on
 * another.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "frame.h"

#define RESP_CAP	(8u << 20)

static const char *daemon_path;
static char tmpdir[64];
static char sock_path[96];
static pid_t daemon_pid = -1;

/* --- a tiny client ------------------------------------------------------- */

struct client {
	int		 fd;
	struct frame_arena a;
	uint64_t	 next_id;
};

static int connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool cl_open_at(struct client *c, const char *path)
{
	c->fd = connect_unix(path);
	frame_arena_init(&c->a, FRAME_RESPONSE_BUDGET(RESP_CAP));
	c->next_id = 1;
	return c->fd >= 0;
}

static bool cl_open(struct client *c)
{
	return cl_open_at(c, sock_path);
}

static void cl_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	frame_arena_free(&c->a);
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) < 0 && errno == EINTR)
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
	bool ok;

	r->has_id = true;
	r->id = c->next_id++;
	size = frame_encoded_size(&r->base);
	free(buf);
	buf = malloc(size);
	ok = buf != NULL && frame_encode(&r->base, 0, buf, size) == (long)size &&
	    write_all(c->fd, buf, size);
	free(buf);
	return ok;
}

static Aspace__Response *cl_recv(struct client *c)
{
	uint8_t hdr[FRAME_HEADER_SIZE], *body;
	struct frame_header h;
	Aspace__Response *resp = NULL;

	frame_arena_reset(&c->a);
	if (read_all(c->fd, hdr, sizeof(hdr)) != 1 ||
	    frame_parse_header(hdr, sizeof(hdr), RESP_CAP, &h) != 0)
		return NULL;
	if ((body = malloc(h.length + 1)) == NULL)
		return NULL;
	if (read_all(c->fd, body, h.length) == 1 || h.length == 0)
		frame_decode_response(&c->a, body, h.length, &resp);
	free(body);
	return resp;
}

static Aspace__Response *cl_call(struct client *c, Aspace__Request *r)
{
	Aspace__Response *resp;

	if (!cl_send(c, r) || (resp = cl_recv(c)) == NULL)
		return NULL;
	return resp->id == r->id ? resp : NULL;
}

static int code_of(const Aspace__Response *r)
{
	return r == NULL ? -1 : r->status == NULL ? -2 : (int)r->status->code;
}

static void req_hello(Aspace__Request *r, Aspace__HelloRequest *h)
{
	aspace__request__init(r);
	aspace__hello_request__init(h);
	h->has_version = true;
	h->version = ASPACE_PROTOCOL_VERSION;
	r->op_case = ASPACE__REQUEST__OP_HELLO;
	r->hello = h;
}

static int cl_hello(struct client *c)
{
	Aspace__Request r;
	Aspace__HelloRequest h;

	req_hello(&r, &h);
	return code_of(cl_call(c, &r));
}

/* session_create of ram bytes: its status code; the id into id. */
static int cl_session(struct client *c, unsigned long ram, uint8_t id[16])
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	s.has_ram_bytes = true;
	s.ram_bytes = ram;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(c, &r);
	if (code_of(resp) == 0 && resp->session_create != NULL &&
	    resp->session_create->session.len == 16)
		memcpy(id, resp->session_create->session.data, 16);
	return code_of(resp);
}

static int cl_destroy(struct client *c, uint8_t id[16])
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionDestroyRequest d = ASPACE__SESSION_DESTROY_REQUEST__INIT;

	r.op_case = ASPACE__REQUEST__OP_SESSION_DESTROY;
	r.session_destroy = &d;
	r.has_session = true;
	r.session.data = id;
	r.session.len = 16;
	return code_of(cl_call(c, &r));
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

/* Start aspaced with the NULL-ended options after "--listen unix:SOCK";
 * nofile > 0 sets its RLIMIT_NOFILE.  0, or -1 if it never listened. */
static int start_with(rlim_t nofile, ...)
{
	char listen[128];
	const char *argv[40];
	int argc = 0, i, fd;
	va_list ap;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aspaced-limits.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) != 0)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
	snprintf(listen, sizeof(listen), "unix:%s", sock_path);
	argv[argc++] = daemon_path;
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--foreground";
	va_start(ap, nofile);
	while (argc < 39 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if ((daemon_pid = fork()) == 0) {
		struct rlimit rl = { nofile, nofile };

		if (nofile > 0)
			setrlimit(RLIMIT_NOFILE, &rl);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(daemon_path, (char **)argv);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if ((fd = connect_unix(sock_path)) >= 0) {
			close(fd);
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

static int stop_daemon(void **state)
{
	int st = 0;

	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &st, 0);
		daemon_pid = -1;
	}
	unlink(sock_path);
	rmdir(tmpdir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Run aspaced with args (NULL-ended); its exit status, stderr in err. */
static int run_args(char *err, size_t size, ...)
{
	const char *argv[20];
	int argc = 0, p[2], st;
	ssize_t n, got = 0;
	va_list ap;
	pid_t pid;

	argv[argc++] = daemon_path;
	va_start(ap, size);
	while (argc < 19 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(p) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		close(p[0]);
		execv(daemon_path, (char **)argv);
		_exit(127);
	}
	close(p[1]);
	while ((size_t)got < size - 1 &&
	    (n = read(p[0], err + got, size - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

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
	assert_true(cl_open_at(&b, second));
	assert_int_equal(cl_hello(&a), 0);
	assert_int_equal(cl_hello(&b), 0);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&a), 0);
	/* start_with()'s readiness probe counts until the daemon sees it
	 * close, so the second connection may have to try again. */
	for (i = 0; i < 100 && rc != 0; i++) {
		if (i > 0) {
			cl_close(&b);
			usleep(20000);
		}
		assert_true(cl_open(&b));
		rc = cl_hello(&b);
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
	assert_int_equal(cl_hello(&a), 0);
	assert_int_equal(cl_hello(&b), 0);
	/* One gone, a new one gets in. */
	cl_close(&b);
	for (i = 0; i < 100 && rc != 0; i++) {
		usleep(20000);
		assert_true(cl_open(&d));
		rc = cl_hello(&d);
		cl_close(&d);
	}
	assert_int_equal(rc, 0);
	cl_close(&a);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&idle), 0);
	for (i = 0; i < 10; i++) {	/* 1 s of a busy client */
		assert_int_equal(cl_hello(&busy), 0);
		usleep(100000);
	}
	resp = cl_recv(&idle);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "idle"));
	assert_null(cl_recv(&idle));
	assert_int_equal(cl_hello(&busy), 0);
	cl_close(&idle);
	cl_close(&busy);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&a), 0);
	req_hello(&r, &h);
	for (i = 0; i < N; i++)
		assert_true(cl_send(&a, &r));
	assert_int_equal(cl_hello(&b), 0);	/* others are served */
	for (i = 0; i < N; i++) {
		resp = cl_recv(&a);
		assert_int_equal(code_of(resp), 0);
		assert_int_equal(resp->id, (uint64_t)i + 2);
	}
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&a), 0);
	assert_int_equal(cl_hello(&b), 0);
	assert_int_equal(cl_session(&a, 1 << 20, id[0]), 0);
	assert_int_equal(cl_session(&b, 1 << 20, id[1]), 0);
	assert_int_equal(cl_session(&a, 1 << 20, id[2]), 0);
	assert_int_equal(cl_session(&b, 1 << 20, id[3]),
	    ASPACE__STATUS__CODE__QUOTA);
	/* Nor one of the default size (1 GiB). */
	s.has_ram_bytes = false;
	aspace__request__init(&r);
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(&a, &r);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "RAM"));
	assert_int_equal(cl_hello(&b), 0);
	assert_int_equal(cl_destroy(&a, id[0]), 0);
	assert_int_equal(cl_session(&b, 1 << 20, id[3]), 0);
	cl_close(&a);
	cl_close(&b);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&c[0]), 0);
	for (i = 0; i < N; i++)
		cl_close(&c[i]);
	for (i = 0; i < 200 && rc != 0; i++) {
		usleep(20000);
		if (!cl_open(&late)) {
			cl_close(&late);
			continue;
		}
		rc = readable(late.fd, 0) ? -1 : cl_hello(&late);
		cl_close(&late);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(stop_daemon(NULL), 0);
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
	assert_int_equal(cl_hello(&a), 0);
	assert_int_equal(cl_hello(&b), 0);
	t.has_text = true;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r.run_trace = &t;
	t0 = now();
	assert_true(cl_send(&a, &r));
	usleep(50000);
	assert_int_equal(cl_hello(&b), 0);
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
	assert_int_equal(stop_daemon(NULL), 0);
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

	daemon_path = getenv("ASPACED");
	if (daemon_path == NULL && argc > 1)
		daemon_path = argv[1];
	if (daemon_path == NULL) {
		fprintf(stderr, "test_limits: set ASPACED\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

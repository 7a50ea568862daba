/*
 * test_daemon.c: an integration test of aspaced.  It starts the built
 * daemon (path from $ASPACED or argv[1]) on a Unix socket in a fresh
 * temporary directory, talks to it with the framed client of harness.h,
 * and checks: hello; sessions; run_trace against the embedded core
 * (as_trace_run, and `aspace run --local` when $ASPACE names the
 * client); maps; system calls, accesses, fork and
 * exit; an unknown op (UNIMPLEMENTED, connection kept); a bad header and
 * an over-cap length before hello (error, then closed); tenant isolation
 * (a child under another uid when run as root); two connections running
 * traces in parallel; and SIGTERM (exit status 0).
 */
#include <pthread.h>
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

#include "config.h"
#include "frame.h"
#include "harness.h"
#include "session.h"
#include "trace.h"

static const char *daemon_path;
static struct hdaemon dmn;

/* --- the requests --------------------------------------------------------- */

/* Connect, hello and a new session into id. */
static void cl_open(struct client *c, uint8_t id[16])
{
	assert_true(cl_connect(c, dmn.sock));
	assert_true(cl_hello(c));
	assert_int_equal(cl_session_create(c, 0, id), 0);
}

/* run_trace text in session id (NULL: a fresh one); output malloc'd. */
static char *cl_run_trace(struct client *c, uint8_t *id, const char *text)
{
	Aspace__Response *resp;
	char *out;

	resp = rq_run_trace(c, id, 0, text, NULL);
	if (code_of(resp) != 0 || resp->run_trace == NULL ||
	    (out = malloc(resp->run_trace->output.len + 1)) == NULL)
		return NULL;
	memcpy(out, resp->run_trace->output.data, resp->run_trace->output.len);
	out[resp->run_trace->output.len] = '\0';
	return out;
}

/* --- the reference: the embedded core ----------------------------------- */

static const char trace1[] =
	"mmap 0x200000000000 16K rw- private,anon,fixed\n"
	"write 0x200000000010 0x5a\n"
	"read 0x200000000010\n"
	"fork\n"
	"switch 2\n"
	"write 0x200000000010 0x11\n"
	"read 0x200000000010\n"
	"read 0x10\n"
	"maps\n"
	"switch 1\n"
	"munmap 0x200000000000 4K\n"
	"maps\n";

static char *local_run(const char *text)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf b;
	char *out;

	as_session_params_default(&p);
	s = as_session_new(&p);
	as_buf_init(&b, 1 << 20);
	as_trace_run(s, text, strlen(text), &b);
	out = strdup(as_buf_str(&b));
	as_buf_free(&b);
	as_session_free(s);
	return out;
}

/* `$ASPACE run --local` of text, or NULL without $ASPACE. */
static char *client_run(const char *text)
{
	const char *aspace = getenv("ASPACE");
	const char *path = hdaemon_file(&dmn, "t.trace");
	char cmd[512], *out = calloc(1, 1 << 20);
	size_t n = 0, got;
	FILE *p;

	if (aspace == NULL || out == NULL) {
		free(out);
		return NULL;
	}
	assert_true(hwrite_file(path, text));
	snprintf(cmd, sizeof(cmd), "%s run --local %s", aspace, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((got = fread(out + n, 1, (1 << 20) - 1 - n, p)) > 0)
		n += got;
	pclose(p);
	return out;
}

/* --- the daemon ------------------------------------------------------------ */

static int start_daemon(void **state)
{
	static const char *const args[] = { "-w", "2", NULL };

	*state = &dmn;
	return hdaemon_start(&dmn, daemon_path, "test", args);
}

/* --- the tests ------------------------------------------------------------- */

static void test_hello(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;

	(void)state;
	assert_true(cl_connect(&c, dmn.sock));
	/* Anything but hello first: UNAUTHENTICATED. */
	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &(Aspace__SessionListRequest)
	    ASPACE__SESSION_LIST_REQUEST__INIT;
	assert_int_equal(code_of(cl_call(&c, &r)),
	    ASPACE__STATUS__CODE__UNAUTHENTICATED);
	h.has_version = true;
	h.version = 1;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	resp = cl_call(&c, &r);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__OK);
	assert_non_null(resp->hello);
	assert_int_equal(resp->hello->version, 1);
	assert_non_null(resp->hello->limits);
	assert_int_equal(resp->hello->limits->max_body, FRAME_MAX_BODY_DEFAULT);
	assert_string_equal(resp->hello->server, "aspaced/" PACKAGE_VERSION);
	cl_close(&c);
}

static void test_run_trace(void **state)
{
	char *want = local_run(trace1), *cli = client_run(trace1), *got;
	struct client c;
	uint8_t id[16];

	(void)state;
	cl_open(&c, id);
	got = cl_run_trace(&c, id, trace1);
	assert_non_null(got);
	assert_string_equal(got, want);
	if (cli != NULL)
		assert_string_equal(got, cli);
	free(got);
	got = cl_run_trace(&c, NULL, trace1);	/* a fresh session */
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(cli);
	/* resume needs a session to resume in. */
	{
		Aspace__Request r = ASPACE__REQUEST__INIT;
		Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;

		t.has_text = t.has_resume = t.resume = true;
		t.text.data = (uint8_t *)trace1;
		t.text.len = strlen(trace1);
		r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
		r.run_trace = &t;
		assert_int_equal(code_of(cl_call(&c, &r)),
		    ASPACE__STATUS__CODE__BAD_REQUEST);
	}
	cl_close(&c);
}

/* The trace's "maps" output without its "N: maps" line and indentation. */
static char *unindent_maps(const char *out)
{
	const char *p = strchr(out, '\n') + 1;
	char *res = calloc(1, strlen(out) + 1), *q = res;

	while (*p != '\0') {
		if (p[0] == ' ' && p[1] == ' ')
			p += 2;
		while (*p != '\0' && *p != '\n')
			*q++ = *p++;
		if (*p == '\n')
			*q++ = *p++;
	}
	return res;
}

static void test_maps(void **state)
{
	char *local = local_run("maps\n"), *want = unindent_maps(local);
	Aspace__Response *resp;
	struct client c;
	uint8_t id[16];

	(void)state;
	cl_open(&c, id);
	resp = rq_maps(&c, id, 0, 0, 0);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__OK);
	assert_non_null(resp->maps);
	assert_true(resp->maps->n_vmas > 0);
	assert_string_equal(resp->maps->text, want);
	assert_string_equal(resp->maps->vmas[1]->perms, "r-xp");
	assert_int_equal(resp->maps->vmas[1]->offset, 0x1000);
	assert_string_equal(resp->maps->vmas[1]->name, "prog");
	assert_int_equal(code_of(rq_maps(&c, id, 99, 0, 0)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	free(local);
	free(want);
	cl_close(&c);
}

static void test_syscalls(void **state)
{
	Aspace__Response *resp;
	struct client c, c2;
	uint8_t id[16];
	uint64_t addr;
	int child;

	(void)state;
	cl_open(&c, id);
	addr = cl_mmap_anon(&c, id, 8192);
	assert_true(addr != 0);
	/* A second connection of the tenant uses the session too (and so
	 * holds it in its cache when the first destroys it, below). */
	assert_true(cl_connect(&c2, dmn.sock));
	assert_true(cl_hello(&c2));
	assert_int_equal(code_of(rq_maps(&c2, id, 0, 0, 0)), 0);
	resp = rq_access(&c, id, 0, addr + 16,
	    ASPACE__ACCESS_KIND__ACCESS_WRITE, 0x5a);
	assert_int_equal(code_of(resp), 0);
	assert_null(resp->access->fault);
	assert_non_null(resp->access->explain);
	assert_non_null(strstr(resp->access->explain, "do_anonymous_page"));
	resp = rq_access(&c, id, 0, addr + 16, ASPACE__ACCESS_KIND__ACCESS_READ,
	    -1);
	assert_int_equal(resp->access->value, 0x5a);
	resp = rq_access(&c, id, 0, 0x10, ASPACE__ACCESS_KIND__ACCESS_READ, -1);
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->access->fault);
	assert_int_equal(resp->access->fault->signal, 11);
	assert_string_equal(resp->access->fault->code_name, "SEGV_MAPERR");
	resp = rq_simple(&c, id, 0, ASPACE__REQUEST__OP_FORK);
	assert_int_equal(code_of(resp), 0);
	child = resp->fork->task;
	assert_true(child > 1);
	resp = rq_access(&c, id, child, addr + 16,
	    ASPACE__ACCESS_KIND__ACCESS_READ, -1);
	assert_int_equal(resp->access->value, 0x5a);
	assert_int_equal(code_of(rq_simple(&c, id, child,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	assert_int_equal(code_of(rq_access(&c, id, child, addr,
	    ASPACE__ACCESS_KIND__ACCESS_READ, -1)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	assert_int_equal(code_of(rq_munmap(&c, id, 0, addr, 8192)), 0);
	assert_int_equal(code_of(rq_munmap(&c, id, 0, addr + 1, 8192)),
	    ASPACE__STATUS__CODE__ERRNO);
	assert_int_equal(code_of(rq_simple(&c, id, 0,
	    ASPACE__REQUEST__OP_SESSION_DESTROY)), 0);
	assert_int_equal(code_of(rq_maps(&c, id, 0, 0, 0)),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	assert_int_equal(code_of(rq_maps(&c2, id, 0, 0, 0)),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	assert_int_equal(code_of(rq_munmap(&c2, id, 0, addr, 4096)),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&c2);
	cl_close(&c);
}

static void test_unknown_op(void **state)
{
	/* id 7, then field 99 (an op this daemon does not know), empty. */
	static const uint8_t body[] = { 0x08, 0x07, 0x9a, 0x06, 0x00 };
	uint8_t frame[FRAME_HEADER_SIZE + sizeof(body)];
	Aspace__Response *resp;
	struct client c;

	(void)state;
	assert_true(cl_connect(&c, dmn.sock));
	assert_true(cl_hello(&c));
	assert_int_equal(frame_build_header(frame, sizeof(body), 0), 0);
	memcpy(frame + FRAME_HEADER_SIZE, body, sizeof(body));
	assert_true(cl_write_all(&c, frame, sizeof(frame)));
	resp = cl_recv(&c);
	assert_non_null(resp);
	assert_int_equal(resp->id, 7);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__UNIMPLEMENTED);
	/* A body that is not protobuf: BAD_REQUEST, still open. */
	frame[FRAME_HEADER_SIZE] = 0xff;
	assert_true(cl_write_all(&c, frame, sizeof(frame)));
	resp = cl_recv(&c);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_true(cl_hello(&c));	/* the connection still works */
	cl_close(&c);
}

/* Send raw bytes first thing; expect id 0 with code, then EOF. */
static void refused(const void *bytes, size_t len, int code)
{
	struct client c;
	Aspace__Response *resp;
	uint8_t b;

	assert_true(cl_connect(&c, dmn.sock));
	assert_true(cl_write_all(&c, bytes, len));
	resp = cl_recv(&c);
	assert_non_null(resp);
	assert_int_equal(resp->id, 0);
	assert_int_equal(code_of(resp), code);
	assert_int_equal(read(c.fd, &b, 1), 0);
	cl_close(&c);
}

static void test_refused_frames(void **state)
{
	uint8_t hdr[FRAME_HEADER_SIZE];

	(void)state;
	assert_int_equal(frame_build_header(hdr, FRAME_MAX_BODY_PREAUTH + 1, 0),
	    0);
	refused(hdr, sizeof(hdr), ASPACE__STATUS__CODE__TOO_LARGE);
	refused("GET / HTTP/1.0\r\n\r\n", 18, ASPACE__STATUS__CODE__BAD_REQUEST);
}

/* In a child under another uid: the session is not there. */
static int other_tenant(uint8_t id[16])
{
	struct client c;
	Aspace__Response *resp;
	uint8_t bogus[16] = { 1, 2, 3 };

	if (setgid(65534) != 0 || setuid(65534) != 0)
		return 2;
	if (!cl_connect(&c, dmn.sock) || !cl_hello(&c))
		return 3;
	if (code_of(rq_maps(&c, id, 0, 0, 0)) !=
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION)
		return 4;
	if (code_of(rq_maps(&c, bogus, 0, 0, 0)) !=
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION)
		return 5;
	resp = rq_simple(&c, NULL, 0, ASPACE__REQUEST__OP_SESSION_LIST);
	if (code_of(resp) != 0 || resp->session_list->n_sessions != 0)
		return 6;
	if (code_of(rq_simple(&c, id, 0, ASPACE__REQUEST__OP_SESSION_DESTROY))
	    != ASPACE__STATUS__CODE__NO_SUCH_SESSION)
		return 7;
	cl_close(&c);
	return 0;
}

static void test_tenants(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint8_t id[16];
	pid_t pid;
	int st;
	size_t i;
	bool found = false;

	(void)state;
	cl_open(&c, id);
	resp = rq_simple(&c, NULL, 0, ASPACE__REQUEST__OP_SESSION_LIST);
	assert_int_equal(code_of(resp), 0);
	for (i = 0; i < resp->session_list->n_sessions; i++)
		if (memcmp(resp->session_list->sessions[i]->session.data, id,
		    16) == 0)
			found = true;
	assert_true(found);
	if (geteuid() != 0) {
		cl_close(&c);
		print_message("tenants: not root, cannot run a second uid: "
		    "skipped\n");
		skip();
	}
	if ((pid = fork()) == 0)
		_exit(other_tenant(id));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(code_of(rq_maps(&c, id, 0, 0, 0)), 0);	/* still ours */
	cl_close(&c);
}

struct par {
	const char	*want;
	bool		 ok;
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	struct client c;
	uint8_t id[16];
	char *got;
	int i;

	p->ok = cl_connect(&c, dmn.sock) && cl_hello(&c) &&
	    cl_session_create(&c, 0, id) == 0;
	for (i = 0; i < 20 && p->ok; i++) {
		got = cl_run_trace(&c, i % 2 ? id : NULL, trace1);
		if (i % 2 && got != NULL) {
			/* the same session again: fresh per round */
			p->ok = code_of(rq_simple(&c, id, 0,
			    ASPACE__REQUEST__OP_SESSION_DESTROY)) == 0 &&
			    cl_session_create(&c, 0, id) == 0;
		}
		p->ok = p->ok && got != NULL && strcmp(got, p->want) == 0;
		free(got);
	}
	cl_close(&c);
	return NULL;
}

static void test_parallel(void **state)
{
	char *want = local_run(trace1);
	struct par p[2] = { { want, false }, { want, false } };
	pthread_t t[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, par_main, &p[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true(p[0].ok);
	assert_true(p[1].ok);
	free(want);
}

static void test_sigterm(void **state)
{
	struct client c;
	int st;

	(void)state;
	/* A connection open at the stop. */
	assert_true(cl_connect(&c, dmn.sock));
	assert_true(cl_hello(&c));
	assert_int_equal(kill(dmn.pid, SIGTERM), 0);
	assert_int_equal(waitpid(dmn.pid, &st, 0), dmn.pid);
	dmn.pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(dmn.sock, F_OK), -1);
	cl_close(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_run_trace),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_unknown_op),
		cmocka_unit_test(test_refused_frames),
		cmocka_unit_test(test_tenants),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_sigterm),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_daemon")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

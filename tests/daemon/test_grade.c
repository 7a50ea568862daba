/*
 * test_grade.c: the grade op (50) against the built aspaced ($ASPACED or
 * argv[1]), started once with --trace-line-limit 20 on a Unix socket:
 * a graded result (items, verdicts, points, score, extra lines, the why
 * of a wrong access), malformed answers and a malformed "# points:"
 * (BAD_REQUEST with the grader's message), no trace, a session given,
 * and a trace over the line limit (QUOTA, as run_trace).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "harness.h"

static const char *daemon_path;
static struct hdaemon dmn;
static struct client cl;

static const char TRACE[] =
    "window 0x200000000000 0x10000000\n"
    "mmap 0x200000000000 0x2000 rw- private,anon,fixed   # points: 2\n"
    "write 0x200000000000 0x11\n"
    "fork\n"
    "write 0x200000000000 0x22   # points: 3\n"
    "# a comment\n"
    "maps\n";

static int start(void **state)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[16];
	char listen[128];
	int argc = 0;

	(void)state;
	if ((how.out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
	    hdaemon_mkdir(&dmn, "grade") != 0)
		return -1;
	snprintf(listen, sizeof(listen), "unix:%s", dmn.sock);
	argv[argc++] = daemon_path;
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-directory";
	argv[argc++] = "none";
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--foreground";
	argv[argc++] = "--trace-line-limit";
	argv[argc++] = "20";
	argv[argc] = NULL;
	if (hdaemon_exec(&dmn, argv, &how) != 0)
		return -1;
	close(how.out);
	*state = &dmn;
	if (!cl_open_unix(&cl, dmn.sock, 0, true) || !cl_hello(&cl))
		return -1;
	return 0;
}

static int stop(void **state)
{
	cl_close(&cl);
	return hdaemon_teardown(state);
}

static Aspace__Response *grade(const char *trace, const char *answers,
    bool in_session)
{
	Aspace__Request r;
	Aspace__GradeRequest g = ASPACE__GRADE_REQUEST__INIT;

	aspace__request__init(&r);
	if (trace != NULL) {
		g.has_trace = true;
		g.trace.data = (uint8_t *)trace;
		g.trace.len = strlen(trace);
	}
	if (answers != NULL) {
		g.has_answers = true;
		g.answers.data = (uint8_t *)answers;
		g.answers.len = strlen(answers);
	}
	if (in_session) {
		r.has_session = true;
		r.session.data = cl.sid;
		r.session.len = 16;
	}
	r.op_case = ASPACE__REQUEST__OP_GRADE;
	r.grade = &g;
	return cl_call(&cl, &r);
}

static bool bytes_eq(ProtobufCBinaryData b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.data, s, b.len) == 0;
}

static bool bytes_has(ProtobufCBinaryData b, const char *s)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%.*s", (int)b.len, (const char *)b.data);
	return strstr(buf, s) != NULL;
}

static void test_graded(void **state)
{
	Aspace__Response *resp;
	Aspace__GradeResult *g;

	(void)state;
	resp = grade(TRACE, "1: = 0\n2: = 0x200000000000\n"
	    "4: = 1\n5: SIGSEGV SEGV_ACCERR\n"
	    "7: maps\n  200000000000-200000002000 rw-p 00000000\n"
	    "9: = 0\n", false);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_GRADE);
	g = resp->grade;
	assert_int_equal(g->n_items, 6);
	assert_int_equal(g->max_score, 1 + 2 + 1 + 1 + 3 + 1);
	assert_int_equal(g->score, 1 + 2 + 1);
	assert_int_equal(g->extra_lines, 1);
	assert_int_equal(g->items[2]->line, 3);
	assert_int_equal(g->items[2]->verdict, ASPACE__GRADE_ITEM__VERDICT__MISSING);
	assert_int_equal(g->items[3]->verdict, ASPACE__GRADE_ITEM__VERDICT__WRONG);
	assert_true(bytes_eq(g->items[3]->expected, "4: = 2\n"));
	assert_true(bytes_eq(g->items[3]->given, "4: = 1\n"));
	assert_int_equal(g->items[4]->max_points, 3);
	assert_int_equal(g->items[4]->points, 0);
	assert_true(bytes_eq(g->items[4]->command,
	    "write 0x200000000000 0x22   # points: 3"));
	assert_true(bytes_has(g->items[4]->why, "fault path: "));
	assert_true(bytes_has(g->items[4]->why, "do_wp_page"));
	assert_int_equal(g->items[5]->line, 7);
	assert_int_equal(g->items[5]->verdict, ASPACE__GRADE_ITEM__VERDICT__RIGHT);
}

static void test_bad_requests(void **state)
{
	Aspace__Response *resp;

	(void)state;
	resp = grade(TRACE, "1: = 0\nnonsense\n", false);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_string_equal(resp->status->message, "answers: line 2: neither "
	    "\"N: ...\" (N a trace line, 1 to 100000000) nor an indented line");
	resp = grade("maps # points: many\n", "", false);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_non_null(strstr(resp->status->message, "trace line 1"));
	resp = grade(NULL, "", false);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_true(cl_session_new(&cl, 0));
	resp = grade(TRACE, "", true);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	/* The daemon goes on. */
	assert_int_equal(code_of(grade(TRACE, "", false)), 0);
}

static void test_line_limit(void **state)
{
	char text[4096], *p = text;
	Aspace__Response *resp;
	int i;

	(void)state;
	for (i = 0; i < 30; i++)
		p += sprintf(p, "window 0x200000000000 0x1000\n");
	resp = grade(text, "", false);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(resp->status->message, "line limit"));
	assert_non_null(strstr(resp->status->message, "at line 21"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graded),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_line_limit),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_grade")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start, stop);
}

/*
 * test_grade.c: unit tests of the grader (lib/grade.c, grade-why.c):
 * each scoring rule (right, wrong, missing; 1 point, "# points: K",
 * K = 0), extra lines, the leniency the answer reader allows (trailing
 * blanks, CRLF, blank and '#' lines) and every malformed answer file it
 * refuses with a message, malformed "# points:", and the "why" of a
 * wrong access, maps and smaps item, and of any other command (its path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "grade.h"
#include "session.h"

static const char TRACE[] =
    "window 0x200000000000 0x10000000\n"
    "mmap 0x200000000000 0x3000 rw- private,anon,fixed   # points: 2\n"
    "write 0x200000000000 0x11\n"
    "fork\n"
    "write 0x200000000000 0x22   # points: 3\n"
    "mprotect 0x200000001000 0x1000 r--\n"
    "maps\n"
    "read 0x200000002000   # points: 0\n"
    "smaps\n";

#define MAPS \
    "7: maps\n" \
    "  200000000000-200000001000 rw-p 00000000\n" \
    "  200000001000-200000002000 r--p 00000000\n" \
    "  200000002000-200000003000 rw-p 00000000\n"
#define SMAP(range, perms, rss, flags) \
    "  " range " " perms " 00000000\n" \
    "    Rss: " rss " kB\n    Pss: " rss " kB\n" \
    "    Shared_Clean: 0 kB\n    Shared_Dirty: 0 kB\n" \
    "    Private_Clean: 0 kB\n    Private_Dirty: " rss " kB\n" \
    "    Anonymous: " rss " kB\n    Swap: 0 kB\n    Locked: 0 kB\n" \
    "    VmFlags: " flags "\n"
#define SMAPS "9: smaps\n" \
    SMAP("200000000000-200000001000", "rw-p", "4", "rd wr mr mw me ac") \
    SMAP("200000001000-200000002000", "r--p", "0", "rd mr mw me ac") \
    SMAP("200000002000-200000003000", "rw-p", "0", "rd wr mr mw me ac")
#define L1_6 \
    "1: = 0\n2: = 0x200000000000\n3: = ok\n4: = 2\n5: = ok\n6: = 0\n"

static const char KEY[] = L1_6 MAPS "8: = 0x00\n" SMAPS;

static char err[256];

static int grade(const char *trace, const char *answers, struct as_grade *g)
{
	struct as_session_params p;
	struct as_session *s;
	int rc;

	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	err[0] = '\0';
	rc = as_grade_run(s, trace, strlen(trace), answers, strlen(answers),
	    NULL, 1 << 20, g, err, sizeof(err));
	as_session_free(s);
	return rc;
}

/* The answers, with line (N: ...) replaced by repl (NULL: removed). */
static char *with(unsigned long line, const char *repl)
{
	static char buf[8192];
	char key[16];
	const char *p = KEY, *q, *next;
	size_t o = 0;

	snprintf(key, sizeof(key), "%lu: ", line);
	while (*p != '\0') {
		q = strchr(p, '\n') + 1;
		next = q;
		while (*next == ' ')
			next = strchr(next, '\n') + 1;
		if (strncmp(p, key, strlen(key)) == 0) {
			if (repl != NULL)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o,
				    "%s", repl);
		} else {
			memcpy(buf + o, p, (size_t)(next - p));
			o += (size_t)(next - p);
		}
		p = next;
	}
	buf[o] = '\0';
	return buf;
}

static const struct as_grade_item *item(const struct as_grade *g,
    unsigned long line)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->items[i].line == line)
			return &g->items[i];
	fail_msg("no item %lu", line);
	return NULL;
}

static void test_all_right(void **state)
{
	struct as_grade g;
	size_t i;

	(void)state;
	assert_int_equal(grade(TRACE, KEY, &g), 0);
	assert_int_equal(g.n, 9);
	assert_int_equal(g.max_score, 1 + 2 + 1 + 1 + 3 + 1 + 1 + 0 + 1);
	assert_int_equal(g.score, g.max_score);
	assert_int_equal(g.extra_lines, 0);
	for (i = 0; i < g.n; i++) {
		assert_int_equal(g.items[i].verdict, AS_GRADE_RIGHT);
		assert_string_equal(g.items[i].expected, g.items[i].given);
		assert_string_equal(g.items[i].why, "");
	}
	assert_string_equal(item(&g, 7)->expected, MAPS);
	assert_string_equal(item(&g, 2)->command,
	    "mmap 0x200000000000 0x3000 rw- private,anon,fixed   # points: 2");
	as_grade_free(&g);
}

/* A wrong access worth K: no points, the fault path as the why. */
static void test_wrong_points_k(void **state)
{
	struct as_grade g;
	const struct as_grade_item *it;

	(void)state;
	assert_int_equal(grade(TRACE, with(5, "5: SIGSEGV SEGV_ACCERR\n"), &g),
	    0);
	it = item(&g, 5);
	assert_int_equal(it->verdict, AS_GRADE_WRONG);
	assert_int_equal(it->points, 0);
	assert_int_equal(it->max_points, 3);
	assert_string_equal(it->expected, "5: = ok\n");
	assert_string_equal(it->given, "5: SIGSEGV SEGV_ACCERR\n");
	assert_non_null(strstr(it->why, "fault path: "));
	assert_non_null(strstr(it->why, "do_wp_page"));
	assert_int_equal(g.score, g.max_score - 3);
	as_grade_free(&g);
}

/* A missing item: verdict MISSING, given "", no points. */
static void test_missing(void **state)
{
	struct as_grade g;

	(void)state;
	assert_int_equal(grade(TRACE, with(2, NULL), &g), 0);
	assert_int_equal(item(&g, 2)->verdict, AS_GRADE_MISSING);
	assert_string_equal(item(&g, 2)->given, "");
	assert_int_equal(g.score, g.max_score - 2);
	as_grade_free(&g);
	assert_int_equal(grade(TRACE, "", &g), 0);
	assert_int_equal(g.score, 0);
	assert_int_equal(g.n, 9);
	as_grade_free(&g);
}

/* "# points: 0": graded, worth nothing either way. */
static void test_points_zero(void **state)
{
	struct as_grade g;

	(void)state;
	assert_int_equal(grade(TRACE, with(8, "8: = 0x11\n"), &g), 0);
	assert_int_equal(item(&g, 8)->verdict, AS_GRADE_WRONG);
	assert_int_equal(item(&g, 8)->max_points, 0);
	assert_int_equal(g.score, g.max_score);
	assert_string_equal(item(&g, 8)->why,
	    "fault path: vmacache miss -> do_anonymous_page: zero page mapped");
	as_grade_free(&g);
}

/* Lines for no item are counted, not graded; indented lines under an
 * item are the item's (and make it wrong). */
static void test_extra(void **state)
{
	struct as_grade g;
	char buf[8192];

	(void)state;
	snprintf(buf, sizeof(buf), "%s10: = 0\n  more\n", KEY);
	assert_int_equal(grade(TRACE, buf, &g), 0);
	assert_int_equal(g.extra_lines, 2);
	assert_int_equal(g.score, g.max_score);
	as_grade_free(&g);
	assert_int_equal(grade(TRACE, with(1, "1: = 0\n  a VMA?\n"), &g), 0);
	assert_int_equal(item(&g, 1)->verdict, AS_GRADE_WRONG);
	as_grade_free(&g);
}

/* Trailing blanks, CRLF, blank lines and '#' lines do not count. */
static void test_lenient(void **state)
{
	struct as_grade g;
	char buf[8192], *o = buf;
	const char *p;

	(void)state;
	o += sprintf(o, "# my answers\n\n");
	for (p = KEY; *p != '\0'; p++)
		o += *p == '\n' ? sprintf(o, "  \r\n") : sprintf(o, "%c", *p);
	assert_int_equal(grade(TRACE, buf, &g), 0);
	assert_int_equal(g.score, g.max_score);
	as_grade_free(&g);
}

static void expect_error(const char *answers, const char *msg)
{
	struct as_grade g;

	assert_int_equal(grade(TRACE, answers, &g), -1);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\", not \"%s\"", err, msg);
	assert_int_equal(g.n, 0);
}

static void test_malformed(void **state)
{
	char *big;
	size_t n = AS_GRADE_ANSWERS_MAX + 1;

	(void)state;
	expect_error("1: = 0\nhello\n", "answers: line 2: neither");
	expect_error("  indented\n1: = 0\n", "line 1: an indented line");
	expect_error("2: = 0\n1: = 0\n", "line 2: \"1:\" after \"2:\"");
	expect_error("1: = 0\n1: = 0\n", "\"1:\" after \"1:\"");
	expect_error("0: = 0\n", "line 1: neither");
	expect_error("1234567890: = 0\n", "line 1: neither");
	expect_error("12 = 0\n", "line 1: neither");
	expect_error("-1: = 0\n", "line 1: neither");
	assert_non_null(big = malloc(n + 1));
	memset(big, 'x', n);
	big[0] = '1';
	big[1] = ':';
	big[n] = '\0';
	expect_error(big, "more than");
	big[AS_GRADE_LINE_MAX + 10] = '\n';
	big[AS_GRADE_LINE_MAX + 11] = '\0';
	expect_error(big, "line 1: longer than");
	free(big);
}

static void test_nul(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_grade g;

	(void)state;
	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	assert_int_equal(as_grade_run(s, TRACE, strlen(TRACE), "1: = 0\n2\0x",
	    11, NULL, 1 << 20, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: a NUL byte"));
	as_session_free(s);
}

static void test_points_malformed(void **state)
{
	struct as_grade g;
	unsigned int k;

	(void)state;
	assert_int_equal(grade("mmap 0 4096 rw- private,anon # points: x\n",
	    "", &g), -1);
	assert_non_null(strstr(err, "trace line 1: \"# points: K\" needs K"));
	assert_int_equal(grade("window 0 1\n# points: 2\n", "", &g), -1);
	assert_non_null(strstr(err, "trace line 2: \"# points:\" on a line "
	    "that prints nothing"));
	assert_int_equal(as_grade_line_points("maps # points: 1001", 19, &k),
	    -1);
	assert_int_equal(as_grade_line_points("maps # points: 7 (cow)", 22,
	    &k), 1);
	assert_int_equal(k, 7);
	assert_int_equal(as_grade_line_points("maps # pointless", 16, &k), 0);
	assert_int_equal(as_grade_line_points("maps #points:0", 14, &k), 1);
	assert_int_equal(k, 0);
}

/* A missed split: the VMAs and the rule that kept them apart. */
static void test_why_maps(void **state)
{
	struct as_grade g;
	const char *why;

	(void)state;
	assert_int_equal(grade(TRACE, with(7, "7: maps\n"
	    "  200000000000-200000003000 rw-p 00000000\n"), &g), 0);
	why = item(&g, 7)->why;
	assert_non_null(strstr(why, "VMAs expected, not given:\n"
	    "  200000000000-200000001000 rw-p 00000000\n"));
	assert_non_null(strstr(why, "VMAs given, not expected:\n"
	    "  200000000000-200000003000 rw-p 00000000\n"));
	assert_non_null(strstr(why, "missed split: 200000000000-200000003000 "
	    "is 3 VMAs"));
	assert_non_null(strstr(why, "at 200000001000: their permissions "
	    "differ (rw-p, r--p)"));
	as_grade_free(&g);
}

static void test_why_merge(void **state)
{
	static const char trace[] =
	    "mmap 0x200000000000 0x1000 rw- private,anon,fixed\n"
	    "mmap 0x200000001000 0x1000 rw- private,anon,fixed\n"
	    "window 0x200000000000 0x2000\n"
	    "maps\n";
	struct as_grade g;

	(void)state;
	assert_int_equal(grade(trace, "4: maps\n"
	    "  200000000000-200000001000 rw-p 00000000\n"
	    "  200000001000-200000002000 rw-p 00000000\n", &g), 0);
	assert_non_null(strstr(item(&g, 4)->why, "missed merge: "
	    "200000000000-200000002000 is one VMA"));
	as_grade_free(&g);
}

/* A wrong mmap, fork, mprotect: the path the core recorded for it. */
static void test_why_path(void **state)
{
	static const char trace[] =
	    "mmap 0x200000000000 0x1000 rw- private,anon\n"
	    "mmap 0x200000000000 0x1000 r-- private,anon\n"
	    "write 0x200000000000 1\n"
	    "fork\n"
	    "mprotect 0x200000000000 0x1000 rw-\n";
	struct as_grade g;
	const char *why;

	(void)state;
	assert_int_equal(grade(trace, "1: = 0x200000000000\n"
	    "2: = 0x200000001000\n3: = ok\n4: = 2\n5: = -EACCES\n", &g), 0);
	why = item(&g, 2)->why;
	assert_non_null(strstr(why, "path: hint 0x200000000000 refused: "
	    "0x200000000000-0x200000001000 meets the VMA "
	    "0x200000000000-0x200000001000 -> top-down search"));
	assert_string_equal(item(&g, 4)->why, "");	/* right: no why */
	why = item(&g, 5)->why;
	assert_string_equal(why, "path: mprotect_fixup: "
	    "0x200000000000-0x200000001000 has these flags already");
	as_grade_free(&g);
}

static void test_why_smaps(void **state)
{
	struct as_grade g;
	char buf[8192], *p;

	(void)state;
	snprintf(buf, sizeof(buf), "%s", KEY);
	p = strstr(buf, "Rss: 4 kB");
	p[5] = '8';
	assert_int_equal(grade(TRACE, buf, &g), 0);
	assert_int_equal(item(&g, 9)->verdict, AS_GRADE_WRONG);
	assert_non_null(strstr(item(&g, 9)->why,
	    "200000000000-200000001000 rw-p 00000000: expected \"Rss: 4 kB\", "
	    "given \"Rss: 8 kB\" (pages mapped (the zero page not counted))\n"
	    "the pages behind its figures:\n"
	    "  0x200000000000: frame 0x"));
	assert_non_null(strstr(item(&g, 9)->why, ", mapcount 1, dirty, "
	    "anonymous"));
	/* The zero page, read at line 8, is behind the third VMA's. */
	snprintf(buf, sizeof(buf), "%s", KEY);
	p = strstr(buf, "Pss: 0 kB\n    Shared_Clean: 0 kB\n    "
	    "Shared_Dirty: 0 kB\n    Private_Clean: 0 kB\n    "
	    "Private_Dirty: 0 kB\n    Anonymous: 0 kB\n    Swap: 0 kB\n    "
	    "Locked: 0 kB\n    VmFlags: rd wr");
	assert_non_null(p);
	p[5] = '4';
	as_grade_free(&g);
	assert_int_equal(grade(TRACE, buf, &g), 0);
	assert_non_null(strstr(item(&g, 9)->why,
	    "  0x200000002000: the zero page (not counted)"));
	as_grade_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_right),
		cmocka_unit_test(test_wrong_points_k),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_points_zero),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_points_malformed),
		cmocka_unit_test(test_why_maps),
		cmocka_unit_test(test_why_merge),
		cmocka_unit_test(test_why_smaps),
		cmocka_unit_test(test_why_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_answers.c: libFuzzer target for the grader (lib/grade.c,
 * grade-why.c): an answer file, and the trace it answers.
 *
 * An input holding a line "---" is TRACE, that line, ANSWERS; without
 * one, the whole input is the answers to a fixed trace (which forks,
 * splits a VMA and shows maps and smaps, so that every "why" is
 * reached).  The answers go through as_answers_parse() alone, then
 * through as_grade_run() in a fresh session of RAM_BYTES; the trace's
 * lines through as_grade_line_points().  Checked: a refused input leaves
 * no items, a graded one has score <= max_score, each item's points
 * within its max and its verdict one of the three; all is freed, so
 * that LeakSanitizer sees leaks.
 *
 * Without libFuzzer, replay.c supplies main().
 */
#define _GNU_SOURCE	/* memmem() */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "session.h"

#define OUT_MAX		(1UL << 20)
#define RAM_BYTES	(16UL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] =
    "window 0x200000000000 0x10000000\n"
    "mmap 0x200000000000 0x3000 rw- private,anon,fixed   # points: 2\n"
    "write 0x200000000000 0x11\n"
    "fork\n"
    "write 0x200000000000 0x22   # points: 3\n"
    "mprotect 0x200000001000 0x1000 r--\n"
    "maps\n"
    "read 0x200000002000   # points: 0\n"
    "smaps\n"
    "read 0x100\n";

static void check(const struct as_grade *g, int rc)
{
	size_t i;

	if (rc != 0) {
		if (g->n != 0 || g->items != NULL)
			abort();
		return;
	}
	if (g->score > g->max_score)
		abort();
	for (i = 0; i < g->n; i++)
		if (g->items[i].points > g->items[i].max_points ||
		    g->items[i].verdict > AS_GRADE_MISSING ||
		    g->items[i].why == NULL || g->items[i].given == NULL)
			abort();
}

static void points(const char *t, size_t n)
{
	const char *nl;
	unsigned int k;

	while (n > 0) {
		nl = memchr(t, '\n', n);
		(void)as_grade_line_points(t, nl != NULL ? (size_t)(nl - t) : n,
		    &k);
		if (nl == NULL)
			break;
		n -= (size_t)(nl + 1 - t);
		t = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *trace = fixed, *ans = text;
	const char *sep = size >= 4 ? memmem(text, size, "\n---\n", 5) : NULL;
	size_t tlen = sizeof(fixed) - 1, alen = size;
	struct as_session_params p;
	struct as_session *s;
	struct as_answers a;
	struct as_grade g;
	char err[256];
	int rc;

	if (sep != NULL) {
		trace = text;
		tlen = (size_t)(sep - text) + 1;
		ans = sep + 5;
		alen = size - tlen - 4;
	}
	if (as_answers_parse(ans, alen, &a, err, sizeof(err)) == 0)
		as_answers_free(&a);
	points(trace, tlen);
	as_session_params_default(&p);
	p.ram_bytes = RAM_BYTES;
	if ((s = as_session_new(&p)) == NULL)
		return 0;
	rc = as_grade_run(s, trace, tlen, ans, alen, NULL, OUT_MAX, &g, err,
	    sizeof(err));
	check(&g, rc);
	if (rc == 0)
		as_grade_free(&g);
	as_session_free(s);
	return 0;
}

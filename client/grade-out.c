/*
 * grade-out.c: aspace grade's output (docs/grading.md): text for people
 * (the verdicts in colour on a terminal only), --json (one object per
 * TRACE ANSWERS pair, its items in it, on a line of its own), and
 * --gradescope (one results.json object for all the pairs, as
 * Gradescope's autograder specification documents it: score, max_score,
 * output, tests[] of name, score, max_score, status, output, visibility).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade-cli.h"

#define RED	"\033[31m"
#define GREEN	"\033[32m"
#define YELLOW	"\033[33m"
#define BOLD	"\033[1m"
#define RESET	"\033[0m"

const char *grade_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

int grade_command_len(const char *cmd)
{
	const char *h = strchr(cmd, '#');
	size_t n = h != NULL ? (size_t)(h - cmd) : strlen(cmd);

	while (n > 0 && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t'))
		n--;
	return (int)n;
}

/* --- text -------------------------------------------------------------------- */

static const char *verdict_colour(enum as_grade_verdict v)
{
	return v == AS_GRADE_RIGHT ? GREEN : v == AS_GRADE_WRONG ? RED : YELLOW;
}

/* "    LABEL: text" for one line, else LABEL: and the lines under it. */
static void put_block(const char *label, const char *text)
{
	const char *nl = strchr(text, '\n');
	const char *p;

	if (*text == '\0') {
		printf("    %s: (nothing)\n", label);
		return;
	}
	if (nl == NULL || nl[1] == '\0') {
		printf("    %s: %.*s\n", label, (int)(nl != NULL ?
		    (size_t)(nl - text) : strlen(text)), text);
		return;
	}
	printf("    %s:\n", label);
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			printf("      %s\n", p);
			break;
		}
		printf("      %.*s\n", (int)(nl - p), p);
	}
}

static void text_item(const struct grade_opts *o,
    const struct as_grade_item *it)
{
	const char *name = as_grade_verdict_name(it->verdict);

	printf("  line %lu: %s%-7s%s %u/%u  %.*s\n", it->line,
	    o->colour ? verdict_colour(it->verdict) : "", name,
	    o->colour ? RESET : "", it->points, it->max_points,
	    grade_command_len(it->command), it->command);
	if (it->verdict == AS_GRADE_RIGHT)
		return;
	put_block("expected", it->expected);
	put_block("given", it->given);
	if (it->why[0] != '\0')
		put_block("why", it->why);
}

static void text_pair(const struct grade_opts *o, const struct grade_pair *pr)
{
	size_t i;

	if (pr->failed) {
		printf("%s (%s): not graded: %s\n", pr->trace, pr->answers,
		    pr->error);
		return;
	}
	printf("%s%s%s (%s): %u/%u\n", o->colour ? BOLD : "", pr->trace,
	    o->colour ? RESET : "", pr->answers, pr->g.score,
	    pr->g.max_score);
	if (pr->error[0] != '\0')
		printf("  answers refused, every item missing: %s\n",
		    pr->error);
	for (i = 0; i < pr->g.n; i++)
		text_item(o, &pr->g.items[i]);
	if (pr->g.extra_lines > 0)
		printf("  %u answer line%s for no item, not graded\n",
		    pr->g.extra_lines, pr->g.extra_lines == 1 ? "" : "s");
}

static void print_text(const struct grade_opts *o,
    const struct grade_pair *prs, size_t n)
{
	unsigned int score = 0, max = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		text_pair(o, &prs[i]);
		if (!prs[i].failed) {
			score += prs[i].g.score;
			max += prs[i].g.max_score;
		}
	}
	if (n > 1)
		printf("total: %u/%u\n", score, max);
}

/* --- JSON -------------------------------------------------------------------- */

static json_t *item_json(const struct as_grade_item *it)
{
	json_t *j = json_object();

	cli_json_set(&j, "line", cli_json_u64(it->line));
	cli_json_set(&j, "command", cli_json_cstr(it->command));
	cli_json_set(&j, "verdict", json_string(as_grade_verdict_name(
	    it->verdict)));
	cli_json_set(&j, "points", json_integer(it->points));
	cli_json_set(&j, "max_points", json_integer(it->max_points));
	cli_json_set(&j, "expected", cli_json_cstr(it->expected));
	cli_json_set(&j, "given", cli_json_cstr(it->given));
	cli_json_set(&j, "why", cli_json_cstr(it->why));
	return j;
}

static int print_json(const struct grade_pair *prs, size_t n)
{
	json_t *j, *items;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < n; i++) {
		j = json_object();
		cli_json_set(&j, "trace", cli_json_cstr(prs[i].trace));
		cli_json_set(&j, "answers", cli_json_cstr(prs[i].answers));
		if (prs[i].error[0] != '\0')
			cli_json_set(&j, "error", cli_json_cstr(prs[i].error));
		if (!prs[i].failed) {
			cli_json_set(&j, "score", json_integer(prs[i].g.score));
			cli_json_set(&j, "max_score",
			    json_integer(prs[i].g.max_score));
			cli_json_set(&j, "extra_lines",
			    json_integer(prs[i].g.extra_lines));
			items = json_array();
			for (k = 0; k < prs[i].g.n; k++)
				cli_json_append(&items,
				    item_json(&prs[i].g.items[k]));
			cli_json_set(&j, "items", items);
		}
		if (cli_json_print(j) != 0)
			rc = -1;
	}
	return rc;
}

/* --- Gradescope -------------------------------------------------------------- */

static void put_section(struct as_buf *b, const char *label, const char *text)
{
	as_buf_printf(b, "%s%s:\n%s", b->len > 0 ? "\n" : "", label,
	    *text != '\0' ? text : "(nothing)\n");
	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		as_buf_put(b, "\n", 1);
}

static json_t *test_json(const struct grade_opts *o, const char *trace,
    const struct as_grade_item *it)
{
	json_t *j = json_object();
	struct as_buf b;
	char name[512];

	snprintf(name, sizeof(name), "%s line %lu: %.*s", grade_base(trace),
	    it->line, grade_command_len(it->command), it->command);
	as_buf_init(&b, 1UL << 20);
	if (it->verdict == AS_GRADE_RIGHT) {
		as_buf_printf(&b, "right\n");
	} else {
		as_buf_printf(&b, "%s\n", as_grade_verdict_name(it->verdict));
		put_section(&b, "expected", it->expected);
		put_section(&b, "given", it->given);
		if (it->why[0] != '\0')
			put_section(&b, "why", it->why);
	}
	cli_json_set(&j, "name", cli_json_cstr(name));
	cli_json_set(&j, "score", json_integer(it->points));
	cli_json_set(&j, "max_score", json_integer(it->max_points));
	cli_json_set(&j, "status", json_string(it->verdict == AS_GRADE_RIGHT ?
	    "passed" : "failed"));
	cli_json_set(&j, "output", cli_json_strn(as_buf_str(&b), b.len));
	cli_json_set(&j, "visibility", json_string(o->visibility != NULL ?
	    o->visibility : "visible"));
	as_buf_free(&b);
	return j;
}

static int print_gradescope(const struct grade_opts *o,
    const struct grade_pair *prs, size_t n)
{
	json_t *j = json_object(), *tests = json_array();
	unsigned int score = 0, max = 0;
	struct as_buf out;
	size_t i, k;
	char *s;

	as_buf_init(&out, 1UL << 20);
	for (i = 0; i < n; i++) {
		if (prs[i].failed) {
			as_buf_printf(&out, "%s: not graded: %s\n",
			    grade_base(prs[i].trace), prs[i].error);
			continue;
		}
		as_buf_printf(&out, "%s: %u/%u\n", grade_base(prs[i].trace),
		    prs[i].g.score, prs[i].g.max_score);
		if (prs[i].error[0] != '\0')
			as_buf_printf(&out, "  answers refused, every item "
			    "missing: %s\n", prs[i].error);
		score += prs[i].g.score;
		max += prs[i].g.max_score;
		for (k = 0; k < prs[i].g.n; k++)
			cli_json_append(&tests, test_json(o, prs[i].trace,
			    &prs[i].g.items[k]));
	}
	cli_json_set(&j, "score", json_integer(score));
	cli_json_set(&j, "max_score", json_integer(max));
	cli_json_set(&j, "output", cli_json_strn(as_buf_str(&out), out.len));
	if (o->visibility != NULL)
		cli_json_set(&j, "visibility", json_string(o->visibility));
	cli_json_set(&j, "tests", tests);
	as_buf_free(&out);
	if (j == NULL || (s = json_dumps(j, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(j);
		fprintf(stderr, "aspace: out of memory\n");
		return -1;
	}
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

int grade_print(const struct grade_opts *o, struct grade_pair *prs, size_t n)
{
	int rc = 0;

	switch (o->format) {
	case GF_TEXT:
		print_text(o, prs, n);
		break;
	case GF_JSON:
		rc = print_json(prs, n);
		break;
	case GF_GRADESCOPE:
		rc = print_gradescope(o, prs, n);
		break;
	}
	fflush(stdout);
	return rc;
}

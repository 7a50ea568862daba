/*
 * grade.c: grading answers against a trace's output (grade.h,
 * docs/grading.md).  An answer file is read line by line within fixed
 * bounds into items ("N: ..." and the indented lines under it); the
 * trace's own output is read by the same reader, so that both sides of
 * a comparison are normalized alike (trailing blanks dropped).  Items
 * are matched by N, in one merge of two sorted lists; the "why" of a
 * wrong item comes from grade-why.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "grade-int.h"
#include "trace_parse.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The next line of [*p, end) without its '\n'; false at the end. */
bool grade_next_line(const char **p, const char *end, const char **s,
    size_t *n)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*n = (size_t)((nl != NULL ? nl : end) - *p);
	*p = nl != NULL ? nl + 1 : end;
	return true;
}

size_t grade_rstrip(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	return n;
}

/* Append n bytes and a '\n' to the string *s of *len bytes. */
int grade_append(char **s, size_t *len, const char *p, size_t n)
{
	char *t = realloc(*s, *len + n + 2);

	if (t == NULL)
		return -1;
	memcpy(t + *len, p, n);
	*len += n;
	t[(*len)++] = '\n';
	t[*len] = '\0';
	*s = t;
	return 0;
}

/* "N:" at the start of s: 1 with *line, 0 if s has no digits first,
 * -1 when it starts with digits yet is no good "N:". */
static int parse_lineno(const char *s, size_t n, unsigned long *line)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 9)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0)
		return 0;
	if (i == n || s[i] != ':' || v == 0 || v > AS_GRADE_LINENO_MAX)
		return -1;
	*line = v;
	return 1;
}

static int new_answer(struct as_answers *out, unsigned long line)
{
	struct as_answer *a;

	if ((out->n & (out->n - 1)) == 0) {	/* 0, 1, 2, 4, ...: grow */
		a = realloc(out->a, (out->n ? out->n * 2 : 1) * sizeof(*a));
		if (a == NULL)
			return -1;
		out->a = a;
	}
	a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->line = line;
	return 0;
}

/* One line (rstripped, not blank) of an answer file, its number fl. */
static int answer_line(struct as_answers *out, const char *s, size_t n,
    unsigned long fl, char *err, size_t errlen)
{
	struct as_answer *cur = out->n > 0 ? &out->a[out->n - 1] : NULL;
	unsigned long line;
	size_t len;
	int r;

	if (s[0] == ' ' || s[0] == '\t') {
		if (cur == NULL)
			return fail(err, errlen, "line %lu: an indented line "
			    "before any \"N: ...\" line", fl);
	} else if ((r = parse_lineno(s, n, &line)) <= 0) {
		return fail(err, errlen, "line %lu: neither \"N: ...\" (N a "
		    "trace line, 1 to %lu) nor an indented line", fl,
		    AS_GRADE_LINENO_MAX);
	} else if (cur != NULL && line <= cur->line) {
		return fail(err, errlen, "line %lu: \"%lu:\" after \"%lu:\": "
		    "answers go in the order of the trace, once each", fl,
		    line, cur->line);
	} else {
		if (new_answer(out, line) != 0)
			return fail(err, errlen, "out of memory");
		cur = &out->a[out->n - 1];
	}
	len = cur->text != NULL ? strlen(cur->text) : 0;
	if (grade_append(&cur->text, &len, s, n) != 0)
		return fail(err, errlen, "out of memory");
	cur->nlines++;
	return 0;
}

/* Where the first NUL is: its line number. */
static unsigned long nul_line(const char *text, const char *nul)
{
	unsigned long l = 1;

	for (; text < nul; text++)
		if (*text == '\n')
			l++;
	return l;
}

int as_answers_parse(const char *text, size_t len, struct as_answers *out,
    char *err, size_t errlen)
{
	const char *p = text, *end = text != NULL ? text + len : NULL, *s, *z;
	unsigned long fl = 0;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return 0;
	if (len > AS_GRADE_ANSWERS_MAX)
		return fail(err, errlen, "%zu bytes: more than the %lu an "
		    "answer file may have", len, AS_GRADE_ANSWERS_MAX);
	if ((z = memchr(text, '\0', len)) != NULL)
		return fail(err, errlen, "line %lu: a NUL byte (not a text "
		    "file?)", nul_line(text, z));
	while (grade_next_line(&p, end, &s, &n)) {
		fl++;
		if (n > AS_GRADE_LINE_MAX) {
			as_answers_free(out);
			return fail(err, errlen, "line %lu: longer than %d "
			    "bytes", fl, AS_GRADE_LINE_MAX);
		}
		n = grade_rstrip(s, n);
		if (n == 0 || s[0] == '#')
			continue;
		if (answer_line(out, s, n, fl, err, errlen) != 0) {
			as_answers_free(out);
			return -1;
		}
	}
	return 0;
}

void as_answers_free(struct as_answers *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->a[i].text);
	free(a->a);
	a->a = NULL;
	a->n = 0;
}

int as_grade_line_points(const char *line, size_t len, unsigned int *k)
{
	const char *h = memchr(line, '#', len), *end = line + len;
	static const char key[] = "points:";
	unsigned long v = 0;
	int digits = 0;

	if (h == NULL)
		return 0;
	for (h++; h < end && (*h == ' ' || *h == '\t'); h++)
		;
	if ((size_t)(end - h) < sizeof(key) - 1 ||
	    memcmp(h, key, sizeof(key) - 1) != 0)
		return 0;
	for (h += sizeof(key) - 1; h < end && (*h == ' ' || *h == '\t'); h++)
		;
	for (; h < end && *h >= '0' && *h <= '9' && digits < 5; h++, digits++)
		v = v * 10 + (unsigned long)(*h - '0');
	if (digits == 0 || v > AS_GRADE_POINTS_MAX ||
	    (h < end && *h != ' ' && *h != '\t' && *h != '\r'))
		return -1;
	*k = (unsigned int)v;
	return 1;
}

/* The trace's lines, by number (1-based). */
struct trace_lines {
	const char	**s;
	size_t		*n;
	size_t		 count;
};

static int index_lines(const char *text, size_t len, struct trace_lines *tl)
{
	const char *p = text, *end = text != NULL ? text + len : NULL, *s;
	size_t n, cap = 0, i;

	memset(tl, 0, sizeof(*tl));
	for (i = 0; i < len; i++)
		cap += text[i] == '\n';
	cap += 2;
	tl->s = calloc(cap, sizeof(*tl->s));
	tl->n = calloc(cap, sizeof(*tl->n));
	if (tl->s == NULL || tl->n == NULL)
		return -1;
	while (tl->count + 1 < cap && grade_next_line(&p, end, &s, &n)) {
		tl->count++;
		tl->s[tl->count] = s;
		tl->n[tl->count] = grade_rstrip(s, n);
	}
	return 0;
}

static void lines_free(struct trace_lines *tl)
{
	free(tl->s);
	free(tl->n);
}

static char *dup_n(const char *s, size_t n)
{
	char *t = malloc(n + 1);

	if (t != NULL) {
		memcpy(t, s != NULL ? s : "", n);
		t[n] = '\0';
	}
	return t;
}

/* Has the output an item for line? (ex sorted by line) */
static bool has_item(const struct as_answers *ex, unsigned long line)
{
	size_t lo = 0, hi = ex->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ex->a[mid].line == line)
			return true;
		if (ex->a[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Every "# points:" of the trace: well formed, on a line that prints. */
static int check_points(const struct trace_lines *tl,
    const struct as_answers *ex, char *err, size_t errlen)
{
	unsigned int k;
	size_t i;
	int r;

	for (i = 1; i <= tl->count; i++) {
		r = as_grade_line_points(tl->s[i], tl->n[i], &k);
		if (r < 0)
			return fail(err, errlen, "trace line %zu: \"# points: "
			    "K\" needs K a number from 0 to %d", i,
			    AS_GRADE_POINTS_MAX);
		if (r > 0 && !has_item(ex, i))
			return fail(err, errlen, "trace line %zu: \"# points:\""
			    " on a line that prints nothing", i);
	}
	return 0;
}

/* Fill item it from the expected e and the answer a (NULL: missing). */
static int fill_item(struct as_grade_item *it, const struct trace_lines *tl,
    const struct as_answer *e, const struct as_answer *a, char *const *why,
    size_t nwhy)
{
	unsigned int k = 1;
	unsigned long l = e->line;
	const char *fault = l < nwhy && why != NULL ? why[l] : NULL;

	if (l <= tl->count)
		(void)as_grade_line_points(tl->s[l], tl->n[l], &k);
	it->line = l;
	it->max_points = k;
	it->command = l <= tl->count ? dup_n(tl->s[l], tl->n[l]) : dup_n("", 0);
	it->expected = dup_n(e->text, strlen(e->text));
	it->given = a != NULL ? dup_n(a->text, strlen(a->text)) : dup_n("", 0);
	if (a == NULL)
		it->verdict = AS_GRADE_MISSING;
	else if (strcmp(a->text, e->text) == 0)
		it->verdict = AS_GRADE_RIGHT;
	else
		it->verdict = AS_GRADE_WRONG;
	it->points = it->verdict == AS_GRADE_RIGHT ? k : 0;
	if (it->verdict == AS_GRADE_RIGHT || l > tl->count)
		it->why = dup_n("", 0);
	else
		it->why = grade_why(tl->s[l], tl->n[l], e->text,
		    a != NULL ? a->text : "", fault);
	if (it->command == NULL || it->expected == NULL || it->given == NULL ||
	    it->why == NULL)
		return -1;
	return 0;
}

/* Match the sorted lists ex (the trace's) and an (the student's). */
static int match(struct as_grade *g, const struct trace_lines *tl,
    const struct as_answers *ex, const struct as_answers *an,
    char *const *why, size_t nwhy)
{
	size_t i, j = 0;

	g->items = calloc(ex->n ? ex->n : 1, sizeof(*g->items));
	if (g->items == NULL)
		return -1;
	for (i = 0; i < ex->n; i++) {
		while (j < an->n && an->a[j].line < ex->a[i].line)
			g->extra_lines += an->a[j++].nlines;
		g->n++;
		if (fill_item(&g->items[i], tl, &ex->a[i],
		    j < an->n && an->a[j].line == ex->a[i].line ?
		    &an->a[j] : NULL, why, nwhy) != 0)
			return -1;
		if (j < an->n && an->a[j].line == ex->a[i].line)
			j++;
		g->score += g->items[i].points;
		g->max_score += g->items[i].max_points;
	}
	for (; j < an->n; j++)
		g->extra_lines += an->a[j].nlines;
	return 0;
}

int as_grade_compare(const char *trace, size_t tlen, const char *output,
    size_t olen, const char *answers, size_t alen, char *const *why,
    size_t nwhy, struct as_grade *g, char *err, size_t errlen)
{
	struct as_answers ex, an;
	struct trace_lines tl;
	char msg[200];
	int rc = -1;

	memset(g, 0, sizeof(*g));
	if (as_answers_parse(output, olen, &ex, msg, sizeof(msg)) != 0)
		return fail(err, errlen, "the trace's output: %s", msg);
	if (as_answers_parse(answers, alen, &an, msg, sizeof(msg)) != 0) {
		as_answers_free(&ex);
		return fail(err, errlen, "answers: %s", msg);
	}
	if (index_lines(trace, tlen, &tl) != 0)
		fail(err, errlen, "out of memory");
	else if (check_points(&tl, &ex, err, errlen) == 0) {
		if ((rc = match(g, &tl, &ex, &an, why, nwhy)) != 0)
			fail(err, errlen, "out of memory");
	}
	if (rc != 0)
		as_grade_free(g);
	lines_free(&tl);
	as_answers_free(&ex);
	as_answers_free(&an);
	return rc;
}

/* What the trace noted while it ran, by line: each command's path, or
 * for smaps the pages behind its figures. */
struct why_acc {
	char	**why;
	size_t	  n;
	int	  oom;
};

static void note_why(void *arg, unsigned long lineno, const char *text)
{
	struct why_acc *w = arg;
	size_t n = w->n;
	char **t;

	if (lineno >= n) {
		while (n <= lineno)
			n = n ? n * 2 : 64;
		if ((t = realloc(w->why, n * sizeof(*t))) == NULL) {
			w->oom = 1;
			return;
		}
		memset(t + w->n, 0, (n - w->n) * sizeof(*t));
		w->why = t;
		w->n = n;
	}
	free(w->why[lineno]);
	if ((w->why[lineno] = strdup(text)) == NULL)
		w->oom = 1;
}

/* A command's path: the why of its item, unless it recorded nothing
 * (maps, smaps: their why comes from the figures, and smaps' pages). */
static void note_path(void *arg, unsigned long lineno, const char *text)
{
	if (*text != '\0')
		note_why(arg, lineno, text);
}

static void why_free(struct why_acc *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->why[i]);
	free(w->why);
}

int as_grade_run(struct as_session *s, const char *trace, size_t tlen,
    const char *answers, size_t alen, struct as_trace_check *chk,
    size_t out_max, struct as_grade *g, char *err, size_t errlen)
{
	struct as_trace_check none = { 0 };
	struct as_trace_cursor cur;
	struct why_acc w = { 0 };
	struct as_buf out;
	int rc = -1;

	memset(g, 0, sizeof(*g));
	if (chk == NULL)
		chk = &none;
	chk->note = note_why;
	chk->note_arg = &w;
	chk->on_explain = note_path;
	chk->on_explain_arg = &w;
	as_buf_init(&out, out_max);
	as_trace_cursor_init(&cur);
	if (as_trace_run_checked(s, &cur, trace, tlen, &out, chk) < 0)
		fail(err, errlen, "the trace's output is over its cap (%zu "
		    "bytes)", out_max);
	else if (chk->stopped != 0)
		fail(err, errlen, "the trace stopped at line %lu",
		    chk->stopped_at);
	else if (w.oom)
		fail(err, errlen, "out of memory");
	else
		rc = as_grade_compare(trace, tlen, out.data, out.len, answers,
		    alen, w.why, w.n, g, err, errlen);
	chk->note = NULL;
	chk->note_arg = NULL;
	chk->on_explain = NULL;
	chk->on_explain_arg = NULL;
	why_free(&w);
	as_buf_free(&out);
	return rc;
}

void as_grade_free(struct as_grade *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		free(g->items[i].command);
		free(g->items[i].expected);
		free(g->items[i].given);
		free(g->items[i].why);
	}
	free(g->items);
	memset(g, 0, sizeof(*g));
}

const char *as_grade_verdict_name(enum as_grade_verdict v)
{
	switch (v) {
	case AS_GRADE_RIGHT:	return "right";
	case AS_GRADE_WRONG:	return "wrong";
	case AS_GRADE_MISSING:	return "missing";
	}
	return "?";
}

/*
 * run-out.c: how aspace run prints a trace's result, besides the plain
 * canonical output: --json and --annotate, both made by pairing each
 * numbered output line with the trace line of that number.
 *
 * The canonical output is a sequence of items: a line "N: TEXT" (N the
 * number of the trace line that made it) and the continuation lines that
 * follow it, which begin with a space (maps, smaps).  A line before the
 * first numbered one would make an item of line 0 with no command.
 *
 * --json prints one object per trace,
 *
 *   {"trace":PATH,"status":S,"errors":E,"truncated":B,
 *    "items":[{"line":N,"command":"LINE N","output":"TEXT\n..."},...]}
 *
 * where output is TEXT (without "N: ") and the continuation lines, joined
 * by newlines, without a last newline: "N: " OUTPUT "\n" for each item
 * gives back the canonical output.  Strings are UTF-8 (cli-json.c).
 *
 * --annotate prints, before each item, its trace line as "# N: LINE", and
 * with several traces a header "==> PATH <==" before each trace's (and an
 * empty line between traces), as tail(1) does: the lines that begin with
 * "# " or "==> " and the empty lines are the annotation, the others the
 * canonical output.
 *
 * --explain adds each command's path through the simulated kernel: a
 * line "# why: PATH" after the item in text (a comment, so that the
 * output stays an answer file aspace grade reads), "explain":PATH in
 * each JSON item ("" when the command recorded none).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "run-out.h"
#include "shell.h"

/* Trace line n (from 1) of text: its start, and *len without the newline
 * and trailing blanks; NULL if there is none. */
static const char *trace_line(const char *text, size_t tlen, unsigned long n,
    size_t *len)
{
	const char *p = text, *end = text + tlen, *nl;
	unsigned long i;

	if (n == 0 || text == NULL)
		return NULL;
	for (i = 1; i < n; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return NULL;
		p = nl + 1;
	}
	if (p >= end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl != NULL ? nl : end) - p);
	while (*len > 0 && strchr(" \t\r", p[*len - 1]) != NULL)
		(*len)--;
	return p;
}

/* The number of the first line of text that is not blank or a comment;
 * 0 if none. */
static unsigned long first_command(const char *text, size_t tlen)
{
	const char *p = text, *end = text + tlen;
	unsigned long n = 1;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < end && *p != '\n' && *p != '#')
			return n;
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p++;
		n++;
	}
	return 0;
}

/* A numbered output line "N: ...": N, and *skip the length of "N: ". */
static int numbered(const char *p, size_t len, unsigned long *n, size_t *skip)
{
	size_t i = 0;

	*n = 0;
	while (i < len && p[i] >= '0' && p[i] <= '9' && i < 12)
		*n = *n * 10 + (unsigned long)(p[i++] - '0');
	if (i == 0 || i + 1 >= len || p[i] != ':' || p[i + 1] != ' ')
		return 0;
	*skip = i + 2;
	return 1;
}

/* The next item of out from *pos: its number, its text (after "N: ")
 * and length; 0 at the end. */
static int next_item(const char *out, size_t olen, size_t *pos,
    unsigned long *n, const char **text, size_t *len)
{
	const char *p = out + *pos, *end = out + olen, *nl;
	size_t skip = 0, l;

	if (p >= end)
		return 0;
	nl = memchr(p, '\n', (size_t)(end - p));
	l = (size_t)((nl != NULL ? nl : end) - p);
	if (!numbered(p, l, n, &skip))
		*n = 0;
	*text = p + skip;
	p = nl != NULL ? nl + 1 : end;
	/* The continuation lines: up to the next numbered line. */
	while (p < end) {
		unsigned long m;
		size_t s;

		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl != NULL ? nl : end) - p);
		if (numbered(p, l, &m, &s))
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	*len = (size_t)(p - *text);
	if (*len > 0 && (*text)[*len - 1] == '\n')
		(*len)--;
	*pos = (size_t)(p - out);
	return 1;
}

/*
 * What to take from output line numbers to have the text's: 0, but for
 * a trace run with --resume, whose numbers carry on from the session's
 * last trace: the first item is the first command's.
 */
static unsigned long line_base(const char *text, size_t tlen,
    const char *out, size_t olen)
{
	const char *t;
	size_t pos = 0, len;
	unsigned long n, k = text != NULL ? first_command(text, tlen) : 0;

	if (k == 0 || !next_item(out, olen, &pos, &n, &t, &len) || n < k)
		return 0;
	return n - k;
}

json_t *run_items_json(const char *text, size_t tlen, const char *out,
    size_t olen)
{
	return run_items_json_ex(text, tlen, out, olen, NULL);
}

json_t *run_items_json_ex(const char *text, size_t tlen, const char *out,
    size_t olen, const struct asc_trace_result *ex)
{
	json_t *items = json_array(), *it;
	const char *t, *cmd;
	size_t pos = 0, len, clen = 0;
	unsigned long n, base = line_base(text, tlen, out, olen);

	while (items != NULL && next_item(out, olen, &pos, &n, &t, &len)) {
		cmd = trace_line(text, tlen, n >= base ? n - base : 0, &clen);
		it = json_object();
		cli_json_set(&it, "line", json_integer((json_int_t)n));
		cli_json_set(&it, "command", cmd != NULL ?
		    cli_json_strn(cmd, clen) : json_null());
		cli_json_set(&it, "output", cli_json_strn(t, len));
		if (ex != NULL)
			cli_json_set(&it, "explain", cli_json_cstr(
			    asc_trace_explain(ex, n) != NULL ?
			    asc_trace_explain(ex, n) : ""));
		cli_json_append(&items, it);
	}
	return items;
}

void run_annotate(FILE *f, const char *text, size_t tlen, const char *out,
    size_t olen)
{
	run_annotate_ex(f, text, tlen, out, olen, true, NULL);
}

void run_annotate_ex(FILE *f, const char *text, size_t tlen, const char *out,
    size_t olen, bool annotate, const struct asc_trace_result *ex)
{
	const char *t, *cmd, *why;
	size_t pos = 0, start, len, clen = 0;
	unsigned long n = 0, base = line_base(text, tlen, out, olen);

	for (start = 0; next_item(out, olen, &pos, &n, &t, &len); start = pos) {
		cmd = trace_line(text, tlen, n >= base ? n - base : 0, &clen);
		if (cmd != NULL && annotate)
			fprintf(f, "# %lu: %.*s\n", n, (int)clen, cmd);
		fwrite(out + start, 1, pos - start, f);
		if (ex == NULL || (why = asc_trace_explain(ex, n)) == NULL)
			continue;
		if (pos == olen && olen > 0 && out[olen - 1] != '\n')
			fputc('\n', f);
		fprintf(f, "# why: %s\n", why);
	}
	if (olen > 0 && out[olen - 1] != '\n' && (ex == NULL ||
	    asc_trace_explain(ex, n) == NULL))
		fputc('\n', f);
}

void run_json_trace(const char *path, int status, const char *text,
    size_t tlen, const char *out, size_t olen, unsigned long errors,
    bool truncated, const char *error)
{
	json_t *j;

	if (error == NULL) {
		run_json_trace_ex(path, status, text, tlen, out, olen, errors,
		    truncated, NULL);
		return;
	}
	j = json_object();
	cli_json_set(&j, "trace", cli_json_cstr(path));
	cli_json_set(&j, "status", json_integer(status));
	cli_json_set(&j, "error", cli_json_cstr(error));
	cli_json_print(j);
}

void run_json_trace_ex(const char *path, int status, const char *text,
    size_t tlen, const char *out, size_t olen, unsigned long errors,
    bool truncated, const struct asc_trace_result *ex)
{
	json_t *j = json_object();

	cli_json_set(&j, "trace", cli_json_cstr(path));
	cli_json_set(&j, "status", json_integer(status));
	cli_json_set(&j, "errors", cli_json_u64(errors));
	cli_json_set(&j, "truncated", json_boolean(truncated));
	cli_json_set(&j, "items", run_items_json_ex(text, tlen, out, olen,
	    ex));
	cli_json_print(j);
}

void run_print(const struct run_print_opts *p, const char *text, size_t tlen,
    const char *out, size_t olen, const struct asc_trace_result *ex)
{
	if (p->annotate || ex != NULL)
		run_annotate_ex(stdout, text, tlen, out, olen, p->annotate, ex);
	else
		fwrite(out, 1, olen, stdout);
}

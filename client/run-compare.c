/*
 * run-compare.c: aspace run --compare, a trace run by the simulator and
 * by this machine's kernel (run-linux.c), shown side by side:
 *
 *     line  command / simulator                | Linux 6.18.44
 *        1  mmap 0x200000000000 4K rw- private,anon,fixed
 *           = 0x200000000000                   | = 0x200000000000
 *        2  maps
 *           200000000000-200000001000 rw-p 0.. | 200000000000-200000001000..
 *     *  3  read 0x200000000000
 *     *     = 0x00                             | = 0x01
 *
 * each trace line that made output, then its output lines, the
 * simulator's left and Linux's right, a '*' before those that differ.
 * Then the first difference, as run-diff.sh names it (the trace line the
 * first differing output line belongs to, and both texts), and notes on
 * what may make a difference the host's rather than the simulator's: a
 * `kernel` line the host is not as (the runner says "host kernel
 * differs"), --kernel (the simulator's only), a host without the zero
 * page, no `window` line, a mapping Linux placed outside the window.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "run-cmp.h"

#define COL_MIN		24
#define COL_MAX		64
#define WIN_START	0x200000000000UL	/* the runners' default */
#define WIN_LEN		0x100000000000UL

/* Text cut into lines in place (the last newline makes no line). */
struct lines {
	char	**v;
	size_t	  n;
};

static int split_lines(char *s, struct lines *l)
{
	size_t cap = 1;
	char *p;

	for (p = s; *p; p++)
		cap += *p == '\n';
	if ((l->v = calloc(cap, sizeof(*l->v))) == NULL)
		return -1;
	l->n = 0;
	while (*s) {
		l->v[l->n++] = s;
		if ((p = strchr(s, '\n')) == NULL)
			break;
		*p = '\0';
		s = p + 1;
	}
	return 0;
}

/* N of an "N: TEXT" line, else 0. */
static unsigned long item_no(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	return end != s && *end == ':' && s[0] >= '0' && s[0] <= '9' ? n : 0;
}

/* Line N of the trace (1-based), or "". */
static const char *trace_line(const struct lines *t, unsigned long n)
{
	return n >= 1 && n <= t->n ? t->v[n - 1] : "";
}

/* The output lines of item N from *i on: their count (*i moves on). */
static size_t item_rows(const struct lines *o, size_t *i, unsigned long n)
{
	size_t start = *i;

	if (*i < o->n && item_no(o->v[*i]) == n)
		for ((*i)++; *i < o->n && item_no(o->v[*i]) == 0; (*i)++)
			;
	return *i - start;
}

/* An output line as shown: without "N: ". */
static const char *shown(const char *s)
{
	const char *p = strchr(s, ':');

	return item_no(s) && p != NULL ? p + 2 : s;
}

/* The left column's width: its longest text, within bounds. */
static int col_width(const struct lines *o)
{
	size_t i, w = COL_MIN;

	for (i = 0; i < o->n; i++)
		if (strlen(shown(o->v[i])) > w)
			w = strlen(shown(o->v[i]));
	return w > COL_MAX ? COL_MAX : (int)w;
}

/* One item's rows: the command, then both outputs side by side. */
static void put_item(const struct lines *t, unsigned long n,
    const struct lines *a, size_t ia, size_t na,
    const struct lines *b, size_t ib, size_t nb, int w)
{
	size_t k, rows = na > nb ? na : nb;
	int differ = na != nb;
	const char *x, *y;

	for (k = 0; k < na && k < nb; k++)
		differ |= strcmp(a->v[ia + k], b->v[ib + k]) != 0;
	printf("%c %4lu  %s\n", differ ? '*' : ' ', n, trace_line(t, n));
	for (k = 0; k < rows; k++) {
		x = k < na ? shown(a->v[ia + k]) : "";
		y = k < nb ? shown(b->v[ib + k]) : "";
		printf("%c       %-*s | %s\n", k >= na || k >= nb ||
		    strcmp(x, y) != 0 ? '*' : ' ', w, x, y);
	}
}

/* The table: every item of either output, in trace line order. */
static void put_table(const struct lines *t, const struct lines *a,
    const struct lines *b)
{
	struct utsname u;
	size_t ia = 0, ib = 0, ja, jb;
	unsigned long na, nb, n;
	int w = col_width(a);

	if (uname(&u) != 0)
		strcpy(u.release, "?");
	printf("  line  %-*s | Linux %s\n", w, "command / simulator",
	    u.release);
	while (ia < a->n || ib < b->n) {
		na = ia < a->n ? item_no(a->v[ia]) : (unsigned long)-1;
		nb = ib < b->n ? item_no(b->v[ib]) : (unsigned long)-1;
		n = na < nb ? na : nb;
		ja = ia;
		jb = ib;
		if (item_rows(a, &ia, n) + item_rows(b, &ib, n) == 0) {
			ia += ia < a->n && na == n;	/* a stray line */
			ib += ib < b->n && nb == n;
		}
		put_item(t, n, a, ja, ia - ja, b, jb, ib - jb, w);
	}
}

/* The first differing output line (run-diff.sh's first_diff): its
 * index, or -1 if the outputs are the same. */
static long first_diff(const struct lines *a, const struct lines *b,
    unsigned long *item)
{
	size_t i, n = a->n > b->n ? a->n : b->n;
	unsigned long h;

	*item = 0;
	for (i = 0; i < n; i++) {
		h = i < a->n ? item_no(a->v[i]) : 0;
		if (h == 0 && i < b->n)
			h = item_no(b->v[i]);
		if (h != 0)
			*item = h;
		if (i >= a->n || i >= b->n || strcmp(a->v[i], b->v[i]) != 0)
			return (long)i;
	}
	return -1;
}

static void put_first_diff(const struct lines *t, const struct lines *a,
    const struct lines *b, long i, unsigned long item)
{
	printf("first difference: line %lu: %s\n", item,
	    item ? trace_line(t, item) : "(before the first command)");
	printf("  simulator: %s\n", (size_t)i < a->n ? a->v[i] :
	    "<end of output>");
	printf("  Linux:     %s\n", (size_t)i < b->n ? b->v[i] :
	    "<end of output>");
}

/* --- notes --------------------------------------------------------------- */

/* The runner's "host kernel differs" lines: the trace's kernel lines the
 * host is not as.  Their count. */
static int note_host_differs(const struct lines *t, const struct lines *b)
{
	static const char mark[] = "! error: host kernel differs: ";
	const char *p;
	size_t i;
	int n = 0;

	for (i = 0; i < b->n; i++) {
		if ((p = strstr(b->v[i], mark)) == NULL)
			continue;
		printf("note: line %lu: this host's kernel is not as `%s` "
		    "says (%s): differences may be the host's, not the "
		    "simulator's\n", item_no(b->v[i]),
		    trace_line(t, item_no(b->v[i])), p + sizeof(mark) - 1);
		n++;
	}
	return n;
}

/* A line of the trace that begins with word (after blanks), or NULL. */
static const char *trace_has(const struct lines *t, const char *word)
{
	size_t i, n = strlen(word);
	const char *p;

	for (i = 0; i < t->n; i++) {
		p = t->v[i] + strspn(t->v[i], " \t");
		if (strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\t'))
			return p;
	}
	return NULL;
}

/* Does the trace (or --kernel) set the zero page? */
static int sets_zero_page(const struct run_sim *s, const struct lines *t)
{
	char name[64];
	size_t i;
	int k;

	for (k = 0; k < s->nkernel; k++)
		if (strncmp(s->kernel_args[k], "zero_page=", 10) == 0)
			return 1;
	for (i = 0; i < t->n; i++)
		if (sscanf(t->v[i], " kernel %63s", name) == 1 &&
		    strcmp(name, "zero_page") == 0)
			return 1;
	return 0;
}

/* Does this host map the shared zero page?  The runner is asked. */
static int host_has_zero_page(void)
{
	static const char probe[] = "kernel zero_page on\n";
	struct run_result r;
	int yes;

	run_linux_capture("(zero page probe)", probe, sizeof(probe) - 1, &r);
	yes = r.rc > 1 || strstr(r.out, "differs: zero_page") == NULL;
	free(r.out);
	return yes;
}

/* A trace number: decimal or 0x, maybe K, M or G. */
static unsigned long trace_num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	switch (*end) {
	case 'K':	return v << 10;
	case 'M':	return v << 20;
	case 'G':	return v << 30;
	default:	return v;
	}
}

/* Linux's answer to line n, an mmap or mremap, outside the window in
 * effect there: a note.  The trace after that is no reference. */
static void note_outside(const struct lines *t, const char *lx,
    unsigned long n)
{
	unsigned long ws = WIN_START, wl = WIN_LEN, addr, i;
	const char *cmd = trace_line(t, n), *eq = strstr(lx, ": = 0x");
	char a[64], b[64];

	if (eq == NULL || (strncmp(cmd, "mmap", 4) != 0 &&
	    strncmp(cmd, "mremap", 6) != 0))
		return;
	for (i = 1; i < n; i++)
		if (sscanf(trace_line(t, i), " window %63s %63s", a, b) == 2) {
			ws = trace_num(a);
			wl = trace_num(b);
		}
	addr = strtoul(eq + 4, NULL, 16);
	if (addr < ws || addr - ws >= wl)
		printf("note: line %lu: Linux placed the mapping at 0x%lx, "
		    "outside the window (a non-fixed mmap or a moving mremap "
		    "may go anywhere): from there on it is no reference\n",
		    n, addr);
}

/* What may make a difference the host's rather than the simulator's. */
static void put_notes(const struct run_sim *s, const struct lines *t,
    const struct lines *b, long diff, unsigned long item)
{
	int i;

	note_host_differs(t, b);
	for (i = 0; i < s->nkernel; i++)
		printf("note: --kernel %s set the simulator's kernel only; "
		    "the host runs as it is\n", s->kernel_args[i]);
	if (diff < 0)
		return;
	if ((size_t)diff < b->n)
		note_outside(t, b->v[diff], item);
	if (trace_has(t, "window") == NULL)
		printf("note: the trace has no `window` line: the simulator's "
		    "maps show the whole address space, Linux's only "
		    "[0x%lx, 0x%lx)\n", WIN_START, WIN_START + WIN_LEN);
	if (!sets_zero_page(s, t) && !host_has_zero_page())
		printf("note: this host's kernel maps no shared zero page "
		    "(see /proc/cmdline), the simulator's does unless told: "
		    "begin the trace with `kernel zero_page off` to compare "
		    "like with like\n");
}

/* --- the command ---------------------------------------------------------- */

static void show(const struct run_sim *s, struct lines *t, char *a, char *b,
    int *rc)
{
	struct lines la = { NULL, 0 }, lb = { NULL, 0 };
	unsigned long item;
	long i;

	if (split_lines(a, &la) != 0 || split_lines(b, &lb) != 0) {
		free(la.v);
		fprintf(stderr, "aspace: out of memory\n");
		*rc = 2;
		return;
	}
	put_table(t, &la, &lb);
	if ((i = first_diff(&la, &lb, &item)) < 0)
		printf("identical: the simulator and Linux agree on all %zu "
		    "output lines\n", la.n);
	else
		put_first_diff(t, &la, &lb, i, item);
	put_notes(s, t, &lb, i, item);
	*rc = i < 0 ? 0 : 1;
	free(la.v);
	free(lb.v);
}

int run_compare_one(const struct run_sim *s, const char *path)
{
	struct run_result a, b;
	struct lines t = { NULL, 0 };
	size_t len;
	char *text = run_read_trace(path, &len);
	int rc = 2;

	if (text == NULL)
		return 2;
	run_sim_capture(s, path, text, len, &a);
	run_linux_capture(path, text, len, &b);
	if (a.rc <= 1 && b.rc <= 1) {
		if (split_lines(text, &t) == 0)
			show(s, &t, a.out, b.out, &rc);
		else
			fprintf(stderr, "aspace: out of memory\n");
	}
	free(t.v);
	free(a.out);
	free(b.out);
	free(text);
	return rc;
}

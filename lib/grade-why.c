/*
 * grade-why.c: why an item is wrong (grade-int.h).  For an access, the
 * fault path the simulator took (explain.h); for maps, the VMA lines
 * that differ and, for a merge or a split the student missed, the rule
 * of vma_merge() that decided it, read from the lines themselves; for
 * smaps, the figures that differ, VMA by VMA, with what each counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "explain.h"
#include "grade-int.h"
#include "trace_parse.h"

#define WHY_MAX		(64UL << 10)
#define VLINES_MAX	4096

/* One line of a maps or smaps block, and what a maps line says. */
struct vline {
	const char	*s;
	size_t		 n;
	int		 indent;
	int		 ok;		/* a maps line that parsed */
	unsigned long	 start, end, off;
	char		 perms[5];
	const char	*name;
	size_t		 namelen;
};

struct vlines {
	struct vline	*v;
	size_t		 n;
	int		*only;		/* 1: not on the other side */
};

static void parse_vline(struct vline *l)
{
	int pos = 0;

	l->ok = sscanf(l->s, "%lx-%lx %4s %lx%n", &l->start, &l->end,
	    l->perms, &l->off, &pos) == 4 && (size_t)pos <= l->n;
	if (!l->ok)
		return;
	l->name = l->s + pos;
	l->namelen = l->n - (size_t)pos;
	if (l->namelen > 0 && *l->name == ' ') {
		l->name++;
		l->namelen--;
	}
}

/* The lines of a block after its "N: ..." line, indents dropped. */
static int split_block(const char *text, struct vlines *vl)
{
	const char *p = text, *end = text + strlen(text), *s;
	size_t n;
	int first = 1, ind;

	memset(vl, 0, sizeof(*vl));
	vl->v = calloc(VLINES_MAX, sizeof(*vl->v));
	vl->only = calloc(VLINES_MAX, sizeof(*vl->only));
	if (vl->v == NULL || vl->only == NULL)
		return -1;
	while (vl->n < VLINES_MAX && grade_next_line(&p, end, &s, &n)) {
		if (first) {
			first = 0;
			continue;
		}
		for (ind = 0; (size_t)ind < n && (s[ind] == ' ' ||
		    s[ind] == '\t'); ind++)
			;
		vl->v[vl->n].s = s + ind;
		vl->v[vl->n].n = n - (size_t)ind;
		vl->v[vl->n].indent = ind;
		parse_vline(&vl->v[vl->n]);
		vl->n++;
	}
	return 0;
}

static void vlines_free(struct vlines *vl)
{
	free(vl->v);
	free(vl->only);
}

static bool same(const struct vline *a, const struct vline *b)
{
	return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

/* Mark the lines of a not in b (only top-level lines: VMA lines). */
static void mark_only(struct vlines *a, const struct vlines *b)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		a->only[i] = a->v[i].indent <= 2;
		for (j = 0; j < b->n && a->only[i]; j++)
			if (b->v[j].indent <= 2 && same(&a->v[i], &b->v[j]))
				a->only[i] = 0;
	}
}

static void put_only(struct as_buf *b, const char *title,
    const struct vlines *vl)
{
	size_t i;
	int first = 1;

	for (i = 0; i < vl->n; i++) {
		if (!vl->only[i])
			continue;
		if (first)
			as_buf_printf(b, "%s\n", title);
		first = 0;
		as_buf_printf(b, "  %.*s\n", (int)vl->v[i].n, vl->v[i].s);
	}
}

static bool name_eq(const struct vline *a, const struct vline *b)
{
	return a->namelen == b->namelen &&
	    memcmp(a->name, b->name, a->namelen) == 0;
}

/* Why two adjacent VMAs a and b stay apart. */
static void rule_apart(struct as_buf *b, const struct vline *x,
    const struct vline *y)
{
	if (strcmp(x->perms, y->perms) != 0)
		as_buf_printf(b, "their permissions differ (%s, %s): "
		    "vma_merge() needs equal vm_flags (is_mergeable_vma())",
		    x->perms, y->perms);
	else if (!name_eq(x, y))
		as_buf_printf(b, "they map different things (\"%.*s\", "
		    "\"%.*s\"): is_mergeable_vma() needs the same file",
		    (int)x->namelen, x->name, (int)y->namelen, y->name);
	else if (x->namelen > 0 && x->name[0] != '[' &&
	    x->off + (x->end - x->start) != y->off)
		as_buf_printf(b, "the file offsets do not follow on (0x%lx + "
		    "0x%lx != 0x%lx): can_vma_merge_after() needs vm_pgoff "
		    "contiguous", x->off, x->end - x->start, y->off);
	else
		as_buf_printf(b, "same permissions and mapping, kept apart by "
		    "what maps does not show: a flag such as VM_LOCKED "
		    "(mlock) or from madvise, or different anon_vmas "
		    "(is_mergeable_anon_vma(): one was faulted before a fork)");
}

/* Do the only-lines of part lie end to end over [start, end)?  Count. */
static size_t tiles(const struct vlines *part, unsigned long start,
    unsigned long end, size_t *first)
{
	unsigned long at = start;
	size_t i, k = 0;

	for (i = 0; i < part->n; i++) {
		if (!part->only[i] || !part->v[i].ok ||
		    part->v[i].start < start || part->v[i].end > end)
			continue;
		if (part->v[i].start != at)
			return 0;
		if (k++ == 0)
			*first = i;
		at = part->v[i].end;
	}
	return at == end ? k : 0;
}

/* The student's one VMA is several: each boundary's rule. */
static void missed_splits(struct as_buf *b, const struct vlines *ex,
    const struct vlines *gv)
{
	size_t i, j, k, first = 0;
	const struct vline *prev;

	for (i = 0; i < gv->n; i++) {
		if (!gv->only[i] || !gv->v[i].ok || (k = tiles(ex,
		    gv->v[i].start, gv->v[i].end, &first)) < 2)
			continue;
		as_buf_printf(b, "missed split: %lx-%lx is %zu VMAs\n",
		    gv->v[i].start, gv->v[i].end, k);
		prev = &ex->v[first];
		for (j = first + 1; j < ex->n; j++) {
			if (!ex->only[j] || !ex->v[j].ok ||
			    ex->v[j].start != prev->end ||
			    ex->v[j].end > gv->v[i].end)
				continue;
			as_buf_printf(b, "  at %lx: ", ex->v[j].start);
			rule_apart(b, prev, &ex->v[j]);
			as_buf_put(b, "\n", 1);
			prev = &ex->v[j];
		}
	}
}

/* The student's several VMAs are one. */
static void missed_merges(struct as_buf *b, const struct vlines *ex,
    const struct vlines *gv)
{
	size_t i, first = 0;
	const struct vline *e;

	for (i = 0; i < ex->n; i++) {
		e = &ex->v[i];
		if (!ex->only[i] || !e->ok ||
		    tiles(gv, e->start, e->end, &first) < 2)
			continue;
		as_buf_printf(b, "missed merge: %lx-%lx is one VMA: adjacent "
		    "VMAs with equal flags and %s merge (vma_merge(): "
		    "is_mergeable_vma(), can_vma_merge_after())\n", e->start,
		    e->end, e->namelen > 0 && e->name[0] != '[' ?
		    "contiguous offsets in the same file" :
		    "compatible anon_vmas");
	}
}

static void why_maps(struct as_buf *b, const char *expected,
    const char *given)
{
	struct vlines ex = { 0 }, gv = { 0 };

	if (split_block(expected, &ex) == 0 && split_block(given, &gv) == 0) {
		mark_only(&ex, &gv);
		mark_only(&gv, &ex);
		put_only(b, "VMAs expected, not given:", &ex);
		put_only(b, "VMAs given, not expected:", &gv);
		missed_splits(b, &ex, &gv);
		missed_merges(b, &ex, &gv);
	}
	vlines_free(&ex);
	vlines_free(&gv);
}

/* What an smaps figure counts. */
static const char *figure_hint(const char *s, size_t n)
{
	static const struct { const char *name, *hint; } h[] = {
		{ "Rss:", "pages mapped (the zero page not counted)" },
		{ "Pss:", "each page's size divided by its mapcount" },
		{ "Shared_Clean:", "clean pages of mapcount > 1" },
		{ "Shared_Dirty:", "dirty pages of mapcount > 1" },
		{ "Private_Clean:", "clean pages of mapcount 1" },
		{ "Private_Dirty:", "dirty pages of mapcount 1 (written, or "
		    "anonymous)" },
		{ "Anonymous:", "anonymous pages, COW copies included" },
		{ "Swap:", "pages swapped out" },
		{ "Locked:", "pages of an mlocked VMA" },
		{ "VmFlags:", "the VMA's flags" },
	};
	size_t i, l;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		l = strlen(h[i].name);
		if (n >= l && memcmp(s, h[i].name, l) == 0)
			return h[i].hint;
	}
	return NULL;
}

/* The given block's line with the same field name as e, under header gh. */
static const struct vline *given_field(const struct vlines *gv, size_t gh,
    const struct vline *e)
{
	const char *colon = memchr(e->s, ':', e->n);
	size_t k = colon != NULL ? (size_t)(colon - e->s) + 1 : e->n, j;

	for (j = gh + 1; j < gv->n && gv->v[j].indent > 2; j++)
		if (gv->v[j].n >= k && memcmp(gv->v[j].s, e->s, k) == 0)
			return &gv->v[j];
	return NULL;
}

/* The indented lines under the line header in pages (the note of the
 * smaps line: grade-pages.c), after a title. */
static void put_pages(struct as_buf *b, const struct vline *header,
    const char *pages)
{
	const char *p = pages, *end = pages + strlen(pages), *s;
	size_t n;
	int in = 0;

	while (grade_next_line(&p, end, &s, &n)) {
		if (n > 0 && s[0] != ' ') {
			if (in)
				return;
			if ((in = n == header->n &&
			    memcmp(s, header->s, n) == 0))
				as_buf_printf(b, "the pages behind its figures:"
				    "\n");
			continue;
		}
		if (in)
			as_buf_printf(b, "%.*s\n", (int)n, s);
	}
}

static void figures(struct as_buf *b, const struct vlines *ex, size_t eh,
    const struct vlines *gv, size_t gh, const char *pages)
{
	const struct vline *e, *g;
	const char *hint;
	size_t i, wrong = 0;

	for (i = eh + 1; i < ex->n && ex->v[i].indent > 2; i++) {
		e = &ex->v[i];
		g = given_field(gv, gh, e);
		if (g != NULL && same(e, g))
			continue;
		as_buf_printf(b, "%.*s: expected \"%.*s\", given \"%.*s\"",
		    (int)ex->v[eh].n, ex->v[eh].s, (int)e->n, e->s,
		    g != NULL ? (int)g->n : 0, g != NULL ? g->s : "");
		if ((hint = figure_hint(e->s, e->n)) != NULL)
			as_buf_printf(b, " (%s)", hint);
		as_buf_put(b, "\n", 1);
		wrong++;
	}
	if (wrong > 0 && pages != NULL)
		put_pages(b, &ex->v[eh], pages);
}

static void why_smaps(struct as_buf *b, const char *expected,
    const char *given, const char *pages)
{
	struct vlines ex = { 0 }, gv = { 0 };
	size_t i, j;

	if (split_block(expected, &ex) == 0 && split_block(given, &gv) == 0) {
		mark_only(&ex, &gv);
		mark_only(&gv, &ex);
		put_only(b, "VMAs expected, not given:", &ex);
		put_only(b, "VMAs given, not expected:", &gv);
		for (i = 0; i < ex.n; i++) {
			if (ex.v[i].indent > 2 || ex.only[i])
				continue;
			for (j = 0; j < gv.n; j++)
				if (gv.v[j].indent <= 2 &&
				    same(&ex.v[i], &gv.v[j]))
					break;
			if (j < gv.n)
				figures(b, &ex, i, &gv, j, pages);
		}
	}
	vlines_free(&ex);
	vlines_free(&gv);
}

/* An access's fault path, or any other command's path (explain.h). */
static void why_path(struct as_buf *b, const char *path, bool access)
{
	if (path == NULL || *path == '\0')
		return;
	if (access && strcmp(path, AS_EXPLAIN_NO_FAULT) != 0)
		as_buf_printf(b, "fault path: %s", path);
	else
		as_buf_printf(b, "%s%s", access ? "" : "path: ", path);
}

char *grade_why(const char *cmd, size_t n, const char *expected,
    const char *given, const char *fault)
{
	struct trace_cmd c;
	struct as_buf b;
	char err[160], *s;

	as_buf_init(&b, WHY_MAX);
	if (trace_parse_line(cmd, n, &c, err, sizeof(err)) > 0) {
		switch (c.op) {
		case T_READ: case T_WRITE: case T_TOUCH:
			why_path(&b, fault, true);
			break;
		case T_MAPS:
			why_maps(&b, expected, given);
			break;
		case T_SMAPS:
			why_smaps(&b, expected, given, fault);
			break;
		default:
			why_path(&b, fault, false);
			break;
		}
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	s = strndup(b.len > 0 ? b.data : "", b.len);
	as_buf_free(&b);
	return s;
}

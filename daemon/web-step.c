/*
 * web-step.c: the web stepper's snapshots and what changed between two
 * (web-step.h, docs/web.md).  A snapshot is the current task's VMAs, as
 * maps lines (and VmFlags), and its non-empty PTEs' pages in address
 * order, each with the state the pages request gives (pages_pte_state(),
 * req-pages.c) as one letter; a shmem VMA's pages swapped out of its
 * object, which have no PTE, are there too, as the pages request finds
 * them.  Comparing two: VMAs whose maps lines and VmFlags are in both
 * are unchanged; the rest fall into groups that overlap (an old VMA and
 * the new ones made of it), each told by its kind: added (no old),
 * removed (no new), split (one into several), merged (several into
 * one), grown or shrunk (one into one, wider or narrower), changed (the
 * rest: perms, VmFlags, a mix).  PTEs: each page whose state or frame
 * is not the same, "." for one gone.  Bounded by WEB_STEP_* (web-step.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_share.h"
#include "session.h"
#include "shmem.h"
#include "web-json.h"
#include "web-step.h"

/* A string literal into j. */
#define PUT(j, lit)	as_buf_put((j), (lit), sizeof(lit) - 1)

void step_snap_init(struct step_snap *s)
{
	memset(s, 0, sizeof(*s));
	as_buf_init(&s->text, 64u << 20);
}

void step_snap_free(struct step_snap *s)
{
	as_buf_free(&s->text);
	free(s->vmas);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

/* Room for one more of n elements of size in *p (cap elements); false
 * past max or out of memory. */
static bool grow(void **p, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	c = c > max ? max : c;
	if ((q = realloc(*p, c * size)) == NULL)
		return false;
	*p = q;
	*cap = c;
	return true;
}

/* The letter of a page state (as app.js reads it). */
static char state_letter(Aspace__Page__State st)
{
	static const char letters[] = ".ZASCFDW";

	return (size_t)st < sizeof(letters) - 1 ? letters[st] : '?';
}

/* --- taking a snapshot ------------------------------------------------- */

struct snap_walk {
	struct step_snap *s;
	struct vma	*vma;
	bool		 inexact;	/* a mapcount needs tables unshared */
};

static void snap_pte(void *arg, unsigned long addr, pte_t *pte)
{
	struct snap_walk *w = arg;
	struct step_snap *s = w->s;
	Aspace__Page p;

	if (s->pages_over)
		return;
	if (!grow((void **)&s->pages, &s->pcap, s->npages, sizeof(*s->pages),
	    WEB_STEP_PAGES)) {
		s->pages_over = true;
		return;
	}
	(void)pte;
	w->inexact |= !pages_pte_state(&p, w->vma, addr);
	if (p.state == ASPACE__PAGE__STATE__NOT_PRESENT)
		return;
	s->pages[s->npages].addr = addr;
	s->pages[s->npages].pfn = p.has_pfn ? p.pfn : 0;
	s->pages[s->npages++].state = state_letter(p.state);
}

static int page_cmp(const void *x, const void *y)
{
	const struct step_page *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* A shmem VMA's pages its object holds swapped out (no PTE) after its
 * pages from base on, kept in address order; as the pages request. */
static void snap_shmem_swap(struct step_snap *s, struct snap_walk *w,
    size_t base)
{
	const struct vma *vma = w->vma;
	size_t i = base, end = s->npages;
	unsigned long a;

	if (vma->vm_file == NULL || !file_inode(vma->vm_file)->shmem_zero ||
	    (vma->vm_end - vma->vm_start) / AS_PAGE_SIZE > WEB_STEP_PAGES)
		return;
	for (a = vma->vm_start; a < vma->vm_end && !s->pages_over;
	    a += AS_PAGE_SIZE) {
		while (i < end && s->pages[i].addr < a)
			i++;
		if ((i < end && s->pages[i].addr == a) ||
		    !pages_shmem_swapped(vma, a))
			continue;
		if (!grow((void **)&s->pages, &s->pcap, s->npages,
		    sizeof(*s->pages), WEB_STEP_PAGES)) {
			s->pages_over = true;
			return;
		}
		s->pages[s->npages].addr = a;
		s->pages[s->npages].pfn = 0;
		s->pages[s->npages++].state = 'W';
	}
	if (s->npages > end)
		qsort(s->pages + base, s->npages - base, sizeof(*s->pages),
		    page_cmp);
}

/* One VMA's maps line and pages into s. */
static void snap_vma(struct step_snap *s, struct vma *vma,
    struct snap_walk *w)
{
	struct step_vma *v;

	if (!grow((void **)&s->vmas, &s->vcap, s->nvmas, sizeof(*s->vmas),
	    WEB_STEP_VMAS)) {
		s->vmas_over = true;
		return;
	}
	v = &s->vmas[s->nvmas++];
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->flags = vma->vm_flags;
	v->off = s->text.len;
	show_map_vma(&s->text, "", vma);
	v->len = s->text.len - v->off;
	if (v->len > 0 && s->text.data[v->off + v->len - 1] == '\n')
		v->len--;		/* the line without its newline */
	if (!s->pages_over) {
		size_t base = s->npages;

		w->vma = vma;
		walk_page_range_ro(vma->vm_mm, vma->vm_start, vma->vm_end,
		    snap_pte, w);
		snap_shmem_swap(s, w, base);
	}
}

/* One try at the snapshot; false if a mapcount needed the session's
 * tables unshared (pt_share.c). */
static bool snap_try(struct step_snap *s, struct task *t)
{
	struct snap_walk w = { .s = s };
	struct vma *vma;

	s->nvmas = s->npages = 0;	/* the arrays kept for the next */
	s->vmas_over = s->pages_over = false;
	as_buf_reset(&s->text);
	mmap_read_lock(t->mm);
	for (vma = find_vma(t->mm, 0); vma != NULL && !s->vmas_over;
	    vma = vma->vm_next)
		snap_vma(s, vma, &w);
	mmap_read_unlock(t->mm);
	return !w.inexact;
}

void step_snap_take(struct step_snap *s, struct as_session *sess, int pid)
{
	struct task *t = as_task_lookup(sess, pid);

	s->task = pid;
	if (t == NULL) {
		s->nvmas = s->npages = 0;
		s->vmas_over = s->pages_over = false;
		as_buf_reset(&s->text);
		return;
	}
	if (!snap_try(s, t)) {	/* tables as they are, where that is exact */
		session_unshare_tables(sess);
		(void)snap_try(s, t);
	}
}

/* --- VMAs: what changed ------------------------------------------------ */

/* The same VMA: its maps line and its VmFlags. */
static bool same_line(const struct step_snap *a, const struct step_vma *x,
    const struct step_snap *b, const struct step_vma *y)
{
	return x->start == y->start && x->flags == y->flags &&
	    x->len == y->len &&
	    memcmp(a->text.data + x->off, b->text.data + y->off, x->len) == 0;
}

/* Mark in ka[] and kb[] the VMAs of a and b whose maps line is in both. */
static void mark_kept(const struct step_snap *a, const struct step_snap *b,
    bool *ka, bool *kb)
{
	size_t i = 0, k = 0;

	while (i < a->nvmas && k < b->nvmas) {
		const struct step_vma *x = &a->vmas[i], *y = &b->vmas[k];

		if (x->start < y->start)
			i++;
		else if (y->start < x->start)
			k++;
		else {
			ka[i] = kb[k] = same_line(a, x, b, y);
			i++;
			k++;
		}
	}
}

/* A group of VMAs that overlap: old ones [a0, a1) of a, new [b0, b1) of b
 * (the kept ones among them skipped). */
struct group {
	size_t		 a0, a1, b0, b1;
	size_t		 nold, nnew;
	unsigned long	 lo, hi;
};

static const char *group_kind(const struct group *g,
    const struct step_snap *a, const struct step_snap *b, const bool *ka,
    const bool *kb)
{
	const struct step_vma *o = NULL, *n = NULL;
	size_t i;

	if (g->nold == 0)
		return "added";
	if (g->nnew == 0)
		return "removed";
	if (g->nold == 1 && g->nnew > 1)
		return "split";
	if (g->nold > 1 && g->nnew == 1)
		return "merged";
	if (g->nold > 1)
		return "changed";
	for (i = g->a0; i < g->a1; i++)
		o = ka[i] ? o : &a->vmas[i];
	for (i = g->b0; i < g->b1; i++)
		n = kb[i] ? n : &b->vmas[i];
	if (n->start <= o->start && n->end >= o->end &&
	    n->end - n->start > o->end - o->start)
		return "grown";
	if (n->start >= o->start && n->end <= o->end &&
	    n->end - n->start < o->end - o->start)
		return "shrunk";
	return "changed";
}

/* Add the next changed VMA at or after *i of s (kept[] skipped) to g if
 * it starts below g->hi (or g is empty); true if one was added. */
static bool group_take(struct group *g, const struct step_snap *s,
    const bool *kept, size_t *i, size_t *n)
{
	while (*i < s->nvmas && kept[*i])
		(*i)++;
	if (*i >= s->nvmas || (g->lo != g->hi && s->vmas[*i].start >= g->hi))
		return false;
	if (g->lo == g->hi) {
		g->lo = s->vmas[*i].start;
		g->hi = s->vmas[*i].end;
	}
	if (s->vmas[*i].end > g->hi)
		g->hi = s->vmas[*i].end;
	(*n)++;
	(*i)++;
	return true;
}

/* The next group from *i of a and *k of b; false when none is left. */
static bool next_group(struct group *g, const struct step_snap *a,
    const struct step_snap *b, const bool *ka, const bool *kb, size_t *i,
    size_t *k)
{
	while (*i < a->nvmas && ka[*i])
		(*i)++;
	while (*k < b->nvmas && kb[*k])
		(*k)++;
	memset(g, 0, sizeof(*g));
	g->a0 = *i;
	g->b0 = *k;
	if (*i < a->nvmas && (*k >= b->nvmas ||
	    a->vmas[*i].start <= b->vmas[*k].start))
		group_take(g, a, ka, i, &g->nold);
	else if (!group_take(g, b, kb, k, &g->nnew))
		return false;
	while (group_take(g, a, ka, i, &g->nold) ||
	    group_take(g, b, kb, k, &g->nnew))
		;
	g->a1 = *i;
	g->b1 = *k;
	return true;
}

/* "old" or "new": the group's maps lines of s, at most WEB_STEP_LINES. */
static void group_lines(struct as_buf *j, const char *name,
    const struct step_snap *s, const bool *kept, size_t from, size_t to)
{
	size_t i, n = 0;

	as_buf_printf(j, ",\"%s\":[", name);
	for (i = from; i < to; i++) {
		if (kept[i])
			continue;
		if (n++ == WEB_STEP_LINES)
			break;
		if (n > 1)
			PUT(j, ",");
		web_json_str(j, s->text.data + s->vmas[i].off, s->vmas[i].len);
	}
	PUT(j, "]");
}

/* The groups of a and b (ka[], kb[]: the kept VMAs) as "changes". */
static void groups_json(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b, const bool *ka, const bool *kb)
{
	size_t i = 0, k = 0, n = 0;
	struct group g;

	PUT(j, ",\"changes\":[");
	for (; next_group(&g, a, b, ka, kb, &i, &k); n++) {
		if (n >= WEB_STEP_CHANGES)
			continue;
		as_buf_printf(j, "%s{\"kind\":\"%s\",\"nold\":%zu,"
		    "\"nnew\":%zu", n > 0 ? "," : "",
		    group_kind(&g, a, b, ka, kb), g.nold, g.nnew);
		group_lines(j, "old", a, ka, g.a0, g.a1);
		group_lines(j, "new", b, kb, g.b0, g.b1);
		PUT(j, "}");
	}
	PUT(j, "]");
	if (n > WEB_STEP_CHANGES)
		as_buf_printf(j, ",\"changes_omitted\":\"%zu changes, the "
		    "first %u told (a step's cap)\"", n, WEB_STEP_CHANGES);
}

void step_changes_json(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b)
{
	bool *ka, *kb;

	if (a->vmas_over || b->vmas_over) {
		as_buf_printf(j, ",\"changes_omitted\":\"over %u VMAs: a "
		    "step keeps %u\"", WEB_STEP_VMAS, WEB_STEP_VMAS);
		return;
	}
	ka = calloc(a->nvmas + 1, 1);
	kb = calloc(b->nvmas + 1, 1);
	if (ka != NULL && kb != NULL) {
		mark_kept(a, b, ka, kb);
		groups_json(j, a, b, ka, kb);
	} else
		PUT(j, ",\"changes_omitted\":\"out of memory\"");
	free(ka);
	free(kb);
}

/* --- PTEs: what changed ------------------------------------------------ */

static void pte_json(struct as_buf *j, size_t n, const struct step_page *p,
    unsigned long addr)
{
	if (n > 0)
		PUT(j, ",");
	if (p == NULL)
		as_buf_printf(j, "[%lu,\".\"]", addr);
	else if (p->state == 'W' || p->state == '.')
		as_buf_printf(j, "[%lu,\"%c\"]", p->addr, p->state);
	else
		as_buf_printf(j, "[%lu,\"%c\",%llu]", p->addr, p->state,
		    (unsigned long long)p->pfn);
}

static bool same_page(const struct step_page *x, const struct step_page *y)
{
	return x->state == y->state && x->pfn == y->pfn;
}

/* The PTE changes from a to b (all of b's pages if full): how many;
 * written while fewer than cap. */
static size_t ptes_diff(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b, bool full, size_t cap)
{
	size_t i = 0, k = 0, n = 0, na = full ? 0 : a->npages;
	const struct step_page *x, *y;

	while (i < na || k < b->npages) {
		x = i < na ? &a->pages[i] : NULL;
		y = k < b->npages ? &b->pages[k] : NULL;
		if (y == NULL || (x != NULL && x->addr < y->addr)) {
			if (n < cap)
				pte_json(j, n, NULL, x->addr);
			n++;
			i++;
			continue;
		}
		if (x == NULL || y->addr < x->addr || !same_page(x, y)) {
			if (n < cap)
				pte_json(j, n, y, 0);
			n++;
		}
		i += x != NULL && x->addr == y->addr;
		k++;
	}
	return n;
}

bool step_ptes_json(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b, bool full)
{
	size_t n, mark, cap = full ? WEB_STEP_PAGES : WEB_STEP_PTES;

	if (b->pages_over || b->vmas_over) {
		as_buf_printf(j, ",\"ptes_omitted\":\"over %u pages mapped: "
		    "a step keeps %u\"", WEB_STEP_PAGES, WEB_STEP_PAGES);
		return false;
	}
	mark = j->len;
	if (full)
		PUT(j, ",\"ptes_full\":true");
	PUT(j, ",\"ptes\":[");
	n = ptes_diff(j, a, b, full, cap);
	PUT(j, "]");
	if (n > cap && !j->overflow) {
		j->len = mark;		/* none rather than some */
		as_buf_printf(j, ",\"ptes_omitted\":\"%zu PTEs changed: a "
		    "step tells %zu\"", n, cap);
		return false;
	}
	return true;
}

/* --- counters ---------------------------------------------------------- */

/* The counters the page charts, as in struct as_counters. */
#define COUNTERS(X) X(minor_faults) X(major_faults) X(anon_faults) \
	X(file_read_faults) X(shared_faults) X(zero_page_maps) \
	X(cow_copies) X(wp_reuses) X(fault_around_pages) \
	X(stack_expansions) X(vmacache_hits) X(vmacache_misses)

void step_counter_names_json(struct as_buf *j)
{
#define NAME(f) "\"" #f "\","
	static const char names[] = COUNTERS(NAME);
#undef NAME

	PUT(j, ",\"counter_names\":[");
	as_buf_put(j, names, sizeof(names) - 2);	/* the last comma */
	PUT(j, "]");
}

void step_counters_json(struct as_buf *j, struct as_session *sess)
{
	struct as_counters k;
	size_t i;

	as_session_counters(sess, &k);
#define VALUE(f) k.f,
	const unsigned long v[] = { COUNTERS(VALUE) };
#undef VALUE
	PUT(j, ",\"counters\":[");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		as_buf_printf(j, "%s%lu", i > 0 ? "," : "", v[i]);
	PUT(j, "]");
}

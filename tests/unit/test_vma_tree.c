/*
 * test_vma_tree.c: unit tests of the VMA index (lib/vma_iter.c, the maple
 * tree under it), through its API.
 *
 *  - small deterministic cases, each with a picture of the address space;
 *  - random inserts, erases and in-place adjusts checked after every step
 *    against a sorted array of the same VMAs (find, find_before and both gap
 *    searches answered by brute force over the array);
 *  - a scale test with AS_DEFAULT_MAX_MAP_COUNT VMAs.
 *
 * VMA_TREE_SEED=<n> in the environment replays another random sequence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vma_iter.h"

#define PG	AS_PAGE_SIZE
#define NOMEM	((unsigned long)-ENOMEM)
#define GUARD	AS_STACK_GUARD_GAP

/* ---- random numbers: xorshift64* ---- */

static uint64_t rng_state = 0x5eed;
static uint64_t rng_seed;	/* for the failure messages */

static unsigned long rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned long)(rng_state * 0x2545F4914F6CDD1DULL);
}

static unsigned long rnd_below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static unsigned long sat_add(unsigned long a, unsigned long b)
{
	return a + b < a ? ULONG_MAX : a + b;
}

static unsigned long sat_sub(unsigned long a, unsigned long b)
{
	return a < b ? 0 : a - b;
}

static void mkvma(struct vma *v, unsigned long start, unsigned long end,
    unsigned long flags)
{
	memset(v, 0, sizeof(*v));
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
}

static void assert_valid(struct maple_tree *t)
{
	const char *err = vma_mt_validate(t);

	if (err)
		fail_msg("vma_mt_validate: %s", err);
}

/* ---- the model: the same VMAs in a sorted array ---- */

struct model {
	struct vma	**v;
	size_t		  n;
};

/* Index of the first VMA with vm_start >= addr. */
static size_t model_lower(const struct model *m, unsigned long addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid]->vm_start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void model_insert(struct model *m, struct vma *v)
{
	size_t i = model_lower(m, v->vm_start);

	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(m->v[0]));
	m->v[i] = v;
	m->n++;
}

static void model_erase(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
	m->n--;
}

/* Would [start, end) overlap a VMA of the model? */
static int model_overlaps(const struct model *m, unsigned long start,
    unsigned long end)
{
	size_t i = model_lower(m, end);

	return i > 0 && m->v[i - 1]->vm_end > start;
}

static struct vma *model_find(const struct model *m, unsigned long addr)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i]->vm_end > addr)
			return m->v[i];
	return NULL;
}

static struct vma *model_find_before(const struct model *m,
    unsigned long addr)
{
	for (size_t i = m->n; i > 0; i--)
		if (m->v[i - 1]->vm_start < addr)
			return m->v[i - 1];
	return NULL;
}

/* Gap i lies before m->v[i]; gap m->n is above the last VMA. */
static void model_gap(const struct model *m, size_t i, unsigned long *start,
    unsigned long *end)
{
	*start = i ? vm_end_gap(m->v[i - 1]) : 0;
	*end = i < m->n ? vm_start_gap(m->v[i]) : ULONG_MAX;
}

struct query {
	unsigned long len, lo, hi, mask, off;
};

/* Clip gap i to the limits; does it hold len + mask bytes? */
static int model_clip(const struct model *m, size_t i, const struct query *q,
    unsigned long *s, unsigned long *e)
{
	unsigned long need = q->len + q->mask;

	model_gap(m, i, s, e);
	if (*s < q->lo)
		*s = q->lo;
	if (*e > q->hi)
		*e = q->hi;
	return need >= q->len && *e >= *s && *e - *s >= need;
}

static unsigned long model_topdown(const struct model *m,
    const struct query *q)
{
	unsigned long s, e, addr;

	for (size_t i = m->n + 1; i > 0; i--) {
		if (!model_clip(m, i - 1, q, &s, &e))
			continue;
		addr = e - q->len;
		return addr - ((addr - q->off) & q->mask);
	}
	return NOMEM;
}

static unsigned long model_bottomup(const struct model *m,
    const struct query *q)
{
	unsigned long s, e;

	for (size_t i = 0; i <= m->n; i++)
		if (model_clip(m, i, q, &s, &e))
			return s + ((q->off - s) & q->mask);
	return NOMEM;
}

/* Independent of the above: is addr a legal answer to q at all? */
static void check_answer(const struct model *m, const struct query *q,
    unsigned long addr)
{
	unsigned long s, e;

	if (addr == NOMEM)
		return;
	assert_true(addr >= q->lo && addr + q->len >= addr);
	assert_true(addr + q->len <= q->hi);
	assert_true((addr & q->mask) == (q->off & q->mask));
	for (size_t i = 0; i <= m->n; i++) {
		model_gap(m, i, &s, &e);
		if (s <= addr && addr + q->len <= e)
			return;
	}
	fail_msg("answer %#lx (len %#lx) is in no gap", addr, q->len);
}

static void check_gap_query(struct maple_tree *t, const struct model *m,
    const struct query *q)
{
	unsigned long want, got;

	want = model_topdown(m, q);
	got = vma_mt_gap_topdown(t, q->len, q->lo, q->hi, q->mask, q->off);
	if (got != want)
		fail_msg("topdown len %#lx lo %#lx hi %#lx mask %#lx off %#lx: "
		    "got %#lx want %#lx", q->len, q->lo, q->hi, q->mask, q->off,
		    got, want);
	check_answer(m, q, got);
	want = model_bottomup(m, q);
	got = vma_mt_gap_bottomup(t, q->len, q->lo, q->hi, q->mask, q->off);
	if (got != want)
		fail_msg("bottomup len %#lx lo %#lx hi %#lx mask %#lx off %#lx: "
		    "got %#lx want %#lx", q->len, q->lo, q->hi, q->mask, q->off,
		    got, want);
	check_answer(m, q, got);
}

static void check_find(struct maple_tree *t, const struct model *m,
    unsigned long addr)
{
	if (vma_mt_find(t, addr) != model_find(m, addr))
		fail_msg("vma_mt_find(%#lx) differs from the model", addr);
	if (vma_mt_find_before(t, addr) != model_find_before(m, addr))
		fail_msg("vma_mt_find_before(%#lx) differs from the model",
		    addr);
}

/* The tree's list, count, first and last against the model. */
static void check_list(struct maple_tree *t, const struct model *m)
{
	const struct vma *v = t->first;

	assert_int_equal(t->count, m->n);
	for (size_t i = 0; i < m->n; i++, v = v->vm_next)
		assert_ptr_equal(v, m->v[i]);
	assert_null(v);
	assert_ptr_equal(t->last, m->n ? m->v[m->n - 1] : NULL);
}

/* ---- deterministic cases ---- */

static void test_empty(void **state)
{
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	assert_valid(&t);
	assert_null(vma_mt_find(&t, 0));
	assert_null(vma_mt_find_before(&t, ULONG_MAX));
	/* One gap, [0, ULONG_MAX). */
	assert_int_equal(vma_mt_gap_topdown(&t, PG, 0x10000, 0x20000, 0, 0),
	    0x1f000);
	assert_int_equal(vma_mt_gap_bottomup(&t, PG, 0x10000, 0x20000, 0, 0),
	    0x10000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x10001, 0x10000, 0x20000,
	    0, 0), NOMEM);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x10000, 0x20000, 0x10000,
	    0, 0), NOMEM);
	/* length + align_mask overflows. */
	assert_int_equal(vma_mt_gap_topdown(&t, ULONG_MAX - PG, 0,
	    ULONG_MAX, 0xfffff, 0), NOMEM);	vma_mt_destroy(&t);
}

static void test_find_two(void **state)
{
	struct vma a, b;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x1000, 0x3000, 0);
	mkvma(&b, 0x6000, 0x7000, 0);
	vma_mt_insert(&t, &b);
	vma_mt_insert(&t, &a);
	assert_valid(&t);
	/*
	 *  0x1000  0x3000      0x6000 0x7000
	 *    |AAAAAA|    gap    |BBBBBB|
	 */
	assert_ptr_equal(t.first, &a);
	assert_ptr_equal(t.last, &b);
	assert_ptr_equal(a.vm_next, &b);
	assert_ptr_equal(b.vm_prev, &a);
	assert_ptr_equal(vma_mt_find(&t, 0), &a);
	assert_ptr_equal(vma_mt_find(&t, 0x2fff), &a);
	assert_ptr_equal(vma_mt_find(&t, 0x3000), &b);
	assert_ptr_equal(vma_mt_find(&t, 0x6fff), &b);
	assert_null(vma_mt_find(&t, 0x7000));
	assert_null(vma_mt_find_before(&t, 0x1000));
	assert_ptr_equal(vma_mt_find_before(&t, 0x1001), &a);
	assert_ptr_equal(vma_mt_find_before(&t, 0x6000), &a);
	assert_ptr_equal(vma_mt_find_before(&t, 0x6001), &b);
	assert_ptr_equal(vma_mt_find_before(&t, ULONG_MAX), &b);
	/* The middle gap fits exactly three pages, not four. */
	assert_int_equal(vma_mt_gap_topdown(&t, 0x3000, 0, 0x7000, 0, 0),
	    0x3000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x4000, 0, 0x7000, 0, 0),
	    NOMEM);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x4000, 0, 0x10000, 0, 0),
	    0xc000);	vma_mt_destroy(&t);
}

static void test_limits_clip(void **state)
{
	struct vma a, b, c;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x2000, 0x3000, 0);
	mkvma(&b, 0x8000, 0x9000, 0);
	mkvma(&c, 0xc000, 0xd000, 0);
	vma_mt_insert(&t, &a);
	vma_mt_insert(&t, &c);
	vma_mt_insert(&t, &b);
	assert_valid(&t);
	/*
	 *  0x0    0x2000 0x3000         0x8000 0x9000    0xc000 0xd000
	 *   | gap  |AAAA|      gap      |BBBB|    gap    |CCCC|   gap ...
	 *   2 pages          5 pages             3 pages
	 */
	/* A high limit of 0xb000 leaves 2 pages of B..C: too few. */
	assert_int_equal(vma_mt_gap_topdown(&t, 0x3000, 0, 0xb000, 0, 0),
	    0x5000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x3000, 0, 0xc000, 0, 0),
	    0x9000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x3000, 0, 0x7000, 0, 0),
	    0x4000);
	/* A low limit of 0x6000 leaves 2 pages of A..B: too few. */
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x3000, 0x6000, 0xd000,
	    0, 0), 0x9000);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x3000, 0x5000, 0xd000,
	    0, 0), 0x5000);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x2000, 0, 0xd000, 0, 0),
	    0);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x2000, 0x1000, 0xd000,
	    0, 0), 0x3000);
	/* Nothing below 0xd000 holds 6 pages; above C everything does. */
	assert_int_equal(vma_mt_gap_topdown(&t, 0x6000, 0, 0xd000, 0, 0),
	    NOMEM);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x6000, 0, 0xd000, 0, 0),
	    NOMEM);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x6000, 0, 0x20000, 0, 0),
	    0x1a000);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x6000, 0, 0x20000, 0, 0),
	    0xd000);	vma_mt_destroy(&t);
}

static void test_growsdown_guard(void **state)
{
	struct vma a, s;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x100000, 0x101000, 0);
	mkvma(&s, 0x300000, 0x400000, VM_GROWSDOWN);
	vma_mt_insert(&t, &s);
	vma_mt_insert(&t, &a);
	assert_valid(&t);
	/*
	 *  0x100000 0x101000     0x200000       0x300000   0x400000
	 *     |AAAAAAA|     gap     | guard gap  |SSSSSSSSSS|
	 *  the stack S grows down: its 1 MiB guard gap is not free.
	 */
	assert_int_equal(vma_mt_gap_topdown(&t, PG, 0, 0x300000, 0, 0),
	    0x1ff000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0xff000, 0, 0x300000, 0, 0),
	    0x101000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x100000, 0, 0x300000,
	    0, 0), 0);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x100000, 0x1000, ULONG_MAX,
	    0, 0), 0x400000);
	/* find() does not see the guard gap. */
	assert_ptr_equal(vma_mt_find(&t, 0x101000), &s);
	assert_ptr_equal(vma_mt_find_before(&t, 0x300000), &a);	vma_mt_destroy(&t);
}

static void test_growsdown_low(void **state)
{
	struct vma s;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&s, 0x80000, 0x90000, VM_GROWSDOWN);
	vma_mt_insert(&t, &s);
	assert_valid(&t);
	/*
	 *  0x0          0x80000 0x90000
	 *   | guard gap  |SSSSSS|   gap ...
	 *  the guard gap would start below 0: it is clamped at 0.
	 */
	assert_int_equal(vm_start_gap(&s), 0);
	assert_int_equal(vma_mt_gap_bottomup(&t, PG, 0, ULONG_MAX, 0, 0),
	    0x90000);
	assert_int_equal(vma_mt_gap_topdown(&t, PG, 0, 0x90000, 0, 0),
	    NOMEM);	vma_mt_destroy(&t);
}

static void test_alignment(void **state)
{
	struct vma a, b, c;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x1000, 0x2000, 0);
	mkvma(&b, 0x4000, 0x5000, 0);
	mkvma(&c, 0x10000, 0x11000, 0);
	vma_mt_insert(&t, &a);
	vma_mt_insert(&t, &b);
	vma_mt_insert(&t, &c);
	assert_valid(&t);
	/*
	 *  0x1000 0x2000     0x4000 0x5000                 0x10000 0x11000
	 *    |AAAAAA|  gap   |BBBBBB|          gap           |CCCCCCC|
	 *  A..B is 8 KiB at an 8 KiB boundary, yet like Linux the search
	 *  wants length + align_mask bytes and passes it over.
	 */
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x2000, 0x2000, 0x11000,
	    0x1fff, 0), 0x6000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x2000, 0, 0x10000,
	    0x1fff, 0x1000), 0xd000);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x2000, 0, 0x10000,
	    0x1fff, 0), 0xe000);
	assert_int_equal(vma_mt_gap_bottomup(&t, 0x2000, 0, 0x11000,
	    0x1fff, 0x1000), 0x5000);	vma_mt_destroy(&t);
}

static void test_adjust(void **state)
{
	struct vma a, b;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x1000, 0x3000, 0);
	mkvma(&b, 0x6000, 0x7000, 0);
	vma_mt_insert(&t, &a);
	vma_mt_insert(&t, &b);
	/*
	 *  0x1000  0x3000      0x6000 0x7000
	 *    |AAAAAA|    gap    |BBBBBB|
	 */
	assert_int_equal(vma_mt_gap_topdown(&t, 0x4000, 0, 0x7000, 0, 0),
	    NOMEM);
	/*
	 *  0x1000 0x2000       0x6000 0x7000
	 *    |AAA|      gap     |BBBBBB|
	 *  A's end moved: the gap of its successor B grew.
	 */
	a.vm_end = 0x2000;
	vma_mt_adjust(&t, &a);
	assert_valid(&t);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x4000, 0, 0x7000, 0, 0),
	    0x2000);
	/*
	 *  0x1000 0x2000     0x5000   0x7000
	 *    |AAA|    gap    |BBBBBBBB|
	 */
	b.vm_start = 0x5000;
	vma_mt_adjust(&t, &b);
	assert_valid(&t);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x4000, 0, 0x7000, 0, 0),
	    NOMEM);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x3000, 0, 0x7000, 0, 0),
	    0x2000);
	/*
	 *  0x0  0x1000 0x2000 0x5000   0x7000
	 *   |gap|AAA|  guard  |BBBBBBBB|
	 *  B now grows down; only the page below A is left.
	 */
	b.vm_flags |= VM_GROWSDOWN;
	vma_mt_adjust(&t, &b);
	assert_valid(&t);
	assert_int_equal(vma_mt_gap_topdown(&t, PG, 0, 0x7000, 0, 0), 0);	vma_mt_destroy(&t);
}

static void test_erase_merges_gaps(void **state)
{
	struct vma a, b, c;
	struct maple_tree t;

	(void)state;
	vma_mt_init(&t);
	mkvma(&a, 0x1000, 0x2000, 0);
	mkvma(&b, 0x4000, 0x5000, 0);
	mkvma(&c, 0x7000, 0x8000, 0);
	vma_mt_insert(&t, &a);
	vma_mt_insert(&t, &b);
	vma_mt_insert(&t, &c);
	/*
	 *  0x1000 0x2000     0x4000 0x5000     0x7000 0x8000
	 *    |AAAAAA|  gap   |BBBBBB|  gap     |CCCCCC|
	 */
	assert_int_equal(vma_mt_gap_topdown(&t, 0x5000, 0x1000, 0x8000,
	    0, 0), NOMEM);
	/*
	 *  0x1000 0x2000                       0x7000 0x8000
	 *    |AAAAAA|           gap            |CCCCCC|
	 */
	vma_mt_erase(&t, &b);
	assert_valid(&t);
	assert_ptr_equal(a.vm_next, &c);
	assert_ptr_equal(c.vm_prev, &a);
	assert_int_equal(t.count, 2);
	assert_int_equal(vma_mt_gap_topdown(&t, 0x5000, 0x1000, 0x8000,
	    0, 0), 0x2000);
	assert_ptr_equal(vma_mt_find(&t, 0x2000), &c);
	vma_mt_erase(&t, &a);
	vma_mt_erase(&t, &c);
	assert_valid(&t);
	assert_null(t.ma_root);
	assert_null(t.first);
	assert_null(t.last);	vma_mt_destroy(&t);
}

/* Ascending, descending and interleaved orders stress the rebalancing. */
static void test_sequential(void **state)
{
	enum { N = 1000 };
	static struct vma v[N];
	struct maple_tree t;

	(void)state;
	for (int pass = 0; pass < 3; pass++) {
		vma_mt_init(&t);
		for (int i = 0; i < N; i++) {
			int k = pass == 0 ? i : pass == 1 ? N - 1 - i :
			    (i * 7) % N;

			mkvma(&v[k], (k + 1) * 2 * PG, (k + 1) * 2 * PG + PG,
			    0);
			vma_mt_insert(&t, &v[k]);
			assert_valid(&t);
		}
		for (int i = 0; i < N; i++) {
			vma_mt_erase(&t, &v[pass == 2 ? i : (i * 13) % N]);
			assert_valid(&t);
		}
		assert_null(t.ma_root);
		vma_mt_destroy(&t);
	}
}

/* ---- random operations against the model ---- */

enum { POOL = 400 };

struct world {
	struct maple_tree	 t;
	struct model	 m;
	struct vma	 pool[POOL];
	struct vma	*free[POOL];
	size_t		 nfree;
	struct vma	*mslots[POOL];
	unsigned long	 base, span;	/* where VMAs go */
};

static void world_init(struct world *w, unsigned long base,
    unsigned long span)
{
	vma_mt_init(&w->t);
	w->m.v = w->mslots;
	w->m.n = 0;
	for (size_t i = 0; i < POOL; i++)
		w->free[i] = &w->pool[i];
	w->nfree = POOL;
	w->base = base;
	w->span = span;
}

static unsigned long rnd_flags(void)
{
	return rnd_below(4) == 0 ? VM_GROWSDOWN : 0;
}

static void op_insert(struct world *w)
{
	unsigned long start, end, len, pages = w->span / PG;
	struct vma *v;

	if (!w->nfree)
		return;
	for (int tries = 0; tries < 20; tries++) {
		start = w->base + rnd_below(pages) * PG;
		len = (1 + rnd_below(rnd_below(8) ? 16 : 256)) * PG;
		if (len > w->base + w->span - start)
			continue;
		end = start + len;
		if (model_overlaps(&w->m, start, end))
			continue;
		v = w->free[--w->nfree];
		mkvma(v, start, end, rnd_flags());
		vma_mt_insert(&w->t, v);
		model_insert(&w->m, v);
		return;
	}
}

static void op_erase(struct world *w)
{
	size_t i;

	if (!w->m.n)
		return;
	i = rnd_below(w->m.n);
	vma_mt_erase(&w->t, w->m.v[i]);
	w->free[w->nfree++] = w->m.v[i];
	model_erase(&w->m, i);
}

/* A random page in [lo, hi] (both page aligned, lo <= hi). */
static unsigned long rnd_page(unsigned long lo, unsigned long hi)
{
	return lo + rnd_below((hi - lo) / PG + 1) * PG;
}

/* Move the start and/or end of one VMA between its neighbours. */
static void op_adjust(struct world *w)
{
	size_t i;
	struct vma *v;
	unsigned long lo, hi;

	if (!w->m.n)
		return;
	i = rnd_below(w->m.n);
	v = w->m.v[i];
	lo = i ? w->m.v[i - 1]->vm_end : w->base;
	hi = i + 1 < w->m.n ? w->m.v[i + 1]->vm_start : w->base + w->span;
	if (rnd_below(3))
		v->vm_start = rnd_page(lo, v->vm_end - PG);
	if (rnd_below(3))
		v->vm_end = rnd_page(v->vm_start + PG, hi);
	if (!rnd_below(4))
		v->vm_flags ^= VM_GROWSDOWN;
	vma_mt_adjust(&w->t, v);
}

/* Move the boundary between two neighbours, then adjust both. */
static void op_adjust_pair(struct world *w)
{
	size_t i;
	struct vma *a, *b;

	if (w->m.n < 2)
		return;
	i = rnd_below(w->m.n - 1);
	a = w->m.v[i];
	b = w->m.v[i + 1];
	a->vm_end = rnd_page(a->vm_start + PG, b->vm_end - PG);
	b->vm_start = rnd_page(a->vm_end, b->vm_end - PG);
	if (rnd_below(2)) {
		vma_mt_adjust(&w->t, a);
		vma_mt_adjust(&w->t, b);
	} else {
		vma_mt_adjust(&w->t, b);
		vma_mt_adjust(&w->t, a);
	}
}

/* An address near the VMAs, often on or next to a boundary. */
static unsigned long rnd_addr(const struct world *w)
{
	unsigned long a;

	if (w->m.n && rnd_below(2)) {
		const struct vma *v = w->m.v[rnd_below(w->m.n)];

		a = rnd_below(2) ? v->vm_start : v->vm_end;
		if (rnd_below(2))
			a = vm_start_gap(v);
		return a + rnd_below(3) - 1;
	}
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return ULONG_MAX;
	default:
		return sat_sub(w->base, w->span / 8) +
		    rnd_below(w->span + w->span / 4);
	}
}

static unsigned long rnd_length(void)
{
	switch (rnd_below(16)) {
	case 0:
		return 0;
	case 1:
		return 1 + rnd_below(3 * PG);		/* unaligned */
	case 2:
		return ULONG_MAX - rnd_below(4) * PG;	/* overflows */
	case 3:
		return (1 + rnd_below(2048)) * PG;
	default:
		return (1 + rnd_below(64)) * PG;
	}
}

static unsigned long rnd_mask(void)
{
	switch (rnd_below(6)) {
	case 0:
		return (1UL << rnd_below(24)) - 1;
	case 1:
		return 16 * PG - 1;
	case 2:
		return 0x1fffff;
	default:
		return 0;
	}
}

static void rnd_query(const struct world *w, struct query *q)
{
	q->len = rnd_length();
	q->lo = rnd_below(6) ? rnd_addr(w) & AS_PAGE_MASK : 0;
	switch (rnd_below(6)) {
	case 0:
		q->hi = ULONG_MAX;
		break;
	case 1:
		q->hi = rnd_addr(w);			/* maybe < lo */
		break;
	default:
		q->hi = sat_add(q->lo, rnd_below(w->span + w->span / 4)) &
		    AS_PAGE_MASK;
	}
	q->mask = rnd_mask();
	q->off = rnd_below(2) ? rnd() : rnd() & AS_PAGE_MASK;
}

static void check_world(struct world *w, unsigned long op)
{
	const char *err = vma_mt_validate(&w->t);
	struct query q;

	if (err)
		fail_msg("op %lu (seed %#llx): %s", op,
		    (unsigned long long)rng_seed, err);
	check_list(&w->t, &w->m);
	for (int k = 0; k < 8; k++)
		check_find(&w->t, &w->m, rnd_addr(w));
	for (int k = 0; k < 6; k++) {
		rnd_query(w, &q);
		check_gap_query(&w->t, &w->m, &q);
	}
}

static void run_world(unsigned long base, unsigned long span)
{
	static struct world w;
	static const size_t targets[] = { 1, 3, 12, 60, 250 };
	unsigned long op = 0;

	world_init(&w, base, span);
	for (size_t r = 0; r < 2 * sizeof(targets) / sizeof(targets[0]); r++) {
		size_t target = targets[r % 5];

		for (int k = 0; k < 1500; k++, op++) {
			unsigned long dice = rnd_below(100);

			if (dice < 50)
				(w.m.n < target ? op_insert : op_erase)(&w);
			else if (dice < 70)
				(rnd_below(2) ? op_insert : op_erase)(&w);
			else if (dice < 90)
				op_adjust(&w);
			else
				op_adjust_pair(&w);
			check_world(&w, op);
		}
	}
	vma_mt_destroy(&w.t);
}

static void test_random_low(void **state)
{
	(void)state;
	run_world(0, 4096 * PG);	/* guard gaps clamp at 0 */
}

static void test_random_mid(void **state)
{
	(void)state;
	run_world(0x7f0000000000UL, 2048 * PG);
}

static void test_random_top(void **state)
{
	(void)state;
	/* The last VMA may end one page below 2^64. */
	run_world(0UL - 4097 * PG, 4096 * PG);
}

/* ---- scale ---- */

static void scale_queries(struct maple_tree *t, const struct model *m,
    unsigned long top)
{
	struct query q;

	for (int k = 0; k < 100000; k++) {
		unsigned long addr = rnd_below(top + 4 * PG);
		size_t i = model_lower(m, addr + 1);	/* vm_start > addr */
		size_t j = model_lower(m, addr);	/* vm_start >= addr */
		struct vma *want = i && m->v[i - 1]->vm_end > addr ?
		    m->v[i - 1] : i < m->n ? m->v[i] : NULL;

		assert_ptr_equal(vma_mt_find(t, addr), want);
		assert_ptr_equal(vma_mt_find_before(t, addr),
		    j ? m->v[j - 1] : NULL);
	}
	for (int k = 0; k < 300; k++) {
		q.len = (1 + rnd_below(rnd_below(4) ? 8 : 2048)) * PG;
		q.lo = rnd_below(2) ? 0 : rnd_below(top) & AS_PAGE_MASK;
		q.hi = rnd_below(4) ? sat_add(q.lo, rnd_below(top)) &
		    AS_PAGE_MASK : ULONG_MAX;
		q.mask = rnd_below(2) ? 0 : rnd_mask();
		q.off = rnd() & AS_PAGE_MASK;
		check_gap_query(t, m, &q);
	}
}

/* n VMAs in order in v and slots, shuffled in order; returns the top. */
static unsigned long scale_layout(struct vma *v, struct vma **order,
    struct vma **slots, size_t n)
{
	unsigned long at = 0x400000;

	for (size_t i = 0; i < n; i++) {
		/* Mostly small gaps, a few large ones for the searches. */
		at += (rnd_below(1000) ? rnd_below(4) : rnd_below(3000)) * PG;
		mkvma(&v[i], at, at + (1 + rnd_below(4)) * PG,
		    rnd_below(500) ? 0 : VM_GROWSDOWN);
		at = v[i].vm_end;
		order[i] = slots[i] = &v[i];
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd_below(i + 1);
		struct vma *tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	return at;
}

static void test_scale(void **state)
{
	enum { N = AS_DEFAULT_MAX_MAP_COUNT };
	struct vma *v = calloc(N, sizeof(*v));
	struct vma **order = calloc(N, sizeof(*order));
	struct model m = { .v = calloc(N, sizeof(*m.v)), .n = N };
	struct maple_tree t;
	unsigned long top;

	(void)state;
	assert_true(v && order && m.v);
	top = scale_layout(v, order, m.v, N);
	vma_mt_init(&t);
	for (size_t i = 0; i < N; i++)
		vma_mt_insert(&t, order[i]);
	assert_valid(&t);
	check_list(&t, &m);
	scale_queries(&t, &m, top);

	/* Erase half, in random order; mark the erased by their vm_pgoff. */
	for (size_t i = 0; i < N / 2; i++) {
		vma_mt_erase(&t, order[i]);
		order[i]->vm_pgoff = 1;
	}
	m.n = 0;
	for (size_t i = 0; i < N; i++)
		if (!v[i].vm_pgoff)
			m.v[m.n++] = &v[i];
	assert_valid(&t);
	check_list(&t, &m);
	scale_queries(&t, &m, top);

	for (size_t i = N / 2; i < N; i++)
		vma_mt_erase(&t, order[i]);
	assert_valid(&t);
	assert_null(t.ma_root);
	free(v);
	free(order);
	free(m.v);	vma_mt_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_find_two),
		cmocka_unit_test(test_limits_clip),
		cmocka_unit_test(test_growsdown_guard),
		cmocka_unit_test(test_growsdown_low),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_adjust),
		cmocka_unit_test(test_erase_merges_gaps),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_random_low),
		cmocka_unit_test(test_random_mid),
		cmocka_unit_test(test_random_top),
		cmocka_unit_test(test_scale),
	};
	const char *seed = getenv("VMA_TREE_SEED");

	if (seed)
		rng_state = strtoull(seed, NULL, 0) | 1;
	rng_seed = rng_state;
	printf("# VMA_TREE_SEED=%#llx\n", (unsigned long long)rng_seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_vma_tree-random.c: test_vma_tree's random inserts, erases and
 * in-place adjusts checked against the model after every step, at the
 * bottom, middle and top of the address space, and the scale test with
 * AS_DEFAULT_MAX_MAP_COUNT VMAs (test_vma_tree.c's top comment;
 * test_vma_tree.h).
 */
#include "test_vma_tree.h"

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

void test_random_low(void **state)
{
	(void)state;
	run_world(0, 4096 * PG);	/* guard gaps clamp at 0 */
}

void test_random_mid(void **state)
{
	(void)state;
	run_world(0x7f0000000000UL, 2048 * PG);
}

void test_random_top(void **state)
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

void test_scale(void **state)
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

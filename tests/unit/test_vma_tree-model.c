/*
 * test_vma_tree-model.c: test_vma_tree's helpers (test_vma_tree.h):
 * xorshift64* random numbers, saturating sums, making VMAs, the tree's
 * validation, and the model (the same VMAs in a sorted array) whose
 * brute-force answers to find, find_before, the list and both gap
 * searches the tree's must equal.
 */
#include "test-rng.h"
#include "test_vma_tree.h"

/* ---- random numbers: xorshift64* ---- */

uint64_t rng_state = 0x5eed;
uint64_t rng_seed;	/* for the failure messages */

unsigned long rnd(void)
{
	return xorshift64s(&rng_state);
}

unsigned long rnd_below(unsigned long n)
{
	return xorshift64s_below(&rng_state, n);
}

unsigned long sat_add(unsigned long a, unsigned long b)
{
	return a + b < a ? ULONG_MAX : a + b;
}

unsigned long sat_sub(unsigned long a, unsigned long b)
{
	return a < b ? 0 : a - b;
}

void mkvma(struct vma *v, unsigned long start, unsigned long end,
    unsigned long flags)
{
	memset(v, 0, sizeof(*v));
	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
}

void assert_valid(struct maple_tree *t)
{
	const char *err = vma_mt_validate(t);

	if (err)
		fail_msg("vma_mt_validate: %s", err);
}

/* ---- the model: the same VMAs in a sorted array ---- */

/* Index of the first VMA with vm_start >= addr. */
size_t model_lower(const struct model *m, unsigned long addr)
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

void model_insert(struct model *m, struct vma *v)
{
	size_t i = model_lower(m, v->vm_start);

	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(m->v[0]));
	m->v[i] = v;
	m->n++;
}

void model_erase(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
	m->n--;
}

/* Would [start, end) overlap a VMA of the model? */
int model_overlaps(const struct model *m, unsigned long start,
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

void check_gap_query(struct maple_tree *t, const struct model *m,
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

void check_find(struct maple_tree *t, const struct model *m,
    unsigned long addr)
{
	if (vma_mt_find(t, addr) != model_find(m, addr))
		fail_msg("vma_mt_find(%#lx) differs from the model", addr);
	if (vma_mt_find_before(t, addr) != model_find_before(m, addr))
		fail_msg("vma_mt_find_before(%#lx) differs from the model",
		    addr);
}

/* The tree's list, count, first and last against the model. */
void check_list(struct maple_tree *t, const struct model *m)
{
	const struct vma *v = t->first;

	assert_int_equal(t->count, m->n);
	for (size_t i = 0; i < m->n; i++, v = v->vm_next)
		assert_ptr_equal(v, m->v[i]);
	assert_null(v);
	assert_ptr_equal(t->last, m->n ? m->v[m->n - 1] : NULL);
}

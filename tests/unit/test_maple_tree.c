/*
 * test_maple_tree.c: unit tests of the maple tree (lib/maple_tree*.c)
 * against an array model: model[a] is the entry at address a for a below
 * the universe, NULL above.  Random stores of ranges (entries and NULL),
 * erases, walks, finds, next/prev and free-range searches (lowest and
 * highest) are checked against it, with mt_validate() after every step in
 * small trees, from a single entry up to 65,530 entries; stores in
 * address order must fill leaves (mas_push_data()).  VMA-level
 * behaviour (find_vma, the gap searches with guard gaps and alignment) is
 * in test_vma_tree.c.
 *
 * MAPLE_SEED=<n> replays a run.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "maple_tree.h"
#include "test-rng.h"

static uint64_t rng_state = 0x3a91e;

static unsigned long rnd_below(unsigned long n)
{
	return xorshift64s_below(&rng_state, n);
}

/* Entries are never dereferenced: distinct 8-aligned non-NULL values. */
static void *mkentry(unsigned long id)
{
	return (void *)(uintptr_t)(8 * (id + 1));
}

struct model {
	void **e;
	unsigned long n;	/* the universe: addresses [0, n) */
	unsigned long next_id;
};

static void *model_at(const struct model *m, unsigned long a)
{
	return a < m->n ? m->e[a] : NULL;
}

/* The run of equal entries around a: one slot of the tree. */
static void model_run(const struct model *m, unsigned long a,
    unsigned long *lo, unsigned long *hi)
{
	void *e = model_at(m, a);

	*lo = a;
	while (*lo > 0 && model_at(m, *lo - 1) == e)
		(*lo)--;
	if (a >= m->n) {
		*hi = ULONG_MAX;
		return;
	}
	*hi = a;
	while (*hi + 1 < m->n && m->e[*hi + 1] == e)
		(*hi)++;
	if (*hi + 1 == m->n && e == NULL)
		*hi = ULONG_MAX;
}

static void assert_valid(struct maple_tree *mt)
{
	const char *err = mt_validate(mt);

	if (err != NULL)
		fail_msg("mt_validate: %s (seed %#lx)", err,
		    (unsigned long)rng_state);
}

static void model_store(struct maple_tree *mt, struct model *m,
    unsigned long lo, unsigned long hi, void *e)
{
	assert_int_equal(mtree_store_range(mt, lo, hi, e, GFP_KERNEL), 0);
	for (unsigned long a = lo; a <= hi && a < m->n; a++)
		m->e[a] = e;
}

/* The slot at a: entry and range as the model has them. */
static void check_walk(struct maple_tree *mt, const struct model *m,
    unsigned long a)
{
	MA_STATE(mas, mt, a, a);
	unsigned long lo, hi;
	void *e = mas_walk(&mas);

	assert_ptr_equal(e, model_at(m, a));
	assert_ptr_equal(mtree_load(mt, a), e);
	if (mas.status != ma_active)
		return;		/* empty tree */
	model_run(m, a, &lo, &hi);
	assert_int_equal(mas.index, lo);
	assert_int_equal(mas.last, hi);
}

/* mas_find() from a up to max, and on with mas_next(). */
static void check_find(struct maple_tree *mt, const struct model *m,
    unsigned long a, unsigned long max)
{
	MA_STATE(mas, mt, a, a);
	unsigned long x = a, lo, hi;

	for (int step = 0; step < 4; step++) {
		void *got = step == 0 ? mas_find(&mas, max) :
		    mas_next(&mas, max);

		while (x < m->n && model_at(m, x) == NULL)
			x++;
		if (x >= m->n || x > max) {
			assert_null(got);
			return;
		}
		assert_ptr_equal(got, m->e[x]);
		model_run(m, x, &lo, &hi);
		assert_int_equal(mas.index, lo);
		assert_int_equal(mas.last, hi);
		x = hi + 1;
	}
}

/* The highest x <= a with an entry; false when none. */
static bool model_last_entry(const struct model *m, unsigned long a,
    unsigned long *x)
{
	unsigned long y = a < m->n ? a : m->n - 1;

	for (;;) {
		if (m->e[y] != NULL) {
			*x = y;
			return true;
		}
		if (y-- == 0)
			return false;
	}
}

/* mas_find_rev() from a down to min, and on with mas_prev(). */
static void check_find_rev(struct maple_tree *mt, const struct model *m,
    unsigned long a, unsigned long min)
{
	MA_STATE(mas, mt, a, a);
	unsigned long x = a, lo, hi;
	bool done = false;

	for (int step = 0; step < 4; step++) {
		void *got = step == 0 ? mas_find_rev(&mas, min) :
		    mas_prev(&mas, min);

		if (done || !model_last_entry(m, x, &x)) {
			assert_null(got);
			return;
		}
		model_run(m, x, &lo, &hi);
		if (hi < min) {
			assert_null(got);
			return;
		}
		assert_ptr_equal(got, m->e[x]);
		assert_int_equal(mas.index, lo);
		assert_int_equal(mas.last, hi);
		done = lo == 0;
		x = lo - 1;
	}
}

/* The free ranges the model has, searched lowest or highest first. */
static bool model_empty(const struct model *m, unsigned long min,
    unsigned long max, unsigned long size, bool rev, unsigned long *index)
{
	unsigned long a = rev ? m->n : 0, lo, hi;

	for (;;) {
		model_run(m, a, &lo, &hi);
		if (model_at(m, a) == NULL) {
			unsigned long s = lo > min ? lo : min;
			unsigned long e = hi < max ? hi : max;

			if (e >= s && e - s >= size - 1) {
				*index = rev ? e - size + 1 : s;
				return true;
			}
		}
		if (rev ? lo == 0 : hi == ULONG_MAX)
			return false;
		a = rev ? lo - 1 : hi + 1;
	}
}

static void check_empty_area(struct maple_tree *mt, const struct model *m,
    bool rev)
{
	unsigned long min = rnd_below(m->n), max, size, want;
	MA_STATE(mas, mt, 0, 0);
	int err;
	bool found;

	max = rnd_below(8) ? min + rnd_below(m->n) : ULONG_MAX;
	size = 1 + rnd_below(rnd_below(4) ? 4 : m->n / 4 + 1);
	found = model_empty(m, min, max, size, rev, &want);
	err = rev ? mas_empty_area_rev(&mas, min, max, size) :
	    mas_empty_area(&mas, min, max, size);
	if (!found) {
		assert_int_equal(err, -EBUSY);
		return;
	}
	assert_int_equal(err, 0);
	assert_int_equal(mas.index, want);
	assert_int_equal(mas.last, want + size - 1);
}

/* A store through a state a walk left on lo's leaf (__mas_set_range()):
 * written from there when [lo, hi] fits the leaf, from the root if not;
 * the same tree either way. */
static void model_store_walked(struct maple_tree *mt, struct model *m,
    unsigned long lo, unsigned long hi, void *e)
{
	MA_STATE(mas, mt, lo, lo);

	mas_walk(&mas);
	__mas_set_range(&mas, lo, hi);
	assert_int_equal(mas_store_gfp(&mas, e, GFP_KERNEL), 0);
	for (unsigned long a = lo; a <= hi && a < m->n; a++)
		m->e[a] = e;
}

/* The first entry at or after lo found, then erased through the state
 * that found it (munmap's vma_find() then remove_vma()). */
static void model_erase_found(struct maple_tree *mt, struct model *m,
    unsigned long lo)
{
	MA_STATE(mas, mt, lo, lo);
	void *e = mas_find(&mas, ULONG_MAX);
	unsigned long at = mas.index, rl, rh;

	if (e == NULL)
		return;
	model_run(m, at, &rl, &rh);
	assert_ptr_equal(model_at(m, at), e);
	assert_ptr_equal(mas_erase(&mas), e);
	for (unsigned long a = rl; a <= rh; a++)
		m->e[a] = NULL;
}

/* One random change: a range stored, NULLed, or an entry erased, from
 * the root or through a state already on the leaf. */
static void random_change(struct maple_tree *mt, struct model *m)
{
	unsigned long lo = rnd_below(m->n), len, hi;

	switch (rnd_below(11)) {
	case 8:
		model_erase_found(mt, m, lo);
		return;
	case 9:
	case 10:	/* mostly within the leaf, sometimes past it */
		len = rnd_below(rnd_below(8) ? 4 : m->n / 4 + 1);
		hi = lo + len < m->n ? lo + len : m->n - 1;
		model_store_walked(mt, m, lo, hi, rnd_below(3) ?
		    mkentry(m->next_id++) : NULL);
		return;
	case 0:
	case 1: {	/* erase the entry at lo, its whole range */
		unsigned long rl, rh;
		void *e = model_at(m, lo);

		model_run(m, lo, &rl, &rh);
		assert_ptr_equal(mtree_erase(mt, lo), e);
		if (e != NULL)
			for (unsigned long a = rl; a <= rh; a++)
				m->e[a] = NULL;
		return;
	}
	case 2:		/* NULL over a range, maybe long */
		len = rnd_below(rnd_below(4) ? 8 : m->n / 2 + 1);
		hi = lo + len < m->n ? lo + len : m->n - 1;
		model_store(mt, m, lo, hi, NULL);
		return;
	default:	/* an entry, mostly short */
		len = rnd_below(rnd_below(8) ? 4 : m->n / 4 + 1);
		hi = lo + len < m->n ? lo + len : m->n - 1;
		model_store(mt, m, lo, hi, mkentry(m->next_id++));
	}
}

static void random_checks(struct maple_tree *mt, const struct model *m)
{
	unsigned long a = rnd_below(m->n + 2);

	check_walk(mt, m, a);
	check_find(mt, m, a, rnd_below(4) ? ULONG_MAX : a + rnd_below(64));
	check_find_rev(mt, m, a, rnd_below(4) ? 0 : a - rnd_below(a + 1));
	check_empty_area(mt, m, false);
	check_empty_area(mt, m, true);
}

/* n random steps in a universe of size u, validated after each. */
static void run_random(unsigned long u, int steps)
{
	struct model m = { .e = calloc(u, sizeof(void *)), .n = u };
	struct maple_tree mt;

	assert_non_null(m.e);
	mt_init_flags(&mt, MT_FLAGS_ALLOC_RANGE);
	for (int i = 0; i < steps; i++) {
		random_change(&mt, &m);
		assert_valid(&mt);
		for (int k = 0; k < 3; k++)
			random_checks(&mt, &m);
	}
	__mt_destroy(&mt);
	free(m.e);
}

/* A universe of 2: trees of one to three slots. */
static void test_tiny(void **state)
{
	(void)state;
	run_random(2, 2000);
	run_random(5, 2000);
}

/* Leaves splitting and joining around one and two levels. */
static void test_small(void **state)
{
	(void)state;
	run_random(40, 4000);
	run_random(300, 4000);
}

/* Deeper trees, long ranges spanning leaves. */
static void test_medium(void **state)
{
	(void)state;
	run_random(5000, 3000);
}

/* The empty tree and single entries at the ends of the space. */
static void test_edges(void **state)
{
	struct maple_tree mt;
	MA_STATE(mas, &mt, 0, 0);

	(void)state;
	mt_init_flags(&mt, MT_FLAGS_ALLOC_RANGE);
	assert_null(mtree_load(&mt, 0));
	assert_null(mas_find(&mas, ULONG_MAX));
	assert_int_equal(mas_empty_area_rev(&mas, 0, ULONG_MAX, 4096), 0);
	assert_int_equal(mas.index, ULONG_MAX - 4095);
	assert_int_equal(mtree_store_range(&mt, 5, 4, mkentry(0), 0),
	    -EINVAL);
	assert_int_equal(mtree_store_range(&mt, ULONG_MAX, ULONG_MAX,
	    mkentry(1), 0), 0);
	assert_int_equal(mtree_store_range(&mt, 0, 0, mkentry(2), 0), 0);
	assert_valid(&mt);
	assert_ptr_equal(mtree_load(&mt, ULONG_MAX), mkentry(1));
	assert_ptr_equal(mtree_load(&mt, 0), mkentry(2));
	assert_null(mtree_load(&mt, 1));
	assert_int_equal(mt_height(&mt), 1);
	assert_int_equal(mas_empty_area_rev(&mas, 0, ULONG_MAX, 4096), 0);
	assert_int_equal(mas.last, ULONG_MAX - 1);
	mas_set(&mas, ULONG_MAX);
	assert_ptr_equal(mas_prev(&mas, 0), mkentry(2));
	assert_null(mas_prev(&mas, 0));
	assert_ptr_equal(mtree_erase(&mt, 7), NULL);
	assert_ptr_equal(mtree_erase(&mt, ULONG_MAX), mkentry(1));
	assert_ptr_equal(mtree_erase(&mt, 0), mkentry(2));
	assert_null(mt.ma_root);
	assert_int_equal(mt_nr_nodes(&mt), 0);
	assert_valid(&mt);
	__mt_destroy(&mt);
}

/* Allocation failing: nothing changes, -ENOMEM comes back. */
static void test_enomem(void **state)
{
	struct maple_tree mt, copy;
	unsigned long old;

	(void)state;
	mt_init_flags(&mt, MT_FLAGS_ALLOC_RANGE);
	for (unsigned long i = 0; i < 200; i++)
		assert_int_equal(mtree_store_range(&mt, 4 * i, 4 * i + 1,
		    mkentry(i), 0), 0);
	mt_init_flags(&copy, MT_FLAGS_ALLOC_RANGE);
	old = mt_set_node_limit(1);
	assert_int_equal(mtree_store_range(&copy, 1, 2, mkentry(0), 0),
	    -ENOMEM);
	assert_null(mtree_load(&copy, 1));
	assert_int_equal(__mt_dup(&mt, &copy, GFP_KERNEL), -ENOMEM);
	assert_null(copy.ma_root);
	assert_int_equal(mt_nr_nodes(&copy), 0);
	mt_set_node_limit(old);
	assert_int_equal(__mt_dup(&mt, &copy, GFP_KERNEL), 0);
	assert_valid(&copy);
	assert_int_equal(mt_nr_nodes(&copy), mt_nr_nodes(&mt));
	for (unsigned long i = 0; i < 800; i++)
		assert_ptr_equal(mtree_load(&copy, i), mtree_load(&mt, i));
	__mt_destroy(&copy);
	__mt_destroy(&mt);
}

/* Appends, as mmap lays out a growing address space: a full leaf pushes
 * into its left sibling (mas_push_data()) instead of splitting in two,
 * so leaves end near full, not half empty; storing the same ranges from
 * the top down pushes right.  Each way also answers as the model does. */
static void test_push_fill(void **state)
{
	enum { N = 3000 };
	struct model m = { .e = calloc(3 * N, sizeof(void *)), .n = 3 * N };
	struct maple_tree up, down;

	(void)state;
	assert_non_null(m.e);
	mt_init_flags(&up, MT_FLAGS_ALLOC_RANGE);
	mt_init_flags(&down, MT_FLAGS_ALLOC_RANGE);
	for (unsigned long i = 0; i < N; i++) {
		unsigned long d = N - 1 - i;

		model_store(&up, &m, 3 * i, 3 * i + 1, mkentry(i));
		assert_int_equal(mtree_store_range(&down, 3 * d, 3 * d + 1,
		    mkentry(d), GFP_KERNEL), 0);
	}
	assert_valid(&up);
	assert_valid(&down);
	/* 2 x 3000 slots: 400 leaves at 15 a leaf, 750 at half full */
	assert_true(mt_nr_nodes(&up) < 500);
	assert_true(mt_nr_nodes(&down) < 500);
	for (unsigned long i = 0; i < 3 * N; i++)
		assert_ptr_equal(mtree_load(&down, i), m.e[i]);
	for (int k = 0; k < 1000; k++)
		random_checks(&up, &m);
	__mt_destroy(&up);
	__mt_destroy(&down);
	free(m.e);
}

/* 65,530 entries with a gap after each, stored shuffled: shape, memory,
 * and the model's answers; then half erased. */
static void test_scale(void **state)
{
	enum { N = 65530 };
	struct model m = { .e = calloc(3 * N, sizeof(void *)), .n = 3 * N };
	unsigned long *order = malloc(N * sizeof(*order));
	struct maple_tree mt;

	(void)state;
	assert_true(m.e && order);
	for (unsigned long i = 0; i < N; i++)
		order[i] = i;
	for (unsigned long i = N - 1; i > 0; i--) {
		unsigned long j = rnd_below(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	mt_init_flags(&mt, MT_FLAGS_ALLOC_RANGE);
	for (unsigned long i = 0; i < N; i++)
		model_store(&mt, &m, 3 * order[i], 3 * order[i] + 1,
		    mkentry(order[i]));
	assert_valid(&mt);
	/* 131,061 slots in leaves at least half full: at most 7 levels, and
	 * no more than 2 x 256 / 8 = 64 bytes of leaf per entry */
	assert_true(mt_height(&mt) <= 7);
	assert_true(mt_nr_nodes(&mt) * MAPLE_NODE_SIZE / N <= 80);
	for (int k = 0; k < 3000; k++)
		random_checks(&mt, &m);
	for (unsigned long i = 0; i < N / 2; i++)
		model_store(&mt, &m, 3 * order[i], 3 * order[i] + 1, NULL);
	assert_valid(&mt);
	for (int k = 0; k < 3000; k++)
		random_checks(&mt, &m);
	__mt_destroy(&mt);
	free(order);
	free(m.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_medium),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_push_fill),
		cmocka_unit_test(test_scale),
	};
	const char *seed = getenv("MAPLE_SEED");

	if (seed != NULL)
		rng_state = strtoull(seed, NULL, 0) | 1;
	printf("# MAPLE_SEED=%#lx\n", (unsigned long)rng_state);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
 *
 * Here the deterministic cases; the model and its checks:
 * test_vma_tree-model.c; the random and scale tests:
 * test_vma_tree-random.c (test_vma_tree.h).
 */
#include "test_vma_tree.h"

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

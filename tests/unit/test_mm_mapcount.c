/*
 * test_mm_mapcount.c: unit tests of the max_map_count limit of each
 * operation of the VMA core (mmap, mprotect, mlock, madvise, munmap,
 * mremap), on a session whose vm.max_map_count is 20, each operation
 * tried at every fill level around the limit.  The limits were checked
 * on Linux 6.18 with a C program that filled a process to
 * vm.max_map_count (see test_mm.c).
 */
#include "mm_fixture.h"

/* ====================================================================== */
/* max_map_count                                                          */
/* ====================================================================== */

/*
 * Each case fills the mm to map_count = max + level (single-page filler
 * VMAs far from the window), runs one operation and compares its result
 * and the map_count after it with what Linux 6.18 did at the same
 * distance from vm.max_map_count (host program, limit 65530).  The window
 * holds a 3-page rw- VMA at [0,3) when the operation runs.
 */
#define MMC		20
#define FILL_BASE	(W + 0x1000000UL)

struct mmc_outcome {
	int	level;		/* map_count - max before the operation */
	int	ret;		/* 0 or -errno */
	int	after;		/* map_count - max after it, or NOCHECK */
};
#define NOCHECK	100

static unsigned long nfill;

/* fill_to(): single-page VMAs of alternating prot until map_count is n. */
static void fill_to(struct mm *mm, int n)
{
	unsigned long a;

	while (mm->map_count < n) {
		a = FILL_BASE + nfill * PG;
		if (IS_ERR_VALUE(t_mmap(mm, a, PG, nfill & 1 ? RO : PROT_NONE,
		    FIX)))
			fail_msg("filler mmap failed at map_count %d",
			    mm->map_count);
		nfill++;
	}
	while (mm->map_count > n && nfill > 0) {
		nfill--;
		assert_int_equal(t_munmap(mm, FILL_BASE + nfill * PG, PG), 0);
	}
	assert_int_equal(mm->map_count, n);
}

static long addr_ret(unsigned long r)
{
	return IS_ERR_VALUE(r) ? (long)r : 0;
}

static void run_levels(struct mm *mm, const char *name,
    long (*op)(struct mm *), const struct mmc_outcome *o, size_t n)
{
	long ret;
	size_t i;

	nfill = 0;
	for (i = 0; i < n; i++) {
		assert_int_equal(t_munmap(mm, W, 64 * PG), 0);
		assert_int_equal(t_mmap(mm, P(0), 3 * PG, RW, FIX), P(0));
		fill_to(mm, MMC + o[i].level);
		ret = op(mm);
		if (ret != o[i].ret ||
		    (o[i].after != NOCHECK && mm->map_count != MMC + o[i].after))
			fail_msg("%s at max%+d: got %ld, map_count max%+d; "
			    "want %d, max%+d", name, o[i].level, ret,
			    mm->map_count - MMC, o[i].ret, o[i].after);
	}
	assert_int_equal(t_munmap(mm, W, 64 * PG), 0);
	fill_to(mm, base_vmas);
}

#define RUN_LEVELS(mm, op, tab) \
	run_levels((mm), #op, op, (tab), sizeof(tab) / sizeof((tab)[0]))

static long op_mmap_new(struct mm *mm)
{
	return addr_ret(t_mmap(mm, P(10), PG, RO, FIX));
}

static long op_mmap_fixed_middle(struct mm *mm)
{
	return addr_ret(t_mmap(mm, P(1), PG, RO, FIX));
}

static long op_mprotect_middle(struct mm *mm)
{
	return t_mprotect(mm, P(1), PG, RO);
}

static long op_mprotect_start(struct mm *mm)
{
	return t_mprotect(mm, P(0), PG, RO);
}

static long op_madvise_middle(struct mm *mm)
{
	return t_madvise(mm, P(1), PG, MADV_RANDOM);
}

static long op_madvise_start(struct mm *mm)
{
	return t_madvise(mm, P(0), PG, MADV_RANDOM);
}

static long op_munmap_middle(struct mm *mm)
{
	return t_munmap(mm, P(1), PG);
}

static long op_munmap_start(struct mm *mm)
{
	return t_munmap(mm, P(0), PG);
}

static long op_mlock_middle(struct mm *mm)
{
	return t_mlock(mm, P(1), PG);
}

static void test_mmc_mmap(void **state)
{
	/* mmap refuses only when map_count > max: the count may reach
	 * max + 1.  A MAP_FIXED split in the middle needs map_count < max. */
	static const struct mmc_outcome mmap_new[] = {
		{ -3, 0, -2 }, { -2, 0, -1 }, { -1, 0, 0 }, { 0, 0, 1 },
		{ 1, -ENOMEM, 1 },
	};
	static const struct mmc_outcome mmap_middle[] = {
		{ -3, 0, -1 }, { -2, 0, 0 }, { -1, 0, 1 },
		{ 0, -ENOMEM, 0 }, { 1, -ENOMEM, 1 },
	};
	struct mm *mm = fix_mm(state);

	RUN_LEVELS(mm, op_mmap_new, mmap_new);
	RUN_LEVELS(mm, op_mmap_fixed_middle, mmap_middle);
}

static void test_mmc_mprotect_mlock(void **state)
{
	/* Each split needs map_count < max; a failed second split leaves
	 * the first in place, and the error is ENOMEM. */
	static const struct mmc_outcome middle[] = {
		{ -3, 0, -1 }, { -2, 0, 0 }, { -1, -ENOMEM, 0 },
		{ 0, -ENOMEM, 0 }, { 1, -ENOMEM, 1 },
	};
	static const struct mmc_outcome start[] = {
		{ -3, 0, -2 }, { -2, 0, -1 }, { -1, 0, 0 },
		{ 0, -ENOMEM, 0 }, { 1, -ENOMEM, 1 },
	};
	struct mm *mm = fix_mm(state);

	RUN_LEVELS(mm, op_mprotect_middle, middle);
	RUN_LEVELS(mm, op_mprotect_start, start);
	RUN_LEVELS(mm, op_mlock_middle, middle);
}

static void test_mmc_madvise(void **state)
{
	/* As mprotect, but a failed split reads EAGAIN. */
	static const struct mmc_outcome middle[] = {
		{ -3, 0, -1 }, { -2, 0, 0 }, { -1, -EAGAIN, 0 },
		{ 0, -EAGAIN, 0 }, { 1, -EAGAIN, 1 },
	};
	static const struct mmc_outcome start[] = {
		{ -3, 0, -2 }, { -2, 0, -1 }, { -1, 0, 0 },
		{ 0, -EAGAIN, 0 }, { 1, -EAGAIN, 1 },
	};
	struct mm *mm = fix_mm(state);

	RUN_LEVELS(mm, op_madvise_middle, middle);
	RUN_LEVELS(mm, op_madvise_start, start);
}

static void test_mmc_munmap(void **state)
{
	/* Unmapping the middle needs map_count < max; trimming an end
	 * never fails, even above the limit. */
	static const struct mmc_outcome middle[] = {
		{ -3, 0, -2 }, { -2, 0, -1 }, { -1, 0, 0 },
		{ 0, -ENOMEM, 0 }, { 1, -ENOMEM, 1 },
	};
	static const struct mmc_outcome start[] = {
		{ -3, 0, -3 }, { -2, 0, -2 }, { -1, 0, -1 },
		{ 0, 0, 0 }, { 1, 0, 1 },
	};
	struct mm *mm = fix_mm(state);

	RUN_LEVELS(mm, op_munmap_middle, middle);
	RUN_LEVELS(mm, op_munmap_start, start);
}

static long op_mremap_fixed(struct mm *mm)
{
	return addr_ret(t_mremap(mm, P(0), PG, PG,
	    MREMAP_MAYMOVE | MREMAP_FIXED, P(20)));
}

static long op_mremap_fixed_middle(struct mm *mm)
{
	return addr_ret(t_mremap(mm, P(1), PG, PG,
	    MREMAP_MAYMOVE | MREMAP_FIXED, P(20)));
}

static long op_mremap_dontunmap(struct mm *mm)
{
	return addr_ret(t_mremap(mm, P(0), PG, PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP, P(20)));
}

static long op_mremap_shrink(struct mm *mm)
{
	return addr_ret(t_mremap(mm, P(0), 3 * PG, 2 * PG, 0, 0));
}

/* Grow [0,3) while [3,4) is taken: it must move (no hint). */
static long op_mremap_grow_move(struct mm *mm)
{
	unsigned long r;

	if (IS_ERR_VALUE(t_mmap(mm, P(3), PG, RO, FIX)))
		return -1000;
	r = t_mremap(mm, P(0), 3 * PG, 4 * PG, MREMAP_MAYMOVE, 0);
	if (!IS_ERR_VALUE(r))
		assert_int_equal(t_munmap(mm, r, 4 * PG), 0);
	return addr_ret(r);
}

static void test_mmc_mremap(void **state)
{
	/* A move to a given address needs map_count + 2 < max - 3; any
	 * move needs map_count < max - 3; a shrink never fails. */
	static const struct mmc_outcome fixed[] = {
		{ -9, 0, -8 }, { -7, 0, -6 }, { -6, 0, -5 },
		{ -5, -ENOMEM, -5 }, { -3, -ENOMEM, -3 }, { 0, -ENOMEM, 0 },
		{ 1, -ENOMEM, 1 },
	};
	static const struct mmc_outcome fixed_middle[] = {
		{ -9, 0, -7 }, { -6, 0, -4 }, { -5, -ENOMEM, -5 },
		{ 1, -ENOMEM, 1 },
	};
	static const struct mmc_outcome shrink[] = {
		{ -9, 0, -9 }, { -1, 0, -1 }, { 0, 0, 0 }, { 1, 0, 1 },
	};
	/* Levels before the extra VMA op_mremap_grow_move maps first. */
	static const struct mmc_outcome grow_move[] = {
		{ -9, 0, NOCHECK }, { -5, 0, NOCHECK },
		{ -4, -ENOMEM, -3 }, { -1, -ENOMEM, 0 },
	};
	struct mm *mm = fix_mm(state);

	RUN_LEVELS(mm, op_mremap_fixed, fixed);
	RUN_LEVELS(mm, op_mremap_dontunmap, fixed);
	RUN_LEVELS(mm, op_mremap_fixed_middle, fixed_middle);
	RUN_LEVELS(mm, op_mremap_shrink, shrink);
	RUN_LEVELS(mm, op_mremap_grow_move, grow_move);
}

int main(void)
{
#define T20(f)	cmocka_unit_test_setup_teardown(f, setup_mmc20, teardown)
	const struct CMUnitTest tests[] = {
		T20(test_mmc_mmap),
		T20(test_mmc_mprotect_mlock),
		T20(test_mmc_madvise),
		T20(test_mmc_munmap),
		T20(test_mmc_mremap),
	};
#undef T20

	return cmocka_run_group_tests(tests, NULL, NULL);
}

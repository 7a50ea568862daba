/*
 * test_mm.c: unit tests of the VMA core (lib/vma.c, mmap.c, mprotect.c,
 * mlock.c, madvise.c, mremap.c) through the system-call API, on task 1 of
 * a fresh session per test.
 *
 *  - merge cases of a new range (left, right, both, none and why not);
 *  - split cases (munmap, mprotect, mlock/munlock, madvise) and merging
 *    back;
 *  - errno cases (the max_map_count limit of each operation is
 *    test_mm_mapcount.c's; a randomized test against a per-page model,
 *    test_mm_random.c's; mm_fixture.h has what the three share).
 *
 * Every expectation was checked on Linux 6.18 (x86-64): the same
 * operations run as traces with tests/linux-diff/ref-run, and the
 * map-count limits with a C program that filled the process to
 * vm.max_map_count.  Pictures (picture.h) show the window 0x200000000000
 * page by page: a letter per VMA, '.' for a hole.  mm_validate() runs
 * after every operation.  TEST_MM_SEED=<n> replays another random run.
 */
#include "mm_fixture.h"

/* ====================================================================== */
/* Merging a new range                                                    */
/* ====================================================================== */

static void test_merge_left(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123
	 *  AA..   mmap [0,2)
	 *  AAAA   mmap [2,4): same flags, pgoff follows: A grows
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, FIX), P(2));
	assert_picture(mm, W, NP, "AAAA|............");
	assert_int_equal(mm->map_count, base_vmas + 1);
}

static void test_merge_right(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123
	 *  ..AA   mmap [2,4)
	 *  AAAA   mmap [0,2): merges in front of it
	 */
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, FIX), P(2));
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_picture(mm, W, NP, "AAAA|............");
	assert_int_equal(vma_lookup(mm, P(0))->vm_pgoff, W >> AS_PAGE_SHIFT);
}

static void test_merge_both(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AA..BB  two mappings
	 *  AAAAAA  mmap [2,4) fills the hole: all three become one
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX), P(4));
	assert_picture(mm, W, NP, "AA..BB|..........");
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, FIX), P(2));
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(mm->map_count, base_vmas + 1);
}

static void test_merge_none_flags_differ(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AA..BB  rw- both
	 *  AABBCC  an r-- range between them merges with neither
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX), P(4));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RO, FIX), P(2));
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_perms(mm, W, NP, "rw-p r--p rw-p");
}

static void test_merge_locked_differs(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AABBCC  locked, plain, locked: VM_LOCKED keeps them apart
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX | MAP_LOCKED), P(0));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, FIX), P(2));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX | MAP_LOCKED), P(4));
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_int_equal(mm->locked_vm, 4);
}

static void test_merge_file_pgoff(void **state)
{
	struct mm *mm = fix_mm(state);
	struct as_file *f;

	assert_int_equal(as_file_create(*state, "f", 64 << 10), 0);
	f = as_file_lookup(*state, "f");
	/*
	 *  012345
	 *  AAAA..  f at offset 0
	 *  ABCC..  mlock splits it
	 *  AAAA..  and back: the pieces of one struct file merge again
	 *  AAAABB  f at offset 16K, its offsets following on, is another
	 *          mmap, so another struct file: no merge
	 *  AAAABC  nor at offset 24K (pgoff 6, not 4)
	 */
	assert_int_equal(t_mmap_file(mm, P(0), 4 * PG, RO, FIX, f, 0), P(0));
	assert_int_equal(sys_mlock(mm, P(1), PG), 0);
	assert_picture(mm, W, NP, "A|B|CC|............");
	assert_int_equal(sys_munlock(mm, P(1), PG), 0);
	assert_picture(mm, W, NP, "AAAA|............");
	assert_int_equal(t_mmap_file(mm, P(4), PG, RO, FIX, f, 16384), P(4));
	assert_picture(mm, W, NP, "AAAA|B|...........");
	assert_int_equal(t_mmap_file(mm, P(5), PG, RO, FIX, f, 24576), P(5));
	assert_picture(mm, W, NP, "AAAA|B|C|..........");
	assert_int_equal(vma_lookup(mm, P(5))->vm_pgoff, 6);
}

static void test_merge_different_files(void **state)
{
	struct mm *mm = fix_mm(state);
	struct as_file *f, *g;

	assert_int_equal(as_file_create(*state, "f", 64 << 10), 0);
	assert_int_equal(as_file_create(*state, "g", 64 << 10), 0);
	f = as_file_lookup(*state, "f");
	g = as_file_lookup(*state, "g");
	/*
	 *  0123
	 *  AABB  f at 0, g at 8K: offsets follow on, files differ
	 */
	assert_int_equal(t_mmap_file(mm, P(0), 2 * PG, RO, FIX, f, 0), P(0));
	assert_int_equal(t_mmap_file(mm, P(2), 2 * PG, RO, FIX, g, 8192),
	    P(2));
	assert_picture(mm, W, NP, "AA|BB|............");
}

static void test_merge_shared_anon_never(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AABBCC  shared, shared, private: each shared anonymous mapping
	 *          is its own shmem object, so none of them merge
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, SHFIX), P(0));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, SHFIX), P(2));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX), P(4));
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_perms(mm, W, NP, "rw-s rw-s rw-p");
	assert_int_equal(vma_lookup(mm, P(2))->vm_pgoff, 0);
}

static void test_merge_stack_nohugepage(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234567
	 *  AABB....  plain, then MAP_STACK (VM_NOHUGEPAGE, "nh"): apart
	 *  AABBBB..  a second MAP_STACK range joins the first
	 *  AABBBBCC  a plain one after it does not
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW, FIX | MAP_STACK), P(2));
	assert_picture(mm, W, NP, "AA|BB|............");
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX | MAP_STACK), P(4));
	assert_int_equal(t_mmap(mm, P(6), 2 * PG, RW, FIX), P(6));
	assert_picture(mm, W, NP, "AA|BBBB|CC|........");
	assert_true(flags_at(mm, P(2)) & VM_NOHUGEPAGE);
	assert_false(flags_at(mm, P(0)) & VM_NOHUGEPAGE);
}

static void test_merge_anon_vma_incompatible(void **state)
{
	struct mm *mm = fix_mm(state);
	struct anon_vma *a, *b;

	/*
	 *  01234
	 *  AA.BB   both populated: each has its own anon_vma
	 *  AAABB   [2,3) could join either, not both: it joins the left
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX | MAP_POPULATE),
	    P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RW, FIX | MAP_POPULATE),
	    P(3));
	a = vma_lookup(mm, P(0))->anon_vma;
	b = vma_lookup(mm, P(3))->anon_vma;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(t_mmap(mm, P(2), PG, RW, FIX), P(2));
	assert_picture(mm, W, NP, "AAA|BB|...........");
	assert_ptr_equal(vma_lookup(mm, P(2))->anon_vma, a);
}

static void test_merge_anon_vma_one_side(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234
	 *  AA.BB   only A has an anon_vma
	 *  AAAAA   [2,3) joins both; the result keeps A's anon_vma
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX | MAP_POPULATE),
	    P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RW, FIX), P(3));
	assert_int_equal(t_mmap(mm, P(2), PG, RW, FIX), P(2));
	assert_picture(mm, W, NP, "AAAAA|...........");
	assert_non_null(vma_lookup(mm, P(4))->anon_vma);
}

static void test_merge_anon_vma_mprotect(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012
	 *  ABC     rw- populated, r--, rw- populated
	 *  AAB     mprotect [1,2) rw-: joins the left only
	 */
	assert_int_equal(t_mmap(mm, P(0), PG, RW, FIX | MAP_POPULATE), P(0));
	assert_int_equal(t_mmap(mm, P(2), PG, RW, FIX | MAP_POPULATE), P(2));
	assert_int_equal(t_mmap(mm, P(1), PG, RO, FIX), P(1));
	assert_picture(mm, W, NP, "A|B|C|.............");
	assert_int_equal(t_mprotect(mm, P(1), PG, RW), 0);
	assert_picture(mm, W, NP, "AA|B|.............");
}

/* ====================================================================== */
/* Splitting, and merging back                                            */
/* ====================================================================== */

static void test_munmap_split(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234567
	 *  AAAAAAAA
	 *  AAA..BBB  munmap the middle: two VMAs
	 *  .AA..BBB  munmap the start
	 *  .AA..BB.  munmap the end
	 */
	assert_int_equal(t_mmap(mm, P(0), 8 * PG, RW, FIX), P(0));
	assert_int_equal(t_munmap(mm, P(3), 2 * PG), 0);
	assert_picture(mm, W, NP, "AAA..BBB|........");
	assert_int_equal(vma_lookup(mm, P(5))->vm_pgoff,
	    (W >> AS_PAGE_SHIFT) + 5);
	assert_int_equal(t_munmap(mm, P(0), PG), 0);
	assert_picture(mm, W, NP, ".AA..BBB|........");
	assert_int_equal(t_munmap(mm, P(7), PG), 0);
	assert_picture(mm, W, NP, ".AA..BB.|........");
	assert_int_equal(mm->total_vm, 4 + base_pages);
}

static void test_munmap_across(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123456789ab
	 *  AAABB.CCC.DD   rw- r-- . rw- . r-x
	 *  AA.........B   munmap [2,11): across VMAs and holes
	 *  ............   munmap [0,16): all of it
	 */
	assert_int_equal(t_mmap(mm, P(0), 3 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RO, FIX), P(3));
	assert_int_equal(t_mmap(mm, P(6), 3 * PG, RW, FIX), P(6));
	assert_int_equal(t_mmap(mm, P(10), 2 * PG, RO | PROT_EXEC, FIX),
	    P(10));
	assert_picture(mm, W, NP, "AAA|BB|.|CCC|.|DD|....");
	assert_int_equal(t_munmap(mm, P(2), 9 * PG), 0);
	assert_picture(mm, W, NP, "AA.........B....");
	assert_perms(mm, W, NP, "rw-p r-xp");
	assert_int_equal(t_munmap(mm, P(0), 16 * PG), 0);
	assert_picture(mm, W, NP, "................");
	assert_int_equal(mm->map_count, base_vmas);
}

static void test_mprotect_split_merge(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AAAAAA  rw-
	 *  AABBCC  mprotect [2,4) r--: split in three
	 *  AAAAAA  mprotect [2,4) rw-: merged back
	 *  ABBBBC  mprotect [0,1) and [5,6) ---
	 *  AAAAAA  mprotect [0,6) r-x: one again
	 */
	assert_int_equal(t_mmap(mm, P(0), 6 * PG, RW, FIX), P(0));
	assert_int_equal(t_mprotect(mm, P(2), 2 * PG, RO), 0);
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_perms(mm, W, NP, "rw-p r--p rw-p");
	assert_int_equal(t_mprotect(mm, P(2), 2 * PG, RW), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(t_mprotect(mm, P(0), PG, PROT_NONE), 0);
	assert_int_equal(t_mprotect(mm, P(5), PG, PROT_NONE), 0);
	assert_picture(mm, W, NP, "A|BBBB|C|..........");
	assert_perms(mm, W, NP, "---p rw-p ---p");
	assert_int_equal(t_mprotect(mm, P(0), 6 * PG, RO | PROT_EXEC), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_perms(mm, W, NP, "r-xp");
}

static void test_mlock_split_merge(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AABBCC  mlock [2,4): B is VM_LOCKED
	 *  AAAAAA  munlock [2,4): merged back
	 *  ABBBBC  mlock all, munlock [0,1) and [5,6)
	 *  AAAAAA  munlock all
	 */
	assert_int_equal(t_mmap(mm, P(0), 6 * PG, RW, FIX), P(0));
	assert_int_equal(t_mlock(mm, P(2), 2 * PG), 0);
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_true(flags_at(mm, P(2)) & VM_LOCKED);
	assert_false(flags_at(mm, P(0)) & VM_LOCKED);
	assert_int_equal(mm->locked_vm, 2);
	assert_int_equal(t_munlock(mm, P(2), 2 * PG), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(mm->locked_vm, 0);
	assert_int_equal(t_mlock(mm, P(0), 6 * PG), 0);
	assert_int_equal(t_munlock(mm, P(0), PG), 0);
	assert_int_equal(t_munlock(mm, P(5), PG), 0);
	assert_picture(mm, W, NP, "A|BBBB|C|..........");
	assert_int_equal(mm->locked_vm, 4);
	assert_int_equal(t_munlock(mm, P(0), 6 * PG), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
}

static void test_madvise_split_merge(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AABBCC  random [2,4)
	 *  AAAAAA  normal [2,4)
	 *  ABBCCD  sequential [1,3), random [3,5)
	 *  AAAAAA  normal [0,6)
	 */
	assert_int_equal(t_mmap(mm, P(0), 6 * PG, RW, FIX), P(0));
	assert_int_equal(t_madvise(mm, P(2), 2 * PG, MADV_RANDOM), 0);
	assert_picture(mm, W, NP, "AA|BB|CC|..........");
	assert_true(flags_at(mm, P(2)) & VM_RAND_READ);
	assert_int_equal(t_madvise(mm, P(2), 2 * PG, MADV_NORMAL), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(t_madvise(mm, P(1), 2 * PG, MADV_SEQUENTIAL), 0);
	assert_int_equal(t_madvise(mm, P(3), 2 * PG, MADV_RANDOM), 0);
	assert_picture(mm, W, NP, "A|BB|CC|D|..........");
	assert_int_equal(flags_at(mm, P(1)) & (VM_SEQ_READ | VM_RAND_READ),
	    VM_SEQ_READ);
	assert_int_equal(t_madvise(mm, P(0), 6 * PG, MADV_NORMAL), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
}

static void test_madvise_fork_dump_flags(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AABBBB  dontfork [0,2): VM_DONTCOPY
	 *  AAAAAA  dofork
	 *  AAAABB  dontdump [4,6): VM_DONTDUMP
	 *  AAAAAA  dodump; willneed and dontneed change no VMA
	 */
	assert_int_equal(t_mmap(mm, P(0), 6 * PG, RW, FIX), P(0));
	assert_int_equal(t_madvise(mm, P(0), 2 * PG, MADV_DONTFORK), 0);
	assert_picture(mm, W, NP, "AA|BBBB|..........");
	assert_true(flags_at(mm, P(0)) & VM_DONTCOPY);
	assert_int_equal(t_madvise(mm, P(0), 2 * PG, MADV_DOFORK), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(t_madvise(mm, P(4), 2 * PG, MADV_DONTDUMP), 0);
	assert_picture(mm, W, NP, "AAAA|BB|..........");
	assert_true(flags_at(mm, P(4)) & VM_DONTDUMP);
	assert_int_equal(t_madvise(mm, P(4), 2 * PG, MADV_DODUMP), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(t_madvise(mm, P(0), 6 * PG, MADV_WILLNEED), 0);
	assert_int_equal(t_madvise(mm, P(1), 2 * PG, MADV_DONTNEED), 0);
	assert_picture(mm, W, NP, "AAAAAA|..........");
}

/* ====================================================================== */
/* errno cases                                                            */
/* ====================================================================== */

static void test_zero_length(void **state)
{
	struct mm *mm = fix_mm(state);

	/* Zero length: EINVAL for munmap and mmap, 0 for the others, mapped
	 * or not. */
	assert_int_equal(t_mmap(mm, P(0), 4 * PG, RW, FIX), P(0));
	assert_int_equal(t_munmap(mm, P(0), 0), -EINVAL);
	assert_int_equal(t_mmap(mm, P(8), 0, RW, FIX), ERRV(EINVAL));
	assert_int_equal(t_mprotect(mm, P(0), 0, RO), 0);
	assert_int_equal(t_madvise(mm, P(0), 0, MADV_RANDOM), 0);
	assert_int_equal(t_mlock(mm, P(0), 0), 0);
	assert_int_equal(t_munlock(mm, P(0), 0), 0);
	assert_int_equal(t_mprotect(mm, P(12), 0, RO), 0);
	assert_int_equal(t_madvise(mm, P(12), 0, MADV_RANDOM), 0);
	assert_int_equal(t_mlock(mm, P(12), 0), 0);
	assert_picture(mm, W, NP, "AAAA|............");
	assert_perms(mm, W, NP, "rw-p");
}

static void test_munmap_rounds_length_up(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123
	 *  AAAA
	 *  ..AA   munmap(0, 4097) takes two pages
	 *  ..A.   munmap(3, 1) takes one
	 */
	assert_int_equal(t_mmap(mm, P(0), 4 * PG, RW, FIX), P(0));
	assert_int_equal(t_munmap(mm, P(0), PG + 1), 0);
	assert_picture(mm, W, NP, "..AA|............");
	assert_int_equal(t_munmap(mm, P(3), 1), 0);
	assert_picture(mm, W, NP, "..A.|............");
}

static void test_unaligned_address(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123
	 *  AAAA
	 *  AAAA   munmap, mprotect, madvise at 0x...800: EINVAL
	 *  ABBC   mlock(0x...1800, 4K) locks pages 1 and 2
	 *  AAAA   munlock(0x...1fff, 2) unlocks them
	 */
	assert_int_equal(t_mmap(mm, P(0), 4 * PG, RW, FIX), P(0));
	assert_int_equal(t_munmap(mm, P(0) + 0x800, PG), -EINVAL);
	assert_int_equal(t_mprotect(mm, P(0) + 0x800, PG, RO), -EINVAL);
	assert_int_equal(t_madvise(mm, P(0) + 0x800, PG, MADV_RANDOM),
	    -EINVAL);
	assert_picture(mm, W, NP, "AAAA|............");
	assert_int_equal(t_mlock(mm, P(1) + 0x800, PG), 0);
	assert_picture(mm, W, NP, "A|BB|C|............");
	assert_true(flags_at(mm, P(2)) & VM_LOCKED);
	assert_int_equal(t_munlock(mm, P(1) + 0xfff, 2), 0);
	assert_picture(mm, W, NP, "AAAA|............");
	assert_int_equal(mm->locked_vm, 0);
	assert_int_equal(t_mmap(mm, P(8) + 0x800, PG, RW, FIX),
	    ERRV(EINVAL));
}

static void test_mprotect_locked_becomes_writable(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 * mprotect_fixup(): a private VM_LOCKED VMA turning writable is
	 * faulted in for writing at once ("trigger COW"), so it gets an
	 * anon_vma and keeps VM_ACCOUNT when it turns read-only again; a
	 * new locked r-- neighbour (no VM_ACCOUNT) then stays apart.
	 *
	 *  0123
	 *  AA..   r-- locked; mprotect rw-, then r--
	 *  AABB   mmap [2,4) r-- locked
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RO, FIX | MAP_LOCKED), P(0));
	assert_int_equal(t_mprotect(mm, P(0), 2 * PG, RW), 0);
	assert_non_null(vma_lookup(mm, P(0))->anon_vma);
	assert_int_equal(t_mprotect(mm, P(0), 2 * PG, RO), 0);
	assert_true(flags_at(mm, P(0)) & VM_ACCOUNT);
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RO, FIX | MAP_LOCKED), P(2));
	assert_picture(mm, W, NP, "AA|BB|............");
}

static void test_mprotect_hole(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234
	 *  AA.BB   rw- rw-
	 *  AA.BB   mprotect [0,5) r--: ENOMEM at the hole, A changed
	 *  AA.BB   mprotect [2,5) ---: ENOMEM at once, nothing changed
	 *  AB.CC   mprotect [1,5) r-x: page 1 changed, then ENOMEM
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RW, FIX), P(3));
	assert_int_equal(t_mprotect(mm, P(0), 5 * PG, RO), -ENOMEM);
	assert_picture(mm, W, NP, "AA.BB|...........");
	assert_perms(mm, W, NP, "r--p rw-p");
	assert_int_equal(t_mprotect(mm, P(2), 3 * PG, PROT_NONE), -ENOMEM);
	assert_perms(mm, W, NP, "r--p rw-p");
	assert_int_equal(t_mprotect(mm, P(1), 4 * PG, RO | PROT_EXEC),
	    -ENOMEM);
	assert_picture(mm, W, NP, "A|B|.|CC|...........");
	assert_perms(mm, W, NP, "r--p r-xp rw-p");
}

static void test_madvise_hole(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234
	 *  AA.BB
	 *  AB.CD   madvise [1,4) random: both sides advised, then ENOMEM
	 *  AB.CD   madvise [2,3) (only the hole) and [5,6): ENOMEM
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RW, FIX), P(3));
	assert_int_equal(t_madvise(mm, P(1), 3 * PG, MADV_RANDOM), -ENOMEM);
	assert_picture(mm, W, NP, "A|B|.|C|D|...........");
	assert_true(flags_at(mm, P(1)) & VM_RAND_READ);
	assert_true(flags_at(mm, P(3)) & VM_RAND_READ);
	assert_false(flags_at(mm, P(0)) & VM_RAND_READ);
	assert_false(flags_at(mm, P(4)) & VM_RAND_READ);
	assert_int_equal(t_madvise(mm, P(2), PG, MADV_RANDOM), -ENOMEM);
	assert_int_equal(t_madvise(mm, P(5), PG, MADV_RANDOM), -ENOMEM);
	assert_picture(mm, W, NP, "A|B|.|C|D|...........");
}

static void test_mlock_hole_and_prot_none(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  01234
	 *  AA.BB
	 *  AB.CC   mlock [1,4): page 1 locked, then ENOMEM at the hole
	 *  AA.BB   munlock [0,5): merged back, still ENOMEM
	 *  AA.BB   mlock [2,4): starts in the hole, ENOMEM, no change
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(3), 2 * PG, RW, FIX), P(3));
	assert_int_equal(t_mlock(mm, P(1), 3 * PG), -ENOMEM);
	assert_picture(mm, W, NP, "A|B|.|CC|...........");
	assert_int_equal(mm->locked_vm, 1);
	assert_int_equal(t_munlock(mm, P(0), 5 * PG), -ENOMEM);
	assert_picture(mm, W, NP, "AA.BB|...........");
	assert_int_equal(t_mlock(mm, P(2), 2 * PG), -ENOMEM);
	assert_int_equal(mm->locked_vm, 0);
	/*
	 *  89ab
	 *  AABB    --- and rw-: mlock of both locks both, but the PROT_NONE
	 *          part cannot be faulted in: ENOMEM
	 */
	assert_int_equal(t_mmap(mm, P(8), 2 * PG, PROT_NONE, FIX), P(8));
	assert_int_equal(t_mmap(mm, P(10), 2 * PG, RW, FIX), P(10));
	assert_int_equal(t_mlock(mm, P(8), 4 * PG), -ENOMEM);
	assert_true(flags_at(mm, P(8)) & VM_LOCKED);
	assert_true(flags_at(mm, P(10)) & VM_LOCKED);
	assert_int_equal(t_mlock(mm, P(10), 2 * PG), 0);
}

static void test_madvise_dontneed_locked(void **state)
{
	struct mm *mm = fix_mm(state);

	/* MADV_DONTNEED refuses locked VMAs with EINVAL. */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX | MAP_LOCKED), P(0));
	assert_int_equal(t_madvise(mm, P(0), 2 * PG, MADV_DONTNEED), -EINVAL);
	assert_int_equal(t_madvise(mm, P(0), 3 * PG, MADV_WILLNEED), -ENOMEM);
}

static void test_mremap_dontunmap(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123456789
	 *  AA........
	 *  AA........  without maymove, or with lengths differing: EINVAL
	 *  AA......BB  maymove,dontunmap to the free hint 8: A stays
	 *  AA..BB..CC  and again with fixed at 4
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 2 * PG, MREMAP_DONTUNMAP,
	    P(8)), ERRV(EINVAL));
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 4 * PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP, P(8)), ERRV(EINVAL));
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP, P(8)), ERRV(EINVAL));
	assert_picture(mm, W, NP, "AA|..............");
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 2 * PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP, P(8)), P(8));
	assert_picture(mm, W, NP, "AA......BB|......");
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 2 * PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, P(4)), P(4));
	assert_picture(mm, W, NP, "AA..BB..CC|......");
	assert_perms(mm, W, NP, "rw-p rw-p rw-p");
}

static void test_mremap_dontunmap_locked(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 * Linux 6.18 clears VM_LOCKED on the whole source VMA, not only on
	 * the moved range, and leaves locked_vm alone: VmLck counts the
	 * moved range twice (host: 16 kB after locking 16 kB, 20 kB after).
	 *
	 *  0123456789
	 *  AAAA......  locked
	 *  AAAA....B.  mremap [1,2) dontunmap to 8: A unlocked, B locked
	 */
	assert_int_equal(t_mmap(mm, P(0), 4 * PG, RW, FIX | MAP_LOCKED), P(0));
	assert_int_equal(mm->locked_vm, 4);
	assert_int_equal(t_mremap(mm, P(1), PG, PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, P(8)), P(8));
	assert_picture(mm, W, NP, "AAAA....B.......");
	assert_false(flags_at(mm, P(0)) & VM_LOCKED);
	assert_true(flags_at(mm, P(8)) & VM_LOCKED);
	assert_int_equal(mm->locked_vm, 5);
}

static void test_mremap_dontunmap_revisit(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 * An equal-length MREMAP_FIXED move walks the VMAs of the range and
	 * goes on after the end of each VMA it moved.  With DONTUNMAP the
	 * source VMA stays, and may reach past the range (it did, or the
	 * copy merged back into it): it must not be moved again.
	 *
	 *  0123456789abcdef
	 *  ............AAAA  mremap [15,16) dontunmap to 0
	 *  A...........BBBB
	 *  A......BB...CCCC  mremap [7,9) dontunmap to 9: the copy merges
	 *  A......BBBB.CCCC
	 */
	assert_int_equal(t_mmap(mm, P(12), 4 * PG, RO, FIX), P(12));
	assert_int_equal(t_mremap(mm, P(15), PG, PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, P(0)), P(0));
	assert_picture(mm, W, NP, "A...........BBBB");
	assert_int_equal(t_mmap(mm, P(7), 2 * PG, RW, FIX), P(7));
	assert_int_equal(t_mremap(mm, P(7), 2 * PG, 2 * PG,
	    MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, P(9)), P(9));
	assert_picture(mm, W, NP, "A......BBBB.CCCC");
}

static void test_mremap_old_len_zero(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123456789abcd
	 *  AA............  shared
	 *  AA..BB........  mremap(0, 0, 8K, fixed 4): a second mapping of
	 *                  the same object, offset 0
	 *  AA..BB..CC....  a private mapping: old length 0 is EINVAL
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, SHFIX), P(0));
	assert_int_equal(t_mremap(mm, P(0), 0, 2 * PG,
	    MREMAP_MAYMOVE | MREMAP_FIXED, P(4)), P(4));
	assert_picture(mm, W, NP, "AA..BB|..........");
	assert_perms(mm, W, NP, "rw-s rw-s");
	assert_ptr_equal(vma_lookup(mm, P(4))->vm_file,
	    vma_lookup(mm, P(0))->vm_file);
	assert_int_equal(vma_lookup(mm, P(4))->vm_pgoff, 0);
	assert_int_equal(t_mmap(mm, P(8), 2 * PG, RW, FIX), P(8));
	assert_int_equal(t_mremap(mm, P(8), 0, 2 * PG,
	    MREMAP_MAYMOVE | MREMAP_FIXED, P(12)), ERRV(EINVAL));
	assert_picture(mm, W, NP, "AA..BB..CC|......");
}

static void test_mremap_grow_merges_next(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  0123456789
	 *  AA..BB....
	 *  AAAAAA....  mremap(0, 8K, 16K): grows in place and joins B
	 *  AAAAAAA.BB  grow [4,6) to [4,7); a grow not ending the VMA,
	 *              without maymove: ENOMEM
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX), P(4));
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 4 * PG, 0, 0), P(0));
	assert_picture(mm, W, NP, "AAAAAA|..........");
	assert_int_equal(t_mmap(mm, P(8), 2 * PG, RO, FIX), P(8));
	assert_int_equal(t_mremap(mm, P(4), 2 * PG, 3 * PG, 0, 0), P(4));
	assert_int_equal(t_mremap(mm, P(4), 2 * PG, 4 * PG, 0, 0),
	    ERRV(ENOMEM));
	assert_picture(mm, W, NP, "AAAAAAA.BB|......");
}

static void test_mremap_grow_anon_vma_differs(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AA..BB  both populated
	 *  AAAABB  grown in place; their anon_vmas keep them apart
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX | MAP_POPULATE),
	    P(0));
	assert_int_equal(t_mmap(mm, P(4), 2 * PG, RW, FIX | MAP_POPULATE),
	    P(4));
	assert_int_equal(t_mremap(mm, P(0), 2 * PG, 4 * PG, 0, 0), P(0));
	assert_picture(mm, W, NP, "AAAA|BB|..........");
}

static void test_fixed_noreplace(void **state)
{
	struct mm *mm = fix_mm(state);

	/*
	 *  012345
	 *  AA....
	 *  AA....  noreplace over [1,3): EEXIST
	 *  AAAA.B  noreplace at [2,4) (merges) and [5,6)
	 *  AAAA.B  noreplace over [4,8): EEXIST, the hole stays
	 */
	assert_int_equal(t_mmap(mm, P(0), 2 * PG, RW, FIX), P(0));
	assert_int_equal(t_mmap(mm, P(1), 2 * PG, RW,
	    MAP_PRIVATE | MAP_FIXED_NOREPLACE), ERRV(EEXIST));
	assert_int_equal(t_mmap(mm, P(2), 2 * PG, RW,
	    MAP_PRIVATE | MAP_FIXED_NOREPLACE), P(2));
	assert_int_equal(t_mmap(mm, P(5), PG, RO,
	    MAP_PRIVATE | MAP_FIXED_NOREPLACE), P(5));
	assert_int_equal(t_mmap(mm, P(4), 4 * PG, RO,
	    MAP_PRIVATE | MAP_FIXED_NOREPLACE), ERRV(EEXIST));
	assert_picture(mm, W, NP, "AAAA.B|..........");
	assert_perms(mm, W, NP, "rw-p r--p");
}

int main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_merge_left),
		T(test_merge_right),
		T(test_merge_both),
		T(test_merge_none_flags_differ),
		T(test_merge_locked_differs),
		T(test_merge_file_pgoff),
		T(test_merge_different_files),
		T(test_merge_shared_anon_never),
		T(test_merge_stack_nohugepage),
		T(test_merge_anon_vma_incompatible),
		T(test_merge_anon_vma_one_side),
		T(test_merge_anon_vma_mprotect),
		T(test_munmap_split),
		T(test_munmap_across),
		T(test_mprotect_split_merge),
		T(test_mlock_split_merge),
		T(test_madvise_split_merge),
		T(test_madvise_fork_dump_flags),
		T(test_zero_length),
		T(test_munmap_rounds_length_up),
		T(test_unaligned_address),
		T(test_mprotect_locked_becomes_writable),
		T(test_mprotect_hole),
		T(test_madvise_hole),
		T(test_mlock_hole_and_prot_none),
		T(test_madvise_dontneed_locked),
		T(test_mremap_dontunmap),
		T(test_mremap_dontunmap_locked),
		T(test_mremap_dontunmap_revisit),
		T(test_mremap_old_len_zero),
		T(test_mremap_grow_merges_next),
		T(test_mremap_grow_anon_vma_differs),
		T(test_fixed_noreplace),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

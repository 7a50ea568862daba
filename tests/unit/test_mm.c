/*
 * test_mm.c: unit tests of the VMA core (lib/vma.c, mmap.c, mprotect.c,
 * mlock.c, madvise.c, mremap.c) through the system-call API, on task 1 of
 * a fresh session per test.
 *
 *  - merge cases of a new range (left, right, both, none and why not);
 *  - split cases (munmap, mprotect, mlock/munlock, madvise) and merging
 *    back;
 *  - errno cases, including the max_map_count limit of each operation;
 *  - a randomized test: thousands of operations in a small window checked
 *    after each against a per-page model, plus Linux's merge rule
 *    where it can be stated exactly.
 *
 * Every expectation was checked on Linux 6.18 (x86-64): the same
 * operations run as traces with tests/linux-diff/ref-run, and the
 * map-count limits with a C program that filled the process to
 * vm.max_map_count.  Pictures (picture.h) show the window 0x200000000000
 * page by page: a letter per VMA, '.' for a hole.  mm_validate() runs
 * after every operation.  TEST_MM_SEED=<n> replays another random run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "session.h"
#include "picture.h"

#define PG	AS_PAGE_SIZE
#define W	0x200000000000UL
#define P(n)	(W + (unsigned long)(n) * PG)
#define NP	16			/* pages in a picture */
#define ERRV(e)	((unsigned long)-(long)(e))

#define RW	(PROT_READ | PROT_WRITE)
#define RO	PROT_READ
#define FIX	(MAP_PRIVATE | MAP_FIXED)
#define SHFIX	(MAP_SHARED | MAP_FIXED)

/* ---- fixture: a session and task 1's mm ---- */

/* VMAs and pages of task 1's program image, outside the window. */
static int base_vmas;
static unsigned long base_pages;

static int session_setup(void **state, int max_map_count)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	if (max_map_count)
		p.kparam[KP_MAX_MAP_COUNT] = (unsigned long)max_map_count;
	if ((s = as_session_new(&p)) == NULL)
		return -1;
	base_vmas = as_task_lookup(s, 1)->mm->map_count;
	base_pages = as_task_lookup(s, 1)->mm->total_vm;
	*state = s;
	return 0;
}

static int setup(void **state)
{
	return session_setup(state, 0);
}

static int setup_mmc20(void **state)
{
	return session_setup(state, 20);
}

static int teardown(void **state)
{
	as_session_free(*state);
	return 0;
}

static struct mm *fix_mm(void **state)
{
	return as_task_lookup(*state, 1)->mm;
}

/* ---- system calls, each followed by mm_validate() ---- */

static void check_valid(struct mm *mm, const char *op, unsigned long a,
    unsigned long b)
{
	const char *err = mm_validate(mm);

	if (err != NULL)
		fail_msg("mm_validate after %s(%#lx, %#lx): %s", op, a, b, err);
}

static unsigned long t_mmap(struct mm *mm, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags)
{
	unsigned long r = sys_mmap(mm, addr, len, prot, flags | MAP_ANONYMOUS,
	    NULL, 0, 0);

	check_valid(mm, "mmap", addr, len);
	return r;
}

static unsigned long t_mmap_file(struct mm *mm, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    struct as_file *f, unsigned long off)
{
	unsigned long r = sys_mmap(mm, addr, len, prot, flags, f, 1, off);

	check_valid(mm, "mmap file", addr, len);
	return r;
}

static int t_munmap(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_munmap(mm, addr, len);

	check_valid(mm, "munmap", addr, len);
	return r;
}

static int t_mprotect(struct mm *mm, unsigned long addr, unsigned long len,
    unsigned long prot)
{
	int r = sys_mprotect(mm, addr, len, prot);

	check_valid(mm, "mprotect", addr, len);
	return r;
}

static int t_madvise(struct mm *mm, unsigned long addr, unsigned long len,
    int advice)
{
	int r = sys_madvise(mm, addr, len, advice);

	check_valid(mm, "madvise", addr, len);
	return r;
}

static int t_mlock(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_mlock(mm, addr, len);

	check_valid(mm, "mlock", addr, len);
	return r;
}

static int t_munlock(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_munlock(mm, addr, len);

	check_valid(mm, "munlock", addr, len);
	return r;
}

static unsigned long t_mremap(struct mm *mm, unsigned long addr,
    unsigned long old_len, unsigned long new_len, unsigned long flags,
    unsigned long new_addr)
{
	unsigned long r = sys_mremap(mm, addr, old_len, new_len, flags,
	    new_addr);

	check_valid(mm, "mremap", addr, old_len);
	return r;
}

/* The flags of the VMA mapping addr (fails the test if there is none). */
static unsigned long flags_at(struct mm *mm, unsigned long addr)
{
	struct vma *v = vma_lookup(mm, addr);

	if (v == NULL)
		fail_msg("no VMA at %#lx", addr);
	return v->vm_flags;
}

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

/* ====================================================================== */
/* Randomized operations against a per-page model                         */
/* ====================================================================== */

/*
 * Each operation's expected result and effect are worked out on the model
 * first (the r_* functions), then the system call runs and everything is
 * compared.  Where the model needs the simulator's VMA boundaries (mremap
 * "must not cross a VMA", "range ends its VMA"), it reads them before the
 * call.  The operations are logged as trace-v1 lines: the last LOGN are
 * printed on a failure, and TEST_MM_TRACE=<prefix> writes every run to
 * <prefix>-<seed>.trace, for tests/linux-diff/ref-run to replay on Linux.
 */
#define RN		24		/* pages in the window */
#define RSTEPS		5000		/* operations per seed */
#define RSEEDS		32
#define ADV_MASK	(VM_RAND_READ | VM_SEQ_READ | VM_DONTCOPY | \
			 VM_DONTDUMP | VM_NOHUGEPAGE)
#define LOGN		16
#define RMAXOBJ		4096		/* shared anonymous objects per run */

/* What the model knows of one page. */
struct mpage {
	bool		 mapped, shared, locked;
	unsigned long	 prot;		/* VM_READ | VM_WRITE | VM_EXEC bits */
	unsigned long	 adv;		/* ADV_MASK bits */
	int		 obj;		/* shared: its shmem object, */
	unsigned long	 off;		/* and the page's offset in it */
};

/* A shmem object behind MAP_SHARED|MAP_ANONYMOUS mappings. */
struct robj {
	struct file	*file;			/* the simulator's, for identity */
	unsigned long	 pages;		/* its size: faults beyond it fail */
};

struct rtest {
	struct mm	*mm;
	struct mpage	 pg[RN], before[RN];
	bool		 remapped[RN];	/* mapped afresh by this operation */
	uint64_t	 rng, seed;
	unsigned long	 step;
	char		 log[LOGN][160];
	FILE		*trace;		/* TEST_MM_TRACE, or NULL */
	struct robj	 obj[RMAXOBJ];
	int		 nobj;
};

static unsigned long rnd(struct rtest *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (unsigned long)(t->rng * 0x2545F4914F6CDD1DULL);
}

static unsigned long rnd_below(struct rtest *t, unsigned long n)
{
	return n ? rnd(t) % n : 0;
}

static void rlog(struct rtest *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rlog(): record the operation about to run, as a trace line. */
static void rlog(struct rtest *t, const char *fmt, ...)
{
	char *line = t->log[t->step % LOGN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(t->log[0]), fmt, ap);
	va_end(ap);
	if (t->trace != NULL)
		fprintf(t->trace, "%s\n", line);
}

/* rfail(): print the seed, the last operations and the picture; fail. */
static void rfail(struct rtest *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rfail(struct rtest *t, const char *fmt, ...)
{
	char msg[256], pic[RN + 1];
	unsigned long i, first = t->step >= LOGN ? t->step - LOGN + 1 : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("random test seed %llu step %lu: %s\n",
	    (unsigned long long)t->seed, t->step, msg);
	for (i = first; i <= t->step; i++)
		print_error("  %5lu %s\n", i, t->log[i % LOGN]);
	picture_render(t->mm, W, RN, pic);
	print_error("  picture %s\n", pic);
	fail();
}

/* ---- trace spellings ---- */

static const char *tprot(unsigned long prot)
{
	static const char *names[8] = { "---", "r--", "-w-", "rw-", "--x",
	    "r-x", "-wx", "rwx" };

	return names[prot & 7];
}

static const char *tmmap_flags(unsigned long f, char *buf, size_t size)
{
	snprintf(buf, size, "%s,anon,%s%s%s%s",
	    f & MAP_SHARED ? "shared" : "private",
	    f & MAP_FIXED_NOREPLACE ? "fixed_noreplace" : "fixed",
	    f & MAP_POPULATE ? ",populate" : "",
	    f & MAP_LOCKED ? ",locked" : "", f & MAP_STACK ? ",stack" : "");
	return buf;
}

static const char *tadvice(int advice)
{
	switch (advice) {
	case MADV_NORMAL:	return "normal";
	case MADV_RANDOM:	return "random";
	case MADV_SEQUENTIAL:	return "sequential";
	case MADV_WILLNEED:	return "willneed";
	case MADV_DONTNEED:	return "dontneed";
	case MADV_DONTFORK:	return "dontfork";
	case MADV_DOFORK:	return "dofork";
	case MADV_DONTDUMP:	return "dontdump";
	default:		return "dodump";
	}
}

static const char *tmremap_flags(unsigned long f)
{
	switch (f) {
	case 0:					return "-";
	case MREMAP_MAYMOVE:			return "maymove";
	case MREMAP_MAYMOVE | MREMAP_FIXED:	return "maymove,fixed";
	default:			return "maymove,fixed,dontunmap";
	}
}

/* ---- the model ---- */

static unsigned long prot_bits(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	    (prot & PROT_WRITE ? VM_WRITE : 0) |
	    (prot & PROT_EXEC ? VM_EXEC : 0);
}

static bool any_mapped(const struct rtest *t, unsigned long s,
    unsigned long e)
{
	for (; s < e; s++)
		if (t->pg[s].mapped)
			return true;
	return false;
}

static void model_unmap(struct rtest *t, unsigned long s, unsigned long e)
{
	for (; s < e && s < RN; s++)
		memset(&t->pg[s], 0, sizeof(t->pg[s]));
}

/* A page's model state against the simulator's VMA. */
static void check_page(struct rtest *t, unsigned long i)
{
	const struct mpage *m = &t->pg[i];
	struct vma *v = vma_lookup(t->mm, P(i));
	unsigned long f;

	if (v == NULL) {
		if (m->mapped)
			rfail(t, "page %lu should be mapped", i);
		return;
	}
	if (!m->mapped)
		rfail(t, "page %lu should not be mapped", i);
	f = v->vm_flags;
	if ((f & VM_ACCESS_FLAGS) != m->prot || !!(f & VM_SHARED) != m->shared
	    || !!(f & VM_LOCKED) != m->locked || (f & ADV_MASK) != m->adv)
		rfail(t, "page %lu: flags %#lx, model prot %#lx shared %d "
		    "locked %d adv %#lx", i, f, m->prot, m->shared, m->locked,
		    m->adv);
	if (m->shared && (v->vm_file != t->obj[m->obj].file ||
	    v->vm_pgoff + (P(i) - v->vm_start) / PG != m->off))
		rfail(t, "page %lu: shmem object or offset %lu differs", i,
		    m->off);
}

/* Page p of a mapping, delta pages on in the same object. */
static struct mpage page_plus(struct mpage p, unsigned long delta)
{
	p.off += delta;
	return p;
}

/* Would faulting page i in fail (PROT_NONE, or past its object's end)? */
static bool fault_fails(const struct rtest *t, unsigned long i)
{
	const struct mpage *m = &t->pg[i];

	return m->prot == 0 || (m->shared && m->off >= t->obj[m->obj].pages);
}

/*
 * Linux's rule for two adjacent VMAs a merge was attempted between: equal
 * flags, anonymous and private, anon_vmas compatible (none on one side,
 * or the same: there is no fork here), file offsets contiguous.
 */
static bool mergeable(const struct vma *a, const struct vma *b)
{
	return a->vm_end == b->vm_start && a->vm_flags == b->vm_flags &&
	    a->vm_file == NULL && b->vm_file == NULL &&
	    !(a->vm_flags & (VM_SHARED | VM_SPECIAL)) &&
	    (a->anon_vma == NULL || b->anon_vma == NULL ||
	    a->anon_vma == b->anon_vma) &&
	    a->vm_pgoff + vma_pages(a) == b->vm_pgoff;
}

/* The VMAs either side of page boundary b must not be mergeable. */
static void check_boundary(struct rtest *t, unsigned long b)
{
	struct vma *left, *right;

	if (b == 0 || b >= RN)
		return;
	left = vma_lookup(t->mm, P(b - 1));
	right = vma_lookup(t->mm, P(b));
	if (left != NULL && right != NULL && left != right &&
	    mergeable(left, right))
		rfail(t, "VMAs at boundary %lu should have merged", b);
}

static bool page_changed(const struct rtest *t, unsigned long i)
{
	return t->remapped[i] ||
	    memcmp(&t->pg[i], &t->before[i], sizeof(t->pg[i])) != 0;
}

/*
 * After mmap, or vma_modify_flags() changing pages (mprotect, mlock,
 * munlock, madvise), a merge was attempted at every boundary next to a
 * changed page: none of those may separate mergeable VMAs.  (Pages whose
 * flags were already right are skipped by Linux, so no merge is tried
 * between two of them.)
 */
static void check_merged_changed(struct rtest *t)
{
	unsigned long b;

	for (b = 1; b < RN; b++)
		if (page_changed(t, b - 1) || page_changed(t, b))
			check_boundary(t, b);
}

static void check_all(struct rtest *t, bool merges)
{
	const char *err = mm_validate(t->mm);
	unsigned long i;

	if (err != NULL)
		rfail(t, "mm_validate: %s", err);
	for (i = 0; i < RN; i++)
		check_page(t, i);
	if (merges)
		check_merged_changed(t);
}

static void check_ret(struct rtest *t, long got, long want)
{
	if (got != want)
		rfail(t, "returned %ld, model says %ld", got, want);
}

/* A random [s, e) in the window, at most max pages long. */
static void rnd_range(struct rtest *t, unsigned long max, unsigned long *s,
    unsigned long *e)
{
	*s = rnd_below(t, RN);
	*e = *s + 1 + rnd_below(t, max);
	if (*e > RN)
		*e = RN;
}

/* A byte length that rounds up to n pages (sometimes unaligned). */
static unsigned long rnd_len(struct rtest *t, unsigned long n)
{
	if (rnd_below(t, 4) == 0)
		return n * PG - rnd_below(t, PG);
	return n * PG;
}

/* ---- the operations, each with its model ---- */

static void r_mmap(struct rtest *t)
{
	unsigned long s, e, len, prot = rnd_below(t, 8), i, flags;
	bool shared = rnd_below(t, 6) == 0 && t->nobj < RMAXOBJ;
	char fbuf[80];
	long want;

	rnd_range(t, 6, &s, &e);
	len = rnd_len(t, e - s);
	flags = (shared ? MAP_SHARED : MAP_PRIVATE) |
	    (rnd_below(t, 4) ? MAP_FIXED : MAP_FIXED_NOREPLACE) |
	    (rnd_below(t, 4) ? 0 : MAP_POPULATE) |
	    (rnd_below(t, 8) ? 0 : MAP_LOCKED) |
	    (rnd_below(t, 8) ? 0 : MAP_STACK);
	rlog(t, "mmap %#lx %#lx %s %s", P(s), len, tprot(prot),
	    tmmap_flags(flags, fbuf, sizeof(fbuf)));
	want = (flags & MAP_FIXED_NOREPLACE) && any_mapped(t, s, e) ?
	    -EEXIST : (long)P(s);
	check_ret(t, (long)sys_mmap(t->mm, P(s), len, prot,
	    flags | MAP_ANONYMOUS, NULL, 0, 0), want);
	if (want >= 0 && shared)
		t->obj[t->nobj++] = (struct robj){
		    .file = vma_lookup(t->mm, P(s))->vm_file, .pages = e - s };
	for (i = s; want >= 0 && i < e; i++) {
		t->pg[i] = (struct mpage){ .mapped = true, .shared = shared,
		    .locked = !!(flags & MAP_LOCKED), .prot = prot_bits(prot),
		    .adv = flags & MAP_STACK ? VM_NOHUGEPAGE : 0,
		    .obj = shared ? t->nobj - 1 : 0, .off = i - s };
		t->remapped[i] = true;
	}
	check_all(t, true);
}

static void r_munmap(struct rtest *t)
{
	unsigned long s, e, len;
	bool zero = rnd_below(t, 20) == 0;

	rnd_range(t, 8, &s, &e);
	len = zero ? 0 : rnd_len(t, e - s);
	rlog(t, "munmap %#lx %#lx", P(s), len);
	check_ret(t, sys_munmap(t->mm, P(s), len), zero ? -EINVAL : 0);
	if (!zero)
		model_unmap(t, s, e);
	check_all(t, false);
}

/* mprotect: VMA by VMA from the start; a hole stops it with ENOMEM. */
static void r_mprotect(struct rtest *t)
{
	unsigned long s, e, len, i, prot = rnd_below(t, 8);
	long want = 0;

	rnd_range(t, 8, &s, &e);
	len = rnd_len(t, e - s);
	rlog(t, "mprotect %#lx %#lx %s", P(s), len, tprot(prot));
	for (i = s; i < e; i++) {
		if (!t->pg[i].mapped) {
			want = -ENOMEM;
			break;
		}
		t->pg[i].prot = prot_bits(prot);
	}
	check_ret(t, sys_mprotect(t->mm, P(s), len, prot), want);
	check_all(t, true);
}

/* The model of one advice on one page. */
static void advise_page(struct mpage *m, int advice)
{
	switch (advice) {
	case MADV_NORMAL:	m->adv &= ~(VM_RAND_READ | VM_SEQ_READ); break;
	case MADV_RANDOM:
		m->adv = (m->adv & ~VM_SEQ_READ) | VM_RAND_READ;
		break;
	case MADV_SEQUENTIAL:
		m->adv = (m->adv & ~VM_RAND_READ) | VM_SEQ_READ;
		break;
	case MADV_DONTFORK:	m->adv |= VM_DONTCOPY; break;
	case MADV_DOFORK:	m->adv &= ~VM_DONTCOPY; break;
	case MADV_DONTDUMP:	m->adv |= VM_DONTDUMP; break;
	case MADV_DODUMP:	m->adv &= ~VM_DONTDUMP; break;
	default:		break;	/* WILLNEED, DONTNEED */
	}
}

/* madvise: holes are skipped and reported as ENOMEM at the end; DONTNEED
 * stops at a locked VMA with EINVAL. */
static void r_madvise(struct rtest *t)
{
	static const int advices[] = { MADV_NORMAL, MADV_RANDOM,
	    MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_DONTFORK,
	    MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP };
	int advice = advices[rnd_below(t, 9)];
	unsigned long s, e, len, i;
	long want = 0;

	rnd_range(t, 8, &s, &e);
	len = rnd_len(t, e - s);
	rlog(t, "madvise %#lx %#lx %s", P(s), len, tadvice(advice));
	for (i = s; i < e; i++) {
		if (!t->pg[i].mapped) {
			want = -ENOMEM;
			continue;
		}
		if (advice == MADV_DONTNEED && t->pg[i].locked) {
			want = -EINVAL;
			break;
		}
		advise_page(&t->pg[i], advice);
	}
	check_ret(t, sys_madvise(t->mm, P(s), len, advice), want);
	check_all(t, true);
}

/* mlock/munlock: the walk stops at a hole with ENOMEM; mlock then faults
 * the range in, which fails (ENOMEM) on a PROT_NONE page or past the end
 * of a shmem object. */
static void r_mlock(struct rtest *t)
{
	bool lock = rnd_below(t, 2) == 0;
	unsigned long s, e, i, off = rnd_below(t, 3) ? 0 : rnd_below(t, PG);
	unsigned long start, len;
	long want = 0;

	rnd_range(t, 8, &s, &e);
	start = P(s) + off;	/* [start, start + len) rounds out to [s, e) */
	len = (e - s) * PG - off;
	rlog(t, "%s %#lx %#lx", lock ? "mlock" : "munlock", start, len);
	for (i = s; i < e && want == 0; i++) {
		if (!t->pg[i].mapped)
			want = -ENOMEM;
		else
			t->pg[i].locked = lock;
	}
	for (i = s; lock && i < e && want == 0; i++)
		if (fault_fails(t, i))
			want = -ENOMEM;
	check_ret(t, lock ? sys_mlock(t->mm, start, len) :
	    sys_munlock(t->mm, start, len), want);
	check_all(t, true);
}

/* The VMA at page i, as [*vs, *ve) in pages (the page must be mapped). */
static void vma_pages_at(struct rtest *t, unsigned long i, unsigned long *vs,
    unsigned long *ve)
{
	struct vma *v = vma_lookup(t->mm, P(i));

	if (v == NULL) {
		rfail(t, "no VMA at mapped page %lu", i);
		return;
	}
	*vs = (v->vm_start - W) / PG;
	*ve = (v->vm_end - W) / PG;
}

static unsigned long t_sys_mremap(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new, unsigned long flags,
    unsigned long b)
{
	rlog(t, "mremap %#lx %#lx %#lx %s %#lx", P(a), old * PG, new * PG,
	    tmremap_flags(flags), P(b));
	return sys_mremap(t->mm, P(a), old * PG, new * PG, flags, P(b));
}

/* In place: shrink (unmaps the tail, whatever is there), or grow (the
 * range must end its VMA and the room after it be free). */
static void r_mremap_inplace(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new)
{
	unsigned long vs, ve, i;
	long want = (long)P(a);

	if (!t->pg[a].mapped) {
		want = -EFAULT;
	} else if (new > old) {
		vma_pages_at(t, a, &vs, &ve);
		if (a + old > ve)
			want = -EFAULT;
		else if (a + old != ve || any_mapped(t, a + old, a + new))
			want = -ENOMEM;
	}
	check_ret(t, (long)t_sys_mremap(t, a, old, new, 0, 0), want);
	if (want >= 0 && new < old)
		model_unmap(t, a + new, a + old);
	for (i = a + old; want >= 0 && i < a + new; i++)
		t->pg[i] = page_plus(t->pg[a], i - a);
	check_all(t, false);
	if (want >= 0 && new > old)
		check_boundary(t, a + new);
}

/* Move [a, a + old) to [b, b + new), resizing: a single VMA only. */
static void r_mremap_move(struct rtest *t, unsigned long a, unsigned long old,
    unsigned long b, unsigned long new)
{
	unsigned long vs, ve, i, m = old < new ? old : new;
	struct mpage src[RN];
	long want = (long)P(b);

	if (a + old > b && b + new > a)
		want = -EINVAL;
	else if (!t->pg[a].mapped)
		want = -EFAULT;
	else if (vma_pages_at(t, a, &vs, &ve), a + m > ve)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, old, new,
	    MREMAP_MAYMOVE | MREMAP_FIXED, b), want);
	if (want < 0) {
		check_all(t, false);
		return;
	}
	memcpy(src, t->pg, sizeof(src));
	model_unmap(t, b, b + new);
	model_unmap(t, a, a + old);
	for (i = 0; i < new; i++)
		t->pg[b + i] = i < m ? src[a + i] : page_plus(src[a], i);
	check_all(t, false);
	check_boundary(t, b);
	check_boundary(t, b + new);
}

/* Equal lengths to a fixed address: every VMA in the range moves, the
 * gaps between them are kept (and left alone at the destination). */
static void r_mremap_move_all(struct rtest *t, unsigned long a,
    unsigned long len, unsigned long b, bool dontunmap)
{
	unsigned long i, flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	struct mpage src[RN];
	long want = (long)P(b);

	/* DONTUNMAP unlocks the whole source VMA, whatever the dest unmap and
	 * merges made of it: test_mremap_dontunmap_locked, not modelled. */
	for (i = a; dontunmap && i < a + len; i++)
		if (t->pg[i].locked)
			return;
	if (dontunmap)
		flags |= MREMAP_DONTUNMAP;
	if (a + len > b && b + len > a)
		want = -EINVAL;
	else if (!t->pg[a].mapped)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, len, len, flags, b), want);
	memcpy(src, t->pg, sizeof(src));
	for (i = 0; want >= 0 && i < len; i++) {
		if (!src[a + i].mapped)
			continue;
		t->pg[b + i] = src[a + i];
		if (!dontunmap)
			model_unmap(t, a + i, a + i + 1);
	}
	check_all(t, false);
}

/*
 * Old length 0: a second mapping of a shared VMA at [b, b + new); EINVAL
 * for a private one.  The destination is unmapped before the source is
 * looked up again, so b == a unmaps the source and fails with EFAULT.
 */
static void r_mremap_dup(struct rtest *t, unsigned long a, unsigned long b,
    unsigned long new)
{
	struct mpage src = t->pg[a];
	unsigned long i;
	long want = (long)P(b);

	if (a > b && b + new > a)
		want = -EINVAL;
	else if (!src.mapped)
		want = -EFAULT;
	else if (!src.shared)
		want = -EINVAL;
	else if (a == b)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, 0, new,
	    MREMAP_MAYMOVE | MREMAP_FIXED, b), want);
	if (want >= 0 || (src.mapped && src.shared && a == b))
		model_unmap(t, b, b + new);
	for (i = b; want >= 0 && i < b + new; i++)
		t->pg[i] = page_plus(src, i - b);
	check_all(t, false);
}

/* Grow with maymove and no address: in place, or away from the window
 * (then the moved mapping is unmapped again). */
static void r_mremap_maymove(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new)
{
	unsigned long vs, ve, r;
	bool in_place;

	if (!t->pg[a].mapped || new <= old)
		return;
	vma_pages_at(t, a, &vs, &ve);
	if (a + old > ve)
		return;
	in_place = a + old == ve && !any_mapped(t, a + old, a + new);
	r = t_sys_mremap(t, a, old, new, MREMAP_MAYMOVE, 0);
	if (IS_ERR_VALUE(r) || (in_place && r != P(a)) ||
	    (!in_place && r >= W && r < P(RN)))
		rfail(t, "mremap maymove returned %#lx", r);
	if (in_place) {
		for (; old < new; old++)
			t->pg[a + old] = page_plus(t->pg[a], old);
	} else {
		model_unmap(t, a, a + old);
		if (t->trace != NULL)
			fprintf(t->trace, "# moved out of the window\n");
		if (sys_munmap(t->mm, r, new * PG) != 0)
			rfail(t, "munmap of the moved range failed");
	}
	check_all(t, false);
}

static void r_mremap(struct rtest *t)
{
	unsigned long a = rnd_below(t, RN), b = rnd_below(t, RN);
	unsigned long old = 1 + rnd_below(t, 5), new = 1 + rnd_below(t, 5);
	unsigned long kind = rnd_below(t, 6);

	if (a + old > RN || a + new > RN || b + old > RN || b + new > RN)
		return;
	switch (kind) {
	case 0:
		r_mremap_inplace(t, a, old, new);
		break;
	case 1:
		if (old != new)
			r_mremap_move(t, a, old, b, new);
		break;
	case 2:
	case 3:
		r_mremap_move_all(t, a, old, b, rnd_below(t, 3) == 0);
		break;
	case 4:
		r_mremap_dup(t, a, b, new);
		break;
	default:
		r_mremap_maymove(t, a, old, new);
		break;
	}
}

static void random_step(struct rtest *t)
{
	memcpy(t->before, t->pg, sizeof(t->before));
	memset(t->remapped, 0, sizeof(t->remapped));
	snprintf(t->log[t->step % LOGN], sizeof(t->log[0]), "# nothing");
	switch (rnd_below(t, 10)) {
	case 0: case 1: case 2:	r_mmap(t); break;
	case 3:			r_munmap(t); break;
	case 4: case 5:		r_mprotect(t); break;
	case 6:			r_madvise(t); break;
	case 7:			r_mlock(t); break;
	default:		r_mremap(t); break;
	}
}

static FILE *open_trace(uint64_t seed)
{
	const char *prefix = getenv("TEST_MM_TRACE");
	char path[4096];
	FILE *f;

	if (prefix == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s-%llu.trace", prefix,
	    (unsigned long long)seed);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	setvbuf(f, NULL, _IOLBF, 0);	/* complete even if the run crashes */
	fprintf(f, "window %#lx %#lx\n", W, RN * PG);
	return f;
}

static void random_run(uint64_t seed)
{
	struct as_session_params p;
	struct as_session *s;
	struct rtest *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	t->mm = as_task_lookup(s, 1)->mm;
	t->seed = seed;
	t->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	t->trace = open_trace(seed);
	for (t->step = 0; t->step < RSTEPS; t->step++)
		random_step(t);
	if (t->trace != NULL)
		fclose(t->trace);
	as_session_free(s);
	free(t);
}

static void test_random(void **state)
{
	const char *env = getenv("TEST_MM_SEED");
	uint64_t seed;

	(void)state;
	if (env != NULL) {
		random_run(strtoull(env, NULL, 0));
		return;
	}
	for (seed = 1; seed <= RSEEDS; seed++)
		random_run(seed);
}

int main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T20(f)	cmocka_unit_test_setup_teardown(f, setup_mmc20, teardown)
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
		T20(test_mmc_mmap),
		T20(test_mmc_mprotect_mlock),
		T20(test_mmc_madvise),
		T20(test_mmc_munmap),
		T20(test_mmc_mremap),
		cmocka_unit_test(test_random),
	};
#undef T
#undef T20

	return cmocka_run_group_tests(tests, NULL, NULL);
}

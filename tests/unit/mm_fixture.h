/*
 * mm_fixture.h: what the VMA core's unit tests share (test_mm.c,
 * test_mm_mapcount.c, test_mm_random.c): a fresh session per test with
 * task 1's mm, the window 0x200000000000 and its page macros, and the
 * system calls each followed by mm_validate().
 */
#ifndef ASPACE_MM_FIXTURE_H
#define ASPACE_MM_FIXTURE_H

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
static int base_vmas __attribute__((unused));
static unsigned long base_pages __attribute__((unused));

static inline int session_setup(void **state, int max_map_count)
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

static inline int setup(void **state)
{
	return session_setup(state, 0);
}

static inline int setup_mmc20(void **state)
{
	return session_setup(state, 20);
}

static inline int teardown(void **state)
{
	as_session_free(*state);
	return 0;
}

static inline struct mm *fix_mm(void **state)
{
	return as_task_lookup(*state, 1)->mm;
}

/* ---- system calls, each followed by mm_validate() ---- */

static inline void check_valid(struct mm *mm, const char *op, unsigned long a,
    unsigned long b)
{
	const char *err = mm_validate(mm);

	if (err != NULL)
		fail_msg("mm_validate after %s(%#lx, %#lx): %s", op, a, b, err);
}

static inline unsigned long t_mmap(struct mm *mm, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags)
{
	unsigned long r = sys_mmap(mm, addr, len, prot, flags | MAP_ANONYMOUS,
	    NULL, 0, 0);

	check_valid(mm, "mmap", addr, len);
	return r;
}

static inline unsigned long t_mmap_file(struct mm *mm, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    struct as_file *f, unsigned long off)
{
	unsigned long r = sys_mmap(mm, addr, len, prot, flags, f, 1, off);

	check_valid(mm, "mmap file", addr, len);
	return r;
}

static inline int t_munmap(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_munmap(mm, addr, len);

	check_valid(mm, "munmap", addr, len);
	return r;
}

static inline int t_mprotect(struct mm *mm, unsigned long addr, unsigned long len,
    unsigned long prot)
{
	int r = sys_mprotect(mm, addr, len, prot);

	check_valid(mm, "mprotect", addr, len);
	return r;
}

static inline int t_madvise(struct mm *mm, unsigned long addr, unsigned long len,
    int advice)
{
	int r = sys_madvise(mm, addr, len, advice);

	check_valid(mm, "madvise", addr, len);
	return r;
}

static inline int t_mlock(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_mlock(mm, addr, len);

	check_valid(mm, "mlock", addr, len);
	return r;
}

static inline int t_munlock(struct mm *mm, unsigned long addr, unsigned long len)
{
	int r = sys_munlock(mm, addr, len);

	check_valid(mm, "munlock", addr, len);
	return r;
}

static inline unsigned long t_mremap(struct mm *mm, unsigned long addr,
    unsigned long old_len, unsigned long new_len, unsigned long flags,
    unsigned long new_addr)
{
	unsigned long r = sys_mremap(mm, addr, old_len, new_len, flags,
	    new_addr);

	check_valid(mm, "mremap", addr, old_len);
	return r;
}

/* The flags of the VMA mapping addr (fails the test if there is none). */
static inline unsigned long flags_at(struct mm *mm, unsigned long addr)
{
	struct vma *v = vma_lookup(mm, addr);

	if (v == NULL)
		fail_msg("no VMA at %#lx", addr);
	return v->vm_flags;
}

#endif /* ASPACE_MM_FIXTURE_H */

/*
 * test_fault.c: unit tests of the simulated MMU: the page-table walk,
 * faults and their explain records, page refcount/mapcount balance, stack
 * growth, and running out of frames.  mm_validate() (which checks every
 * PTE against the VMAs and every page's mapcount) runs after each step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fault.h"
#include "mm.h"
#include "pgtable.h"
#include "session.h"

#define A	0x200000000000UL
#define PG	4096UL

struct fx {
	struct as_session	*s;
	struct task		*t;
	struct mm		*mm;
};

static int setup_ram(void **state, unsigned long ram)
{
	static struct fx fx;
	struct as_session_params p;

	as_session_params_default(&p);
	if (ram != 0)
		p.ram_bytes = ram;
	fx.s = as_session_new(&p);
	assert_non_null(fx.s);
	fx.t = as_task_lookup(fx.s, 1);
	fx.mm = fx.t->mm;
	*state = &fx;
	return 0;
}

static int setup(void **state)
{
	return setup_ram(state, 0);
}

static int setup_small(void **state)
{
	return setup_ram(state, 64 * PG);	/* 64 frames of RAM */
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	as_session_free(fx->s);
	return 0;
}

static void valid(struct fx *fx)
{
	const char *err = mm_validate(fx->mm);

	if (err != NULL)
		fail_msg("mm_validate: %s", err);
}

static unsigned long map(struct fx *fx, unsigned long addr, unsigned long len,
    unsigned long prot, unsigned long flags, struct as_file *f)
{
	unsigned long r = sys_mmap(fx->mm, addr, len, prot,
	    flags | MAP_FIXED | (f ? 0 : MAP_ANONYMOUS), f, f != NULL, 0);

	assert_int_equal(r, addr);
	valid(fx);
	return r;
}

static int access(struct fx *fx, unsigned long addr, enum as_access kind,
    struct access_result *r)
{
	int ret;

	r->explain.on = 1;
	ret = as_access(fx->t, addr, kind, r);

	valid(fx);
	return ret;
}

/*
 *  A          A+4K
 *  |rw- anon |      write one byte, then walk PGD -> PUD -> PMD -> PTE
 */
static void test_walk_after_write(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { .store = true, .value = 0x5a };
	pte_t e[4];
	struct page *page;

	map(fx, A, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL);
	pgtable_walk(fx->mm, A, e);
	assert_int_equal(e[3], 0);		/* nothing faulted yet */
	assert_int_equal(access(fx, A + 7, AS_WRITE, &r), 0);
	pgtable_walk(fx->mm, A, e);
	for (int i = 0; i < 3; i++)
		assert_true(e[i] & _PAGE_PRESENT);
	assert_true(e[3] & _PAGE_PRESENT);
	assert_true(e[3] & _PAGE_RW);
	assert_true(e[3] & _PAGE_DIRTY);
	assert_true(e[3] & _PAGE_USER);
	assert_true(e[3] & _PAGE_NX);
	page = pfn_to_page(&fx->s->phys, pte_pfn(e[3]));
	assert_int_equal(page->data[7], 0x5a);
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_refcount(page), 1);
	assert_non_null(strstr(r.explain.text, "do_anonymous_page: frame"));
	/* munmap frees the page and the now empty tables below the PGD. */
	assert_int_equal(sys_munmap(fx->mm, A, PG), 0);
	valid(fx);
	pgtable_walk(fx->mm, A, e);
	assert_false(e[0] & _PAGE_PRESENT);
}

/*
 *  read maps the shared zero page (no Rss); a write then copies it
 */
static void test_zero_page_then_cow(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { 0 };
	pte_t e[4];

	map(fx, A, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, NULL);
	assert_int_equal(access(fx, A, AS_READ, &r), 0);
	assert_int_equal(r.value, 0);
	assert_non_null(strstr(r.explain.text, "zero page mapped"));
	pgtable_walk(fx->mm, A, e);
	assert_int_equal(pte_pfn(e[3]), fx->s->phys.zero_pfn);
	assert_false(e[3] & _PAGE_RW);
	assert_int_equal(fx->t->counters.zero_page_maps, 1);
	r.store = true;
	r.value = 1;
	assert_int_equal(access(fx, A, AS_WRITE, &r), 0);
	assert_non_null(strstr(r.explain.text, "do_wp_page: copied zero page"));
	pgtable_walk(fx->mm, A, e);
	assert_int_not_equal(pte_pfn(e[3]), fx->s->phys.zero_pfn);
	assert_int_equal(fx->t->counters.cow_copies, 1);
	assert_non_null(fx->mm->mm_mt.first->anon_vma);
}

/*
 *  A          A+4K       A+8K
 *  |f0 shared |f0 shared |   two VMAs, one file page: mapcount 2
 */
static void test_shared_file_counts(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { 0 };
	struct as_file *f;
	struct page *page;

	assert_int_equal(as_file_create(fx->s, "f0", PG), 0);
	f = as_file_lookup(fx->s, "f0");
	map(fx, A, PG, PROT_READ, MAP_SHARED, f);
	map(fx, A + 0x10000, PG, PROT_READ, MAP_SHARED, f);
	assert_int_equal(access(fx, A + 1, AS_READ, &r), 0);
	assert_int_equal(r.value, (1 * 7 + 3) & 0xff);
	assert_int_equal(access(fx, A + 0x10000, AS_READ, &r), 0);
	page = f->cache[0];
	assert_int_equal(page_mapcount(page), 2);
	assert_int_equal(page_refcount(page), 3);	/* cache + two PTEs */
	assert_int_equal(sys_munmap(fx->mm, A, PG), 0);
	valid(fx);
	assert_int_equal(page_mapcount(page), 1);
	assert_int_equal(page_refcount(page), 2);
}

/*
 *  private file write: copy on write leaves the page cache untouched
 */
static void test_private_file_cow(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { .store = true, .value = 0xee };
	struct as_file *f;

	assert_int_equal(as_file_create(fx->s, "f1", 3 * PG), 0);
	f = as_file_lookup(fx->s, "f1");
	map(fx, A, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, f);
	assert_int_equal(access(fx, A + PG, AS_WRITE, &r), 0);
	assert_non_null(strstr(r.explain.text, "do_cow_fault"));
	assert_int_equal(f->cache[1]->data[0], (PG * 7 + 3) & 0xff);
	assert_int_equal(page_refcount(f->cache[1]), 1);	/* not mapped */
	r.store = false;
	assert_int_equal(access(fx, A + PG, AS_READ, &r), 0);
	assert_int_equal(r.value, 0xee);
	/* madvise(DONTNEED) drops the copy: the file's byte is back. */
	assert_int_equal(sys_madvise(fx->mm, A + PG, PG, MADV_DONTNEED), 0);
	valid(fx);
	assert_int_equal(access(fx, A + PG, AS_READ, &r), 0);
	assert_int_equal(r.value, (PG * 7 + 3) & 0xff);
}

/*
 *  a page wholly past the end of the file: SIGBUS after fault-around
 */
static void test_sigbus_past_eof(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { 0 };
	struct as_file *f;

	assert_int_equal(as_file_create(fx->s, "f2", PG + 10), 0);
	f = as_file_lookup(fx->s, "f2");
	map(fx, A, 4 * PG, PROT_READ, MAP_PRIVATE, f);
	assert_int_equal(access(fx, A + 3 * PG, AS_READ, &r), -1);
	assert_int_equal(r.sig, AS_SIGBUS);
	assert_int_equal(r.code, AS_BUS_ADRERR);
	assert_int_equal(page_mapcount(f->cache[0]), 1);	/* faulted around */
	assert_int_equal(page_mapcount(f->cache[1]), 1);
	assert_int_equal(access(fx, A + PG + 10, AS_READ, &r), 0);
	assert_int_equal(r.value, 0);		/* the tail past EOF reads 0 */
}

/*
 *  growsdown VMA: an access far below grows it; 8 MiB is the limit
 */
static void test_expand_stack(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { 0 };
	unsigned long top = A + 0x10000000;

	map(fx, top - PG, PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_GROWSDOWN, NULL);
	assert_int_equal(access(fx, top - 0x100000, AS_READ, &r), 0);
	assert_int_equal(find_vma(fx->mm, top - 1)->vm_start, top - 0x100000);
	assert_int_equal(fx->t->counters.stack_expansions, 1);
	assert_int_equal(access(fx, top - (8UL << 20), AS_READ, &r), 0);
	assert_int_equal(access(fx, top - (8UL << 20) - 1, AS_READ, &r), -1);
	assert_int_equal(r.code, AS_SEGV_MAPERR);
}

/*
 *  64 frames of RAM: writes fail with an out-of-memory answer (without
 *  swap, reclaim finds only clean file pages), munmap gives every frame
 *  back
 */
static void test_frame_exhaustion(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { .store = true, .value = 1 };
	unsigned long used = fx->s->phys.nr_used, a;
	int oom = 0;

	map(fx, A, 128 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_NORESERVE, NULL);
	for (a = A; a < A + 128 * PG && !oom; a += PG)
		if (access(fx, a, AS_WRITE, &r) != 0)
			oom = r.sig == AS_OOM;
	assert_true(oom);
	assert_true(fx->s->phys.nr_used <= fx->s->phys.nr_frames);
	assert_true(fx->t->counters.oom >= 1);
	assert_int_equal(sys_munmap(fx->mm, A, 128 * PG), 0);
	valid(fx);
	/* reclaim may have dropped clean page-cache pages (the program's) */
	assert_true(fx->s->phys.nr_used <= used);
}

/*
 *  the VMA cache: a second access to the same VMA hits
 */
static void test_vmacache(void **state)
{
	struct fx *fx = *state;
	struct access_result r = { 0 };

	map(fx, A, 4 * PG, PROT_READ, MAP_PRIVATE, NULL);
	assert_int_equal(access(fx, A, AS_READ, &r), 0);
	assert_non_null(strstr(r.explain.text, "vmacache miss"));
	/* The zero page is mapped read-only; an exec fetch faults again. */
	assert_int_equal(access(fx, A, AS_EXEC, &r), -1);
	assert_int_equal(r.code, AS_SEGV_ACCERR);
	assert_non_null(strstr(r.explain.text, "vmacache hit"));
	assert_true(fx->t->counters.vmacache_hits >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_after_write,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_page_then_cow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_counts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_file_cow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigbus_past_eof,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_stack,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_exhaustion,
		    setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_vmacache,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_swap.c: the swap device's bookkeeping (lib/swapfile.c), which the
 * linux-diff goldens (swap-*.trace) cannot see: slots in use, swap counts
 * and the swap cache after each kind of 6.18 swap-in, mm_validate()
 * catching a wrong count, the slot's bytes surviving a checkpoint; and
 * shmem's swap: a slot per page-cache swap entry (count 1, no swap cache),
 * freed by a read, a hole or the object's end, checked by mm_validate()
 * and kept by a checkpoint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "mm.h"
#include "pgtable.h"
#include "session.h"
#include "shmem.h"
#include "swap.h"
#include "trace.h"

#define OUT_MAX	(1UL << 20)

static struct as_session *run(const char *text, struct as_buf *out)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	as_buf_init(out, OUT_MAX);
	as_trace_run(s, text, strlen(text), out);
	return s;
}

#define HEAD "kernel swap 64K\nwindow 0x200000000000 0x10000000\n" \
	"mmap 0x200000000000 16K rw- private,anon,fixed\n" \
	"write 0x200000000000 0x11\nwrite 0x200000001000 0x22\n" \
	"write 0x200000002000 0x33\n" \
	"madvise 0x200000000000 16K pageout\n"

static struct swap_info_struct *si_of(struct as_session *s)
{
	assert_non_null(s->phys.swap);
	return s->phys.swap;
}

static pte_t pte_at(struct as_session *s, unsigned long addr)
{
	pte_t *pte = pte_offset(s->tasks->mm, addr);

	assert_non_null(pte);
	return *pte;
}

/* 15 slots; pageout takes 3, all exclusive entries with bytes. */
static void test_pageout_slots(void **state)
{
	struct as_buf out;
	struct as_session *s = run(HEAD, &out);
	struct swap_info_struct *si = si_of(s);
	pte_t pte = pte_at(s, 0x200000000000UL);

	(void)state;
	assert_int_equal(si->pages, 15);
	assert_int_equal(si->inuse_pages, 3);
	assert_true(is_swap_pte(pte));
	assert_true(pte & _PAGE_SWP_EXCLUSIVE);
	assert_int_equal(si->swap_map[pte_swp_offset(pte)], 1);
	assert_non_null(si->data[pte_swp_offset(pte)]);
	assert_int_equal(si->data[pte_swp_offset(pte)][0], 0x11);
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

/* A read keeps the slot (swap cache, clean, writable: exclusive); a
 * write frees it; with more than half the slots used a read frees it. */
static void test_swapin_slot_rules(void **state)
{
	struct as_buf out;
	struct as_session *s = run(HEAD "read 0x200000000000\n"
	    "write 0x200000001000 0x44\n", &out);
	struct swap_info_struct *si = si_of(s);
	pte_t r = pte_at(s, 0x200000000000UL), w = pte_at(s, 0x200000001000UL);
	struct page *rp = pfn_to_page(&s->phys, pte_pfn(r));

	(void)state;
	assert_true(pte_present(r) && (r & _PAGE_RW) && !(r & _PAGE_DIRTY));
	assert_true(rp->flags & PG_swapcache);
	assert_int_equal(si->swap_map[rp->private], SWAP_HAS_CACHE);
	assert_true(pte_present(w) && (w & _PAGE_DIRTY));
	assert_false(pfn_to_page(&s->phys, pte_pfn(w))->flags & PG_swapcache);
	assert_int_equal(si->inuse_pages, 2);	/* r's cache, the third */
	assert_true(strstr(as_buf_str(&out), "8: = 0x11") != NULL);
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);

	s = run("kernel swap 16K\nwindow 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
	    "write 0x200000000000 0x11\nwrite 0x200000001000 0x22\n"
	    "madvise 0x200000000000 8K pageout\nread 0x200000000000\n", &out);
	r = pte_at(s, 0x200000000000UL);
	rp = pfn_to_page(&s->phys, pte_pfn(r));
	assert_false(rp->flags & PG_swapcache);	/* vm_swap_full() */
	assert_true(rp->flags & PG_dirty);
	assert_int_equal(si_of(s)->inuse_pages, 1);
	as_session_free(s);
	as_buf_free(&out);
}

/* Fork shares entries (count 2, not exclusive); munmap in both frees. */
static void test_fork_counts(void **state)
{
	struct as_buf out;
	struct as_session *s = run(HEAD "fork\n", &out);
	struct swap_info_struct *si = si_of(s);
	pte_t pte = pte_at(s, 0x200000000000UL);

	(void)state;
	assert_false(pte & _PAGE_SWP_EXCLUSIVE);
	assert_int_equal(si->swap_map[pte_swp_offset(pte)], 2);
	assert_null(mm_validate(s->tasks->mm));
	const char *rest = "munmap 0x200000000000 16K\nswitch 2\n"
	    "munmap 0x200000000000 16K\n";

	as_trace_run(s, rest, strlen(rest), &out);
	assert_int_equal(si->inuse_pages, 0);
	as_session_free(s);
	as_buf_free(&out);
}

/* mm_validate() sees a slot count that no longer matches the PTEs. */
static void test_validate_counts(void **state)
{
	struct as_buf out;
	struct as_session *s = run(HEAD, &out);
	struct swap_info_struct *si = si_of(s);
	unsigned long off = pte_swp_offset(pte_at(s, 0x200000000000UL));
	const char *err;

	(void)state;
	si->swap_map[off]++;
	err = mm_validate(s->tasks->mm);
	assert_non_null(err);
	assert_non_null(strstr(err, "swap"));
	si->swap_map[off]--;
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

/* The slots and their bytes survive a checkpoint. */
static void test_checkpoint_bytes(void **state)
{
	struct as_buf out, ck, out2;
	struct as_session *s = run(HEAD, &out), *s2;
	char why[200];

	(void)state;
	as_buf_init(&ck, 64UL << 20);
	assert_int_equal(as_session_save(s, &ck), 0);
	assert_int_equal(as_session_load(ck.data, ck.len, &s2, why,
	    sizeof(why)), 0);
	assert_int_equal(si_of(s2)->inuse_pages, 3);
	as_buf_init(&out2, OUT_MAX);
	as_trace_run(s2, "read 0x200000002000\n",
	    strlen("read 0x200000002000\n"), &out2);
	assert_non_null(strstr(as_buf_str(&out2), "= 0x33"));
	assert_null(mm_validate(s2->tasks->mm));
	as_session_free(s2);
	as_session_free(s);
	as_buf_free(&out);
	as_buf_free(&out2);
	as_buf_free(&ck);
}

#define SHMEM_HEAD "kernel swap 64K\nwindow 0x200000000000 0x10000000\n" \
	"mmap 0x200000000000 16K rw- shared,anon,fixed\n" \
	"write 0x200000000000 0x11\nwrite 0x200000001000 0x22\n" \
	"write 0x200000002000 0x33\nread 0x200000003000\n" \
	"madvise 0x200000000000 16K pageout\n"

/* The shmem object behind the first VMA of the first task. */
static struct as_file *shmem_of(struct as_session *s)
{
	struct vma *vma = s->tasks->mm->mm_mt.first;

	assert_non_null(vma->vm_file);
	return file_inode(vma->vm_file);
}

/* Pageout of shmem: each dirty page's slot has count 1, the page cache's
 * swap entry; the clean page is dropped; no swap PTE, nothing in the swap
 * cache; a read frees the slot at once and the page is dirty. */
static void test_shmem_slots(void **state)
{
	struct as_buf out;
	struct as_session *s = run(SHMEM_HEAD, &out);
	struct swap_info_struct *si = si_of(s);
	struct as_file *f = shmem_of(s);
	unsigned long off;

	(void)state;
	assert_int_equal(si->inuse_pages, 3);
	assert_int_equal(f->swapped, 3);
	assert_true(xa_is_value(f->cache[0]));
	assert_null(f->cache[3]);
	off = radix_to_swp_offset(f->cache[0]);
	assert_int_equal(si->swap_map[off], 1);
	assert_null(si->cache[off]);
	assert_int_equal(si->data[off][0], 0x11);
	assert_int_equal(pte_at(s, 0x200000000000UL), 0);
	assert_null(mm_validate(s->tasks->mm));

	as_trace_run(s, "read 0x200000000000\n",
	    strlen("read 0x200000000000\n"), &out);
	assert_non_null(strstr(as_buf_str(&out), "= 0x11"));
	assert_int_equal(si->inuse_pages, 2);
	assert_int_equal(si->swap_map[off], 0);
	assert_int_equal(f->swapped, 2);
	assert_false(xa_is_value(f->cache[0]));
	assert_true(f->cache[0]->flags & PG_dirty);
	assert_false(f->cache[0]->flags & PG_swapcache);
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

/* mm_validate() sees a shmem slot whose count no longer matches its
 * page-cache entries, and a swapped count that is off. */
static void test_shmem_validate(void **state)
{
	struct as_buf out;
	struct as_session *s = run(SHMEM_HEAD, &out);
	struct swap_info_struct *si = si_of(s);
	struct as_file *f = shmem_of(s);
	unsigned long off = radix_to_swp_offset(f->cache[1]);
	const char *err;

	(void)state;
	si->swap_map[off]++;
	err = mm_validate(s->tasks->mm);
	assert_non_null(err);
	assert_non_null(strstr(err, "swap"));
	si->swap_map[off]--;
	f->swapped++;
	assert_non_null(mm_validate(s->tasks->mm));
	f->swapped--;
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

/* A hole punched, the fork child's munmap, then the last munmap: the
 * slots go with the entries and the object, never with a mapping. */
static void test_shmem_free_slots(void **state)
{
	struct as_buf out;
	struct as_session *s = run(SHMEM_HEAD
	    "madvise 0x200000001000 4K remove\n"
	    "fork\nmunmap 0x200000000000 16K\n", &out);
	struct swap_info_struct *si = si_of(s);
	const char *rest = "switch 2\nmunmap 0x200000000000 16K\n";

	(void)state;
	assert_int_equal(si->inuse_pages, 2);
	assert_null(mm_validate(s->tasks->mm));
	as_trace_run(s, rest, strlen(rest), &out);
	assert_int_equal(si->inuse_pages, 0);
	as_session_free(s);
	as_buf_free(&out);
}

/* A System V segment's swap entries survive a checkpoint, and come back
 * with their bytes; the segment's removal then frees the slots. */
static void test_shmem_checkpoint(void **state)
{
	struct as_buf out, ck, out2;
	struct as_session *s = run("kernel swap 64K\n"
	    "window 0x200000000000 0x10000000\nshmget seg 16K\n"
	    "shmat seg 0x200000000000 -\nwrite 0x200000001000 0x42\n"
	    "write 0x200000002000 0x43\n"
	    "madvise 0x200000000000 16K pageout\n"
	    "shmdt 0x200000000000\n", &out), *s2;
	const char *rest = "shmat seg 0x200000000000 -\n"
	    "read 0x200000002000\nshmdt 0x200000000000\nshmrm seg\n";
	char why[200];

	(void)state;
	as_buf_init(&ck, 64UL << 20);
	assert_int_equal(as_session_save(s, &ck), 0);
	assert_int_equal(as_session_load(ck.data, ck.len, &s2, why,
	    sizeof(why)), 0);
	assert_int_equal(si_of(s2)->inuse_pages, 2);
	as_buf_init(&out2, OUT_MAX);
	as_trace_run(s2, rest, strlen(rest), &out2);
	assert_non_null(strstr(as_buf_str(&out2), "= 0x43"));
	assert_int_equal(si_of(s2)->inuse_pages, 0);
	assert_null(mm_validate(s2->tasks->mm));
	as_session_free(s2);
	as_session_free(s);
	as_buf_free(&out);
	as_buf_free(&out2);
	as_buf_free(&ck);
}

/* A pageout filling the device has the slots only the swap cache holds
 * reclaimed as it ends: their pages dirty, their slots free. */
static void test_full_reclaims_cache(void **state)
{
	struct as_buf out;
	struct as_session *s = run("kernel swap 40K\n"
	    "window 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 12K rw- private,anon,fixed\n"
	    "madvise 0x200000000000 12K populate_write\n"
	    "madvise 0x200000000000 12K pageout\n"
	    "read 0x200000000000\nread 0x200000001000\n"
	    "read 0x200000002000\n", &out);
	struct swap_info_struct *si = si_of(s);
	struct page *page = pfn_to_page(&s->phys,
	    pte_pfn(pte_at(s, 0x200000000000UL)));
	const char *rest = "mmap 0x200000100000 24K rw- private,anon,fixed\n"
	    "madvise 0x200000100000 24K populate_write\n"
	    "madvise 0x200000100000 24K pageout\n";

	(void)state;
	assert_int_equal(si->inuse_pages, 3);
	assert_true(page->flags & PG_swapcache);
	assert_false(page->flags & PG_dirty);
	as_trace_run(s, rest, strlen(rest), &out);
	assert_int_equal(si->inuse_pages, 6);
	assert_false(si->reclaim_pending);
	assert_false(page->flags & PG_swapcache);
	assert_true(page->flags & PG_dirty);
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

/* Reclaim under memory pressure writes shmem pages to swap too: their
 * bytes come back, every slot accounted for. */
static void test_shmem_reclaim(void **state)
{
	struct as_buf out;
	struct as_session *s = run("kernel ram 1M\nkernel swap 1M\n"
	    "window 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 1536K rw- shared,anon,fixed\n"
	    "write 0x200000000000 0x11\n"
	    "madvise 0x200000000000 1536K populate_write\n"
	    "read 0x200000000000\n", &out);
	struct as_file *f = shmem_of(s);

	(void)state;
	assert_true(f->swapped > 0);
	assert_true(si_of(s)->inuse_pages >= f->swapped);
	assert_non_null(strstr(as_buf_str(&out), "7: = 0x11"));
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pageout_slots),
		cmocka_unit_test(test_swapin_slot_rules),
		cmocka_unit_test(test_fork_counts),
		cmocka_unit_test(test_validate_counts),
		cmocka_unit_test(test_checkpoint_bytes),
		cmocka_unit_test(test_shmem_slots),
		cmocka_unit_test(test_shmem_validate),
		cmocka_unit_test(test_shmem_free_slots),
		cmocka_unit_test(test_shmem_checkpoint),
		cmocka_unit_test(test_full_reclaims_cache),
		cmocka_unit_test(test_shmem_reclaim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

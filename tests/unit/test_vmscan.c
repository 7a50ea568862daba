/*
 * test_vmscan.c: reclaim under memory pressure (lib/vmscan.c), a
 * simulator behaviour no reference trace can check (Linux's choice of
 * pages is not deterministic): new pages join the head of the inactive
 * list; a scan gives a young page a second chance (PG_referenced) and
 * activates it when used again, while the old ones go to swap, oldest
 * first; the active list is deactivated; lazily freed pages go without
 * swap unless written since; mlocked pages stay; a page shared after fork
 * is unmapped from both mms and faulted back with its bytes; without swap
 * a full RAM is out of memory as before; the lists and their order
 * survive a checkpoint;
 * and two mms faulting under pressure at once do not deadlock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "fault.h"
#include "mm.h"
#include "pgtable.h"
#include "session.h"
#include "swap.h"
#include "trace.h"
#include "vmscan.h"

#define OUT_MAX	(1UL << 22)
#define A	0x200000000000UL
#define PG	4096UL

static struct as_buf out;

static struct as_session *run(const char *text)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	as_buf_init(&out, OUT_MAX);
	as_trace_run(s, text, strlen(text), &out);
	return s;
}

static void done(struct as_session *s)
{
	assert_null(mm_validate(s->tasks->mm));
	as_session_free(s);
	as_buf_free(&out);
}

static struct task *task(struct as_session *s, int pid)
{
	struct task *t = as_task_lookup(s, pid);

	assert_non_null(t);
	return t;
}

static pte_t pte_of(struct task *t, unsigned long addr)
{
	pte_t *pte = pte_offset(t->mm, addr);

	return pte != NULL ? *pte : 0;
}

/* The page task t maps at addr (present). */
static struct page *page_of(struct as_session *s, struct task *t,
    unsigned long addr)
{
	pte_t pte = pte_of(t, addr);

	assert_true(pte_present(pte));
	return pfn_to_page(&s->phys, pte_pfn(pte));
}

static uint8_t rd(struct task *t, unsigned long addr)
{
	struct access_result r = { 0 };

	assert_int_equal(as_access(t, addr, AS_READ, &r), 0);
	return r.value;
}

static void wr(struct task *t, unsigned long addr, uint8_t v)
{
	struct access_result r = { .store = true, .value = v };

	assert_int_equal(as_access(t, addr, AS_WRITE, &r), 0);
}

static unsigned long nr_lru(struct as_session *s, enum lru_list l)
{
	return s->phys.lruvec.nr[l];
}

#define SWAPPED(t, a)	is_swap_pte(pte_of(t, a))
#define PRESENT(t, a)	pte_present(pte_of(t, a))

#define SMALL	"kernel ram 256K\nkernel swap 1M\n" \
	"window 0x200000000000 0x10000000\n"
#define FOUR	"mmap 0x200000000000 16K rw- private,anon,fixed\n" \
	"write 0x200000000000 0x10\nwrite 0x200000001000 0x11\n" \
	"write 0x200000002000 0x12\nwrite 0x200000003000 0x13\n"

/* New anonymous pages go to the head of the inactive anon list, the
 * latest first. */
static void test_new_pages_inactive(void **state)
{
	struct as_session *s = run(SMALL FOUR);
	struct task *t = task(s, 1);
	struct page *p[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		p[i] = page_of(s, t, A + i * PG);
		assert_true(page_test(p[i], PG_lru));
		assert_false(page_test(p[i], PG_active));
		assert_int_equal(p[i]->lru, LRU_INACTIVE_ANON + 1);
	}
	assert_ptr_equal(s->phys.lruvec.head[LRU_INACTIVE_ANON], p[3]);
	for (i = 3; i > 0; i--)
		assert_ptr_equal(p[i]->lru_next, p[i - 1]);
	assert_null(lru_validate(&s->phys));
	done(s);
}

/*
 * One scan of the whole inactive list: every page is young, so each is
 * kept with PG_referenced and its PTE made old.  Pages 0 and 1 are read
 * again; the next scan activates them and swaps 2 and 3 out.  The active
 * list's scan then deactivates 0 and 1.
 */
static void test_second_chance(void **state)
{
	struct as_session *s = run(SMALL FOUR);
	struct task *t = task(s, 1);
	struct page *p0, *p1;

	(void)state;
	assert_int_equal(shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON)), 0);
	p0 = page_of(s, t, A);
	assert_true(page_test(p0, PG_referenced));
	assert_false(pte_of(t, A) & _PAGE_ACCESSED);
	assert_int_equal(rd(t, A), 0x10);
	assert_int_equal(rd(t, A + PG), 0x11);
	assert_true(shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON)) >= 2);
	p0 = page_of(s, t, A);
	p1 = page_of(s, t, A + PG);
	assert_true(page_test(p0, PG_active) && page_test(p1, PG_active));
	assert_int_equal(p0->lru, LRU_ACTIVE_ANON + 1);
	assert_true(SWAPPED(t, A + 2 * PG) && SWAPPED(t, A + 3 * PG));
	assert_null(mm_validate(t->mm));
	/* shrink_active_list(): both back on the inactive list */
	assert_int_equal(shrink_lru_list(s, LRU_ACTIVE_ANON,
	    nr_lru(s, LRU_ACTIVE_ANON)), 0);
	assert_false(page_test(p0, PG_active) || page_test(p1, PG_active));
	assert_int_equal(p1->lru, LRU_INACTIVE_ANON + 1);
	assert_int_equal(nr_lru(s, LRU_ACTIVE_ANON), 0);
	/* the swapped pages fault back with their bytes: major faults */
	assert_int_equal(rd(t, A + 2 * PG), 0x12);
	assert_int_equal(rd(t, A + 3 * PG), 0x13);
	assert_int_equal(t->counters.major_faults, 2);
	done(s);
}

/* A trace's writes to 400 KiB of anonymous memory in 256 KiB of RAM all
 * succeed: the oldest pages went to swap, the latest are resident, and
 * every byte reads back. */
static void test_pressure_oldest_first(void **state)
{
	struct access_result r;
	char text[8192];
	size_t n = 0;
	struct as_session *s;
	struct task *t;
	unsigned long i;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, SMALL
	    "mmap 0x200000000000 1M rw- private,anon,fixed\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "write 0x%lx 0x%02lx\n", A + i * PG, i);
	s = run(text);
	t = task(s, 1);
	assert_null(strstr(out.data, "error"));
	for (i = 0; i < 8; i++) {
		assert_true(SWAPPED(t, A + i * PG));
		assert_true(PRESENT(t, A + (99 - i) * PG));
	}
	assert_null(mm_validate(t->mm));
	for (i = 0; i < 100; i++)
		assert_int_equal(rd(t, A + i * PG), i);
	assert_true(t->counters.major_faults >= 8);
	/* the fault's explain record tells of the reclaim and the retry */
	memset(&r, 0, sizeof(r));
	r.store = true;
	r.explain.on = 1;
	assert_int_equal(as_access(t, A + 200 * PG, AS_WRITE, &r), 0);
	assert_non_null(strstr(r.explain.text, "RAM full: direct reclaim "
	    "freed "));
	assert_non_null(strstr(r.explain.text, "fault retried -> "
	    "do_anonymous_page: frame"));
	done(s);
}

/* A page read after every write (a hot page) is never swapped out while
 * 100 others stream through RAM. */
static void test_hot_page_survives(void **state)
{
	struct as_session *s = run(SMALL
	    "mmap 0x200000000000 1M rw- private,anon,fixed\n");
	struct task *t = task(s, 1);
	unsigned long i;

	(void)state;
	wr(t, A, 0xaa);
	for (i = 1; i < 200; i++) {
		wr(t, A + (i % 255 + 1) * PG, (uint8_t)i);
		assert_int_equal(rd(t, A), 0xaa);
	}
	assert_int_equal(t->counters.major_faults, 0);
	assert_true(SWAPPED(t, A + 2 * PG));
	assert_true(page_test(page_of(s, t, A), PG_referenced) ||
	    page_test(page_of(s, t, A), PG_active));
	done(s);
}

/* Lazily freed pages sit on the inactive file list and go without swap;
 * one written since is swap-backed again and activated. */
static void test_lazyfree_without_swap(void **state)
{
	struct as_session *s = run("window 0x200000000000 0x10000000\n" FOUR
	    "madvise 0x200000000000 12K free\n"
	    "write 0x200000002000 0x22\n");
	struct task *t = task(s, 1);
	struct page *p2 = page_of(s, t, A + 2 * PG);

	(void)state;
	assert_int_equal(page_of(s, t, A)->lru, LRU_INACTIVE_FILE + 1);
	assert_false(page_test(p2, PG_swapbacked));
	assert_true(shrink_lru_list(s, LRU_INACTIVE_FILE,
	    nr_lru(s, LRU_INACTIVE_FILE)) >= 2);
	assert_int_equal(pte_of(t, A), 0);
	assert_int_equal(pte_of(t, A + PG), 0);
	assert_ptr_equal(page_of(s, t, A + 2 * PG), p2);	/* young: kept */
	(void)shrink_lru_list(s, LRU_INACTIVE_FILE,
	    nr_lru(s, LRU_INACTIVE_FILE));
	assert_ptr_equal(page_of(s, t, A + 2 * PG), p2);	/* dirty */
	assert_true(page_test(p2, PG_swapbacked));
	assert_int_equal(p2->lru, LRU_ACTIVE_ANON + 1);
	assert_null(s->phys.swap);		/* no swap was used */
	assert_int_equal(rd(t, A), 0);
	assert_int_equal(rd(t, A + 2 * PG), 0x22);
	assert_int_equal(rd(t, A + 3 * PG), 0x13);
	done(s);
}

/* Mlocked pages are never reclaimed, however often scanned. */
static void test_mlocked_stay(void **state)
{
	struct as_session *s = run(SMALL
	    "mmap 0x200000000000 16K rw- private,anon,fixed,locked\n"
	    "write 0x200000000000 0x10\nwrite 0x200000003000 0x13\n");
	struct task *t = task(s, 1);
	int i, l;

	(void)state;
	for (i = 0; i < 4; i++)
		for (l = 0; l < NR_LRU_LISTS; l++)
			(void)shrink_lru_list(s, (enum lru_list)l,
			    nr_lru(s, (enum lru_list)l));
	for (i = 0; i < 4; i++)
		assert_true(PRESENT(t, A + (unsigned long)i * PG));
	assert_int_equal(rd(t, A + 3 * PG), 0x13);
	assert_int_equal(t->counters.major_faults, 0);
	done(s);
}

/* A page shared by parent and child after fork is found through its
 * anon_vma in both mms, unmapped from both (one slot, two swap PTEs)
 * and faults back in each with its byte. */
static void test_fork_shared_page(void **state)
{
	struct as_session *s = run(SMALL
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
	    "write 0x200000000000 0x5a\nfork\n");
	struct task *p = task(s, 1), *c = task(s, 2);
	unsigned long off;

	struct anon_vma *av;
	struct rmap_vma *v;
	int n;

	(void)state;
	assert_ptr_equal(page_of(s, p, A), page_of(s, c, A));
	/* the reverse map: the page's anon_vma (the parent's) has both
	 * VMAs in its rb_root, the child's by anon_vma_fork()'s chain */
	av = page_of(s, p, A)->anon_vma;
	assert_ptr_equal(av, find_vma(p->mm, A)->anon_vma);
	assert_ptr_not_equal(find_vma(c->mm, A)->anon_vma, av);
	v = anon_vma_rb_snapshot(s, av, &n);
	assert_int_equal(n, 2);
	assert_true((v[0].mm == p->mm && v[1].mm == c->mm) ||
	    (v[0].mm == c->mm && v[1].mm == p->mm));
	free(v);
	(void)shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON));		/* ages it */
	assert_true(PRESENT(p, A));
	(void)shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON));
	assert_true(SWAPPED(p, A) && SWAPPED(c, A));
	off = pte_swp_offset(pte_of(p, A));
	assert_int_equal(pte_swp_offset(pte_of(c, A)), off);
	assert_int_equal(swap_count(&s->phys, off), 2);
	assert_null(mm_validate(p->mm));
	assert_int_equal(rd(c, A), 0x5a);
	assert_int_equal(c->counters.major_faults, 1);
	assert_int_equal(rd(p, A), 0x5a);		/* the swap cache's */
	assert_ptr_equal(page_of(s, p, A), page_of(s, c, A));
	wr(c, A, 0x5b);					/* copy on write */
	assert_int_equal(rd(p, A), 0x5a);
	assert_null(mm_validate(c->mm));
	done(s);
}

/* Without swap, anonymous memory fills RAM and the fault is out of
 * memory, as before reclaim existed, once reclaim has dropped the clean
 * page-cache pages (those need no swap). */
static void test_oom_without_swap(void **state)
{
	char text[8192];
	size_t n = 0;
	struct as_session *s;
	unsigned long i;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "kernel ram 256K\nwindow 0x200000000000 0x10000000\n"
	    "file f 16K\nmmap 0x200000000000 1M rw- private,anon,fixed,noreserve\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "write 0x%lx 0x%02lx\n", A + i * PG, i);
	s = run(text);
	assert_non_null(strstr(out.data, "! error: out of memory"));
	assert_true(task(s, 1)->counters.oom >= 1);
	assert_null(s->phys.swap);
	/* the clean page-cache pages went first: no swap is needed for them */
	assert_int_equal(nr_lru(s, LRU_INACTIVE_FILE) +
	    nr_lru(s, LRU_ACTIVE_FILE), 0);
	done(s);
}

/* The lists survive a checkpoint: each in its order, PG_active kept,
 * and `kernel ram` with the RAM the session was made with. */
static void test_checkpoint_lists(void **state)
{
	struct as_session *s = run(SMALL FOUR), *l = NULL;
	struct task *t = task(s, 1);
	unsigned long nr[NR_LRU_LISTS];
	struct as_buf ck;
	char why[128];
	int i;

	(void)state;
	(void)shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON));
	(void)rd(t, A);
	(void)shrink_lru_list(s, LRU_INACTIVE_ANON,
	    nr_lru(s, LRU_INACTIVE_ANON));
	assert_true(page_test(page_of(s, t, A), PG_active));
	memcpy(nr, s->phys.lruvec.nr, sizeof(nr));
	as_buf_init(&ck, OUT_MAX);
	assert_int_equal(as_session_save(s, &ck), 0);
	assert_int_equal(as_session_load(ck.data, ck.len, &l, why,
	    sizeof(why)), 0);
	for (i = 0; i < NR_LRU_LISTS; i++) {
		struct page *a = s->phys.lruvec.head[i];
		struct page *b = l->phys.lruvec.head[i];

		assert_int_equal(l->phys.lruvec.nr[i], nr[i]);
		for (; a != NULL; a = a->lru_next, b = b->lru_next) {
			assert_non_null(b);	/* the same order */
			assert_int_equal(a->pfn, b->pfn);
		}
		assert_null(b);
	}
	assert_null(lru_validate(&l->phys));
	assert_int_equal(l->phys.nr_frames, 64);	/* kernel ram 256K */
	assert_int_equal(l->phys.max_frames, s->phys.max_frames);
	assert_true(page_test(page_of(l, task(l, 1), A), PG_active));
	assert_int_equal(rd(task(l, 1), A + 3 * PG), 0x13);
	as_session_free(l);
	as_buf_free(&ck);
	done(s);
}

/* Two mms (parent and child) fault under pressure at once, each in its
 * own 1 MiB; every byte reads back, and no lock is taken out of order
 * (a deadlock would hang the test). */
struct stress {
	struct task	*t;
	unsigned long	 base;
	int		 bad;
};

static void *stress_one(void *arg)
{
	struct stress *st = arg;
	struct access_result r;
	unsigned long i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 256; i++) {
			memset(&r, 0, sizeof(r));
			r.store = true;
			r.value = (uint8_t)(i + round);
			if (as_access(st->t, st->base + i * PG, AS_WRITE, &r))
				st->bad += r.sig == AS_OOM ? 1 : 100000;
		}
		for (i = 0; i < 256; i++) {
			memset(&r, 0, sizeof(r));
			if (as_access(st->t, st->base + i * PG, AS_READ, &r))
				st->bad++;
			else if (r.value != (uint8_t)(i + round))
				st->bad += 1000;
		}
	}
	return NULL;
}

static void test_stress_two_mms(void **state)
{
	struct as_session *s = run("kernel ram 512K\nkernel swap 8M\n"
	    "window 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 2M rw- private,anon,fixed\n"
	    "write 0x200000000000 0x1\nfork\n");
	struct stress st[2] = { { task(s, 1), A, 0 },
	    { task(s, 2), A + (1UL << 20), 0 } };
	pthread_t th[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, stress_one,
		    &st[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(st[0].bad, 0);
	assert_int_equal(st[1].bad, 0);
	assert_true(st[0].t->counters.major_faults +
	    st[1].t->counters.major_faults > 0);
	assert_null(mm_validate(st[1].t->mm));
	done(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_pages_inactive),
		cmocka_unit_test(test_second_chance),
		cmocka_unit_test(test_pressure_oldest_first),
		cmocka_unit_test(test_hot_page_survives),
		cmocka_unit_test(test_lazyfree_without_swap),
		cmocka_unit_test(test_mlocked_stay),
		cmocka_unit_test(test_fork_shared_page),
		cmocka_unit_test(test_oom_without_swap),
		cmocka_unit_test(test_checkpoint_lists),
		cmocka_unit_test(test_stress_two_mms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

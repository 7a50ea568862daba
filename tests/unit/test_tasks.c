/*
 * test_tasks.c: many tasks at once.
 *
 *  - storm: 40,000 random steps (about 2,400 forks and threads, as many
 *    exits, and faults, mmaps, munmaps...) in
 *    one session; mm_validate() (every PTE in a VMA, every page's mapcount
 *    equal to its PTEs over all mms) after each step, and when every task
 *    but the first has exited and it unmaps everything, every frame but
 *    the zero page, the page cache and the page tables is free again.
 *  - concurrency: several host threads drive tasks of one session at once
 *    (faults in a shared mm from many tasks, mmap/munmap/mprotect in it,
 *    brk, forks and exits, smaps of the forking mm unsharing every table
 *    its children share; every child's break where its heap ends); run
 *    under ThreadSanitizer in CI.
 *  - cow_from_cache: a child's private file mapping copies page cache
 *    pages on write while task 1 stores into them through a shared
 *    mapping; the copies hold only bytes that were in the page (under
 *    ThreadSanitizer: the copy reads what another thread writes).
 *  - session_validate: as_session_validate() counts each mm once, passes
 *    a session after fork, threads and COW, and names what is broken
 *    once a page's mapcount or an mm's total_vm is made wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "fault.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "buf.h"
#include "session.h"

#define A	0x200000000000UL
#define PG	4096UL
#define SPAN	64		/* pages of the region tasks work in */

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void valid(struct mm *mm)
{
	const char *err = mm_validate(mm);

	if (err != NULL)
		fail_msg("mm_validate: %s", err);
}

/* One random memory operation of task t. */
static void random_op(struct task *t, struct as_file *f, uint64_t *seed)
{
	unsigned long r = rnd_next(seed) % 100;
	unsigned long addr = A + (rnd_next(seed) % SPAN) * PG;
	unsigned long len = (1 + rnd_next(seed) % 8) * PG;
	struct access_result res = { .store = true, .value = (uint8_t)r };

	if (r < 40)
		as_access(t, addr, r & 1 ? AS_WRITE : AS_READ, &res);
	else if (r < 55)
		sys_mmap(t->mm, addr, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_FIXED | (r & 1 ? MAP_ANONYMOUS : 0),
		    r & 1 ? NULL : f, 1, 0);
	else if (r < 62)
		sys_mmap(t->mm, addr, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, NULL, 0, 0);
	else if (r < 72)
		sys_munmap(t->mm, addr, len);
	else if (r < 82)
		sys_mprotect(t->mm, addr, len, r & 2 ? PROT_READ :
		    PROT_READ | PROT_WRITE);
	else if (r < 88)
		sys_madvise(t->mm, addr, len, r & 1 ? MADV_DONTNEED :
		    MADV_DONTFORK);
	else
		sys_mremap(t->mm, addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		    A + (rnd_next(seed) % SPAN) * PG);
}

/* Frames that stay in use with no task mapping anything. */
static unsigned long resting_frames(struct as_session *s)
{
	return s->phys.nr_used;
}

static void test_storm(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct task *tasks[64], *t;
	struct as_file *f;
	uint64_t seed = 0x1234567;
	unsigned long rest;
	int n = 1, i, err;

	(void)state;
	as_session_params_default(&p);
	p.ram_bytes = 64UL << 20;	/* keeps mm_validate()'s tally small */
	s = as_session_new(&p);
	assert_non_null(s);
	assert_int_equal(as_file_create(s, "f", 16 * PG), 0);
	f = as_file_lookup(s, "f");
	tasks[0] = as_task_lookup(s, 1);
	rest = resting_frames(s) - tasks[0]->mm->nr_pgtables;
	for (i = 0; i < 40000; i++) {
		unsigned long r = rnd_next(&seed) % 100;
		int k = (int)(rnd_next(&seed) % (uint64_t)n);

		if (r < 6 && n < 64) {
			t = as_clone(s, tasks[k], r & 1, &err);
			assert_non_null(t);
			tasks[n++] = t;
		} else if (r < 10 && n > 1 && k > 0) {
			as_exit(s, tasks[k]);
			tasks[k] = tasks[--n];
		} else {
			random_op(tasks[k], f, &seed);
		}
		valid(tasks[k == n ? 0 : k]->mm);
	}
	while (n > 1)
		as_exit(s, tasks[--n]);
	assert_int_equal(sys_munmap(tasks[0]->mm, A, SPAN * 2 * PG), 0);
	valid(tasks[0]->mm);
	/* Only page tables may remain above the starting figure. */
	assert_int_equal(resting_frames(s) - tasks[0]->mm->nr_pgtables,
	    rest);
	as_session_free(s);
}

struct worker {
	struct as_session	*s;
	struct task		*t;
	struct as_file		*f;
	uint64_t		 seed;
	int			 kind;	/* 0 faults, 1 mappings, 2 forks, 3 brk,
					 * 4 smaps (unsharing every table) */
	unsigned long		 bad;	/* forks: children with a wrong brk */
};

static void *faulter(struct worker *w)
{
	struct access_result r = { .store = true, .value = 7 };

	for (int i = 0; i < 20000; i++)
		as_access(w->t, A + (rnd_next(&w->seed) % SPAN) * PG,
		    i & 1 ? AS_WRITE : AS_READ, &r);
	return NULL;
}

static void *mapper(struct worker *w)
{
	for (int i = 0; i < 3000; i++)
		random_op(w->t, w->f, &w->seed);
	return NULL;
}

/* The heap of a new mm ends at its break (the VMA there is the heap's
 * or, with an empty heap, bss's; nothing is mapped right above). */
static bool brk_matches(struct mm *mm)
{
	unsigned long end = AS_PAGE_ALIGN(mm->brk);

	return vma_lookup(mm, end) == NULL && vma_lookup(mm, end - PG) != NULL;
}

/* The break up and down by up to 16 pages. */
static void *breaker(struct worker *w)
{
	unsigned long base = w->t->mm->start_brk;

	for (int i = 0; i < 3000; i++)
		sys_brk(w->t->mm, base + (rnd_next(&w->seed) % 17) * PG);
	return NULL;
}

static void *forker(struct worker *w)
{
	struct access_result r = { .store = true, .value = 9 };
	struct task *c;
	int err;

	for (int i = 0; i < 200; i++) {
		if ((c = as_clone(w->s, w->t, false, &err)) == NULL)
			continue;
		w->bad += !brk_matches(c->mm);
		for (int j = 0; j < 50; j++)
			as_access(c, A + (rnd_next(&w->seed) % SPAN) * PG,
			    AS_WRITE, &r);
		as_exit(w->s, c);
	}
	return NULL;
}

/* smaps of the forking mm, over and over: each unshares every table
 * the forker's children still share (session_unshare_tables()). */
static void *smaps_reader(struct worker *w)
{
	struct as_buf b;
	struct vma *v;

	as_buf_init(&b, 1 << 20);
	for (int i = 0; i < 300; i++) {
		mmap_read_lock(w->t->mm);
		for (v = find_vma(w->t->mm, A); v != NULL && v->vm_start <
		    A + SPAN * PG; v = v->vm_next)
			show_smap(&b, "", v);
		mmap_read_unlock(w->t->mm);
		b.len = 0;
	}
	as_buf_free(&b);
	return NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	return w->kind == 0 ? faulter(w) : w->kind == 1 ? mapper(w) :
	    w->kind == 2 ? forker(w) : w->kind == 3 ? breaker(w) :
	    smaps_reader(w);
}

static void test_concurrency(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct worker w[8];
	pthread_t th[8];
	struct task *t1;
	int i, err;

	(void)state;
	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	assert_int_equal(as_file_create(s, "f", 16 * PG), 0);
	t1 = as_task_lookup(s, 1);
	assert_int_equal(sys_mmap(t1->mm, A, SPAN * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 8; i++) {
		w[i] = (struct worker){ .s = s, .f = as_file_lookup(s, "f"),
		    .seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1),
		    .kind = i < 4 ? 0 : i - 3 };
		w[i].t = i == 5 ? t1 : as_clone(s, t1, true, &err);
		assert_non_null(w[i].t);
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	valid(t1->mm);
	assert_int_equal(w[5].bad, 0);		/* the forker's children */
	as_session_free(s);
}

/*
 * vfork: the child shares the parent's mm and the parent waits; the
 * child's exec gives it a fresh image and releases the parent.
 */
static void test_vfork_exec(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct access_result r = { .store = true, .value = 0x42 };
	struct as_image img;
	struct task *t1, *c;
	unsigned long bss;
	int err;

	(void)state;
	as_session_params_default(&p);
	s = as_session_new(&p);
	t1 = as_task_lookup(s, 1);
	bss = t1->mm->start_brk - PG;		/* the last page of bss */
	c = as_vfork(s, t1, &err);
	assert_non_null(c);
	assert_ptr_equal(c->mm, t1->mm);
	assert_true(t1->vfork_blocked);
	assert_int_equal(as_access(c, bss, AS_WRITE, &r), 0);
	as_image_default(&img, "child");
	img.text = 4 * PG;
	assert_int_equal(as_exec(s, c, &img), 0);
	assert_false(t1->vfork_blocked);
	assert_ptr_not_equal(c->mm, t1->mm);
	r.store = false;
	assert_int_equal(as_access(t1, bss, AS_READ, &r), 0);
	assert_int_equal(r.value, 0x42);	/* written through the shared mm */
	assert_string_equal(file_inode(c->mm->mm_mt.first->vm_file)->name,
	    "child");
	assert_int_equal(c->mm->end_code - c->mm->start_code, 4 * PG);
	valid(c->mm);
	valid(t1->mm);
	as_session_free(s);
}

struct cache_writer {
	struct task	*t;
	int		 stop;		/* atomic */
};

/* Store bytes with the top bit set all over the shared mapping at A. */
static void *cache_writer(void *arg)
{
	struct cache_writer *cw = arg;
	struct access_result r = { .store = true };
	unsigned long i;

	for (i = 0; !__atomic_load_n(&cw->stop, __ATOMIC_ACQUIRE); i++) {
		r.value = (uint8_t)(0x80 | (i & 0x7f));
		as_access(cw->t, A + (i * 97) % (4 * PG), AS_WRITE, &r);
	}
	return NULL;
}

/* One private copy of page p of f at B in c: c's byte, and elsewhere the
 * file's own bytes or the writer's. */
static bool cow_copy_ok(struct task *c, unsigned long b, unsigned long p)
{
	struct access_result r = { .store = true, .value = 1 };
	unsigned long off = p * PG + (p * 613) % PG, j;

	if (as_access(c, b + off, AS_WRITE, &r) != 0)
		return false;
	r.store = false;
	for (j = p * PG; j < (p + 1) * PG; j += 61) {
		if (as_access(c, b + j, AS_READ, &r) != 0)
			return false;
		if (j != off && r.value < 0x80 &&
		    r.value != (uint8_t)((j * 7 + 3) & 0xff))
			return false;
	}
	return as_access(c, b + off, AS_READ, &r) == 0 && r.value == 1;
}

static void test_cow_from_cache(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct cache_writer cw;
	struct as_file *f;
	struct task *c;
	pthread_t th;
	unsigned long b = A + (1UL << 20), i;
	int err;

	(void)state;
	as_session_params_default(&p);
	p.ram_bytes = 64UL << 20;
	s = as_session_new(&p);
	assert_int_equal(as_file_create(s, "f", 4 * PG), 0);
	f = as_file_lookup(s, "f");
	cw.t = as_task_lookup(s, 1);
	cw.stop = 0;
	assert_int_equal(sys_mmap(cw.t->mm, A, 4 * PG, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_FIXED, f, 1, 0), A);
	c = as_clone(s, cw.t, false, &err);
	assert_non_null(c);
	assert_int_equal(pthread_create(&th, NULL, cache_writer, &cw), 0);
	for (i = 0; i < 500; i++) {
		if (sys_mmap(c->mm, b, 4 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_FIXED, f, 1, 0) != b ||
		    !cow_copy_ok(c, b, i % 4) || sys_munmap(c->mm, b, 4 * PG))
			break;
	}
	__atomic_store_n(&cw.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(i, 500);
	valid(c->mm);
	as_session_free(s);
}

/* The struct page addr maps in mm (present). */
static struct page *mapped_page(struct mm *mm, unsigned long addr)
{
	pte_t *pte = pte_offset(mm, addr);

	assert_non_null(pte);
	assert_true(*pte & _PAGE_PRESENT);
	return pfn_to_page(&mm->session->phys, pte_pfn(*pte));
}

static void session_check(struct as_session *s, const char *want,
    unsigned int nmms)
{
	const char *problem = "unset";
	unsigned int n = 0;

	assert_int_equal(as_session_validate(s, &problem, &n), 0);
	if (want == NULL && problem != NULL)
		fail_msg("as_session_validate: %s", problem);
	if (want != NULL) {
		assert_non_null(problem);
		assert_string_equal(problem, want);
	}
	assert_int_equal(n, nmms);
}

static void test_session_validate(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct access_result r = { .store = true, .value = 5 };
	struct task *t1, *c, *th;
	struct page *pg;
	int err;

	(void)state;
	as_session_params_default(&p);
	p.ram_bytes = 64UL << 20;
	s = as_session_new(&p);
	t1 = as_task_lookup(s, 1);
	assert_int_equal(sys_mmap(t1->mm, A, 4 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	assert_int_equal(as_access(t1, A, AS_WRITE, &r), 0);
	session_check(s, NULL, 1);
	c = as_clone(s, t1, false, &err);
	th = as_clone(s, t1, true, &err);
	assert_non_null(c);
	assert_non_null(th);
	session_check(s, NULL, 2);		/* the thread shares t1's mm */
	assert_int_equal(as_access(c, A + PG, AS_WRITE, &r), 0);
	assert_int_equal(as_access(c, A, AS_WRITE, &r), 0);	/* COW */
	session_check(s, NULL, 2);
	/* One mapping (and reference) too many on the parent's page; a
	 * mapping without its reference; the child's total_vm off by one. */
	pg = mapped_page(t1->mm, A);
	page_dup_rmap(pg);
	session_check(s, "a page's mapcount differs from its PTEs", 2);
	__atomic_sub_fetch(&pg->counts, PAGE_MAP_ONE | 1, __ATOMIC_RELAXED);
	session_check(s, NULL, 2);
	page_mapcount_add(pg, 1);
	session_check(s, "a mapped page has bad refcount or mapcount", 2);
	page_mapcount_add(pg, -1);
	c->mm->total_vm++;
	session_check(s, "total_vm differs from the sum of VMA sizes", 2);
	c->mm->total_vm--;
	as_exit(s, c);
	session_check(s, NULL, 1);
	as_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfork_exec),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_cow_from_cache),
		cmocka_unit_test(test_session_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

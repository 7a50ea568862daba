/*
 * test_memcg.c: the host memory charged to a session (lib/memcontrol.h).
 *
 *  - fork_enomem: a process of 30,000 VMAs in a session of 8 MiB forks
 *    with -ENOMEM (the copy of its VMAs would pass the session's limit);
 *    the parent is intact (map_count, mm_validate()), the charge is back
 *    where it was, and the same fork in a session of 64 MiB succeeds.
 *  - baseline: mmap, faults, a fork with COW, the child's exit and munmap
 *    bring the charge back to the byte where it started; a shared
 *    anonymous mapping and a file too.
 *  - hierarchy: a charge goes to the parent; a parent's limit refuses a
 *    session's fault (VM_FAULT_OOM) and a new session; freeing a session
 *    gives its parent everything back.
 *  - checkpoint: a loaded session holds the charge its original held
 *    (less a few bytes of chains loaded at their length),
 *    and after attaching, its parent too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "fault.h"
#include "mm.h"
#include "session.h"

#define A	0x200000000000UL
#define PG	4096UL
#define NVMAS	30000

/* The charge without the allocator's arrays, whose free stack grows (for
 * good) as frames are freed. */
static unsigned long mem(const struct as_session *s)
{
	return as_session_mem(s) - (unsigned long)s->phys.arrays_bytes;
}

static struct as_session *session(unsigned long ram, struct as_memcg *parent)
{
	struct as_session_params p;

	as_session_params_default(&p);
	p.ram_bytes = ram;
	p.mem_parent = parent;
	return as_session_new(&p);
}

static void valid(struct as_session *s)
{
	const char *problem = NULL;
	unsigned int n;

	assert_int_equal(as_session_validate(s, &problem, &n), 0);
	if (problem != NULL)
		fail_msg("as_session_validate: %s", problem);
}

/* n one-page VMAs that cannot merge (alternating protections). */
static void many_vmas(struct task *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(sys_mmap(t->mm, A + 2 * (unsigned long)i * PG,
		    PG, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0),
		    A + 2 * (unsigned long)i * PG);
}

static void test_fork_enomem(void **state)
{
	struct as_session *s = session(8UL << 20, NULL);
	struct task *t, *child;
	unsigned long before;
	int err, maps;

	(void)state;
	assert_non_null(s);
	t = as_task_lookup(s, 1);
	many_vmas(t, NVMAS);
	maps = t->mm->map_count;
	before = as_session_mem(s);
	assert_true(before > NVMAS * sizeof(struct vma));
	assert_true(before < as_session_mem_limit(8UL << 20));
	child = as_clone(s, t, false, &err);
	assert_null(child);
	assert_int_equal(err, -ENOMEM);
	assert_int_equal(as_session_mem(s), before);
	assert_int_equal(t->mm->map_count, maps);
	assert_non_null(as_task_lookup(s, 1));
	assert_null(as_task_lookup(s, 2));
	valid(s);
	/* The parent still works: it unmaps, and then it may fork. */
	assert_int_equal(sys_munmap(t->mm, A, 2 * NVMAS * PG), 0);
	assert_non_null(child = as_clone(s, t, false, &err));
	as_exit(s, child);
	valid(s);
	as_session_free(s);

	/* With room, the same fork succeeds. */
	assert_non_null(s = session(64UL << 20, NULL));
	t = as_task_lookup(s, 1);
	many_vmas(t, NVMAS);
	before = as_session_mem(s);
	assert_non_null(child = as_clone(s, t, false, &err));
	assert_true(as_session_mem(s) > before + NVMAS * sizeof(struct vma));
	valid(s);
	as_exit(s, child);
	assert_int_equal(as_session_mem(s), before);
	as_session_free(s);
}

static void touch(struct task *t, unsigned long a, enum as_access kind)
{
	struct access_result r = { .store = true, .value = 7 };

	assert_int_equal(as_access(t, a, kind, &r), 0);
	assert_int_equal(r.sig, 0);
}

static void test_baseline(void **state)
{
	struct as_session *s = session(64UL << 20, NULL);
	struct task *t, *child;
	unsigned long base, forked, i;
	int err;

	(void)state;
	assert_non_null(s);
	t = as_task_lookup(s, 1);
	/* struct pages, once made, stay (as Linux's memmap does): make
	 * those of the frames below first, so that only contents count. */
	assert_int_equal(sys_mmap(t->mm, A, 512 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 512; i++)
		touch(t, A + i * PG, AS_WRITE);
	assert_int_equal(sys_munmap(t->mm, A, 512 * PG), 0);
	base = mem(s);
	assert_int_equal(sys_mmap(t->mm, A, 256 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 256; i++)
		touch(t, A + i * PG, i % 3 ? AS_WRITE : AS_READ);
	/* 171 frames written and their page tables at least. */
	assert_true(mem(s) >= base + 171 * PG);
	forked = mem(s);
	assert_non_null(child = as_clone(s, t, false, &err));
	assert_true(mem(s) > forked);
	for (i = 0; i < 256; i += 2)
		touch(child, A + i * PG, AS_WRITE);	/* COW copies */
	valid(s);
	as_exit(s, child);
	assert_int_equal(mem(s), forked);
	assert_int_equal(sys_munmap(t->mm, A, 256 * PG), 0);
	assert_int_equal(mem(s), base);
	/* A shared anonymous mapping: its object, its pages, its file. */
	assert_int_equal(sys_mmap(t->mm, A, 64 * PG, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 64; i++)
		touch(t, A + i * PG, AS_WRITE);
	assert_true(mem(s) >= base + 64 * PG);
	assert_int_equal(sys_munmap(t->mm, A, 64 * PG), 0);
	assert_int_equal(mem(s), base);
	valid(s);
	as_session_free(s);
}

static void test_hierarchy(void **state)
{
	struct as_memcg parent = { 0 };
	struct as_session *s, *s2;
	struct access_result r = { .store = true, .value = 7 };
	struct task *t;
	unsigned long i;
	int oom = 0;

	(void)state;
	assert_non_null(s = session(64UL << 20, &parent));
	assert_int_equal(memcg_usage(&parent), (long)as_session_mem(s));
	t = as_task_lookup(s, 1);
	/* The parent allows 1 MiB more than the session holds now. */
	parent.limit = memcg_usage(&parent) + (1L << 20);
	assert_int_equal(sys_mmap(t->mm, A, 1024 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 1024 && !oom; i++)
		oom = as_access(t, A + i * PG, AS_WRITE, &r) != 0 &&
		    r.sig == AS_OOM;
	assert_true(oom);
	assert_true(i > 200 && i < 260);	/* about 1 MiB of frames */
	assert_true(parent.failcnt >= 1);
	assert_true(memcg_usage(&parent) <= parent.limit);
	/* No room for a second session either. */
	assert_null(s2 = session(1UL << 20, &parent));
	assert_int_equal(memcg_usage(&parent), (long)as_session_mem(s));
	valid(s);
	as_session_free(s);
	assert_int_equal(memcg_usage(&parent), 0);
}

static void test_checkpoint(void **state)
{
	struct as_memcg parent = { 0 };
	struct as_session *s, *l;
	struct as_buf ck;
	struct task *t, *child;
	char why[200];
	unsigned long i;
	int err;

	(void)state;
	assert_non_null(s = session(16UL << 20, NULL));
	t = as_task_lookup(s, 1);
	assert_int_equal(as_file_create(s, "f", 40 * PG), 0);
	assert_int_equal(sys_mmap(t->mm, A, 64 * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0), A);
	for (i = 0; i < 64; i++)
		touch(t, A + i * PG, AS_WRITE);
	assert_non_null(child = as_clone(s, t, false, &err));
	touch(child, A, AS_WRITE);
	as_buf_init(&ck, 1UL << 30);
	assert_int_equal(as_session_save(s, &ck), 0);
	assert_int_equal(as_session_load(ck.data, ck.len, &l, why,
	    sizeof(why)), 0);
	/* The same objects; chains loaded at their length, not their
	 * capacity, may be a few bytes smaller. */
	assert_true(as_session_mem(l) <= as_session_mem(s));
	assert_true(as_session_mem(l) + 256 > as_session_mem(s));
	as_session_mem_attach(l, &parent);
	assert_int_equal(memcg_usage(&parent), (long)as_session_mem(l));
	as_exit(l, as_task_lookup(l, 2));
	assert_int_equal(sys_munmap(as_task_lookup(l, 1)->mm, A, 64 * PG), 0);
	assert_int_equal(memcg_usage(&parent), (long)as_session_mem(l));
	as_session_free(l);
	assert_int_equal(memcg_usage(&parent), 0);
	as_buf_free(&ck);
	as_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_enomem),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_swap_stats.c: what swap shows outside the page tables: the mm
 * counters of /proc/PID/status (mm_rss_count(): VmSwap is MM_SWAPENTS,
 * RssAnon and RssShmem without the swapped-out pages) and the vmstat
 * events pgmajfault (major_faults), pswpin and pswpout: counted where
 * Linux counts them (a swap-in read from the slot, not a swap-cache
 * hit; a page written to its slot, not a clean one already there), to
 * the task or, for pageout, the session, and kept by a checkpoint.
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
#include "trace.h"

#define OUT_MAX	(1UL << 20)
#define A0	0x200000000000UL

#define HEAD "kernel swap 64K\nwindow 0x200000000000 0x10000000\n" \
	"mmap 0x200000000000 16K rw- private,anon,fixed\n" \
	"write 0x200000000000 0x11\nwrite 0x200000001000 0x22\n" \
	"write 0x200000002000 0x33\n" \
	"madvise 0x200000000000 16K pageout\n"

static struct as_session *run(const char *text)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf out;

	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	as_buf_init(&out, OUT_MAX);
	as_trace_run(s, text, strlen(text), &out);
	assert_null(strstr(as_buf_str(&out), "! error"));
	as_buf_free(&out);
	return s;
}

static void more(struct as_session *s, const char *text)
{
	struct as_buf out;

	as_buf_init(&out, OUT_MAX);
	as_trace_run(s, text, strlen(text), &out);
	assert_null(strstr(as_buf_str(&out), "! error"));
	as_buf_free(&out);
}

static struct mm *mm_of(struct as_session *s, int pid)
{
	struct task *t = as_task_lookup(s, pid);

	assert_non_null(t);
	return t->mm;
}

static void rss(struct as_session *s, int pid, struct mm_rss_stat *r)
{
	struct mm *mm = mm_of(s, pid);

	mmap_read_lock(mm);
	mm_rss_count(mm, r);
	mmap_read_unlock(mm);
}

/* VmSwap: the swap PTEs; RssAnon: what is mapped, not what is out. */
static void test_vmswap(void **state)
{
	struct as_session *s = run(HEAD);
	struct mm_rss_stat r, base;

	(void)state;
	rss(s, 1, &r);
	assert_int_equal(r.swapents, 3);
	base = r;
	more(s, "read 0x200000000000\nwrite 0x200000001000 0x44\n");
	rss(s, 1, &r);
	assert_int_equal(r.swapents, 1);
	assert_int_equal(r.anon, base.anon + 2);
	assert_int_equal(r.file, base.file);
	/* fork copies the swap entries: each mm counts its own */
	more(s, "fork\n");
	rss(s, 2, &r);
	assert_int_equal(r.swapents, 1);
	assert_int_equal(r.anon, base.anon + 2);
	/* munmap drops them */
	more(s, "munmap 0x200000000000 16K\n");
	rss(s, 1, &r);
	assert_int_equal(r.swapents, 0);
	assert_int_equal(r.anon, base.anon);
	as_session_free(s);
}

/* Shared anonymous pages are RssShmem, never swap entries of the mm. */
static void test_rss_shmem(void **state)
{
	struct as_session *s = run("kernel swap 1M\n"
	    "window 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 8K rw- shared,anon,fixed\n"
	    "write 0x200000000000 0x1\nwrite 0x200000001000 0x2\n");
	struct mm_rss_stat r;

	(void)state;
	rss(s, 1, &r);
	assert_int_equal(r.shmem, 2);
	assert_int_equal(r.swapents, 0);
	as_session_free(s);
}

/* pswpout per page written; a swap-in from the slot is a major fault and
 * a pswpin of the task; a clean page already in the swap cache paged out
 * again is not written (no pswpout). */
static void test_pageout_swapin(void **state)
{
	struct as_session *s = run(HEAD);
	struct as_counters k;
	struct task *t = as_task_lookup(s, 1);

	(void)state;
	as_session_counters(s, &k);
	assert_int_equal(k.pswpout, 3);
	assert_int_equal(k.pswpin, 0);
	assert_int_equal(k.major_faults, 0);
	assert_int_equal(t->counters.pswpout, 0);	/* of no task */
	more(s, "read 0x200000000000\n"
	    "madvise 0x200000000000 4K pageout\n");
	assert_true(is_swap_pte(*pte_offset(t->mm, A0)));
	as_session_counters(s, &k);
	assert_int_equal(k.pswpout, 3);			/* clean: not written */
	assert_int_equal(k.pswpin, 1);
	assert_int_equal(k.major_faults, 1);
	assert_int_equal(t->counters.pswpin, 1);
	assert_int_equal(t->counters.major_faults, 1);
	/* its frame was freed: read from the slot again; a written page
	 * leaves the swap cache and is written to a new slot */
	more(s, "read 0x200000000000\nwrite 0x200000001000 0x44\n"
	    "madvise 0x200000001000 4K pageout\n");
	as_session_counters(s, &k);
	assert_int_equal(k.pswpin, 3);
	assert_int_equal(k.major_faults, 3);
	assert_int_equal(k.pswpout, 4);
	as_session_free(s);
}

/* A swap-cache hit (the child's page the parent read in) is minor. */
static void test_swapcache_hit(void **state)
{
	struct as_session *s = run(HEAD "fork\nread 0x200000000000\n"
	    "switch 2\nread 0x200000000000\n");
	struct as_counters k;

	(void)state;
	as_session_counters(s, &k);
	assert_int_equal(k.major_faults, 1);
	assert_int_equal(k.pswpin, 1);
	assert_int_equal(as_task_lookup(s, 1)->counters.major_faults, 1);
	assert_int_equal(as_task_lookup(s, 2)->counters.major_faults, 0);
	assert_int_equal(as_task_lookup(s, 2)->counters.pswpin, 0);
	as_session_free(s);
}

/* The counters survive a checkpoint (format 5: 17 of them). */
static void test_checkpoint_counters(void **state)
{
	struct as_session *s = run(HEAD "read 0x200000000000\n"), *s2;
	struct as_counters a, b;
	struct as_buf ck;
	char why[200];

	(void)state;
	as_buf_init(&ck, 64UL << 20);
	assert_int_equal(as_session_save(s, &ck), 0);
	assert_int_equal(as_session_load(ck.data, ck.len, &s2, why,
	    sizeof(why)), 0);
	as_session_counters(s, &a);
	as_session_counters(s2, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(b.pswpout, 3);
	assert_int_equal(b.pswpin, 1);
	assert_int_equal(as_task_lookup(s2, 1)->counters.major_faults, 1);
	as_session_free(s2);
	as_session_free(s);
	as_buf_free(&ck);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmswap),
		cmocka_unit_test(test_rss_shmem),
		cmocka_unit_test(test_pageout_swapin),
		cmocka_unit_test(test_swapcache_hit),
		cmocka_unit_test(test_checkpoint_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

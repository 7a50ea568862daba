/*
 * test_pt_share.c: PTE tables shared at fork (lib/pt_share.c).  Every
 * trace here runs twice, with `kernel share_tables` on (the default) and
 * off, and must print the same both ways (smaps mapcounts, Pss, faults,
 * swap, RAM running out); then what sharing itself promises: fork takes
 * no table copy, a child's read or a side's first write copies just the
 * table it touches, an exit gives its share back, the RAM and the
 * counters add up (session_validate_ptes()), and a checkpoint of shared
 * tables restores them exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checkpoint.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "session.h"
#include "trace.h"

#define W	"0x200000000000"
/* A window, 1 MiB mapped there, every page written: main() fills it. */
static char map1m[256 * 32 + 128];
#define MAP1M	map1m

static struct as_session *new_session(bool share)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	p.kparam[KP_SHARE_TABLES] = share;
	assert_non_null(s = as_session_new(&p));
	return s;
}

/* a then b, in one of four buffers used in turn. */
static const char *cat(const char *a, const char *b)
{
	static char buf[4][sizeof(map1m) + 4096];
	static int next;
	char *r = buf[next++ % 4];
	size_t n = strlen(a), m = strlen(b);

	assert_true(n + m < sizeof(buf[0]));
	memmove(r + n, b, m + 1);	/* b may be an earlier buffer */
	memmove(r, a, n);
	return r;
}

/* Run text on s from cursor c; the output, to be freed. */
static char *run_on(struct as_session *s, struct as_trace_cursor *c,
    const char *text)
{
	struct as_buf out;
	char *r;

	as_buf_init(&out, 1 << 22);
	assert_true(as_trace_run_checked(s, c, text, strlen(text), &out,
	    NULL) >= 0);
	assert_non_null(r = strdup(as_buf_str(&out)));
	as_buf_free(&out);
	return r;
}

/* text's output, with every invariant checked at the end. */
static char *run(bool share, const char *text)
{
	struct as_session *s = new_session(share);
	struct as_trace_cursor c;
	const char *err;
	char *r;

	as_trace_cursor_init(&c);
	r = run_on(s, &c, text);
	if ((err = session_validate_ptes(s)) != NULL)
		fail_msg("share_tables %s: %s", share ? "on" : "off", err);
	as_session_free(s);
	return r;
}

/* text prints the same with tables shared and not, and errors where
 * err says (NULL: nowhere). */
static void same_err(const char *text, const char *err)
{
	char *on = run(true, text), *off = run(false, text);

	if (strcmp(on, off) != 0)
		fail_msg("share_tables on:\n%s\noff:\n%s", on, off);
	if (err == NULL ? strstr(on, "! error") != NULL :
	    strstr(on, err) == NULL)
		fail_msg("errors: %s\n%s", err ? err : "none", on);
	free(on);
	free(off);
}

static void same(const char *text)
{
	same_err(text, NULL);
}

static void test_same_cow(void **state)
{
	(void)state;
	same(cat(MAP1M, "fork\nread 0x200000000000\nsmaps\n"
	    "write 0x200000001000 7\nsmaps\nswitch 2\nsmaps\n"
	    "read 0x200000002000\nwrite 0x200000000000 9\nsmaps\nswitch 1\n"
	    "smaps\nread 0x200000000000\n"));
}

/* A page in a copied table and in a table still shared: mapcount 3. */
static void test_same_three_mms(void **state)
{
	(void)state;
	same(cat(MAP1M, "fork\nswitch 2\nwrite 0x200000000000 1\nswitch 1\n"
	    "fork\nsmaps\nswitch 2\nsmaps\nswitch 3\nsmaps\n"
	    "write 0x200000003000 3\nsmaps\nexit\nswitch 1\nsmaps\nswitch 2\n"
	    "fork\nsmaps\nswitch 4\nsmaps\n"));
}

static void test_same_exit_then_reuse(void **state)
{
	(void)state;
	same(cat(MAP1M, "fork\nswitch 2\nexit\nswitch 1\n"
	    "write 0x200000000000 5\nsmaps\nfork\nswitch 1\nexit\nswitch 3\n"
	    "write 0x200000000000 6\nsmaps\n"));
}

static void test_same_changes_in_child(void **state)
{
	(void)state;
	same(cat(MAP1M, "mmap 0x200000200000 64K rw- private,anon,fixed\n"
	    "write 0x200000200000 1\nwrite 0x200000208000 1\nfork\n"
	    "switch 2\nmunmap 0x200000010000 64K\n"
	    "mprotect 0x200000020000 8K r--\n"
	    "madvise 0x200000030000 16K dontneed\n"
	    "mremap 0x200000040000 64K 64K maymove,fixed 0x200000400000\n"
	    "mlock 0x200000050000 16K\nsmaps\nswitch 1\nsmaps\n"
	    "write 0x200000020000 1\nread 0x200000400000\nsmaps\n"));
}

static void test_same_file_private(void **state)
{
	(void)state;
	same("window 0x200000000000 0x10000000\nfile f 256K\n"
	    "mmap 0x200000000000 256K rw- private,fixed f 0\n"
	    "read 0x200000000000\nread 0x200000010000\n"
	    "write 0x200000001000 1\nfork\nsmaps\nswitch 2\nsmaps\n"
	    "read 0x200000030000\nwrite 0x200000002000 2\nsmaps\n");
}

static void test_same_swap(void **state)
{
	(void)state;
	same(cat("kernel swap 4M\n", cat(MAP1M, "fork\n"
	    "madvise 0x200000000000 256K pageout\nsmaps\nswitch 2\n"
	    "madvise 0x200000040000 256K pageout\nsmaps\n"
	    "read 0x200000000000\nwrite 0x200000040000 1\nsmaps\nswitch 1\n"
	    "read 0x200000041000\nsmaps\n")));
}

/* RAM runs out where it would have: each share holds a frame. */
static void test_same_ram_full(void **state)
{
	(void)state;
	same_err(cat("kernel ram 1M\n", cat(MAP1M, "fork\nfork\nswitch 2\n"
	    "write 0x200000000000 1\nswitch 3\nfork\nwrite 0x200000001000 2\n"
	    "smaps\n")), "out of memory");
}

static struct task *task(struct as_session *s, int pid)
{
	struct task *t = as_task_lookup(s, pid);

	assert_non_null(t);
	return t;
}

/* The PMD entry of addr in pid's mm. */
static pte_t pmd_of(struct as_session *s, int pid, unsigned long addr)
{
	pte_t *pmd = pmd_offset(task(s, pid)->mm, addr, PMD_READ);

	return pmd != NULL ? *pmd : 0;
}

static int table_refs(struct as_session *s, pte_t pmd)
{
	return page_refcount(pfn_to_page(&s->phys, pte_pfn(pmd)));
}

/* Fork shares; a child's read copies its table, and is no fault. */
static void test_fork_shares_then_read_copies(void **state)
{
	struct as_session *s = new_session(true);
	struct as_trace_cursor c;
	unsigned long faults, used, tables, shares;

	(void)state;
	as_trace_cursor_init(&c);
	free(run_on(s, &c, MAP1M));
	used = s->phys.nr_used;
	tables = task(s, 1)->mm->nr_pgtables;
	free(run_on(s, &c, "fork\n"));
	assert_true(pmd_shared(pmd_of(s, 1, 0x200000000000UL)));
	assert_true(pmd_of(s, 2, 0x200000000000UL) & _PAGE_PT_OLD);
	assert_false(pmd_of(s, 1, 0x200000000000UL) & _PAGE_PT_OLD);
	assert_int_equal(table_refs(s, pmd_of(s, 1, 0x200000000000UL)), 2);
	shares = s->phys.nr_reserved;	/* the window's, the stack's */
	assert_int_equal(shares, 2);
	/* the child's upper tables are new: PGD, PUD, PMD */
	assert_int_equal(task(s, 2)->mm->nr_pgtables, tables);
	assert_null(session_validate_ptes(s));
	faults = s->counters.minor_faults;
	free(run_on(s, &c, "read " W "\n"));	/* the parent's: no copy */
	assert_int_equal(s->phys.nr_reserved, shares);
	free(run_on(s, &c, "switch 2\nread " W "\n"));
	assert_int_equal(s->counters.minor_faults, faults);
	assert_false(pmd_shared(pmd_of(s, 2, 0x200000000000UL)));
	assert_int_equal(s->phys.nr_reserved, shares - 1);
	assert_true(s->phys.nr_used > used);
	assert_int_equal(table_refs(s, pmd_of(s, 1, 0x200000000000UL)), 1);
	free(run_on(s, &c, "switch 1\nwrite " W " 1\n"));	/* taken over */
	assert_false(pmd_shared(pmd_of(s, 1, 0x200000000000UL)));
	assert_int_equal(s->phys.nr_shared_pmds, 2 * (shares - 1));
	assert_null(session_validate_ptes(s));
	as_session_free(s);
}

/* An exit gives its share back; the last holder reuses its pages. */
static void test_exit_drops_share(void **state)
{
	struct as_session *s = new_session(true);
	struct as_trace_cursor c;
	unsigned long copies;

	(void)state;
	as_trace_cursor_init(&c);
	free(run_on(s, &c, cat(MAP1M, "fork\nswitch 2\nexit\nswitch 1\n")));
	assert_int_equal(s->phys.nr_reserved, 0);
	assert_int_equal(table_refs(s, pmd_of(s, 1, 0x200000000000UL)), 1);
	copies = s->counters.cow_copies;
	free(run_on(s, &c, "write " W " 1\n"));
	assert_int_equal(s->counters.cow_copies, copies);
	assert_null(session_validate_ptes(s));
	as_session_free(s);
}

/* A checkpoint of shared tables loads as it was, and goes on the same. */
static void test_checkpoint_shared(void **state)
{
	static const char more[] = "write " W " 1\nswitch 2\nread " W "\n"
	    "smaps\nswitch 1\nsmaps\n";
	struct as_session *s = new_session(true), *l = NULL;
	struct as_trace_cursor c, lc;
	struct as_buf a, b;
	char why[256], *x, *y;

	(void)state;
	as_trace_cursor_init(&c);
	free(run_on(s, &c, cat(MAP1M, "fork\n")));
	as_buf_init(&a, 1 << 26);
	as_buf_init(&b, 1 << 26);
	assert_int_equal(as_session_save(s, &a), 0);
	if (as_session_load(a.data, a.len, &l, why, sizeof(why)) != 0)
		fail_msg("load: %s", why);
	assert_int_equal(l->phys.nr_reserved, s->phys.nr_reserved);
	assert_int_equal(l->phys.nr_shared_pmds, s->phys.nr_shared_pmds);
	assert_true(l->phys.nr_reserved > 0);
	assert_int_equal(as_session_save(l, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	lc = c;
	x = run_on(s, &c, more);
	y = run_on(l, &lc, more);
	assert_string_equal(x, y);
	assert_null(session_validate_ptes(l));
	free(x);
	free(y);
	as_buf_free(&a);
	as_buf_free(&b);
	as_session_free(s);
	as_session_free(l);
}

int main(void)
{
	size_t n;
	int i;

	n = (size_t)snprintf(map1m, sizeof(map1m), "window " W " 0x10000000\n"
	    "mmap " W " 1M rw- private,anon,fixed\n");
	for (i = 0; i < 256; i++)
		n += (size_t)snprintf(map1m + n, sizeof(map1m) - n,
		    "touch 0x%lx w\n", 0x200000000000UL + (unsigned long)i *
		    4096);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_cow),
		cmocka_unit_test(test_same_three_mms),
		cmocka_unit_test(test_same_exit_then_reuse),
		cmocka_unit_test(test_same_changes_in_child),
		cmocka_unit_test(test_same_file_private),
		cmocka_unit_test(test_same_swap),
		cmocka_unit_test(test_same_ram_full),
		cmocka_unit_test(test_fork_shares_then_read_copies),
		cmocka_unit_test(test_exit_drops_share),
		cmocka_unit_test(test_checkpoint_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_explain.c: unit tests of the paths the core records (explain.h):
 * for each kind of decision a trace line can take, the step and the rule
 * that decided it: merges (and each rule that refuses one: flags, file,
 * file offsets, anon_vma, VM_NOHUGEPAGE), splits, placements (hint taken
 * or refused, top-down search, MAP_FIXED_NOREPLACE), copy on write at
 * fork and at the write fault, fault-around's range, mremap's grow or
 * move; and that nothing is recorded when nobody asks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "explain.h"
#include "mm.h"
#include "session.h"
#include "trace.h"

#define MAXLINES 64
static char *paths[MAXLINES];

static void collect(void *arg, unsigned long lineno, const char *text)
{
	(void)arg;
	assert_true(lineno < MAXLINES);
	free(paths[lineno]);
	paths[lineno] = strdup(text);
}

/* Run trace in a fresh session, each line's path into paths[]. */
static void run(const char *trace)
{
	struct as_trace_check chk = { 0 };
	struct as_session_params p;
	struct as_trace_cursor cur;
	struct as_session *s;
	struct as_buf out;
	size_t i;

	for (i = 0; i < MAXLINES; i++) {
		free(paths[i]);
		paths[i] = NULL;
	}
	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	as_buf_init(&out, 1 << 20);
	chk.on_explain = collect;
	as_trace_cursor_init(&cur);
	assert_int_equal(as_trace_run_checked(s, &cur, trace, strlen(trace),
	    &out, &chk), 0);
	as_buf_free(&out);
	as_session_free(s);
}

/* Line n's path has every one of the NULL-ended substrings. */
static void has(unsigned long n, ...)
{
	const char *want;
	va_list ap;

	assert_non_null(paths[n]);
	va_start(ap, n);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (strstr(paths[n], want) == NULL)
			fail_msg("line %lu: no \"%s\" in \"%s\"", n, want,
			    paths[n]);
	}
	va_end(ap);
}

#define MAP(a, len, prot, flags) \
	"mmap " a " " len " " prot " " flags "\n"

static void test_merge_and_flags_rule(void **state)
{
	(void)state;
	run(MAP("0x200000000000", "16K", "rw-", "private,anon,fixed")
	    MAP("0x200000004000", "16K", "rw-", "private,anon,fixed")
	    MAP("0x200000008000", "8K", "r--", "private,anon,fixed"));
	has(1, "MAP_FIXED: at 0x200000000000", "no adjacent VMA",
	    "new VMA 0x200000000000-0x200000004000", NULL);
	has(2, "vma_merge_new_range: 0x200000004000-0x200000008000 merged "
	    "with prev", NULL);
	assert_null(strstr(paths[2], "new VMA"));
	has(3, "not with prev 0x200000000000-0x200000008000: VmFlags "
	    "differ (prev only: wr ac; range only: none)", NULL);
}

static void test_file_rules(void **state)
{
	(void)state;
	/* Each mmap opens the file anew: a struct file of its own. */
	run("file f 64K\n"
	    MAP("0x200000000000", "8K", "r--", "private,fixed f 0")
	    MAP("0x200000002000", "8K", "r--", "private,fixed f 0x2000")
	    MAP("0x200000010000", "16K", "r--", "private,fixed f 0")
	    "mremap 0x200000012000 8K 8K maymove,fixed 0x200000020000\n"
	    "mremap 0x200000010000 8K 8K maymove,fixed 0x200000022000\n"
	    "mremap 0x200000022000 8K 8K maymove,fixed 0x20000001e000\n");
	has(3, "not with prev 0x200000000000-0x200000002000: not the same "
	    "struct file", NULL);
	has(6, "not with prev 0x200000020000-0x200000022000: file offsets "
	    "do not follow on (pgoff 0x2, range 0x0)", NULL);
	has(7, "merged with next", NULL);
}

static void test_split_and_merge_back(void **state)
{
	(void)state;
	run(MAP("0x200000000000", "48K", "rw-", "private,anon,fixed")
	    "mprotect 0x200000004000 16K r--\n"
	    "mprotect 0x200000004000 16K rw-\n");
	has(2, "split_vma: 0x200000000000-0x200000004000 | "
	    "0x200000004000-0x20000000c000", "split_vma: "
	    "0x200000004000-0x200000008000 | 0x200000008000-0x20000000c000",
	    "change_protection 0x200000004000-0x200000008000", NULL);
	has(3, "vma_merge_existing_range: 0x200000004000-0x200000008000 "
	    "merged with prev and next", NULL);
}

static void test_placement(void **state)
{
	(void)state;
	run(MAP("0x200000000000", "16K", "rw-", "private,anon")
	    MAP("0x200000000000", "16K", "r--", "private,anon")
	    MAP("0x200000000000", "4K", "rw-", "private,anon,fixed_noreplace")
	    MAP("0", "8K", "rw-", "private,anon")
	    MAP("0x1000", "4K", "rw-", "private,anon"));
	has(1, "hint 0x200000000000 taken: free", NULL);
	has(2, "hint 0x200000000000 refused: 0x200000000000-0x200000004000 "
	    "meets the VMA 0x200000000000-0x200000004000",
	    "top-down search below mmap_base", NULL);
	has(3, "MAP_FIXED_NOREPLACE: 0x200000000000-0x200000001000 is in "
	    "use: -EEXIST", NULL);
	has(4, "top-down search below mmap_base", "the highest gap for "
	    "0x2000 bytes", NULL);
	has(5, "below mmap_min_addr: raised to 0x10000", NULL);
}

/* Two pages written, a fork, each side's first write, a read. */
#define COW_TRACE \
	MAP("0x200000000000", "8K", "rw-", "private,anon,fixed") \
	"write 0x200000000000 1\nwrite 0x200000001000 2\nfork\n" \
	"write 0x200000000000 3\nswitch 2\nwrite 0x200000000000 4\n" \
	"read 0x200000001000\n"

/* With share_tables (the default) fork shares the PTE table and each
 * side's first write makes it its own: copied, then taken over. */
static void test_cow_at_fork_and_fault(void **state)
{
	(void)state;
	run(COW_TRACE);
	has(4, "copy_page_range 0x200000000000-0x200000002000: 1 PTE table "
	    "(2 PTEs) shared with the child", "dup_mmap:", NULL);
	has(5, "pte_unshare: the PTE table of 0x200000000000-0x200000200000, "
	    "shared since fork, copied now (2 PTEs", "do_wp_page: copied "
	    "frame", NULL);
	has(7, "pte_unshare:", "taken over", "do_wp_page: reused frame",
	    NULL);
	has(8, AS_EXPLAIN_NO_FAULT, NULL);
}

/* Without, as Linux does: the PTEs copied and write-protected at fork. */
static void test_cow_at_fork_unshared(void **state)
{
	(void)state;
	run("kernel share_tables off\n" COW_TRACE);
	has(3, "vmacache miss", "do_anonymous_page: frame", NULL);
	has(5, "copy_page_range 0x200000000000-0x200000002000: 2 PTEs "
	    "copied, 2 write-protected in both mms", "dup_mmap:", NULL);
	has(6, "do_wp_page: copied frame", NULL);
	has(8, "do_wp_page: reused frame", NULL);
	has(9, AS_EXPLAIN_NO_FAULT, NULL);
}

static void test_fault_around_range(void **state)
{
	(void)state;
	run("file f 64K\n"
	    MAP("0x200000000000", "64K", "r--", "private,fixed f 0")
	    "read 0x200000000000\n"
	    "read 0x200000003000\n");
	has(3, "do_read_fault: fault-around 0x200000000000-0x200000010000 "
	    "mapped", NULL);
}

static void test_anon_vma_and_stack_rules(void **state)
{
	(void)state;
	run(MAP("0x200000000000", "8K", "rw-", "private,anon,fixed")
	    "write 0x200000000000 1\n"
	    "fork\n"
	    "switch 2\n"
	    MAP("0x200000002000", "4K", "rw-", "private,anon,fixed")
	    "write 0x200000002000 1\n"
	    MAP("0x200000010000", "4K", "rw-", "private,anon,fixed")
	    MAP("0x200000011000", "4K", "rw-", "private,anon,fixed,stack"));
	has(5, "anon_vma differs (a fork child's pages stay in their own "
	    "anon_vma)", NULL);
	has(8, "range only: nh", "nh is VM_NOHUGEPAGE (MAP_STACK", NULL);
}

static void test_mremap(void **state)
{
	(void)state;
	run(MAP("0x200000000000", "16K", "rw-", "private,anon,fixed")
	    "mremap 0x200000000000 16K 32K -\n"
	    MAP("0x200000008000", "4K", "r--", "private,anon,fixed")
	    "mremap 0x200000000000 32K 64K -\n"
	    "mremap 0x200000000000 32K 64K maymove\n");
	has(2, "merged with prev", "expand_vma: grown in place to "
	    "0x200000008000", NULL);
	has(4, "expand_vma: 0x200000008000-0x200000010000 is not free",
	    "no MREMAP_MAYMOVE: -ENOMEM", NULL);
	has(5, "move_vma: 0x200000000000-0x200000008000 moved to", NULL);
}

/* Without explain_begin(), nothing is recorded (and nothing breaks). */
static void test_off_by_default(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf out;
	const char *t = MAP("0x200000000000", "8K", "rw-",
	    "private,anon,fixed") "write 0x200000000000 1\n";

	(void)state;
	assert_null(explain_current);
	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	as_buf_init(&out, 1 << 16);
	assert_int_equal(as_trace_run(s, t, strlen(t), &out), 0);
	assert_null(explain_current);
	as_buf_free(&out);
	as_session_free(s);
}

/* A full record keeps its beginning and says it was cut. */
static void test_truncation(void **state)
{
	struct as_explain ex = { .on = 1 };
	int i;

	(void)state;
	for (i = 0; i < 200; i++)
		explain(&ex, "step %d of a long path", i);
	assert_int_equal(ex.len, sizeof(ex.text) - 1);
	assert_int_equal(strlen(ex.text), ex.len);
	assert_memory_equal(ex.text, "step 0 of a long path -> step 1", 31);
	assert_string_equal(ex.text + ex.len - 3, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_and_flags_rule),
		cmocka_unit_test(test_file_rules),
		cmocka_unit_test(test_split_and_merge_back),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_cow_at_fork_and_fault),
		cmocka_unit_test(test_cow_at_fork_unshared),
		cmocka_unit_test(test_fault_around_range),
		cmocka_unit_test(test_anon_vma_and_stack_rules),
		cmocka_unit_test(test_mremap),
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

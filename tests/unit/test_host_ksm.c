/*
 * test_host_ksm.c: frames of the same bytes in sessions made alike share
 * one read-only host page (lib/host_ksm.c).  Two sessions made with the
 * same parameters: the second's frames point at the template's; a store
 * into one session's page, a change to its page tables, a fork and an
 * exit give it its own bytes and leave the other session's as they were;
 * every invariant holds; a session with other parameters shares nothing.
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
#include "session.h"
#include "trace.h"

static struct as_session *made(unsigned long rlimit_stack)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	p.kparam[KP_RLIMIT_STACK] = rlimit_stack;
	assert_non_null(s = as_session_new(&p));
	return s;
}

/* s's frames whose bytes are a template's. */
static unsigned long shared_frames(struct as_session *s)
{
	unsigned long pfn, n = 0;

	for (pfn = 0; pfn < s->phys.next_unused; pfn++)
		n += pfn_to_page(&s->phys, pfn)->data != NULL &&
		    page_test(pfn_to_page(&s->phys, pfn), PG_hostshared);
	return n;
}

static char *run(struct as_session *s, const char *text)
{
	struct as_trace_cursor c;
	struct as_buf out;
	char *r;

	as_trace_cursor_init(&c);
	as_buf_init(&out, 1 << 20);
	assert_true(as_trace_run_part(s, &c, text, strlen(text), &out) >= 0);
	assert_non_null(r = strdup(as_buf_str(&out)));
	as_buf_free(&out);
	assert_null(session_validate_ptes(s));
	return r;
}

/* The top of the stack, where exec wrote the program's name. */
static unsigned long stack_page(struct as_session *s)
{
	return (as_task_lookup(s, 1)->mm->start_stack & AS_PAGE_MASK);
}

static void test_alike_share_and_stay_apart(void **state)
{
	struct as_session *a, *b, *c;
	char text[256], *x, *y;
	unsigned long before;

	(void)state;
	a = made(8UL << 20);
	b = made(8UL << 20);
	c = made(8UL << 20);
	before = shared_frames(b);
	assert_true(before >= 8);	/* tables, page cache, stack */
	assert_int_equal(shared_frames(c), before);
	/* b stores into its stack page and maps and faults: its own
	 * bytes, tables too; c reads the bytes it always had */
	snprintf(text, sizeof(text), "write 0x%lx 0x5a\nread 0x%lx\n"
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
	    "write 0x200000000000 1\nfork\nswitch 2\n"
	    "write 0x200000000000 2\nexit\nswitch 1\nread 0x%lx\n",
	    stack_page(b), stack_page(b), stack_page(b));
	x = run(b, text);
	assert_non_null(strstr(x, "2: = 0x5a\n"));
	assert_non_null(strstr(x, "10: = 0x5a\n"));
	assert_true(shared_frames(b) < before);
	snprintf(text, sizeof(text), "read 0x%lx\n", stack_page(c));
	y = run(c, text);
	assert_string_not_equal(y, "1: = 0x5a\n");
	assert_int_equal(shared_frames(c), before);
	free(x);
	free(y);
	as_session_free(b);
	as_session_free(c);
	as_session_free(a);
}

/* Other parameters, other bytes: a template of their own. */
static void test_unlike_share_nothing_with_others(void **state)
{
	struct as_session *a = made(8UL << 20), *b = made(4UL << 20);
	struct as_session *c = made(4UL << 20);

	(void)state;
	assert_true(shared_frames(a) > 0 || shared_frames(b) == 0);
	assert_int_equal(shared_frames(b), 0);	/* the template */
	assert_true(shared_frames(c) > 0);
	as_session_free(a);
	as_session_free(b);
	as_session_free(c);
}

/* A checkpoint of an idle session loads sharing its bytes again, and
 * saves the same bytes. */
static void test_loaded_shares_again(void **state)
{
	struct as_session *a = made(8UL << 20), *b = made(8UL << 20), *l;
	struct as_buf x, y;
	char why[256];

	(void)state;
	as_buf_init(&x, 1 << 24);
	as_buf_init(&y, 1 << 24);
	assert_int_equal(as_session_save(b, &x), 0);
	if (as_session_load(x.data, x.len, &l, why, sizeof(why)) != 0)
		fail_msg("load: %s", why);
	assert_int_equal(shared_frames(l), shared_frames(b));
	assert_true(shared_frames(l) > 0);
	assert_int_equal(as_session_save(l, &y), 0);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.data, y.data, x.len);
	as_buf_free(&x);
	as_buf_free(&y);
	as_session_free(l);
	as_session_free(b);
	as_session_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alike_share_and_stay_apart),
		cmocka_unit_test(test_unlike_share_nothing_with_others),
		cmocka_unit_test(test_loaded_shares_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

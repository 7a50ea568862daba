/*
 * test_kparam.c: unit tests of the simulated kernel's parameters (a
 * trace's `kernel NAME VALUE` lines): their parser and formatter, that
 * each takes effect where Linux consults it, that they are fixed once the
 * session starts, and that a session made with a bad one is refused.
 * fault_around_bytes and max_map_count cannot be set on the reference
 * host, so these tests are where their effect is checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mm.h"
#include "session.h"
#include "trace.h"
#include "trace_parse.h"

#define A	0x200000000000UL

/* The output of text run in a new default session. */
static char *run(const char *text)
{
	static char out[8192];
	struct as_session_params p;
	struct as_session *s;
	struct as_buf b;

	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	as_buf_init(&b, sizeof(out) - 1);
	as_trace_run(s, text, strlen(text), &b);
	snprintf(out, sizeof(out), "%s", as_buf_str(&b));
	as_buf_free(&b);
	as_session_free(s);
	return out;
}

/* The Rss line of the first smaps entry of out. */
static void assert_rss(const char *out, const char *want)
{
	const char *r = strstr(out, "Rss: ");

	assert_non_null(r);
	assert_memory_equal(r, want, strlen(want));
}

static void test_parse(void **state)
{
	enum kparam k;
	unsigned long v;
	char err[160];

	(void)state;
	assert_int_equal(trace_parse_kparam("swap", 4, "64M", 3, &k, &v,
	    err, sizeof(err)), 0);
	assert_int_equal(k, KP_SWAP);
	assert_int_equal(v, 64UL << 20);
	assert_int_equal(trace_parse_kparam("rlimit_memlock", 14,
	    "unlimited", 9, &k, &v, err, sizeof(err)), 0);
	assert_true(v == KP_UNLIMITED);
	assert_int_equal(trace_parse_kparam("fault_around_bytes", 18, "16K",
	    3, &k, &v, err, sizeof(err)), -1);	/* a number, no suffix */
	assert_int_equal(trace_parse_kparam("zero", 4, "on", 2, &k, &v,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "unknown kernel parameter 'zero'");
	assert_int_equal(trace_parse_kparam("max_map_count", 13, "65531", 5,
	    &k, &v, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "kernel max_map_count: bad VALUE '65531' (1 to 65530)");
}

/* kparam_format() writes what the parser reads back to the same value. */
static void test_format_round_trip(void **state)
{
	static const unsigned long vals[] = { 0, 1, 4096, 65536, 65530,
	    8UL << 20, 1UL << 30, 12345, 3UL << 10, KP_UNLIMITED };
	char buf[32], err[160];
	unsigned long v;
	enum kparam k, got;
	size_t i;

	(void)state;
	for (k = 0; k < KP_COUNT; k++) {
		for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			if (!kparam_valid(k, vals[i]))
				continue;
			kparam_format(buf, sizeof(buf), k, vals[i]);
			assert_int_equal(trace_parse_kparam(kparam_name(k),
			    strlen(kparam_name(k)), buf, strlen(buf), &got,
			    &v, err, sizeof(err)), 0);
			assert_int_equal(got, k);
			assert_true(v == vals[i]);
		}
		assert_true(kparam_valid(k, kparam_default(k)));
	}
	kparam_format(buf, sizeof(buf), KP_RLIMIT_STACK, 8UL << 20);
	assert_string_equal(buf, "8M");
	kparam_format(buf, sizeof(buf), KP_ZERO_PAGE, 0);
	assert_string_equal(buf, "off");
}

/* A read fault maps the zero page, or (zero_page off) a page of its
 * own: dirty in a writable VMA, clean in a read-only one. */
static void test_zero_page_off(void **state)
{
	static const char rw[] = "window 0x200000000000 0x1000000\n"
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
	    "read 0x200000000000\nsmaps\n";
	static const char ro[] = "kernel zero_page off\n"
	    "window 0x200000000000 0x1000000\n"
	    "mmap 0x200000000000 8K r-- private,anon,fixed\n"
	    "read 0x200000000000\nsmaps\n";
	char text[512];
	const char *out;

	(void)state;
	assert_rss(run(rw), "Rss: 0 kB");
	snprintf(text, sizeof(text), "kernel zero_page off\n%s", rw);
	out = run(text);
	assert_rss(out, "Rss: 4 kB");
	assert_non_null(strstr(out, "Private_Dirty: 4 kB"));
	out = run(ro);
	assert_rss(out, "Rss: 4 kB");
	assert_non_null(strstr(out, "Private_Clean: 4 kB"));
	assert_non_null(strstr(out, "Private_Dirty: 0 kB"));
}

/* A read fault on a cached file maps fault_around_bytes around it. */
static void test_fault_around_bytes(void **state)
{
	static const char body[] = "window 0x200000000000 0x1000000\n"
	    "file f 256K\n"
	    "mmap 0x200000000000 256K r-- private,fixed f 0\n"
	    "read 0x200000005000\nsmaps\n";
	static const struct { const char *line, *rss; } cases[] = {
		{ "", "Rss: 64 kB" },
		{ "kernel fault_around_bytes 65536\n", "Rss: 64 kB" },
		{ "kernel fault_around_bytes 16384\n", "Rss: 16 kB" },
		{ "kernel fault_around_bytes 8192\n", "Rss: 8 kB" },
		{ "kernel fault_around_bytes 4096\n", "Rss: 4 kB" },
	};
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", cases[i].line, body);
		assert_rss(run(text), cases[i].rss);
	}
}

/* An mmap fails once map_count is over max_map_count (do_mmap() checks
 * "map_count > max", so the count may reach max + 1). */
static void test_max_map_count(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	struct mm *mm;
	unsigned long i, r = 0;
	int n;

	(void)state;
	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	mm = as_task_lookup(s, 1)->mm;
	n = mm->map_count;
	assert_int_equal(as_kparam_set(s, KP_MAX_MAP_COUNT,
	    (unsigned long)n + 1), 0);
	for (i = 0; i < 3; i++)	/* prot alternates: no merges */
		r = sys_mmap(mm, A + 2 * i * 4096, 4096, i % 2 ? PROT_READ :
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED, NULL, 0, 0);
	assert_true(r == (unsigned long)-ENOMEM);
	assert_int_equal(mm->map_count, n + 2);
	as_session_free(s);
}

/* rlimit_stack moves mmap_base (its gap, past 128 MiB) by exec'ing task
 * 1 again; once the session has started, parameters are fixed. */
static void test_rlimit_stack_and_start(void **state)
{
	struct as_session_params p;
	struct as_session *s;
	unsigned long base;

	(void)state;
	as_session_params_default(&p);
	assert_non_null(s = as_session_new(&p));
	base = as_task_lookup(s, 1)->mm->mmap_base;
	assert_int_equal(as_kparam_set(s, KP_RLIMIT_STACK, 512UL << 20), 0);
	/* the gap was its floor, 128 MiB; now 512 MiB and the guard gap */
	assert_true(as_task_lookup(s, 1)->mm->mmap_base ==
	    base - (512UL << 20) - AS_STACK_GUARD_GAP + (128UL << 20));
	assert_int_equal(as_kparam_get(s, KP_RLIMIT_STACK), 512UL << 20);
	assert_int_equal(as_kparam_set(s, KP_MAX_MAP_COUNT, 0), -EINVAL);
	as_session_start(s);
	assert_int_equal(as_kparam_set(s, KP_ZERO_PAGE, 0), -EBUSY);
	assert_int_equal(as_kparam_get(s, KP_ZERO_PAGE), 1);
	as_session_free(s);
}

/* A finite rlimit_memlock takes CAP_IPC_LOCK away; a bad parameter
 * refuses the session. */
static void test_session_params(void **state)
{
	struct as_session_params p;
	struct as_session *s;

	(void)state;
	as_session_params_default(&p);
	p.kparam[KP_RLIMIT_MEMLOCK] = 0;
	assert_non_null(s = as_session_new(&p));
	assert_int_equal(as_kparam_get(s, KP_RLIMIT_MEMLOCK), 0);
	assert_int_equal(sys_mlock(as_task_lookup(s, 1)->mm, A, 4096),
	    -EPERM);
	as_session_free(s);
	p.kparam[KP_FAULT_AROUND_BYTES] = 3000;
	assert_null(as_session_new(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_zero_page_off),
		cmocka_unit_test(test_fault_around_bytes),
		cmocka_unit_test(test_max_map_count),
		cmocka_unit_test(test_rlimit_stack_and_start),
		cmocka_unit_test(test_session_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

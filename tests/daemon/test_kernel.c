/*
 * test_kernel.c: an integration test of the kernel parameters over the
 * protocol: SessionCreateRequest's six fields (zero_page, swap_bytes,
 * fault_around_bytes, max_map_count, rlimit_stack, rlimit_memlock), each
 * out-of-range one answered BAD_REQUEST naming its field, in
 * session_create and in run_trace's params alike; and the kernel op,
 * which reports them as a trace writes them, before and after a trace's
 * own `kernel` lines, and unchanged once a task has acted; and with
 * swap, what the requests show of it: proc_status's VmSwap, counters'
 * major_faults, pswpin and pswpout, page_walk's swap entry.  It starts
 * the built daemon ($ASPACED or argv[1]) as test_daemon_ops does.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "frame.h"
#include "harness.h"

#define TIB		(1ULL << 40)
#define BASE		0x200000000000UL

static const char *daemon_path;
static struct hdaemon dmn;

static int start_daemon(void **state)
{
	*state = &dmn;
	return hdaemon_start(&dmn, daemon_path, "kernel", NULL);
}

static void cl_open(struct client *c)
{
	assert_true(cl_connect(c, dmn.sock));
	assert_true(cl_hello(c));
}

/* session_create with p; the response. */
static Aspace__Response *create(struct client *c,
    Aspace__SessionCreateRequest *p)
{
	return cl_op_in(c, NULL, 0, ASPACE__REQUEST__OP_SESSION_CREATE, p);
}

/* A fresh run_trace of text with params p; the response. */
static Aspace__Response *run_fresh(struct client *c,
    Aspace__SessionCreateRequest *p, const char *text)
{
	Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;

	t.has_text = true;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	t.params = p;
	return cl_op_in(c, NULL, 0, ASPACE__REQUEST__OP_RUN_TRACE, &t);
}

/* BAD_REQUEST from both session_create and run_trace, whose message
 * starts with field. */
static void refused(struct client *c, Aspace__SessionCreateRequest *p,
    const char *field)
{
	Aspace__Response *resp = create(c, p);

	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_non_null(resp->status->message);
	assert_memory_equal(resp->status->message, field, strlen(field));
	resp = run_fresh(c, p, "maps\n");
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_memory_equal(resp->status->message, field, strlen(field));
}

static void test_create_bad(void **state)
{
	Aspace__SessionCreateRequest p;
	struct client c;

	(void)state;
	cl_open(&c);
#define BAD(f, v) do {							\
		aspace__session_create_request__init(&p);		\
		p.has_##f = true;					\
		p.f = (v);						\
		refused(&c, &p, #f ": ");				\
	} while (0)
	BAD(swap_bytes, TIB + 1);
	BAD(swap_bytes, UINT64_MAX);
	BAD(fault_around_bytes, 0);
	BAD(fault_around_bytes, 2048);
	BAD(fault_around_bytes, 5000);
	BAD(fault_around_bytes, 131072);
	BAD(max_map_count, 0);
	BAD(max_map_count, -1);
	BAD(max_map_count, 65531);
	BAD(rlimit_stack, TIB + 1);
	BAD(rlimit_memlock, TIB + 1);
	BAD(rlimit_memlock, UINT64_MAX - 1);
	BAD(kernel_ram, 32UL << 10);
	BAD(kernel_ram, (256UL << 10) + 1);
	BAD(kernel_ram, 2UL << 30);		/* over ram_bytes */
#undef BAD
	/* The message gives the range. */
	aspace__session_create_request__init(&p);
	p.has_fault_around_bytes = true;
	p.fault_around_bytes = 5000;
	assert_string_equal(create(&c, &p)->status->message,
	    "fault_around_bytes: a power of two from 4096 to 65536");
	cl_close(&c);
}

/* The kernel op in c->sid: its "NAME TEXT" pairs joined by ", ", seven,
 * or eight with `kernel ram` set. */
static const char *kernel_text_n(struct client *c, char *buf, size_t size,
    size_t nparams)
{
	Aspace__KernelRequest k = ASPACE__KERNEL_REQUEST__INIT;
	Aspace__Response *resp = cl_op(c, 0, ASPACE__REQUEST__OP_KERNEL, &k);
	size_t i, n = 0;

	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_KERNEL);
	assert_int_equal(resp->kernel->n_params, nparams);
	buf[0] = '\0';
	for (i = 0; i < resp->kernel->n_params; i++) {
		assert_true(resp->kernel->params[i]->has_value);
		n += (size_t)snprintf(buf + n, size - n, "%s%s %s",
		    i > 0 ? ", " : "", resp->kernel->params[i]->name,
		    resp->kernel->params[i]->text);
	}
	return buf;
}

static const char *kernel_text(struct client *c, char *buf, size_t size)
{
	return kernel_text_n(c, buf, size, 7);
}

static void test_kernel_op(void **state)
{
	Aspace__SessionCreateRequest p = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__KernelRequest k = ASPACE__KERNEL_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;
	char buf[256];

	(void)state;
	cl_open(&c);
	assert_true(cl_session_new(&c, 0));
	assert_string_equal(kernel_text(&c, buf, sizeof(buf)),
	    "zero_page on, swap 0, fault_around_bytes 65536, "
	    "max_map_count 65530, rlimit_stack 8M, rlimit_memlock unlimited, "
	    "share_tables on");
	resp = cl_op(&c, 0, ASPACE__REQUEST__OP_KERNEL, &k);
	assert_int_equal(resp->kernel->params[5]->value, UINT64_MAX);
	p.has_zero_page = p.has_swap_bytes = p.has_fault_around_bytes = true;
	p.has_max_map_count = p.has_rlimit_stack = p.has_rlimit_memlock = true;
	p.zero_page = false;
	p.swap_bytes = 64UL << 20;
	p.fault_around_bytes = 4096;
	p.max_map_count = 100;
	p.rlimit_stack = 1UL << 20;
	p.rlimit_memlock = 64UL << 10;
	p.has_share_tables = true;
	p.share_tables = false;
	resp = create(&c, &p);
	assert_int_equal(code_of(resp), 0);
	memcpy(c.sid, resp->session_create->session.data, 16);
	assert_string_equal(kernel_text(&c, buf, sizeof(buf)),
	    "zero_page off, swap 64M, fault_around_bytes 4096, "
	    "max_map_count 100, rlimit_stack 1M, rlimit_memlock 64K, "
	    "share_tables off");
	resp = cl_op(&c, 0, ASPACE__REQUEST__OP_KERNEL, &k);
	assert_int_equal(resp->kernel->params[0]->value, 0);
	assert_int_equal(resp->kernel->params[5]->value, 64 << 10);
	/* 2^64-1 is unlimited, as absent is. */
	aspace__session_create_request__init(&p);
	p.has_rlimit_memlock = true;
	p.rlimit_memlock = UINT64_MAX;
	resp = create(&c, &p);
	assert_int_equal(code_of(resp), 0);
	memcpy(c.sid, resp->session_create->session.data, 16);
	assert_string_equal(kernel_text(&c, buf, sizeof(buf)),
	    "zero_page on, swap 0, fault_around_bytes 65536, "
	    "max_map_count 65530, rlimit_stack 8M, rlimit_memlock unlimited, "
	    "share_tables on");
	cl_close(&c);
}

/* run_trace text in c->sid: its status code. */
static int run_in(struct client *c, const char *text, uint32_t *errors)
{
	Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;
	Aspace__Response *resp;

	t.has_text = true;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	resp = cl_op(c, 0, ASPACE__REQUEST__OP_RUN_TRACE, &t);
	if (code_of(resp) == 0)
		*errors = resp->run_trace->errors;
	return code_of(resp);
}

/* A trace's kernel lines change what kernel reports, until a task acts. */
static void test_kernel_lines(void **state)
{
	Aspace__KernelRequest k = ASPACE__KERNEL_REQUEST__INIT;
	Aspace__SessionCreateRequest p = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;
	uint32_t errors = 9;
	char buf[256];

	(void)state;
	cl_open(&c);
	assert_true(cl_session_new(&c, 0));
	assert_int_equal(run_in(&c, "kernel zero_page off\nkernel swap 1G\n"
	    "kernel rlimit_memlock 0\n", &errors), 0);
	assert_int_equal(errors, 0);
	assert_string_equal(kernel_text(&c, buf, sizeof(buf)),
	    "zero_page off, swap 1G, fault_around_bytes 65536, "
	    "max_map_count 65530, rlimit_stack 8M, rlimit_memlock 0, "
	    "share_tables on");
	assert_int_not_equal(cl_mmap_anon(&c, c.sid, 4096), 0);
	assert_int_equal(run_in(&c, "kernel zero_page on\n", &errors), 0);
	assert_int_equal(errors, 1);
	assert_string_equal(kernel_text(&c, buf, sizeof(buf)),
	    "zero_page off, swap 1G, fault_around_bytes 65536, "
	    "max_map_count 65530, rlimit_stack 8M, rlimit_memlock 0, "
	    "share_tables on");
	/* A fresh run_trace's params, then its own lines over them. */
	p.has_zero_page = true;
	p.zero_page = false;
	resp = run_fresh(&c, &p, "window 0x200000000000 0x1000\n"
	    "mmap 0x200000000000 4K rw- private,anon,fixed\n"
	    "read 0x200000000000\nsmaps\n");
	assert_int_equal(code_of(resp), 0);
	assert_non_null(strstr((char *)resp->run_trace->output.data,
	    "Rss: 4 kB"));
	/* Not in a session: BAD_REQUEST; another id: NO_SUCH_SESSION. */
	assert_int_equal(code_of(cl_op_in(&c, NULL, 0,
	    ASPACE__REQUEST__OP_KERNEL, &k)), ASPACE__STATUS__CODE__BAD_REQUEST);
	c.sid[0] ^= 1;
	assert_int_equal(code_of(cl_op(&c, 0, ASPACE__REQUEST__OP_KERNEL, &k)),
	    ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&c);
}

/* The three swap counters of c's session (task 1's own with task_only). */
static void swap_counters(struct client *c, bool task_only, uint64_t *major,
    uint64_t *in, uint64_t *out)
{
	Aspace__Response *resp = rq_counters(OWN(c), 1, task_only);

	assert_int_equal(code_of(resp), 0);
	assert_true(resp->counters->has_major_faults &&
	    resp->counters->has_pswpin && resp->counters->has_pswpout);
	*major = resp->counters->major_faults;
	*in = resp->counters->pswpin;
	*out = resp->counters->pswpout;
}

/* VmSwap and RssAnon of task 1 in kB, and the text's VmSwap line. */
static void swap_status(struct client *c, uint64_t *swap, uint64_t *anon,
    const char *line)
{
	Aspace__Response *resp = rq_simple(OWN(c), 1,
	    ASPACE__REQUEST__OP_PROC_STATUS);

	assert_int_equal(code_of(resp), 0);
	*swap = resp->proc_status->vm_swap;
	*anon = resp->proc_status->rss_anon;
	assert_non_null(strstr(resp->proc_status->text, line));
}

/* With swap: pageout shows in VmSwap, the counters, and walk's decoded
 * swap entry; a swap-in read from the slot is a major fault and a
 * pswpin. */
static void test_swap_requests(void **state)
{
	uint64_t major, in, out, swap, anon, anon0, off;
	Aspace__Response *resp;
	struct client c;
	uint32_t errors = 9;

	(void)state;
	cl_open(&c);
	assert_true(cl_session_new(&c, 0));
	assert_int_equal(run_in(&c, "kernel swap 1M\nmmap 0x200000000000 16K "
	    "rw- private,anon,fixed\nwrite 0x200000000000 1\n"
	    "write 0x200000001000 2\nwrite 0x200000002000 3\n"
	    "madvise 0x200000000000 16K pageout\n", &errors), 0);
	assert_int_equal(errors, 0);
	swap_status(&c, &swap, &anon0, "VmSwap:\t      12 kB\n");
	assert_int_equal(swap, 12);
	swap_counters(&c, false, &major, &in, &out);
	assert_int_equal(major, 0);
	assert_int_equal(in, 0);
	assert_int_equal(out, 3);
	resp = rq_walk(OWN(&c), 1, BASE + 4096);
	assert_int_equal(code_of(resp), 0);
	assert_true(resp->page_walk->swap && resp->page_walk->swap_exclusive);
	assert_int_equal(resp->page_walk->swap_type, 0);
	off = resp->page_walk->swap_offset;
	assert_true(off > 0);
	assert_int_equal(resp->page_walk->swap_entry, off);
	assert_int_equal(resp->page_walk->pte, (off << 14) | 0x4);
	/* A swap-in: a major fault and a pswpin, of task 1 */
	assert_int_equal(code_of(rq_read(OWN(&c), 1, BASE, 1)), 0);
	swap_status(&c, &swap, &anon, "VmSwap:\t       8 kB\n");
	assert_int_equal(swap, 8);
	assert_int_equal(anon, anon0 + 4);	/* the page back */
	swap_counters(&c, false, &major, &in, &out);
	assert_true(major == 1 && in == 1 && out == 3);
	swap_counters(&c, true, &major, &in, &out);
	assert_true(major == 1 && in == 1 && out == 0);
	resp = rq_walk(OWN(&c), 1, BASE);
	assert_false(resp->page_walk->swap);
	assert_true(resp->page_walk->pte & 0x1);
	cl_close(&c);
}

/* kernel_ram: the RAM the machine uses, listed last by the kernel op;
 * a trace's `kernel ram` line in the session says the same. */
static void test_kernel_ram(void **state)
{
	Aspace__SessionCreateRequest p = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;
	struct client c;
	uint32_t errors = 9;
	char buf[256];

	(void)state;
	cl_open(&c);
	p.has_kernel_ram = true;
	p.kernel_ram = 256UL << 10;
	resp = create(&c, &p);
	assert_int_equal(code_of(resp), 0);
	memcpy(c.sid, resp->session_create->session.data, 16);
	assert_string_equal(kernel_text_n(&c, buf, sizeof(buf), 8),
	    "zero_page on, swap 0, fault_around_bytes 65536, "
	    "max_map_count 65530, rlimit_stack 8M, rlimit_memlock unlimited, "
	    "ram 256K, share_tables on");
	assert_true(cl_session_new(&c, 0));
	assert_int_equal(run_in(&c, "kernel ram 128K\n", &errors), 0);
	assert_int_equal(errors, 0);
	assert_non_null(strstr(kernel_text_n(&c, buf, sizeof(buf), 8),
	    ", ram 128K, "));
	cl_close(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bad),
		cmocka_unit_test(test_kernel_op),
		cmocka_unit_test(test_kernel_lines),
		cmocka_unit_test(test_swap_requests),
		cmocka_unit_test(test_kernel_ram),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	if (daemon_path == NULL) {
		fprintf(stderr, "test_kernel: set ASPACED or pass the path\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

/*
 * test_daemon_ops.c: an integration test of aspaced's task-level
 * requests: mprotect, mremap, madvise, mlock, munlock, brk, read_bytes,
 * write_bytes, thread, vfork, exec, smaps, proc_status, page_walk,
 * counters, file_create, check, msync, shmget, shmat, shmdt and shmrm.
 * It starts the built daemon ($ASPACED
 * or argv[1]) on a Unix socket in a fresh temporary directory and talks
 * to it with the framed client of harness.h, checking results,
 * error answers (ERRNO with its name, BAD_REQUEST, TOO_LARGE,
 * NO_SUCH_TASK, BLOCKED) and, where it is easy, agreement with the
 * embedded core: smaps text against the trace runner's, counters and
 * proc_status figures against the same operations run locally.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fault.h"
#include "frame.h"
#include "harness.h"
#include "mm.h"
#include "pgtable.h"
#include "session.h"
#include "trace.h"

#define BASE		0x200000000000UL
#define PROT_RW		0x3
#define MAP_PA		0x22		/* MAP_PRIVATE | MAP_ANONYMOUS */
#define MAP_PAF		0x32		/* ... | MAP_FIXED */

static const char *daemon_path;
static struct hdaemon dmn;

/* Connect, hello and a fresh session with default parameters. */
static void cl_open(struct client *c)
{
	assert_true(cl_connect(c, dmn.sock));
	assert_true(cl_hello(c));
	assert_true(cl_session_new(c, 0));
}

/* --- one helper per op ------------------------------------------------------ */

static uint64_t do_brk(struct client *c, bool has, uint64_t addr)
{
	Aspace__Response *resp;

	resp = rq_brk(OWN(c), 0, has, addr);
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->brk);
	return resp->brk->addr;
}

/* The new task of a fork, thread or vfork by task. */
static int do_clone(struct client *c, int task, Aspace__Request__OpCase opc)
{
	Aspace__Response *resp = rq_simple(OWN(c), task, opc);

	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, (int)opc);
	assert_non_null(resp->fork);	/* fork, thread, vfork: TaskResult */
	return resp->fork->task;
}

/* --- the reference: the embedded core ----------------------------------- */

static char *local_run(const char *text)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf b;
	char *out;

	as_session_params_default(&p);
	s = as_session_new(&p);
	as_buf_init(&b, 1 << 20);
	as_trace_run(s, text, strlen(text), &b);
	out = strdup(as_buf_str(&b));
	as_buf_free(&b);
	as_session_free(s);
	return out;
}

/* A trace's report lines after its "N: smaps" line, less two spaces. */
static char *report_text(const char *out, const char *what)
{
	const char *p = strstr(out, what);
	char *res = calloc(1, strlen(out) + 1), *q = res;

	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	while (*p != '\0' && p[0] == ' ' && p[1] == ' ') {
		p += 2;
		while (*p != '\0' && *p != '\n')
			*q++ = *p++;
		if (*p == '\n')
			*q++ = *p++;
	}
	return res;
}

/* --- the daemon ------------------------------------------------------------ */

static int start_daemon(void **state)
{
	static const char *const args[] = { "-w", "2", NULL };

	*state = &dmn;
	return hdaemon_start(&dmn, daemon_path, "ops", args);
}

/* --- the tests ------------------------------------------------------------- */

static void test_mprotect(void **state)
{
	Aspace__Response *resp;
	struct client c;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 16384, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, "ab", 2)), 0);
	assert_int_equal(code_of(rq_mprotect(OWN(&c), 0, BASE, 4096, 0x1)), 0);
	resp = rq_write(OWN(&c), 0, BASE, "x", 1);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->write_bytes->written, 0);
	assert_non_null(resp->write_bytes->fault);
	assert_string_equal(resp->write_bytes->fault->code_name, "SEGV_ACCERR");
	assert_true(is_errno(rq_mprotect(OWN(&c), 0, BASE + 1, 4096, 0x1),
	    "EINVAL", 22));
	assert_true(is_errno(rq_mprotect(OWN(&c), 0, BASE + (1UL << 30), 4096,
	    0x1), "ENOMEM", 12));
	{
		Aspace__MprotectRequest m = ASPACE__MPROTECT_REQUEST__INIT;

		m.has_addr = true;
		m.addr = BASE;
		assert_int_equal(code_of(cl_op(&c, 0, ASPACE__REQUEST__OP_MPROTECT,
		    &m)), ASPACE__STATUS__CODE__BAD_REQUEST);
	}
	assert_int_equal(code_of(rq_mprotect(OWN(&c), 0, BASE, 4096, 0x3)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, "x", 1)), 0);
	cl_close(&c);
}

static void test_mremap_madvise(void **state)
{
	Aspace__Response *resp;
	struct client c;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 8192, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE + 8192, 4096, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE + 100, "hello", 5)),
	    0);
	/* Cannot grow in place (a neighbour): ENOMEM without MAYMOVE. */
	assert_true(is_errno(rq_mremap(OWN(&c), 0, BASE, 8192, 16384, 0, 0),
	    "ENOMEM", 12));
	/* MREMAP_MAYMOVE */
	resp = rq_mremap(OWN(&c), 0, BASE, 8192, 16384, 1, 0);
	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->mremap);
	assert_true(resp->mremap->addr != BASE);
	resp = rq_read(OWN(&c), 0, resp->mremap->addr + 100, 5);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->read_bytes->data.len, 5);
	assert_memory_equal(resp->read_bytes->data.data, "hello", 5);
	assert_true(is_errno(rq_mremap(OWN(&c), 0, BASE + 1, 4096, 8192, 1, 0),
	    "EINVAL", 22));
	/* madvise: DONTNEED drops the private page, bad advice is EINVAL. */
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE + 8192, "z", 1)), 0);
	assert_int_equal(code_of(rq_madvise(OWN(&c), 0, BASE + 8192, 4096, 4)),
	    0);
	resp = rq_read(OWN(&c), 0, BASE + 8192, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 0);
	assert_true(is_errno(rq_madvise(OWN(&c), 0, BASE + 8192, 4096, 9999),
	    "EINVAL", 22));
	cl_close(&c);
}

static Aspace__ProcStatusResult *status_of(struct client *c, int task)
{
	Aspace__Response *resp = rq_simple(OWN(c), task,
	    ASPACE__REQUEST__OP_PROC_STATUS);

	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->proc_status);
	return resp->proc_status;
}

static void test_mlock_brk(void **state)
{
	Aspace__ProcStatusResult *st;
	uint64_t brk0, brk1, data0;
	struct client c;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 16384, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_mlock(OWN(&c), 0, true, BASE, 8192)), 0);
	st = status_of(&c, 0);
	assert_int_equal(st->vm_lck, 8);
	assert_true(st->rss_anon >= 8);	/* mlock populates */
	assert_int_equal(code_of(rq_mlock(OWN(&c), 0, false, BASE, 4096)), 0);
	assert_int_equal(status_of(&c, 0)->vm_lck, 4);
	assert_true(is_errno(rq_mlock(OWN(&c), 0, true, BASE + (1UL << 30),
	    4096), "ENOMEM", 12));
	assert_true(is_errno(rq_mlock(OWN(&c), 0, false, BASE + (1UL << 30),
	    4096), "ENOMEM", 12));
	/* brk: absent and 0 ask; growing moves it; data_vm follows. */
	brk0 = do_brk(&c, false, 0);
	assert_true(brk0 != 0);
	assert_int_equal(do_brk(&c, true, 0), brk0);
	data0 = status_of(&c, 0)->vm_data;
	brk1 = do_brk(&c, true, brk0 + 8192);
	assert_int_equal(brk1, brk0 + 8192);
	assert_int_equal(status_of(&c, 0)->vm_data, data0 + 8);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, brk0, "b", 1)), 0);
	/* An impossible break: brk never fails, the break stays. */
	assert_int_equal(do_brk(&c, true, 1), brk1);
	cl_close(&c);
}

static void test_rw_bytes(void **state)
{
	Aspace__Response *resp;
	uint8_t buf[300];
	struct client c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 8192, PROT_RW,
	    MAP_PAF, NULL)), 0);
	resp = rq_write(OWN(&c), 0, BASE + 4000, buf, sizeof(buf));
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->write_bytes->written, sizeof(buf));
	assert_null(resp->write_bytes->fault);
	resp = rq_read(OWN(&c), 0, BASE + 4000, sizeof(buf));
	assert_int_equal(resp->read_bytes->data.len, sizeof(buf));
	assert_memory_equal(resp->read_bytes->data.data, buf, sizeof(buf));
	assert_null(resp->read_bytes->fault);
	/* Over the end: stop at the first fault, report it. */
	resp = rq_write(OWN(&c), 0, BASE + 8192 - 100, buf, sizeof(buf));
	assert_int_equal(resp->write_bytes->written, 100);
	assert_non_null(resp->write_bytes->fault);
	assert_int_equal(resp->write_bytes->fault->addr, BASE + 8192);
	assert_int_equal(resp->write_bytes->fault->signal, 11);
	assert_string_equal(resp->write_bytes->fault->signal_name, "SIGSEGV");
	assert_string_equal(resp->write_bytes->fault->code_name, "SEGV_MAPERR");
	resp = rq_read(OWN(&c), 0, BASE + 8192 - 10, 20);
	assert_int_equal(resp->read_bytes->data.len, 10);
	assert_memory_equal(resp->read_bytes->data.data, buf + 90, 10);
	assert_int_equal(resp->read_bytes->fault->addr, BASE + 8192);
	resp = rq_read(OWN(&c), 0, 0x10, 4);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->read_bytes->data.len, 0);
	assert_int_equal(resp->read_bytes->fault->code, 1);
	resp = rq_read(OWN(&c), 0, BASE, 0);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->read_bytes->data.len, 0);
	assert_null(resp->read_bytes->fault);
	/* Bounds: TOO_LARGE over max_rw_bytes, exactly at it is fine. */
	assert_int_equal(code_of(rq_read(OWN(&c), 0, BASE, FRAME_MAX_RW_BYTES +
	    1)), ASPACE__STATUS__CODE__TOO_LARGE);
	{
		uint8_t *big = calloc(1, FRAME_MAX_RW_BYTES + 1);

		assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, big,
		    FRAME_MAX_RW_BYTES + 1)), ASPACE__STATUS__CODE__TOO_LARGE);
		free(big);
	}
	resp = rq_read(OWN(&c), 0, BASE, FRAME_MAX_RW_BYTES);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->read_bytes->data.len, 8192);
	assert_int_equal(code_of(rq_read(OWN(&c), 42, BASE, 1)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	cl_close(&c);
}

static void test_thread_vfork_exec(void **state)
{
	Aspace__Response *resp;
	struct client c;
	int thr, child, child2;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 4096, PROT_RW,
	    MAP_PAF, NULL)), 0);
	/* A thread shares the mm: its store is the parent's. */
	thr = do_clone(&c, 0, ASPACE__REQUEST__OP_THREAD);
	assert_true(thr > 1);
	assert_int_equal(code_of(rq_write(OWN(&c), thr, BASE, "T", 1)), 0);
	resp = rq_read(OWN(&c), 0, BASE, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 'T');
	assert_int_equal(status_of(&c, thr)->threads, 2);
	assert_int_equal(status_of(&c, thr)->tgid, 1);
	/* vfork: the parent is BLOCKED for every op until exec. */
	child = do_clone(&c, 0, ASPACE__REQUEST__OP_VFORK);
	assert_int_equal(code_of(rq_read(OWN(&c), 0, BASE, 1)),
	    ASPACE__STATUS__CODE__BLOCKED);
	assert_int_equal(code_of(rq_smaps(OWN(&c), 0, 0, 0)),
	    ASPACE__STATUS__CODE__BLOCKED);
	assert_int_equal(code_of(rq_counters(OWN(&c), 1, true)),
	    ASPACE__STATUS__CODE__BLOCKED);
	/* the child shares the mm */
	resp = rq_read(OWN(&c), child, BASE, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 'T');
	assert_int_equal(code_of(rq_exec(OWN(&c), child, "..")),
	    ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_int_equal(code_of(rq_exec(OWN(&c), child, NULL)),
	    ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_int_equal(code_of(rq_exec(OWN(&c), child, "sh")), 0);
	/* awake */
	assert_int_equal(code_of(rq_read(OWN(&c), 0, BASE, 1)), 0);
	/* a fresh mm: not mapped */
	resp = rq_read(OWN(&c), child, BASE, 1);
	assert_int_equal(resp->read_bytes->data.len, 0);
	assert_non_null(resp->read_bytes->fault);
	resp = rq_smaps(OWN(&c), child, 0, 0);
	assert_int_equal(code_of(resp), 0);
	assert_string_equal(resp->smaps->smaps[1]->vma->name, "sh");
	/* vfork then exit also wakes the parent. */
	child2 = do_clone(&c, 0, ASPACE__REQUEST__OP_VFORK);
	assert_int_equal(code_of(rq_simple(OWN(&c), 0,
	    ASPACE__REQUEST__OP_FORK)), ASPACE__STATUS__CODE__BLOCKED);
	assert_int_equal(code_of(rq_simple(OWN(&c), child2,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	assert_int_equal(code_of(rq_read(OWN(&c), child2, BASE, 1)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	/* exec by a thread: the others go, it takes the leader's id. */
	assert_int_equal(code_of(rq_exec(OWN(&c), thr, "prog2")), 0);
	assert_int_equal(code_of(rq_read(OWN(&c), thr, BASE, 1)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	assert_int_equal(status_of(&c, 1)->threads, 1);
	assert_int_equal(code_of(rq_simple(OWN(&c), 99,
	    ASPACE__REQUEST__OP_THREAD)), ASPACE__STATUS__CODE__NO_SUCH_TASK);
	assert_int_equal(code_of(rq_simple(OWN(&c), 99,
	    ASPACE__REQUEST__OP_VFORK)), ASPACE__STATUS__CODE__NO_SUCH_TASK);
	assert_int_equal(code_of(rq_exec(OWN(&c), 99, "x")),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	cl_close(&c);
}

/* The same operations as a trace, for the local reference. */
static const char smaps_trace[] =
	"mmap 0x200000000000 16K rw- private,anon,fixed\n"
	"write 0x200000000000 0x41\n"
	"write 0x200000001000 0x42\n"
	"read 0x200000002000\n"
	"fork\n"
	"mlock 0x200000003000 4K\n"
	"smaps\n";

static void test_smaps(void **state)
{
	char *local = local_run(smaps_trace), *want = report_text(local,
	    ": smaps\n");
	Aspace__SmapsResult *sm;
	Aspace__Response *resp;
	struct client c;
	size_t i;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 16384, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, "A", 1)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE + 4096, "B", 1)), 0);
	assert_int_equal(rq_read(OWN(&c), 0, BASE + 8192,
	    1)->read_bytes->data.len, 1);
	assert_true(do_clone(&c, 0, ASPACE__REQUEST__OP_FORK) == 2);
	assert_int_equal(code_of(rq_mlock(OWN(&c), 0, true, BASE + 12288,
	    4096)), 0);
	resp = rq_smaps(OWN(&c), 0, 0, 0);
	assert_int_equal(code_of(resp), 0);
	sm = resp->smaps;
	assert_non_null(sm);
	assert_string_equal(sm->text, want);
	/* The figures agree with the text; the window picks one VMA. */
	for (i = 0; i < sm->n_smaps; i++) {
		char line[160];

		snprintf(line, sizeof(line), "\n  Rss: %llu kB\n  Pss: %llu kB\n",
		    (unsigned long long)sm->smaps[i]->rss,
		    (unsigned long long)sm->smaps[i]->pss);
		assert_non_null(strstr(sm->text, line));
		assert_non_null(sm->smaps[i]->vm_flags);
		assert_true(sm->smaps[i]->has_locked && sm->smaps[i]->has_swap);
	}
	resp = rq_smaps(OWN(&c), 0, BASE, 8192);
	assert_int_equal(resp->smaps->n_smaps, 1);
	sm = resp->smaps;
	assert_int_equal(sm->smaps[0]->vma->start, BASE);
	assert_int_equal(sm->smaps[0]->vma->end, BASE + 12288);
	assert_string_equal(sm->smaps[0]->vma->perms, "rw-p");
	assert_int_equal(sm->smaps[0]->rss, 8);	/* the zero page is not */
	assert_int_equal(sm->smaps[0]->anonymous, 8);
	assert_int_equal(sm->smaps[0]->pss, 4);	/* shared with the child */
	assert_int_equal(sm->smaps[0]->shared_dirty, 8);
	assert_string_equal(sm->smaps[0]->vm_flags, "rd wr mr mw me ac");
	resp = rq_smaps(OWN(&c), 0, BASE + 12288, 4096);
	assert_int_equal(resp->smaps->smaps[0]->locked, 4);
	assert_int_equal(code_of(rq_smaps(OWN(&c), 7, 0, 0)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	free(local);
	free(want);
	cl_close(&c);
}

/* smaps of more VMAs than the output cap holds (6000, about 220 bytes each,
 * against about 1 MiB): TOO_LARGE; a window of a few of them is fine. */
static void test_smaps_over_cap(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t i;

	(void)state;
	cl_open(&c);
	for (i = 0; i < 6000; i++)	/* alternate: none merge */
		assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE + i * 4096,
		    4096, i % 2 ? 0x1 : PROT_RW, MAP_PAF, NULL)), 0);
	resp = rq_smaps(OWN(&c), 0, 0, 0);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__TOO_LARGE);
	assert_string_equal(resp->status->message, "smaps over the output cap");
	assert_null(resp->smaps);
	resp = rq_smaps(OWN(&c), 0, BASE, 10 * 4096);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->smaps->n_smaps, 10);
	cl_close(&c);
}

/* maps and smaps of as many VMAs as a task may have (vm.max_map_count,
 * 65530): over the output cap, TOO_LARGE, never INTERNAL "out of memory"
 * (which says to retry; the response arena ran out before the text did);
 * a window of a few is fine. */
static void test_maps_max_map_count(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t i;
	int code;

	(void)state;
	cl_open(&c);
	for (i = 0; i < 70000; i++) {	/* alternate: none merge */
		code = code_of(rq_mmap(OWN(&c), 0, BASE + i * 4096, 4096,
		    i % 2 ? 0x1 : PROT_RW, MAP_PAF, NULL));
		if (code != 0)
			break;
	}
	assert_true(i > 65000);		/* stopped by the map count */
	resp = rq_maps(OWN(&c), 0, 0, 0);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__TOO_LARGE);
	assert_string_equal(resp->status->message, "maps over the output cap");
	assert_null(resp->maps);
	resp = rq_smaps(OWN(&c), 0, 0, 0);
	assert_int_equal(code_of(resp), ASPACE__STATUS__CODE__TOO_LARGE);
	resp = rq_maps(OWN(&c), 0, BASE, 10 * 4096);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->maps->n_vmas, 10);
	cl_close(&c);
}

/* The local session for the cross-checks: task 1 maps and writes. */
static struct as_session *local_session(struct task **t)
{
	struct as_session_params p;
	struct as_session *s;
	struct access_result a;
	unsigned long i;

	as_session_params_default(&p);
	s = as_session_new(&p);
	*t = as_task_lookup(s, 1);
	assert_int_equal(sys_mmap((*t)->mm, BASE, 16384, PROT_RW, MAP_PAF,
	    NULL, 0, 0), BASE);
	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		a.store = true;
		assert_int_equal(as_access(*t, BASE + i * 4096, AS_WRITE, &a), 0);
	}
	memset(&a, 0, sizeof(a));
	as_access(*t, 0x10, AS_READ, &a);
	return s;
}

/* Task 1 of c's session does what local_session() does. */
static void remote_session(struct client *c)
{
	unsigned long i;

	assert_int_equal(code_of(rq_mmap(OWN(c), 0, BASE, 16384, PROT_RW,
	    MAP_PAF, NULL)), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(rq_write(OWN(c), 0, BASE + i * 4096, "", 1)->
		    write_bytes->written, 1);
	assert_non_null(rq_read(OWN(c), 0, 0x10, 1)->read_bytes->fault);
}

static void test_proc_status(void **state)
{
	Aspace__ProcStatusResult *st;
	Aspace__Response *resp;
	struct as_session *s;
	struct task *t;
	struct client c;
	char line[64];
	uint64_t addr;

	(void)state;
	s = local_session(&t);
	cl_open(&c);
	remote_session(&c);
	st = status_of(&c, 0);
	assert_int_equal(st->pid, 1);
	assert_int_equal(st->tgid, 1);
	assert_int_equal(st->threads, 1);
	assert_int_equal(st->vm_size, t->mm->total_vm * 4);
	assert_int_equal(st->vm_data, t->mm->data_vm * 4);
	assert_int_equal(st->vm_stk, t->mm->stack_vm * 4);
	assert_int_equal(st->vm_pte, t->mm->nr_pgtables * 4);
	assert_int_equal(st->vm_exe + st->vm_lib, t->mm->exec_vm * 4);
	assert_int_equal(st->vm_exe, 8);	/* the default image's text */
	assert_int_equal(st->vm_lck, 0);
	assert_true(st->rss_anon >= 12);
	assert_int_equal(st->vm_rss, st->rss_anon + st->rss_file +
	    st->rss_shmem);
	assert_false(st->has_vm_peak);
	assert_false(st->has_vm_hwm);
	snprintf(line, sizeof(line), "VmSize:\t%8llu kB\n",
	    (unsigned long long)st->vm_size);
	assert_non_null(strstr(st->text, line));
	snprintf(line, sizeof(line), "RssAnon:\t%8llu kB\n",
	    (unsigned long long)st->rss_anon);
	assert_non_null(strstr(st->text, line));
	assert_non_null(strstr(st->text, "VmSwap:\t       0 kB\n"));
	/* One more anon page: RssAnon grows by 4 kB, a read of a new page
	 * maps the zero page, which counts for nothing. */
	{
		uint64_t anon = st->rss_anon;

		assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE + 12288, "x",
		    1)), 0);
		assert_int_equal(status_of(&c, 0)->rss_anon, anon + 4);
	}
	/* A shared file mapping counts as file. */
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "f", 8192)), 0);
	resp = rq_mmap(OWN(&c), 0, 0, 8192, 0x1, 0x01, "f");
	assert_int_equal(code_of(resp), 0);
	addr = resp->mmap->addr;	/* resp lives until the next call */
	assert_int_equal(status_of(&c, 0)->rss_file, 0);
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_int_equal(resp->read_bytes->data.len, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 0x03);
	st = status_of(&c, 0);
	assert_true(st->rss_file >= 4 && st->rss_file <= 8);	/* fault-around */
	assert_int_equal(st->rss_shmem, 0);
	assert_int_equal(st->vm_rss, st->rss_anon + st->rss_file);
	as_session_free(s);
	cl_close(&c);
}

static void test_page_walk(void **state)
{
	Aspace__Response *resp;
	struct as_session *s;
	struct task *t;
	struct client c;
	pte_t e[4];

	(void)state;
	s = local_session(&t);
	cl_open(&c);
	remote_session(&c);
	resp = rq_walk(OWN(&c), 0, BASE + 4096);
	assert_int_equal(code_of(resp), 0);
	pgtable_walk(t->mm, BASE + 4096, e);
	assert_int_equal(resp->page_walk->pgd, e[0]);
	assert_int_equal(resp->page_walk->pud, e[1]);
	assert_int_equal(resp->page_walk->pmd, e[2]);
	assert_int_equal(resp->page_walk->pte, e[3]);
	assert_true(resp->page_walk->pte & 0x1);		/* present */
	assert_true(resp->page_walk->pte & 0x2);		/* RW */
	assert_true(resp->page_walk->pte & 0x40);		/* dirty */
	assert_true(resp->page_walk->pte & (1ULL << 63));	/* NX */
	/* mapped, never touched */
	resp = rq_walk(OWN(&c), 0, BASE + 12288);
	assert_true(resp->page_walk->pmd & 0x1);
	assert_int_equal(resp->page_walk->pte, 0);
	resp = rq_walk(OWN(&c), 0, 0x7f0000000000UL);	/* nothing there */
	assert_int_equal(resp->page_walk->pud, 0);
	assert_int_equal(resp->page_walk->pmd, 0);
	assert_int_equal(resp->page_walk->pte, 0);
	{
		Aspace__PageWalkRequest m = ASPACE__PAGE_WALK_REQUEST__INIT;

		assert_int_equal(code_of(cl_op(&c, 0, ASPACE__REQUEST__OP_PAGE_WALK,
		    &m)), ASPACE__STATUS__CODE__BAD_REQUEST);
	}
	as_session_free(s);
	cl_close(&c);
}

static void counters_equal(const Aspace__CountersResult *r,
    const struct as_counters *k)
{
	assert_int_equal(r->minor_faults, k->minor_faults);
	assert_int_equal(r->zero_page_maps, k->zero_page_maps);
	assert_int_equal(r->cow_copies, k->cow_copies);
	assert_int_equal(r->wp_reuses, k->wp_reuses);
	assert_int_equal(r->fault_around_pages, k->fault_around_pages);
	assert_int_equal(r->stack_expansions, k->stack_expansions);
	assert_int_equal(r->sigsegv, k->sigsegv);
	assert_int_equal(r->sigbus, k->sigbus);
	assert_int_equal(r->vmacache_hits, k->vmacache_hits);
	assert_int_equal(r->vmacache_misses, k->vmacache_misses);
	assert_int_equal(r->oom, k->oom);
}

static void test_counters(void **state)
{
	struct as_counters k;
	struct as_session *s;
	struct task *t;
	Aspace__Response *resp;
	struct client c;
	int child;

	(void)state;
	s = local_session(&t);
	cl_open(&c);
	remote_session(&c);
	resp = rq_counters(OWN(&c), 0, false);
	assert_int_equal(code_of(resp), 0);
	as_session_counters(s, &k);
	counters_equal(resp->counters, &k);
	assert_int_equal(resp->counters->sigsegv, 1);
	assert_true(resp->counters->minor_faults >= 3);
	resp = rq_counters(OWN(&c), 1, true);
	counters_equal(resp->counters, &t->counters);
	/* A child's faults: its own, and in the session's sum. */
	child = do_clone(&c, 0, ASPACE__REQUEST__OP_FORK);
	assert_int_equal(code_of(rq_write(OWN(&c), child, BASE, "c", 1)), 0);
	resp = rq_counters(OWN(&c), child, true);
	assert_int_equal(resp->counters->cow_copies, 1);
	assert_int_equal(resp->counters->sigsegv, 0);
	resp = rq_counters(OWN(&c), 1, false);
	assert_int_equal(resp->counters->cow_copies, k.cow_copies + 1);
	assert_int_equal(resp->counters->sigsegv, 1);
	/* After the child exits its events stay with the session. */
	assert_int_equal(code_of(rq_simple(OWN(&c), child,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	assert_int_equal(code_of(rq_counters(OWN(&c), child, true)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	resp = rq_counters(OWN(&c), child, false);	/* no task needed */
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->counters->cow_copies, k.cow_copies + 1);
	as_session_free(s);
	cl_close(&c);
}

static void test_file_create(void **state)
{
	Aspace__Response *resp;
	uint64_t addr;
	struct client c;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "data.bin", 8192)), 0);
	resp = rq_mmap(OWN(&c), 0, 0, 8192, 0x3, 0x01, "data.bin");
	assert_int_equal(code_of(resp), 0);
	addr = resp->mmap->addr;
	assert_int_equal(code_of(rq_write(OWN(&c), 0, addr, "F", 1)), 0);
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 'F');
	/* Beyond the file's end (but within the mapping): SIGBUS. */
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "data.bin", 4096)), 0);
	resp = rq_read(OWN(&c), 0, addr + 4096, 1);
	assert_non_null(resp->read_bytes->fault);
	assert_int_equal(resp->read_bytes->fault->signal, 7);
	assert_string_equal(resp->read_bytes->fault->code_name, "BUS_ADRERR");
	resp = rq_read(OWN(&c), 0, addr, 1);	/* truncated and rewritten */
	assert_int_equal(code_of(resp), 0);
	assert_null(resp->read_bytes->fault);
	assert_true(is_errno(rq_mmap(OWN(&c), 0, 0, 4096, 0x1, 0x02, "nosuch"),
	    "EBADF", 9));
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "../x", 1)),
	    ASPACE__STATUS__CODE__BAD_REQUEST);
	{
		Aspace__FileCreateRequest m = ASPACE__FILE_CREATE_REQUEST__INIT;

		m.name = (char *)"y";
		assert_int_equal(code_of(cl_op(&c, 0,
		    ASPACE__REQUEST__OP_FILE_CREATE, &m)),
		    ASPACE__STATUS__CODE__BAD_REQUEST);
	}
	assert_true(is_errno(rq_file(OWN(&c), 0, "huge", 1UL << 40), "ENOSPC",
	    28));
	cl_close(&c);
}

/* check: OK with the mms (each once) and tasks counted. */
static void check_ok(struct client *c, uint32_t mms, uint32_t tasks)
{
	Aspace__Response *resp = rq_simple(OWN(c), 0,
	    ASPACE__REQUEST__OP_CHECK);

	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_CHECK);
	assert_true(resp->check->has_mms && resp->check->has_tasks);
	assert_int_equal(resp->check->mms, mms);
	assert_int_equal(resp->check->tasks, tasks);
}

static void test_check(void **state)
{
	Aspace__Response *resp;
	struct client c;
	int child, thr, vchild;

	(void)state;
	cl_open(&c);
	check_ok(&c, 1, 1);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 8 * 4096, PROT_RW,
	    MAP_PAF, NULL)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, "abcd", 4)), 0);
	child = do_clone(&c, 0, ASPACE__REQUEST__OP_FORK);
	thr = do_clone(&c, 0, ASPACE__REQUEST__OP_THREAD);
	check_ok(&c, 2, 3);		/* the thread shares task 1's mm */
	assert_int_equal(code_of(rq_write(OWN(&c), child, BASE, "x", 1)), 0);
	assert_int_equal(code_of(rq_write(OWN(&c), thr, BASE + 4096, "y", 1)),
	    0);
	check_ok(&c, 2, 3);
	/* A vfork child shares the mm; its parent is blocked, not check. */
	vchild = do_clone(&c, child, ASPACE__REQUEST__OP_VFORK);
	check_ok(&c, 2, 4);
	assert_int_equal(code_of(rq_exec(OWN(&c), vchild, "other")), 0);
	check_ok(&c, 3, 4);
	assert_int_equal(code_of(rq_simple(OWN(&c), child,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	check_ok(&c, 2, 3);
	/* Sessions: a bad id, and one destroyed. */
	c.sid[0] ^= 1;
	assert_int_equal(code_of(rq_simple(OWN(&c), 0,
	    ASPACE__REQUEST__OP_CHECK)), ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	c.sid[0] ^= 1;
	resp = rq_simple(OWN(&c), 0, ASPACE__REQUEST__OP_SESSION_DESTROY);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(code_of(rq_simple(OWN(&c), 0,
	    ASPACE__REQUEST__OP_CHECK)), ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	cl_close(&c);
}

/* --- msync and System V shared memory --------------------------------- */

static Aspace__Response *rq_msync(struct client *c, int task, bool all,
    uint64_t addr, uint64_t len, uint32_t flags)
{
	Aspace__MsyncRequest m = ASPACE__MSYNC_REQUEST__INIT;

	m.has_addr = true;
	m.addr = addr;
	m.has_length = all;
	m.length = len;
	m.has_flags = true;
	m.flags = flags;
	return cl_op(c, task, ASPACE__REQUEST__OP_MSYNC, &m);
}

static Aspace__Response *rq_shmget(struct client *c, const char *name,
    bool has_size, uint64_t size)
{
	Aspace__ShmgetRequest m = ASPACE__SHMGET_REQUEST__INIT;

	m.name = (char *)name;
	m.has_size = has_size;
	m.size = size;
	return cl_op(c, 0, ASPACE__REQUEST__OP_SHMGET, &m);
}

static Aspace__Response *rq_shmat(struct client *c, int task,
    const char *name, uint64_t addr, bool has_flags, uint32_t flags)
{
	Aspace__ShmatRequest m = ASPACE__SHMAT_REQUEST__INIT;

	m.name = (char *)name;
	m.has_addr = addr != 0;
	m.addr = addr;
	m.has_flags = has_flags;
	m.flags = flags;
	return cl_op(c, task, ASPACE__REQUEST__OP_SHMAT, &m);
}

static Aspace__Response *rq_shmdt(struct client *c, int task, bool has,
    uint64_t addr)
{
	Aspace__ShmdtRequest m = ASPACE__SHMDT_REQUEST__INIT;

	m.has_addr = has;
	m.addr = addr;
	return cl_op(c, task, ASPACE__REQUEST__OP_SHMDT, &m);
}

static Aspace__Response *rq_shmrm(struct client *c, const char *name)
{
	Aspace__ShmrmRequest m = ASPACE__SHMRM_REQUEST__INIT;

	m.name = (char *)name;
	return cl_op(c, 0, ASPACE__REQUEST__OP_SHMRM, &m);
}

/* The status message of a BAD_REQUEST answer names field. */
static void bad_field(const Aspace__Response *r, const char *field)
{
	assert_int_equal(code_of(r), ASPACE__STATUS__CODE__BAD_REQUEST);
	assert_non_null(r->status->message);
	assert_non_null(strstr(r->status->message, field));
}

/* The smaps text of the VMA at addr contains line. */
static void smaps_has(struct client *c, uint64_t addr, const char *line)
{
	Aspace__Response *resp = rq_smaps(OWN(c), 0, addr, 4096);

	assert_int_equal(code_of(resp), 0);
	assert_non_null(resp->smaps->text);
	if (strstr(resp->smaps->text, line) == NULL)
		fail_msg("no \"%s\" in\n%s", line, resp->smaps->text);
}

static void test_msync(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t addr;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_file(OWN(&c), 0, "db", 8192)), 0);
	/* MAP_SHARED | MAP_FIXED at BASE, nothing above it */
	resp = rq_mmap(OWN(&c), 0, BASE, 8192, PROT_RW, 0x11, "db");
	assert_int_equal(code_of(resp), 0);
	addr = resp->mmap->addr;
	assert_int_equal(code_of(rq_write(OWN(&c), 0, addr, "d", 1)), 0);
	/* One mapper: the page counts as private (mapcount 1). */
	smaps_has(&c, addr, "  Private_Dirty: 4 kB\n");
	/* MS_ASYNC writes nothing back; MS_SYNC cleans the page. */
	assert_int_equal(code_of(rq_msync(&c, 0, true, addr, 8192, 1)), 0);
	smaps_has(&c, addr, "  Private_Dirty: 4 kB\n");
	assert_int_equal(code_of(rq_msync(&c, 0, true, addr, 8192, 4)), 0);
	smaps_has(&c, addr, "  Private_Clean: 4 kB\n");
	smaps_has(&c, addr, "  Private_Dirty: 0 kB\n");
	/* Errors as Linux's: unaligned, both ASYNC and SYNC, a hole. */
	assert_true(is_errno(rq_msync(&c, 0, true, addr + 1, 4096, 4),
	    "EINVAL", 22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr, 4096, 5), "EINVAL",
	    22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr, 4096, 0x80), "EINVAL",
	    22));
	assert_true(is_errno(rq_msync(&c, 0, true, addr + 8192, 4096, 4),
	    "ENOMEM", 12));
	bad_field(rq_msync(&c, 0, false, addr, 0, 4), "length");
	assert_int_equal(code_of(rq_msync(&c, 9, true, addr, 4096, 4)),
	    ASPACE__STATUS__CODE__NO_SUCH_TASK);
	cl_close(&c);
}

static void test_shm(void **state)
{
	Aspace__Response *resp;
	struct client c;
	uint64_t addr, ro;
	int child;

	(void)state;
	cl_open(&c);
	/* shmget: a new NAME; used twice, EEXIST; a bad size, EINVAL. */
	assert_int_equal(code_of(rq_shmget(&c, "seg", true, 8192)), 0);
	assert_true(is_errno(rq_shmget(&c, "seg", true, 4096), "EEXIST", 17));
	assert_true(is_errno(rq_shmget(&c, "zero", true, 0), "EINVAL", 22));
	bad_field(rq_shmget(&c, NULL, true, 4096), "name");
	bad_field(rq_shmget(&c, "a/b", true, 4096), "name");
	bad_field(rq_shmget(&c, "..", true, 4096), "name");
	bad_field(rq_shmget(&c, "ok", false, 0), "size");
	/* shmat: the kernel's address; the bytes shared with a fork child. */
	resp = rq_shmat(&c, 0, "seg", 0, true, 0);
	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_SHMAT);
	addr = resp->shmat->addr;
	assert_true(addr != 0 && addr % 4096 == 0);
	assert_int_equal(code_of(rq_write(OWN(&c), 0, addr + 10, "sh", 2)), 0);
	child = do_clone(&c, 0, ASPACE__REQUEST__OP_FORK);
	resp = rq_read(OWN(&c), child, addr + 10, 2);
	assert_int_equal(code_of(resp), 0);
	assert_memory_equal(resp->read_bytes->data.data, "sh", 2);
	assert_int_equal(code_of(rq_write(OWN(&c), child, addr, "C", 1)), 0);
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_int_equal(resp->read_bytes->data.data[0], 'C');
	check_ok(&c, 2, 2);
	assert_true(is_errno(rq_shmat(&c, 0, "nosuch", 0, true, 0), "EINVAL",
	    22));
	assert_true(is_errno(rq_shmat(&c, 0, "seg", addr + 1, true, 0),
	    "EINVAL", 22));
	bad_field(rq_shmat(&c, 0, "seg", 0, false, 0), "flags");
	bad_field(rq_shmat(&c, 0, "", 0, true, 0), "name");
	/* SHM_RDONLY: a write faults. */
	resp = rq_shmat(&c, 0, "seg", 0, true, 010000);
	assert_int_equal(code_of(resp), 0);
	ro = resp->shmat->addr;
	resp = rq_write(OWN(&c), 0, ro, "x", 1);
	assert_non_null(resp->write_bytes->fault);
	/* shmrm while attached: SHM_DEST, the segment lives on (and may
	 * be removed again, as Linux's IPC_RMID); detached, it is gone. */
	assert_int_equal(code_of(rq_shmrm(&c, "seg")), 0);
	assert_int_equal(code_of(rq_shmrm(&c, "seg")), 0);
	assert_true(is_errno(rq_shmrm(&c, "nosuch"), "EINVAL", 22));
	bad_field(rq_shmrm(&c, NULL), "name");
	resp = rq_read(OWN(&c), child, addr + 10, 2);
	assert_memory_equal(resp->read_bytes->data.data, "sh", 2);
	/* shmdt: the attachment goes; a second time, EINVAL. */
	assert_int_equal(code_of(rq_shmdt(&c, 0, true, addr)), 0);
	assert_true(is_errno(rq_shmdt(&c, 0, true, addr), "EINVAL", 22));
	assert_true(is_errno(rq_shmdt(&c, 0, true, addr + 1), "EINVAL", 22));
	bad_field(rq_shmdt(&c, 0, false, 0), "addr");
	resp = rq_read(OWN(&c), 0, addr, 1);
	assert_non_null(resp->read_bytes->fault);
	check_ok(&c, 2, 2);
	assert_int_equal(code_of(rq_shmdt(&c, 0, true, ro)), 0);
	assert_int_equal(code_of(rq_simple(OWN(&c), child,
	    ASPACE__REQUEST__OP_EXIT)), 0);
	assert_true(is_errno(rq_shmat(&c, 0, "seg", 0, true, 0), "EINVAL",
	    22));
	cl_close(&c);
}

/* madvise takes the new advices; pageout with swap is UNIMPLEMENTED. */
static void test_madvise_advices(void **state)
{
	static const int advices[] = { 8, 20, 21, 22, 23, 18, 19 };
	Aspace__Response *resp;
	struct client c;
	size_t i;

	(void)state;
	cl_open(&c);
	assert_int_equal(code_of(rq_mmap(OWN(&c), 0, BASE, 4 * 4096, PROT_RW,
	    MAP_PAF, NULL)), 0);
	for (i = 0; i < sizeof(advices) / sizeof(advices[0]); i++) {
		assert_int_equal(code_of(rq_write(OWN(&c), 0, BASE, "a", 1)),
		    0);
		resp = rq_madvise(OWN(&c), 0, BASE, 4 * 4096, advices[i]);
		if (code_of(resp) != 0)
			fail_msg("advice %d: code %d", advices[i],
			    code_of(resp));
	}
	/* remove needs a shared writable mapping: EINVAL on private. */
	assert_true(is_errno(rq_madvise(OWN(&c), 0, BASE, 4096, 9), "EINVAL",
	    22));
	cl_close(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mprotect),
		cmocka_unit_test(test_mremap_madvise),
		cmocka_unit_test(test_mlock_brk),
		cmocka_unit_test(test_rw_bytes),
		cmocka_unit_test(test_thread_vfork_exec),
		cmocka_unit_test(test_smaps),
		cmocka_unit_test(test_smaps_over_cap),
		cmocka_unit_test(test_maps_max_map_count),
		cmocka_unit_test(test_proc_status),
		cmocka_unit_test(test_page_walk),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_file_create),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_msync),
		cmocka_unit_test(test_shm),
		cmocka_unit_test(test_madvise_advices),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	if (daemon_path == NULL) {
		fprintf(stderr, "test_daemon_ops: set ASPACED or pass the path\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

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
 *
 * Here the helpers and the mapping ops' tests; proc_status, page_walk,
 * counters, file_create and check in test_daemon_ops-report.c; msync and
 * System V shared memory in test_daemon_ops-shm.c (test_daemon_ops.h).
 */
#include "test_daemon_ops.h"

static const char *daemon_path;
static struct hdaemon dmn;

/* Connect, hello and a fresh session with default parameters. */
void cl_open(struct client *c)
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
int do_clone(struct client *c, int task, Aspace__Request__OpCase opc)
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

Aspace__ProcStatusResult *status_of(struct client *c, int task)
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

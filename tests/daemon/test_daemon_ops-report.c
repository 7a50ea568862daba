/*
 * test_daemon_ops-report.c: test_daemon_ops's tests of what the daemon
 * reports about a session (test_daemon_ops.c's top comment):
 * proc_status and counters against the same operations run on the
 * embedded core, page_walk, file_create, and the check op.
 */
#include "test_daemon_ops.h"

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

void test_proc_status(void **state)
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

void test_page_walk(void **state)
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

void test_counters(void **state)
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

void test_file_create(void **state)
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
void check_ok(struct client *c, uint32_t mms, uint32_t tasks)
{
	Aspace__Response *resp = rq_simple(OWN(c), 0,
	    ASPACE__REQUEST__OP_CHECK);

	assert_int_equal(code_of(resp), 0);
	assert_int_equal(resp->result_case, ASPACE__RESPONSE__RESULT_CHECK);
	assert_true(resp->check->has_mms && resp->check->has_tasks);
	assert_int_equal(resp->check->mms, mms);
	assert_int_equal(resp->check->tasks, tasks);
}

void test_check(void **state)
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

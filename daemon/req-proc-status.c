/*
 * req-proc-status.c: proc_status (docs/protocol.md, section 9): the
 * memory lines of /proc/PID/status as task_mem() (fs/proc/task_mmu.c)
 * computes them from the mm: total_vm, locked_vm, data_vm, stack_vm,
 * exec_vm (split into VmExe and VmLib by the code's extent) and the
 * page-table pages; the resident pages and swap entries are counted by
 * walking the page tables (mm_rss_count(): the mm counters Linux keeps,
 * MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES and MM_SWAPENTS, VmSwap).
 * The simulator keeps no high-water marks, so VmPeak and VmHWM are
 * absent; it pins nothing, so VmPin is 0.  Under the mm's mmap_lock
 * (read); walk_page_range() takes page_table_lock.
 */
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "req.h"

/* The figures in kB; the mm is read-locked.  Faults add page tables
 * meanwhile, under page_table_lock: their count is read under it. */
static void fill_figures(Aspace__ProcStatusResult *p, struct mm *mm)
{
	unsigned long text, exec = mm->exec_vm << AS_PAGE_SHIFT, ptes;
	struct mm_rss_stat r;

	mm_rss_count(mm, &r);
	pthread_mutex_lock(&mm->page_table_lock);
	ptes = mm->nr_pgtables;
	pthread_mutex_unlock(&mm->page_table_lock);
	text = ((mm->end_code + AS_PAGE_SIZE - 1) & ~(AS_PAGE_SIZE - 1)) -
	    (mm->start_code & ~(AS_PAGE_SIZE - 1));
	if (text > exec)
		text = exec;
	p->has_vm_size = p->has_vm_lck = p->has_vm_pin = p->has_vm_rss = true;
	p->has_rss_anon = p->has_rss_file = p->has_rss_shmem = true;
	p->has_vm_data = p->has_vm_stk = p->has_vm_exe = p->has_vm_lib = true;
	p->has_vm_pte = p->has_vm_swap = true;
	p->vm_size = mm->total_vm << (AS_PAGE_SHIFT - 10);
	p->vm_lck = mm->locked_vm << (AS_PAGE_SHIFT - 10);
	p->rss_anon = r.anon << (AS_PAGE_SHIFT - 10);
	p->rss_file = r.file << (AS_PAGE_SHIFT - 10);
	p->rss_shmem = r.shmem << (AS_PAGE_SHIFT - 10);
	p->vm_rss = p->rss_anon + p->rss_file + p->rss_shmem;
	p->vm_data = mm->data_vm << (AS_PAGE_SHIFT - 10);
	p->vm_stk = mm->stack_vm << (AS_PAGE_SHIFT - 10);
	p->vm_exe = text >> 10;
	p->vm_lib = (exec - text) >> 10;
	p->vm_pte = (ptes << AS_PAGE_SHIFT) >> 10;
	p->vm_swap = r.swapents << (AS_PAGE_SHIFT - 10);
}

/* The lines as Linux prints them: "VmSize:\t    2200 kB". */
static void status_text(struct as_buf *b, const Aspace__ProcStatusResult *p)
{
	const struct {
		const char	*name;
		uint64_t	 kb;
	} l[] = {
		{ "VmSize", p->vm_size }, { "VmLck", p->vm_lck },
		{ "VmPin", p->vm_pin }, { "VmRSS", p->vm_rss },
		{ "RssAnon", p->rss_anon }, { "RssFile", p->rss_file },
		{ "RssShmem", p->rss_shmem }, { "VmData", p->vm_data },
		{ "VmStk", p->vm_stk }, { "VmExe", p->vm_exe },
		{ "VmLib", p->vm_lib }, { "VmPTE", p->vm_pte },
		{ "VmSwap", p->vm_swap },
	};
	size_t i;

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		as_buf_printf(b, "%s:\t%8llu kB\n", l[i].name,
		    (unsigned long long)l[i].kb);
}

/* The tasks of t's thread group. */
static unsigned int nr_threads(struct as_session *s, const struct task *t)
{
	unsigned int n = 0;
	struct task *u;

	pthread_mutex_lock(&s->lock);
	for (u = s->tasks; u != NULL; u = u->next)
		n += u->tgid == t->tgid;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void do_proc_status_req(struct req_ctx *c)
{
	Aspace__ProcStatusResult *p = req_alloc(c, sizeof(*p));
	struct mm *mm = c->task->mm;

	if (p == NULL)
		return;
	aspace__proc_status_result__init(p);
	p->has_pid = p->has_tgid = p->has_threads = true;
	p->pid = c->task->pid;
	p->tgid = c->task->tgid;
	p->threads = nr_threads(c->ds->s, c->task);
	mmap_read_lock(mm);
	fill_figures(p, mm);
	mmap_read_unlock(mm);
	as_buf_init(&c->buf, 4096);
	status_text(&c->buf, p);
	if (c->buf.overflow) {
		req_status(c, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
		return;
	}
	p->text = (char *)as_buf_str(&c->buf);
	c->resp->result_case = ASPACE__RESPONSE__RESULT_PROC_STATUS;
	c->resp->proc_status = p;
}

const struct request_entry req_proc_status_entry = {
	.op = ASPACE__REQUEST__OP_PROC_STATUS,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_proc_status_req,
};

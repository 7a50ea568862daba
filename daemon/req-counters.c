/*
 * req-counters.c: counters (docs/protocol.md, section 9): the session's
 * event counters (its own plus every task's, as_session_counters()), or
 * with task_only the request's task's.  A task's counters are plain
 * fields its own requests bump under its task lock, so the session is
 * locked exclusively to read them all without a race.  The session's
 * figures need no task (task 1 may have exited); task_only needs one.
 * pswpout is counted where madvise pages out, which has no task: it is
 * the session's own, 0 in a task's figures.
 */
#include "req.h"

static void counters_msg(Aspace__CountersResult *r,
    const struct as_counters *k)
{
	aspace__counters_result__init(r);
	r->has_minor_faults = r->has_zero_page_maps = r->has_cow_copies = true;
	r->has_wp_reuses = r->has_fault_around_pages = true;
	r->has_stack_expansions = r->has_sigsegv = r->has_sigbus = true;
	r->has_vmacache_hits = r->has_vmacache_misses = r->has_oom = true;
	r->has_major_faults = r->has_pswpin = r->has_pswpout = true;
	r->minor_faults = k->minor_faults;
	r->zero_page_maps = k->zero_page_maps;
	r->cow_copies = k->cow_copies;
	r->wp_reuses = k->wp_reuses;
	r->fault_around_pages = k->fault_around_pages;
	r->stack_expansions = k->stack_expansions;
	r->sigsegv = k->sigsegv;
	r->sigbus = k->sigbus;
	r->vmacache_hits = k->vmacache_hits;
	r->vmacache_misses = k->vmacache_misses;
	r->oom = k->oom;
	r->major_faults = k->major_faults;
	r->pswpin = k->pswpin;
	r->pswpout = k->pswpout;
}

/* Request.task for task_only, or NULL with the status set. */
static struct task *counters_task(struct req_ctx *c)
{
	int pid = c->req->has_task ? c->req->task : 1;
	struct task *t = pid > 0 ? as_task_lookup(c->ds->s, pid) : NULL;

	if (t == NULL)
		req_status(c, ASPACE__STATUS__CODE__NO_SUCH_TASK, "no such task");
	else if (t->vfork_blocked) {
		req_status(c, ASPACE__STATUS__CODE__BLOCKED,
		    "the task waits for its vfork child");
		t = NULL;
	}
	return t;
}

static void do_counters_req(struct req_ctx *c)
{
	Aspace__CountersResult *r = req_alloc(c, sizeof(*r));
	struct as_counters k;
	struct task *t;

	if (r == NULL)
		return;
	if (c->req->counters->task_only) {
		if ((t = counters_task(c)) == NULL)
			return;
		k = t->counters;
	} else
		as_session_counters(c->ds->s, &k);
	counters_msg(r, &k);
	c->resp->result_case = ASPACE__RESPONSE__RESULT_COUNTERS;
	c->resp->counters = r;
}

const struct request_entry req_counters_entry = {
	.op = ASPACE__REQUEST__OP_COUNTERS,
	.mode = LOCK_SESSION_WRITE,
	.flags = 0,
	.handler = do_counters_req,
};

/*
 * req-thread.c: thread (docs/protocol.md, section 8) through as_clone()
 * with the parent's mm shared: the new task's id back.  As for fork, the
 * session is shared (READ): as_clone() takes the mm's mmap_lock and the
 * session's task-list lock, and no task goes away.
 */
#include "req.h"

static struct task *thread_task(struct req_ctx *c, int *err)
{
	return as_clone(c->ds->s, c->task, true, err);
}

static void do_thread_req(struct req_ctx *c)
{
	Aspace__TaskResult *r = req_task_result(c, thread_task);

	if (r == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_THREAD;
	c->resp->thread = r;
}

const struct request_entry req_thread_entry = {
	.op = ASPACE__REQUEST__OP_THREAD,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_thread_req,
};

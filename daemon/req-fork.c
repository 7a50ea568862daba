/*
 * req-fork.c: fork (docs/protocol.md, section 8) through as_clone():
 * the child's id back.  The session is shared (READ): as_clone() takes
 * the parent's and child's mmap_locks and the session's task-list lock.
 */
#include "req.h"

static struct task *fork_task(struct req_ctx *c, int *err)
{
	return as_clone(c->ds->s, c->task, false, err);
}

static void do_fork_req(struct req_ctx *c)
{
	Aspace__TaskResult *r = req_task_result(c, fork_task);

	if (r == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_FORK;
	c->resp->fork = r;
}

const struct request_entry req_fork_entry = {
	.op = ASPACE__REQUEST__OP_FORK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_fork_req,
};

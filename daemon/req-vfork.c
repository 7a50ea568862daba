/*
 * req-vfork.c: vfork (docs/protocol.md, section 8) through as_vfork():
 * the child's id back.  The parent is then blocked until the child execs
 * or exits; req_dispatch() answers BLOCKED for it meanwhile.  The session
 * is shared (READ), as for fork: as_vfork() is as_clone() plus the
 * atomic blocked flag, set here while we hold the parent's task lock.
 */
#include "req.h"

static struct task *vfork_task(struct req_ctx *c, int *err)
{
	return as_vfork(c->ds->s, c->task, err);
}

static void do_vfork_req(struct req_ctx *c)
{
	Aspace__TaskResult *r = req_task_result(c, vfork_task);

	if (r == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_VFORK;
	c->resp->vfork = r;
}

const struct request_entry req_vfork_entry = {
	.op = ASPACE__REQUEST__OP_VFORK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_vfork_req,
};

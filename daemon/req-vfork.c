/*
 * req-vfork.c: vfork (docs/protocol.md, section 8) through as_vfork():
 * the child's id back.  The parent is then blocked until the child execs
 * or exits; req_dispatch() answers BLOCKED for it meanwhile.  The session
 * is shared (READ), as for fork: as_vfork() is as_clone() plus the
 * atomic blocked flag, set here while we hold the parent's task lock.
 */
#include "req.h"

static void do_vfork_req(struct req_ctx *c)
{
	Aspace__TaskResult *r = req_alloc(c, sizeof(*r));
	struct task *t;
	int err = 0;

	if (r == NULL)
		return;
	if ((t = as_vfork(c->ds->s, c->task, &err)) == NULL) {
		req_errno(c, err);
		return;
	}
	aspace__task_result__init(r);
	r->has_task = true;
	r->task = t->pid;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_VFORK;
	c->resp->vfork = r;
}

const struct request_entry req_vfork_entry = {
	.op = ASPACE__REQUEST__OP_VFORK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_vfork_req,
};

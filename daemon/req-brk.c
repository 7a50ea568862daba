/*
 * req-brk.c: brk (docs/protocol.md, section 6) as sys_brk() in the
 * request's task, under the mm's mmap_lock (taken by the core).  An
 * absent addr is 0, which asks for the break; brk never fails, so the
 * answer is always the break after the call.
 */
#include "mm.h"
#include "req.h"

static void do_brk_req(struct req_ctx *c)
{
	const Aspace__BrkRequest *m = c->req->brk;
	Aspace__AddrResult *r = req_alloc(c, sizeof(*r));

	if (r == NULL)
		return;
	aspace__addr_result__init(r);
	r->has_addr = true;
	r->addr = sys_brk(c->task->mm, m->has_addr ? m->addr : 0);
	c->resp->result_case = ASPACE__RESPONSE__RESULT_BRK;
	c->resp->brk = r;
}

const struct request_entry req_brk_entry = {
	.op = ASPACE__REQUEST__OP_BRK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_brk_req,
};

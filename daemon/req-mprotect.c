/*
 * req-mprotect.c: mprotect (docs/protocol.md, section 6) as
 * sys_mprotect() in the request's task, under the mm's mmap_lock (taken
 * by the core).
 */
#include "mm.h"
#include "req.h"

static void do_mprotect_req(struct req_ctx *c)
{
	const Aspace__MprotectRequest *m = c->req->mprotect;
	int err;

	if (!m->has_addr || !m->has_length || !m->has_prot) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "mprotect: addr, length and prot needed");
		return;
	}
	if ((err = sys_mprotect(c->task->mm, m->addr, m->length,
	    m->prot)) != 0)
		req_errno(c, err);
}

const struct request_entry req_mprotect_entry = {
	.op = ASPACE__REQUEST__OP_MPROTECT,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_mprotect_req,
};

/*
 * req-madvise.c: madvise (docs/protocol.md, section 6) as sys_madvise()
 * in the request's task, under the mm's mmap_lock (taken by the core).
 * The advice takes Linux's MADV_* numbers, any of them: sys_madvise()
 * answers EINVAL for one it does not know, as Linux.
 */
#include "mm.h"
#include "req.h"

static void do_madvise_req(struct req_ctx *c)
{
	const Aspace__MadviseRequest *m = c->req->madvise;
	int err;

	if (!m->has_addr || !m->has_length || !m->has_advice) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "madvise: addr, length and advice needed");
		return;
	}
	if ((err = sys_madvise(c->task->mm, m->addr, m->length,
	    m->advice)) != 0)
		req_errno(c, err);
}

const struct request_entry req_madvise_entry = {
	.op = ASPACE__REQUEST__OP_MADVISE,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_madvise_req,
};

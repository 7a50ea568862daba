/*
 * req-mlock.c: mlock (docs/protocol.md, section 6) as sys_mlock() in the
 * request's task, under the mm's mmap_lock (taken by the core).
 */
#include "mm.h"
#include "req.h"

static void do_mlock_req(struct req_ctx *c)
{
	const Aspace__MlockRequest *m = c->req->mlock;
	int err;

	if (!m->has_addr || !m->has_length) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "mlock: addr and length needed");
		return;
	}
	if ((err = sys_mlock(c->task->mm, m->addr, m->length)) != 0)
		req_errno(c, err);
}

const struct request_entry req_mlock_entry = {
	.op = ASPACE__REQUEST__OP_MLOCK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_mlock_req,
};

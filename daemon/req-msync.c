/*
 * req-msync.c: msync (docs/protocol.md, section 6) as sys_msync() in the
 * request's task; sys_msync() takes the mm's mmap_lock itself (and drops
 * it for the writeback, as Linux does).  The flags take Linux's MS_*
 * numbers; sys_msync() refuses others with EINVAL, as Linux.
 */
#include "mm.h"
#include "req.h"

static void do_msync_req(struct req_ctx *c)
{
	const Aspace__MsyncRequest *m = c->req->msync;
	int err;

	if (!m->has_addr || !m->has_length || !m->has_flags) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "msync: addr, length and flags needed");
		return;
	}
	if ((err = sys_msync(c->task->mm, m->addr, m->length,
	    (int)m->flags)) != 0)
		req_errno(c, err);
}

const struct request_entry req_msync_entry = {
	.op = ASPACE__REQUEST__OP_MSYNC,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_msync_req,
};

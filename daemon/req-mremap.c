/*
 * req-mremap.c: mremap (docs/protocol.md, section 6) as sys_mremap() in
 * the request's task, under the mm's mmap_lock (taken by the core): the
 * mapping's address after the call back.  flags and new_addr default
 * to 0.
 */
#include "mm.h"
#include "req.h"

static void do_mremap_req(struct req_ctx *c)
{
	const Aspace__MremapRequest *m = c->req->mremap;
	Aspace__AddrResult *r;
	unsigned long ret;

	if (!m->has_addr || !m->has_old_length || !m->has_new_length) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "mremap: addr, old_length and new_length needed");
		return;
	}
	ret = sys_mremap(c->task->mm, m->addr, m->old_length, m->new_length,
	    m->flags, m->new_addr);
	if ((r = req_addr_result(c, ret)) == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_MREMAP;
	c->resp->mremap = r;
}

const struct request_entry req_mremap_entry = {
	.op = ASPACE__REQUEST__OP_MREMAP,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_mremap_req,
};

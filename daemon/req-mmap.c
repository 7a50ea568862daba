/*
 * req-mmap.c: mmap (docs/protocol.md, section 6) as sys_mmap() in the
 * request's task; the core takes the mm's mmap_lock.  A file is named by
 * its file_create (or trace "file") name.
 */
#include "mm.h"
#include "req.h"

static void do_mmap_req(struct req_ctx *c)
{
	const Aspace__MmapRequest *m = c->req->mmap;
	struct as_file *f = NULL;
	Aspace__AddrResult *r;
	unsigned long ret;

	if (!m->has_length || !m->has_prot || !m->has_flags) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "mmap: length, prot and flags needed");
		return;
	}
	if (m->file != NULL)
		f = as_file_lookup(c->ds->s, m->file);
	ret = sys_mmap(c->task->mm, m->addr, m->length, m->prot, m->flags, f,
	    f != NULL, m->offset);
	if ((r = req_addr_result(c, ret)) == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_MMAP;
	c->resp->mmap = r;
}

const struct request_entry req_mmap_entry = {
	.op = ASPACE__REQUEST__OP_MMAP,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_mmap_req,
};

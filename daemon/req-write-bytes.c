/*
 * req-write-bytes.c: write_bytes (docs/protocol.md, section 7): up to
 * max_rw_bytes stores by the request's task, one byte at a time through
 * as_access() as the trace's write makes them.  The first fault ends the
 * run: written counts the bytes stored before it, fault says where.
 */
#include <string.h>

#include "fault.h"
#include "req.h"

/* Store len bytes of data at addr; the count stored, *a the fault. */
static size_t store_bytes(struct task *t, unsigned long addr,
    const uint8_t *data, size_t len, struct access_result *a)
{
	size_t i;

	for (i = 0; i < len; i++) {
		memset(a, 0, sizeof(*a));
		a->store = true;
		a->value = data[i];
		if (as_access(t, addr + i, AS_WRITE, a) != 0)
			break;
	}
	return i;
}

static void do_write_bytes_req(struct req_ctx *c)
{
	const Aspace__WriteBytesRequest *m = c->req->write_bytes;
	Aspace__WriteBytesResult *r;
	struct access_result a;
	size_t n;

	if (!m->has_addr || !m->has_data) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "write_bytes: addr and data needed");
		return;
	}
	if (m->data.len > FRAME_MAX_RW_BYTES) {
		req_status(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "write_bytes: data over max_rw_bytes");
		return;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL)
		return;
	aspace__write_bytes_result__init(r);
	n = store_bytes(c->task, m->addr, m->data.data, m->data.len, &a);
	if (n < m->data.len)
		r->fault = req_fault(c, m->addr + n, &a);
	r->has_written = true;
	r->written = (uint32_t)n;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_WRITE_BYTES;
	c->resp->write_bytes = r;
}

const struct request_entry req_write_bytes_entry = {
	.op = ASPACE__REQUEST__OP_WRITE_BYTES,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_write_bytes_req,
};

/*
 * req-read-bytes.c: read_bytes (docs/protocol.md, section 7): up to
 * max_rw_bytes loads by the request's task, one byte at a time through
 * as_access() as the trace's read makes them, so faults, counters and
 * signals are those of a trace.  The first fault ends the run: data holds
 * the bytes loaded before it and fault says where (addr + data's length).
 */
#include <string.h>

#include "fault.h"
#include "req.h"

/* Load len bytes from addr into data; the count loaded, *a the fault. */
static size_t load_bytes(struct task *t, unsigned long addr, uint8_t *data,
    size_t len, struct access_result *a)
{
	size_t i;

	for (i = 0; i < len; i++) {
		memset(a, 0, sizeof(*a));
		if (as_access(t, addr + i, AS_READ, a) != 0)
			break;
		data[i] = a->value;
	}
	return i;
}

static void do_read_bytes_req(struct req_ctx *c)
{
	const Aspace__ReadBytesRequest *m = c->req->read_bytes;
	Aspace__ReadBytesResult *r;
	struct access_result a;
	uint8_t *data;
	size_t n;

	if (!m->has_addr || !m->has_length) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "read_bytes: addr and length needed");
		return;
	}
	if (m->length > FRAME_MAX_RW_BYTES) {
		req_status(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "read_bytes: length over max_rw_bytes");
		return;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL ||
	    (data = req_alloc(c, m->length + 1)) == NULL)
		return;
	aspace__read_bytes_result__init(r);
	n = load_bytes(c->task, m->addr, data, m->length, &a);
	if (n < m->length)
		r->fault = req_fault(c, m->addr + n, &a);
	r->has_data = true;
	r->data.data = data;
	r->data.len = n;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_READ_BYTES;
	c->resp->read_bytes = r;
}

const struct request_entry req_read_bytes_entry = {
	.op = ASPACE__REQUEST__OP_READ_BYTES,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_read_bytes_req,
};

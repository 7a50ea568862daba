/*
 * req-access.c: access (docs/protocol.md, section 7): one load, store or
 * instruction fetch by the request's task through as_access(), with the
 * fault's explain record when asked (the default).  A fault is a result,
 * not an error.
 */
#include <string.h>

#include "fault.h"
#include "req.h"

/* Check the fields; the kind, or -1 with the status set. */
static int access_kind(struct req_ctx *c, const Aspace__AccessRequest *m)
{
	if (!m->has_addr) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "access: addr needed");
		return -1;
	}
	if (m->kind < 0 || m->kind > ASPACE__ACCESS_KIND__ACCESS_EXEC ||
	    (m->has_value && m->value > 255)) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "access: kind 0-2, value 0-255");
		return -1;
	}
	return m->kind == ASPACE__ACCESS_KIND__ACCESS_WRITE ? AS_WRITE :
	    m->kind == ASPACE__ACCESS_KIND__ACCESS_EXEC ? AS_EXEC : AS_READ;
}

static void do_access_req(struct req_ctx *c)
{
	const Aspace__AccessRequest *m = c->req->access;
	struct access_result a;
	Aspace__AccessResult *r;
	int kind = access_kind(c, m);

	if (kind < 0 || (r = req_alloc(c, sizeof(*r))) == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.explain.on = m->explain ? 1 : 0;
	a.store = kind == AS_WRITE && m->has_value;
	a.value = (uint8_t)m->value;
	aspace__access_result__init(r);
	if (as_access(c->task, m->addr, (enum as_access)kind, &a) != 0) {
		r->fault = req_fault(c, m->addr, &a);
	} else if (kind == AS_READ || a.store) {
		r->has_value = true;
		r->value = a.value;
	}
	if (a.explain.len > 0)
		r->explain = req_strdup(c, a.explain.text, a.explain.len);
	c->resp->result_case = ASPACE__RESPONSE__RESULT_ACCESS;
	c->resp->access = r;
}

const struct request_entry req_access_entry = {
	.op = ASPACE__REQUEST__OP_ACCESS,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_access_req,
};

/*
 * req-exit.c: exit (docs/protocol.md, section 8) through as_exit().  The
 * task is freed, so the session is locked exclusively: no other request
 * of the session holds a pointer to it.
 */
#include "req.h"

static void do_exit_req(struct req_ctx *c)
{
	as_exit(c->ds->s, c->task);
	c->task = NULL;
}

const struct request_entry req_exit_entry = {
	.op = ASPACE__REQUEST__OP_EXIT,
	.mode = LOCK_SESSION_WRITE,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_exit_req,
};

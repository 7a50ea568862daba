/*
 * req-session-destroy.c: session_destroy (docs/protocol.md, section 5).
 * Runs with the session locked exclusively, so requests already running
 * in it finish first; later ones find it dead: NO_SUCH_SESSION.
 */
#include "req.h"

static void do_session_destroy_req(struct req_ctx *c)
{
	stable_remove(server_sessions(c->srv), c->ds);
}

const struct request_entry req_session_destroy_entry = {
	.op = ASPACE__REQUEST__OP_SESSION_DESTROY,
	.mode = LOCK_SESSION_WRITE,
	.flags = 0,
	.handler = do_session_destroy_req,
};

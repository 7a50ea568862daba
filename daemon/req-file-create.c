/*
 * req-file-create.c: file_create (docs/protocol.md, section 5) through
 * as_file_create(): a new regular file in the session, or an existing one
 * truncated and rewritten, as the trace's file command.  Rewriting unmaps
 * the file's pages from every mm of the session, so the session is
 * locked exclusively.  No task is needed.
 */
#include "req.h"

static void do_file_create_req(struct req_ctx *c)
{
	const Aspace__FileCreateRequest *m = c->req->file_create;
	int err;

	if (m->name == NULL || !m->has_size) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "file_create: name and size needed");
		return;
	}
	if (!req_image_name_ok(m->name)) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "file_create: name: 1-63 of [A-Za-z0-9._-]");
		return;
	}
	if ((err = as_file_create(c->ds->s, m->name, m->size)) != 0)
		req_errno(c, err);
}

const struct request_entry req_file_create_entry = {
	.op = ASPACE__REQUEST__OP_FILE_CREATE,
	.mode = LOCK_SESSION_WRITE,
	.flags = 0,
	.handler = do_file_create_req,
};

/*
 * req-exec.c: exec (docs/protocol.md, section 8) through as_exec(): the
 * task runs a new program (the image's sizes default to 8K/4K/8K, as
 * the trace's exec).  The session is locked exclusively: exec ends the
 * task's other threads (de_thread), may change the task's id, and wakes
 * a vfork parent.
 */
#include "req.h"

static void do_exec_req(struct req_ctx *c)
{
	const Aspace__Image *im = c->req->exec->image;
	struct as_image img;
	int err;

	if (im == NULL || im->name == NULL || !req_image_name_ok(im->name)) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "exec: image.name: 1-63 of [A-Za-z0-9._-]");
		return;
	}
	as_image_default(&img, im->name);
	if (im->has_text)
		img.text = im->text;
	if (im->has_data)
		img.data = im->data;
	if (im->has_bss)
		img.bss = im->bss;
	if ((err = as_exec(c->ds->s, c->task, &img)) != 0)
		req_errno(c, err);
}

const struct request_entry req_exec_entry = {
	.op = ASPACE__REQUEST__OP_EXEC,
	.mode = LOCK_SESSION_WRITE,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_exec_req,
};

/*
 * req-maps.c: maps (docs/protocol.md, section 9): the task's VMAs as
 * /proc/PID/maps has them, optionally only those meeting a window, both
 * as Vma messages and as the trace's text.  Under the mm's mmap_lock
 * (read).
 */
#include "mm.h"
#include "req.h"

/* VMA vma as the i-th Vma, after its line in c->buf. */
static bool maps_vma(struct req_ctx *c, void *msgs, size_t i,
    struct vma *vma)
{
	Aspace__Vma **v = msgs;
	size_t at;

	if ((v[i] = req_alloc(c, sizeof(*v[i]))) == NULL)
		return false;
	at = c->buf.len;
	show_map_vma(&c->buf, "", vma);
	if (c->buf.overflow)
		return false;
	req_vma_msg(c, v[i], vma, as_buf_str(&c->buf) + at);
	return true;
}

/* Walk the window's VMAs into r and c->buf; the mm is read-locked. */
static void fill_maps(struct req_ctx *c, void *result, struct mm *mm,
    unsigned long lo, unsigned long hi)
{
	Aspace__MapsResult *r = result;

	r->vmas = req_vma_msgs(c, mm, lo, hi, maps_vma, &r->n_vmas);
}

static void do_maps_req(struct req_ctx *c)
{
	Aspace__MapsResult *r = req_alloc(c, sizeof(*r));

	if (r == NULL)
		return;
	aspace__maps_result__init(r);
	r->text = (char *)req_window_text(c, c->req->maps->window,
	    "maps over the output cap", fill_maps, r,
	    sizeof(Aspace__Vma) + 2 * 16);	/* perms, name */
	if (r->text == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_MAPS;
	c->resp->maps = r;
}

const struct request_entry req_maps_entry = {
	.op = ASPACE__REQUEST__OP_MAPS,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_maps_req,
};

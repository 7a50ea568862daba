/*
 * req-maps.c: maps (docs/protocol.md, section 9): the task's VMAs as
 * /proc/PID/maps has them, optionally only those meeting a window, both
 * as Vma messages and as the trace's text.  Under the mm's mmap_lock
 * (read).
 */
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "req.h"

/* Fill v from the maps line at line (as show_map_vma() printed it). */
static void vma_msg(struct req_ctx *c, Aspace__Vma *v, const struct vma *vma,
    const char *line)
{
	char perms[5] = "";
	unsigned long start, end, off;
	const char *nl = strchr(line, '\n');
	int pos = 0;

	aspace__vma__init(v);
	v->has_start = v->has_end = v->has_offset = v->has_vm_flags = true;
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->vm_flags = vma->vm_flags;
	if (sscanf(line, "%lx-%lx %4s %lx%n", &start, &end, perms, &off,
	    &pos) >= 4) {
		v->offset = off;
		line += pos;
	} else {
		line = nl;
	}
	v->perms = req_strdup(c, perms, strlen(perms));
	while (line != nl && *line == ' ')
		line++;
	v->name = req_strdup(c, line, (size_t)(nl - line));
}


/* Walk the window's VMAs into r and c->buf; the mm is read-locked. */
static void fill_maps(struct req_ctx *c, void *result, struct mm *mm,
    unsigned long lo, unsigned long hi)
{
	Aspace__MapsResult *r = result;
	size_t n = req_count_vmas(mm, lo, hi), i = 0, at;
	struct vma *vma;

	r->vmas = req_alloc(c, sizeof(*r->vmas) * (n ? n : 1));
	if (r->vmas == NULL)
		return;
	for (vma = find_vma(mm, lo); vma != NULL && vma->vm_start < hi &&
	    i < n; vma = vma->vm_next, i++) {
		if ((r->vmas[i] = req_alloc(c, sizeof(*r->vmas[i]))) == NULL)
			return;
		at = c->buf.len;
		show_map_vma(&c->buf, "", vma);
		if (c->buf.overflow)
			return;
		vma_msg(c, r->vmas[i], vma, as_buf_str(&c->buf) + at);
	}
	r->n_vmas = i;
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

/*
 * req-vma.c: what maps and smaps (req-maps.c, req-smaps.c) share: the
 * window a request asks for, the walk over its VMAs into one message
 * each, the Vma message read back from a VMA's maps line, and the text
 * capped at the output limit (req_window_text()).
 */
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "req.h"

void req_vma_msg(struct req_ctx *c, Aspace__Vma *v, const struct vma *vma,
    const char *line)
{
	char perms[5] = "";
	unsigned long start, end, off = 0;
	const char *nl = strchr(line, '\n');
	int pos = 0;

	aspace__vma__init(v);
	v->has_start = v->has_end = v->has_offset = v->has_vm_flags = true;
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->vm_flags = vma->vm_flags;
	if (sscanf(line, "%lx-%lx %4s %lx%n", &start, &end, perms, &off,
	    &pos) >= 4)
		line += pos;
	else
		line = nl;
	v->offset = off;
	v->perms = req_strdup(c, perms, strlen(perms));
	while (line != nl && *line == ' ')
		line++;
	v->name = req_strdup(c, line, (size_t)(nl - line));
}

static void window(const Aspace__Window *w, unsigned long *lo,
    unsigned long *hi)
{
	*lo = 0;
	*hi = ~0UL;
	if (w != NULL) {
		*lo = w->start;
		*hi = w->start + w->length < w->start ? ~0UL :
		    w->start + w->length;
	}
}

/* The number of VMAs in [lo, hi) (the mm read-locked). */
static size_t count_vmas(struct mm *mm, unsigned long lo, unsigned long hi)
{
	struct vma *vma;
	size_t n = 0;

	for (vma = find_vma(mm, lo); vma != NULL && vma->vm_start < hi;
	    vma = vma->vm_next)
		n++;
	return n;
}

const char *req_window_text(struct req_ctx *c, const Aspace__Window *w,
    const char *too_large, req_fill_fn fill, void *r, size_t item)
{
	struct mm *mm = c->task->mm;
	size_t cap = c->text_max > 0 ? c->text_max :
	    server_trace_output_max(c->srv), n;
	size_t room = c->out->budget - c->out->spent;
	unsigned long lo, hi;
	bool over;

	window(w, &lo, &hi);
	as_buf_init(&c->buf, cap);
	mmap_read_lock(mm);
	n = count_vmas(mm, lo, hi);
	over = n > cap / REQ_MAPS_LINE_MIN ||
	    n > room / (item + sizeof(void *));
	if (!over)
		fill(c, r, mm, lo, hi);
	mmap_read_unlock(mm);
	if (over || c->buf.overflow) {
		req_status(c, ASPACE__STATUS__CODE__TOO_LARGE, too_large);
		return NULL;
	}
	if (c->status->code != ASPACE__STATUS__CODE__OK)
		return NULL;
	return as_buf_str(&c->buf);
}

void *req_vma_msgs(struct req_ctx *c, struct mm *mm, unsigned long lo,
    unsigned long hi, req_vma_fn one, size_t *np)
{
	size_t n = count_vmas(mm, lo, hi), i = 0;
	struct vma *vma;
	void *msgs = req_alloc(c, sizeof(void *) * (n ? n : 1));

	if (msgs == NULL)
		return NULL;
	for (vma = find_vma(mm, lo); vma != NULL && vma->vm_start < hi &&
	    i < n; vma = vma->vm_next, i++)
		if (!one(c, msgs, i, vma))
			return msgs;
	*np = i;
	return msgs;
}

/*
 * req-mt.c: mt (docs/protocol.md, section 9): the task's VMA index, its
 * mm's maple tree, drawn by mt_dump() as text and as JSON (every node:
 * kind, range, pivots, slots, gaps).  Under the mm's mmap_lock (read),
 * as a reader of the tree.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm.h"
#include "req.h"

/* The tree drawn into a string of the response; NULL out of memory,
 * *big when over cap (as maps and smaps are capped: trace-output-max). */
static char *mt_text(struct req_ctx *c, struct mm *mm, bool json,
    bool *big)
{
	size_t cap = c->text_max > 0 ? c->text_max :
	    server_trace_output_max(c->srv), len = 0;
	char *buf = NULL, *out = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	vma_mt_dump(&mm->mm_mt, f, json);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len > cap || len >= c->out->budget - c->out->spent)
		*big = true;
	else
		out = req_strdup(c, buf, len);
	free(buf);
	return out;
}

/* The mt request: both drawings, under the mm's mmap_lock (read). */
static void do_mt_req(struct req_ctx *c)
{
	Aspace__MtResult *r = req_alloc(c, sizeof(*r));
	struct mm *mm = c->task->mm;
	bool big = false;

	if (r == NULL)
		return;
	aspace__mt_result__init(r);
	mmap_read_lock(mm);
	r->text = mt_text(c, mm, false, &big);
	if (r->text != NULL)
		r->json = mt_text(c, mm, true, &big);
	mmap_read_unlock(mm);
	if (big) {
		req_status(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "maple tree over the output cap");
		return;
	}
	if (r->text == NULL || r->json == NULL) {
		req_status(c, ASPACE__STATUS__CODE__INTERNAL, "out of memory");
		return;
	}
	c->resp->result_case = ASPACE__RESPONSE__RESULT_MT;
	c->resp->mt = r;
}

const struct request_entry req_mt_entry = {
	.op = ASPACE__REQUEST__OP_MT,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_mt_req,
};

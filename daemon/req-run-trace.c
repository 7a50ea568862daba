/*
 * req-run-trace.c: run_trace (docs/protocol.md, section 10): a whole
 * trace-v1 text, in the request's session (locked exclusively: a trace
 * may fork, exit and switch tasks) or in a fresh one, its canonical
 * output back through as_trace_run() into a bounded as_buf.
 */
#include <errno.h>
#include <string.h>

#include "req.h"
#include "trace.h"

/*
 * Run the text in s from cursor cur (a kept session's, which it leaves at
 * the end of the text); the output stays in c->buf until the reply is
 * sent.
 */
static void run_in(struct req_ctx *c, struct as_session *s,
    struct as_trace_cursor *cur)
{
	const Aspace__RunTraceRequest *r = c->req->run_trace;
	Aspace__RunTraceResult *res = req_alloc(c, sizeof(*res));
	int before = cur->errors, n;

	if (res == NULL)
		return;
	aspace__run_trace_result__init(res);
	as_buf_init(&c->buf, server_trace_output_max(c->srv));
	n = as_trace_run_part(s, cur, (const char *)r->text.data, r->text.len,
	    &c->buf);
	if (n >= 0)
		n -= before;
	res->has_output = true;
	res->output.data = (uint8_t *)c->buf.data;
	res->output.len = c->buf.len;
	res->has_truncated = true;
	res->truncated = n < 0 || c->buf.overflow;
	if (n >= 0) {
		res->has_errors = true;
		res->errors = (uint32_t)n;
	}
	c->resp->result_case = ASPACE__RESPONSE__RESULT_RUN_TRACE;
	c->resp->run_trace = res;
}

/* A fresh session kept in the table: its id in the result. */
static void run_kept(struct req_ctx *c, const struct as_session_params *p)
{
	const Aspace__RunTraceRequest *r = c->req->run_trace;
	struct session_table *st = server_sessions(c->srv);
	struct dsession *ds;
	uint8_t *id = req_alloc(c, SESSION_ID_LEN);
	const char *label = r->params != NULL ? r->params->label : NULL;
	int err;

	if (id == NULL)
		return;
	if ((err = stable_create(st, c->conn->tenant, p, label, &ds)) != 0) {
		req_status(c, err == -EDQUOT ? ASPACE__STATUS__CODE__QUOTA :
		    ASPACE__STATUS__CODE__BAD_REQUEST, "cannot make a session");
		return;
	}
	memcpy(id, ds->id, SESSION_ID_LEN);
	pthread_rwlock_wrlock(&ds->rw);
	run_in(c, ds->s, &ds->cursor);
	dsession_touch(ds);	/* a checkpoint may have seen it fresh */
	pthread_rwlock_unlock(&ds->rw);
	stable_put(st, ds);
	if (c->resp->result_case == ASPACE__RESPONSE__RESULT_RUN_TRACE) {
		c->resp->run_trace->has_session = true;
		c->resp->run_trace->session.data = id;
		c->resp->run_trace->session.len = SESSION_ID_LEN;
	}
}

static void run_fresh(struct req_ctx *c)
{
	const Aspace__RunTraceRequest *r = c->req->run_trace;
	struct as_session_params p;
	struct as_trace_cursor cur;
	struct as_session *s;

	if (req_session_params(c, r->params, &p) != 0)
		return;
	if (r->has_keep && r->keep) {
		run_kept(c, &p);
		return;
	}
	if ((s = as_session_new(&p)) == NULL) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "the session cannot be made with these parameters");
		return;
	}
	as_trace_cursor_init(&cur);
	run_in(c, s, &cur);
	as_session_free(s);
}

static void run_trace(struct req_ctx *c)
{
	const Aspace__RunTraceRequest *r = c->req->run_trace;

	if (!r->has_text) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST, "text needed");
		return;
	}
	if (c->ds == NULL && r->has_resume && r->resume) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "resume: a session is needed");
		return;
	}
	if (c->ds == NULL) {
		run_fresh(c);
		return;
	}
	if (c->req->has_task && c->req->task != 1) {
		/* A trace starts as task 1 (or where the last one stopped,
		 * with resume); "switch" in the text changes it. */
		req_status(c, ASPACE__STATUS__CODE__UNIMPLEMENTED,
		    "run_trace starts as task 1 or resumes; use switch");
		return;
	}
	if (!r->has_resume || !r->resume)
		as_trace_cursor_init(&c->ds->cursor);
	run_in(c, c->ds->s, &c->ds->cursor);
}

const struct request_entry req_run_trace_entry = {
	ASPACE__REQUEST__OP_RUN_TRACE, LOCK_SESSION_WRITE, REQ_SESSION_OPTIONAL,
	run_trace
};

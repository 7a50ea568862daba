/*
 * req-grade.c: grade (docs/protocol.md, op 50; docs/grading.md): run a
 * trace in a fresh session, as run_trace does and under the same budgets
 * (trace-line-limit, request-cpu-limit, trace-output-max, the client
 * gone, the drain: req-run-trace.c), and grade the student's answers
 * against its output with lib/grade.c.  Answers the grader refuses
 * (malformed, over their size) are BAD_REQUEST with its message.
 */
#include <string.h>

#include "grade.h"
#include "req.h"

static ProtobufCBinaryData bytes_of(struct req_ctx *c, const char *s)
{
	ProtobufCBinaryData b = { 0, NULL };
	size_t n = strlen(s);
	char *p = req_strdup(c, s, n);

	if (p != NULL) {
		b.data = (uint8_t *)p;
		b.len = n;
	}
	return b;
}

static Aspace__GradeItem *item_msg(struct req_ctx *c,
    const struct as_grade_item *it)
{
	Aspace__GradeItem *m = req_alloc(c, sizeof(*m));

	if (m == NULL)
		return NULL;
	aspace__grade_item__init(m);
	m->has_line = m->has_command = m->has_verdict = true;
	m->has_points = m->has_max_points = true;
	m->has_expected = m->has_given = m->has_why = true;
	m->line = it->line;
	m->verdict = (Aspace__GradeItem__Verdict)it->verdict;
	m->points = it->points;
	m->max_points = it->max_points;
	m->command = bytes_of(c, it->command);
	m->expected = bytes_of(c, it->expected);
	m->given = bytes_of(c, it->given);
	m->why = bytes_of(c, it->why);
	if (m->command.data == NULL || m->expected.data == NULL ||
	    m->given.data == NULL || m->why.data == NULL)
		return NULL;
	return m;
}

static void result(struct req_ctx *c, const struct as_grade *g)
{
	Aspace__GradeResult *res = req_alloc(c, sizeof(*res));
	size_t i;

	if (res == NULL)
		return;
	aspace__grade_result__init(res);
	res->items = req_alloc(c, (g->n ? g->n : 1) * sizeof(*res->items));
	if (res->items == NULL)
		return;
	for (i = 0; i < g->n; i++)
		if ((res->items[i] = item_msg(c, &g->items[i])) == NULL)
			return;
	res->n_items = g->n;
	res->has_score = res->has_max_score = res->has_extra_lines = true;
	res->score = g->score;
	res->max_score = g->max_score;
	res->extra_lines = g->extra_lines;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_GRADE;
	c->resp->grade = res;
}

static void grade_in(struct req_ctx *c, struct as_session *s)
{
	const Aspace__GradeRequest *r = c->req->grade;
	struct as_trace_cursor cur;
	struct trace_budget b;
	struct as_trace_check chk = { trace_budget_check, &b, 0, 0, NULL,
	    NULL, NULL, NULL };
	struct as_grade g;
	char err[256];

	as_trace_cursor_init(&cur);
	trace_budget_init(&b, c, &cur);
	if (as_grade_run(s, (const char *)r->trace.data, r->trace.len,
	    r->has_answers ? (const char *)r->answers.data : NULL,
	    r->has_answers ? r->answers.len : 0, &chk,
	    server_trace_output_max(c->srv), &g, err, sizeof(err)) != 0) {
		if (chk.stopped != 0)
			trace_budget_stopped(c, &b, &chk);
		else
			req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST, err);
		return;
	}
	result(c, &g);
	as_grade_free(&g);
}

static void do_grade_req(struct req_ctx *c)
{
	const Aspace__GradeRequest *r = c->req->grade;
	struct as_session_params p;
	struct as_session *s;

	if (!r->has_trace) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "trace needed");
		return;
	}
	if (c->req->has_session) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "grade runs in a fresh session: no session");
		return;
	}
	if (req_session_params(c, r->params, &p) != 0)
		return;
	if ((s = as_session_new(&p)) == NULL) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "the session cannot be made with these parameters");
		return;
	}
	grade_in(c, s);
	as_session_free(s);
}

const struct request_entry req_grade_entry = {
	.op = ASPACE__REQUEST__OP_GRADE,
	.mode = LOCK_NONE,
	.flags = 0,
	.handler = do_grade_req,
};

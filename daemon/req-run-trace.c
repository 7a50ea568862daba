/*
 * req-run-trace.c: run_trace (docs/protocol.md, section 10): a whole
 * trace-v1 text, in the request's session (locked exclusively: a trace
 * may fork, exit and switch tasks) or in a fresh one, its canonical
 * output back through as_trace_run() into a bounded as_buf.
 *
 * Time as the kernel accounts it: before each line the runner asks
 * trace_budget_check() (lib/trace.h's check), which stops the trace there when
 * it has run trace-line-limit lines, when its thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: what the host kernel charged to this thread,
 * so never the time it waited or was parked) reaches request-cpu-limit,
 * when its connection is gone, or when the drain's deadline has passed;
 * and which offers the request's pool slot to a fairer tenant
 * (pool_yield()).  The CPU clock is a system call: it is read only once
 * the wall clock (vDSO, cheap) says the budget could be spent, since a
 * thread's CPU time grows no faster than the wall clock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "pool.h"
#include "req.h"
#include "trace.h"

enum { STOP_CPU = 1, STOP_LINES, STOP_GONE, STOP_DRAIN };

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int trace_budget_check(void *arg, unsigned long lineno)
{
	struct trace_budget *b = arg;
	struct req_ctx *c = b->c;
	uint64_t now, used;

	if (c->pj != NULL)
		pool_yield(server_pool(c->srv), c->pj);
	if (b->lines > 0 && lineno - b->first > b->lines)
		return STOP_LINES;
	if (__atomic_load_n(&c->cancel, __ATOMIC_RELAXED) & REQ_CANCEL_GONE)
		return STOP_GONE;
	if (server_cancelled(c->srv))
		return STOP_DRAIN;
	if (b->cpu_limit > 0 &&
	    (now = clock_ns(CLOCK_MONOTONIC)) >= b->wall_next) {
		used = clock_ns(CLOCK_THREAD_CPUTIME_ID) - b->cpu0;
		if (used >= b->cpu_limit)
			return STOP_CPU;
		b->wall_next = now + (b->cpu_limit - used);
	}
	return 0;
}

void trace_budget_init(struct trace_budget *b, struct req_ctx *c,
    const struct as_trace_cursor *cur)
{
	b->c = c;
	b->first = cur->lineno;
	b->lines = server_trace_line_limit(c->srv);
	b->cpu_limit = (uint64_t)server_request_cpu_ms(c->srv) * 1000000;
	b->cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	b->wall_next = clock_ns(CLOCK_MONOTONIC) + b->cpu_limit;
}

void trace_budget_stopped(struct req_ctx *c, const struct trace_budget *b,
    const struct as_trace_check *chk)
{
	char msg[160];
	Aspace__Status__Code code = ASPACE__STATUS__CODE__QUOTA;

	switch (chk->stopped) {
	case STOP_CPU:
		metrics_inc(MC_TRACE_STOP_CPU);
		snprintf(msg, sizeof(msg), "trace over its CPU budget (%llu "
		    "ms, request-cpu-limit) at line %lu",
		    (unsigned long long)(b->cpu_limit / 1000000),
		    chk->stopped_at);
		break;
	case STOP_LINES:
		metrics_inc(MC_TRACE_STOP_LINES);
		snprintf(msg, sizeof(msg), "trace over its line limit (%lu "
		    "lines, trace-line-limit) at line %lu", b->lines,
		    chk->stopped_at);
		break;
	case STOP_GONE:
		metrics_inc(MC_TRACE_STOP_GONE);
		code = ASPACE__STATUS__CODE__CANCELLED;
		snprintf(msg, sizeof(msg), "cancelled: the client is gone, at "
		    "line %lu", chk->stopped_at);
		break;
	default:
		metrics_inc(MC_TRACE_STOP_DRAIN);
		code = ASPACE__STATUS__CODE__CANCELLED;
		snprintf(msg, sizeof(msg), "cancelled: the daemon is stopping, "
		    "at line %lu", chk->stopped_at);
		break;
	}
	req_status(c, code, msg);
}

/* The explanations collected while a trace runs, in the response's arena. */
struct explain_acc {
	struct req_ctx	 *c;
	struct explain_node {
		Aspace__LineExplain	 m;
		struct explain_node	*next;
	} *head, **tail;
	size_t		  n;
	bool		  full;		/* the arena's budget is spent */
};

static void explain_collect(void *arg, unsigned long lineno, const char *text)
{
	struct explain_acc *x = arg;
	struct explain_node *e;
	size_t len = strlen(text);

	if (len == 0 || x->full)
		return;
	e = frame_arena_alloc(x->c->out, sizeof(*e) + len + 1);
	if (e == NULL) {
		x->full = true;
		return;
	}
	aspace__line_explain__init(&e->m);
	e->m.has_line = true;
	e->m.line = lineno;
	e->m.text = memcpy((char *)(e + 1), text, len + 1);
	e->next = NULL;
	*x->tail = e;
	x->tail = &e->next;
	x->n++;
}

/* The collected explanations as res's repeated field. */
static void explain_finish(struct explain_acc *x, Aspace__RunTraceResult *res)
{
	struct explain_node *e;
	size_t i = 0;

	if (x->n == 0)
		return;
	res->explain = frame_arena_alloc(x->c->out, x->n * sizeof(*res->explain));
	if (res->explain == NULL) {
		x->full = true;
		return;
	}
	for (e = x->head; e != NULL; e = e->next)
		res->explain[i++] = &e->m;
	res->n_explain = x->n;
}

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
	struct trace_budget b;
	struct explain_acc x = { .c = c };
	struct as_trace_check chk = { trace_budget_check, &b, 0, 0, NULL,
	    NULL, NULL, NULL };

	if (res == NULL)
		return;
	aspace__run_trace_result__init(res);
	x.tail = &x.head;
	if (r->has_explain && r->explain) {
		chk.on_explain = explain_collect;
		chk.on_explain_arg = &x;
	}
	as_buf_init(&c->buf, server_trace_output_max(c->srv));
	trace_budget_init(&b, c, cur);
	n = as_trace_run_checked(s, cur, (const char *)r->text.data,
	    r->text.len, &c->buf, &chk);
	if (n >= 0)
		n -= before;
	res->has_output = true;
	res->output.data = (uint8_t *)c->buf.data;
	res->output.len = c->buf.len;
	explain_finish(&x, res);
	res->has_truncated = true;
	res->truncated = n < 0 || c->buf.overflow || x.full;
	if (n >= 0) {
		res->has_errors = true;
		res->errors = (uint32_t)n;
	}
	if (chk.stopped != 0) {
		/* The status, then the output so far all the same. */
		trace_budget_stopped(c, &b, &chk);
		res->has_stopped_at = true;
		res->stopped_at = chk.stopped_at;
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

static void do_run_trace_req(struct req_ctx *c)
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
	.op = ASPACE__REQUEST__OP_RUN_TRACE,
	.mode = LOCK_SESSION_WRITE,
	.flags = REQ_SESSION_OPTIONAL,
	.handler = do_run_trace_req,
};

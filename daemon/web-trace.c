/*
 * web-trace.c: POST /api/trace (docs/web.md): a trace run line by line in
 * a fresh session kept for the tenant, with, for each line, what the
 * page's stepper shows: the line, its output, its path through the
 * simulated kernel (on_explain), the current task's maps after it
 * (null when unchanged since the step before), what the line changed
 * (its VMAs and PTEs, web-step.c) and the session's counters.  Stepping
 * back and forth is then the page's walk over what the daemon answered;
 * the session holds the state after the last line, for the other
 * endpoints.
 *
 * The runner's check, asked before each line, closes the step of the
 * line before it; the last one is closed at the end.  Bounded: at most
 * WEB_TRACE_LINES lines, the daemon's trace-line-limit and
 * request-cpu-limit (trace_budget_check()), and the reply's cap, past
 * which the maps are left out (the step's "maps_omitted").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "req.h"
#include "trace.h"
#include "web-api.h"
#include "web-json.h"
#include "web-step.h"

#define WEB_TRACE_LINES		5000
#define WEB_TRACE_OUT_MAX	(4u << 20)	/* the trace's whole output */
#define WEB_MAPS_ROOM		(8u << 20)	/* keep maps while this is left */

struct stepper {
	struct req_ctx	*c;
	struct trace_budget budget;
	struct as_session *s;
	struct as_trace_cursor *cur;
	const char	*text;
	size_t		 len, at;	/* the next line's start in text */
	unsigned long	 line;		/* the open step's line, 0: none */
	size_t		 out_mark;	/* out's length when it opened */
	struct as_buf	*out, *json, ex;
	struct step_snap snap[2];	/* before the line, after it */
	bool		 started;	/* snap[0] holds the start */
	bool		 full;		/* the next step's PTEs whole */
	unsigned long	 steps;
};

/* Line st->line's text (the lines come in order). */
static void line_text(struct stepper *st)
{
	const char *p = st->text + st->at, *e;
	size_t n = st->len - st->at;

	e = memchr(p, '\n', n);
	n = e != NULL ? (size_t)(e - p) : n;
	web_json_str(st->json, p, n);
	st->at += e != NULL ? n + 1 : n;
}

static bool same_maps(const struct step_snap *a, const struct step_snap *b)
{
	return a->text.len == b->text.len && (a->text.len == 0 ||
	    memcmp(a->text.data, b->text.data, a->text.len) == 0);
}

/* The open step's maps (null when unchanged), its VMA and PTE changes
 * from the step before (none when the current task changed: "switched")
 * and the counters. */
static void step_state(struct stepper *st)
{
	struct as_buf *j = st->json;
	struct step_snap *a = &st->snap[0], *b = &st->snap[1];
	bool switched = a->task != b->task;

	if (j->len + WEB_MAPS_ROOM >= j->max) {
		as_buf_put(j, ",\"maps_omitted\":true", 20);
		st->full = true;
		return;
	}
	if (st->steps > 1 && same_maps(a, b))	/* the first: always */
		as_buf_put(j, ",\"maps\":null", 12);
	else {
		as_buf_put(j, ",\"maps\":", 8);
		web_json_str(j, b->text.data, b->text.len);
	}
	if (switched)
		as_buf_put(j, ",\"switched\":true", 16);
	else
		step_changes_json(j, a, b);
	st->full = !step_ptes_json(j, a, b, st->full || switched);
	step_counters_json(j, st->s);
}

static void close_step(struct stepper *st)
{
	struct as_buf *j = st->json;
	struct step_snap t;

	if (st->line == 0)
		return;
	as_buf_printf(j, "%s{\"line\":%lu,\"task\":%d,\"text\":",
	    st->steps++ > 0 ? "," : "", st->line, st->cur->current);
	line_text(st);
	as_buf_put(j, ",\"output\":", 10);
	web_json_str(j, st->out->data + st->out_mark,
	    st->out->len - st->out_mark);
	as_buf_put(j, ",\"explain\":", 11);
	web_json_str(j, st->ex.data != NULL ? st->ex.data : "", st->ex.len);
	step_snap_take(&st->snap[1], st->s, st->cur->current);
	step_state(st);
	as_buf_put(j, "}", 1);
	as_buf_reset(&st->ex);
	t = st->snap[0];
	st->snap[0] = st->snap[1];
	st->snap[1] = t;
	st->line = 0;
}

static int step_check(void *arg, unsigned long lineno)
{
	struct stepper *st = arg;
	int stop;

	close_step(st);
	if (!st->started) {	/* the session before the first line */
		step_snap_take(&st->snap[0], st->s, st->cur->current);
		st->started = true;
	}
	if (lineno > WEB_TRACE_LINES)
		return EFBIG;
	if ((stop = trace_budget_check(&st->budget, lineno)) != 0)
		return stop;
	st->line = lineno;
	st->out_mark = st->out->len;
	return 0;
}

static void step_explain(void *arg, unsigned long lineno, const char *text)
{
	struct stepper *st = arg;

	(void)lineno;
	if (st->ex.len > 0)
		as_buf_put(&st->ex, "\n", 1);
	as_buf_put(&st->ex, text, strlen(text));
}

/* Run the trace in ds (locked exclusively) into r's body. */
static void run_steps(struct req_ctx *c, struct dsession *ds, const char *text,
    size_t len, struct web_reply *r)
{
	struct as_buf out;
	struct stepper st = { .c = c, .s = ds->s, .cur = &ds->cursor,
	    .text = text, .len = len, .out = &out, .json = &r->body };
	struct as_trace_check chk = { step_check, &st, 0, 0, NULL, NULL,
	    step_explain, &st };

	as_buf_init(&out, WEB_TRACE_OUT_MAX);
	as_buf_init(&st.ex, 64 << 10);
	step_snap_init(&st.snap[0]);
	step_snap_init(&st.snap[1]);
	st.full = true;		/* the first step's pages: all of them */
	as_trace_cursor_init(&ds->cursor);
	trace_budget_init(&st.budget, c, &ds->cursor);
	step_counter_names_json(&r->body);
	as_buf_put(&r->body, ",\"steps\":[", 10);
	as_trace_run_checked(ds->s, &ds->cursor, text, len, &out, &chk);
	close_step(&st);
	as_buf_printf(&r->body, "],\"errors\":%d,\"stopped_at\":%lu,"
	    "\"truncated\":%s", ds->cursor.errors, chk.stopped_at,
	    out.overflow || chk.stopped == EFBIG ? "true" : "false");
	if (chk.stopped != 0 && chk.stopped != EFBIG) {
		trace_budget_stopped(c, &st.budget, &chk);
		as_buf_put(&r->body, ",\"message\":", 11);
		web_json_str(&r->body, c->status->message,
		    strlen(c->status->message));
	}
	as_buf_put(&r->body, "}", 1);
	as_buf_free(&out);
	as_buf_free(&st.ex);
	step_snap_free(&st.snap[0]);
	step_snap_free(&st.snap[1]);
}

void web_trace_answer(struct server *srv, uid_t tenant, const char *text,
    size_t len, struct web_reply *r)
{
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	struct req_conn rc = { .tenant = tenant, .authed = true };
	struct frame_arena out;
	struct req_ctx c = { .srv = srv, .conn = &rc, .resp = &resp,
	    .status = &st, .out = &out };
	struct session_table *t = server_sessions(srv);
	struct as_session_params p;
	struct dsession *ds;

	frame_arena_init(&out, 1u << 20);
	if (req_session_params(&c, NULL, &p) != 0 ||
	    stable_create(t, tenant, &p, "web", &ds) != 0) {
		frame_arena_free(&out);
		web_error(r, "429 Too Many Requests", "QUOTA",
		    "cannot make a session (the tenant's quota?)");
		return;
	}
	r->status = "200 OK";
	r->type = "application/json";
	as_buf_put(&r->body, "{\"session\":", 11);
	web_json_hex(&r->body, ds->id, SESSION_ID_LEN);
	pthread_rwlock_wrlock(&ds->rw);
	run_steps(&c, ds, text, len, r);
	dsession_touch(ds);
	pthread_rwlock_unlock(&ds->rw);
	stable_put(t, ds);
	frame_arena_free(&out);
	if (r->body.overflow)
		web_error(r, "413 Content Too Large", "TOO_LARGE",
		    "the steps are over the web listener's cap");
}

/*
 * trace.h: running a trace-v1 text against a session and producing its
 * canonical output (docs/trace-format.md).
 */
#ifndef ASPACE_TRACE_H
#define ASPACE_TRACE_H

#include <stddef.h>

#include "buf.h"
#include "session.h"

/*
 * Run every line of text (len bytes) in session s, appending the output to
 * out.  Returns the number of "! error" lines, or -1 if the output did not
 * fit in out's cap.
 */
int as_trace_run(struct as_session *s, const char *text, size_t len,
    struct as_buf *out);

/*
 * A trace run in parts: what the runner carries from one line to the next,
 * as plain values (the current task by its pid), so that the session may
 * be saved and loaded (checkpoint.h), or replaced, between two parts.
 */
struct as_trace_cursor {
	int		 current;	/* pid of the current task, 0: none */
	unsigned long	 win_start, win_end;	/* the window, [start, end) */
	unsigned long	 lineno;	/* lines run so far */
	int		 errors;	/* "! error" lines so far */
};

/* A cursor at the start of a trace: task 1 current, the whole window. */
void as_trace_cursor_init(struct as_trace_cursor *c);
/*
 * Run the next part of a trace: text holds whole lines (a part ends at a
 * newline, or at the end of the trace); line numbers go on from c.
 * Returns c->errors so far, or -1 if the output did not fit in out's cap.
 */
int as_trace_run_part(struct as_session *s, struct as_trace_cursor *c,
    const char *text, size_t len, struct as_buf *out);

/*
 * A check between lines, for a runner with budgets or that may be
 * cancelled (the daemon's CPU budget, its line limit, a client gone):
 * before each line, fn(arg, lineno) with the number the line would
 * have.  Non-zero stops the run before that line: the line does not
 * run, the cursor stays after the last line run (so that a later part
 * may go on from it), and stopped and stopped_at keep fn's answer and
 * the line.  Plain C: it knows nothing of its caller's types.
 */
struct as_trace_check {
	int		 (*fn)(void *arg, unsigned long lineno);
	void		*arg;
	int		 stopped;	/* out: fn's non-zero answer, or 0 */
	unsigned long	 stopped_at;	/* out: the line not run, or 0 */
	/*
	 * Optional (NULL: none): after smaps, the pages behind each VMA's
	 * figures (as_grade_smaps_pages()), for a grader's "why" (grade.h).
	 */
	void		 (*note)(void *note_arg, unsigned long lineno,
			    const char *why);
	void		*note_arg;
	/*
	 * Optional (NULL: none): after each command, the path it took
	 * through the simulated kernel (explain.h; "" when it recorded
	 * nothing): an access's fault path or AS_EXPLAIN_NO_FAULT, an
	 * mmap's placement and merges, a fork's copy on write...
	 */
	void		 (*on_explain)(void *on_explain_arg,
			    unsigned long lineno, const char *text);
	void		*on_explain_arg;
};

/* as_trace_run_part() with chk (NULL: none) asked before every line; c's
 * current task is up to date when it is asked. */
int as_trace_run_checked(struct as_session *s, struct as_trace_cursor *c,
    const char *text, size_t len, struct as_buf *out,
    struct as_trace_check *chk);

#endif /* ASPACE_TRACE_H */

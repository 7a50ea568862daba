/*
 * explain.h: the account of the path one operation took through the
 * simulated kernel, as data for the caller: a fault's ("vmacache hit ->
 * do_anonymous_page: zero page mapped"), and those of the calls that
 * change an address space (placements, merges and splits with the rule
 * that decided them, copy-on-write at fork).  Steps are appended with
 * " -> "; a full record keeps its beginning and ends in "...".
 *
 * A fault carries its record in its struct vm_fault.  Other operations
 * record into explain_current, the record of the operation the calling
 * thread runs (set by explain_begin(); NULL, the default, records
 * nothing): the simulator's tracepoint, which costs one test when nobody
 * listens.
 */
#ifndef ASPACE_EXPLAIN_H
#define ASPACE_EXPLAIN_H

#include <stddef.h>

struct as_explain {
	int	 on;		/* record only when asked: it costs */
	char	 text[1024];
	size_t	 len;
};

void explain_add(struct as_explain *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* explain(): append a step, at the cost of a test when not recording. */
#define explain(ex, ...) do { \
	struct as_explain *ex_ = (ex); \
	if (ex_ != NULL && ex_->on) \
		explain_add(ex_, __VA_ARGS__); \
} while (0)

/* The record of the operation this thread runs, or NULL. */
extern _Thread_local struct as_explain *explain_current;
/* explain_op(): a step of the current operation, if it is recorded. */
#define explain_op(...) explain(explain_current, __VA_ARGS__)
/* explain_begin(): record this thread's operations into ex (emptied);
 * returns the record it replaces, for explain_end(). */
struct as_explain *explain_begin(struct as_explain *ex);
void explain_end(struct as_explain *prev);
/* explain_pause(): record nothing until explain_end(); for a step that is
 * a check, not a decision (mremap asks get_unmapped_area() if it may grow). */
struct as_explain *explain_pause(void);
/* explain_recording(): is anyone listening?  (skip costly wording) */
#define explain_recording() \
	(explain_current != NULL && explain_current->on)

/* An access's record when it did not fault. */
#define AS_EXPLAIN_NO_FAULT "no fault: the page table already allowed the access"

/* The VmFlags mnemonics of the bits in flags ("wr ex"), in buf. */
const char *explain_vm_flags(char *buf, size_t size, unsigned long flags);

#endif /* ASPACE_EXPLAIN_H */

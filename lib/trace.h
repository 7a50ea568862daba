/*
 * trace.h: running a trace-v1 text against a session and producing its
 * canonical output (../shared/spec/trace-v1.md).
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

#endif /* ASPACE_TRACE_H */

/*
 * explain.h: the account of the path one fault took, as data for the
 * caller ("vmacache hit -> do_anonymous_page: zero page mapped").  Steps
 * are appended with " -> "; a full record keeps its beginning.
 */
#ifndef ASPACE_EXPLAIN_H
#define ASPACE_EXPLAIN_H

#include <stddef.h>

struct as_explain {
	int	 on;		/* record only when asked: it costs */
	char	 text[512];
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

#endif /* ASPACE_EXPLAIN_H */

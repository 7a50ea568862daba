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

void explain(struct as_explain *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* ASPACE_EXPLAIN_H */

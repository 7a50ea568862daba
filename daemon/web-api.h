/*
 * web-api.h: what the web listener answers (docs/web.md): the page's
 * static files, POST /api/login and /api/logout, and the JSON of /api/,
 * each from a parsed head and its body.  Called off the event loop (one
 * thread a request, web-http.c): a request may wait for its session's
 * lock or run a trace.
 */
#ifndef ASPACED_WEB_API_H
#define ASPACED_WEB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "http.h"

#define WEB_BODY_MAX		(256u << 10)	/* a POST's body */
#define WEB_REPLY_MAX		(32u << 20)	/* a JSON answer */
#define WEB_COOKIE_NAME		"aspace"

struct server;

struct web_reply {
	const char	*status;	/* "200 OK" */
	const char	*type;		/* Content-Type */
	char		 extra[640];	/* more header lines, CRLF-ended */
	const char	*fixed;		/* a static body, or NULL: body */
	size_t		 fixed_len;
	struct as_buf	 body;
};

/* The answer to h (and its body) into r, whose body the caller frees. */
void web_api_answer(struct server *srv, const struct http_head *h,
    const char *body, size_t len, struct web_reply *r);

/* web-trace.c: POST /api/trace, as tenant: the trace's steps into r. */
void web_trace_answer(struct server *srv, uid_t tenant, const char *text,
    size_t len, struct web_reply *r);
/* web-api.c, for web-trace.c: an error as JSON {"code", "message"}. */
void web_error(struct web_reply *r, const char *status, const char *code,
    const char *msg);

#endif /* ASPACED_WEB_API_H */

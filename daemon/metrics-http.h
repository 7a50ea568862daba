/*
 * metrics-http.h: the metrics listener.  GET (or HEAD) /metrics answers
 * the exposition of metrics.h as text/plain; version=0.0.4; another path
 * is 404, another method 405, a malformed head 400, one over
 * HTTP_HEAD_MAX 431.  Each connection carries one request and is closed
 * after its answer; at most METRICS_HTTP_CONNS are open at once (more
 * are closed at accept) and each lives at most METRICS_HTTP_TIMEOUT_MS.
 *
 * It runs on the event_base it is given (aspaced's listener thread),
 * never on a worker: a scrape never delays a request.
 */
#ifndef ASPACED_METRICS_HTTP_H
#define ASPACED_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#define METRICS_HTTP_CONNS	8
#define METRICS_HTTP_TIMEOUT_MS	10000
#define METRICS_RENDER_MAX	(4u << 20)	/* the exposition's cap */
#define METRICS_DEFAULT_HOST	"127.0.0.1"	/* for a bare PORT */

struct metrics_http;

/* Listen on spec ("HOST:PORT", "[V6]:PORT" or "PORT", port 0 for any);
 * NULL with a message logged. */
struct metrics_http *metrics_http_new(struct event_base *base,
    const char *spec);
/* "http://HOST:PORT" as bound. */
void metrics_http_address(struct metrics_http *mh, char *buf, size_t size);
/* Close the listener and every connection. */
void metrics_http_free(struct metrics_http *mh);

#endif /* ASPACED_METRICS_HTTP_H */

/*
 * web-http.h: the web listener (web-listen; docs/web.md): the page that
 * shows a session's address space, and its /api/.  HTTP/1.1, one request
 * a connection (Connection: close), at most WEB_HTTP_CONNS connections
 * (more are closed at accept), each living at most WEB_HTTP_TIMEOUT_MS
 * to its answer; a head of at most HTTP_HEAD_MAX bytes (431), a body of
 * at most WEB_BODY_MAX (413), a POST's length given (411).
 *
 * The metrics endpoint stays on its own listener: a scrape comes from a
 * monitoring host and needs no login, while this one answers tenants'
 * data, listens on the loopback by default and wants a cookie.  Mixing
 * the two would make one exposure decision for both.
 */
#ifndef ASPACED_WEB_HTTP_H
#define ASPACED_WEB_HTTP_H

#include <stddef.h>

#include <event2/event.h>

#define WEB_HTTP_CONNS		32
#define WEB_HTTP_TIMEOUT_MS	30000	/* a trace may take its CPU budget */
#define WEB_DEFAULT_HOST	"127.0.0.1"

struct server;
struct web_http;

/* Listen on spec ("HOST:PORT", "[V6]:PORT" or "PORT"); NULL with a
 * message logged. */
struct web_http *web_http_new(struct event_base *base, const char *spec,
    struct server *srv);
/* "http://HOST:PORT" as bound. */
void web_http_address(struct web_http *wh, char *buf, size_t size);
/* Accept no more (the drain): requests under way are answered. */
void web_http_stop(struct web_http *wh);
/* Close the listener and every connection, once their requests are done. */
void web_http_free(struct web_http *wh);

#endif /* ASPACED_WEB_HTTP_H */

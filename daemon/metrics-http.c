/*
 * metrics-http.c: the metrics listener (metrics-http.h).
 *
 * libevent's evhttp would parse for us, but the 2.1 series has no hook
 * to cap its connections (a connection is never seen before its first
 * whole request, nor when it goes), so this is a small server of its
 * own: an evconnlistener, one bufferevent and one deadline per
 * connection, the head parsed by http.c, one answer, then close.
 *
 * The close lingers: once the answer is out, our side is shut down for
 * writing and what the peer still sends is read and dropped until its
 * EOF, for at most METRICS_HTTP_LINGER_MS.  Closing with unread input
 * would send a reset that may destroy the answer before it is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "buf.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "metrics-http.h"

#define METRICS_HTTP_LINGER_MS	1000

struct mconn {
	struct metrics_http *mh;
	struct bufferevent *bev;
	struct event	*deadline;
	bool		 answered;	/* close once the output is out */
	bool		 lingering;	/* written out: reading to EOF */
	bool		 eof;		/* the peer's EOF came */
	struct mconn	*prev, *next;
};

struct metrics_http {
	struct event_base *base;
	struct evconnlistener *lst;
	struct event	*backoff;	/* re-enables lst after EMFILE */
	char		 addr[128];
	unsigned int	 nconns;
	struct mconn	*conns;
};

static void mconn_free(struct mconn *m)
{
	struct metrics_http *mh = m->mh;

	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		mh->conns = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	mh->nconns--;
	if (m->deadline != NULL)
		event_free(m->deadline);
	bufferevent_free(m->bev);
	free(m);
}

/* The status line, the headers and (unless HEAD) the body. */
static void reply(struct mconn *m, const char *status, const char *type,
    const char *extra, const char *body, size_t len, bool head)
{
	struct evbuffer *out = bufferevent_get_output(m->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
	    type, len, extra);
	if (!head)
		evbuffer_add(out, body, len);
	m->answered = true;
}

static void reply_text(struct mconn *m, const char *status,
    const char *extra, bool head)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	reply(m, status, "text/plain; charset=utf-8", extra, body, (size_t)n,
	    head);
}

static void reply_metrics(struct mconn *m, bool head)
{
	struct as_buf b;

	as_buf_init(&b, METRICS_RENDER_MAX);
	if (metrics_render(&b) != 0) {
		log_msg(LOG_ERR, "metrics: the exposition is over %u bytes",
		    METRICS_RENDER_MAX);
		reply_text(m, "500 Internal Server Error", "", head);
	} else
		reply(m, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		    "", as_buf_str(&b), b.len, head);
	as_buf_free(&b);
}

static void answer(struct mconn *m, const struct http_head *h)
{
	bool head = strcmp(h->method, "HEAD") == 0;

	if (strcmp(h->path, "/metrics") != 0)
		reply_text(m, "404 Not Found", "", head);
	else if (!head && strcmp(h->method, "GET") != 0)
		reply_text(m, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
		    false);
	else
		reply_metrics(m, head);
}

static void mconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct mconn *m = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	struct http_head h;
	const char *p;

	if (m->answered) {		/* the rest is not ours to read */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	if ((p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len)) == NULL)
		return;
	switch (http_parse_head(p, len, &h)) {
	case HTTP_HEAD_OK:
		answer(m, &h);
		break;
	case HTTP_HEAD_BAD:
		reply_text(m, "400 Bad Request", "", false);
		break;
	case HTTP_HEAD_TOO_LONG:
		reply_text(m, "431 Request Header Fields Too Large", "", false);
		break;
	}
}

/* The answer is out: send our FIN, then wait for the peer's. */
static void mconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct timeval tv = { METRICS_HTTP_LINGER_MS / 1000,
	    (METRICS_HTTP_LINGER_MS % 1000) * 1000 };
	struct mconn *m = arg;

	if (!m->answered || m->lingering ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	m->lingering = true;
	if (m->eof || shutdown(bufferevent_getfd(bev), SHUT_WR) != 0)
		mconn_free(m);
	else
		evtimer_add(m->deadline, &tv);
}

static void mconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mconn *m = arg;

	(void)bev;
	/* A peer's EOF before its answer is out waits for it. */
	if ((what & BEV_EVENT_ERROR) || ((what & BEV_EVENT_EOF) &&
	    (!m->answered || m->lingering)))
		mconn_free(m);
	else if (what & BEV_EVENT_EOF) {
		m->eof = true;
		bufferevent_disable(bev, EV_READ);
	}
}

static void mconn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mconn_free(arg);
}

static void mconn_new(struct metrics_http *mh, evutil_socket_t fd)
{
	struct timeval tv = { METRICS_HTTP_TIMEOUT_MS / 1000,
	    (METRICS_HTTP_TIMEOUT_MS % 1000) * 1000 };
	struct mconn *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->bev = bufferevent_socket_new(mh->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(m);
		close(fd);
		return;
	}
	m->mh = mh;
	m->next = mh->conns;
	if (mh->conns != NULL)
		mh->conns->prev = m;
	mh->conns = m;
	mh->nconns++;
	if ((m->deadline = evtimer_new(mh->base, mconn_deadline_cb, m)) ==
	    NULL || evtimer_add(m->deadline, &tv) != 0) {
		mconn_free(m);
		return;
	}
	bufferevent_setwatermark(m->bev, EV_READ, 0, HTTP_HEAD_MAX);
	bufferevent_setcb(m->bev, mconn_read_cb, mconn_write_cb,
	    mconn_event_cb, m);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct metrics_http *mh = arg;

	(void)l;
	(void)sa;
	(void)socklen;
	if (mh->nconns >= METRICS_HTTP_CONNS) {
		metrics_inc(MC_LIMIT_HTTP);
		log_abuse(ABUSE_HTTP, LOG_WARNING, "metrics: over %d "
		    "connections: one closed", METRICS_HTTP_CONNS);
		close(fd);
		return;
	}
	mconn_new(mh, fd);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_http *mh = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(mh->lst);
}

/* Out of descriptors: pause a second rather than spin. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct metrics_http *mh = arg;
	struct timeval tv = { 1, 0 };

	log_msg(LOG_WARNING, "metrics: accept: %s",
	    strerror(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	evtimer_add(mh->backoff, &tv);
}

/* spec as host and port: "HOST:PORT", "[V6]:PORT" or "PORT". */
static int split_spec(const char *spec, char *host, size_t hsize,
    const char **port)
{
	if (strchr(spec, ':') != NULL)
		return listen_split(spec, host, hsize, port);
	snprintf(host, hsize, "%s", METRICS_DEFAULT_HOST);
	*port = spec;
	return *spec != '\0' ? 0 : -1;
}

static int metrics_listen(struct metrics_http *mh, const char *spec)
{
	char host[NI_MAXHOST];
	const char *port;

	if (split_spec(spec, host, sizeof(host), &port) != 0) {
		log_msg(LOG_ERR, "metrics: not HOST:PORT or PORT: %s", spec);
		return -1;
	}
	if ((mh->lst = listen_tcp(mh->base, "metrics", spec, host, port, 16,
	    accept_cb, mh)) == NULL)
		return -1;
	evconnlistener_set_error_cb(mh->lst, accept_error_cb);
	listen_address(mh->lst, "http", mh->addr, sizeof(mh->addr));
	return 0;
}

struct metrics_http *metrics_http_new(struct event_base *base,
    const char *spec)
{
	struct metrics_http *mh = calloc(1, sizeof(*mh));

	if (mh == NULL)
		return NULL;
	mh->base = base;
	if ((mh->backoff = evtimer_new(base, backoff_cb, mh)) == NULL ||
	    metrics_listen(mh, spec) != 0) {
		metrics_http_free(mh);
		return NULL;
	}
	return mh;
}

void metrics_http_address(struct metrics_http *mh, char *buf, size_t size)
{
	snprintf(buf, size, "%s", mh->addr);
}

void metrics_http_free(struct metrics_http *mh)
{
	if (mh == NULL)
		return;
	while (mh->conns != NULL)
		mconn_free(mh->conns);
	if (mh->lst != NULL)
		evconnlistener_free(mh->lst);
	if (mh->backoff != NULL)
		event_free(mh->backoff);
	free(mh);
}

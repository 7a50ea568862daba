/*
 * web-http.c: the web listener (web-http.h).
 *
 * Built as the metrics listener is (metrics-http.c, whose comment says
 * why not evhttp): an evconnlistener, one bufferevent and one deadline a
 * connection, the head parsed by http.c.  What differs: a request may
 * have a body, and its answer may wait for a session's lock or run a
 * trace, so it is made on a thread of its own (at most one a
 * connection, so at most WEB_HTTP_CONNS), never on the event loop,
 * which aspaced's protocol listener shares; the thread hands the answer
 * back with event_active().  A connection whose request is being
 * answered is freed only when its thread is done.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "http.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "web-api.h"
#include "web-http.h"

#define WEB_HTTP_LINGER_MS	1000

struct wconn {
	struct web_http	*wh;
	struct bufferevent *bev;
	struct event	*deadline, *done;
	struct http_head h;
	char		*body;		/* the request's, when whole */
	struct web_reply reply;
	bool		 busy;		/* its thread runs */
	bool		 doomed;	/* free when the thread is done */
	bool		 answered, lingering, eof;
	struct wconn	*prev, *next;
};

struct web_http {
	struct event_base *base;
	struct server	*srv;
	struct evconnlistener *lst;
	struct event	*backoff;
	char		 addr[128];
	unsigned int	 nconns;
	unsigned int	 nbusy;		/* atomic: threads running */
	struct wconn	*conns;
};

static void wconn_free(struct wconn *m)
{
	struct web_http *wh = m->wh;

	if (m->busy) {			/* its thread frees it */
		m->doomed = true;
		bufferevent_disable(m->bev, EV_READ | EV_WRITE);
		return;
	}
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		wh->conns = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	wh->nconns--;
	if (m->deadline != NULL)
		event_free(m->deadline);
	if (m->done != NULL)
		event_free(m->done);
	as_buf_free(&m->reply.body);
	free(m->body);
	bufferevent_free(m->bev);
	free(m);
}

static void send_reply(struct wconn *m)
{
	struct evbuffer *out = bufferevent_get_output(m->bev);
	struct web_reply *r = &m->reply;
	const char *body = r->fixed != NULL ? r->fixed : r->body.data;
	size_t len = r->fixed != NULL ? r->fixed_len : r->body.len;

	evbuffer_add_printf(out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", r->status,
	    r->type, len, r->extra);
	if (strcmp(m->h.method, "HEAD") != 0 && len > 0)
		evbuffer_add(out, body, len);
	m->answered = true;
	bufferevent_enable(m->bev, EV_WRITE);
}

/* An answer made on the loop: an error before any thread. */
static void reply_error(struct wconn *m, const char *status, const char *msg)
{
	memset(&m->reply, 0, sizeof(m->reply));
	as_buf_init(&m->reply.body, 4096);
	web_error(&m->reply, status, "HTTP", msg);
	send_reply(m);
}

static void *answer_thread(void *arg)
{
	struct wconn *m = arg;
	struct web_http *wh = m->wh;
	long long len = m->h.content_length > 0 ? m->h.content_length : 0;

	web_api_answer(wh->srv, &m->h, m->body != NULL ? m->body : "",
	    (size_t)len, &m->reply);
	event_active(m->done, EV_TIMEOUT, 0);
	return NULL;
}

/* Back on the loop: send the thread's answer (or free a doomed conn). */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wconn *m = arg;

	(void)fd;
	(void)what;
	m->busy = false;
	__atomic_sub_fetch(&m->wh->nbusy, 1, __ATOMIC_RELAXED);
	if (m->doomed)
		wconn_free(m);
	else
		send_reply(m);
}

static void start_answer(struct wconn *m)
{
	pthread_attr_t a;
	pthread_t t;
	int err;

	bufferevent_disable(m->bev, EV_READ);
	m->busy = true;
	__atomic_add_fetch(&m->wh->nbusy, 1, __ATOMIC_RELAXED);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &a, answer_thread, m);
	pthread_attr_destroy(&a);
	if (err != 0) {
		m->busy = false;
		__atomic_sub_fetch(&m->wh->nbusy, 1, __ATOMIC_RELAXED);
		reply_error(m, "503 Service Unavailable", "no thread");
	}
}

/* The head is in: refuse it, or wait for its body, or answer it. */
static void head_done(struct wconn *m, struct evbuffer *in)
{
	long long cl = m->h.content_length;
	bool post = strcmp(m->h.method, "POST") == 0;

	if (m->h.chunked)
		reply_error(m, "501 Not Implemented", "no Transfer-Encoding");
	else if (m->h.path[0] == '\0')
		reply_error(m, "404 Not Found", "no such path");
	else if (post && cl < 0)
		reply_error(m, "411 Length Required", "Content-Length needed");
	else if (cl > (long long)WEB_BODY_MAX)
		reply_error(m, "413 Content Too Large", "body over 256 KiB");
	else if ((size_t)(cl > 0 ? cl : 0) <= evbuffer_get_length(in) -
	    m->h.len) {
		evbuffer_drain(in, m->h.len);
		if (cl > 0 && (m->body = malloc((size_t)cl + 1)) == NULL) {
			reply_error(m, "503 Service Unavailable", "no memory");
			return;
		}
		if (cl > 0) {
			evbuffer_remove(in, m->body, (size_t)cl);
			m->body[cl] = '\0';
		}
		start_answer(m);
	} else		/* the body comes: read up to its end, no more */
		bufferevent_setwatermark(m->bev, EV_READ, 0,
		    m->h.len + (size_t)cl);
}

static void wconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct wconn *m = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	const char *p;

	if (m->answered || m->busy) {
		evbuffer_drain(in, len);
		return;
	}
	if (m->h.len > 0) {		/* the head was in: the body comes */
		head_done(m, in);
		return;
	}
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	if ((p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len)) == NULL)
		return;
	switch (http_parse_head(p, len, &m->h)) {
	case HTTP_HEAD_OK:
		head_done(m, in);
		break;
	case HTTP_HEAD_BAD:
		reply_error(m, "400 Bad Request", "malformed request");
		break;
	case HTTP_HEAD_TOO_LONG:
		reply_error(m, "431 Request Header Fields Too Large",
		    "head over 4 KiB");
		break;
	}
}

static void wconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct timeval tv = { WEB_HTTP_LINGER_MS / 1000,
	    (WEB_HTTP_LINGER_MS % 1000) * 1000 };
	struct wconn *m = arg;

	if (!m->answered || m->lingering ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	m->lingering = true;
	bufferevent_enable(bev, EV_READ);
	if (m->eof || shutdown(bufferevent_getfd(bev), SHUT_WR) != 0)
		wconn_free(m);
	else
		evtimer_add(m->deadline, &tv);
}

static void wconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct wconn *m = arg;

	if ((what & BEV_EVENT_ERROR) || ((what & BEV_EVENT_EOF) &&
	    ((!m->answered && !m->busy) || m->lingering)))
		wconn_free(m);
	else if (what & BEV_EVENT_EOF) {
		m->eof = true;
		bufferevent_disable(bev, EV_READ);
	}
}

static void wconn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wconn_free(arg);
}

static void wconn_new(struct web_http *wh, evutil_socket_t fd)
{
	struct timeval tv = { WEB_HTTP_TIMEOUT_MS / 1000,
	    (WEB_HTTP_TIMEOUT_MS % 1000) * 1000 };
	struct wconn *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->bev = bufferevent_socket_new(wh->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(m);
		close(fd);
		return;
	}
	m->wh = wh;
	m->next = wh->conns;
	if (wh->conns != NULL)
		wh->conns->prev = m;
	wh->conns = m;
	wh->nconns++;
	if ((m->deadline = evtimer_new(wh->base, wconn_deadline_cb, m)) ==
	    NULL || (m->done = event_new(wh->base, -1, 0, done_cb, m)) ==
	    NULL || evtimer_add(m->deadline, &tv) != 0) {
		wconn_free(m);
		return;
	}
	bufferevent_setwatermark(m->bev, EV_READ, 0, HTTP_HEAD_MAX);
	bufferevent_setcb(m->bev, wconn_read_cb, wconn_write_cb,
	    wconn_event_cb, m);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct web_http *wh = arg;

	(void)l;
	(void)sa;
	(void)socklen;
	if (wh->nconns >= WEB_HTTP_CONNS) {
		metrics_inc(MC_LIMIT_HTTP);
		log_abuse(ABUSE_HTTP, LOG_WARNING, "web: over %d "
		    "connections: one closed", WEB_HTTP_CONNS);
		close(fd);
		return;
	}
	wconn_new(wh, fd);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct web_http *wh = arg;

	(void)fd;
	(void)what;
	if (wh->lst != NULL)
		evconnlistener_enable(wh->lst);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct web_http *wh = arg;
	struct timeval tv = { 1, 0 };

	log_msg(LOG_WARNING, "web: accept: %s",
	    strerror(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	evtimer_add(wh->backoff, &tv);
}

static int web_listen(struct web_http *wh, const char *spec)
{
	char host[NI_MAXHOST];
	const char *port = spec;
	int err = 0;

	if (strchr(spec, ':') != NULL)
		err = listen_split(spec, host, sizeof(host), &port);
	else
		snprintf(host, sizeof(host), "%s", WEB_DEFAULT_HOST);
	if (err != 0 || *port == '\0') {
		log_msg(LOG_ERR, "web: not HOST:PORT or PORT: %s", spec);
		return -1;
	}
	if ((wh->lst = listen_tcp(wh->base, "web", spec, host, port, 16,
	    accept_cb, wh)) == NULL)
		return -1;
	evconnlistener_set_error_cb(wh->lst, accept_error_cb);
	listen_address(wh->lst, "http", wh->addr, sizeof(wh->addr));
	return 0;
}

struct web_http *web_http_new(struct event_base *base, const char *spec,
    struct server *srv)
{
	struct web_http *wh = calloc(1, sizeof(*wh));

	if (wh == NULL)
		return NULL;
	wh->base = base;
	wh->srv = srv;
	if ((wh->backoff = evtimer_new(base, backoff_cb, wh)) == NULL ||
	    web_listen(wh, spec) != 0) {
		web_http_free(wh);
		return NULL;
	}
	return wh;
}

void web_http_address(struct web_http *wh, char *buf, size_t size)
{
	snprintf(buf, size, "%s", wh->addr);
}

void web_http_stop(struct web_http *wh)
{
	if (wh == NULL || wh->lst == NULL)
		return;
	evconnlistener_free(wh->lst);
	wh->lst = NULL;
	evtimer_del(wh->backoff);
}

void web_http_free(struct web_http *wh)
{
	if (wh == NULL)
		return;
	web_http_stop(wh);
	/* A thread's answer comes back through the loop: run it until
	 * every thread is done. */
	while (__atomic_load_n(&wh->nbusy, __ATOMIC_RELAXED) > 0)
		event_base_loop(wh->base, EVLOOP_ONCE);
	while (wh->conns != NULL)
		wconn_free(wh->conns);
	if (wh->backoff != NULL)
		event_free(wh->backoff);
	free(wh);
}

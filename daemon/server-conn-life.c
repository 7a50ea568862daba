/*
 * server-conn-life.c: a client connection's life and state (server-int.h;
 * its frames and answers: server-conn.c): its making for a socket the
 * listener handed over (plain Unix or TLS, eviction of a stalled one
 * over a full unauthenticated pool), its timers (idle, handshake, frame
 * deadline and linger), its events, its end (with the release of its
 * admission and a later malloc_trim()), its tenant and hello's
 * authentication.
 */
#include <malloc.h>

#include "server-int.h"

#define CONN_TRIM_DELAY_S 1	/* from a connection freed to malloc_trim() */

/* --- connections ---------------------------------------------------------- */

/* A TLS connection going before its handshake completed. */
static void conn_tls_failed(struct conn *c)
{
	metrics_inc(MC_TLS_FAILURES);
	log_abuse(ABUSE_TLS, LOG_NOTICE, "%s: TLS handshake failed: %s",
	    c->peer, c->tls_err[0] != '\0' ? c->tls_err :
	    "closed before it completed");
}

/* Give back what c counts in (admission.h) and stop its timers. */
static void conn_release(struct conn *c)
{
	struct newconn n;

	if (c->hs_ev != NULL)
		event_free(c->hs_ev);
	if (c->frame_ev != NULL)
		event_free(c->frame_ev);
	n.key = c->key;
	n.tls = c->unauth;
	n.refuse = !c->counted;
	hand_undo(c->w->srv, &n);
	if (c->counted)
		metrics_inc(MC_CONN_CLOSED);
	if (c->unauth)
		metrics_inc(MC_UNAUTH_DONE);
}

/*
 * A second after connections were freed, the host memory malloc keeps
 * free goes back to the host (as session_free() does for sessions): the
 * buffers and TLS state of a class's thousands of idle connections
 * would otherwise stay in the daemon's RSS after they close.  Later, not
 * at once: libevent frees a TLS bufferevent after its last callback.
 * One trim pending at a time, whichever worker frees.
 */
static bool trim_pending;

static void conn_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	__atomic_store_n(&trim_pending, false, __ATOMIC_RELAXED);
	malloc_trim(0);
}

static void conn_trim_later(struct worker *w)
{
	static const struct timeval later = { CONN_TRIM_DELAY_S, 0 };

	if (__atomic_exchange_n(&trim_pending, true, __ATOMIC_RELAXED))
		return;
	if (event_base_once(w->base, -1, EV_TIMEOUT, conn_trim_cb, NULL,
	    &later) != 0)
		__atomic_store_n(&trim_pending, false, __ATOMIC_RELAXED);
}

void conn_free(struct conn *c)
{
	if (c->job != NULL) {	/* on the pool: freed when it is done */
		c->gone = true;
		/* Its request stops at its next step (req.h). */
		__atomic_store_n(&c->job->x.cancel, REQ_CANCEL_GONE,
		    __ATOMIC_RELAXED);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		evtimer_del(c->hs_ev);
		evtimer_del(c->frame_ev);
		return;
	}
	conn_release(c);
	if (c->ssl != NULL && !c->handshaked)
		conn_tls_failed(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ssl != NULL && !c->tls_failed && SSL_is_init_finished(c->ssl)) {
		/* close_notify; the socket is closed without waiting for the
		 * peer's (a unidirectional shutdown). */
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	bufferevent_free(c->bev);
	if (c->stage != NULL)
		evbuffer_free(c->stage);
	req_conn_release(c->w->srv, &c->rc);
	frame_arena_free(&c->in);
	conn_trim_later(c->w);
	frame_arena_free(&c->out);
	free(c);
}

/* A TLS connection's tenant from its verified client certificate. */
void conn_check_cert(struct conn *c)
{
	char name[TENANT_NAME_MAX + 1];
	uid_t t;

	c->cert_checked = true;
	if (!tls_peer_tenant(c->ssl, name, sizeof(name)))
		return;
	if ((t = tenants_intern(&c->w->srv->tenants, name)) == TENANT_NONE)
		return;
	c->rc.tenant = t;
	c->has_tenant = true;
}

/* c's hello succeeded: no handshake deadline, out of the
 * unauthenticated pool. */
void conn_authed(struct conn *c)
{
	evtimer_del(c->hs_ev);
	if (!c->unauth)
		return;
	admission_authed(c->w->srv->adm, &c->key);
	c->unauth = false;
	metrics_inc(MC_UNAUTH_DONE);
}

/* A frame not whole in time (or a closing connection's linger over):
 * close at once, whatever state its TLS is in. */
static void conn_frame_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->closing) {
		if (c->paused || c->job != NULL)
			return;
		metrics_inc(MC_DROPPED_FRAME);
		log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: closed: a frame not "
		    "whole within the frame timeout", c->peer);
	}
	conn_free(c);
}

/* The handshake deadline: the TLS handshake and the hello not done in
 * time; closed at once. */
static void conn_hs_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	metrics_inc(MC_DROPPED_HANDSHAKE);
	log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: closed: %s not done within the "
	    "handshake timeout", c->peer, c->ssl != NULL && !c->handshaked ?
	    "TLS handshake" : "hello");
	conn_free(c);
}

/* The idle timeout: answer QUOTA and close, or (why) close at once. */
static void conn_idle_timeout(struct conn *c, const char *why)
{
	metrics_inc(MC_LIMIT_IDLE);
	log_abuse(ABUSE_LIMITS, LOG_INFO, "%s: idle timeout%s%s", c->peer,
	    why != NULL ? ": the peer " : "", why != NULL ? why : "");
	if (why != NULL || (c->ssl != NULL && !c->handshaked)) {
		conn_free(c);	/* nothing it would read: close at once */
		return;
	}
	conn_fail(c, ASPACE__STATUS__CODE__QUOTA,
	    "idle timeout: closing the connection");
	conn_write_cb(c->bev, c);	/* written at once: close now */
}

/* Empty libevent's copies of the OpenSSL errors, keeping the first. */
static void conn_drain_tls_errors(struct conn *c)
{
	unsigned long e;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (c->tls_err[0] == '\0')
			ERR_error_string_n(e, c->tls_err, sizeof(c->tls_err));
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {	/* TLS: the handshake is done */
		c->handshaked = true;
		/* Whole batches of records in one read() from now on (the
		 * handshake itself reads no further than its own records). */
		SSL_set_read_ahead(c->ssl, 1);
		metrics_inc(MC_TLS_HANDSHAKES);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !(what & (BEV_EVENT_EOF |
	    BEV_EVENT_ERROR))) {
		if (c->closing)
			conn_free(c);	/* its last answer is not read */
		else if (what & BEV_EVENT_WRITING)
			conn_idle_timeout(c, "reads nothing");
		else if (c->paused || c->job != NULL)
			;	/* ours to answer: not idle */
		else
			conn_idle_timeout(c, NULL);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		c->tls_failed = true;
		if (c->ssl != NULL)
			conn_drain_tls_errors(c);
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

/* The TCP peer's "ADDR:PORT" into c->peer, for the logs. */
static void conn_peer_name(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	snprintf(c->peer, sizeof(c->peer), "tls peer");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(c->peer, sizeof(c->peer), ss.ss_family == AF_INET6 ?
		    "[%s]:%s" : "%s:%s", host, port);
}

/* A reference to the TLS context new connections use (server_reload()
 * swaps it); NULL if there is none. */
static SSL_CTX *tls_ctx_get(struct server *srv)
{
	SSL_CTX *ctx;

	pthread_mutex_lock(&srv->ctx_lock);
	if ((ctx = srv->ssl_ctx) != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&srv->ctx_lock);
	return ctx;
}

/* A bufferevent for n's socket: TLS (accepting) or plain Unix. */
static bool conn_bev(struct conn *c, struct worker *w, struct newconn *n)
{
	struct server *srv = w->srv;
	char name[TENANT_NAME_MAX + 1];
	SSL_CTX *ctx;

	if (!n->tls) {
		snprintf(name, sizeof(name), "uid:%lu", (unsigned long)n->uid);
		snprintf(c->peer, sizeof(c->peer), "%s", name);
		if ((c->rc.tenant = tenants_intern(&srv->tenants, name)) ==
		    TENANT_NONE)
			return false;
		c->has_tenant = true;
		c->bev = bufferevent_socket_new(w->base, n->fd,
		    BEV_OPT_CLOSE_ON_FREE);
		return c->bev != NULL;
	}
	c->rc.tenant = TENANT_NONE;
	conn_peer_name(c, n->fd);
	ctx = tls_ctx_get(srv);
	c->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);	/* c->ssl holds its own reference */
	if (c->ssl == NULL)
		return false;
	c->bev = bufferevent_openssl_socket_new(w->base, n->fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
		return false;
	}
	return true;
}

/* Is c stalled: unauthenticated, its TLS handshake not done within
 * ADM_EVICT_AGE_MS? */
static bool conn_stalled(const struct conn *c, uint64_t now)
{
	return c->unauth && c->ssl != NULL && !c->handshaked && !c->closing &&
	    c->job == NULL &&
	    now - c->born >= (uint64_t)ADM_EVICT_AGE_MS * 1000000u;
}

/*
 * n came over a full unauthenticated pool (ADM_EVICT), or random early
 * drop chose it (ADM_EVICT_DROP): close w's oldest stalled connection
 * for it; true if one was, else n is refused (closed here).
 */
static bool conn_evict(struct worker *w, struct newconn *n)
{
	uint64_t now = metrics_now();
	struct conn *c, *oldest = NULL;

	admission_evicted(w->srv->adm);
	/* New connections go to the head: the last one stalled is the
	 * oldest. */
	for (c = w->conns; c != NULL; c = c->next)
		if (conn_stalled(c, now))
			oldest = c;
	if (oldest == NULL) {
		metrics_inc(n->early ? MC_REFUSED_EARLY_DROP :
		    MC_REFUSED_UNAUTH);
		close(n->fd);
		hand_undo(w->srv, n);
		return false;
	}
	metrics_inc(MC_DROPPED_EVICTED);
	log_abuse(ABUSE_CONNECTIONS, LOG_INFO, "%s: closed: its TLS handshake "
	    "stalled with the unauthenticated pool full", oldest->peer);
	conn_free(oldest);
	return true;
}

/* c's buffers, bufferevent and timers for n; false (c's to free by
 * conn_unmake()) if one could not be had. */
static bool conn_make(struct conn *c, struct worker *w, struct newconn *n)
{
	c->w = w;
	c->key = n->key;
	return (c->stage = evbuffer_new()) != NULL &&
	    (c->hs_ev = evtimer_new(w->base, conn_hs_cb, c)) != NULL &&
	    (c->frame_ev = evtimer_new(w->base, conn_frame_cb, c)) != NULL &&
	    conn_bev(c, w, n);
}

static void conn_unmake(struct conn *c, struct newconn *n)
{
	struct server *srv = c->w->srv;

	if (c->stage != NULL)
		evbuffer_free(c->stage);
	if (c->hs_ev != NULL)
		event_free(c->hs_ev);
	if (c->frame_ev != NULL)
		event_free(c->frame_ev);
	free(c);
	close(n->fd);
	hand_undo(srv, n);
}

/* The idle timeout, and the handshake deadline of one not refused. */
static void conn_timers(struct conn *c, bool refuse)
{
	struct server *srv = c->w->srv;
	unsigned int idle_ms = __atomic_load_n(&srv->cfg.idle_timeout_ms,
	    __ATOMIC_RELAXED), hs_ms = __atomic_load_n(
	    &srv->cfg.handshake_timeout_ms, __ATOMIC_RELAXED);
	struct timeval idle = ms_tv(idle_ms), hs = ms_tv(hs_ms);

	if (idle_ms > 0)	/* reading: idle; writing: reads nothing */
		bufferevent_set_timeouts(c->bev, &idle, &idle);
	if (hs_ms > 0 && !refuse)
		evtimer_add(c->hs_ev, &hs);
}

void conn_new(struct worker *w, struct newconn *n)
{
	struct conn *c;

	if (n->evict && !conn_evict(w, n))
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL || !conn_make(c, w, n)) {
		if (c != NULL)
			conn_unmake(c, n);
		else {
			close(n->fd);
			hand_undo(w->srv, n);
		}
		return;
	}
	c->counted = !n->refuse;
	c->unauth = n->tls && !n->refuse;
	c->born = metrics_now();
	if (c->counted)
		metrics_inc(MC_CONN_OPENED);
	if (c->unauth)
		metrics_inc(MC_UNAUTH_OPENED);
	c->rc.max_body = __atomic_load_n(&w->srv->cfg.max_body,
	    __ATOMIC_RELAXED);
	frame_arena_init(&c->in, FRAME_ARENA_BUDGET(FRAME_MAX_BODY_PREAUTH));
	frame_arena_init(&c->out, RESPONSE_ARENA);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	conn_set_cap(c);
	conn_timers(c, n->refuse);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (n->refuse) {
		log_abuse(ABUSE_CONNECTIONS, LOG_WARNING, "%s: refused: over "
		    "%u connections", c->peer, w->srv->cfg.max_conns);
		conn_fail(c, ASPACE__STATUS__CODE__QUOTA,
		    "too many connections: try again later");
		conn_write_cb(c->bev, c);
	}
}

/* --- authentication (req-hello.c) -------------------------------------------- */

static struct conn *conn_of(const struct req_conn *rc)
{
	return (struct conn *)((char *)rc - offsetof(struct conn, rc));
}

int server_authenticate(struct server *srv, struct req_conn *rc,
    const char *token, size_t len)
{
	struct conn *c = conn_of(rc);
	char name[TENANT_NAME_MAX + 1];
	const char *who;
	uid_t t;

	if (c->has_tenant)
		return 0;
	pthread_rwlock_rdlock(&srv->tokens_lock);	/* vs a reload */
	who = token != NULL ? tokens_lookup(&srv->tokens, token, len) : NULL;
	if (who != NULL)
		snprintf(name, sizeof(name), "token:%s", who);
	pthread_rwlock_unlock(&srv->tokens_lock);
	if (who == NULL)
		goto refuse;
	if ((t = tenants_intern(&srv->tenants, name)) == TENANT_NONE)
		goto refuse;
	rc->tenant = t;
	c->has_tenant = true;
	return 0;
refuse:
	metrics_inc(MC_AUTH_FAILURES);
	log_abuse(ABUSE_AUTH, LOG_WARNING, "%s: hello refused: %s", c->peer,
	    token == NULL ? "no token" : "unknown token");
	c->refused = true;
	return -EACCES;
}

bool server_tenant_name(struct server *srv, const struct req_conn *rc,
    char *buf, size_t size)
{
	return conn_of(rc)->has_tenant &&
	    tenants_name(&srv->tenants, rc->tenant, buf, size);
}

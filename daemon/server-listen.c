/*
 * server-listen.c: the listeners (server-int.h): accepting on the Unix
 * sockets and the TLS ones, or on the sockets systemd passed, admission
 * (admission.h) and the hand-off to a worker.
 */
#include "server-int.h"

/* --- the listener ------------------------------------------------------------ */

#define REFUSING_MAX	64	/* refused Unix connections being answered */

#define LIVE(field)	__atomic_load_n(&srv->cfg.field, __ATOMIC_RELAXED)

void hand_limits(struct server *srv, struct adm_limits *l)
{
	l->max_conns = LIVE(max_conns);
	l->max_unauth = LIVE(max_unauth);
	l->drop_start = LIVE(unauth_drop_start);
	l->per_addr = LIVE(max_conns_per_addr);
	l->per_addr_unauth = LIVE(max_unauth_per_addr);
}

void hand_undo(struct server *srv, const struct newconn *n)
{
	if (n->refuse)
		__atomic_sub_fetch(&srv->nrefusing, 1, __ATOMIC_RELAXED);
	else
		admission_release(srv->adm, &n->key, n->tls);
}

/* The counter of a refusal's reason. */
static enum metrics_counter refusal_counter(enum adm_verdict v)
{
	switch (v) {
	case ADM_RESERVED:
		return MC_REFUSED_RESERVED;
	case ADM_UNAUTH_FULL:
		return MC_REFUSED_UNAUTH;
	case ADM_EARLY_DROP:
		return MC_REFUSED_EARLY_DROP;
	case ADM_PER_ADDR:
		return MC_REFUSED_PER_ADDR;
	case ADM_PER_ADDR_UNAUTH:
		return MC_REFUSED_PER_ADDR_UNAUTH;
	default:
		return MC_LIMIT_CONNECTIONS;
	}
}

/*
 * fd was not admitted (v): true to have a worker answer QUOTA and close
 * it, false when it is closed here.  A TLS connection is closed at once:
 * nothing can be said to it before a handshake, which is what a flood
 * would have the daemon spend.  A Unix one is answered, unless
 * REFUSING_MAX refused ones are being answered already.
 */
static bool hand_refused(struct server *srv, int fd, const char *peer,
    enum adm_verdict v, bool tls)
{
	metrics_inc(refusal_counter(v));
	if (!tls && __atomic_add_fetch(&srv->nrefusing, 1, __ATOMIC_RELAXED) <=
	    REFUSING_MAX)
		return true;
	if (!tls)
		__atomic_sub_fetch(&srv->nrefusing, 1, __ATOMIC_RELAXED);
	log_abuse(ABUSE_CONNECTIONS, LOG_WARNING, "%s: refused (%s): over "
	    "the limit, closed unanswered", peer, admission_reason(v));
	close(fd);
	return false;
}

/* The peer's address for the logs, from sa. */
static void hand_peer_name(const struct sockaddr *sa, char *buf,
    size_t size)
{
	char host[NI_MAXHOST];
	socklen_t len = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (getnameinfo(sa, len, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, size, "%s", host);
}

/*
 * Admit fd (admission.h) and give it to the next worker; one not
 * admitted is refused (hand_refused()).  TLS connections are
 * unauthenticated until their hello; a Unix one has its peer's
 * credentials and no address: the per-address limits are for IP peers.
 */
static void hand(struct server *srv, int fd, const struct sockaddr *sa,
    uid_t uid, bool tls)
{
	struct adm_limits l;
	struct adm_peer key;
	enum adm_verdict v;
	char peer[NI_MAXHOST + 8];

	metrics_inc(tls ? MC_ACCEPTED_TLS : MC_ACCEPTED_UNIX);
	hand_limits(srv, &l);
	adm_peer_of(&key, tls ? sa : NULL, uid);
	if (!tls)
		l.per_addr = l.per_addr_unauth = 0;
	v = admission_admit(srv->adm, &l, &key, tls);
	if (!adm_admits(v)) {
		if (tls && sa != NULL)
			hand_peer_name(sa, peer, sizeof(peer));
		else
			snprintf(peer, sizeof(peer), "uid:%lu",
			    (unsigned long)uid);
		if (!hand_refused(srv, fd, peer, v, tls))
			return;
	}
	worker_hand(&srv->workers[srv->next_worker], fd, &key, uid, tls, v);
	srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct server *srv = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)l;
	(void)sa;
	(void)socklen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	hand(srv, fd, NULL, cred.uid, false);
}

static void tls_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct server *srv = arg;
	int one = 1;

	(void)l;
	(void)socklen;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	hand(srv, fd, sa, 0, true);
}

void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nlst; i++)
		evconnlistener_enable(srv->lst[i]);
}

/* Out of descriptors (EMFILE, ENFILE) or memory: pause every listener
 * for accept_backoff_ms rather than spin on a pending connection. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR(), i;
	struct timeval tv;

	(void)l;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_msg(LOG_ERR, "accept: %s", strerror(err));
		return;
	}
	if (evtimer_pending(srv->backoff, NULL))
		return;
	log_msg(LOG_WARNING, "accept: %s: pausing the listeners %u ms",
	    strerror(err), srv->cfg.accept_backoff_ms);
	for (i = 0; i < srv->nlst; i++)
		evconnlistener_disable(srv->lst[i]);
	tv.tv_sec = srv->cfg.accept_backoff_ms / 1000;
	tv.tv_usec = (srv->cfg.accept_backoff_ms % 1000) * 1000;
	evtimer_add(srv->backoff, &tv);
}

static int listen_unix(struct server *srv, const char *path)
{
	struct sockaddr_un sun;
	struct evconnlistener *l;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_msg(LOG_ERR, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	l = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (l == NULL) {
		log_msg(LOG_ERR, "cannot listen on %s: %s", path,
		    strerror(errno));
		return -1;
	}
	srv->unlink[srv->nlst] = path;
	snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]), "unix:%s", path);
	srv->lst[srv->nlst++] = l;
	/* Every local user may connect: each is its own tenant. */
	chmod(path, 0666);
	evconnlistener_set_error_cb(l, accept_error_cb);
	return 0;
}

/* Note the bound address of TLS listener l in srv->addr. */
static void note_tls_address(struct server *srv, struct evconnlistener *l)
{
	listen_address(l, "tls", srv->addr[srv->nlst], sizeof(srv->addr[0]));
}

static int listen_tls(struct server *srv, const char *spec)
{
	char host[NI_MAXHOST];
	struct evconnlistener *l;
	const char *port;

	if (listen_split(spec, host, sizeof(host), &port) != 0) {
		log_msg(LOG_ERR, "not HOST:PORT: %s", spec);
		return -1;
	}
	if ((l = listen_tcp(srv->base, "tls", spec, host, port, 128,
	    tls_accept_cb, srv)) == NULL)
		return -1;
	evconnlistener_set_error_cb(l, accept_error_cb);
	note_tls_address(srv, l);
	srv->lst[srv->nlst++] = l;
	return 0;
}

bool server_address(struct server *srv, int i, char *buf, size_t size)
{
	if (i < 0 || i >= srv->nlst)
		return false;
	snprintf(buf, size, "%s", srv->addr[i]);
	return true;
}

bool server_tls_address(struct server *srv, char *buf, size_t size)
{
	int i;

	for (i = 0; i < srv->nlst; i++)
		if (strncmp(srv->addr[i], "tls://", 6) == 0)
			return server_address(srv, i, buf, size);
	return false;
}

/* Note the path of Unix listener fd in srv->addr ("@name": abstract). */
static void note_unix_address(struct server *srv, int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	size_t n;

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path))
		return;
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (sun.sun_path[0] == '\0' && n > 1)
		snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]),
		    "unix:@%.*s", (int)(n - 1), sun.sun_path + 1);
	else
		snprintf(srv->addr[srv->nlst], sizeof(srv->addr[0]),
		    "unix:%.*s", (int)strnlen(sun.sun_path, n), sun.sun_path);
}

/* Serve on fd, a listening socket systemd passed: a Unix one, or a TCP
 * one that speaks TLS.  It is not unlinked at the end: systemd's. */
static int listen_fd(struct server *srv, int fd, bool is_unix)
{
	struct evconnlistener *l;

	if (srv->nlst >= 2 * SERVER_LISTEN_MAX) {
		fprintf(stderr, "aspaced: more than %d sockets\n",
		    2 * SERVER_LISTEN_MAX);
		return -1;
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (l = evconnlistener_new(srv->base, is_unix ? accept_cb :
	    tls_accept_cb, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, fd)) == NULL) {
		fprintf(stderr, "aspaced: cannot serve descriptor %d: %s\n",
		    fd, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	if (is_unix)
		note_unix_address(srv, fd);
	else
		note_tls_address(srv, l);
	srv->lst[srv->nlst++] = l;
	return 0;
}

/*
 * Socket activation: the sockets systemd passed take the place of every
 * --listen, each classified by its address family (AF_UNIX: a Unix
 * listener; AF_INET, AF_INET6: TLS).
 */
static int listen_passed(struct server *srv, const struct server_config *cfg)
{
	int i, fam;

	for (i = 0; i < cfg->nlisten_fds; i++) {
		if ((fam = sdp_socket_family(cfg->listen_fds[i])) < 0) {
			fprintf(stderr, "aspaced: descriptor %d from systemd "
			    "is not a listening stream socket\n",
			    cfg->listen_fds[i]);
			return -1;
		}
		if (fam != AF_UNIX && srv->ssl_ctx == NULL) {
			fprintf(stderr, "aspaced: a TCP socket from systemd "
			    "needs --tls-cert and --tls-key\n");
			return -1;
		}
		if (listen_fd(srv, cfg->listen_fds[i], fam == AF_UNIX) != 0)
			return -1;
	}
	return 0;
}

/* Every listener of cfg; 0 or -1. */
int listen_all(struct server *srv, const struct server_config *cfg)
{
	int i;

	if (cfg->nlisten_fds > 0)
		return listen_passed(srv, cfg);
	if (cfg->unix_path != NULL && listen_unix(srv, cfg->unix_path) != 0)
		return -1;
	for (i = 0; i < SERVER_LISTEN_MAX - 1 && cfg->unix_more[i] != NULL;
	    i++)
		if (listen_unix(srv, cfg->unix_more[i]) != 0)
			return -1;
	if (cfg->tls_listen != NULL && listen_tls(srv, cfg->tls_listen) != 0)
		return -1;
	for (i = 0; i < SERVER_LISTEN_MAX - 1 && cfg->tls_more[i] != NULL;
	    i++)
		if (listen_tls(srv, cfg->tls_more[i]) != 0)
			return -1;
	return 0;
}

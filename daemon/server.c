/*
 * server.c: the listener and the workers (server.h): here their life,
 * limits and reload; a connection in server-conn.c and
 * server-conn-life.c, the workers in server-worker.c, the listeners in
 * server-listen.c (server-int.h), and which connections are taken in
 * admission.c (admission.h).
 *
 * Threads: the listener thread runs srv->base (the accept listener and
 * the signals, which service.c handles); each worker runs its own
 * w->base with its connections.  A connection belongs to one worker for
 * its life, so its state needs no lock.  The listener hands an accepted
 * fd to a worker by queueing it under w->qlock and writing one byte to
 * w's pipe.  Locks of the sessions: session-table.c.  A reload swaps the
 * TLS context under ctx_lock and the tokens under tokens_lock, and
 * stores the live limits atomically (the end of this file).
 *
 * Reading a frame: the header first, checked byte by byte as it arrives
 * against the connection's cap (FRAME_MAX_BODY_PREAUTH before hello,
 * cfg.max_body after); the body is pulled up only once it is whole, and
 * the bufferevent's read high-water mark keeps what libevent buffers to
 * one frame's worth.  A bad header or an over-cap length is answered
 * (id 0) and the connection closed once the answer is written.
 *
 * A batch costs one read() and one write() (docs/architecture.md, the
 * daemon's hot path): TLS reads ahead once the handshake is done; the
 * frames of a callback are drained from the input once; their answers
 * are staged in c->stage and written straight to the socket at the end
 * when nothing waits in the bufferevent before them, the rest handed to
 * the bufferevent; access requests and answers use frame-fast.c.
 *
 * Tenants (tokens.h): a Unix-socket connection's is "uid:N" from its
 * peer credentials, known at accept.  A TLS connection (a TCP listener
 * speaks nothing else) runs a bufferevent_openssl; once its handshake is
 * done, a verified client certificate gives "cert:CN" (tls.h); without
 * one, the connection's hello must carry a token of the token file
 * ("token:NAME"), else it is answered UNAUTHENTICATED and closed.  A TLS
 * connection closed by the daemon, or by a peer that sent close_notify,
 * gets a close_notify (SSL_shutdown) before its socket is closed; one
 * that failed (handshake, a dirty close) does not.
 *
 * Deadlines (server-conn-life.c, server-conn.c): the TLS handshake and
 * the hello within handshake_timeout_ms of the accept, a frame whole
 * within frame_timeout_ms of its first byte; a connection past one is
 * closed at once.  Whatever state its TLS is in, a closed connection
 * gives its slot back at once: nothing is queued for one that cannot be
 * written.
 */
#include "server-int.h"

/* The listener's signals (service.c): stop, stop, reload; in debug builds
 * also one that stalls a worker, for the watchdog's test. */
static const int server_signals[SERVER_NSIGNALS] = { SIGINT, SIGTERM, SIGHUP,
#ifdef ASPACE_DEBUG
	SIGUSR2,
#endif
};

void server_config_default(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 2;
	cfg->max_body = FRAME_MAX_BODY_DEFAULT;
	cfg->max_sessions = 16;
	cfg->max_sessions_total = 1024;
	cfg->trace_output_max = FRAME_MAX_BODY_DEFAULT - 4096;
	cfg->ram_max = 4UL << 30;
	cfg->max_conns = 1024;
	cfg->idle_timeout_ms = 300000;
	cfg->handshake_timeout_ms = 10000;
	cfg->frame_timeout_ms = 30000;
	cfg->max_unauth = 64;
	cfg->unauth_drop_start = 32;
	cfg->max_conns_per_addr = 128;
	cfg->max_unauth_per_addr = 16;
	cfg->drain_timeout_ms = 10000;
	cfg->max_inflight = 64;
	cfg->ram_total = 64ULL << 30;
	cfg->pool_threads = 4;
	cfg->pool_queue = 256;
	cfg->accept_backoff_ms = 100;
	cfg->request_cpu_ms = 5000;
	cfg->trace_line_limit = 1000000;
	cfg->pool_tenant_jobs = 32;
	cfg->log_level = LOG_INFO;
}

unsigned long long server_ram_total(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.ram_total, __ATOMIC_RELAXED);
}

struct session_table *server_sessions(struct server *srv)
{
	return &srv->sessions;
}

/* These limits may change at a reload (server_reload()): atomic loads. */
size_t server_trace_output_max(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.trace_output_max, __ATOMIC_RELAXED);
}

unsigned long server_ram_max(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.ram_max, __ATOMIC_RELAXED);
}

unsigned int server_max_sessions(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.max_sessions, __ATOMIC_RELAXED);
}

unsigned int server_request_cpu_ms(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.request_cpu_ms, __ATOMIC_RELAXED);
}

unsigned int server_trace_line_limit(struct server *srv)
{
	return __atomic_load_n(&srv->cfg.trace_line_limit, __ATOMIC_RELAXED);
}

struct pool *server_pool(struct server *srv)
{
	return srv->pool;
}

bool server_cancelled(struct server *srv)
{
	return __atomic_load_n(&srv->cancel_all, __ATOMIC_RELAXED);
}

void server_cancel_all(struct server *srv)
{
	__atomic_store_n(&srv->cancel_all, true, __ATOMIC_RELAXED);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	service_signal(srv->svc, (int)sig);
}

static int add_signals(struct server *srv)
{
	size_t i;

	for (i = 0; i < SERVER_NSIGNALS; i++) {
		srv->sig[i] = evsignal_new(srv->base, server_signals[i],
		    signal_cb, srv);
		if (srv->sig[i] == NULL || event_add(srv->sig[i], NULL) != 0)
			return -1;
	}
	return 0;
}

/* Start the workers with the listener's signals blocked. */
static int start_workers(struct server *srv)
{
	sigset_t block, old;
	int i, err = 0;
	size_t j;

	sigemptyset(&block);
	for (j = 0; j < SERVER_NSIGNALS; j++)
		sigaddset(&block, server_signals[j]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < srv->nworkers && err == 0; i++)
		err = worker_init(srv, &srv->workers[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* Sessions from the state directory, and the checkpoint thread. */
static int persist_setup(struct server *srv, const struct server_config *cfg)
{
	unsigned int n;

	if (cfg->state_dir == NULL)
		return 0;
	srv->persist = persist_new(cfg->state_dir, &srv->tenants,
	    cfg->ram_max);
	if (srv->persist == NULL)
		return -1;
	if ((n = persist_restore(srv->persist, &srv->sessions)) > 0)
		log_msg(LOG_NOTICE, "%u session%s restored from %s", n,
		    n == 1 ? "" : "s", cfg->state_dir);
	return persist_start(srv->persist, &srv->sessions, cfg->checkpoint_ms);
}

struct persist *server_persist(struct server *srv)
{
	return srv->persist;
}

/* The metrics listener on srv's loop, unless metrics_listen is NULL or
 * "none": 0 or -1. */
static int listen_metrics(struct server *srv, const struct server_config *cfg)
{
	if (cfg->metrics_listen == NULL ||
	    strcmp(cfg->metrics_listen, "none") == 0)
		return 0;
	srv->metrics = metrics_http_new(srv->base, cfg->metrics_listen);
	return srv->metrics != NULL ? 0 : -1;
}

bool server_metrics_address(struct server *srv, char *buf, size_t size)
{
	if (srv->metrics == NULL)
		return false;
	metrics_http_address(srv->metrics, buf, size);
	return true;
}

/* The web listener on srv's loop, unless web_listen is NULL or "none". */
static int listen_web(struct server *srv, const struct server_config *cfg)
{
	if (cfg->web_listen == NULL || strcmp(cfg->web_listen, "none") == 0)
		return 0;
	if ((srv->web_auth = malloc(sizeof(*srv->web_auth))) == NULL)
		return -1;
	web_auth_init(srv->web_auth);
	srv->web = web_http_new(srv->base, cfg->web_listen, srv);
	return srv->web != NULL ? 0 : -1;
}

bool server_web_listen_address(struct server *srv, char *buf, size_t size)
{
	if (srv->web == NULL)
		return false;
	web_http_address(srv->web, buf, size);
	return true;
}

struct web_auth *server_web_auth(struct server *srv)
{
	return srv->web != NULL ? srv->web_auth : NULL;
}

void server_web_address(struct server *srv, char *buf, size_t size)
{
	if (!server_web_listen_address(srv, buf, size))
		snprintf(buf, size, "http://none");
}

struct server *server_new(const struct server_config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	srv->cfg = *cfg;
	metrics_start();
	pthread_mutex_init(&srv->ctx_lock, NULL);
	pthread_rwlock_init(&srv->tokens_lock, NULL);
	stable_init(&srv->sessions, cfg->max_sessions_total, cfg->max_sessions);
	stable_set_mem_limit(&srv->sessions, cfg->ram_total);
	tenants_init(&srv->tenants);
	signal(SIGPIPE, SIG_IGN);
	srv->nworkers = cfg->workers;
	srv->workers = calloc((size_t)cfg->workers, sizeof(*srv->workers));
	if (srv->workers == NULL || (srv->adm = admission_new()) == NULL ||
	    tokens_load(&srv->tokens, cfg->token_file) != 0 ||
	    ((cfg->tls_listen != NULL || cfg->tls_cert != NULL) &&
	    (srv->ssl_ctx = tls_server_ctx(
	    cfg->tls_cert, cfg->tls_key, cfg->tls_client_ca)) == NULL) ||
	    evthread_use_pthreads() != 0 ||
	    (srv->base = event_base_new()) == NULL || add_signals(srv) != 0 ||
	    (srv->backoff = evtimer_new(srv->base, backoff_cb, srv)) == NULL ||
	    (cfg->pool_threads > 0 && (srv->pool = pool_new(cfg->pool_threads,
	    cfg->pool_queue, cfg->pool_tenant_jobs)) == NULL) ||
	    persist_setup(srv, cfg) != 0 ||
	    start_workers(srv) != 0 || listen_all(srv, cfg) != 0 ||
	    listen_metrics(srv, cfg) != 0 || listen_web(srv, cfg) != 0 ||
	    (srv->svc = service_new(srv, srv->base)) == NULL) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

int server_run(struct server *srv)
{
	int rc;

	service_ready(srv->svc);
	rc = event_base_dispatch(srv->base) < 0 ? -1 : 0;
	server_before_exit(srv);
	return rc;
}

void server_free(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlst; i++) {
		evconnlistener_free(srv->lst[i]);
		if (srv->unlink[i] != NULL)
			unlink(srv->unlink[i]);
	}
	/* The loops first, then the pool: a job done later is never run,
	 * and worker_fini() frees what it left. */
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		worker_stop(&srv->workers[i]);
	pool_free(srv->pool);
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		worker_fini(&srv->workers[i]);
	metrics_http_free(srv->metrics);
	web_http_free(srv->web);	/* its threads use the sessions */
	if (srv->web_auth != NULL) {
		web_auth_destroy(srv->web_auth);
		free(srv->web_auth);
	}
	if (srv->backoff != NULL)
		event_free(srv->backoff);
	for (i = 0; i < (int)SERVER_NSIGNALS; i++)
		if (srv->sig[i] != NULL)
			event_free(srv->sig[i]);
	service_free(srv->svc);
	if (srv->base != NULL)
		event_base_free(srv->base);
	free(srv->workers);
	admission_free(srv->adm);
	if (srv->persist != NULL) {	/* every request is done: save all */
		persist_save_all(srv->persist, &srv->sessions);
		persist_free(srv->persist);
	}
	stable_free(&srv->sessions);
	SSL_CTX_free(srv->ssl_ctx);
	tokens_free(&srv->tokens);
	tenants_free(&srv->tenants);
	pthread_mutex_destroy(&srv->ctx_lock);
	pthread_rwlock_destroy(&srv->tokens_lock);
	free(srv);
}

/* A new TLS context from nc's files; the old one stays if they fail. */
static int reload_tls(struct server *srv, const struct server_config *nc)
{
	SSL_CTX *ctx, *old;

	if (srv->ssl_ctx == NULL)
		return 0;	/* no TLS listener */
	if (nc->tls_cert == NULL || nc->tls_key == NULL) {
		fprintf(stderr, "aspaced: reload: no certificate and key "
		    "given: keeping the old ones\n");
		return -1;
	}
	if ((ctx = tls_server_ctx(nc->tls_cert, nc->tls_key,
	    nc->tls_client_ca)) == NULL) {
		fprintf(stderr, "aspaced: reload: keeping the old "
		    "certificate\n");
		return -1;
	}
	pthread_mutex_lock(&srv->ctx_lock);
	old = srv->ssl_ctx;
	srv->ssl_ctx = ctx;
	pthread_mutex_unlock(&srv->ctx_lock);
	SSL_CTX_free(old);	/* its connections keep their references */
	return 0;
}

static int reload_tokens(struct server *srv, const struct server_config *nc)
{
	struct token_table tt, old;

	if (tokens_load(&tt, nc->token_file) != 0) {
		fprintf(stderr, "aspaced: reload: keeping the old tokens\n");
		return -1;
	}
	pthread_rwlock_wrlock(&srv->tokens_lock);
	old = srv->tokens;
	srv->tokens = tt;
	pthread_rwlock_unlock(&srv->tokens_lock);
	tokens_free(&old);
	return 0;
}

#define LIVE_SET(field)	__atomic_store_n(&srv->cfg.field, nc->field, \
    __ATOMIC_RELAXED)

/* The limits that may change under running connections; a lower one
 * holds for what comes next (connections, sessions, requests), and
 * what is already there stays. */
static void reload_limits(struct server *srv, const struct server_config *nc)
{
	LIVE_SET(max_conns);
	LIVE_SET(idle_timeout_ms);
	LIVE_SET(handshake_timeout_ms);
	LIVE_SET(frame_timeout_ms);
	LIVE_SET(max_unauth);
	LIVE_SET(unauth_drop_start);
	LIVE_SET(max_conns_per_addr);
	LIVE_SET(max_unauth_per_addr);
	LIVE_SET(drain_timeout_ms);
	LIVE_SET(max_inflight);
	LIVE_SET(max_body);
	LIVE_SET(ram_max);
	LIVE_SET(trace_output_max);
	LIVE_SET(accept_backoff_ms);
	LIVE_SET(max_sessions);
	LIVE_SET(request_cpu_ms);
	LIVE_SET(trace_line_limit);
	LIVE_SET(ram_total);
	stable_set_mem_limit(&srv->sessions, nc->ram_total);
	pthread_mutex_lock(&srv->sessions.lock);
	srv->sessions.max_total = nc->max_sessions_total;
	srv->sessions.max_per_tenant = nc->max_sessions;
	srv->cfg.max_sessions_total = nc->max_sessions_total;
	pthread_mutex_unlock(&srv->sessions.lock);
	if (nc->workers != srv->cfg.workers ||
	    nc->pool_threads != srv->cfg.pool_threads ||
	    nc->pool_queue != srv->cfg.pool_queue ||
	    nc->pool_tenant_jobs != srv->cfg.pool_tenant_jobs)
		fprintf(stderr, "aspaced: reload: the workers, pool threads, "
		    "pool queue and pool-tenant-jobs change at a restart "
		    "only\n");
}

int server_reload(struct server *srv, const struct server_config *nc)
{
	int rc = 0;

	if (reload_tls(srv, nc) != 0)
		rc = -1;
	if (reload_tokens(srv, nc) != 0)
		rc = -1;
	reload_limits(srv, nc);
	return rc;
}

int server_reload_files(struct server *srv)
{
	return server_reload(srv, &srv->cfg);
}

void server_set_reload(struct server *srv,
    void (*fn)(struct server *, void *), void *arg)
{
	service_set_reload(srv->svc, fn, arg);
}

/*
 * After the drain at SIGTERM (or when the loop failed), before
 * server_run() returns: no connection is left and the listeners are
 * closed, but the workers, the pool and the sessions are all there.  The
 * place for writing every session out (persistence, to come).
 */
void server_before_exit(struct server *srv)
{
	unsigned int failed;

	if (srv->persist == NULL)
		return;
	if ((failed = persist_save_all(srv->persist, &srv->sessions)) > 0)
		log_msg(LOG_ERR, "%u session%s not saved", failed,
		    failed == 1 ? "" : "s");
}

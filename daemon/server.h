/*
 * server.h: aspaced's event loops.  One listener thread (the caller of
 * server_run(), with its own event_base) accepts on the Unix socket and
 * on the TLS listener and hands each connection to a worker thread,
 * round robin, through the worker's notification pipe (memcached's
 * thread.c model).  Each worker has its own event_base and runs its
 * connections with bufferevents (bufferevent_openssl for TLS, tls.h):
 * frames are read with frame.c, decoded in a budgeted arena, run by
 * req_dispatch() and answered with a framed Response.
 */
#ifndef ASPACED_SERVER_H
#define ASPACED_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#define SERVER_LISTEN_MAX	8	/* listeners of each kind */

struct server_config {
	const char	*unix_path;		/* unix: listener, or NULL */
	const char	*tls_listen;		/* HOST:PORT TLS listener, or NULL */
	const char	*unix_more[SERVER_LISTEN_MAX - 1];	/* more, NULL-ended */
	const char	*tls_more[SERVER_LISTEN_MAX - 1];
	/* Sockets systemd passed (sd.h): with any, they replace every
	 * listener above. */
	const int	*listen_fds;
	int		 nlisten_fds;
	const char	*tls_cert;		/* PEM chain, with tls_listen */
	const char	*tls_key;		/* PEM key, with tls_listen */
	const char	*tls_client_ca;		/* verify client certs, or NULL */
	const char	*token_file;		/* bearer tokens, or NULL */
	int		 workers;		/* worker threads */
	unsigned int	 max_body;		/* body cap after hello */
	unsigned int	 max_sessions;		/* per tenant */
	unsigned int	 max_sessions_total;	/* the whole daemon */
	size_t		 trace_output_max;	/* run_trace, maps text */
	unsigned long	 ram_max;		/* per session's ram_bytes */
	/* Limits (aspaced's long options). */
	unsigned int	 max_conns;		/* open connections */
	unsigned int	 idle_timeout_ms;	/* 0: none */
	/* Admission (admission.h) and deadlines; 0: none. */
	unsigned int	 handshake_timeout_ms;	/* TLS handshake and hello */
	unsigned int	 frame_timeout_ms;	/* a frame, once begun */
	unsigned int	 max_unauth;		/* unauthenticated (TLS) */
	unsigned int	 unauth_drop_start;	/* random early drop from */
	unsigned int	 max_conns_per_addr;	/* per IP address */
	unsigned int	 max_unauth_per_addr;
	unsigned int	 drain_timeout_ms;	/* SIGTERM's drain, at most */
	unsigned int	 max_inflight;		/* per connection */
	unsigned long long ram_total;		/* all sessions' RAM; 0: none */
	int		 pool_threads;		/* for long requests */
	unsigned int	 pool_queue;		/* long requests queued */
	unsigned int	 accept_backoff_ms;	/* after EMFILE/ENFILE */
	/* Time as the kernel accounts it (req-run-trace.c, pool.h). */
	unsigned int	 request_cpu_ms;	/* a run_trace's CPU; 0: none */
	unsigned int	 trace_line_limit;	/* a run_trace's lines; 0: none */
	unsigned int	 pool_tenant_jobs;	/* a tenant's in the pool; 0: none */
	/* Read from the configuration (conf.c) for the pieces to come. */
	const char	*state_dir;		/* sessions kept across restarts */
	const char	*runtime_dir;		/* the default socket's */
	const char	*metrics_listen;	/* HOST:PORT, or NULL: none */
	const char	*web_listen;	/* HOST:PORT, or NULL: none */
	unsigned int	 checkpoint_ms;		/* 0: no checkpoints */
	int		 log_level;		/* LOG_ERR .. LOG_DEBUG */
	int		 log_target;		/* SERVER_LOG_* */
};

#define SERVER_LOG_AUTO		0	/* the journal, syslog or stderr */
#define SERVER_LOG_STDERR	1
#define SERVER_LOG_SYSLOG	2
#define SERVER_LOG_JOURNAL	3

struct server;

void server_config_default(struct server_config *cfg);
/* Bind the listener and start the workers; NULL with a message on stderr. */
struct server *server_new(const struct server_config *cfg);
/* The TLS listener's bound address, "tls://HOST:PORT"; false if none. */
bool server_tls_address(struct server *srv, char *buf, size_t size);
/* The i-th listener's address ("unix:PATH", "tls://HOST:PORT"); false past
 * the last. */
bool server_address(struct server *srv, int i, char *buf, size_t size);
/* The metrics listener's bound address, "http://HOST:PORT"; false if
 * none (metrics_listen NULL or "none"). */
bool server_metrics_address(struct server *srv, char *buf, size_t size);
/* The web listener's, likewise (web_listen). */
bool server_web_listen_address(struct server *srv, char *buf, size_t size);
/*
 * Serve until SIGINT or SIGTERM, then drain (service.h): stop accepting,
 * answer what the connections had sent, close them; 0, or -1 on a
 * failure of the loop.  SIGHUP reloads (server_set_reload()).
 */
int server_run(struct server *srv);
/*
 * At SIGHUP, fn(srv, arg) on the listener thread: re-read the
 * configuration and pass it to server_reload().  Without fn, SIGHUP
 * reloads the files of the configuration server_new() was given.
 */
void server_set_reload(struct server *srv,
    void (*fn)(struct server *, void *), void *arg);
/*
 * Apply newcfg (which need only live through the call): a new TLS context
 * from its certificate, key and client CA for the connections to come
 * (those open keep theirs), its token file, and its limits but the
 * workers and the pool's.  A file that does not load keeps the old one
 * (said on stderr): 0, or -1 if one did not.  Listener thread only.
 */
int server_reload(struct server *srv, const struct server_config *newcfg);
/* Called by server_run() once drained: the place to save the sessions. */
void server_before_exit(struct server *srv);
/* Stop accepting, close every connection, join the workers, free all. */
void server_free(struct server *srv);

/*
 * For hello (req-hello.c): authenticate rc's connection, which must be
 * one of this server's.  A Unix-socket or client-certificate connection
 * already has its tenant and ignores token; a TLS connection without one
 * needs a token from the token file (len bytes, NULL if none).  0 when
 * rc has a tenant (rc->authed is then the caller's to set), -EACCES when
 * not: the connection is then closed once the answer is written.
 */
struct req_conn;
int server_authenticate(struct server *srv, struct req_conn *rc,
    const char *token, size_t len);
/* rc's tenant name ("uid:N", "cert:CN", "token:NAME") into buf. */
bool server_tenant_name(struct server *srv, const struct req_conn *rc,
    char *buf, size_t size);

#endif /* ASPACED_SERVER_H */

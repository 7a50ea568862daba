/*
 * server-int.h: what the pieces of the server share (server.h is the
 * outside's view).  server.c: the server's life, its limits, a reload;
 * server-conn.c: a connection's frames in and answers out;
 * server-conn-life.c: a connection's making, timers, end and
 * authentication; server-worker.c: the worker threads, heartbeats and the
 * drain; server-listen.c: the listeners and admission (admission.h).
 * Threads and locks: server.c's top comment.
 */
#ifndef ASPACED_SERVER_INT_H
#define ASPACED_SERVER_INT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admission.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "metrics-http.h"
#include "persist.h"
#include "pool.h"
#include "req.h"
#include "sd.h"
#include "server.h"
#include "service.h"
#include "tls.h"
#include "tokens.h"
#include "web-auth.h"
#include "web-http.h"

#define RESPONSE_ARENA	(4u << 20)	/* bytes for one response's parts */
#define TLS_RECORD_MAX	16384		/* plaintext bytes in one record */

/* The listener's signals (server.c's server_signals[]). */
#ifdef ASPACE_DEBUG
#define SERVER_NSIGNALS	4
#else
#define SERVER_NSIGNALS	3
#endif

struct newconn {
	int		 fd;
	uid_t		 uid;		/* the peer's, on the Unix socket */
	bool		 tls;		/* from the TLS listener */
	bool		 refuse;	/* not admitted: answer, close */
	bool		 evict;		/* ADM_EVICT(_DROP): its worker closes
					 * its oldest stalled one, or it */
	bool		 early;		/* ADM_EVICT_DROP */
	struct adm_peer	 key;		/* its admission's */
	struct newconn	*next;
};

struct conn;

/* A request running on the pool (pool.h) for its connection. */
struct conn_job {
	struct pool_job	 pj;
	struct conn	*c;
	Aspace__Response resp;
	Aspace__Status	 st;
	struct req_ctx	 x;
	uint64_t	 t0;		/* its start (conn.now) */
	struct event	*gone_ev;	/* the peer's close, while it runs */
};

struct worker {
	struct server	*srv;
	pthread_t	 thread;
	bool		 started;
	struct event_base *base;
	int		 notify[2];	/* pipe: [0] read by the worker */
	struct event	*notify_ev;
	pthread_mutex_t	 qlock;
	struct newconn	*qhead, *qtail;
	struct conn	*conns;		/* the worker's own */
	/* For the service (service.h): the watchdog's heartbeat, a count
	 * for STATUS=, the drain at SIGTERM. */
	struct event	*beat_ev;
	uint64_t	 beat;		/* atomic: CLOCK_MONOTONIC, usec */
	unsigned long long requests;	/* answered; atomic for others */
	bool		 draining;
	bool		 drained;	/* atomic: draining, no connection */
	struct event	*drain_ev;
};

struct conn {
	struct worker	*w;
	struct bufferevent *bev;
	SSL		*ssl;		/* a TLS connection's, owned by bev */
	bool		 tls_failed;	/* no close_notify at the close */
	bool		 cert_checked;	/* the peer certificate looked at */
	bool		 has_tenant;	/* rc.tenant is known */
	bool		 refused;	/* hello refused: close after answering */
	struct req_conn	 rc;
	struct frame_arena in;		/* the request's decoding */
	struct frame_arena out;		/* the response's parts */
	struct evbuffer	*stage;		/* answers not yet handed on */
	bool		 closing;	/* close once the output is written */
	bool		 counted;	/* admitted (admission.h) */
	bool		 unauth;	/* counted unauthenticated */
	struct adm_peer	 key;		/* for admission_release() */
	struct event	*hs_ev;		/* the handshake (and hello) deadline */
	struct event	*frame_ev;	/* a frame's deadline; closing: linger */
	bool		 gone;		/* peer gone while busy: free at done */
	bool		 paused;	/* reading stopped: busy or inflight */
	struct conn_job	*job;		/* the request on the pool, or NULL */
	bool		 handshaked;	/* TLS: the handshake completed */
	uint64_t	 born;		/* its start (metrics_now()) */
	char		 peer[96];	/* "ADDR:PORT" or "uid:N", for logs */
	char		 tls_err[96];	/* why the handshake failed, if known */
	uint64_t	 now;		/* the next request's start (below) */
	unsigned int	 queued;	/* responses not yet written out */
	struct conn	*prev, *next;
};

struct server {
	struct server_config cfg;
	struct session_table sessions;
	struct event_base *base;
	struct evconnlistener *lst[2 * SERVER_LISTEN_MAX];
	char		 addr[2 * SERVER_LISTEN_MAX][128];	/* as bound */
	const char	*unlink[2 * SERVER_LISTEN_MAX];	/* unix paths */
	int		 nlst;
	struct event	*backoff;	/* re-enables the listeners */
	SSL_CTX		*ssl_ctx;	/* swapped at reload under ctx_lock */
	pthread_mutex_t	 ctx_lock;
	struct pool	*pool;
	struct metrics_http *metrics;	/* the metrics listener, or NULL */
	struct web_http	*web;		/* the web listener, or NULL */
	struct web_auth	*web_auth;	/* its logins, with it */
	struct admission *adm;		/* what is open: admission.h */
	unsigned int	 nrefusing;	/* atomic: refused, being answered */
	struct persist	*persist;	/* with a state directory */
	struct token_table tokens;	/* swapped at reload */
	pthread_rwlock_t tokens_lock;
	struct tenants	 tenants;
	struct event	*sig[SERVER_NSIGNALS];
	struct service	*svc;		/* systemd, reload, drain */
	unsigned int	 debug_stall_ms;	/* atomic: tests' stuck worker */
	bool		 cancel_all;	/* atomic: the drain's deadline passed */
	struct worker	*workers;
	int		 nworkers;
	int		 next_worker;
};

/* server-conn.c */
bool conn_idle(struct conn *c);
void conn_set_cap(struct conn *c);
struct timeval ms_tv(unsigned int ms);
/* Answer id 0 with code and close once the answer is out. */
void conn_fail(struct conn *c, Aspace__Status__Code code,
    const char *msg);
void conn_read_cb(struct bufferevent *bev, void *arg);
void conn_write_cb(struct bufferevent *bev, void *arg);

/* server-conn-life.c */
void conn_new(struct worker *w, struct newconn *n);
void conn_free(struct conn *c);
/* A TLS connection's tenant from its verified client certificate. */
void conn_check_cert(struct conn *c);
/* c's hello succeeded: no handshake deadline, out of the
 * unauthenticated pool. */
void conn_authed(struct conn *c);

/* server-worker.c */
int worker_init(struct server *srv, struct worker *w);
void worker_stop(struct worker *w);
void worker_fini(struct worker *w);
void worker_hand(struct worker *w, int fd, const struct adm_peer *key,
    uid_t uid, bool tls, enum adm_verdict v);

/* server-listen.c */
/* Undo the admission of n, which is closed before it became a conn. */
void hand_undo(struct server *srv, const struct newconn *n);
/* The admission limits in force. */
void hand_limits(struct server *srv, struct adm_limits *l);
int listen_all(struct server *srv, const struct server_config *cfg);
void backoff_cb(evutil_socket_t fd, short what, void *arg);

#endif /* ASPACED_SERVER_INT_H */

/*
 * service.h: aspaced's life as a service, on the listener's loop
 * (service.c): what it tells systemd (sd.h), SIGHUP's reload and
 * SIGTERM's drain.  The mechanisms it drives are server.c's, below.
 *
 *   start      READY=1 with STATUS= once the listeners accept and the
 *              workers run; STATUS= ("N connections, M sessions, R
 *              requests/s") again when the counts change, else every 5 s.
 *   SIGHUP     RELOADING=1 and MONOTONIC_USEC=, the reload (server.h),
 *              then READY=1 and STATUS=.
 *   SIGTERM,   STOPPING=1; every listener closed (Unix sockets this
 *   SIGINT     process made are unlinked); each connection answers what
 *              it had sent (requests read, buffered or waiting in its
 *              socket, the pool's included), then is closed with a TLS
 *              close_notify; when none is left, or after the drain
 *              timeout, the loop ends.  A second signal ends it at once.
 *   watchdog   with $WATCHDOG_USEC, every worker's loop beats every
 *              WATCHDOG_USEC/4 and the listener sends WATCHDOG=1 every
 *              WATCHDOG_USEC/2 only while each beat is younger than
 *              3/4 of it: a stuck loop stops the pings, and systemd
 *              restarts the service.
 */
#ifndef ASPACED_SERVICE_H
#define ASPACED_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct server;
struct service;

/* On server_new(): the timers on base, the heartbeats; NULL if failed. */
struct service *service_new(struct server *srv, struct event_base *base);
void service_free(struct service *svc);
/* server_run(), before its loop: READY=1, the timers. */
void service_ready(struct service *svc);
/* One of the listener's signals (server.c's server_signals). */
void service_signal(struct service *svc, int sig);
void service_set_reload(struct service *svc,
    void (*fn)(struct server *, void *), void *arg);

/* --- server.c's side ------------------------------------------------------ */

struct server_stats {
	unsigned int	 conns;		/* open, counted connections */
	unsigned int	 sessions;
	unsigned long long requests;	/* answered since the start */
};

void server_stats(struct server *srv, struct server_stats *st);
unsigned int server_drain_timeout(struct server *srv);
/* A timer on every worker's loop storing its beat every interval. */
int server_heartbeats(struct server *srv, uint64_t interval_usec);
/* Every worker's beat at most max_age old at now (sdp_beats_alive()). */
bool server_workers_alive(struct server *srv, uint64_t now, uint64_t max_age);
/* Debug builds: worker 0 sleeps ms at its next beat. */
void server_debug_stall(struct server *srv, unsigned int ms);
void server_stop_accepting(struct server *srv);
/* Ask every worker to drain; server_drained() once none has a
 * connection left. */
void server_drain(struct server *srv);
bool server_drained(struct server *srv);
/* server_reload() with the configuration server_new() was given. */
int server_reload_files(struct server *srv);
/* End the listener's loop. */
void server_stop(struct server *srv);
/* Tell every running request to stop at its next step (a trace: its
 * next line); the drain's deadline. */
void server_cancel_all(struct server *srv);

#endif /* ASPACED_SERVICE_H */

/*
 * service.c: aspaced's life as a systemd service (service.h): the
 * notifications, the STATUS= and watchdog timers, SIGHUP's reload and
 * SIGTERM's drain.  Everything here runs on the listener's loop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "metrics.h"
#include "sd.h"
#include "trace_parse.h"
#include "server.h"
#include "service.h"

#define STATUS_TICK_USEC	1000000		/* counts looked at */
#define STATUS_EVERY_USEC	5000000		/* sent unchanged */
#define DRAIN_TICK_USEC		20000
#define STALL_MS_MIN		1000		/* SIGUSR2's, debug builds */

struct service {
	struct server	*srv;
	struct event_base *base;
	struct event	*status_ev;
	struct event	*watchdog_ev;
	struct event	*drain_ev;
	uint64_t	 watchdog_usec;		/* 0: none */
	bool		 draining;
	uint64_t	 drain_deadline;
	void		 (*reload)(struct server *, void *);
	void		*reload_arg;
	/* What STATUS= said last, and when. */
	struct server_stats last;
	uint64_t	 last_sent;
	int		 last_ckpt_err;
	uint64_t	 rate_since;		/* the rate's window */
	unsigned long long rate_requests;
	double		 rate;
};

static void tv_usec(struct timeval *tv, uint64_t usec)
{
	tv->tv_sec = (time_t)(usec / 1000000);
	tv->tv_usec = (suseconds_t)(usec % 1000000);
}

/* "; checkpoints failing: ENOSPC since 2026-12-06 20:30:00 UTC", or
 * nothing while checkpoints are saved. */
static void ckpt_text(char *buf, size_t size)
{
	int64_t since, unsaved;
	char when[32] = "?";
	struct tm tm;
	time_t t;
	int err;

	buf[0] = '\0';
	metrics_ckpt_health_get(&err, &since, &unsaved);
	if (err == 0)
		return;
	t = (time_t)since;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(buf, size, "; checkpoints failing: %s since %s",
	    errno_name(err), when);
}

/* "N connections, M sessions, R requests/s" for st into buf, and the
 * checkpoints' failure if any. */
static void status_text(struct service *svc, const struct server_stats *st,
    char *buf, size_t size)
{
	char ck[96];

	ckpt_text(ck, sizeof(ck));
	if (svc->draining)
		snprintf(buf, size, "draining: %u connections, %u sessions%s",
		    st->conns, st->sessions, ck);
	else
		snprintf(buf, size, "%u connections, %u sessions, "
		    "%.0f requests/s%s", st->conns, st->sessions, svc->rate,
		    ck);
}

/* Send STATUS= (after prefix, if any: "READY=1\n"...) and remember it. */
static void status_send(struct service *svc, const char *prefix)
{
	struct server_stats st;
	char text[256];
	int64_t since, unsaved;

	metrics_ckpt_health_get(&svc->last_ckpt_err, &since, &unsaved);
	server_stats(svc->srv, &st);
	status_text(svc, &st, text, sizeof(text));
	sdp_notify("%sSTATUS=%s", prefix != NULL ? prefix : "", text);
	svc->last = st;
	svc->last_sent = sdp_monotonic_usec();
}

/* Every second: the rate over the last 5 s; STATUS= if the counts
 * changed or it is time. */
static void status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *svc = arg;
	struct server_stats st;
	uint64_t now = sdp_monotonic_usec();
	int64_t since, unsaved;
	int ckpt_err;

	(void)fd;
	(void)what;
	server_stats(svc->srv, &st);
	metrics_ckpt_health_get(&ckpt_err, &since, &unsaved);
	if (now - svc->rate_since >= STATUS_EVERY_USEC) {
		svc->rate = (double)(st.requests - svc->rate_requests) * 1e6 /
		    (double)(now - svc->rate_since);
		svc->rate_since = now;
		svc->rate_requests = st.requests;
	}
	if (st.conns != svc->last.conns || st.sessions != svc->last.sessions ||
	    ckpt_err != svc->last_ckpt_err ||
	    now - svc->last_sent >= STATUS_EVERY_USEC)
		status_send(svc, NULL);
}

/* Every WATCHDOG_USEC/2: ping only if every worker's loop beat lately. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *svc = arg;

	(void)fd;
	(void)what;
	if (server_workers_alive(svc->srv, sdp_monotonic_usec(),
	    svc->watchdog_usec / 4 * 3))
		sdp_notify("WATCHDOG=1");
}

/* While draining: end the loop once no connection is left, or at the
 * deadline. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *svc = arg;
	struct server_stats st;

	(void)fd;
	(void)what;
	if (server_drained(svc->srv)) {
		server_stop(svc->srv);
		return;
	}
	if (sdp_monotonic_usec() < svc->drain_deadline)
		return;
	server_stats(svc->srv, &st);
	fprintf(stderr, "aspaced: drain timeout: closing %u connections\n",
	    st.conns);
	server_cancel_all(svc->srv);	/* traces stop at their next line */
	server_stop(svc->srv);
}

static void drain_start(struct service *svc)
{
	struct timeval tv;

	svc->draining = true;
	server_stop_accepting(svc->srv);
	status_send(svc, "STOPPING=1\n");
	server_drain(svc->srv);
	svc->drain_deadline = sdp_monotonic_usec() +
	    (uint64_t)server_drain_timeout(svc->srv) * 1000;
	tv_usec(&tv, DRAIN_TICK_USEC);
	if (event_add(svc->drain_ev, &tv) != 0)
		server_stop(svc->srv);
}

static void reload(struct service *svc)
{
	sdp_notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)sdp_monotonic_usec());
	if (svc->reload != NULL)
		svc->reload(svc->srv, svc->reload_arg);
	else if (server_reload_files(svc->srv) != 0)
		fprintf(stderr, "aspaced: reloaded, but not everything\n");
	status_send(svc, "READY=1\n");
}

void service_signal(struct service *svc, int sig)
{
	if (sig == SIGHUP) {
		if (!svc->draining)
			reload(svc);
	} else if (sig == SIGINT || sig == SIGTERM) {
		if (svc->draining) {
			fprintf(stderr, "aspaced: stopping now\n");
			server_cancel_all(svc->srv);
			server_stop(svc->srv);
		} else
			drain_start(svc);
	} else if (sig == SIGUSR2) {
		/* Debug builds: a stuck worker, three watchdog periods long. */
		server_debug_stall(svc->srv, (unsigned int)(svc->watchdog_usec *
		    3 / 1000 > STALL_MS_MIN ? svc->watchdog_usec * 3 / 1000 :
		    STALL_MS_MIN));
	}
}

void service_set_reload(struct service *svc,
    void (*fn)(struct server *, void *), void *arg)
{
	svc->reload = fn;
	svc->reload_arg = arg;
}

/* The watchdog systemd asked for: heartbeats on the workers. */
static int watchdog_init(struct service *svc)
{
	long long usec = sdp_watchdog_usec();

	if (usec < 0)
		return -1;
	if (usec == 0)
		return 0;
	/* Beats at a quarter of the period, pings at a half. */
	svc->watchdog_usec = (uint64_t)usec < 4000 ? 4000 : (uint64_t)usec;
	svc->watchdog_ev = event_new(svc->base, -1, EV_PERSIST, watchdog_cb,
	    svc);
	if (svc->watchdog_ev == NULL)
		return -1;
	return server_heartbeats(svc->srv, svc->watchdog_usec / 4);
}

struct service *service_new(struct server *srv, struct event_base *base)
{
	struct service *svc = calloc(1, sizeof(*svc));

	if (svc == NULL)
		return NULL;
	svc->srv = srv;
	svc->base = base;
	svc->status_ev = event_new(base, -1, EV_PERSIST, status_cb, svc);
	svc->drain_ev = event_new(base, -1, EV_PERSIST, drain_cb, svc);
	if (svc->status_ev == NULL || svc->drain_ev == NULL ||
	    watchdog_init(svc) != 0) {
		service_free(svc);
		return NULL;
	}
	return svc;
}

void service_ready(struct service *svc)
{
	struct timeval tv;

	svc->rate_since = sdp_monotonic_usec();
	status_send(svc, "READY=1\n");
	tv_usec(&tv, STATUS_TICK_USEC);
	if (sdp_notify_enabled())
		event_add(svc->status_ev, &tv);
	if (svc->watchdog_ev != NULL) {
		tv_usec(&tv, svc->watchdog_usec / 2);
		event_add(svc->watchdog_ev, &tv);
		sdp_notify("WATCHDOG=1");
	}
}

void service_free(struct service *svc)
{
	if (svc == NULL)
		return;
	if (svc->status_ev != NULL)
		event_free(svc->status_ev);
	if (svc->watchdog_ev != NULL)
		event_free(svc->watchdog_ev);
	if (svc->drain_ev != NULL)
		event_free(svc->drain_ev);
	free(svc);
}

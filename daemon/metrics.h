/*
 * metrics.h: aspaced's figures, and their Prometheus text exposition
 * (format 0.0.4; every metric is listed in docs/metrics.md).
 *
 * Counting is lock-free and cheap enough for every request: each thread
 * counts into a shard of its own (metrics.c); a scrape sums the shards.
 * Gauges are differences of counters (connections opened and closed,
 * sessions made and destroyed) or figures read at the scrape (frames in
 * use, from the core).  No figure is per session or per tenant.
 */
#ifndef ASPACED_METRICS_H
#define ASPACED_METRICS_H

#include <stdint.h>

#include "buf.h"

enum metrics_counter {
	MC_ACCEPTED_UNIX,	/* connections accepted, per transport */
	MC_ACCEPTED_TLS,
	MC_CONN_OPENED,		/* counted against max_conns */
	MC_CONN_CLOSED,
	MC_TLS_HANDSHAKES,	/* completed */
	MC_TLS_FAILURES,	/* connections gone before completing one */
	MC_AUTH_FAILURES,	/* hello with a missing or unknown token */
	MC_LIMIT_CONNECTIONS,	/* over max_conns: refused */
	MC_LIMIT_BODY,		/* a frame over the body cap */
	MC_LIMIT_SESSIONS,	/* over max_sessions or max_sessions_total */
	MC_LIMIT_RAM,		/* over ram_total or ram_max */
	MC_LIMIT_IDLE,		/* closed by the idle timeout */
	MC_LIMIT_HTTP,		/* a metrics connection over its cap */
	MC_INFLIGHT_PAUSES,	/* reading stopped at max_inflight */
	MC_POOL_FULL,		/* a long request run on its worker */
	MC_POOL_TENANT_FULL,	/* over pool-tenant-jobs: QUOTA */
	MC_POOL_YIELDS,		/* a job parked for a fairer one */
	MC_TRACE_STOP_CPU,	/* run_trace stopped: request-cpu-limit */
	MC_TRACE_STOP_LINES,	/* run_trace stopped: trace-line-limit */
	MC_TRACE_STOP_GONE,	/* run_trace stopped: its client went */
	MC_TRACE_STOP_DRAIN,	/* run_trace stopped: the drain's end */
	MC_SESSIONS_CREATED,
	MC_SESSIONS_DESTROYED,
	MC_SESSIONS_RAM_ADDED,	/* bytes: the sessions' ram_bytes */
	MC_SESSIONS_RAM_REMOVED,
	MC_SESSIONS_RESTORED,	/* loaded from the state directory at start */
	MC_CKPT_WRITTEN,	/* session files written (persist.c) */
	MC_CKPT_FAIL_ENOSPC,	/* a session file not written, per reason */
	MC_CKPT_FAIL_EDQUOT,
	MC_CKPT_FAIL_EIO,
	MC_CKPT_FAIL_OTHER,
	MC_CKPT_ASIDE_CORRUPT,	/* a file set aside at start, per reason */
	MC_CKPT_ASIDE_NAME,
	MC_CKPT_ASIDE_DESTROYED,
	/* Admission (admission.h): refused by reason (over max_conns is
	 * MC_LIMIT_CONNECTIONS), closed by a deadline, unauthenticated
	 * connections opened and done (authenticated or closed). */
	MC_REFUSED_RESERVED,
	MC_REFUSED_UNAUTH,
	MC_REFUSED_EARLY_DROP,
	MC_REFUSED_PER_ADDR,
	MC_REFUSED_PER_ADDR_UNAUTH,
	MC_DROPPED_HANDSHAKE,
	MC_DROPPED_FRAME,
	MC_DROPPED_EVICTED,	/* stalled, closed for a newcomer */
	MC_UNAUTH_OPENED,
	MC_UNAUTH_DONE,
	MC_COUNT
};

/* Note the process's start time (for aspaced_start_time_seconds). */
void metrics_start(void);
/* One more of c; n more of it. */
void metrics_inc(enum metrics_counter c);
void metrics_add(enum metrics_counter c, uint64_t n);
/* Monotonic nanoseconds, for request durations. */
uint64_t metrics_now(void);
/*
 * A request answered: its op (Aspace__Request__OpCase; negative when it
 * had no valid op or was not decoded), its Status.Code and the time from
 * its arrival to its answer.
 */
void metrics_request(int op, int code, uint64_t ns);
/* Take in the core events (as_thread_events()) the calling thread ran
 * since its last call; after each request. */
void metrics_events(void);
/*
 * The checkpoints' health, set by persist.c after each pass: err, 0 if
 * every session was saved, else the errno of the last failure; since, the
 * time (Unix seconds) the failures began; unsaved, when the save of the
 * oldest change still unsaved first failed (0: none).  For
 * aspaced_checkpoint_oldest_unsaved_seconds and systemd's STATUS=.
 */
void metrics_ckpt_health(int err, int64_t since, int64_t unsaved);
void metrics_ckpt_health_get(int *err, int64_t *since, int64_t *unsaved);
/* The exposition of every metric into b; 0, or -1 if b overflowed. */
int metrics_render(struct as_buf *b);

#endif /* ASPACED_METRICS_H */

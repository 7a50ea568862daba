/*
 * metrics.c: aspaced's counters and their exposition (metrics.h).
 *
 * Shards: a thread's first count takes the next of METRICS_SHARDS
 * cache-line-aligned shards through a thread-local pointer.  A shard's
 * one writer adds with a relaxed load and store (no locked instruction,
 * no line bouncing; a reader sees each value whole).  Threads past the
 * last but one share the last, with atomic adds, so the figures stay
 * exact.  A scrape reads every shard with relaxed loads and sums: each
 * figure is exact, the set of them a moment's view, not a snapshot.
 *
 * Requests are counted by op (the Request oneof's field, its name from
 * the protobuf descriptor) and Status.Code (the enum's name, lower
 * case); their durations in one histogram per op class, to bound the
 * series.  Fault kinds are the core's own event counters (as_counters),
 * taken from the thread's running sum after each request.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"

#include "frame.h"
#include "metrics.h"
#include "session-table.h"
#include "session.h"

#define METRICS_SHARDS	64
#define OP_FIRST	ASPACE__REQUEST__OP_HELLO	/* the oneof's first */
#define OP_ROWS		40	/* row 0: invalid; then OP_FIRST... */
#define CODE_ROWS	16
#define NEVENTS		(sizeof(struct as_counters) / sizeof(unsigned long))

enum op_class {
	CL_INVALID, CL_SESSION, CL_VMA, CL_ACCESS, CL_TASK, CL_INSPECT,
	CL_TRACE, CL_OTHER, CL_COUNT
};

static const char *const class_names[CL_COUNT] = {
	"invalid", "session", "vma", "access", "task", "inspect", "trace",
	"other"
};

/* Bucket bounds in nanoseconds and as the "le" label prints them. */
static const uint64_t bucket_ns[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000
};
#define NBUCKETS	(sizeof(bucket_ns) / sizeof(bucket_ns[0]))
static const char *const bucket_le[NBUCKETS] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1"
};

struct metrics_shard {
	uint64_t	 c[MC_COUNT];
	uint64_t	 req[OP_ROWS][CODE_ROWS];
	uint64_t	 lat[CL_COUNT][NBUCKETS + 1];	/* the last: +Inf */
	uint64_t	 lat_ns[CL_COUNT];
	uint64_t	 events[NEVENTS];
} __attribute__((aligned(64)));

static struct metrics_shard shards[METRICS_SHARDS];
static unsigned int nshards;
static __thread struct metrics_shard *self;
static __thread bool shared;		/* self is the shared shard */
static __thread struct as_counters seen;	/* events taken in */
static uint64_t start_ns;			/* realtime */

static struct metrics_shard *shard(void)
{
	unsigned int i;

	if (self == NULL) {
		i = __atomic_fetch_add(&nshards, 1, __ATOMIC_RELAXED);
		shared = i >= METRICS_SHARDS - 1;
		self = &shards[shared ? METRICS_SHARDS - 1 : i];
	}
	return self;
}

/* n more at p, in the calling thread's shard. */
static void add(uint64_t *p, uint64_t n)
{
	if (shared)
		__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
	else
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n,
		    __ATOMIC_RELAXED);
}

void metrics_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void metrics_inc(enum metrics_counter c)
{
	add(&shard()->c[c], 1);
}

void metrics_add(enum metrics_counter c, uint64_t n)
{
	add(&shard()->c[c], n);
}

uint64_t metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int op_row(int op)
{
	return op >= OP_FIRST && op < OP_FIRST + OP_ROWS - 1 ?
	    op - OP_FIRST + 1 : 0;
}

static enum op_class op_class(int op)
{
	switch (op) {
	case ASPACE__REQUEST__OP_HELLO:
	case ASPACE__REQUEST__OP_SESSION_CREATE:
	case ASPACE__REQUEST__OP_SESSION_DESTROY:
	case ASPACE__REQUEST__OP_SESSION_LIST:
		return CL_SESSION;
	case ASPACE__REQUEST__OP_MMAP: case ASPACE__REQUEST__OP_MUNMAP:
	case ASPACE__REQUEST__OP_MPROTECT: case ASPACE__REQUEST__OP_MREMAP:
	case ASPACE__REQUEST__OP_MADVISE: case ASPACE__REQUEST__OP_MLOCK:
	case ASPACE__REQUEST__OP_MUNLOCK: case ASPACE__REQUEST__OP_BRK:
	case ASPACE__REQUEST__OP_FILE_CREATE: case ASPACE__REQUEST__OP_MSYNC:
	case ASPACE__REQUEST__OP_SHMGET: case ASPACE__REQUEST__OP_SHMAT:
	case ASPACE__REQUEST__OP_SHMDT: case ASPACE__REQUEST__OP_SHMRM:
		return CL_VMA;
	case ASPACE__REQUEST__OP_ACCESS: case ASPACE__REQUEST__OP_READ_BYTES:
	case ASPACE__REQUEST__OP_WRITE_BYTES:
		return CL_ACCESS;
	case ASPACE__REQUEST__OP_FORK: case ASPACE__REQUEST__OP_THREAD:
	case ASPACE__REQUEST__OP_VFORK: case ASPACE__REQUEST__OP_EXEC:
	case ASPACE__REQUEST__OP_EXIT:
		return CL_TASK;
	case ASPACE__REQUEST__OP_MAPS: case ASPACE__REQUEST__OP_SMAPS:
	case ASPACE__REQUEST__OP_PROC_STATUS:
	case ASPACE__REQUEST__OP_PAGE_WALK: case ASPACE__REQUEST__OP_COUNTERS:
	case ASPACE__REQUEST__OP_KERNEL:
		return CL_INSPECT;
	case ASPACE__REQUEST__OP_RUN_TRACE: case ASPACE__REQUEST__OP_GRADE:
		return CL_TRACE;
	default:
		return op < 0 ? CL_INVALID : CL_OTHER;
	}
}

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int i;

	for (i = 0; i < NBUCKETS && ns > bucket_ns[i]; i++)
		;
	return i;
}

void metrics_request(int op, int code, uint64_t ns)
{
	struct metrics_shard *sh = shard();
	enum op_class cl = op_class(op);

	if (code < 0 || code >= CODE_ROWS)
		code = CODE_ROWS - 1;
	add(&sh->req[op_row(op)][code], 1);
	add(&sh->lat[cl][bucket_of(ns)], 1);
	add(&sh->lat_ns[cl], ns);
}

void metrics_events(void)
{
	struct as_counters now;
	const unsigned long *a = (const unsigned long *)&now;
	const unsigned long *b = (const unsigned long *)&seen;
	struct metrics_shard *sh = shard();
	size_t i;

	as_thread_events(&now);
	for (i = 0; i < NEVENTS; i++)
		if (a[i] != b[i])
			add(&sh->events[i], a[i] - b[i]);
	seen = now;
}

/* --- the exposition ---------------------------------------------------------- */

/* The sum of the shards, read field by field. */
static void sum_shards(struct metrics_shard *t)
{
	const size_t n = sizeof(*t) / sizeof(uint64_t);
	unsigned int i, used = __atomic_load_n(&nshards, __ATOMIC_RELAXED);
	size_t k;

	memset(t, 0, sizeof(*t));
	if (used > METRICS_SHARDS)
		used = METRICS_SHARDS;
	for (i = 0; i < used; i++)
		for (k = 0; k < n; k++)
			((uint64_t *)t)[k] += __atomic_load_n(
			    &((uint64_t *)&shards[i])[k], __ATOMIC_RELAXED);
}

/* "# HELP" (help escaped: backslash, newline) and "# TYPE". */
static void family(struct as_buf *b, const char *name, const char *type,
    const char *help)
{
	as_buf_printf(b, "# HELP %s ", name);
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			as_buf_put(b, "\\\\", 2);
		else if (*help == '\n')
			as_buf_put(b, "\\n", 2);
		else
			as_buf_put(b, help, 1);
	}
	as_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* A label value, escaped (backslash, double quote, newline). */
static void label_value(struct as_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			as_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			as_buf_put(b, "\\n", 2);
		else
			as_buf_put(b, v, 1);
	}
}

/* One family of a single unlabelled sample. */
static void single(struct as_buf *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	family(b, name, type, help);
	as_buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void sample1(struct as_buf *b, const char *name, const char *label,
    const char *value, uint64_t v)
{
	as_buf_printf(b, "%s{%s=\"", name, label);
	label_value(b, value);
	as_buf_printf(b, "\"} %" PRIu64 "\n", v);
}

static void render_process(struct as_buf *b)
{
	family(b, "aspaced_build_info", "gauge",
	    "The daemon's version, as a label; always 1.");
	sample1(b, "aspaced_build_info", "version", PACKAGE_VERSION, 1);
	family(b, "aspaced_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the Unix epoch.");
	as_buf_printf(b, "aspaced_start_time_seconds %" PRIu64 ".%03" PRIu64
	    "\n", start_ns / 1000000000u, start_ns % 1000000000u / 1000000u);
}

static void render_conns(struct as_buf *b, const struct metrics_shard *t)
{
	const uint64_t *c = t->c;

	single(b, "aspaced_connections", "gauge",
	    "Client connections open (those counted against "
	    "--max-connections).",
	    c[MC_CONN_OPENED] - c[MC_CONN_CLOSED]);
	family(b, "aspaced_connections_accepted_total", "counter",
	    "Client connections accepted, refused ones included.");
	sample1(b, "aspaced_connections_accepted_total", "transport", "unix",
	    c[MC_ACCEPTED_UNIX]);
	sample1(b, "aspaced_connections_accepted_total", "transport", "tls",
	    c[MC_ACCEPTED_TLS]);
	single(b, "aspaced_tls_handshakes_total", "counter",
	    "TLS handshakes completed.", c[MC_TLS_HANDSHAKES]);
	single(b, "aspaced_tls_handshake_failures_total", "counter",
	    "TLS connections closed before their handshake completed.",
	    c[MC_TLS_FAILURES]);
	single(b, "aspaced_auth_failures_total", "counter",
	    "Hellos refused for a missing or unknown token.",
	    c[MC_AUTH_FAILURES]);
}

/* Admission (daemon/admission.h): the unauthenticated pool, refusals by
 * reason, connections closed by a deadline. */
static void render_admission(struct as_buf *b, const struct metrics_shard *t)
{
	static const struct {
		const char		*name;
		enum metrics_counter	 c;
	} refused[] = {
		{ "max_connections", MC_LIMIT_CONNECTIONS },
		{ "reserved", MC_REFUSED_RESERVED },
		{ "unauthenticated", MC_REFUSED_UNAUTH },
		{ "early_drop", MC_REFUSED_EARLY_DROP },
		{ "per_address", MC_REFUSED_PER_ADDR },
		{ "per_address_unauthenticated", MC_REFUSED_PER_ADDR_UNAUTH }
	}, dropped[] = {
		{ "handshake_timeout", MC_DROPPED_HANDSHAKE },
		{ "frame_timeout", MC_DROPPED_FRAME },
		{ "evicted", MC_DROPPED_EVICTED },
		{ "idle_timeout", MC_LIMIT_IDLE }
	};
	const uint64_t *c = t->c;
	size_t i;

	single(b, "aspaced_connections_unauthenticated", "gauge",
	    "Connections open and not yet through their hello (TLS).",
	    c[MC_UNAUTH_OPENED] - c[MC_UNAUTH_DONE]);
	family(b, "aspaced_connections_refused_total", "counter",
	    "Connections refused at accept, by reason.");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		sample1(b, "aspaced_connections_refused_total", "reason",
		    refused[i].name, c[refused[i].c]);
	family(b, "aspaced_connections_dropped_total", "counter",
	    "Connections closed by a timeout, by reason.");
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		sample1(b, "aspaced_connections_dropped_total", "reason",
		    dropped[i].name, c[dropped[i].c]);
}

static void render_limits(struct as_buf *b, const struct metrics_shard *t)
{
	static const struct {
		const char		*name;
		enum metrics_counter	 c;
	} limits[] = {
		{ "connections", MC_LIMIT_CONNECTIONS }, { "body", MC_LIMIT_BODY },
		{ "sessions", MC_LIMIT_SESSIONS }, { "ram", MC_LIMIT_RAM },
		{ "idle", MC_LIMIT_IDLE },
		{ "metrics_connections", MC_LIMIT_HTTP }
	};
	size_t i;

	family(b, "aspaced_limit_rejections_total", "counter",
	    "Connections, frames and requests refused or closed by a limit.");
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		sample1(b, "aspaced_limit_rejections_total", "limit",
		    limits[i].name, t->c[limits[i].c]);
	single(b, "aspaced_inflight_pauses_total", "counter",
	    "Times a connection stopped being read with --max-inflight "
	    "answers unwritten.", t->c[MC_INFLIGHT_PAUSES]);
	single(b, "aspaced_pool_full_total", "counter",
	    "Long requests run on their worker because the pool's queue "
	    "was full.", t->c[MC_POOL_FULL]);
	single(b, "aspaced_pool_tenant_full_total", "counter",
	    "Long requests refused (QUOTA) because their tenant had "
	    "--pool-tenant-jobs in the pool.", t->c[MC_POOL_TENANT_FULL]);
	single(b, "aspaced_pool_yields_total", "counter",
	    "Times a long request gave its pool slot to a request of a "
	    "tenant that had had less of the pool.", t->c[MC_POOL_YIELDS]);
	family(b, "aspaced_trace_stops_total", "counter",
	    "Traces stopped before their end, by reason.");
	sample1(b, "aspaced_trace_stops_total", "reason", "cpu",
	    t->c[MC_TRACE_STOP_CPU]);
	sample1(b, "aspaced_trace_stops_total", "reason", "lines",
	    t->c[MC_TRACE_STOP_LINES]);
	sample1(b, "aspaced_trace_stops_total", "reason", "client_gone",
	    t->c[MC_TRACE_STOP_GONE]);
	sample1(b, "aspaced_trace_stops_total", "reason", "drain",
	    t->c[MC_TRACE_STOP_DRAIN]);
}

static void render_sessions(struct as_buf *b, const struct metrics_shard *t)
{
	const uint64_t *c = t->c;

	single(b, "aspaced_sessions", "gauge", "Sessions in the table.",
	    c[MC_SESSIONS_CREATED] + c[MC_SESSIONS_RESTORED] -
	    c[MC_SESSIONS_DESTROYED]);
	single(b, "aspaced_sessions_created_total", "counter",
	    "Sessions made.", c[MC_SESSIONS_CREATED]);
	single(b, "aspaced_sessions_restored_total", "counter",
	    "Sessions loaded from the state directory at start.",
	    c[MC_SESSIONS_RESTORED]);
	single(b, "aspaced_sessions_destroyed_total", "counter",
	    "Sessions destroyed.", c[MC_SESSIONS_DESTROYED]);
	single(b, "aspaced_sessions_ram_bytes", "gauge",
	    "The simulated RAM of the sessions in the table, in bytes "
	    "(what --ram-total caps).",
	    c[MC_SESSIONS_RAM_ADDED] - c[MC_SESSIONS_RAM_REMOVED]);
	single(b, "aspaced_sessions_charged_bytes", "gauge",
	    "Host memory charged to the sessions in the table, in bytes: "
	    "frames in use, struct pages, page tables, VMAs and the "
	    "kernel's other objects (what --ram-total caps).",
	    stable_mem_charged());
}

static struct {
	pthread_mutex_t	 lock;
	int		 err;
	int64_t		 since, unsaved;
} ckpt = { .lock = PTHREAD_MUTEX_INITIALIZER };

void metrics_ckpt_health(int err, int64_t since, int64_t unsaved)
{
	pthread_mutex_lock(&ckpt.lock);
	ckpt.err = err;
	ckpt.since = since;
	ckpt.unsaved = unsaved;
	pthread_mutex_unlock(&ckpt.lock);
}

void metrics_ckpt_health_get(int *err, int64_t *since, int64_t *unsaved)
{
	pthread_mutex_lock(&ckpt.lock);
	*err = ckpt.err;
	*since = ckpt.since;
	*unsaved = ckpt.unsaved;
	pthread_mutex_unlock(&ckpt.lock);
}

static void render_checkpoints(struct as_buf *b,
    const struct metrics_shard *t)
{
	static const struct {
		const char		*name;
		enum metrics_counter	 c;
	} fails[] = {
		{ "enospc", MC_CKPT_FAIL_ENOSPC },
		{ "edquot", MC_CKPT_FAIL_EDQUOT },
		{ "eio", MC_CKPT_FAIL_EIO }, { "other", MC_CKPT_FAIL_OTHER }
	}, aside[] = {
		{ "corrupt", MC_CKPT_ASIDE_CORRUPT },
		{ "name", MC_CKPT_ASIDE_NAME },
		{ "destroyed", MC_CKPT_ASIDE_DESTROYED }
	};
	int64_t since, unsaved, now = (int64_t)time(NULL);
	size_t i;
	int err;

	metrics_ckpt_health_get(&err, &since, &unsaved);
	single(b, "aspaced_checkpoints_written_total", "counter",
	    "Session files written to the state directory.",
	    t->c[MC_CKPT_WRITTEN]);
	family(b, "aspaced_checkpoint_failures_total", "counter",
	    "Session files that could not be written (the previous file "
	    "is kept), by reason.");
	for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
		sample1(b, "aspaced_checkpoint_failures_total", "reason",
		    fails[i].name, t->c[fails[i].c]);
	family(b, "aspaced_checkpoint_files_set_aside_total", "counter",
	    "Session files not loaded at start and renamed (.corrupt, "
	    ".destroyed), by reason.");
	for (i = 0; i < sizeof(aside) / sizeof(aside[0]); i++)
		sample1(b, "aspaced_checkpoint_files_set_aside_total", "reason",
		    aside[i].name, t->c[aside[i].c]);
	single(b, "aspaced_checkpoint_oldest_unsaved_seconds", "gauge",
	    "Seconds since the save of the oldest change not yet in its "
	    "file first failed; 0 when every change is saved.",
	    unsaved > 0 && now > unsaved ? (uint64_t)(now - unsaved) : 0);
}

/* The op's oneof field name, or NULL for none; row 0 is "invalid". */
static const char *op_name(int row)
{
	const ProtobufCFieldDescriptor *f;

	if (row == 0)
		return "invalid";
	f = protobuf_c_message_descriptor_get_field(&aspace__request__descriptor,
	    (unsigned int)(row - 1 + OP_FIRST));
	return f != NULL && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ?
	    f->name : NULL;
}

/* Status.Code's name in lower case into buf ("unknown" if none). */
static const char *code_name(int code, char *buf, size_t size)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &aspace__status__code__descriptor, code);
	size_t i;

	snprintf(buf, size, "%s", v != NULL ? v->name : "unknown");
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] - 'A' + 'a');
	return buf;
}

static void render_requests(struct as_buf *b, const struct metrics_shard *t)
{
	const char *op;
	char code[32];
	int r, k;

	family(b, "aspaced_requests_total", "counter",
	    "Requests answered, by op and status; a pair appears with its "
	    "first request.");
	for (r = 0; r < OP_ROWS; r++) {
		if ((op = op_name(r)) == NULL)
			continue;
		for (k = 0; k < CODE_ROWS; k++) {
			if (t->req[r][k] == 0)
				continue;
			as_buf_printf(b, "aspaced_requests_total{op=\"");
			label_value(b, op);
			as_buf_printf(b, "\",status=\"");
			label_value(b, code_name(k, code, sizeof(code)));
			as_buf_printf(b, "\"} %" PRIu64 "\n", t->req[r][k]);
		}
	}
}

static void render_latency(struct as_buf *b, const struct metrics_shard *t)
{
	const char *n = "aspaced_request_duration_seconds";
	uint64_t cum;
	unsigned int cl, i;

	family(b, n, "histogram",
	    "Time from a request's arrival to its answer, by op class.");
	for (cl = 0; cl < CL_COUNT; cl++) {
		cum = 0;
		for (i = 0; i <= NBUCKETS; i++) {
			cum += t->lat[cl][i];
			as_buf_printf(b, "%s_bucket{class=\"%s\",le=\"%s\"} %"
			    PRIu64 "\n", n, class_names[cl],
			    i < NBUCKETS ? bucket_le[i] : "+Inf", cum);
		}
		as_buf_printf(b, "%s_sum{class=\"%s\"} %" PRIu64 ".%09" PRIu64
		    "\n", n, class_names[cl], t->lat_ns[cl] / 1000000000u,
		    t->lat_ns[cl] % 1000000000u);
		as_buf_printf(b, "%s_count{class=\"%s\"} %" PRIu64 "\n", n,
		    class_names[cl], cum);
	}
}

#define EVENT(field)	(offsetof(struct as_counters, field) / \
			    sizeof(unsigned long))

static void render_faults(struct as_buf *b, const struct metrics_shard *t)
{
	static const struct {
		const char	*kind;
		size_t		 ev;
	} kinds[] = {
		{ "anonymous", EVENT(anon_faults) },
		{ "zero_page", EVENT(zero_page_maps) },
		{ "file_read", EVENT(file_read_faults) },
		{ "cow", EVENT(cow_copies) },
		{ "shared", EVENT(shared_faults) },
		{ "wp_reuse", EVENT(wp_reuses) },
		{ "sigsegv", EVENT(sigsegv) },
		{ "sigbus", EVENT(sigbus) },
		{ "oom", EVENT(oom) }
	};
	size_t i;

	single(b, "aspaced_page_faults_total", "counter",
	    "Page faults the core's handle_mm_fault() took.",
	    t->events[EVENT(minor_faults)]);
	family(b, "aspaced_faults_total", "counter",
	    "Faults by how they ended: a page mapped (anonymous, zero_page, "
	    "file_read, cow, shared, wp_reuse) or a signal or OOM.");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		sample1(b, "aspaced_faults_total", "kind", kinds[i].kind,
		    t->events[kinds[i].ev]);
	single(b, "aspaced_fault_around_pages_total", "counter",
	    "Page-cache pages mapped by fault-around.",
	    t->events[EVENT(fault_around_pages)]);
	single(b, "aspaced_stack_expansions_total", "counter",
	    "Stacks grown down by a fault.",
	    t->events[EVENT(stack_expansions)]);
	single(b, "aspaced_major_faults_total", "counter",
	    "Major faults: swap-ins read from a swap slot (vmstat pgmajfault).",
	    t->events[EVENT(major_faults)]);
	single(b, "aspaced_pswpin_total", "counter",
	    "Pages read from swap slots (vmstat pswpin).",
	    t->events[EVENT(pswpin)]);
	single(b, "aspaced_pswpout_total", "counter",
	    "Pages written to swap slots (vmstat pswpout).",
	    t->events[EVENT(pswpout)]);
	single(b, "aspaced_frames_in_use", "gauge",
	    "Frames (4096-byte pages of simulated RAM) in use in all "
	    "sessions, page tables and zero pages included.",
	    as_frames_in_use());
}

int metrics_render(struct as_buf *b)
{
	static struct metrics_shard t;	/* big: not on the stack */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);	/* scrapes only, never a request */
	sum_shards(&t);
	render_process(b);
	render_conns(b, &t);
	render_admission(b, &t);
	render_limits(b, &t);
	render_sessions(b, &t);
	render_checkpoints(b, &t);
	render_requests(b, &t);
	render_latency(b, &t);
	render_faults(b, &t);
	pthread_mutex_unlock(&lock);
	return b->overflow ? -1 : 0;
}

/*
 * test_concurrent.c: aspaced under concurrent load, against the built
 * daemon ($ASPACED or argv[1]) started with four workers (harness.h).
 * Host threads each own a connection and check every answer against
 * what the race allows.
 *
 * One session, S1: task 1's process P has a shared anonymous region
 * (SH), a private one (PRIV, written before the fork), a shared file
 * mapping (FILE), a private read-only file mapping (GPRIV), a region
 * another task remaps under it (M) and B's own area (BA).
 *  - A (task 1, short-lived threads and forks of it) reads and writes
 *    SH, PRIV and FILE, where it is the only writer, so every read must
 *    return exactly what it last wrote (B's madvise dontneed keeps shared
 *    data; B's mprotect windows may turn a store into SEGV_ACCERR and
 *    then nothing is stored); its loads and stores in M and BA may meet
 *    a mapping, a hole (SEGV_MAPERR) or PROT_NONE (SEGV_ACCERR), and read
 *    only 0 or the byte written there; and it grows the stack.
 *  - B (a thread of P) maps (some with MAP_POPULATE), unmaps, mprotects,
 *    madvises, mlocks and mremaps in BA and M, where it alone changes
 *    mappings, so each result (address, errno, the page-level picture of
 *    maps) is predicted exactly; it madvises and mprotects over SH and
 *    FILE, moves the break, and writes a private mapping of FILE's file.
 *  - C drives P's forked child: copy-on-write stores into the inherited
 *    PRIV (the child never sees the parent's later stores, nor a
 *    grandchild its parent's), maps of its own, forks and vforks (its
 *    parent BLOCKED meanwhile), and lets one of the two exit (or exec).
 *  - D (another thread of P) pipelines 16 requests at a time: reads of
 *    values that never change or that carry their page's tag, maps
 *    (well-formed, the stable regions covered), smaps, proc_status,
 *    page_walk, counters; the answers must come back whole and in order.
 *  - E checks S1 (the check op: every invariant of the core) and the
 *    other sessions over and over while the rest runs, with a trace and
 *    the session's counters now and then.
 * Beside them, 16 clients each make a session and run a fixed mix of
 * operations in it (fork, COW, threads, mprotect, mremap, maps, smaps,
 * run_trace) with exact answers, then leave with a trace on the pool.
 * At the end every session passes check with the expected count of mms
 * and tasks, maps are well-formed, a fresh connection is served, and the
 * daemon exits cleanly.
 *
 * ASPACE_CONC_SCALE (percent, default 100) scales the iterations.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "harness.h"

#define PG		4096UL
#define NPG		16		/* pages of each of P's regions */
#define BASE		0x200000000000UL
#define R_SH		BASE			/* shared anonymous */
#define R_PRIV		(BASE + 0x100000)	/* private anonymous */
#define R_FILE		(BASE + 0x200000)	/* shared, file f */
#define R_GPRIV		(BASE + 0x300000)	/* private read-only, file g */
#define R_M		(BASE + 0x400000)	/* A faults, B remaps */
#define R_FCOW		(BASE + 0x600000)	/* B's private map of f */
#define R_B		(BASE + 0x800000)	/* B's own */
#define B_PAGES		64
#define R_CHILD		(BASE + 0xc00000)	/* the forked child's own */
#define STACK_PAGES	64		/* A's growth below [stack] */
#define NSOLO		16
#define PIPE_DEPTH	16
#define MTAG		0xa7			/* A's byte in M */
#define BTAG		0x5a			/* B's byte in BA */

#define PROT_R		0x1
#define PROT_RW		0x3
#define MAP_PAF		0x32	/* MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED */
#define MAP_SAF		0x31	/* MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED */
#define MAP_POPULATE	0x8000
#define MREMAP_MF	0x3	/* MREMAP_MAYMOVE | MREMAP_FIXED */
#define MADV_DONTNEED	4
#define SEGV		11
#define MAPERR		1
#define ACCERR		2

static const char *daemon_path;
static struct hdaemon dmn;
static unsigned int scale = 100;	/* percent */

/* --- workers -------------------------------------------------------------- */

struct worker {
	const char	*name;
	struct client	 c;
	uint64_t	 seed;
	unsigned long	 requests;	/* sent other than by w->c's ops */
	bool		 failed;
	char		 err[512];
};

/* What w has sent: its own count and its client's ops. */
static unsigned long sent(const struct worker *w)
{
	return w->requests + w->c.ops;
}

static void wfail(struct worker *w, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->failed)
		return;
	w->failed = true;
	n = snprintf(w->err, sizeof(w->err), "%s, line %d, after %lu "
	    "requests: ", w->name, line, sent(w));
	va_start(ap, fmt);
	vsnprintf(w->err + n, sizeof(w->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* In a worker thread (no cmocka asserts there): note and return false. */
#define EXPECT(w, cond, ...) do {					\
	if (!(cond)) {							\
		wfail((w), __LINE__, __VA_ARGS__);			\
		return false;						\
	}								\
} while (0)

static uint64_t rnd(struct worker *w)
{
	w->seed ^= w->seed << 13;
	w->seed ^= w->seed >> 7;
	w->seed ^= w->seed << 17;
	return w->seed;
}

static unsigned long rnd_below(struct worker *w, unsigned long n)
{
	return (unsigned long)(rnd(w) % n);
}

static unsigned long iters(unsigned long n)
{
	unsigned long k = n * scale / 100;

	return k > 0 ? k : 1;
}

/* --- requests ------------------------------------------------------------- */

/* The client and session of worker w, as harness.h's rq_* take them. */
#define WS(w)	(&(w)->c), ((w)->c.sid)

/* One load (store: of value) through the access op. */
static Aspace__Response *load_store(struct worker *w, int task,
    uint64_t addr, bool store, uint8_t value)
{
	return rq_access(WS(w), task, addr, store ?
	    ASPACE__ACCESS_KIND__ACCESS_WRITE :
	    ASPACE__ACCESS_KIND__ACCESS_READ, store ? value : -1);
}

/* --- checking answers ----------------------------------------------------- */

static bool ok(const Aspace__Response *r)
{
	return code_of(r) == ASPACE__STATUS__CODE__OK;
}

static const char *why(const Aspace__Response *r)
{
	if (r == NULL)
		return "no response";
	if (r->status == NULL)
		return "no status";
	if (r->status->errname != NULL)
		return r->status->errname;
	return r->status->message != NULL ? r->status->message : "-";
}

static bool fault_is(const Aspace__Fault *f, int sig, int code)
{
	return f != NULL && f->has_signal && f->signal == sig &&
	    f->has_code && f->code == code;
}

/* The new task of a fork, thread or vfork answer, or -1. */
static int new_task(const Aspace__Response *r)
{
	if (!ok(r) || (r->result_case != ASPACE__RESPONSE__RESULT_FORK &&
	    r->result_case != ASPACE__RESPONSE__RESULT_THREAD &&
	    r->result_case != ASPACE__RESPONSE__RESULT_VFORK) ||
	    r->fork == NULL || !r->fork->has_task)
		return -1;
	return r->fork->task;
}

/* A read of len bytes that must succeed; its data, or NULL. */
static const uint8_t *read_ok(struct worker *w, int task, uint64_t addr,
    uint32_t len)
{
	Aspace__Response *r = rq_read(WS(w), task, addr, len);

	if (!ok(r) || r->read_bytes == NULL || r->read_bytes->fault != NULL ||
	    r->read_bytes->data.len != len) {
		wfail(w, __LINE__, "read %#lx+%u as %d: %s%s",
		    (unsigned long)addr, len, task, why(r), ok(r) &&
		    r->read_bytes != NULL && r->read_bytes->fault != NULL ?
		    " (a fault)" : "");
		return NULL;
	}
	return r->read_bytes->data.data;
}

static bool read_equal(struct worker *w, int task, uint64_t addr,
    const uint8_t *want, uint32_t len)
{
	const uint8_t *got = read_ok(w, task, addr, len);
	uint32_t i;

	if (got == NULL)
		return false;
	for (i = 0; i < len; i++)
		EXPECT(w, got[i] == want[i], "read %#lx as %d: byte %u is %#x, "
		    "not %#x", (unsigned long)addr, task, i, got[i], want[i]);
	return true;
}

static bool write_ok(struct worker *w, int task, uint64_t addr,
    const uint8_t *data, size_t len)
{
	Aspace__Response *r = rq_write(WS(w), task, addr, data, len);

	EXPECT(w, ok(r) && r->write_bytes != NULL &&
	    r->write_bytes->written == len && r->write_bytes->fault == NULL,
	    "write %#lx+%zu as %d: %s", (unsigned long)addr, len, task,
	    why(r));
	return true;
}

/* The address an mmap, mremap or brk answered, or 1 (never aligned). */
static uint64_t r_addr(const Aspace__Response *r)
{
	if (!ok(r) || (r->result_case != ASPACE__RESPONSE__RESULT_MMAP &&
	    r->result_case != ASPACE__RESPONSE__RESULT_MREMAP &&
	    r->result_case != ASPACE__RESPONSE__RESULT_BRK))
		return 1;
	return r->mmap->addr;		/* mmap, mremap, brk: AddrResult */
}

/* A call that must answer OK (result as asked, or none). */
static bool call_ok(struct worker *w, const Aspace__Response *r,
    const char *what)
{
	EXPECT(w, ok(r), "%s: %s", what, why(r));
	return true;
}

static bool perms_ok(const char *p)
{
	return p != NULL && strlen(p) == 4 && (p[0] == 'r' || p[0] == '-') &&
	    (p[1] == 'w' || p[1] == '-') && (p[2] == 'x' || p[2] == '-') &&
	    (p[3] == 's' || p[3] == 'p');
}

/* One text line against its Vma: "START-END PERMS OFFSET[ NAME]". */
static bool line_matches(const char *line, size_t n, const Aspace__Vma *v)
{
	char buf[320], perms[8];
	unsigned long s, e, off;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (sscanf(buf, "%lx-%lx %7s %lx", &s, &e, perms, &off) != 4)
		return false;
	return s == v->start && e == v->end && strcmp(perms, v->perms) == 0 &&
	    off == v->offset;
}

/* maps: sorted, disjoint, aligned VMAs, and a text line for each. */
static bool maps_wellformed(struct worker *w, const Aspace__MapsResult *m)
{
	const char *p, *nl;
	uint64_t prev_end = 0;
	size_t i;

	EXPECT(w, m != NULL && m->text != NULL, "maps: no result");
	for (i = 0, p = m->text; i < m->n_vmas; i++, p = nl + 1) {
		const Aspace__Vma *v = m->vmas[i];

		EXPECT(w, v->start < v->end && v->start % PG == 0 &&
		    v->end % PG == 0 && v->start >= prev_end &&
		    perms_ok(v->perms), "maps: bad VMA %zu %#lx-%#lx %s", i,
		    (unsigned long)v->start, (unsigned long)v->end,
		    v->perms ? v->perms : "(none)");
		prev_end = v->end;
		nl = strchr(p, '\n');
		EXPECT(w, nl != NULL && line_matches(p, (size_t)(nl - p), v),
		    "maps: text line %zu does not match its VMA", i);
	}
	EXPECT(w, *p == '\0', "maps: more lines than VMAs");
	return true;
}

/* The VMAs of m cover [lo, hi), each with perms matching pat ('?' any). */
static bool maps_cover(struct worker *w, const Aspace__MapsResult *m,
    uint64_t lo, uint64_t hi, const char *pat)
{
	uint64_t at = lo;
	size_t i, k;

	for (i = 0; i < m->n_vmas && at < hi; i++) {
		const Aspace__Vma *v = m->vmas[i];

		if (v->end <= at)
			continue;
		EXPECT(w, v->start <= at, "maps: a hole at %#lx",
		    (unsigned long)at);
		for (k = 0; k < 4; k++)
			EXPECT(w, pat[k] == '?' || pat[k] == v->perms[k],
			    "maps: %#lx is %s, not %s", (unsigned long)at,
			    v->perms, pat);
		at = v->end;
	}
	EXPECT(w, at >= hi, "maps: [%#lx, %#lx) not covered", (unsigned long)at,
	    (unsigned long)hi);
	return true;
}

/* smaps: each VMA inside the window's VMAs, its figures consistent. */
static bool smaps_wellformed(struct worker *w, const Aspace__SmapsResult *s)
{
	size_t i;

	EXPECT(w, s != NULL && s->text != NULL, "smaps: no result");
	for (i = 0; i < s->n_smaps; i++) {
		const Aspace__Smap *m = s->smaps[i];
		uint64_t kb;

		EXPECT(w, m->vma != NULL && m->vma->start < m->vma->end &&
		    perms_ok(m->vma->perms), "smaps: bad VMA %zu", i);
		kb = (m->vma->end - m->vma->start) / 1024;
		EXPECT(w, m->rss <= kb && m->pss <= m->rss &&
		    m->anonymous <= m->rss && m->shared_clean +
		    m->shared_dirty + m->private_clean + m->private_dirty ==
		    m->rss, "smaps: VMA %zu: size %lu rss %lu pss %lu anon %lu",
		    i, (unsigned long)kb, (unsigned long)m->rss,
		    (unsigned long)m->pss, (unsigned long)m->anonymous);
	}
	return true;
}

static bool check_ok(struct worker *w, const uint8_t *sid, int mms,
    int tasks)
{
	Aspace__Response *r;
	uint8_t keep[16];

	memcpy(keep, w->c.sid, 16);
	memcpy(w->c.sid, sid, 16);
	r = rq_simple(WS(w), 0, ASPACE__REQUEST__OP_CHECK);
	memcpy(w->c.sid, keep, 16);
	EXPECT(w, ok(r) && r->check != NULL, "check: %s", why(r));
	EXPECT(w, mms < 0 || (int)r->check->mms == mms,
	    "check: %u mms, not %d", r->check->mms, mms);
	EXPECT(w, tasks < 0 || (int)r->check->tasks == tasks,
	    "check: %u tasks, not %d", r->check->tasks, tasks);
	return true;
}

/* --- session S1 and its fixed contents ------------------------------------ */

static struct {
	uint8_t		 sid[16];
	int		 tb, td, child;	/* B's and D's threads, C's child */
	uint64_t	 stack;		/* where P's [stack] started */
	uint8_t		 file0[NPG * PG];	/* f at the start */
	uint8_t		 g[NPG * PG];		/* g, never written */
	int		 done;			/* atomic: E may stop */
} s1;

/* SH's first page: bytes that never change, tagged page 0. */
static const uint8_t sh_const[8] = {
	0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80
};

/* PRIV's bytes as task 1 wrote them before the fork. */
static uint8_t prefork(unsigned long off)
{
	unsigned long p = off / PG, i = off % PG;

	return i < 8 ? (uint8_t)(p * 16 + i + 1) : 0;
}

/* --- A: loads and stores where the answer is known ------------------------ */

struct a_state {
	struct worker	 w;
	unsigned long	 refused;	/* stores B's mprotect refused */
	unsigned long	 forks;
	unsigned long	 m_faults, m_hits;	/* in M: faults, MTAG loaded */
	unsigned long	 b_faults, b_hits;	/* in BA: holes, BTAG loaded */
	uint8_t		 sh[NPG * PG];		/* A is SH's only writer */
	uint8_t		 priv[NPG * PG];	/* P's view of PRIV */
	uint8_t		 file[NPG * PG];	/* FILE */
	uint8_t		 stack[STACK_PAGES];	/* a byte per page below it */
};

/* Store 1 to 8 tagged bytes into SH, FILE or PRIV (pages 0-7); B's
 * mprotect may refuse some of them in SH and FILE. */
static bool a_store(struct a_state *a, uint64_t base, uint8_t *model,
    unsigned long pages, bool may_refuse)
{
	struct worker *w = &a->w;
	unsigned long p = 1 + rnd_below(w, pages - 1), off, len, i;
	uint8_t data[8];
	Aspace__Response *r;
	uint32_t n;

	off = p * PG + rnd_below(w, PG - 8);
	len = 1 + rnd_below(w, 8);
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(rnd(w) << 4 | p);
	r = rq_write(WS(w), 1, base + off, data, len);
	EXPECT(w, ok(r) && r->write_bytes != NULL, "store %#lx: %s",
	    (unsigned long)(base + off), why(r));
	n = r->write_bytes->written;
	EXPECT(w, n <= len && (n == len) == (r->write_bytes->fault == NULL),
	    "store %#lx: %u of %lu written", (unsigned long)(base + off), n,
	    len);
	if (n < len)
		a->refused++;
	if (n < len)
		EXPECT(w, may_refuse && fault_is(r->write_bytes->fault, SEGV,
		    ACCERR) && r->write_bytes->fault->addr == base + off + n,
		    "store %#lx: an unexpected fault",
		    (unsigned long)(base + off));
	memcpy(model + off, data, n);
	return true;
}

/* Load up to 64 bytes of SH, FILE or PRIV as task: exactly the model. */
static bool a_load(struct a_state *a, int task, uint64_t base,
    const uint8_t *model, unsigned long pages)
{
	struct worker *w = &a->w;
	unsigned long off = rnd_below(w, pages * PG - 64);

	return read_equal(w, task, base + off, model + off,
	    (uint32_t)(1 + rnd_below(w, 64)));
}

/* M: B maps, unmaps, protects and moves it; A's byte or 0, or a fault. */
static bool a_in_m(struct a_state *a)
{
	struct worker *w = &a->w;
	uint64_t addr = R_M + rnd_below(w, NPG) * PG + rnd_below(w, 4);
	bool store = rnd(w) & 1;
	Aspace__Response *r = load_store(w, 1, addr, store, MTAG);
	const Aspace__AccessResult *x = ok(r) ? r->access : NULL;

	EXPECT(w, x != NULL, "access %#lx: %s", (unsigned long)addr, why(r));
	a->m_faults += x->fault != NULL;
	a->m_hits += x->fault == NULL && !store && x->value == MTAG;
	if (x->fault != NULL)
		EXPECT(w, fault_is(x->fault, SEGV, MAPERR) ||
		    fault_is(x->fault, SEGV, ACCERR),
		    "access %#lx: fault %d/%d", (unsigned long)addr,
		    x->fault->signal, x->fault->code);
	else
		EXPECT(w, x->value == MTAG || (!store && x->value == 0),
		    "access %#lx: %#x", (unsigned long)addr, x->value);
	return true;
}

/* BA: B's byte or 0, or no mapping (B never takes PROT_READ away). */
static bool a_in_b(struct a_state *a)
{
	struct worker *w = &a->w;
	uint64_t addr = R_B + rnd_below(w, B_PAGES) * PG;
	Aspace__Response *r = load_store(w, 1, addr, false, 0);
	const Aspace__AccessResult *x = ok(r) ? r->access : NULL;

	EXPECT(w, x != NULL, "load %#lx: %s", (unsigned long)addr, why(r));
	a->b_faults += x->fault != NULL;
	a->b_hits += x->fault == NULL && x->value == BTAG;
	if (x->fault != NULL)
		EXPECT(w, fault_is(x->fault, SEGV, MAPERR),
		    "load %#lx: fault %d/%d", (unsigned long)addr,
		    x->fault->signal, x->fault->code);
	else
		EXPECT(w, x->value == 0 || x->value == BTAG,
		    "load %#lx: %#x", (unsigned long)addr, x->value);
	return true;
}

/* Below the stack: growth (the fault takes mmap_lock for writing) while
 * B changes VMAs elsewhere; never a fault, and A's own bytes. */
static bool a_stack(struct a_state *a)
{
	struct worker *w = &a->w;
	unsigned long p = 1 + rnd_below(w, STACK_PAGES - 1);
	uint64_t addr = s1.stack - p * PG;
	bool store = rnd(w) & 1;
	uint8_t v = (uint8_t)(p | 0x80);
	Aspace__Response *r = load_store(w, 1, addr, store, v);

	EXPECT(w, ok(r) && r->access->fault == NULL, "stack %#lx: %s%s",
	    (unsigned long)addr, why(r), ok(r) ? " (a fault)" : "");
	EXPECT(w, r->access->value == (store ? v : a->stack[p]),
	    "stack %#lx: %#x", (unsigned long)addr, r->access->value);
	if (store)
		a->stack[p] = v;
	return true;
}

/* A fork of task 1 while B changes P's VMAs: the child sees SH shared
 * and PRIV as it was; its store stays its own. */
static bool a_fork(struct a_state *a)
{
	struct worker *w = &a->w;
	int k = new_task(rq_simple(WS(w), 1, ASPACE__REQUEST__OP_FORK));
	unsigned long off = rnd_below(w, NPG * PG);
	uint8_t v = (uint8_t)~a->priv[off];

	EXPECT(w, k > 1, "fork of task 1: none made");
	a->forks++;
	if (!a_load(a, k, R_SH, a->sh, NPG) ||
	    !a_load(a, k, R_PRIV, a->priv, NPG) ||
	    !write_ok(w, k, R_PRIV + off, &v, 1) ||
	    !read_equal(w, 1, R_PRIV + off, a->priv + off, 1) ||
	    !read_equal(w, k, R_PRIV + off, &v, 1))
		return false;
	return call_ok(w, rq_simple(WS(w), k, ASPACE__REQUEST__OP_EXIT),
	    "exit");
}

/* A thread of task 1 that loads from SH and exits. */
static bool a_thread(struct a_state *a)
{
	struct worker *w = &a->w;
	int t = new_task(rq_simple(WS(w), 1, ASPACE__REQUEST__OP_THREAD));

	EXPECT(w, t > 1, "thread: none made");
	if (!a_load(a, t, R_SH, a->sh, NPG))
		return false;
	if (!call_ok(w, rq_simple(WS(w), t, ASPACE__REQUEST__OP_EXIT), "exit"))
		return false;
	EXPECT(w, code_of(rq_read(WS(w), t, R_SH, 1)) ==
	    ASPACE__STATUS__CODE__NO_SUCH_TASK, "an exited thread answers");
	return true;
}

static bool a_step(struct a_state *a)
{
	unsigned long r = rnd_below(&a->w, 100);

	if (r < 25)
		return a_store(a, R_SH, a->sh, NPG, true);
	if (r < 45)
		return a_load(a, 1, R_SH, a->sh, NPG);
	if (r < 52)
		return a_store(a, R_PRIV, a->priv, NPG / 2, false);
	if (r < 58)
		return a_load(a, 1, R_PRIV, a->priv, NPG);
	if (r < 66)
		return a_store(a, R_FILE, a->file, NPG, true);
	if (r < 74)
		return a_load(a, 1, R_FILE, a->file, NPG);
	if (r < 86)
		return a_in_m(a);
	if (r < 93)
		return a_in_b(a);
	if (r < 96)
		return a_stack(a);
	if (r < 98)
		return a_thread(a);
	return a_fork(a);
}

static void *a_main(void *arg)
{
	struct a_state *a = arg;
	unsigned long i, n = iters(4000);

	for (i = 0; i < n && a_step(a); i++)
		;
	return NULL;
}

/* A private mapping of f while A stores through the shared one (in P's
 * mm or another): the store copies the page cache's page while A may be
 * storing into it; the task reads its own byte back. */
static bool file_cow(struct worker *w, int task)
{
	uint64_t off = rnd_below(w, NPG * PG);
	uint8_t v = (uint8_t)rnd(w);

	EXPECT(w, r_addr(rq_mmap(WS(w), task, R_FCOW, NPG * PG, PROT_RW, 0x12,
	    "f")) == R_FCOW, "mmap f private");
	return write_ok(w, task, R_FCOW + off, &v, 1) &&
	    read_equal(w, task, R_FCOW + off, &v, 1) &&
	    call_ok(w, rq_munmap(WS(w), task, R_FCOW, NPG * PG), "munmap");
}

/* --- B: mappings whose every result is predicted -------------------------- */

/* An area only B changes the mappings of, page by page. */
struct area {
	const char	*name;
	uint64_t	 base;
	int		 pages;
	uint8_t		 tag;		/* the byte stored into it */
	bool		 known;		/* B alone stores: vals exact */
	int		 prot[B_PAGES];	/* -1 unmapped, else PROT_* */
	uint8_t		 val[B_PAGES];	/* the byte at each page's start */
};

struct b_state {
	struct worker	 w;
	struct area	 ba, m;
	uint64_t	 brk;		/* the break as B left it */
};

static uint64_t pa(const struct area *ar, int p)
{
	return ar->base + (uint64_t)p * PG;
}

/* A random run of 1 to 4 pages of ar: *p and *n. */
static void pick(struct worker *w, const struct area *ar, int *p, int *n)
{
	*n = 1 + (int)rnd_below(w, 4);
	*p = (int)rnd_below(w, (unsigned long)(ar->pages - *n + 1));
}

static bool b_mmap(struct b_state *b, struct area *ar, int p, int n)
{
	struct worker *w = &b->w;
	uint32_t populate = rnd(w) % 4 == 0 ? MAP_POPULATE : 0;
	Aspace__Response *r = rq_mmap(WS(w), s1.tb, pa(ar, p), (uint64_t)n * PG,
	    PROT_RW, MAP_PAF | populate, NULL);
	int i;

	EXPECT(w, r_addr(r) == pa(ar, p),
	    "%s: mmap %d+%d: %s", ar->name, p, n, why(r));
	for (i = p; i < p + n; i++) {
		ar->prot[i] = PROT_RW;
		ar->val[i] = 0;
	}
	return true;
}

/* mlock then munlock a run that is mapped whole (mlock populates it). */
static bool b_mlock(struct b_state *b, struct area *ar, int p, int n)
{
	struct worker *w = &b->w;
	int i;

	if (!ar->known)		/* PROT_NONE there: mlock's errors vary */
		return true;
	for (i = p; i < p + n; i++)
		if (ar->prot[i] < 0)
			return true;
	return call_ok(w, rq_mlock(WS(w), s1.tb, true, pa(ar, p),
	    (uint64_t)n * PG), "mlock") &&
	    call_ok(w, rq_mlock(WS(w), s1.tb, false, pa(ar, p),
	    (uint64_t)n * PG), "munlock");
}

/* The heap: up by a few pages and back; only B moves the break. */
static bool b_brk(struct b_state *b)
{
	struct worker *w = &b->w;
	uint64_t cur = r_addr(rq_brk(WS(w), s1.tb, true, 0)), up;

	EXPECT(w, cur != 1 && (b->brk == 0 || cur == b->brk),
	    "brk(0): %#lx, not %#lx", (unsigned long)cur,
	    (unsigned long)b->brk);
	b->brk = cur;
	up = cur + (1 + rnd_below(w, 8)) * PG;
	EXPECT(w, r_addr(rq_brk(WS(w), s1.tb, true, up)) == up, "brk up");
	EXPECT(w, r_addr(rq_brk(WS(w), s1.tb, true, cur)) == cur, "brk down");
	return true;
}

static bool b_munmap(struct b_state *b, struct area *ar, int p, int n)
{
	struct worker *w = &b->w;
	int i;

	if (!call_ok(w, rq_munmap(WS(w), s1.tb, pa(ar, p), (uint64_t)n * PG),
	    "munmap"))
		return false;
	for (i = p; i < p + n; i++)
		ar->prot[i] = -1;
	return true;
}

/* mprotect: Linux changes the VMAs up to the first hole, then ENOMEM. */
static bool b_mprotect(struct b_state *b, struct area *ar, int p, int n,
    int prot)
{
	struct worker *w = &b->w;
	Aspace__Response *r = rq_mprotect(WS(w), s1.tb, pa(ar, p),
	    (uint64_t)n * PG, (uint32_t)prot);
	int i;

	for (i = p; i < p + n && ar->prot[i] >= 0; i++)
		ar->prot[i] = prot;
	if (i < p + n)
		EXPECT(w, is_errno(r, "ENOMEM", ENOMEM), "%s: mprotect %d+%d "
		    "over a hole: %s", ar->name, p, n, why(r));
	else
		EXPECT(w, ok(r), "%s: mprotect %d+%d: %s", ar->name, p, n,
		    why(r));
	return true;
}

/* madvise(DONTNEED): every mapped page emptied; ENOMEM if any hole. */
static bool b_dontneed(struct b_state *b, struct area *ar, int p, int n)
{
	struct worker *w = &b->w;
	Aspace__Response *r = rq_madvise(WS(w), s1.tb, pa(ar, p),
	    (uint64_t)n * PG, MADV_DONTNEED);
	bool hole = false;
	int i;

	for (i = p; i < p + n; i++) {
		if (ar->prot[i] < 0)
			hole = true;
		ar->val[i] = 0;
	}
	EXPECT(w, hole ? is_errno(r, "ENOMEM", ENOMEM) : ok(r),
	    "%s: dontneed %d+%d: %s", ar->name, p, n, why(r));
	return true;
}

/* One access by B at page p's first byte, its outcome predicted. */
static bool b_access(struct b_state *b, struct area *ar, int p, bool store)
{
	struct worker *w = &b->w;
	Aspace__Response *r = load_store(w, s1.tb, pa(ar, p), store, ar->tag);
	const Aspace__AccessResult *x = ok(r) ? r->access : NULL;
	int prot = ar->prot[p];

	EXPECT(w, x != NULL, "%s: access %d: %s", ar->name, p, why(r));
	if (prot < 0)
		EXPECT(w, fault_is(x->fault, SEGV, MAPERR), "%s: access to "
		    "hole %d", ar->name, p);
	else if (prot == 0 || (store && prot != PROT_RW))
		EXPECT(w, fault_is(x->fault, SEGV, ACCERR), "%s: access %d "
		    "with prot %d", ar->name, p, prot);
	else if (store)
		EXPECT(w, x->fault == NULL, "%s: store %d", ar->name, p);
	else
		EXPECT(w, x->fault == NULL && x->value == ar->val[p],
		    "%s: load %d: %#x, not %#x", ar->name, p, x->value,
		    ar->val[p]);
	if (store && prot == PROT_RW)
		ar->val[p] = ar->tag;
	return true;
}

/* A fresh mapping of n pages, one stored byte, moved to m pages at a
 * place it does not overlap. */
static bool b_mremap(struct b_state *b, struct area *ar)
{
	struct worker *w = &b->w;
	Aspace__Response *r;
	int x, n, y, m, i, tries = 0;

	do {
		pick(w, ar, &x, &n);
		pick(w, ar, &y, &m);
	} while ((y < x + n && x < y + m) && ++tries < 100);
	if (tries == 100)
		return true;
	if (!b_mmap(b, ar, x, n) || !b_access(b, ar, x, true))
		return false;
	r = rq_mremap(WS(w), s1.tb, pa(ar, x), (uint64_t)n * PG,
	    (uint64_t)m * PG, MREMAP_MF, pa(ar, y));
	EXPECT(w, r_addr(r) == pa(ar, y),
	    "%s: mremap %d+%d to %d+%d: %s", ar->name, x, n, y, m, why(r));
	for (i = 0; i < m; i++) {
		ar->prot[y + i] = PROT_RW;
		ar->val[y + i] = i < n ? ar->val[x + i] : 0;
	}
	for (i = x; i < x + n; i++)
		ar->prot[i] = -1;
	return true;
}

static int perms_prot(const char *perms)
{
	return (perms[0] == 'r' ? PROT_R : 0) | (perms[1] == 'w' ? 2 : 0);
}

/* maps of the area, page by page, against the model. */
static bool b_maps(struct b_state *b, struct area *ar)
{
	struct worker *w = &b->w;
	Aspace__Response *r = rq_maps(WS(w), s1.tb, ar->base,
	    (uint64_t)ar->pages * PG);
	int got[B_PAGES], p;
	size_t i;

	EXPECT(w, ok(r) && r->maps != NULL, "%s: maps: %s", ar->name, why(r));
	if (!maps_wellformed(w, r->maps))
		return false;
	for (p = 0; p < ar->pages; p++)
		got[p] = -1;
	for (i = 0; i < r->maps->n_vmas; i++) {
		const Aspace__Vma *v = r->maps->vmas[i];

		EXPECT(w, v->start >= ar->base && v->end <= pa(ar, ar->pages),
		    "%s: maps: a VMA outside", ar->name);
		for (p = (int)((v->start - ar->base) / PG);
		    pa(ar, p) < v->end; p++)
			got[p] = perms_prot(v->perms);
	}
	for (p = 0; p < ar->pages; p++)
		EXPECT(w, got[p] == ar->prot[p], "%s: maps: page %d has prot "
		    "%d, not %d", ar->name, p, got[p], ar->prot[p]);
	return true;
}

static bool b_in_area(struct b_state *b, struct area *ar)
{
	struct worker *w = &b->w;
	unsigned long r = rnd_below(w, 100);
	int p, n;

	pick(w, ar, &p, &n);
	if (r < 22)
		return b_mmap(b, ar, p, n);
	if (r < 34)
		return b_munmap(b, ar, p, n);
	if (r < 50)
		return b_mprotect(b, ar, p, n, ar->known ? (r & 1 ? PROT_R :
		    PROT_RW) : (int)(r % 3 == 0 ? 0 : r % 3 == 1 ? PROT_R :
		    PROT_RW));
	if (r < 60)
		return b_dontneed(b, ar, p, n);
	if (r < 83 && ar->known)
		return b_access(b, ar, p, r < 71);
	if (r < 88)
		return b_mlock(b, ar, p, n);
	if (r < 96)
		return b_mremap(b, ar);
	return b_maps(b, ar);
}

/* Over A's regions: dontneed keeps shared data; a read-only window. */
static bool b_over_a(struct b_state *b)
{
	static const uint64_t regions[] = { R_SH, R_FILE, R_GPRIV };
	struct worker *w = &b->w;
	int k = (int)rnd_below(w, 3), p = (int)rnd_below(w, NPG - 1);
	uint64_t addr = regions[k] + (uint64_t)p * PG;
	uint64_t len = (1 + rnd_below(w, (unsigned long)(NPG - p))) * PG;

	if (k == 2 || rnd(w) & 1)
		return call_ok(w, rq_madvise(WS(w), s1.tb, addr, len,
		    MADV_DONTNEED), "dontneed");
	return call_ok(w, rq_mprotect(WS(w), s1.tb, addr, len, PROT_R),
	    "mprotect r--") &&
	    call_ok(w, rq_mprotect(WS(w), s1.tb, addr, len, PROT_RW),
	    "mprotect rw-");
}


static void *b_main(void *arg)
{
	struct b_state *b = arg;
	unsigned long i, n = iters(3000), r;
	bool go = true;

	for (i = 0; i < n && go; i++) {
		r = rnd_below(&b->w, 100);
		go = r < 55 ? b_in_area(b, &b->ba) : r < 83 ?
		    b_in_area(b, &b->m) : r < 93 ? b_over_a(b) : r < 97 ?
		    file_cow(&b->w, s1.tb) : b_brk(b);
	}
	if (go && b_maps(b, &b->ba))
		b_maps(b, &b->m);
	return NULL;
}

/* --- C: P's child, copy-on-write, forks and exits ------------------------- */

struct c_state {
	struct worker	 w;
	uint8_t		 priv[NPG * PG];	/* the child's view of PRIV */
	uint8_t		 other[NPG * PG];	/* a new child's */
	int		 forks, exits;
};

/* Store 1 to 8 bytes into PRIV as task, into model. */
static bool c_store(struct c_state *cs, int task, uint8_t *model)
{
	struct worker *w = &cs->w;
	unsigned long off = rnd_below(w, NPG * PG - 8), len, i;
	uint8_t data[8];

	len = 1 + rnd_below(w, 8);
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)rnd(w);
	if (!write_ok(w, task, R_PRIV + off, data, len))
		return false;
	memcpy(model + off, data, len);
	return true;
}

static bool c_load(struct c_state *cs, int task, const uint8_t *model)
{
	struct worker *w = &cs->w;
	unsigned long off = rnd_below(w, NPG * PG - 256);

	return read_equal(w, task, R_PRIV + off, model + off,
	    (uint32_t)(1 + rnd_below(w, 256)));
}

/* A mapping of the child's own: map, store, load, unmap, a hole. */
static bool c_own_map(struct c_state *cs)
{
	struct worker *w = &cs->w;
	uint8_t data[8];
	Aspace__Response *r;
	int i;

	for (i = 0; i < 8; i++)
		data[i] = (uint8_t)rnd(w);
	r = rq_mmap(WS(w), s1.child, R_CHILD, 4 * PG, PROT_RW, MAP_PAF, NULL);
	EXPECT(w, r_addr(r) == R_CHILD, "child mmap: %s", why(r));
	if (!write_ok(w, s1.child, R_CHILD + 3 * PG - 4, data, 8) ||
	    !read_equal(w, s1.child, R_CHILD + 3 * PG - 4, data, 8) ||
	    !call_ok(w, rq_munmap(WS(w), s1.child, R_CHILD, 4 * PG), "munmap"))
		return false;
	r = load_store(w, s1.child, R_CHILD + PG, false, 0);
	EXPECT(w, ok(r) && fault_is(r->access->fault, SEGV, MAPERR),
	    "child: a load from an unmapped page: %s", why(r));
	return true;
}

/* Fork the child; each side's stores stay its own; one side exits (the
 * new one may exec first) and C goes on with the other. */
static bool c_fork(struct c_state *cs)
{
	struct worker *w = &cs->w;
	int k = new_task(rq_simple(WS(w), s1.child,
	    ASPACE__REQUEST__OP_FORK)), i;
	bool keep_old = rnd(w) & 1;

	EXPECT(w, k > 1, "fork of the child: none made");
	cs->forks++;
	memcpy(cs->other, cs->priv, sizeof(cs->other));
	for (i = 0; i < 4; i++)
		if (!c_store(cs, s1.child, cs->priv) ||
		    !c_store(cs, k, cs->other) ||
		    !c_load(cs, k, cs->other) ||
		    !c_load(cs, s1.child, cs->priv))
			return false;
	if (!read_equal(w, k, R_SH, sh_const, 8))
		return false;
	if (keep_old && (rnd(w) & 1) &&
	    !call_ok(w, rq_exec(WS(w), k, "other"), "exec"))
		return false;
	if (!call_ok(w, rq_simple(WS(w), keep_old ? k : s1.child,
	    ASPACE__REQUEST__OP_EXIT), "exit"))
		return false;
	EXPECT(w, code_of(rq_simple(WS(w), keep_old ? k : s1.child,
	    ASPACE__REQUEST__OP_FORK)) == ASPACE__STATUS__CODE__NO_SUCH_TASK,
	    "an exited task forks");
	cs->exits++;
	if (!keep_old) {
		s1.child = k;
		memcpy(cs->priv, cs->other, sizeof(cs->priv));
	}
	return true;
}

/* vfork: the child waits (BLOCKED) while the new task stores into the
 * mm they share, then execs or exits and lets it go. */
static bool c_vfork(struct c_state *cs)
{
	struct worker *w = &cs->w;
	int v = new_task(rq_simple(WS(w), s1.child, ASPACE__REQUEST__OP_VFORK));

	EXPECT(w, v > 1, "vfork of the child: none made");
	EXPECT(w, code_of(rq_read(WS(w), s1.child, R_PRIV, 1)) ==
	    ASPACE__STATUS__CODE__BLOCKED, "a vfork parent answers");
	if (!c_store(cs, v, cs->priv) || !c_load(cs, v, cs->priv))
		return false;
	if (rnd(w) & 1 && !call_ok(w, rq_exec(WS(w), v, "other"), "exec"))
		return false;
	if (!call_ok(w, rq_simple(WS(w), v, ASPACE__REQUEST__OP_EXIT), "exit"))
		return false;
	cs->exits++;
	return c_load(cs, s1.child, cs->priv);
}

static bool c_step(struct c_state *cs)
{
	unsigned long r = rnd_below(&cs->w, 100);

	if (r < 40)
		return c_store(cs, s1.child, cs->priv);
	if (r < 80)
		return c_load(cs, s1.child, cs->priv);
	if (r < 88)
		return read_equal(&cs->w, s1.child, R_SH, sh_const, 8);
	if (r < 90)
		return c_own_map(cs);
	if (r < 93)
		return file_cow(&cs->w, s1.child);
	if (r < 96)
		return c_fork(cs);
	return c_vfork(cs);
}

static void *c_main(void *arg)
{
	struct c_state *cs = arg;
	unsigned long i, n = iters(2000);

	for (i = 0; i < n && c_step(cs); i++)
		;
	return NULL;
}

/* --- D: a pipeline of 16 -------------------------------------------------- */

enum d_kind {
	D_CONST, D_PREFORK, D_G, D_TAGGED, D_MAPS, D_SMAPS, D_STATUS, D_WALK,
	D_COUNTERS, D_NKINDS
};

struct d_state {
	struct worker	 w;
	unsigned long	 batches;
};

struct d_req {
	enum d_kind	 kind;
	uint64_t	 addr;
	uint32_t	 len;
	uint64_t	 id;
};

/* Send one request of the pipeline. */
static bool d_send(struct d_state *d, struct d_req *q)
{
	struct worker *w = &d->w;
	Aspace__ReadBytesRequest rb = ASPACE__READ_BYTES_REQUEST__INIT;
	Aspace__MapsRequest mp = ASPACE__MAPS_REQUEST__INIT;
	Aspace__SmapsRequest sm = ASPACE__SMAPS_REQUEST__INIT;
	Aspace__ProcStatusRequest ps = ASPACE__PROC_STATUS_REQUEST__INIT;
	Aspace__PageWalkRequest pw = ASPACE__PAGE_WALK_REQUEST__INIT;
	Aspace__CountersRequest ct = ASPACE__COUNTERS_REQUEST__INIT;
	Aspace__Window win;
	Aspace__Request r;

	switch (q->kind) {
	case D_CONST:	q->addr = R_SH; q->len = 8; break;
	case D_PREFORK:
		q->addr = R_PRIV + (8 + rnd_below(w, 8)) * PG;
		q->len = 8;
		break;
	case D_G:
		q->addr = R_GPRIV + rnd_below(w, NPG * PG - 512);
		q->len = 512;
		break;
	case D_TAGGED:
		q->addr = R_SH + rnd_below(w, NPG * PG - 512);
		q->len = 512;
		break;
	default:
		break;
	}
	rb.has_addr = rb.has_length = true;
	rb.addr = q->addr;
	rb.length = q->len;
	req_window(&win, R_SH, NPG * PG);
	sm.window = &win;
	pw.has_addr = true;
	pw.addr = R_SH + rnd_below(w, NPG) * PG;
	ct.has_task_only = ct.task_only = true;
	if (q->kind == D_MAPS)
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_MAPS, &mp);
	else if (q->kind == D_SMAPS)
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_SMAPS, &sm);
	else if (q->kind == D_STATUS)
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_PROC_STATUS,
		    &ps);
	else if (q->kind == D_WALK)
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_PAGE_WALK, &pw);
	else if (q->kind == D_COUNTERS)
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_COUNTERS, &ct);
	else
		cl_request(&w->c, &r, s1.td, ASPACE__REQUEST__OP_READ_BYTES,
		    &rb);
	w->requests++;
	EXPECT(w, cl_send(&w->c, &r, &q->id), "pipeline: send failed");
	return true;
}

/* Bytes of SH: 0, or tagged with their page. */
static bool d_tagged(struct d_state *d, const struct d_req *q,
    const uint8_t *data)
{
	uint32_t i;

	for (i = 0; i < q->len; i++) {
		unsigned long off = q->addr - R_SH + i;

		EXPECT(&d->w, data[i] == 0 || (data[i] & 0xf) == off / PG,
		    "pipeline: SH byte %#lx is %#x", off, data[i]);
	}
	return true;
}

static bool d_check_read(struct d_state *d, const struct d_req *q,
    const Aspace__Response *r)
{
	struct worker *w = &d->w;
	const uint8_t *data;
	uint32_t i;

	EXPECT(w, ok(r) && r->read_bytes != NULL &&
	    r->read_bytes->fault == NULL && r->read_bytes->data.len == q->len,
	    "pipeline: read %#lx: %s", (unsigned long)q->addr, why(r));
	data = r->read_bytes->data.data;
	for (i = 0; i < q->len; i++) {
		uint8_t want = q->kind == D_CONST ? sh_const[i] :
		    q->kind == D_PREFORK ? prefork(q->addr - R_PRIV + i) :
		    q->kind == D_G ? s1.g[q->addr - R_GPRIV + i] : data[i];

		EXPECT(w, data[i] == want, "pipeline: read %#lx byte %u: "
		    "%#x, not %#x", (unsigned long)q->addr, i, data[i], want);
	}
	return q->kind != D_TAGGED || d_tagged(d, q, data);
}

/* maps: well-formed, and P's fixed regions there whatever B does. */
static bool d_check_maps(struct d_state *d, const Aspace__Response *r)
{
	struct worker *w = &d->w;

	EXPECT(w, ok(r) && r->maps != NULL, "pipeline: maps: %s", why(r));
	return maps_wellformed(w, r->maps) &&
	    maps_cover(w, r->maps, R_SH, R_SH + NPG * PG, "r?-s") &&
	    maps_cover(w, r->maps, R_PRIV, R_PRIV + NPG * PG, "rw-p") &&
	    maps_cover(w, r->maps, R_FILE, R_FILE + NPG * PG, "r?-s") &&
	    maps_cover(w, r->maps, R_GPRIV, R_GPRIV + NPG * PG, "r--p");
}

static bool d_check(struct d_state *d, const struct d_req *q,
    const Aspace__Response *r)
{
	struct worker *w = &d->w;

	EXPECT(w, r != NULL && r->has_id && r->id == q->id,
	    "pipeline: answer %lu out of order or missing",
	    (unsigned long)q->id);
	if (q->kind == D_MAPS)
		return d_check_maps(d, r);
	if (q->kind == D_SMAPS) {
		EXPECT(w, ok(r), "pipeline: smaps: %s", why(r));
		return smaps_wellformed(w, r->smaps);
	}
	if (q->kind == D_STATUS) {
		/* Task 1, B's and D's threads at least; A's come and go. */
		EXPECT(w, ok(r) && r->proc_status->pid == s1.td &&
		    r->proc_status->tgid == 1 && r->proc_status->threads >= 3 &&
		    r->proc_status->vm_size > 0 && r->proc_status->text != NULL,
		    "pipeline: proc_status: %s", why(r));
		return true;
	}
	if (q->kind == D_WALK) {
		/* SH's page tables stay: dontneed and mprotect keep them. */
		EXPECT(w, ok(r) && r->page_walk->pgd != 0 &&
		    r->page_walk->pmd != 0, "pipeline: page_walk: %s", why(r));
		return true;
	}
	if (q->kind == D_COUNTERS) {
		EXPECT(w, ok(r) && r->counters != NULL, "pipeline: counters: %s",
		    why(r));
		return true;
	}
	return d_check_read(d, q, r);
}

static bool d_batch(struct d_state *d)
{
	struct d_req q[PIPE_DEPTH];
	int i;

	for (i = 0; i < PIPE_DEPTH; i++) {
		q[i].kind = (enum d_kind)rnd_below(&d->w, D_NKINDS);
		if (!d_send(d, &q[i]))
			return false;
	}
	for (i = 0; i < PIPE_DEPTH; i++)
		if (!d_check(d, &q[i], cl_recv(&d->w.c)))
			return false;
	d->batches++;
	return true;
}

static void *d_main(void *arg)
{
	struct d_state *d = arg;
	unsigned long i, n = iters(200);

	for (i = 0; i < n && d_batch(d); i++)
		;
	return NULL;
}

/* --- E: the check op, over and over --------------------------------------- */

/* The solo sessions, published as their clients make them. */
static struct {
	uint8_t		 sid[NSOLO][16];
	int		 ready[NSOLO];		/* atomic */
} solos;

struct e_state {
	struct worker	 w;
	unsigned long	 checks;
};

/* The other WRITE-mode requests of S1: a trace (on the pool), counters. */
static bool e_others(struct e_state *e)
{
	struct worker *w = &e->w;
	Aspace__Response *r;

	r = rq_run_trace(WS(w), 1, "maps\n", NULL);
	EXPECT(w, ok(r) && r->run_trace->errors == 0 &&
	    r->run_trace->output.len > 8 &&
	    memcmp(r->run_trace->output.data, "1: maps\n", 8) == 0,
	    "run_trace maps: %s", why(r));
	r = rq_counters(WS(w), 0, false);
	EXPECT(w, ok(r) && r->counters->minor_faults > 0,
	    "counters: %s", why(r));
	return true;
}

static void *e_main(void *arg)
{
	struct e_state *e = arg;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned long k;

	for (k = 0; k < 100000 &&
	    !__atomic_load_n(&s1.done, __ATOMIC_ACQUIRE); k++) {
		int i = (int)(k % NSOLO);

		if (!check_ok(&e->w, s1.sid, -1, -1) ||
		    (k % 8 == 0 && !e_others(e)))
			break;
		if (__atomic_load_n(&solos.ready[i], __ATOMIC_ACQUIRE) &&
		    !check_ok(&e->w, solos.sid[i], -1, -1))
			break;
		e->checks++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* --- the solo clients: a session each, exact answers ---------------------- */

struct solo_state {
	struct worker	 w;
	int		 index;
};

static const char solo_trace[] =
    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
    "write 0x200000000000 0x41\n"
    "read 0x200000000000\n"
    "munmap 0x200000000000 8K\n"
    "read 0x200000000000\n";
static const char solo_trace_out[] =
    "1: = 0x200000000000\n2: = ok\n3: = 0x41\n4: = 0\n"
    "5: SIGSEGV SEGV_MAPERR\n";

static bool solo_trace_run(struct worker *w)
{
	Aspace__Response *r;
	size_t n = sizeof(solo_trace_out) - 1;

	r = rq_run_trace(WS(w), 0, solo_trace, NULL);
	EXPECT(w, ok(r) && r->run_trace != NULL && r->run_trace->errors == 0 &&
	    r->run_trace->output.len == n &&
	    memcmp(r->run_trace->output.data, solo_trace_out, n) == 0,
	    "run_trace: %s", why(r));
	return true;
}

/* One VMA [lo, hi) rw-p in the window, with rss kB resident. */
static bool solo_reports(struct worker *w, uint64_t lo, uint64_t hi,
    uint64_t rss)
{
	Aspace__Response *r = rq_maps(WS(w), 0, lo, hi - lo);

	EXPECT(w, ok(r) && maps_wellformed(w, r->maps) &&
	    r->maps->n_vmas == 1 && r->maps->vmas[0]->start == lo &&
	    r->maps->vmas[0]->end == hi &&
	    strcmp(r->maps->vmas[0]->perms, "rw-p") == 0,
	    "maps: not one rw-p VMA: %s", why(r));
	r = rq_smaps(WS(w), 0, lo, hi - lo);
	EXPECT(w, ok(r) && smaps_wellformed(w, r->smaps) &&
	    r->smaps->n_smaps == 1 && r->smaps->smaps[0]->rss == rss,
	    "smaps: not one VMA with Rss %lu kB: %s", (unsigned long)rss,
	    why(r));
	return true;
}

/* A fork whose stores stay its own; a thread that sees the parent's. */
static bool solo_tasks(struct worker *w, const uint8_t *data, int *childp)
{
	static const uint8_t cccc[4] = { 'c', 'c', 'c', 'c' };
	uint8_t mix[16];
	int child = new_task(rq_simple(WS(w), 1, ASPACE__REQUEST__OP_FORK)), t;

	EXPECT(w, child > 1, "fork: none made");
	*childp = child;
	memcpy(mix, data, 16);
	memcpy(mix, cccc, 4);
	if (!write_ok(w, child, BASE + PG, cccc, 4) ||
	    !read_equal(w, 1, BASE + PG, data, 16) ||
	    !read_equal(w, child, BASE + PG, mix, 16))
		return false;
	t = new_task(rq_simple(WS(w), 1, ASPACE__REQUEST__OP_THREAD));
	EXPECT(w, t > 1, "thread: none made");
	return read_equal(w, t, BASE + PG, data, 16) &&
	    call_ok(w, rq_simple(WS(w), t, ASPACE__REQUEST__OP_EXIT), "exit");
}

static bool solo_round(struct solo_state *so, int round)
{
	struct worker *w = &so->w;
	Aspace__Response *r;
	uint8_t data[16];
	int i, child;

	for (i = 0; i < 16; i++)
		data[i] = (uint8_t)(so->index * 16 + round + i);
	r = rq_mmap(WS(w), 0, BASE, 8 * PG, PROT_RW, MAP_PAF, NULL);
	EXPECT(w, r_addr(r) == BASE, "mmap: %s", why(r));
	if (!write_ok(w, 1, BASE + PG, data, 16) ||
	    !solo_tasks(w, data, &child) ||
	    !call_ok(w, rq_mprotect(WS(w), 0, BASE, 8 * PG, PROT_R),
	    "mprotect"))
		return false;
	r = rq_write(WS(w), 0, BASE, data, 1);
	EXPECT(w, ok(r) && r->write_bytes->written == 0 &&
	    fault_is(r->write_bytes->fault, SEGV, ACCERR),
	    "a store to r--: %s", why(r));
	if (!call_ok(w, rq_mprotect(WS(w), 0, BASE, 8 * PG, PROT_RW),
	    "mprotect") ||
	    !solo_reports(w, BASE, BASE + 8 * PG, 4))
		return false;
	r = rq_mremap(WS(w), 0, BASE, 8 * PG, 8 * PG, MREMAP_MF,
	    BASE + 0x100000);
	EXPECT(w, r_addr(r) == BASE + 0x100000, "mremap: %s",
	    why(r));
	if (!read_equal(w, 1, BASE + 0x100000 + PG, data, 16))
		return false;
	r = load_store(w, 0, BASE + PG, false, 0);
	EXPECT(w, ok(r) && fault_is(r->access->fault, SEGV, MAPERR),
	    "a load from the old place: %s", why(r));
	return call_ok(w, rq_simple(WS(w), child, ASPACE__REQUEST__OP_EXIT),
	    "exit") &&
	    call_ok(w, rq_munmap(WS(w), 0, BASE + 0x100000, 8 * PG),
	    "munmap") &&
	    (round % 4 != 0 || solo_trace_run(w));
}

/* A client that leaves with a trace still running on the pool (a fresh
 * session, gone with it): the daemon drops the answer. */
static bool solo_leave_early(struct worker *w)
{
	Aspace__RunTraceRequest m;
	Aspace__Request r;
	struct client rude;

	EXPECT(w, cl_connect(&rude, dmn.sock) && cl_hello(&rude),
	    "a second connection");
	req_run_trace(&r, &m, solo_trace, NULL);
	w->requests += 2;
	EXPECT(w, cl_send(&rude, &r, NULL), "run_trace: send failed");
	cl_close(&rude);
	return true;
}

static void *solo_main(void *arg)
{
	struct solo_state *so = arg;
	struct worker *w = &so->w;
	int i, n = (int)iters(20);

	if (!cl_hello(&w->c) || !cl_session_new(&w->c, 64UL << 20)) {
		wfail(w, __LINE__, "hello or session_create failed");
		return NULL;
	}
	memcpy(solos.sid[so->index], w->c.sid, 16);
	__atomic_store_n(&solos.ready[so->index], 1, __ATOMIC_RELEASE);
	for (i = 0; i < n && solo_round(so, i); i++)
		;
	if (!w->failed)
		solo_leave_early(w);
	return NULL;
}

/* --- the test ------------------------------------------------------------- */

/* A connection with hello done, for a worker. */
static void worker_open(struct worker *w, const char *name, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->seed = seed;
	assert_true(cl_connect(&w->c, dmn.sock));
}

static void setup_file(struct worker *m, const char *name, uint64_t addr,
    uint32_t prot, uint32_t flags, uint8_t *contents)
{
	int p;

	assert_int_equal(code_of(rq_file(WS(m), 0, name, NPG * PG)), 0);
	assert_int_equal(r_addr(rq_mmap(WS(m), 1, addr, NPG * PG, prot, flags,
	    name)), addr);
	for (p = 0; p < NPG; p++) {
		const uint8_t *d = read_ok(m, 1, addr + (uint64_t)p * PG, PG);

		assert_non_null(d);
		memcpy(contents + (size_t)p * PG, d, PG);
	}
}

/* Where task 1's [stack] VMA starts. */
static uint64_t stack_start(struct worker *m)
{
	Aspace__Response *r = rq_maps(WS(m), 1, 0, 0);
	size_t i;

	assert_int_equal(code_of(r), 0);
	for (i = 0; i < r->maps->n_vmas; i++)
		if (strcmp(r->maps->vmas[i]->name, "[stack]") == 0)
			return r->maps->vmas[i]->start;
	fail_msg("no [stack] in task 1's maps");
	return 0;
}

/* S1: P's regions and contents, the child, B's and D's threads. */
static void setup_s1(struct worker *m)
{
	uint8_t pre[8];
	int p, i;

	assert_true(cl_hello(&m->c));
	assert_true(cl_session_new(&m->c, 256UL << 20));
	memcpy(s1.sid, m->c.sid, 16);
	assert_int_equal(r_addr(rq_mmap(WS(m), 1, R_SH, NPG * PG, PROT_RW,
	    MAP_SAF, NULL)), R_SH);
	assert_int_equal(r_addr(rq_mmap(WS(m), 1, R_PRIV, NPG * PG, PROT_RW,
	    MAP_PAF, NULL)), R_PRIV);
	assert_int_equal(r_addr(rq_mmap(WS(m), 1, R_M, NPG * PG, PROT_RW,
	    MAP_PAF, NULL)), R_M);
	setup_file(m, "f", R_FILE, PROT_RW, 0x11, s1.file0);
	setup_file(m, "g", R_GPRIV, PROT_R, 0x12, s1.g);
	assert_true(write_ok(m, 1, R_SH, sh_const, 8));
	for (p = 0; p < NPG; p++) {
		for (i = 0; i < 8; i++)
			pre[i] = prefork((unsigned long)(p * (int)PG + i));
		assert_true(write_ok(m, 1, R_PRIV + (uint64_t)p * PG, pre, 8));
	}
	s1.stack = stack_start(m);
	s1.child = new_task(rq_simple(WS(m), 1, ASPACE__REQUEST__OP_FORK));
	s1.tb = new_task(rq_simple(WS(m), 1, ASPACE__REQUEST__OP_THREAD));
	s1.td = new_task(rq_simple(WS(m), 1, ASPACE__REQUEST__OP_THREAD));
	assert_true(s1.child > 1 && s1.tb > 1 && s1.td > 1);
}

/* A worker of S1, connected and greeted. */
static void s1_worker(struct worker *w, const char *name, uint64_t seed)
{
	worker_open(w, name, seed);
	assert_true(cl_hello(&w->c));
	memcpy(w->c.sid, s1.sid, 16);
}

static void init_area(struct area *ar, const char *name, uint64_t base,
    int pages, uint8_t tag, bool known, int prot)
{
	int p;

	ar->name = name;
	ar->base = base;
	ar->pages = pages;
	ar->tag = tag;
	ar->known = known;
	for (p = 0; p < pages; p++) {
		ar->prot[p] = prot;
		ar->val[p] = 0;
	}
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The end: every session checks clean, maps hold, a newcomer is served. */
static void final_checks(struct worker *m)
{
	Aspace__Response *r;
	struct worker fresh;
	int i;

	/* P and the child; task 1, B's and D's threads, the child. */
	if (!check_ok(m, s1.sid, 2, 4))
		fail_msg("%s", m->err);
	for (i = 0; i < NSOLO; i++)
		if (!check_ok(m, solos.sid[i], 1, 1))
			fail_msg("%s", m->err);
	r = rq_maps(WS(m), 1, 0, 0);
	assert_int_equal(code_of(r), 0);
	if (!maps_wellformed(m, r->maps) ||
	    !maps_cover(m, r->maps, R_SH, R_SH + NPG * PG, "rw-s") ||
	    !maps_cover(m, r->maps, R_FILE, R_FILE + NPG * PG, "rw-s"))
		fail_msg("%s", m->err);
	r = rq_maps(WS(m), s1.child, 0, 0);
	assert_int_equal(code_of(r), 0);
	if (!maps_wellformed(m, r->maps) ||
	    !maps_cover(m, r->maps, R_PRIV, R_PRIV + NPG * PG, "rw-p"))
		fail_msg("%s", m->err);
	worker_open(&fresh, "fresh", 1);
	assert_true(cl_hello(&fresh.c));
	r = rq_simple(WS(&fresh), 0, ASPACE__REQUEST__OP_SESSION_LIST);
	assert_int_equal(code_of(r), 0);
	assert_int_equal(r->session_list->n_sessions, 1 + NSOLO);
	cl_close(&fresh.c);
	assert_int_equal(code_of(rq_simple(WS(m), 0,
	    ASPACE__REQUEST__OP_SESSION_DESTROY)), 0);
	for (i = 0; i < NSOLO; i++) {
		memcpy(m->c.sid, solos.sid[i], 16);
		assert_int_equal(code_of(rq_simple(WS(m), 0,
		    ASPACE__REQUEST__OP_SESSION_DESTROY)), 0);
	}
}

/* Every worker's first failure, one a line; the test fails if any. */
static void report_failures(struct a_state *a, struct b_state *b,
    struct c_state *cs, struct d_state *d, struct e_state *e,
    struct solo_state *so)
{
	struct worker *all[5 + NSOLO] = { &a->w, &b->w, &cs->w, &d->w, &e->w };
	int i, n = 0;

	for (i = 0; i < NSOLO; i++)
		all[5 + i] = &so[i].w;
	for (i = 0; i < 5 + NSOLO; i++)
		if (all[i]->failed) {
			fprintf(stderr, "test_concurrent: %s\n", all[i]->err);
			n++;
		}
	if (n > 0)
		fail_msg("%d of the clients failed", n);
}

static void test_concurrent(void **state)
{
	/* Static: big models, and nothing to free when a check fails. */
	static struct a_state a_st;
	static struct b_state b_st;
	static struct c_state c_st;
	static struct d_state d_st;
	static struct e_state e_st;
	static struct solo_state so[NSOLO];
	struct a_state *a = &a_st;
	struct b_state *b = &b_st;
	struct c_state *cs = &c_st;
	struct d_state *d = &d_st;
	struct e_state *e = &e_st;
	pthread_t ta, tb, tc, td, te, tso[NSOLO];
	struct worker m;
	struct timespec t0;
	unsigned long total;
	int i;

	(void)state;
	worker_open(&m, "setup", 1);
	setup_s1(&m);
	s1_worker(&a->w, "A", 0x9e3779b97f4a7c15ULL);
	memcpy(a->sh, sh_const, 8);
	for (i = 0; i < NPG * (int)PG; i++)
		a->priv[i] = cs->priv[i] = prefork((unsigned long)i);
	memcpy(a->file, s1.file0, sizeof(a->file));
	s1_worker(&b->w, "B", 0xbf58476d1ce4e5b9ULL);
	init_area(&b->ba, "BA", R_B, B_PAGES, BTAG, true, -1);
	init_area(&b->m, "M", R_M, NPG, MTAG, false, PROT_RW);
	s1_worker(&cs->w, "C", 0x94d049bb133111ebULL);
	s1_worker(&d->w, "D", 0x2545f4914f6cdd1dULL);
	s1_worker(&e->w, "E", 5);
	for (i = 0; i < NSOLO; i++) {
		so[i].index = i;
		worker_open(&so[i].w, "solo", (uint64_t)i + 11);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&te, NULL, e_main, e), 0);
	assert_int_equal(pthread_create(&ta, NULL, a_main, a), 0);
	assert_int_equal(pthread_create(&tb, NULL, b_main, b), 0);
	assert_int_equal(pthread_create(&tc, NULL, c_main, cs), 0);
	assert_int_equal(pthread_create(&td, NULL, d_main, d), 0);
	for (i = 0; i < NSOLO; i++)
		assert_int_equal(pthread_create(&tso[i], NULL, solo_main,
		    &so[i]), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	pthread_join(td, NULL);
	for (i = 0; i < NSOLO; i++)
		pthread_join(tso[i], NULL);
	__atomic_store_n(&s1.done, 1, __ATOMIC_RELEASE);
	pthread_join(te, NULL);
	total = sent(&a->w) + sent(&b->w) + sent(&cs->w) +
	    sent(&d->w) + sent(&e->w);
	for (i = 0; i < NSOLO; i++)
		total += sent(&so[i].w);
	fprintf(stderr, "test_concurrent: %lu requests in %.2f s (A %lu, "
	    "B %lu, C %lu with %d forks, D %lu in %lu batches, E %lu "
	    "checks, solos %lu)\n", total, elapsed(&t0), sent(&a->w),
	    sent(&b->w), sent(&cs->w), cs->forks, sent(&d->w),
	    d->batches, sent(&e->w), total - sent(&a->w) -
	    sent(&b->w) - sent(&cs->w) - sent(&d->w) - sent(&e->w));
	fprintf(stderr, "test_concurrent: A: %lu forks, %lu stores refused, "
	    "in M %lu faults and %lu loads of its byte, in BA %lu holes and "
	    "%lu loads of B's byte\n", a->forks, a->refused, a->m_faults, a->m_hits,
	    a->b_faults, a->b_hits);
	report_failures(a, b, cs, d, e, so);
	assert_true(e->checks > 0);
	final_checks(&m);
	cl_close(&a->w.c);
	cl_close(&b->w.c);
	cl_close(&cs->w.c);
	cl_close(&d->w.c);
	cl_close(&e->w.c);
	for (i = 0; i < NSOLO; i++)
		cl_close(&so[i].w.c);
	cl_close(&m.c);
}

static int start_daemon(void **state)
{
	static const char *const args[] = {
		"-w", "4", "--max-sessions", "64", NULL
	};

	*state = &dmn;
	return hdaemon_start(&dmn, daemon_path, "conc", args);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent),
	};
	const char *sc = getenv("ASPACE_CONC_SCALE");

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	if (daemon_path == NULL) {
		fprintf(stderr,
		    "test_concurrent: set ASPACED or pass the path\n");
		return 1;
	}
	if (sc != NULL && atoi(sc) > 0)
		scale = (unsigned int)atoi(sc);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, hdaemon_teardown);
}

/*
 * test_concurrent-util.c: test_concurrent's helpers (test_concurrent.h):
 * a worker's failure and random numbers, requests, the checking of
 * answers (maps, smaps, the check op), and session S1's fixed contents.
 */
#include "test_concurrent.h"

unsigned int scale = 100;	/* percent */

/* --- workers -------------------------------------------------------------- */

/* What w has sent: its own count and its client's ops. */
unsigned long sent(const struct worker *w)
{
	return w->requests + w->c.ops;
}

void wfail(struct worker *w, int line, const char *fmt, ...)
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

uint64_t rnd(struct worker *w)
{
	w->seed ^= w->seed << 13;
	w->seed ^= w->seed >> 7;
	w->seed ^= w->seed << 17;
	return w->seed;
}

unsigned long rnd_below(struct worker *w, unsigned long n)
{
	return (unsigned long)(rnd(w) % n);
}

unsigned long iters(unsigned long n)
{
	unsigned long k = n * scale / 100;

	return k > 0 ? k : 1;
}

/* --- requests ------------------------------------------------------------- */

/* One load (store: of value) through the access op. */
Aspace__Response *load_store(struct worker *w, int task,
    uint64_t addr, bool store, uint8_t value)
{
	return rq_access(WS(w), task, addr, store ?
	    ASPACE__ACCESS_KIND__ACCESS_WRITE :
	    ASPACE__ACCESS_KIND__ACCESS_READ, store ? value : -1);
}

/* --- checking answers ----------------------------------------------------- */

bool ok(const Aspace__Response *r)
{
	return code_of(r) == ASPACE__STATUS__CODE__OK;
}

const char *why(const Aspace__Response *r)
{
	if (r == NULL)
		return "no response";
	if (r->status == NULL)
		return "no status";
	if (r->status->errname != NULL)
		return r->status->errname;
	return r->status->message != NULL ? r->status->message : "-";
}

bool fault_is(const Aspace__Fault *f, int sig, int code)
{
	return f != NULL && f->has_signal && f->signal == sig &&
	    f->has_code && f->code == code;
}

/* The new task of a fork, thread or vfork answer, or -1. */
int new_task(const Aspace__Response *r)
{
	if (!ok(r) || (r->result_case != ASPACE__RESPONSE__RESULT_FORK &&
	    r->result_case != ASPACE__RESPONSE__RESULT_THREAD &&
	    r->result_case != ASPACE__RESPONSE__RESULT_VFORK) ||
	    r->fork == NULL || !r->fork->has_task)
		return -1;
	return r->fork->task;
}

/* A read of len bytes that must succeed; its data, or NULL. */
const uint8_t *read_ok(struct worker *w, int task, uint64_t addr,
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

bool read_equal(struct worker *w, int task, uint64_t addr,
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

bool write_ok(struct worker *w, int task, uint64_t addr,
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
uint64_t r_addr(const Aspace__Response *r)
{
	if (!ok(r) || (r->result_case != ASPACE__RESPONSE__RESULT_MMAP &&
	    r->result_case != ASPACE__RESPONSE__RESULT_MREMAP &&
	    r->result_case != ASPACE__RESPONSE__RESULT_BRK))
		return 1;
	return r->mmap->addr;		/* mmap, mremap, brk: AddrResult */
}

/* A call that must answer OK (result as asked, or none). */
bool call_ok(struct worker *w, const Aspace__Response *r,
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
bool maps_wellformed(struct worker *w, const Aspace__MapsResult *m)
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
bool maps_cover(struct worker *w, const Aspace__MapsResult *m,
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
bool smaps_wellformed(struct worker *w, const Aspace__SmapsResult *s)
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

bool check_ok(struct worker *w, const uint8_t *sid, int mms,
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

struct s1_state s1;

/* SH's first page: bytes that never change, tagged page 0. */
const uint8_t sh_const[8] = {
	0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80
};

/* PRIV's bytes as task 1 wrote them before the fork. */
uint8_t prefork(unsigned long off)
{
	unsigned long p = off / PG, i = off % PG;

	return i < 8 ? (uint8_t)(p * 16 + i + 1) : 0;
}

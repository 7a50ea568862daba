/*
 * test_concurrent-cde.c: test_concurrent's workers C, D and E and the
 * solo clients (the test: test_concurrent.c's top comment; what they
 * share: test_concurrent.h).  C drives P's child (copy-on-write, forks,
 * exits), D pipelines 16 requests at a time, E runs the check op over
 * and over, and each solo client runs a fixed mix in a session of its
 * own.
 */
#include "test_concurrent.h"

/* --- C: P's child, copy-on-write, forks and exits ------------------------- */

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

void *c_main(void *arg)
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

void *d_main(void *arg)
{
	struct d_state *d = arg;
	unsigned long i, n = iters(200);

	for (i = 0; i < n && d_batch(d); i++)
		;
	return NULL;
}

/* --- E: the check op, over and over --------------------------------------- */

struct solos_state solos;

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

void *e_main(void *arg)
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

void *solo_main(void *arg)
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

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
 *
 * Here the test: S1 set up, the workers started and joined, the final
 * checks.  Its helpers: test_concurrent-util.c; workers A and B:
 * test_concurrent-ab.c; C, D, E and the solo clients:
 * test_concurrent-cde.c (test_concurrent.h).
 */
#include "test_concurrent.h"

static const char *daemon_path;
struct hdaemon dmn;

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

/*
 * test_concurrent-ab.c: test_concurrent's workers A and B (the test:
 * test_concurrent.c's top comment; what they share:
 * test_concurrent.h).  A loads and stores where the answer is known; B
 * changes mappings in BA and M, every result predicted.
 */
#include "test_concurrent.h"

/* --- A: loads and stores where the answer is known ------------------------ */

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

void *a_main(void *arg)
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
bool file_cow(struct worker *w, int task)
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

void *b_main(void *arg)
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

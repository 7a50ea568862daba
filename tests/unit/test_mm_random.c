/*
 * test_mm_random.c: a randomized test of the VMA core: thousands of
 * operations in a small window, each checked against a per-page model
 * and Linux's merge rule where it can be stated exactly, with
 * mm_validate() after each.  TEST_MM_SEED=<n> replays another run.
 */
#include "mm_fixture.h"
#include "test-rng.h"

/* ====================================================================== */
/* Randomized operations against a per-page model                         */
/* ====================================================================== */

/*
 * Each operation's expected result and effect are worked out on the model
 * first (the r_* functions), then the system call runs and everything is
 * compared.  Where the model needs the simulator's VMA boundaries (mremap
 * "must not cross a VMA", "range ends its VMA"), it reads them before the
 * call.  The operations are logged as trace-v1 lines: the last LOGN are
 * printed on a failure, and TEST_MM_TRACE=<prefix> writes every run to
 * <prefix>-<seed>.trace, for tests/linux-diff/ref-run to replay on Linux.
 */
#define RN		24		/* pages in the window */
#define RSTEPS		5000		/* operations per seed */
#define RSEEDS		32
#define ADV_MASK	(VM_RAND_READ | VM_SEQ_READ | VM_DONTCOPY | \
			 VM_DONTDUMP | VM_NOHUGEPAGE)
#define LOGN		16
#define RMAXOBJ		4096		/* shared anonymous objects per run */

/* What the model knows of one page. */
struct mpage {
	bool		 mapped, shared, locked;
	unsigned long	 prot;		/* VM_READ | VM_WRITE | VM_EXEC bits */
	unsigned long	 adv;		/* ADV_MASK bits */
	int		 obj;		/* shared: its shmem object, */
	unsigned long	 off;		/* and the page's offset in it */
};

/* A shmem object behind MAP_SHARED|MAP_ANONYMOUS mappings. */
struct robj {
	struct file	*file;			/* the simulator's, for identity */
	unsigned long	 pages;		/* its size: faults beyond it fail */
};

struct rtest {
	struct mm	*mm;
	struct mpage	 pg[RN], before[RN];
	bool		 remapped[RN];	/* mapped afresh by this operation */
	uint64_t	 rng, seed;
	unsigned long	 step;
	char		 log[LOGN][160];
	FILE		*trace;		/* TEST_MM_TRACE, or NULL */
	struct robj	 obj[RMAXOBJ];
	int		 nobj;
};

static unsigned long rnd_below(struct rtest *t, unsigned long n)
{
	return xorshift64s_below(&t->rng, n);
}

static void rlog(struct rtest *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rlog(): record the operation about to run, as a trace line. */
static void rlog(struct rtest *t, const char *fmt, ...)
{
	char *line = t->log[t->step % LOGN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(t->log[0]), fmt, ap);
	va_end(ap);
	if (t->trace != NULL)
		fprintf(t->trace, "%s\n", line);
}

/* rfail(): print the seed, the last operations and the picture; fail. */
static void rfail(struct rtest *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rfail(struct rtest *t, const char *fmt, ...)
{
	char msg[256], pic[RN + 1];
	unsigned long i, first = t->step >= LOGN ? t->step - LOGN + 1 : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("random test seed %llu step %lu: %s\n",
	    (unsigned long long)t->seed, t->step, msg);
	for (i = first; i <= t->step; i++)
		print_error("  %5lu %s\n", i, t->log[i % LOGN]);
	picture_render(t->mm, W, RN, pic);
	print_error("  picture %s\n", pic);
	fail();
}

/* ---- trace spellings ---- */

static const char *tprot(unsigned long prot)
{
	static const char *names[8] = { "---", "r--", "-w-", "rw-", "--x",
	    "r-x", "-wx", "rwx" };

	return names[prot & 7];
}

static const char *tmmap_flags(unsigned long f, char *buf, size_t size)
{
	snprintf(buf, size, "%s,anon,%s%s%s%s",
	    f & MAP_SHARED ? "shared" : "private",
	    f & MAP_FIXED_NOREPLACE ? "fixed_noreplace" : "fixed",
	    f & MAP_POPULATE ? ",populate" : "",
	    f & MAP_LOCKED ? ",locked" : "", f & MAP_STACK ? ",stack" : "");
	return buf;
}

static const char *tadvice(int advice)
{
	switch (advice) {
	case MADV_NORMAL:	return "normal";
	case MADV_RANDOM:	return "random";
	case MADV_SEQUENTIAL:	return "sequential";
	case MADV_WILLNEED:	return "willneed";
	case MADV_DONTNEED:	return "dontneed";
	case MADV_DONTFORK:	return "dontfork";
	case MADV_DOFORK:	return "dofork";
	case MADV_DONTDUMP:	return "dontdump";
	default:		return "dodump";
	}
}

static const char *tmremap_flags(unsigned long f)
{
	switch (f) {
	case 0:					return "-";
	case MREMAP_MAYMOVE:			return "maymove";
	case MREMAP_MAYMOVE | MREMAP_FIXED:	return "maymove,fixed";
	default:			return "maymove,fixed,dontunmap";
	}
}

/* ---- the model ---- */

static unsigned long prot_bits(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	    (prot & PROT_WRITE ? VM_WRITE : 0) |
	    (prot & PROT_EXEC ? VM_EXEC : 0);
}

static bool any_mapped(const struct rtest *t, unsigned long s,
    unsigned long e)
{
	for (; s < e; s++)
		if (t->pg[s].mapped)
			return true;
	return false;
}

static void model_unmap(struct rtest *t, unsigned long s, unsigned long e)
{
	for (; s < e && s < RN; s++)
		memset(&t->pg[s], 0, sizeof(t->pg[s]));
}

/* A page's model state against the simulator's VMA. */
static void check_page(struct rtest *t, unsigned long i)
{
	const struct mpage *m = &t->pg[i];
	struct vma *v = vma_lookup(t->mm, P(i));
	unsigned long f;

	if (v == NULL) {
		if (m->mapped)
			rfail(t, "page %lu should be mapped", i);
		return;
	}
	if (!m->mapped)
		rfail(t, "page %lu should not be mapped", i);
	f = v->vm_flags;
	if ((f & VM_ACCESS_FLAGS) != m->prot || !!(f & VM_SHARED) != m->shared
	    || !!(f & VM_LOCKED) != m->locked || (f & ADV_MASK) != m->adv)
		rfail(t, "page %lu: flags %#lx, model prot %#lx shared %d "
		    "locked %d adv %#lx", i, f, m->prot, m->shared, m->locked,
		    m->adv);
	if (m->shared && (v->vm_file != t->obj[m->obj].file ||
	    v->vm_pgoff + (P(i) - v->vm_start) / PG != m->off))
		rfail(t, "page %lu: shmem object or offset %lu differs", i,
		    m->off);
}

/* Page p of a mapping, delta pages on in the same object. */
static struct mpage page_plus(struct mpage p, unsigned long delta)
{
	p.off += delta;
	return p;
}

/* Would faulting page i in fail (PROT_NONE, or past its object's end)? */
static bool fault_fails(const struct rtest *t, unsigned long i)
{
	const struct mpage *m = &t->pg[i];

	return m->prot == 0 || (m->shared && m->off >= t->obj[m->obj].pages);
}

/*
 * Linux's rule for two adjacent VMAs a merge was attempted between: equal
 * flags, anonymous and private, anon_vmas compatible (none on one side,
 * or the same: there is no fork here), file offsets contiguous.
 */
static bool mergeable(const struct vma *a, const struct vma *b)
{
	return a->vm_end == b->vm_start && a->vm_flags == b->vm_flags &&
	    a->vm_file == NULL && b->vm_file == NULL &&
	    !(a->vm_flags & (VM_SHARED | VM_SPECIAL)) &&
	    (a->anon_vma == NULL || b->anon_vma == NULL ||
	    a->anon_vma == b->anon_vma) &&
	    a->vm_pgoff + vma_pages(a) == b->vm_pgoff;
}

/* The VMAs either side of page boundary b must not be mergeable. */
static void check_boundary(struct rtest *t, unsigned long b)
{
	struct vma *left, *right;

	if (b == 0 || b >= RN)
		return;
	left = vma_lookup(t->mm, P(b - 1));
	right = vma_lookup(t->mm, P(b));
	if (left != NULL && right != NULL && left != right &&
	    mergeable(left, right))
		rfail(t, "VMAs at boundary %lu should have merged", b);
}

static bool page_changed(const struct rtest *t, unsigned long i)
{
	return t->remapped[i] ||
	    memcmp(&t->pg[i], &t->before[i], sizeof(t->pg[i])) != 0;
}

/*
 * After mmap, or vma_modify_flags() changing pages (mprotect, mlock,
 * munlock, madvise), a merge was attempted at every boundary next to a
 * changed page: none of those may separate mergeable VMAs.  (Pages whose
 * flags were already right are skipped by Linux, so no merge is tried
 * between two of them.)
 */
static void check_merged_changed(struct rtest *t)
{
	unsigned long b;

	for (b = 1; b < RN; b++)
		if (page_changed(t, b - 1) || page_changed(t, b))
			check_boundary(t, b);
}

static void check_all(struct rtest *t, bool merges)
{
	const char *err = mm_validate(t->mm);
	unsigned long i;

	if (err != NULL)
		rfail(t, "mm_validate: %s", err);
	for (i = 0; i < RN; i++)
		check_page(t, i);
	if (merges)
		check_merged_changed(t);
}

static void check_ret(struct rtest *t, long got, long want)
{
	if (got != want)
		rfail(t, "returned %ld, model says %ld", got, want);
}

/* A random [s, e) in the window, at most max pages long. */
static void rnd_range(struct rtest *t, unsigned long max, unsigned long *s,
    unsigned long *e)
{
	*s = rnd_below(t, RN);
	*e = *s + 1 + rnd_below(t, max);
	if (*e > RN)
		*e = RN;
}

/* A byte length that rounds up to n pages (sometimes unaligned). */
static unsigned long rnd_len(struct rtest *t, unsigned long n)
{
	if (rnd_below(t, 4) == 0)
		return n * PG - rnd_below(t, PG);
	return n * PG;
}

/* ---- the operations, each with its model ---- */

static void r_mmap(struct rtest *t)
{
	unsigned long s, e, len, prot = rnd_below(t, 8), i, flags;
	bool shared = rnd_below(t, 6) == 0 && t->nobj < RMAXOBJ;
	char fbuf[80];
	long want;

	rnd_range(t, 6, &s, &e);
	len = rnd_len(t, e - s);
	flags = (shared ? MAP_SHARED : MAP_PRIVATE) |
	    (rnd_below(t, 4) ? MAP_FIXED : MAP_FIXED_NOREPLACE) |
	    (rnd_below(t, 4) ? 0 : MAP_POPULATE) |
	    (rnd_below(t, 8) ? 0 : MAP_LOCKED) |
	    (rnd_below(t, 8) ? 0 : MAP_STACK);
	rlog(t, "mmap %#lx %#lx %s %s", P(s), len, tprot(prot),
	    tmmap_flags(flags, fbuf, sizeof(fbuf)));
	want = (flags & MAP_FIXED_NOREPLACE) && any_mapped(t, s, e) ?
	    -EEXIST : (long)P(s);
	check_ret(t, (long)sys_mmap(t->mm, P(s), len, prot,
	    flags | MAP_ANONYMOUS, NULL, 0, 0), want);
	if (want >= 0 && shared)
		t->obj[t->nobj++] = (struct robj){
		    .file = vma_lookup(t->mm, P(s))->vm_file, .pages = e - s };
	for (i = s; want >= 0 && i < e; i++) {
		t->pg[i] = (struct mpage){ .mapped = true, .shared = shared,
		    .locked = !!(flags & MAP_LOCKED), .prot = prot_bits(prot),
		    .adv = flags & MAP_STACK ? VM_NOHUGEPAGE : 0,
		    .obj = shared ? t->nobj - 1 : 0, .off = i - s };
		t->remapped[i] = true;
	}
	check_all(t, true);
}

static void r_munmap(struct rtest *t)
{
	unsigned long s, e, len;
	bool zero = rnd_below(t, 20) == 0;

	rnd_range(t, 8, &s, &e);
	len = zero ? 0 : rnd_len(t, e - s);
	rlog(t, "munmap %#lx %#lx", P(s), len);
	check_ret(t, sys_munmap(t->mm, P(s), len), zero ? -EINVAL : 0);
	if (!zero)
		model_unmap(t, s, e);
	check_all(t, false);
}

/* mprotect: VMA by VMA from the start; a hole stops it with ENOMEM. */
static void r_mprotect(struct rtest *t)
{
	unsigned long s, e, len, i, prot = rnd_below(t, 8);
	long want = 0;

	rnd_range(t, 8, &s, &e);
	len = rnd_len(t, e - s);
	rlog(t, "mprotect %#lx %#lx %s", P(s), len, tprot(prot));
	for (i = s; i < e; i++) {
		if (!t->pg[i].mapped) {
			want = -ENOMEM;
			break;
		}
		t->pg[i].prot = prot_bits(prot);
	}
	check_ret(t, sys_mprotect(t->mm, P(s), len, prot), want);
	check_all(t, true);
}

/* The model of one advice on one page. */
static void advise_page(struct mpage *m, int advice)
{
	switch (advice) {
	case MADV_NORMAL:	m->adv &= ~(VM_RAND_READ | VM_SEQ_READ); break;
	case MADV_RANDOM:
		m->adv = (m->adv & ~VM_SEQ_READ) | VM_RAND_READ;
		break;
	case MADV_SEQUENTIAL:
		m->adv = (m->adv & ~VM_RAND_READ) | VM_SEQ_READ;
		break;
	case MADV_DONTFORK:	m->adv |= VM_DONTCOPY; break;
	case MADV_DOFORK:	m->adv &= ~VM_DONTCOPY; break;
	case MADV_DONTDUMP:	m->adv |= VM_DONTDUMP; break;
	case MADV_DODUMP:	m->adv &= ~VM_DONTDUMP; break;
	default:		break;	/* WILLNEED, DONTNEED */
	}
}

/* madvise: holes are skipped and reported as ENOMEM at the end; DONTNEED
 * stops at a locked VMA with EINVAL. */
static void r_madvise(struct rtest *t)
{
	static const int advices[] = { MADV_NORMAL, MADV_RANDOM,
	    MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_DONTFORK,
	    MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP };
	int advice = advices[rnd_below(t, 9)];
	unsigned long s, e, len, i;
	long want = 0;

	rnd_range(t, 8, &s, &e);
	len = rnd_len(t, e - s);
	rlog(t, "madvise %#lx %#lx %s", P(s), len, tadvice(advice));
	for (i = s; i < e; i++) {
		if (!t->pg[i].mapped) {
			want = -ENOMEM;
			continue;
		}
		if (advice == MADV_DONTNEED && t->pg[i].locked) {
			want = -EINVAL;
			break;
		}
		advise_page(&t->pg[i], advice);
	}
	check_ret(t, sys_madvise(t->mm, P(s), len, advice), want);
	check_all(t, true);
}

/* mlock/munlock: the walk stops at a hole with ENOMEM; mlock then faults
 * the range in, which fails (ENOMEM) on a PROT_NONE page or past the end
 * of a shmem object. */
static void r_mlock(struct rtest *t)
{
	bool lock = rnd_below(t, 2) == 0;
	unsigned long s, e, i, off = rnd_below(t, 3) ? 0 : rnd_below(t, PG);
	unsigned long start, len;
	long want = 0;

	rnd_range(t, 8, &s, &e);
	start = P(s) + off;	/* [start, start + len) rounds out to [s, e) */
	len = (e - s) * PG - off;
	rlog(t, "%s %#lx %#lx", lock ? "mlock" : "munlock", start, len);
	for (i = s; i < e && want == 0; i++) {
		if (!t->pg[i].mapped)
			want = -ENOMEM;
		else
			t->pg[i].locked = lock;
	}
	for (i = s; lock && i < e && want == 0; i++)
		if (fault_fails(t, i))
			want = -ENOMEM;
	check_ret(t, lock ? sys_mlock(t->mm, start, len) :
	    sys_munlock(t->mm, start, len), want);
	check_all(t, true);
}

/* The VMA at page i, as [*vs, *ve) in pages (the page must be mapped). */
static void vma_pages_at(struct rtest *t, unsigned long i, unsigned long *vs,
    unsigned long *ve)
{
	struct vma *v = vma_lookup(t->mm, P(i));

	if (v == NULL) {
		rfail(t, "no VMA at mapped page %lu", i);
		return;
	}
	*vs = (v->vm_start - W) / PG;
	*ve = (v->vm_end - W) / PG;
}

static unsigned long t_sys_mremap(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new, unsigned long flags,
    unsigned long b)
{
	rlog(t, "mremap %#lx %#lx %#lx %s %#lx", P(a), old * PG, new * PG,
	    tmremap_flags(flags), P(b));
	return sys_mremap(t->mm, P(a), old * PG, new * PG, flags, P(b));
}

/* In place: shrink (unmaps the tail, whatever is there), or grow (the
 * range must end its VMA and the room after it be free). */
static void r_mremap_inplace(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new)
{
	unsigned long vs, ve, i;
	long want = (long)P(a);

	if (!t->pg[a].mapped) {
		want = -EFAULT;
	} else if (new > old) {
		vma_pages_at(t, a, &vs, &ve);
		if (a + old > ve)
			want = -EFAULT;
		else if (a + old != ve || any_mapped(t, a + old, a + new))
			want = -ENOMEM;
	}
	check_ret(t, (long)t_sys_mremap(t, a, old, new, 0, 0), want);
	if (want >= 0 && new < old)
		model_unmap(t, a + new, a + old);
	for (i = a + old; want >= 0 && i < a + new; i++)
		t->pg[i] = page_plus(t->pg[a], i - a);
	check_all(t, false);
	if (want >= 0 && new > old)
		check_boundary(t, a + new);
}

/* Move [a, a + old) to [b, b + new), resizing: a single VMA only. */
static void r_mremap_move(struct rtest *t, unsigned long a, unsigned long old,
    unsigned long b, unsigned long new)
{
	unsigned long vs, ve, i, m = old < new ? old : new;
	struct mpage src[RN];
	long want = (long)P(b);

	if (a + old > b && b + new > a)
		want = -EINVAL;
	else if (!t->pg[a].mapped)
		want = -EFAULT;
	else if (vma_pages_at(t, a, &vs, &ve), a + m > ve)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, old, new,
	    MREMAP_MAYMOVE | MREMAP_FIXED, b), want);
	if (want < 0) {
		check_all(t, false);
		return;
	}
	memcpy(src, t->pg, sizeof(src));
	model_unmap(t, b, b + new);
	model_unmap(t, a, a + old);
	for (i = 0; i < new; i++)
		t->pg[b + i] = i < m ? src[a + i] : page_plus(src[a], i);
	check_all(t, false);
	check_boundary(t, b);
	check_boundary(t, b + new);
}

/* Equal lengths to a fixed address: every VMA in the range moves, the
 * gaps between them are kept (and left alone at the destination). */
static void r_mremap_move_all(struct rtest *t, unsigned long a,
    unsigned long len, unsigned long b, bool dontunmap)
{
	unsigned long i, flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	struct mpage src[RN];
	long want = (long)P(b);

	/* DONTUNMAP unlocks the whole source VMA, whatever the dest unmap and
	 * merges made of it: test_mremap_dontunmap_locked, not modelled. */
	for (i = a; dontunmap && i < a + len; i++)
		if (t->pg[i].locked)
			return;
	if (dontunmap)
		flags |= MREMAP_DONTUNMAP;
	if (a + len > b && b + len > a)
		want = -EINVAL;
	else if (!t->pg[a].mapped)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, len, len, flags, b), want);
	memcpy(src, t->pg, sizeof(src));
	for (i = 0; want >= 0 && i < len; i++) {
		if (!src[a + i].mapped)
			continue;
		t->pg[b + i] = src[a + i];
		if (!dontunmap)
			model_unmap(t, a + i, a + i + 1);
	}
	check_all(t, false);
}

/*
 * Old length 0: a second mapping of a shared VMA at [b, b + new); EINVAL
 * for a private one.  The destination is unmapped before the source is
 * looked up again, so b == a unmaps the source and fails with EFAULT.
 */
static void r_mremap_dup(struct rtest *t, unsigned long a, unsigned long b,
    unsigned long new)
{
	struct mpage src = t->pg[a];
	unsigned long i;
	long want = (long)P(b);

	if (a > b && b + new > a)
		want = -EINVAL;
	else if (!src.mapped)
		want = -EFAULT;
	else if (!src.shared)
		want = -EINVAL;
	else if (a == b)
		want = -EFAULT;
	check_ret(t, (long)t_sys_mremap(t, a, 0, new,
	    MREMAP_MAYMOVE | MREMAP_FIXED, b), want);
	if (want >= 0 || (src.mapped && src.shared && a == b))
		model_unmap(t, b, b + new);
	for (i = b; want >= 0 && i < b + new; i++)
		t->pg[i] = page_plus(src, i - b);
	check_all(t, false);
}

/* Grow with maymove and no address: in place, or away from the window
 * (then the moved mapping is unmapped again). */
static void r_mremap_maymove(struct rtest *t, unsigned long a,
    unsigned long old, unsigned long new)
{
	unsigned long vs, ve, r;
	bool in_place;

	if (!t->pg[a].mapped || new <= old)
		return;
	vma_pages_at(t, a, &vs, &ve);
	if (a + old > ve)
		return;
	in_place = a + old == ve && !any_mapped(t, a + old, a + new);
	r = t_sys_mremap(t, a, old, new, MREMAP_MAYMOVE, 0);
	if (IS_ERR_VALUE(r) || (in_place && r != P(a)) ||
	    (!in_place && r >= W && r < P(RN)))
		rfail(t, "mremap maymove returned %#lx", r);
	if (in_place) {
		for (; old < new; old++)
			t->pg[a + old] = page_plus(t->pg[a], old);
	} else {
		model_unmap(t, a, a + old);
		if (t->trace != NULL)
			fprintf(t->trace, "# moved out of the window\n");
		if (sys_munmap(t->mm, r, new * PG) != 0)
			rfail(t, "munmap of the moved range failed");
	}
	check_all(t, false);
}

static void r_mremap(struct rtest *t)
{
	unsigned long a = rnd_below(t, RN), b = rnd_below(t, RN);
	unsigned long old = 1 + rnd_below(t, 5), new = 1 + rnd_below(t, 5);
	unsigned long kind = rnd_below(t, 6);

	if (a + old > RN || a + new > RN || b + old > RN || b + new > RN)
		return;
	switch (kind) {
	case 0:
		r_mremap_inplace(t, a, old, new);
		break;
	case 1:
		if (old != new)
			r_mremap_move(t, a, old, b, new);
		break;
	case 2:
	case 3:
		r_mremap_move_all(t, a, old, b, rnd_below(t, 3) == 0);
		break;
	case 4:
		r_mremap_dup(t, a, b, new);
		break;
	default:
		r_mremap_maymove(t, a, old, new);
		break;
	}
}

static void random_step(struct rtest *t)
{
	memcpy(t->before, t->pg, sizeof(t->before));
	memset(t->remapped, 0, sizeof(t->remapped));
	snprintf(t->log[t->step % LOGN], sizeof(t->log[0]), "# nothing");
	switch (rnd_below(t, 10)) {
	case 0: case 1: case 2:	r_mmap(t); break;
	case 3:			r_munmap(t); break;
	case 4: case 5:		r_mprotect(t); break;
	case 6:			r_madvise(t); break;
	case 7:			r_mlock(t); break;
	default:		r_mremap(t); break;
	}
}

static FILE *open_trace(uint64_t seed)
{
	const char *prefix = getenv("TEST_MM_TRACE");
	char path[4096];
	FILE *f;

	if (prefix == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s-%llu.trace", prefix,
	    (unsigned long long)seed);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	setvbuf(f, NULL, _IOLBF, 0);	/* complete even if the run crashes */
	fprintf(f, "window %#lx %#lx\n", W, RN * PG);
	return f;
}

static void random_run(uint64_t seed)
{
	struct as_session_params p;
	struct as_session *s;
	struct rtest *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	t->mm = as_task_lookup(s, 1)->mm;
	t->seed = seed;
	t->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	t->trace = open_trace(seed);
	for (t->step = 0; t->step < RSTEPS; t->step++)
		random_step(t);
	if (t->trace != NULL)
		fclose(t->trace);
	as_session_free(s);
	free(t);
}

static void test_random(void **state)
{
	const char *env = getenv("TEST_MM_SEED");
	uint64_t seed;

	(void)state;
	if (env != NULL) {
		random_run(strtoull(env, NULL, 0));
		return;
	}
	for (seed = 1; seed <= RSEEDS; seed++)
		random_run(seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

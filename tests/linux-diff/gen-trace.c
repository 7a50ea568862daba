/*
 * gen-trace.c: random trace generator for the Linux differential test.
 * `gen-trace [-a] [-t] [-z] [-l] [-m] [-s] [-p] [-w] SEED [NCMDS]` prints a trace that is a
 * pure function of its arguments: a window, a few files, then NCMDS
 * (default 40)
 * memory commands whose addresses cluster in a small region at the
 * window's start, so that VMAs really merge, split and collide, with a
 * `maps` every few commands and always last.  With -a, read, write and
 * touch are mixed in too (they fault pages in, which changes what merges),
 * files are rewritten now and then, and the dumps are often `smaps`.
 * With -t, fork, thread, switch and exit are mixed in as well (one task
 * always stays alive).  With -z the trace begins `kernel zero_page off`
 * (a kernel without the zero page: run-diff.sh compares those live only
 * on such a host).  With -l a trace now and then begins with a finite
 * `kernel rlimit_memlock SIZE`, so that mlock and MAP_LOCKED fail as for
 * a process that is not root.  With -m, msync is mixed in (mostly `sync`,
 * so that with -a it writes back pages that shared writes dirtied, which
 * the next smaps shows clean).
 *
 * With -s, System V shared memory is mixed in: shmget of a few segments
 * (4K to 64K, each NAME used once), shmat at explicit addresses in the
 * window (adjacent to a recent mapping, overlapping one with or without
 * `remap`, in a free place; now and then `rdonly`, `exec`, or an
 * unaligned address with or without `rnd`), reads and writes in
 * attachments, shmdt (of attachments, their insides, unaligned or random
 * addresses), shmrm (sometimes while attached, then the detaches) and
 * partial munmap and mprotect of attachments.  -s also adds short
 * sequences where these commands meet the others: a write then a fork
 * with reads and writes from both tasks, pageout (or cold, free) then
 * fork, pageout then accesses of the same pages (those two only on
 * attachments, unless -p), and shared writes then `msync sync` and an
 * smaps.  A fixed move by mremap of the same length that may meet an
 * attachment is one page (see gen_mremap()).  With -p (and -s) the
 * pageout sequences aim at any recent mapping too, and pageout, cold and
 * free come in them even with several tasks alive (without -p, only
 * cold and populate_* then).  (A
 * page another task faulted in may still sit in that CPU's LRU batch,
 * which pageout cannot isolate, so the host keeps it now and then:
 * ref-run runs every task on one CPU, where that never happens.)
 *
 * With -w the trace begins with `kernel swap SIZE` (48K to 1M: small
 * devices fill, so vm_swap_full() and running out of slots come into
 * play) and a swap cluster is mixed in: a fixed private anonymous mapping
 * is written here and there, paged out whole or in part, perhaps forked
 * (the swap entries then shared), and read and written again from the
 * tasks, each access a major fault or a swap-cache hit as do_swap_page()
 * decides; the ordinary madvise commands page out too.  Half the swap
 * clusters are of shmem instead: pages of a shared anonymous mapping or
 * an attachment (now and then a private mapping) written, paged out, then
 * read back or written, a hole punched with remove, a fork with accesses
 * from both tasks, or the mapping dropped (munmap, shmdt, shmrm).
 *
 * File mappings often go right next to an earlier fixed mapping of the
 * same file, below or above it, with the file offsets continuing its own
 * and the same protection and flags: two mmap lines are two open files
 * (struct file), so Linux never merges them, while pieces of one mapping
 * do merge back (see ref-run.c).
 *
 * Every address stays inside the window.  A non-fixed mmap or a mremap
 * that may move can still be placed outside it by Linux; run-diff.sh cuts
 * the trace before such a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN_START	0x200000000000UL
#define WIN_LEN		0x10000000UL
#define PAGE		4096UL
#define MAX_FILES	3
#define RECENT		8	/* recent mmaps that commands aim at */
#define BUSY_PAGES	1024	/* pages tracked from WIN_START, > any reach */
#define MAX_SEGS	6	/* -s: System V segments per trace */

struct gen {
	unsigned long long state;	/* splitmix64 */
	unsigned long region;		/* base of the address cluster */
	unsigned long region_pages;
	int nfiles;
	unsigned long file_size[MAX_FILES];
	/*
	 * Pages any command may have mapped (never cleared), so that a
	 * non-fixed mmap can be given a hint Linux will surely take.
	 */
	unsigned char busy[BUSY_PAGES];
	/* -s: pages an attachment may cover (shmat, mremap of one) */
	unsigned char shm_busy[BUSY_PAGES];
	unsigned long busy_top;		/* one past the highest busy page */
	unsigned long recent_addr[RECENT], recent_len[RECENT];
	unsigned nrecent;		/* mmaps issued so far */
	int any_growsdown;		/* its guard gap spoils hints below */
	int accesses;			/* -a: also read, write, touch */
	int tasks;			/* -t: also fork, thread, switch, exit */
	struct file_map {		/* recent fixed file mmaps */
		unsigned long addr, len, offset;
		int file;
		char prot[4], flags[128];
	} fmaps[RECENT];
	unsigned nfmaps;		/* remembered so far */
	unsigned long live[64];		/* ids of the tasks alive */
	unsigned nlive, next_id, current;
	struct seg {			/* -s: segments s0.. */
		unsigned long size;
		int removed;
	} segs[MAX_SEGS];
	unsigned nsegs;			/* names used so far */
	struct attach {			/* recent shmat addresses */
		unsigned long addr, len;
		unsigned seg;
	} atts[RECENT];
	unsigned natts;
};

static unsigned long long next64(struct gen *g)
{
	unsigned long long z = (g->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static unsigned long rnd(struct gen *g, unsigned long n)
{
	return (unsigned long)(next64(g) % n);
}

/* True with probability pct percent. */
static int chance(struct gen *g, unsigned pct)
{
	return rnd(g, 100) < pct;
}

/* Mark [addr, addr + len) and the page after it as possibly mapped. */
static void mark_busy(struct gen *g, unsigned long addr, unsigned long len)
{
	unsigned long first = (addr - WIN_START) / PAGE;
	unsigned long last = (addr - WIN_START + len) / PAGE + 1;

	for (; first <= last && first < BUSY_PAGES; first++)
		g->busy[first] = 1;
	if (last + 1 > g->busy_top)
		g->busy_top = last + 1 < BUSY_PAGES ? last + 1 : BUSY_PAGES;
}

static int range_free(const struct gen *g, unsigned long page,
		      unsigned long npages)
{
	unsigned long i;

	if (page + npages > BUSY_PAGES)
		return 0;
	for (i = 0; i < npages; i++)
		if (g->busy[page + i])
			return 0;
	return 1;
}

/*
 * A hint for a non-fixed mmap of len bytes that is surely free: in the
 * region if possible, else just above everything used so far.  Below a
 * growsdown mapping Linux keeps a 1 MiB guard gap, so then only above.
 */
static unsigned long pick_hint(struct gen *g, unsigned long len)
{
	unsigned long npages = len / PAGE + 1, page;
	int tries;

	for (tries = 0; tries < 10 && !g->any_growsdown; tries++) {
		page = rnd(g, g->region_pages);
		if (range_free(g, page, npages))
			return WIN_START + page * PAGE;
	}
	for (page = g->any_growsdown ? g->busy_top : g->region_pages;
	     page < BUSY_PAGES && !range_free(g, page, npages); page++)
		;
	return WIN_START + page * PAGE;
}

/* A page in the region, now and then not page aligned. */
static unsigned long pick_addr(struct gen *g)
{
	unsigned long a = g->region + rnd(g, g->region_pages) * PAGE;

	if (chance(g, 5))
		a += 1 + rnd(g, PAGE - 1);
	return a;
}

/* Mostly 1-4 pages; sometimes 0, odd, or long enough to cross VMAs. */
static unsigned long pick_len(struct gen *g)
{
	unsigned long r = rnd(g, 100);

	if (r < 4)
		return 0;
	if (r < 10)
		return 1 + rnd(g, 3 * PAGE);
	if (r < 25)
		return (5 + rnd(g, 20)) * PAGE;
	return (1 + rnd(g, 4)) * PAGE;
}

/*
 * ADDR and LEN for a command on existing memory: half the time a piece of
 * a recent mmap (which most likely still exists, so the call does work),
 * else anywhere in the region.
 */
static void pick_target(struct gen *g, unsigned long *addr,
			unsigned long *len)
{
	unsigned long pages, first, k;

	if (g->nrecent == 0 || chance(g, 50)) {
		*addr = pick_addr(g);
		*len = pick_len(g);
		return;
	}
	k = rnd(g, g->nrecent < RECENT ? g->nrecent : RECENT);
	pages = (g->recent_len[k] + PAGE - 1) / PAGE;
	if (pages == 0)
		pages = 1;
	first = rnd(g, pages);
	*addr = (g->recent_addr[k] & ~(PAGE - 1)) + first * PAGE;
	*len = (1 + rnd(g, pages - first)) * PAGE;
}

static void remember(struct gen *g, unsigned long addr, unsigned long len)
{
	g->recent_addr[g->nrecent % RECENT] = addr;
	g->recent_len[g->nrecent % RECENT] = len;
	g->nrecent++;
}

/* Print a length: hex, decimal, or with a K suffix when it divides. */
static void put_len(struct gen *g, unsigned long len)
{
	unsigned long r = rnd(g, 3);

	if (r == 0 && len && len % 1024 == 0)
		printf("%luK", len / 1024);
	else if (r == 1)
		printf("%lu", len);
	else
		printf("0x%lx", len);
}

static void pick_prot(struct gen *g, char prot[4])
{
	unsigned long p = rnd(g, 8);

	snprintf(prot, 4, "%c%c%c", p & 1 ? 'r' : '-', p & 2 ? 'w' : '-',
		 p & 4 ? 'x' : '-');
}

static void put_prot(struct gen *g)
{
	char prot[4];

	pick_prot(g, prot);
	fputs(prot, stdout);
}

static void gen_files(struct gen *g)
{
	int i;

	g->nfiles = 1 + (int)rnd(g, MAX_FILES);
	for (i = 0; i < g->nfiles; i++) {
		unsigned long size = rnd(g, 17) * PAGE;

		if (chance(g, 40))
			size += rnd(g, PAGE);
		g->file_size[i] = size;
		printf("file f%d %lu\n", i, size);
	}
}

struct mmap_choice {
	char flags[128];	/* the FLAGS word */
	int fixed;		/* fixed or fixed_noreplace: no hint */
	int growsdown;
};

static void add_flag(struct mmap_choice *m, const char *flag)
{
	size_t n = strlen(m->flags);

	snprintf(m->flags + n, sizeof(m->flags) - n, "%s%s", n ? "," : "",
		 flag);
}

/* FLAGS: private or shared, anon unless a file, then the rest. */
static void pick_mmap_flags(struct gen *g, int file, int force_fixed,
			    struct mmap_choice *m)
{
	unsigned long r = force_fixed ? 0 : rnd(g, 100);

	m->flags[0] = '\0';
	add_flag(m, chance(g, 50) ? "private" : "shared");
	if (!file)
		add_flag(m, "anon");
	if (r < 60)
		add_flag(m, "fixed");
	else if (r < 88)
		add_flag(m, "fixed_noreplace");
	m->fixed = r < 88;
	m->growsdown = chance(g, 8);
	if (m->growsdown)
		add_flag(m, "growsdown");
	if (chance(g, 8))
		add_flag(m, "stack");
	if (chance(g, 10))
		add_flag(m, "noreserve");
	if (chance(g, 4))
		add_flag(m, "populate");
	if (chance(g, 4))
		add_flag(m, "locked");
}

/* A file offset: page aligned within (or just past) the file, or not. */
static unsigned long pick_offset(struct gen *g, int f)
{
	unsigned long pages = g->file_size[f] / PAGE + 2;

	if (chance(g, 7))
		return rnd(g, pages) * PAGE + 1 + rnd(g, PAGE - 1);
	return rnd(g, pages) * PAGE;
}

/* Remember a fixed file mmap with aligned address, length and offset. */
static void remember_file_map(struct gen *g, unsigned long addr,
			      unsigned long len, int f, unsigned long off,
			      const char *prot, const char *flags)
{
	struct file_map *fm = &g->fmaps[g->nfmaps % RECENT];

	if (!len || (addr | len | off) % PAGE)
		return;
	fm->addr = addr;
	fm->len = len;
	fm->offset = off;
	fm->file = f;
	snprintf(fm->prot, sizeof(fm->prot), "%s", prot);
	snprintf(fm->flags, sizeof(fm->flags), "%s", flags);
	g->nfmaps++;
}

/*
 * A mapping of the same file next to a recent one, above or below it,
 * whose offsets continue it, with the same protection and flags: the
 * struct-file rule says they stay two VMAs.  0 if none was made.
 */
static int gen_mmap_adjacent(struct gen *g)
{
	struct file_map fm;	/* a copy: its slot may be reused below */
	unsigned long len = (1 + rnd(g, 4)) * PAGE, addr, off;

	if (g->nfmaps == 0)
		return 0;
	fm = g->fmaps[rnd(g, g->nfmaps < RECENT ? g->nfmaps : RECENT)];
	if (chance(g, 50) || fm.offset < len || fm.addr - len < g->region) {
		addr = fm.addr + fm.len;
		off = fm.offset + fm.len;
	} else {
		addr = fm.addr - len;
		off = fm.offset - len;
	}
	if (addr + len > g->region + g->region_pages * PAGE)
		return 0;
	mark_busy(g, addr, len);
	remember(g, addr, len);
	remember_file_map(g, addr, len, fm.file, off, fm.prot, fm.flags);
	printf("mmap 0x%lx ", addr);
	put_len(g, len);
	printf(" %s %s f%d 0x%lx\n", fm.prot, fm.flags, fm.file, off);
	return 1;
}

static void gen_mmap(struct gen *g, int force_fixed)
{
	int file = chance(g, 40);
	int f = (int)rnd(g, (unsigned long)g->nfiles);
	unsigned long len, addr, off = 0;
	struct mmap_choice m;
	char prot[4];

	if (file && chance(g, 40) && gen_mmap_adjacent(g))
		return;
	len = pick_len(g);
	pick_mmap_flags(g, file, force_fixed, &m);
	addr = m.fixed ? pick_addr(g) : pick_hint(g, len);
	mark_busy(g, addr, len);
	remember(g, addr, len);
	if (m.growsdown)
		g->any_growsdown = 1;
	printf("mmap 0x%lx ", addr);
	put_len(g, len);
	pick_prot(g, prot);
	printf(" %s %s", prot, m.flags);
	if (file) {
		off = pick_offset(g, f);
		printf(" f%d 0x%lx", f, off);
		if (m.fixed)
			remember_file_map(g, addr, len, f, off, prot, m.flags);
	}
	putchar('\n');
}

/* munmap, mprotect, mlock, munlock, madvise: ADDR LEN [...], with every
 * advice (remove on a shared file mapping punches a hole in the file). */
static void gen_range(struct gen *g, const char *cmd)
{
	static const char *const advice[] = {
		"normal", "random", "sequential", "willneed", "dontneed",
		"dontfork", "dofork", "dontdump", "dodump", "free", "cold",
		"pageout", "populate_read", "populate_write", "wipeonfork",
		"keeponfork", "remove",
	};
	unsigned long addr, len;

	pick_target(g, &addr, &len);
	printf("%s 0x%lx ", cmd, addr);
	put_len(g, len);
	if (strcmp(cmd, "mprotect") == 0) {
		putchar(' ');
		put_prot(g);
	} else if (strcmp(cmd, "madvise") == 0) {
		printf(" %s", advice[rnd(g, sizeof(advice) / sizeof(*advice))]);
	}
	putchar('\n');
}

static int shm_opt;	/* -s: System V shared memory too */

/* Mark [addr, addr + len), whole pages, as maybe an attachment's. */
static void shm_mark(struct gen *g, unsigned long addr, unsigned long len)
{
	unsigned long p = (addr - WIN_START) / PAGE;
	unsigned long end = (addr - WIN_START + len + PAGE - 1) / PAGE;

	for (; p < end && p < BUSY_PAGES; p++)
		g->shm_busy[p] = 1;
}

/* Whether [addr, addr + len) meets a page shm_mark() marked. */
static int shm_overlaps(const struct gen *g, unsigned long addr,
			unsigned long len)
{
	unsigned long p = (addr - WIN_START) / PAGE;
	unsigned long end = (addr - WIN_START + len + PAGE - 1) / PAGE;

	for (; p < end && p < BUSY_PAGES; p++)
		if (g->shm_busy[p])
			return 1;
	return 0;
}

/*
 * mremap: shrink, grow (in place or moving), move to a fixed address,
 * dontunmap, old length 0 (duplicates a shared mapping).
 */
static void gen_mremap(struct gen *g)
{
	unsigned long addr, old, new_len, to, r;

	pick_target(g, &addr, &old);
	to = pick_addr(g);
	r = rnd(g, 100);

	new_len = (1 + rnd(g, 6)) * PAGE;
	if (r < 10)
		old = 0;
	if (r >= 10 && r < 30 && old > PAGE)	/* shrink */
		new_len = old / 2;
	if (r >= 30 && r < 45)			/* dontunmap keeps the size */
		new_len = old;
	/*
	 * -s: a fixed move of the same length may span several VMAs, which
	 * Linux 6.18 refuses (-EFAULT) when one is an attachment and the
	 * simulator does not yet: such moves of attachments are one page.
	 */
	if (shm_opt && old == new_len && old > PAGE &&
	    shm_overlaps(g, addr, old))
		old = new_len = PAGE;
	if (shm_opt && shm_overlaps(g, addr, old ? old : new_len))
		shm_mark(g, to, old > new_len ? old : new_len);
	mark_busy(g, addr, old > new_len ? old : new_len);
	printf("mremap 0x%lx ", addr);
	put_len(g, old);
	putchar(' ');
	put_len(g, new_len);
	if (r < 10 || r >= 65)
		printf(" maymove,fixed 0x%lx\n", to);
	else if (r < 30 || (r >= 50 && r < 65))
		printf(" -\n");
	else if (r < 45)
		printf(" maymove,dontunmap,fixed 0x%lx\n", to);
	else
		printf(" maymove\n");
	/* a moved growsdown VMA brings its guard gap along */
	mark_busy(g, to, new_len);
	remember(g, r < 45 || r >= 65 ? to : addr, new_len);
}

/* An access now and then: faults fill pages and give VMAs an anon_vma. */
static void gen_access(struct gen *g)
{
	unsigned long r = rnd(g, 3), addr, len;

	pick_target(g, &addr, &len);
	if (len > PAGE)
		addr += rnd(g, len);
	if (chance(g, 15))	/* anywhere: holes, below stacks */
		addr = g->region + rnd(g, g->region_pages * PAGE);

	/* one rnd() per statement: argument order is unspecified */
	if (r == 0) {
		printf("read 0x%lx\n", addr);
	} else if (r == 1) {
		unsigned long byte = rnd(g, 256);

		printf("write 0x%lx 0x%lx\n", addr, byte);
	} else {
		unsigned long k = rnd(g, 10);
		char access = k < 4 ? 'r' : k < 8 ? 'w' : 'x';

		printf("touch 0x%lx %c\n", addr, access);
	}
}

/* Re-create one of the files, maybe with another size. */
static void gen_refile(struct gen *g)
{
	unsigned long i = rnd(g, (unsigned long)g->nfiles);
	unsigned long size = PAGE * rnd(g, 17) + rnd(g, PAGE);

	printf("file f%lu %lu\n", i, size);
}

/* -t: make, switch between and end tasks; one task always stays. */
static void gen_task_cmd(struct gen *g)
{
	unsigned long r = rnd(g, 16), i;

	if (r < 4 && g->nlive < 64) {
		printf("%s\n", r < 3 ? "fork" : "thread");
		g->live[g->nlive++] = g->next_id++;
	} else if (r < 14 || g->nlive < 2) {
		g->current = (unsigned)rnd(g, g->nlive);
		printf("switch %lu\n", g->live[g->current]);
	} else {
		printf("exit\n");
		for (i = g->current; i + 1 < g->nlive; i++)
			g->live[i] = g->live[i + 1];
		g->nlive--;
		g->current = (unsigned)rnd(g, g->nlive);
		printf("switch %lu\n", g->live[g->current]);
	}
}

static int msync_opt;	/* -m: msync too */

/* -m: msync over a recent target, mostly sync. */
static void gen_msync(struct gen *g)
{
	static const char *const flags[] = {
		"sync", "sync", "sync", "sync", "async", "-", "invalidate",
		"sync,invalidate", "async,invalidate", "sync,async",
	};
	unsigned long addr, len;

	pick_target(g, &addr, &len);
	printf("msync 0x%lx ", addr);
	put_len(g, len);
	printf(" %s\n", flags[rnd(g, sizeof(flags) / sizeof(*flags))]);
}


/* One access at addr: read, write or touch. */
static void put_access(struct gen *g, unsigned long addr)
{
	unsigned long r = rnd(g, 10);

	if (r < 4) {
		printf("read 0x%lx\n", addr);
	} else if (r < 9) {
		unsigned long byte = rnd(g, 256);

		printf("write 0x%lx 0x%lx\n", addr, byte);
	} else {
		printf("touch 0x%lx %c\n", addr, chance(g, 50) ? 'r' : 'w');
	}
}

/* shmget of a new NAME: 4K to 64K, now and then not whole pages. */
static void gen_shmget(struct gen *g)
{
	unsigned long size = (1 + rnd(g, chance(g, 60) ? 4 : 16)) * PAGE;

	if (chance(g, 20))
		size -= rnd(g, PAGE - 1);
	g->segs[g->nsegs].size = size;
	g->segs[g->nsegs].removed = 0;
	printf("shmget s%u ", g->nsegs++);
	put_len(g, size);
	putchar('\n');
}

/* A segment to attach: mostly a live one, now and then a removed one. */
static int pick_seg(struct gen *g)
{
	unsigned i, k, live = 0;

	for (i = 0; i < g->nsegs; i++)
		live += !g->segs[i].removed;
	if (live == 0 || chance(g, 4))
		return g->nsegs ? (int)rnd(g, g->nsegs) : -1;
	k = (unsigned)rnd(g, live);
	for (i = 0; i < g->nsegs; i++)
		if (!g->segs[i].removed && k-- == 0)
			return (int)i;
	return -1;
}

/*
 * shmat at an explicit address: right above or below a recent mapping,
 * over one, or in a free place; where something may be mapped mostly with
 * remap (else -EINVAL); now and then unaligned (with rnd, or without:
 * -EINVAL), rdonly, exec.  Only the attachments likely made are
 * remembered for the commands that aim at attachments.
 */
static void gen_shmat(struct gen *g)
{
	int s = pick_seg(g);
	unsigned long len, addr, r = rnd(g, 100), k;
	char flags[64] = "";
	int ok;

	if (s < 0) {
		gen_shmget(g);
		return;
	}
	len = (g->segs[s].size + PAGE - 1) & ~(PAGE - 1);
	k = rnd(g, g->nrecent < RECENT ? g->nrecent : RECENT);
	if (g->nrecent && r < 40) {		/* adjacent */
		unsigned long ra = g->recent_addr[k] & ~(PAGE - 1);
		unsigned long rl = (g->recent_len[k] + PAGE - 1) & ~(PAGE - 1);

		if (chance(g, 50) && ra >= WIN_START + len)
			addr = ra - len;
		else
			addr = ra + rl;
	} else if (r < 70) {			/* over something */
		addr = pick_addr(g) & ~(PAGE - 1);
	} else {
		addr = pick_hint(g, len);
	}
	/* where something may be mapped, mostly remap (else -EINVAL) */
	ok = range_free(g, (addr - WIN_START) / PAGE, len / PAGE);
	if (!ok && chance(g, 70)) {
		strcat(flags, ",remap");
		ok = 1;
	}
	if (chance(g, 10)) {
		addr += 1 + rnd(g, PAGE - 1);
		if (chance(g, 60))
			strcat(flags, ",rnd");
		else
			ok = 0;
	}
	if (chance(g, 15))
		strcat(flags, ",rdonly");
	if (chance(g, 10))
		strcat(flags, ",exec");
	mark_busy(g, addr, len);
	shm_mark(g, addr & ~(PAGE - 1), len);
	remember(g, addr & ~(PAGE - 1), len);
	if (ok) {	/* most likely attached: commands aim at it */
		g->atts[g->natts % RECENT].addr = addr & ~(PAGE - 1);
		g->atts[g->natts % RECENT].len = len;
		g->atts[g->natts % RECENT].seg = (unsigned)s;
		g->natts++;
	}
	printf("shmat s%d 0x%lx %s\n", s, addr, flags[0] ? flags + 1 : "-");
}

/* A recent attachment (the address of a shmat), or 0 if none. */
static struct attach *pick_att(struct gen *g)
{
	if (g->natts == 0)
		return NULL;
	return &g->atts[rnd(g, g->natts < RECENT ? g->natts : RECENT)];
}

/* An address in a recent attachment, or anywhere in the region. */
static unsigned long att_addr(struct gen *g)
{
	struct attach *a = pick_att(g);

	if (!a)
		return pick_addr(g);
	return a->addr + rnd(g, a->len);
}

/* shmdt: mostly an attachment's start, else inside, unaligned, random. */
static void gen_shmdt(struct gen *g)
{
	struct attach *a = pick_att(g);
	unsigned long r = rnd(g, 100), addr;

	if (!a || r >= 90)
		addr = pick_addr(g);
	else if (r < 70)
		addr = a->addr;
	else if (r < 82)
		addr = a->addr + rnd(g, a->len / PAGE) * PAGE;
	else
		addr = a->addr + 1 + rnd(g, PAGE - 1);
	printf("shmdt 0x%lx\n", addr);
}

/* shmrm, then now and then the detaches of its recent attachments. */
static void gen_shmrm(struct gen *g)
{
	unsigned s = (unsigned)rnd(g, g->nsegs), i;

	g->segs[s].removed = 1;
	printf("shmrm s%u\n", s);
	if (chance(g, 50))
		return;
	for (i = 0; i < RECENT && i < g->natts; i++)
		if (g->atts[i].seg == s) {
			if (chance(g, 50))
				put_access(g, g->atts[i].addr);
			printf("shmdt 0x%lx\n", g->atts[i].addr);
		}
}

/* munmap or mprotect of part of an attachment. */
static void gen_att_range(struct gen *g)
{
	struct attach *a = pick_att(g);
	unsigned long pages, first, n;

	if (!a) {
		gen_range(g, "munmap");
		return;
	}
	pages = a->len / PAGE;
	first = rnd(g, pages);
	n = 1 + rnd(g, pages - first);
	if (chance(g, 70)) {
		printf("munmap 0x%lx ", a->addr + first * PAGE);
		put_len(g, n * PAGE);
		putchar('\n');
	} else {
		printf("mprotect 0x%lx ", a->addr + first * PAGE);
		put_len(g, n * PAGE);
		putchar(' ');
		put_prot(g);
		putchar('\n');
	}
}

static int pageout_opt;	/* -p: page advices then accesses anywhere */
static int swap_opt;	/* -w: kernel swap SIZE and the swap cluster */

/*
 * An address and length to work on: an attachment's or (if any, else
 * only when there is no attachment) a recent one.
 */
static void shm_target(struct gen *g, unsigned long *addr, unsigned long *len,
		       int any)
{
	struct attach *a = pick_att(g);

	if (a && (!any || chance(g, 50))) {
		*addr = a->addr;
		*len = a->len;
	} else {
		pick_target(g, addr, len);
	}
	if (*len == 0)
		*len = PAGE;
}

/* fork, then accesses from the child and the parent: most at a, the
 * others in [addr, addr + len). */
static void gen_fork_accesses(struct gen *g, unsigned long a,
			      unsigned long addr, unsigned long len)
{
	unsigned long child, parent = g->live[g->current];
	int i;

	child = g->next_id++;
	g->live[g->nlive++] = child;
	printf("fork\nswitch %lu\n", child);
	for (i = (int)rnd(g, 3); i >= 0; i--)
		put_access(g, chance(g, 70) ? a : addr + rnd(g, len));
	printf("switch %lu\n", parent);
	for (i = (int)rnd(g, 2); i >= 0; i--)
		put_access(g, chance(g, 70) ? a : addr + rnd(g, len));
}

/*
 * fork with accesses from both tasks: maybe a write and a page advice
 * (pageout, cold, free) first, then the child reads and writes, and the
 * parent again.
 */
static void gen_fork_cluster(struct gen *g)
{
	static const char *const advice[] = { "pageout", "pageout", "cold",
					      "free" };
	unsigned long addr, len, a;

	shm_target(g, &addr, &len, pageout_opt);
	a = (addr & ~(PAGE - 1)) + rnd(g, len / PAGE + 1) * PAGE;
	if (chance(g, 60))
		put_access(g, a);
	if (chance(g, 50) && (pageout_opt || g->nlive == 1)) {
		printf("madvise 0x%lx ", addr);
		put_len(g, len);
		printf(" %s\n", advice[rnd(g, 4)]);
	}
	if (g->nlive >= 64)
		return;
	gen_fork_accesses(g, a, addr, len);
}

/* pageout (or cold, free, populate_*) then accesses of the same pages. */
static void gen_pageout_cluster(struct gen *g)
{
	static const char *const advice[] = { "pageout", "pageout", "pageout",
		"cold", "free", "populate_read", "populate_write" };
	unsigned long addr, len, k;
	int i;

	shm_target(g, &addr, &len, pageout_opt);
	if (chance(g, 60))
		put_access(g, addr + rnd(g, len));
	printf("madvise 0x%lx ", addr);
	put_len(g, len);
	if (pageout_opt || g->nlive == 1)
		k = rnd(g, sizeof(advice) / sizeof(*advice));
	else	/* no pageout of pages another task may have faulted */
		k = 3 + rnd(g, sizeof(advice) / sizeof(*advice) - 3);
	if (k == 4 && !pageout_opt && g->nlive > 1)
		k = 3;
	printf(" %s\n", advice[k]);
	if (chance(g, 30))
		printf("smaps\n");
	for (i = (int)rnd(g, 3); i >= 0; i--)
		put_access(g, addr + rnd(g, len));
}

/*
 * -w: shmem (or, now and then, private) memory written, paged out to swap
 * and then met again: read back, written, a hole punched (remove), a
 * fork with accesses from both tasks, or the mapping dropped (munmap, or
 * shmdt of an attachment, maybe its shmrm); pageout only with one task
 * alive unless -p (see the comment at the top), cold otherwise.
 */
static void gen_shmem_swap_cluster(struct gen *g)
{
	unsigned long addr, len, pages, a, child, parent = g->live[g->current];
	struct attach *at = pick_att(g);
	unsigned long r;
	int i;

	/* An attachment, or a fresh anonymous mapping: not any recent one,
	 * a file mapping with `x` being read back differently after a
	 * pageout (see the top). */
	if (at != NULL && chance(g, 50)) {
		addr = at->addr;
		len = at->len ? at->len : PAGE;
	} else {
		addr = pick_addr(g) & ~(PAGE - 1);
		len = (1 + rnd(g, 8)) * PAGE;
		printf("mmap 0x%lx ", addr);
		put_len(g, len);
		printf(" rw- %s,anon,fixed\n", chance(g, 80) ? "shared" :
		    "private");
		mark_busy(g, addr, len);
		remember(g, addr, len);
	}
	pages = (len + PAGE - 1) / PAGE;
	for (i = (int)rnd(g, 4); i >= 0; i--) {
		a = addr + rnd(g, pages) * PAGE;
		if (chance(g, 75))
			printf("write 0x%lx 0x%lx\n", a, 1 + rnd(g, 255));
		else
			printf("read 0x%lx\n", a);
	}
	printf("madvise 0x%lx ", addr);
	put_len(g, len);
	printf(" %s\n", pageout_opt || g->nlive == 1 ? "pageout" : "cold");
	if (chance(g, 50))
		printf("smaps\n");
	r = rnd(g, 100);
	if (r < 40) {			/* read back, or written */
		for (i = (int)rnd(g, 3); i >= 0; i--)
			put_access(g, addr + rnd(g, pages) * PAGE);
	} else if (r < 60) {		/* a hole in what went to swap */
		a = rnd(g, pages);
		printf("madvise 0x%lx ", addr + a * PAGE);
		put_len(g, (1 + rnd(g, pages - a)) * PAGE);
		printf(" remove\n");
		put_access(g, addr + rnd(g, pages) * PAGE);
	} else if (r < 85 && g->tasks && g->nlive < 64) {
		child = g->next_id++;
		g->live[g->nlive++] = child;
		printf("fork\nswitch %lu\n", child);
		for (i = (int)rnd(g, 3); i >= 0; i--)
			put_access(g, addr + rnd(g, pages) * PAGE);
		if (chance(g, 30))
			printf("smaps\n");
		printf("switch %lu\n", parent);
		for (i = (int)rnd(g, 2); i >= 0; i--)
			put_access(g, addr + rnd(g, pages) * PAGE);
	} else {			/* the mapping goes, its swap maybe too */
		if (at != NULL && at->addr == addr) {
			printf("shmdt 0x%lx\n", at->addr);
			if (chance(g, 40))
				gen_shmrm(g);
		} else {
			printf("munmap 0x%lx ", addr);
			put_len(g, len);
			putchar('\n');
		}
	}
	if (chance(g, 60))
		printf("smaps\n");
}

/* -w: the written part of a new private anonymous mapping paged out,
 * maybe shared by a fork, then accessed again (see the top). */
static void gen_swap_cluster(struct gen *g)
{
	unsigned long pages = 1 + rnd(g, 8), addr, first, n, i;

	if (chance(g, 50)) {
		gen_shmem_swap_cluster(g);
		return;
	}

	addr = g->region + rnd(g, g->region_pages) * PAGE;
	printf("mmap 0x%lx ", addr);
	put_len(g, pages * PAGE);
	printf(" rw- private,anon,fixed\n");
	mark_busy(g, addr, pages * PAGE);
	remember(g, addr, pages * PAGE);
	for (i = 0; i < pages; i++)
		if (chance(g, 70))
			printf("write 0x%lx 0x%lx\n", addr + i * PAGE +
			    rnd(g, PAGE), 1 + rnd(g, 255));
	first = chance(g, 60) ? 0 : rnd(g, pages);
	n = chance(g, 60) ? pages - first : 1 + rnd(g, pages - first);
	printf("madvise 0x%lx ", addr + first * PAGE);
	put_len(g, n * PAGE);
	printf(" pageout\n");
	if (chance(g, 30))
		printf("smaps\n");
	if (g->tasks && g->nlive < 64 && chance(g, 40)) {
		gen_fork_accesses(g, addr + rnd(g, pages) * PAGE, addr,
		    pages * PAGE);
		return;
	}
	for (i = 1 + rnd(g, 4); i > 0; i--)
		put_access(g, addr + rnd(g, pages * PAGE));
}

/* Shared writes, then msync sync over them, then smaps. */
static void gen_msync_cluster(struct gen *g)
{
	unsigned long addr, len, byte;
	int i;

	shm_target(g, &addr, &len, 1);
	for (i = (int)rnd(g, 3); i >= 0; i--) {
		unsigned long a = addr + rnd(g, len);

		byte = rnd(g, 256);
		printf("write 0x%lx 0x%lx\n", a, byte);
	}
	if (chance(g, 30))
		printf("smaps\n");
	printf("msync 0x%lx ", addr);
	put_len(g, len);
	printf(" %s\n", chance(g, 80) ? "sync" : "sync,invalidate");
	printf("smaps\n");
}

/* -s: one System V command, or one of the clusters. */
static void gen_shm_cmd(struct gen *g)
{
	unsigned long r = rnd(g, 100);

	if (g->nsegs == 0 || (r < 12 && g->nsegs < MAX_SEGS))
		gen_shmget(g);
	else if (r < 34)
		gen_shmat(g);
	else if (r < 46)
		put_access(g, att_addr(g));
	else if (r < 56)
		gen_fork_cluster(g);
	else if (r < 66)
		gen_shmdt(g);
	else if (r < 72)
		gen_shmrm(g);
	else if (r < 80)
		gen_att_range(g);
	else if (r < 90)
		gen_pageout_cluster(g);
	else
		gen_msync_cluster(g);
}

static void gen_command(struct gen *g)
{
	if (swap_opt && chance(g, 10)) {
		gen_swap_cluster(g);
		return;
	}
	if (shm_opt && chance(g, 15)) {
		gen_shm_cmd(g);
		return;
	}
	if (msync_opt && chance(g, 8)) {
		gen_msync(g);
		return;
	}
	if (g->tasks && chance(g, 12)) {
		gen_task_cmd(g);
		return;
	}

	unsigned long r = rnd(g, g->accesses ? 125 : 92);

	if (r >= 123) {		/* rewrite a file: truncation zaps its pages */
		gen_refile(g);
		return;
	}
	if (r < 34)
		gen_mmap(g, 0);
	else if (r < 44)
		gen_range(g, "munmap");
	else if (r < 56)
		gen_range(g, "mprotect");
	else if (r < 70)
		gen_mremap(g);
	else if (r < 80)
		gen_range(g, "madvise");
	else if (r < 86)
		gen_range(g, "mlock");
	else if (r < 92)
		gen_range(g, "munlock");
	else
		gen_access(g);
}

static void gen_trace(unsigned long seed, unsigned long ncmds, int accesses,
    int tasks, int nozp, int memlock)
{
	struct gen g;
	unsigned long i, next_maps;

	memset(&g, 0, sizeof(g));
	g.accesses = accesses;
	g.tasks = tasks;
	g.live[0] = 1;
	g.nlive = 1;
	g.next_id = 2;
	g.state = seed * 0x2545f4914f6cdd1dULL + 1;
	g.region = WIN_START;
	g.region_pages = 32 + rnd(&g, 33);
	printf("# gen-trace %s%s%s%s%s%s%s%s%lu %lu\n", accesses ? "-a " : "",
	    tasks ? "-t " : "", nozp ? "-z " : "", memlock ? "-l " : "",
	    msync_opt ? "-m " : "", shm_opt ? "-s " : "",
	    pageout_opt ? "-p " : "", swap_opt ? "-w " : "", seed, ncmds);
	if (nozp)
		printf("kernel zero_page off\n");
	printf("window 0x%lx 0x%lx\n", WIN_START, WIN_LEN);
	gen_files(&g);
	if (memlock && chance(&g, 15)) {
		static const unsigned long kb[] = { 0, 4, 8, 16, 32, 64 };

		printf("kernel rlimit_memlock %luK\n",
		    kb[rnd(&g, sizeof(kb) / sizeof(kb[0]))]);
	}
	if (swap_opt) {
		static const char *const size[] = { "48K", "64K", "96K",
						    "256K", "1M" };

		printf("kernel swap %s\n", size[rnd(&g, 5)]);
	}
	next_maps = 3 + rnd(&g, 4);
	for (i = 1; i <= ncmds; i++) {
		if (i <= 3)	/* something to work on */
			gen_mmap(&g, 1);
		else
			gen_command(&g);
		if (i == next_maps && i != ncmds) {
			printf("%s\n", g.accesses && chance(&g, 50) ?
			    "smaps" : "maps");
			next_maps = i + 3 + rnd(&g, 4);
		}
	}
	printf("%s\n", g.accesses ? "smaps" : "maps");
}

int main(int argc, char **argv)
{
	unsigned long seed, ncmds = 40;
	int accesses = 0, tasks = 0, nozp = 0, memlock = 0;
	char *end;

	for (; argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0'; argc--,
	    argv++) {
		if (strcmp(argv[1], "-a") == 0)
			accesses = 1;
		else if (strcmp(argv[1], "-t") == 0)
			tasks = 1;
		else if (strcmp(argv[1], "-z") == 0)
			nozp = 1;
		else if (strcmp(argv[1], "-l") == 0)
			memlock = 1;
		else if (strcmp(argv[1], "-m") == 0)
			msync_opt = 1;
		else if (strcmp(argv[1], "-s") == 0)
			shm_opt = 1;
		else if (strcmp(argv[1], "-p") == 0)
			pageout_opt = 1;
		else if (strcmp(argv[1], "-w") == 0)
			swap_opt = 1;
		else
			argc = 0;	/* unknown option */
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen-trace [-a] [-t] [-z] [-l] [-m] [-s] [-p] [-w] SEED [NCMDS]\n");
		return 2;
	}
	seed = strtoul(argv[1], &end, 0);
	if (*end || (argc == 3 && (ncmds = strtoul(argv[2], &end, 0), *end))) {
		fprintf(stderr, "gen-trace: bad number\n");
		return 2;
	}
	gen_trace(seed, ncmds, accesses, tasks, nozp, memlock);
	return fflush(stdout) == 0 ? 0 : 1;
}

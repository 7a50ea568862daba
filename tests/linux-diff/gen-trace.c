/*
 * gen-trace.c: random trace generator for the Linux differential test.
 * `gen-trace [-a] [-t] [-z] [-l] [-m] SEED [NCMDS]` prints a trace that is a
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

/* munmap, mprotect, mlock, munlock, madvise: ADDR LEN [...].  Every
 * advice but remove, which on a shared file mapping would punch a hole in
 * a file on disk (the simulator answers it unsupported). */
static void gen_range(struct gen *g, const char *cmd)
{
	static const char *const advice[] = {
		"normal", "random", "sequential", "willneed", "dontneed",
		"dontfork", "dofork", "dontdump", "dodump", "free", "cold",
		"pageout", "populate_read", "populate_write", "wipeonfork",
		"keeponfork",
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

static void gen_command(struct gen *g)
{
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
	printf("# gen-trace %s%s%s%s%s%lu %lu\n", accesses ? "-a " : "",
	    tasks ? "-t " : "", nozp ? "-z " : "", memlock ? "-l " : "",
	    msync_opt ? "-m " : "",	    seed, ncmds);
	if (nozp)
		printf("kernel zero_page off\n");
	printf("window 0x%lx 0x%lx\n", WIN_START, WIN_LEN);
	gen_files(&g);
	if (memlock && chance(&g, 15)) {
		static const unsigned long kb[] = { 0, 4, 8, 16, 32, 64 };

		printf("kernel rlimit_memlock %luK\n",
		    kb[rnd(&g, sizeof(kb) / sizeof(kb[0]))]);
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
		else
			argc = 0;	/* unknown option */
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen-trace [-a] [-t] [-z] [-l] [-m] SEED [NCMDS]\n");
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

/*
 * gen-cmds.c: the generator's commands (mmap, munmap, mprotect, mremap,
 * madvise, mlock, accesses, file rewrites, tasks, msync) and the trace
 * around them: a window, a few files, the kernel lines the modes ask
 * for, then the commands with a `maps` (or `smaps`) every few and last.
 *
 * The kind of each command is drawn first; when --kinds leaves it out
 * it is drawn again, so that with every kind allowed the stream of
 * choices (and the trace) is the one gen-trace has always made.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gen-int.h"

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
void gen_range(struct gen *g, const char *cmd)
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
	if (g->shm && old == new_len && old > PAGE &&
	    shm_overlaps(g, addr, old))
		old = new_len = PAGE;
	if (g->shm && shm_overlaps(g, addr, old ? old : new_len))
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

	g->file_size[i] = size;
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

/*
 * -m with -a: a byte of a recent fixed file mapping written, the mapping
 * written back and the byte read again, then often dropped from the
 * cache (pageout) and read once more, with smaps: a written page must
 * come back from the file.  Where the file ends inside the mapping, the
 * byte is often past that end in the same page, which writeback zeroes.
 */
static void gen_writeback(struct gen *g)
{
	struct file_map fm = g->fmaps[rnd(g, g->nfmaps < RECENT ?
	    g->nfmaps : RECENT)];
	unsigned long size = g->file_size[fm.file], at;

	at = fm.addr + rnd(g, fm.len);
	if (size > fm.offset && size - fm.offset < fm.len && size % PAGE &&
	    chance(g, 50))
		at = fm.addr + (size - fm.offset) + rnd(g, PAGE - size % PAGE);
	printf("write 0x%lx 0x%02lx\n", at, 1 + rnd(g, 255));
	printf("msync 0x%lx ", fm.addr);
	put_len(g, fm.len);
	printf(" sync\nread 0x%lx\n", at);
	if (chance(g, 50)) {
		printf("madvise 0x%lx ", fm.addr);
		put_len(g, fm.len);
		printf(" pageout\nread 0x%lx\nsmaps\n", at);
	}
}

/* -m: msync over a recent target, mostly sync (with -a, now and then a
 * write, writeback and read-back sequence instead). */
static void gen_msync(struct gen *g)
{
	static const char *const flags[] = {
		"sync", "sync", "sync", "sync", "async", "-", "invalidate",
		"sync,invalidate", "async,invalidate", "sync,async",
	};
	unsigned long addr, len;

	if (g->accesses && g->nfmaps > 0 && chance(g, 40)) {
		gen_writeback(g);
		return;
	}
	pick_target(g, &addr, &len);
	printf("msync 0x%lx ", addr);
	put_len(g, len);
	printf(" %s\n", flags[rnd(g, sizeof(flags) / sizeof(*flags))]);
}

/* The kind of the next command; *r tells mlock from munlock. */
static enum gen_kind draw_kind(struct gen *g, unsigned long *r)
{
	if (g->swap && chance(g, 10))
		return GEN_SWAP;
	if (g->shm && chance(g, 15))
		return GEN_SHM;
	if (g->msync && chance(g, 8))
		return GEN_MSYNC;
	if (g->tasks && chance(g, 12))
		return GEN_FORK;
	*r = rnd(g, g->accesses ? 125 : 92);
	if (*r >= 123)		/* rewrite a file: truncation zaps its pages */
		return GEN_FILE;
	if (*r < 34)
		return GEN_MMAP;
	if (*r < 44)
		return GEN_MUNMAP;
	if (*r < 56)
		return GEN_MPROTECT;
	if (*r < 70)
		return GEN_MREMAP;
	if (*r < 80)
		return GEN_MADVISE;
	return *r < 92 ? GEN_MLOCK : GEN_ACCESS;
}

static void gen_command(struct gen *g)
{
	unsigned long r = 0;
	enum gen_kind k;

	do
		k = draw_kind(g, &r);
	while (!(g->kinds & 1u << k));
	switch (k) {
	case GEN_SWAP:		gen_swap_cluster(g); break;
	case GEN_SHM:		gen_shm_cmd(g); break;
	case GEN_MSYNC:		gen_msync(g); break;
	case GEN_FORK:		gen_task_cmd(g); break;
	case GEN_FILE:		gen_refile(g); break;
	case GEN_MMAP:		gen_mmap(g, 0); break;
	case GEN_MUNMAP:	gen_range(g, "munmap"); break;
	case GEN_MPROTECT:	gen_range(g, "mprotect"); break;
	case GEN_MREMAP:	gen_mremap(g); break;
	case GEN_MADVISE:	gen_range(g, "madvise"); break;
	case GEN_MLOCK:
		gen_range(g, r < 86 ? "mlock" : "munlock");
		break;
	default:		gen_access(g); break;
	}
}

/* The kinds the modes make reachable: the others would never be drawn. */
static unsigned reachable_kinds(const struct gen_opts *o)
{
	unsigned k = 1u << GEN_MMAP | 1u << GEN_MUNMAP | 1u << GEN_MPROTECT |
	    1u << GEN_MREMAP | 1u << GEN_MADVISE | 1u << GEN_MLOCK;

	if (o->accesses)
		k |= 1u << GEN_ACCESS | 1u << GEN_FILE;
	if (o->tasks)
		k |= 1u << GEN_FORK;
	if (o->msync)
		k |= 1u << GEN_MSYNC;
	if (o->shm)
		k |= 1u << GEN_SHM;
	if (o->swap)
		k |= 1u << GEN_SWAP;
	return k;
}

static void gen_init(struct gen *g, unsigned long seed,
		     const struct gen_opts *o)
{
	memset(g, 0, sizeof(*g));
	g->accesses = o->accesses;
	g->tasks = o->tasks;
	g->shm = o->shm;
	g->msync = o->msync;
	g->pageout = o->pageout;
	g->swap = o->swap;
	g->kinds = o->kinds & reachable_kinds(o);
	if (g->kinds == 0)
		g->kinds = reachable_kinds(o);
	g->live[0] = 1;
	g->nlive = 1;
	g->next_id = 2;
	g->state = seed * 0x2545f4914f6cdd1dULL + 1;
	g->region = WIN_START;
	g->region_pages = 32 + rnd(g, 33);
}

/* The lines before the commands: kernel parameters, window, files. */
static void gen_prologue(struct gen *g, const struct gen_opts *o)
{
	if (o->nozp)
		printf("kernel zero_page off\n");
	printf("window 0x%lx 0x%lx\n", WIN_START, WIN_LEN);
	gen_files(g);
	if (o->memlock && chance(g, 15)) {
		static const unsigned long kb[] = { 0, 4, 8, 16, 32, 64 };

		printf("kernel rlimit_memlock %luK\n",
		    kb[rnd(g, sizeof(kb) / sizeof(kb[0]))]);
	}
	if (o->swap) {
		static const char *const size[] = { "48K", "64K", "96K",
						    "256K", "1M" };

		printf("kernel swap %s\n", size[rnd(g, 5)]);
	}
}

void gen_trace(unsigned long seed, unsigned long ncmds,
	       const struct gen_opts *o)
{
	struct gen g;
	unsigned long i, next_maps;

	gen_init(&g, seed, o);
	gen_prologue(&g, o);
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

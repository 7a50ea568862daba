/*
 * gen-shm.c: the generator's System V shared memory commands (-s:
 * shmget, shmat, shmdt, shmrm, parts of attachments) and its clusters,
 * short sequences where commands meet: a write then a fork with accesses
 * from both tasks, a pageout then accesses, shared writes then msync,
 * and (-w) memory written, paged out to swap and met again.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gen-int.h"

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

	shm_target(g, &addr, &len, g->pageout);
	a = (addr & ~(PAGE - 1)) + rnd(g, len / PAGE + 1) * PAGE;
	if (chance(g, 60))
		put_access(g, a);
	if (chance(g, 50) && (g->pageout || g->nlive == 1)) {
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

	shm_target(g, &addr, &len, g->pageout);
	if (chance(g, 60))
		put_access(g, addr + rnd(g, len));
	printf("madvise 0x%lx ", addr);
	put_len(g, len);
	if (g->pageout || g->nlive == 1)
		k = rnd(g, sizeof(advice) / sizeof(*advice));
	else	/* no pageout of pages another task may have faulted */
		k = 3 + rnd(g, sizeof(advice) / sizeof(*advice) - 3);
	if (k == 4 && !g->pageout && g->nlive > 1)
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
	 * pageout (see tests/linux-diff/gen-trace.c). */
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
	printf(" %s\n", g->pageout || g->nlive == 1 ? "pageout" : "cold");
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
 * maybe shared by a fork, then accessed again
 * (tests/linux-diff/gen-trace.c says why). */
void gen_swap_cluster(struct gen *g)
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
void gen_shm_cmd(struct gen *g)
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


/*
 * gen-pick.c: the generator's random choices (splitmix64, addresses,
 * lengths, protections, targets) and the pieces of a line they print.
 * Every choice draws from the one stream in struct gen, in a fixed
 * order, so that a trace is a pure function of its seed and options.
 */
#include "config.h"

#include <stdio.h>

#include "gen-int.h"

static unsigned long long next64(struct gen *g)
{
	unsigned long long z = (g->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
unsigned long rnd(struct gen *g, unsigned long n)
{
	return (unsigned long)(next64(g) % n);
}

/* True with probability pct percent. */
int chance(struct gen *g, unsigned pct)
{
	return rnd(g, 100) < pct;
}

/* Mark [addr, addr + len) and the page after it as possibly mapped. */
void mark_busy(struct gen *g, unsigned long addr, unsigned long len)
{
	unsigned long first = (addr - WIN_START) / PAGE;
	unsigned long last = (addr - WIN_START + len) / PAGE + 1;

	for (; first <= last && first < BUSY_PAGES; first++)
		g->busy[first] = 1;
	if (last + 1 > g->busy_top)
		g->busy_top = last + 1 < BUSY_PAGES ? last + 1 : BUSY_PAGES;
}

int range_free(const struct gen *g, unsigned long page,
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
unsigned long pick_hint(struct gen *g, unsigned long len)
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
unsigned long pick_addr(struct gen *g)
{
	unsigned long a = g->region + rnd(g, g->region_pages) * PAGE;

	if (chance(g, 5))
		a += 1 + rnd(g, PAGE - 1);
	return a;
}

/* Mostly 1-4 pages; sometimes 0, odd, or long enough to cross VMAs. */
unsigned long pick_len(struct gen *g)
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
void pick_target(struct gen *g, unsigned long *addr, unsigned long *len)
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

void remember(struct gen *g, unsigned long addr, unsigned long len)
{
	g->recent_addr[g->nrecent % RECENT] = addr;
	g->recent_len[g->nrecent % RECENT] = len;
	g->nrecent++;
}

/* Print a length: hex, decimal, or with a K suffix when it divides. */
void put_len(struct gen *g, unsigned long len)
{
	unsigned long r = rnd(g, 3);

	if (r == 0 && len && len % 1024 == 0)
		printf("%luK", len / 1024);
	else if (r == 1)
		printf("%lu", len);
	else
		printf("0x%lx", len);
}

void pick_prot(struct gen *g, char prot[4])
{
	unsigned long p = rnd(g, 8);

	snprintf(prot, 4, "%c%c%c", p & 1 ? 'r' : '-', p & 2 ? 'w' : '-',
		 p & 4 ? 'x' : '-');
}

void put_prot(struct gen *g)
{
	char prot[4];

	pick_prot(g, prot);
	fputs(prot, stdout);
}

/* Mark [addr, addr + len), whole pages, as maybe an attachment's. */
void shm_mark(struct gen *g, unsigned long addr, unsigned long len)
{
	unsigned long p = (addr - WIN_START) / PAGE;
	unsigned long end = (addr - WIN_START + len + PAGE - 1) / PAGE;

	for (; p < end && p < BUSY_PAGES; p++)
		g->shm_busy[p] = 1;
}

/* Whether [addr, addr + len) meets a page shm_mark() marked. */
int shm_overlaps(const struct gen *g, unsigned long addr, unsigned long len)
{
	unsigned long p = (addr - WIN_START) / PAGE;
	unsigned long end = (addr - WIN_START + len + PAGE - 1) / PAGE;

	for (; p < end && p < BUSY_PAGES; p++)
		if (g->shm_busy[p])
			return 1;
	return 0;
}

/* One access at addr: read, write or touch. */
void put_access(struct gen *g, unsigned long addr)
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


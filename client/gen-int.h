/*
 * gen-int.h: the generator's state and the helpers its files share
 * (gen-pick.c: random choices and printed pieces; gen-cmds.c: the
 * commands and the trace; gen-shm.c: System V, swap and msync clusters).
 */
#ifndef ASPACE_GEN_INT_H
#define ASPACE_GEN_INT_H

#include "gen.h"

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
	int shm, msync, pageout, swap;	/* -s -m -p -w */
	unsigned kinds;			/* 1 << enum gen_kind allowed */
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

unsigned long rnd(struct gen *g, unsigned long n);
int chance(struct gen *g, unsigned pct);
void mark_busy(struct gen *g, unsigned long addr, unsigned long len);
int range_free(const struct gen *g, unsigned long page,
	       unsigned long npages);
unsigned long pick_hint(struct gen *g, unsigned long len);
unsigned long pick_addr(struct gen *g);
unsigned long pick_len(struct gen *g);
void pick_target(struct gen *g, unsigned long *addr, unsigned long *len);
void remember(struct gen *g, unsigned long addr, unsigned long len);
void put_len(struct gen *g, unsigned long len);
void pick_prot(struct gen *g, char prot[4]);
void put_prot(struct gen *g);
void shm_mark(struct gen *g, unsigned long addr, unsigned long len);
int shm_overlaps(const struct gen *g, unsigned long addr, unsigned long len);
void put_access(struct gen *g, unsigned long addr);

void gen_range(struct gen *g, const char *cmd);
void gen_shm_cmd(struct gen *g);
void gen_swap_cluster(struct gen *g);

#endif

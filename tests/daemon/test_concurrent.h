/*
 * test_concurrent.h: what the pieces of test_concurrent share (the test
 * and its workers: test_concurrent.c's top comment): the layout of
 * session S1, a worker (a host thread with its own connection) and its
 * EXPECT, the states of workers A to E and the solo clients, and the
 * helpers of test_concurrent-util.c.
 */
#ifndef ASPACE_TEST_CONCURRENT_H
#define ASPACE_TEST_CONCURRENT_H

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "harness.h"

#define PG		4096UL
#define NPG		16		/* pages of each of P's regions */
#define BASE		0x200000000000UL
#define R_SH		BASE			/* shared anonymous */
#define R_PRIV		(BASE + 0x100000)	/* private anonymous */
#define R_FILE		(BASE + 0x200000)	/* shared, file f */
#define R_GPRIV		(BASE + 0x300000)	/* private read-only, file g */
#define R_M		(BASE + 0x400000)	/* A faults, B remaps */
#define R_FCOW		(BASE + 0x600000)	/* B's private map of f */
#define R_B		(BASE + 0x800000)	/* B's own */
#define B_PAGES		64
#define R_CHILD		(BASE + 0xc00000)	/* the forked child's own */
#define STACK_PAGES	64		/* A's growth below [stack] */
#define NSOLO		16
#define PIPE_DEPTH	16
#define MTAG		0xa7			/* A's byte in M */
#define BTAG		0x5a			/* B's byte in BA */

#define PROT_R		0x1
#define PROT_RW		0x3
#define MAP_PAF		0x32	/* MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED */
#define MAP_SAF		0x31	/* MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED */
#define MAP_POPULATE	0x8000
#define MREMAP_MF	0x3	/* MREMAP_MAYMOVE | MREMAP_FIXED */
#define MADV_DONTNEED	4
#define SEGV		11
#define MAPERR		1
#define ACCERR		2

struct worker {
	const char	*name;
	struct client	 c;
	uint64_t	 seed;
	unsigned long	 requests;	/* sent other than by w->c's ops */
	bool		 failed;
	char		 err[512];
};

/* In a worker thread (no cmocka asserts there): note and return false. */
#define EXPECT(w, cond, ...) do {					\
	if (!(cond)) {							\
		wfail((w), __LINE__, __VA_ARGS__);			\
		return false;						\
	}								\
} while (0)

/* The client and session of worker w, as harness.h's rq_* take them. */
#define WS(w)	(&(w)->c), ((w)->c.sid)

/* Session S1 (test_concurrent-util.c). */
struct s1_state {
	uint8_t		 sid[16];
	int		 tb, td, child;	/* B's and D's threads, C's child */
	uint64_t	 stack;		/* where P's [stack] started */
	uint8_t		 file0[NPG * PG];	/* f at the start */
	uint8_t		 g[NPG * PG];		/* g, never written */
	int		 done;			/* atomic: E may stop */
};

/* The workers' states: A and B (test_concurrent-ab.c), C, D, E and the
 * solo clients (test_concurrent-cde.c). */
struct a_state {
	struct worker	 w;
	unsigned long	 refused;	/* stores B's mprotect refused */
	unsigned long	 forks;
	unsigned long	 m_faults, m_hits;	/* in M: faults, MTAG loaded */
	unsigned long	 b_faults, b_hits;	/* in BA: holes, BTAG loaded */
	uint8_t		 sh[NPG * PG];		/* A is SH's only writer */
	uint8_t		 priv[NPG * PG];	/* P's view of PRIV */
	uint8_t		 file[NPG * PG];	/* FILE */
	uint8_t		 stack[STACK_PAGES];	/* a byte per page below it */
};

/* An area only B changes the mappings of, page by page. */
struct area {
	const char	*name;
	uint64_t	 base;
	int		 pages;
	uint8_t		 tag;		/* the byte stored into it */
	bool		 known;		/* B alone stores: vals exact */
	int		 prot[B_PAGES];	/* -1 unmapped, else PROT_* */
	uint8_t		 val[B_PAGES];	/* the byte at each page's start */
};

struct b_state {
	struct worker	 w;
	struct area	 ba, m;
	uint64_t	 brk;		/* the break as B left it */
};

struct c_state {
	struct worker	 w;
	uint8_t		 priv[NPG * PG];	/* the child's view of PRIV */
	uint8_t		 other[NPG * PG];	/* a new child's */
	int		 forks, exits;
};

struct d_state {
	struct worker	 w;
	unsigned long	 batches;
};

/* The solo sessions, published as their clients make them. */
struct solos_state {
	uint8_t		 sid[NSOLO][16];
	int		 ready[NSOLO];		/* atomic */
};

struct e_state {
	struct worker	 w;
	unsigned long	 checks;
};

struct solo_state {
	struct worker	 w;
	int		 index;
};

extern struct hdaemon dmn;		/* test_concurrent.c */
extern unsigned int scale;		/* percent */
extern struct s1_state s1;
extern const uint8_t sh_const[8];	/* SH's first page */
extern struct solos_state solos;	/* test_concurrent-cde.c */

/* test_concurrent-util.c: workers, requests, checking answers, S1 */
/* What w has sent: its own count and its client's ops. */
unsigned long sent(const struct worker *w);
/* Note w's first failure (EXPECT). */
void wfail(struct worker *w, int line, const char *fmt, ...);
uint64_t rnd(struct worker *w);
unsigned long rnd_below(struct worker *w, unsigned long n);
unsigned long iters(unsigned long n);
Aspace__Response *load_store(struct worker *w, int task,
    uint64_t addr, bool store, uint8_t value);
bool ok(const Aspace__Response *r);
const char *why(const Aspace__Response *r);
bool fault_is(const Aspace__Fault *f, int sig, int code);
int new_task(const Aspace__Response *r);
const uint8_t *read_ok(struct worker *w, int task, uint64_t addr,
    uint32_t len);
bool read_equal(struct worker *w, int task, uint64_t addr,
    const uint8_t *want, uint32_t len);
bool write_ok(struct worker *w, int task, uint64_t addr,
    const uint8_t *data, size_t len);
uint64_t r_addr(const Aspace__Response *r);
bool call_ok(struct worker *w, const Aspace__Response *r,
    const char *what);
bool maps_wellformed(struct worker *w, const Aspace__MapsResult *m);
bool maps_cover(struct worker *w, const Aspace__MapsResult *m,
    uint64_t lo, uint64_t hi, const char *pat);
bool smaps_wellformed(struct worker *w, const Aspace__SmapsResult *s);
bool check_ok(struct worker *w, const uint8_t *sid, int mms,
    int tasks);
/* PRIV's bytes as task 1 wrote them before the fork. */
uint8_t prefork(unsigned long off);

/* test_concurrent-ab.c: A and B */
void *a_main(void *arg);
bool file_cow(struct worker *w, int task);
void *b_main(void *arg);

/* test_concurrent-cde.c: C, D, E and the solo clients */
void *c_main(void *arg);
void *d_main(void *arg);
void *e_main(void *arg);
void *solo_main(void *arg);

#endif /* ASPACE_TEST_CONCURRENT_H */

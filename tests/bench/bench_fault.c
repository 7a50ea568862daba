/*
 * bench_fault.c: simulated page faults beside the host kernel's, in one
 * process and one run, as ratios (simulator / host):
 *   - first-touch write faults over 1 GiB of private anonymous memory;
 *   - read faults that map the zero page (1 GiB, read once per page);
 *   - random read faults over 3,000 VMAs;
 * with, beside them, the floor a write fault cannot beat here (clearing a
 * 4 KiB page across 1 GiB of resident memory: memory bandwidth) and the
 * earlier machine's kernel (an anonymous write fault in 1.2 us; this
 * host's cost about ten times more, so the host ratio alone misleads).
 * The simulator holds every page's contents (4 KiB each) as the kernel
 * does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "fault.h"
#include "mm.h"
#include "session.h"

#define BASE	0x200000000000UL
#define GIB	(1UL << 30)
#define PG	4096UL
#define NVMAS	3000

static struct as_session *new_session(struct task **t)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	p.ram_bytes = 4 * GIB;
	if ((s = as_session_new(&p)) == NULL)
		exit(1);
	*t = as_task_lookup(s, 1);
	return s;
}

/* ns per fault touching every page of [BASE, BASE + len) in the simulator. */
static double sim_touch(unsigned long len, enum as_access kind)
{
	struct task *t;
	struct as_session *s = new_session(&t);
	struct access_result r = { .store = true, .value = 1 };
	double t0, t1;

	if (sys_mmap(t->mm, BASE, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != BASE)
		exit(1);
	t0 = now_ns();
	for (unsigned long a = BASE; a < BASE + len; a += PG)
		if (as_access(t, a, kind, &r) != 0)
			exit(1);
	t1 = now_ns();
	as_session_free(s);
	return (t1 - t0) / (len / PG);
}

static double host_touch(unsigned long len, int write)
{
	volatile char *p = mmap((void *)BASE, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	double t0, t1;
	char sink = 0;

	if (p == MAP_FAILED)
		exit(1);
	madvise((void *)p, len, MADV_NOHUGEPAGE);	/* 4 KiB faults */
	t0 = now_ns();
	for (unsigned long o = 0; o < len; o += PG) {
		if (write)
			p[o] = 1;
		else
			sink += p[o];
	}
	t1 = now_ns();
	munmap((void *)p, len);
	(void)sink;
	return (t1 - t0) / (len / PG);
}

/* Random read faults over NVMAS anonymous VMAs of 16 pages (a free page
 * between them): every page once, in random order, so each access is a
 * fault that find_vma()s among 3,000 VMAs and maps the zero page. */
static void vmas_random_reads(double *sim, double *host)
{
	struct task *t;
	struct as_session *s = new_session(&t);
	struct access_result r = { 0 };
	unsigned long n = NVMAS * 16, i, j, a, tmp;
	unsigned long *order = malloc(n * sizeof(*order));
	volatile char sink = 0;
	double t0;

	for (i = 0; i < NVMAS; i++) {
		a = BASE + i * 17 * PG;
		if (sys_mmap(t->mm, a, 16 * PG, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != a ||
		    mmap((void *)a, 16 * PG, PROT_READ, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)a)
			exit(1);
	}
	for (i = 0; i < n; i++)
		order[i] = BASE + (i / 16) * 17 * PG + (i % 16) * PG;
	for (i = n - 1; i > 0; i--) {	/* Fisher-Yates */
		j = rnd() % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++)
		as_access(t, order[i], AS_READ, &r);
	*sim = (now_ns() - t0) / n;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		sink += *(volatile char *)order[i];
	*host = (now_ns() - t0) / n;
	munmap((void *)BASE, NVMAS * 17 * PG);
	as_session_free(s);
	free(order);
}

#define EARLIER_WRITE_FAULT_NS	1200.0	/* the earlier machine's kernel */

/* ns to clear one 4 KiB page of 1 GiB already resident. */
static double clear_floor(void)
{
	char *m = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	double t0, t1;

	if (m == MAP_FAILED)
		exit(1);
	memset(m, 1, GIB);		/* resident first */
	t0 = now_ns();
	for (unsigned long o = 0; o < GIB; o += PG)
		memset(m + o, 0, PG);
	t1 = now_ns();
	if (m[GIB / 2] != 0)
		exit(1);
	munmap(m, GIB);
	return (t1 - t0) / (GIB / PG);
}

static void report(const char *what, double sim, double host)
{
	printf("%-34s sim_ns=%.1f host_ns=%.1f ratio_sim/host=%.3f\n", what,
	    sim, host, sim / host);
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

/*
 * Each figure is the better of two runs, so that neither side pays for
 * the hypervisor's first touch of guest memory.  The host's mappings get
 * MADV_NOHUGEPAGE (4 KiB faults, as the simulator's); the simulator may
 * back its own frame store with huge pages.
 */
int main(void)
{
	double sim, host;

	sim = min2(sim_touch(GIB, AS_WRITE), sim_touch(GIB, AS_WRITE));
	host = min2(host_touch(GIB, 1), host_touch(GIB, 1));
	report("first-touch write fault (1 GiB)", sim, host);
	printf("%-34s sim_ns=%.1f floor_ns=%.1f earlier_machine_ns=%.1f "
	    "ratio_sim/earlier=%.3f\n", "  beside: clearing 4 KiB, earlier",
	    sim, min2(clear_floor(), clear_floor()), EARLIER_WRITE_FAULT_NS,
	    sim / EARLIER_WRITE_FAULT_NS);
	sim = min2(sim_touch(GIB, AS_READ), sim_touch(GIB, AS_READ));
	host = min2(host_touch(GIB, 0), host_touch(GIB, 0));
	report("zero-page read fault (1 GiB)", sim, host);
	vmas_random_reads(&sim, &host);
	report("random read fault (3000 VMAs)", sim, host);
	return 0;
}

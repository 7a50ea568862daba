/*
 * bench_mmap.c: the simulator beside the host kernel, in one process.
 *
 * For address spaces of 6, 3000 and 65000 VMAs (one page each, one free
 * page between neighbours, protections alternating so none merge) it
 * measures:
 *   - find_vma() in the simulator, at random addresses;
 *   - mmap(MAP_FIXED) of one page into a random hole followed by munmap,
 *     in the simulator (sys_mmap/sys_munmap, locks included) and on the
 *     host kernel with the same layout at 0x200000000000;
 * and prints each with the ratio simulator / host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "mm.h"
#include "session.h"

#define BASE	0x200000000000UL
#define PG	4096UL
#define RUN_NS	300000000.0

static unsigned long prot_of(size_t i)
{
	return i & 1 ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* Run op(arg, n) in batches until RUN_NS has passed; ns per call. */
static double measure(void (*op)(void *, size_t), void *arg, size_t n)
{
	double t0 = now_ns(), t;
	unsigned long calls = 0;

	do {
		for (int i = 0; i < 1000; i++)
			op(arg, n);
		calls += 1000;
	} while ((t = now_ns()) - t0 < RUN_NS);
	return (t - t0) / calls;
}

static void sim_find(void *arg, size_t n)
{
	struct mm *mm = arg;

	if (find_vma(mm, BASE + (rnd() % (2 * n)) * PG) == NULL)
		abort();
}

static void sim_mmap_munmap(void *arg, size_t n)
{
	struct mm *mm = arg;
	unsigned long hole = BASE + (2 * (rnd() % n) + 1) * PG;

	if (sys_mmap(mm, hole, PG, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != hole ||
	    sys_munmap(mm, hole, PG) != 0)
		abort();
}

static void host_mmap_munmap(void *arg, size_t n)
{
	void *hole = (void *)(BASE + (2 * (rnd() % n) + 1) * PG);

	(void)arg;
	if (mmap(hole, PG, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != hole ||
	    munmap(hole, PG) != 0)
		abort();
}

/* Lay out n one-page VMAs in the simulator and on the host. */
static int layout(struct mm *mm, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long a = BASE + 2 * i * PG;

		if (sys_mmap(mm, a, PG, prot_of(i), MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != a ||
		    mmap((void *)a, PG, (int)prot_of(i), MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)a)
			return -1;
	}
	return 0;
}

static int bench(size_t n)
{
	struct as_session_params p;
	struct as_session *s;
	struct mm *mm;
	double find, sim, host;

	as_session_params_default(&p);
	if ((s = as_session_new(&p)) == NULL)
		return -1;
	mm = as_task_lookup(s, 1)->mm;
	if (layout(mm, n) != 0) {
		perror("layout");
		return -1;
	}
	find = measure(sim_find, mm, n);
	sim = measure(sim_mmap_munmap, mm, n);
	host = measure(host_mmap_munmap, NULL, n);
	printf("vmas=%-6zu find_vma sim_ns=%.1f | mmap+munmap sim_ns=%.1f "
	    "host_ns=%.1f ratio_sim/host=%.3f\n", n, find, sim, host,
	    sim / host);
	munmap((void *)BASE, 2 * n * PG);
	as_session_free(s);
	return 0;
}

int main(void)
{
	static const size_t counts[] = { 6, 3000, 65000 };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (bench(counts[i]) != 0)
			return 1;
	return 0;
}

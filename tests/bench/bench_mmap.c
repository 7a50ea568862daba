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
 *   - the lookup such an mmap makes: find_vma() of the hole and the two
 *     neighbours' fields read, one hole after another (an lfence
 *     between two, since two real calls never overlap);
 *   - the floor of that mmap+munmap: the cache lines any VMA index must
 *     read for it (the tree's route to the hole, then the two neighbour
 *     VMAs that mmap checks for a merge, as the kernel does), read with
 *     nothing else, one hole after another as the calls come (an lfence
 *     between two, since two real calls never overlap);
 * and prints each with the ratio simulator / host, then each figure
 * against its cost at 6 VMAs, then what going from 6 to 65000 VMAs adds
 * to the call in the simulator, on the host kernel, and to the floor
 * (memory's share, which no work can go under), each as a share of the
 * simulator's whole call at 6.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"
#include "mm.h"
#include "session.h"

#define BASE	0x200000000000UL
#define PG	4096UL
#define RUN_NS	300000000.0
#define NFLOOR	32768		/* pre-drawn holes of the floor */
#define FLOOR_LEVELS 8		/* levels of the trees measured, at most */

/* One hole's lines: its route down the tree, and its neighbours. */
struct floor_op {
	unsigned char off[FLOOR_LEVELS], lines[FLOOR_LEVELS];
	const struct vma *prev, *next;
};

static struct floor_op floor_ops[NFLOOR];
static unsigned int floor_levels;
static unsigned long floor_at, floor_sum;	/* floor_sum: a sink */

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

/* The next call starts after this one is done. */
static inline void serialize(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_lfence();
#endif
}

static void sim_lookup(void *arg, size_t n)
{
	struct mm *mm = arg;
	struct vma *next = find_vma(mm, BASE + (2 * (rnd() % n) + 1) * PG);

	floor_sum += next->vm_start + next->vm_prev->vm_end;
	serialize();
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

/* Draw the floor's holes: each one's route and neighbours. */
static void floor_draw(struct mm *mm, size_t n)
{
	unsigned char off[MAPLE_HEIGHT_MAX], lines[MAPLE_HEIGHT_MAX];

	for (size_t k = 0; k < NFLOOR; k++) {
		unsigned long hole = BASE + (2 * (rnd() % n) + 1) * PG;
		struct floor_op *f = &floor_ops[k];

		floor_levels = mt_lookup_route(&mm->mm_mt, hole, off, lines);
		if (floor_levels > FLOOR_LEVELS)
			abort();
		memcpy(f->off, off, floor_levels);
		memcpy(f->lines, lines, floor_levels);
		f->next = find_vma(mm, hole);
		f->prev = f->next != NULL ? f->next->vm_prev : NULL;
		if (f->next == NULL || f->prev == NULL)
			abort();
	}
}

/* A VMA's fields the merge check reads (vm_start to anon_vma). */
static void floor_touch(const struct vma *v)
{
	floor_sum += ((const volatile struct vma *)v)->vm_start;
	floor_sum += (unsigned long)((const volatile struct vma *)v)->anon_vma;
}

static void sim_floor(void *arg, size_t n)
{
	struct mm *mm = arg;
	const struct floor_op *f = &floor_ops[floor_at++ & (NFLOOR - 1)];

	(void)n;
	mt_follow_route(&mm->mm_mt, f->off, f->lines, floor_levels,
	    &floor_sum);
	floor_touch(f->prev);
	floor_touch(f->next);
	serialize();
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

static int bench(size_t n, double ns[5])
{
	struct as_session_params p;
	struct as_session *s;
	struct mm *mm;
	double find, lookup, sim, host, floor;

	as_session_params_default(&p);
	if ((s = as_session_new(&p)) == NULL)
		return -1;
	mm = as_task_lookup(s, 1)->mm;
	if (layout(mm, n) != 0) {
		perror("layout");
		return -1;
	}
	find = measure(sim_find, mm, n);
	lookup = measure(sim_lookup, mm, n);
	sim = measure(sim_mmap_munmap, mm, n);
	host = measure(host_mmap_munmap, NULL, n);
	floor_draw(mm, n);
	floor = measure(sim_floor, mm, n);
	printf("vmas=%-6zu find_vma sim_ns=%.1f lookup_ns=%.1f | mmap+munmap "
	    "sim_ns=%.1f host_ns=%.1f ratio_sim/host=%.3f floor_ns=%.1f\n", n,
	    find, lookup, sim, host, sim / host, floor);
	ns[0] = find;
	ns[1] = sim;
	ns[2] = host;
	ns[3] = floor;
	ns[4] = lookup;
	munmap((void *)BASE, 2 * n * PG);
	as_session_free(s);
	return 0;
}

int main(void)
{
	static const size_t counts[] = { 6, 3000, 65000 };
	static const char *const what[] = { "find_vma", "mmap+munmap",
	    "host_mmap+munmap", "mmap+munmap_floor", "mmap_lookup" };
	double ns[3][5];

	for (size_t i = 0; i < 3; i++)
		if (bench(counts[i], ns[i]) != 0)
			return 1;
	for (size_t k = 0; k < 5; k++)
		printf("ratio %s 65000/6=%.2f 3000/6=%.2f\n", what[k],
		    ns[2][k] / ns[0][k], ns[1][k] / ns[0][k]);
	/* what 65000 VMAs add to the call, against the simulator's whole
	 * call at 6 (a 2x target allows 1.00): the simulator's, the host
	 * kernel's on the same layout, the lookup's, and memory's alone */
	printf("growth 65000-6 sim=%.1f ns (%.2f) host=%.1f ns (%.2f) "
	    "lookup=%.1f ns (%.2f) floor=%.1f ns (%.2f) of the simulator's "
	    "mmap+munmap at 6\n",
	    ns[2][1] - ns[0][1], (ns[2][1] - ns[0][1]) / ns[0][1],
	    ns[2][2] - ns[0][2], (ns[2][2] - ns[0][2]) / ns[0][1],
	    ns[2][4] - ns[0][4], (ns[2][4] - ns[0][4]) / ns[0][1],
	    ns[2][3] - ns[0][3], (ns[2][3] - ns[0][3]) / ns[0][1]);
	return 0;
}

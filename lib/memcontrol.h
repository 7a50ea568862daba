/*
 * memcontrol.h: charging host memory to a session, as the kernel's memory
 * cgroups charge pages and kernel objects (mm/memcontrol.c).
 *
 * Every host byte a session causes is charged to its struct as_memcg (in
 * struct as_session): each frame in use (4096 bytes of contents), the
 * struct pages of each chunk of frames made, the allocator's arrays,
 * page-table pages (frames), mms, VMAs and their anon_vma chains,
 * anon_vmas, inodes with their page-cache index, struct files and tasks.
 * A charge also goes to every ancestor (the daemon makes the tenant and
 * the daemon-wide budget the session's parents); one that would take a
 * level over its limit is refused at every level, and the allocation
 * fails as the kernel's does: -ENOMEM from the call, VM_FAULT_OOM from a
 * fault.  Counters are relaxed atomics, so a charge costs one atomic add
 * per level and takes no lock; a racing charge may pass a limit by at
 * most what the racers ask at once, and takes it back at once.
 *
 * A kernel object is charged its size plus KMEM_OVERHEAD, the malloc
 * header glibc puts before it; arrays (chains, page-cache index, the
 * allocator's) are charged their bytes.
 */
#ifndef ASPACE_MEMCONTROL_H
#define ASPACE_MEMCONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct as_memcg {
	long		 usage;		/* bytes charged (atomic) */
	long		 limit;		/* bytes; 0: no limit (atomic) */
	unsigned long	 failcnt;	/* charges refused at this level */
	struct as_memcg	*parent;	/* set before the first charge */
};

#define KMEM_OVERHEAD	16
#define kmem_size(n)	((long)(n) + KMEM_OVERHEAD)

/* try_charge(): n bytes to m and its ancestors, or -1 (nothing charged)
 * when a level would pass its limit. */
static inline int memcg_try_charge(struct as_memcg *m, long n)
{
	struct as_memcg *c, *u;
	long lim;

	for (c = m; c != NULL; c = c->parent) {
		lim = __atomic_load_n(&c->limit, __ATOMIC_RELAXED);
		if (__atomic_add_fetch(&c->usage, n, __ATOMIC_RELAXED) > lim &&
		    lim > 0) {
			__atomic_add_fetch(&c->failcnt, 1, __ATOMIC_RELAXED);
			for (u = m; ; u = u->parent) {
				__atomic_sub_fetch(&u->usage, n,
				    __ATOMIC_RELAXED);
				if (u == c)
					break;
			}
			return -1;
		}
	}
	return 0;
}

/* A charge that may not fail (what is freed later must be charged). */
static inline void memcg_charge_force(struct as_memcg *m, long n)
{
	for (; m != NULL; m = m->parent)
		__atomic_add_fetch(&m->usage, n, __ATOMIC_RELAXED);
}

static inline void memcg_uncharge(struct as_memcg *m, long n)
{
	for (; m != NULL; m = m->parent)
		__atomic_sub_fetch(&m->usage, n, __ATOMIC_RELAXED);
}

static inline long memcg_usage(const struct as_memcg *m)
{
	return __atomic_load_n(&m->usage, __ATOMIC_RELAXED);
}

#endif /* ASPACE_MEMCONTROL_H */

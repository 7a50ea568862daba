/*
 * pool.h: a small bounded pool of threads for long requests (run_trace,
 * fork, exec), so that they do not stall the other connections of the
 * worker that read them.  A job's work runs on a pool thread; its done
 * callback is then posted back to the job's event_base (event_base_once),
 * where it runs on the owning worker's thread.
 *
 * Fair shares.  The pool has nslots *slots*, the jobs that may run at
 * once (pool-threads), and every job belongs to a tenant.  A tenant's
 * slot time is accounted as the kernel's old scheduler accounted CPU:
 * summed, and decayed (halved every second), so that it says how much
 * of the pool the tenant has had lately.  A free slot goes to the
 * waiting job whose tenant has had least.  A job running long offers its
 * slot back between two of its steps (pool_yield(), a trace between two
 * lines): if a job of a tenant that has had less waits, the running one
 * is parked (its thread sleeps, holding what it holds) and the other
 * runs.  So two tenants' long traces cannot keep a third tenant's short
 * one waiting for more than a quantum and a step.  Parked jobs keep
 * their threads: the pool starts threads beyond nslots for the jobs that
 * take their slots, at most POOL_THREADS_MAX(nslots) in all.  A tenant
 * may have at most tenant_max jobs queued or started.
 */
#ifndef ASPACED_POOL_H
#define ASPACED_POOL_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct pool;
struct pool_tenant;

#define POOL_QUANTUM_NS		(5ULL * 1000000)	/* a slot, at least */
#define POOL_HALF_LIFE_NS	(1000ULL * 1000000)	/* of slot time */
#define POOL_THREADS_MAX(n)	(2 * (n) + 4)

struct pool_job {
	void		 (*work)(struct pool_job *);	/* on a pool thread */
	void		 (*done)(struct pool_job *);	/* on base's thread */
	struct event_base *base;
	unsigned int	 tenant;			/* whose share */
	/* The pool's. */
	struct pool_job	*next;
	struct pool_tenant *pt;
	uint64_t	 granted;	/* the slot's, CLOCK_MONOTONIC ns */
	uint64_t	 charged;	/* slot time charged up to here */
	bool		 go;		/* parked: the slot is its again */
};

/* nslots slots, at most qmax jobs queued, tenant_max per tenant
 * queued or started (0: no limit); NULL on failure. */
struct pool *pool_new(int nslots, unsigned int qmax, unsigned int tenant_max);
/*
 * Queue j (j->tenant set): 0, or -EAGAIN when the queue is full,
 * -EDQUOT when j's tenant has tenant_max jobs in the pool, -ESHUTDOWN
 * when stopping.
 */
int pool_submit(struct pool *p, struct pool_job *j);
/*
 * On j's thread, between two steps of its work, holding no lock another
 * pool job may need... or one only its own tenant's jobs may: give j's
 * slot to a job of a tenant that has had less of the pool, if one waits
 * and j has had its quantum, and sleep until a slot is j's again.  Cheap
 * when nothing waits.  True if j slept.
 */
bool pool_yield(struct pool *p, struct pool_job *j);
/*
 * Stop: jobs still queued are dropped (their done never runs), running
 * ones finish; the threads are joined.  Call once the event loops whose
 * bases jobs name have stopped: a done posted then is never run.
 */
void pool_free(struct pool *p);

#endif /* ASPACED_POOL_H */

/*
 * pool.h: a small bounded pool of threads for long requests (run_trace,
 * fork, exec), so that they do not stall the other connections of the
 * worker that read them.  A job's work runs on a pool thread; its done
 * callback is then posted back to the job's event_base (event_base_once),
 * where it runs on the owning worker's thread.
 */
#ifndef ASPACED_POOL_H
#define ASPACED_POOL_H

#include <stdbool.h>

struct event_base;
struct pool;

struct pool_job {
	void		 (*work)(struct pool_job *);	/* on a pool thread */
	void		 (*done)(struct pool_job *);	/* on base's thread */
	struct event_base *base;
	struct pool_job	*next;				/* the pool's */
};

/* nthreads threads, at most qmax jobs queued; NULL on failure. */
struct pool *pool_new(int nthreads, unsigned int qmax);
/* Queue j: 0, or -EAGAIN when the queue is full, -ESHUTDOWN when stopping. */
int pool_submit(struct pool *p, struct pool_job *j);
/*
 * Stop: jobs still queued are dropped (their done never runs), running
 * ones finish; the threads are joined.  Call once the event loops whose
 * bases jobs name have stopped: a done posted then is never run.
 */
void pool_free(struct pool *p);

#endif /* ASPACED_POOL_H */

/*
 * bench.h: what every benchmark needs: a monotonic clock in nanoseconds
 * and a small deterministic random source (xorshift64).
 */
#ifndef ASPACE_BENCH_H
#define ASPACE_BENCH_H

#include <stdint.h>
#include <time.h>

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t bench_rng = 0x9e3779b97f4a7c15ULL;

static inline unsigned long rnd(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return (unsigned long)bench_rng;
}

#endif /* ASPACE_BENCH_H */

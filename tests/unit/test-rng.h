/*
 * test-rng.h: the unit tests' random numbers, xorshift64* (Vigna): fast,
 * and the same sequence from the same seed on every machine, so a failing
 * seed printed by a test replays exactly.
 */
#ifndef ASPACE_TEST_RNG_H
#define ASPACE_TEST_RNG_H

#include <stdint.h>

/* The next number of the sequence in *state (which must not be 0). */
static inline unsigned long xorshift64s(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (unsigned long)(*state * 0x2545F4914F6CDD1DULL);
}

/* A number below n (0 for n 0) from *state. */
static inline unsigned long xorshift64s_below(uint64_t *state,
    unsigned long n)
{
	return n ? xorshift64s(state) % n : 0;
}

#endif /* ASPACE_TEST_RNG_H */

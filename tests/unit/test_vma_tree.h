/*
 * test_vma_tree.h: what the pieces of test_vma_tree share (the tests:
 * test_vma_tree.c's top comment): random numbers, VMA helpers, the
 * model (a sorted array of the same VMAs) and the checks of the tree
 * against it from test_vma_tree-model.c, and the tests
 * test_vma_tree-random.c holds.
 */
#ifndef ASPACE_TEST_VMA_TREE_H
#define ASPACE_TEST_VMA_TREE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vma_iter.h"

#define PG	AS_PAGE_SIZE
#define NOMEM	((unsigned long)-ENOMEM)
#define GUARD	AS_STACK_GUARD_GAP

struct model {
	struct vma	**v;
	size_t		  n;
};

struct query {
	unsigned long len, lo, hi, mask, off;
};

/* test_vma_tree-model.c: random numbers, the model, the checks */
extern uint64_t rng_state;
extern uint64_t rng_seed;	/* for the failure messages */
unsigned long rnd(void);
unsigned long rnd_below(unsigned long n);
unsigned long sat_add(unsigned long a, unsigned long b);
unsigned long sat_sub(unsigned long a, unsigned long b);
void mkvma(struct vma *v, unsigned long start, unsigned long end,
    unsigned long flags);
void assert_valid(struct maple_tree *t);
size_t model_lower(const struct model *m, unsigned long addr);
void model_insert(struct model *m, struct vma *v);
void model_erase(struct model *m, size_t i);
int model_overlaps(const struct model *m, unsigned long start,
    unsigned long end);
void check_gap_query(struct maple_tree *t, const struct model *m,
    const struct query *q);
void check_find(struct maple_tree *t, const struct model *m,
    unsigned long addr);
void check_list(struct maple_tree *t, const struct model *m);

/* test_vma_tree-random.c: random operations, scale */
void test_random_low(void **state);
void test_random_mid(void **state);
void test_random_top(void **state);
void test_scale(void **state);

#endif /* ASPACE_TEST_VMA_TREE_H */

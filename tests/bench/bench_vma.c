/*
 * bench_vma.c: cost of the VMA index operations (the maple tree, lib/vma_iter.c).
 *
 * For trees of 6, 3000 and 65000 VMAs (1-4 pages each, 1-4 free pages
 * between neighbours, inserted in random order) prints one line per
 * measurement:
 *
 *   find_vma vmas=<n> ns_per_op=<ns>      vma_mt_find(), random addresses
 *   insert_erase vmas=<n> ns_per_op=<ns>  insert of a 1-page VMA into a
 *                                         random gap, then its erase
 *   gap_topdown vmas=<n> ns_per_op=<ns>   vma_mt_gap_topdown(), random
 *                                         length and high limit
 *
 *   index_bytes vmas=<n> per_vma=<b> height=<h>  memory of the tree's
 *                                         nodes per VMA, and its levels
 *
 * Each measurement runs batches until about 0.2 s have passed.  The
 * rbtree this replaced took 40 bytes per VMA (three links, a colour and a
 * gap inside struct vma).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "vma_iter.h"

#define PG		AS_PAGE_SIZE
#define NADDR		4096		/* pre-drawn random inputs, a power of 2 */
#define BATCH		4096
#define RUN_NS		200000000.0

/* n VMAs with a free gap of 1-4 pages after each, inserted shuffled. */
static struct vma *build(struct maple_tree *t, size_t n)
{
	struct vma *v = calloc(n, sizeof(*v));
	size_t *order = malloc(n * sizeof(*order));
	unsigned long at = 0x400000;

	if (!v || !order)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		v[i].vm_start = at;
		v[i].vm_end = at + (1 + rnd() % 4) * PG;
		at = v[i].vm_end + (1 + rnd() % 4) * PG;
		order[i] = i;
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1), tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	vma_mt_init(t);
	for (size_t i = 0; i < n; i++)
		vma_mt_insert(t, &v[order[i]]);
	free(order);
	if (vma_mt_validate(t))
		exit(1);
	return v;
}

static volatile unsigned long sink;

static void bench_find(struct maple_tree *t, size_t n)
{
	unsigned long addr[NADDR], lo = t->first->vm_start, span;
	unsigned long ops = 0, acc = 0;
	double t0, el;

	span = t->last->vm_end - lo;
	for (size_t i = 0; i < NADDR; i++)
		addr[i] = lo + rnd() % span;
	t0 = now_ns();
	do {
		for (size_t i = 0; i < BATCH; i++)
			acc += (unsigned long)vma_mt_find(t,
			    addr[(ops + i) & (NADDR - 1)]);
		ops += BATCH;
	} while ((el = now_ns() - t0) < RUN_NS);
	sink = acc;
	printf("find_vma vmas=%zu ns_per_op=%.1f\n", n, el / ops);
}

static void bench_insert_erase(struct maple_tree *t, const struct vma *v,
    size_t n)
{
	static struct vma spare[NADDR];
	unsigned long ops = 0;
	double t0, el;

	for (size_t i = 0; i < NADDR; i++) {
		const struct vma *at = &v[rnd() % n];

		spare[i].vm_start = at->vm_end;	/* the gap after it is free */
		spare[i].vm_end = at->vm_end + PG;
	}
	t0 = now_ns();
	do {
		for (size_t i = 0; i < BATCH; i++) {
			struct vma *s = &spare[(ops + i) & (NADDR - 1)];

			vma_mt_insert(t, s);
			vma_mt_erase(t, s);
		}
		ops += BATCH;
	} while ((el = now_ns() - t0) < RUN_NS);
	if (vma_mt_validate(t) || t->count != n)
		exit(1);
	printf("insert_erase vmas=%zu ns_per_op=%.1f\n", n, el / ops);
}

static void bench_gap(struct maple_tree *t, size_t n)
{
	unsigned long len[NADDR], high[NADDR], lo = t->first->vm_start, span;
	unsigned long ops = 0, acc = 0;
	double t0, el;

	span = t->last->vm_end - lo;
	for (size_t i = 0; i < NADDR; i++) {
		len[i] = (1 + rnd() % 4) * PG;
		high[i] = (lo + rnd() % span) & AS_PAGE_MASK;
	}
	t0 = now_ns();
	do {
		for (size_t i = 0; i < BATCH; i++) {
			size_t k = (ops + i) & (NADDR - 1);

			acc += vma_mt_gap_topdown(t, len[k], 0, high[k],
			    0, 0);
		}
		ops += BATCH;
	} while ((el = now_ns() - t0) < RUN_NS);
	sink = acc;
	printf("gap_topdown vmas=%zu ns_per_op=%.1f\n", n, el / ops);
}

int main(void)
{
	static const size_t counts[] = { 6, 3000, 65000 };

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct maple_tree t;
		struct vma *v = build(&t, counts[c]);

		bench_find(&t, counts[c]);
		bench_insert_erase(&t, v, counts[c]);
		bench_gap(&t, counts[c]);
		printf("index_bytes vmas=%zu per_vma=%.1f height=%u\n",
		    counts[c], (double)mt_nr_nodes(&t) * MAPLE_NODE_SIZE /
		    counts[c], mt_height(&t));
		vma_mt_destroy(&t);
		free(v);
	}
	return 0;
}

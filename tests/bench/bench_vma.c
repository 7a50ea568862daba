/*
 * bench_vma.c: cost of the VMA index operations (the maple tree, lib/vma_iter.c).
 *
 * For trees of 6, 3000 and 65000 VMAs (1-4 pages each, 1-4 free pages
 * between neighbours, inserted in random order) prints one line per
 * measurement:
 *
 *   find_vma vmas=<n> ns_per_op=<ns>      vma_mt_find(), random addresses
 *   find_vma_floor vmas=<n> levels=<h> lines=<l> memory_ns=<ns>
 *                                         the cache lines such a lookup
 *                                         reads, and its route followed
 *                                         reading them, with no
 *                                         comparison: the wait for memory
 *                                         a walk cannot go under
 *   insert_erase vmas=<n> ns_per_op=<ns>  insert of a 1-page VMA into a
 *                                         random gap, then its erase
 *   gap_topdown vmas=<n> ns_per_op=<ns>   vma_mt_gap_topdown(), random
 *                                         length and high limit
 *
 *   ratio <what> 65000/6=<r> 3000/6=<r>   each figure against its cost
 *                                         at 6 VMAs, from this run
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

static double bench_find(struct maple_tree *t, size_t n)
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
	return el / ops;
}

/* The walk's floor: the same random addresses' routes followed with no
 * comparison, reading the cache lines the walk reads; and how many lines
 * that is, on average. */
static double bench_floor(struct maple_tree *t, size_t n)
{
	static unsigned char off[NADDR][MAPLE_HEIGHT_MAX];
	static unsigned char lines[NADDR][MAPLE_HEIGHT_MAX];
	unsigned long lo = t->first->vm_start, span, ops = 0, acc = 0;
	unsigned int levels = 0, all = 0;
	double t0, el;

	span = t->last->vm_end - lo;
	for (size_t i = 0; i < NADDR; i++) {
		levels = mt_lookup_route(t, lo + rnd() % span, off[i],
		    lines[i]);
		for (unsigned int l = 0; l < levels; l++)
			all += (unsigned int)__builtin_popcount(lines[i][l]);
	}
	t0 = now_ns();
	do {
		for (size_t i = 0; i < BATCH; i++) {
			size_t k = (ops + i) & (NADDR - 1);

			acc += (unsigned long)mt_follow_route(t, off[k],
			    lines[k], levels, &acc);
		}
		ops += BATCH;
	} while ((el = now_ns() - t0) < RUN_NS);
	sink = acc;
	printf("find_vma_floor vmas=%zu levels=%u lines=%.1f memory_ns=%.1f\n",
	    n, levels, (double)all / NADDR, el / ops);
	return el / ops;
}

static double bench_insert_erase(struct maple_tree *t, const struct vma *v,
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
	return el / ops;
}

static double bench_gap(struct maple_tree *t, size_t n)
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
	return el / ops;
}

int main(void)
{
	static const size_t counts[] = { 6, 3000, 65000 };
	static const char *const what[] = { "find_vma", "find_vma_floor",
	    "insert_erase", "gap_topdown" };
	double ns[3][4];

	for (size_t c = 0; c < 3; c++) {
		struct maple_tree t;
		struct vma *v = build(&t, counts[c]);

		ns[c][0] = bench_find(&t, counts[c]);
		ns[c][1] = bench_floor(&t, counts[c]);
		ns[c][2] = bench_insert_erase(&t, v, counts[c]);
		ns[c][3] = bench_gap(&t, counts[c]);
		printf("index_bytes vmas=%zu per_vma=%.1f height=%u\n",
		    counts[c], (double)mt_nr_nodes(&t) * MAPLE_NODE_SIZE /
		    counts[c], mt_height(&t));
		vma_mt_destroy(&t);
		free(v);
	}
	for (size_t k = 0; k < 4; k++)
		printf("ratio %s 65000/6=%.1f 3000/6=%.1f\n", what[k],
		    ns[2][k] / ns[0][k], ns[1][k] / ns[0][k]);
	return 0;
}

/*
 * maple_tree-gap.c: the maple tree's gaps and searches for free ranges
 * (mas_empty_area{,_rev}()), its check (mt_validate()), its copy for fork
 * (__mt_dup()) and its picture (mt_dump()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maple-int.h"

/* models ma_leaf_max_gap() and ma_max_gap(): the largest free range. */
unsigned long ma_max_gap(struct maple_enode *e, unsigned long min,
    unsigned long max)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);
	unsigned long gap = 0, lo = min;

	if (type == maple_arange_64)	/* ma_meta_gap() names the largest */
		return n->ma64.gap[n->ma64.meta.gap];
	if (!ma_is_leaf(type))
		return 0;
	for (unsigned char i = 0; i < end; i++) {
		unsigned long hi = mas_safe_pivot(n, type, i, end, max);

		if (n->mr64.slot[i] == NULL && mt_range_size(lo, hi) > gap)
			gap = mt_range_size(lo, hi);
		lo = hi + 1;
	}
	return gap;
}

/* A search for size free bytes within [min, max]; the state is put on
 * the free range found. */
struct mt_gap_query {
	unsigned long min, max, size;
	bool rev;			/* highest first */
	unsigned long start, last;	/* the free range found */
	struct ma_state *mas;
};

/* Does the free range [lo, hi] hold size bytes within the limits? */
static bool mt_gap_fits(unsigned long lo, unsigned long hi,
    const struct mt_gap_query *q)
{
	if (lo < q->min)
		lo = q->min;
	if (hi > q->max)
		hi = q->max;
	return hi >= lo && hi - lo >= q->size - 1;
}

/* models mas_anode_descend()/mas_rev_awalk(): search a subtree; 1 found,
 * 0 not here, -1 nothing further on can fit. */
static int mt_gap_walk(struct maple_enode *e, unsigned long nmin,
    unsigned long nmax, struct mt_gap_query *q)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);
	unsigned long *pivots = ma_pivots(n, type);
	int i = 0, step = q->rev ? -1 : 1;

	/* start at the slot holding the limit the search comes from */
	while (i + 1 < end && pivots[i] < (q->rev ? q->max : q->min))
		i++;
	for (; i >= 0 && i < end; i += step) {
		unsigned long lo = i > 0 ? pivots[i - 1] + 1 : nmin;
		unsigned long hi = i + 1 < end ? pivots[i] : nmax;
		int r;

		if (q->rev ? hi < q->min : lo > q->max)
			return -1;
		if (ma_is_leaf(type)) {
			if (n->mr64.slot[i] != NULL || !mt_gap_fits(lo, hi, q))
				continue;
			q->start = lo;
			q->last = hi;
			q->mas->node = e;	/* as the kernel's, on it */
			q->mas->offset = (unsigned char)i;
			q->mas->min = nmin;
			q->mas->max = nmax;
			q->mas->status = ma_active;
			return 1;
		}
		if (type == maple_arange_64 && n->ma64.gap[i] < q->size)
			continue;
		if ((r = mt_gap_walk(ma_slots(n, type)[i], lo, hi, q)) != 0)
			return r;
	}
	return 0;
}

/* The free range (whole) holding size bytes in [min, max]; 0 or -EBUSY. */
static int mt_gap_search(struct ma_state *mas, struct mt_gap_query *q)
{
	if (q->size == 0 || q->min > q->max)
		return -EINVAL;
	if (mas->tree->ma_root == NULL) {
		q->start = 0;
		q->last = ULONG_MAX;
		mas->status = ma_none;
		return mt_gap_fits(0, ULONG_MAX, q) ? 0 : -EBUSY;
	}
	q->mas = mas;
	return mt_gap_walk(mas->tree->ma_root, 0, ULONG_MAX, q) == 1 ? 0 :
	    -EBUSY;
}

/* mas_empty_area(). */
int mas_empty_area(struct ma_state *mas, unsigned long min,
    unsigned long max, unsigned long size)
{
	struct mt_gap_query q = { .min = min, .max = max, .size = size };
	int err = mt_gap_search(mas, &q);

	if (err != 0)
		return err;
	mas->index = q.start > min ? q.start : min;
	mas->last = mas->index + size - 1;
	return 0;
}

/* mas_empty_area_rev(). */
int mas_empty_area_rev(struct ma_state *mas, unsigned long min,
    unsigned long max, unsigned long size)
{
	struct mt_gap_query q = { .min = min, .max = max, .size = size,
	    .rev = true };
	int err = mt_gap_search(mas, &q);

	if (err != 0)
		return err;
	mas->last = q.last < max ? q.last : max;
	mas->index = mas->last - size + 1;
	return 0;
}

/* ---- mt_validate() ---- */

struct mt_check {
	const struct maple_tree *mt;
	const char *err;
	unsigned long nodes;
	unsigned int depth;	/* of the leaves */
};

/* Node-level checks: fill, pivots in order, unused pivots clear. */
static bool mt_check_shape(struct maple_node *n, enum maple_type type,
    unsigned long min, unsigned long max, bool root, struct mt_check *c)
{
	unsigned char end = ma_data_end(n, type);
	unsigned long *pivots = ma_pivots(n, type), lo = min;

	if (end == 0 || end > mt_slots[type])
		return c->err = "node end out of range", false;
	if (!root && end < mt_min_slots[type])
		return c->err = "node under half full", false;
	if (root && !ma_is_leaf(type) && end < 2)
		return c->err = "inner root with one child", false;
	for (unsigned char i = 0; i + 1 < end; i++) {
		if (pivots[i] < lo || pivots[i] >= max)
			return c->err = "pivots not ascending in range", false;
		lo = pivots[i] + 1;
	}
	for (unsigned char i = end ? end - 1 : 0; i < mt_pivots[type]; i++)
		if (pivots[i] != 0)
			return c->err = "unused pivot not 0", false;
	return true;
}

/* Leaf checks: NULLs, and the leaf's largest gap into *gap. */
static bool mt_check_leaf(struct maple_node *n, unsigned long min,
    unsigned long max, struct mt_check *c, unsigned long *gap)
{
	unsigned char end = ma_data_end(n, maple_leaf_64);

	for (unsigned char i = 1; i < end; i++)
		if (n->mr64.slot[i] == NULL && n->mr64.slot[i - 1] == NULL)
			return c->err = "adjacent NULL ranges", false;
	if (n->mr64.slot[end - 1] == NULL && max != ULONG_MAX)
		return c->err = "a leaf other than the last ends in NULL",
		    false;
	*gap = ma_max_gap(mt_mk_node(n, maple_leaf_64), min, max);
	return true;
}

/* Check a subtree; its largest gap into *gap. */
static bool mt_check_node(struct maple_enode *e, unsigned long min,
    unsigned long max, unsigned int depth, uintptr_t parent,
    struct mt_check *c, unsigned long *gap)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end;

	c->nodes++;
	if ((uintptr_t)n->parent != parent)
		return c->err = "wrong parent pointer", false;
	if (!mt_check_shape(n, type, min, max, depth == 1, c))
		return false;
	if (ma_is_leaf(type)) {
		if (depth != c->depth)
			return c->err = "leaves at different depths", false;
		return mt_check_leaf(n, min, max, c, gap);
	}
	end = ma_data_end(n, type);
	*gap = 0;
	for (unsigned char i = 0; i < end; i++) {
		unsigned long lo = i > 0 ? ma_pivots(n, type)[i - 1] + 1 : min;
		unsigned long g;

		if (ma_slots(n, type)[i] == NULL)
			return c->err = "NULL child", false;
		if (!mt_check_node(ma_slots(n, type)[i], lo,
		    mas_safe_pivot(n, type, i, end, max), depth + 1,
		    (uintptr_t)n | (uintptr_t)i << MAPLE_PARENT_SLOT_SHIFT,
		    c, &g))
			return false;
		if (type == maple_arange_64 && n->ma64.gap[i] != g)
			return c->err = "gap not exact", false;
		if (g > *gap)
			*gap = g;
	}
	if (type == maple_arange_64 && n->ma64.gap[n->ma64.meta.gap] != *gap)
		return c->err = "metadata gap not the largest", false;
	return true;
}

/* mt_validate(): NULL or the first fault found. */
const char *mt_validate(const struct maple_tree *mt)
{
	struct mt_check c = { .mt = mt, .depth = mt->ma_height };
	unsigned long gap;

	if (mt->ma_root == NULL)
		return mt->ma_height == 0 && mt->ma_nodes == 0 ? NULL :
		    "empty tree with nodes";
	if (!mt_check_node(mt->ma_root, 0, ULONG_MAX, 1,
	    (uintptr_t)mt | MAPLE_ROOT_NODE, &c, &gap))
		return c.err;
	if (c.nodes != mt->ma_nodes)
		return "node count differs from the nodes reached";
	return NULL;
}

/* ---- __mt_dup() ---- */

/* Free a partial copy: children up to the first NULL. */
static void mt_dup_undo(struct maple_tree *new, struct maple_enode *e)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);

	if (!ma_is_leaf(type)) {
		unsigned char end = ma_data_end(n, type);

		for (unsigned char i = 0; i < end; i++) {
			if (ma_slots(n, type)[i] == NULL)
				break;
			mt_dup_undo(new, ma_slots(n, type)[i]);
		}
	}
	mt_free_node(new, n);
}

/* Copy a subtree; NULL (nothing left allocated) when out of nodes. */
static struct maple_enode *mt_dup_node(struct maple_tree *new,
    struct maple_enode *e, const void *parent)
{
	struct maple_node *n = mte_to_node(e), *copy;
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);
	void **slots;

	if ((copy = mt_alloc_node(new)) == NULL)
		return NULL;
	memcpy(copy, n, sizeof(*copy));
	copy->parent = (struct maple_pnode *)parent;
	if (ma_is_leaf(type))
		return mt_mk_node(copy, type);
	slots = ma_slots(copy, type);
	for (unsigned char i = 0; i < end; i++)
		slots[i] = NULL;
	for (unsigned char i = 0; i < end; i++) {
		slots[i] = mt_dup_node(new, ma_slots(n, type)[i],
		    (const void *)((uintptr_t)copy |
		    (uintptr_t)i << MAPLE_PARENT_SLOT_SHIFT));
		if (slots[i] == NULL) {
			mt_dup_undo(new, mt_mk_node(copy, type));
			return NULL;
		}
	}
	return mt_mk_node(copy, type);
}

/* __mt_dup(): new (empty) gets a node-for-node copy of mt: same shape,
 * same entries, for the caller to replace (dup_mmap()). */
int __mt_dup(struct maple_tree *mt, struct maple_tree *new, gfp_t gfp)
{
	const void *root = (const void *)((uintptr_t)new | MAPLE_ROOT_NODE);
	struct maple_enode *e;

	(void)gfp;
	new->ma_flags = mt->ma_flags;
	if (mt->ma_root == NULL)
		return 0;
	if ((e = mt_dup_node(new, mt->ma_root, root)) == NULL)
		return -ENOMEM;
	new->ma_root = e;
	new->ma_height = mt->ma_height;
	return 0;
}

/*
 * maple_tree.c: the maple tree's nodes, walks and stores (Linux's
 * lib/maple_tree.c, v6.18).  Splitting, rebalancing, gaps, validation and
 * the dump are in maple_tree-write.c and maple_tree-gap.c.
 *
 * Where the simulator follows the kernel:
 *  - the node kinds, their capacities and 256-byte layout, the kind kept in
 *    the low bits of a node pointer, the metadata (end) in the last slot of
 *    a range_64 node that is not full, pivots implied by the parent for a
 *    node's last slot;
 *  - a write first assembles the node's new contents in a big node
 *    (maple_big_node) that may hold more than a node, then splits it in
 *    two (mas_split) or, when it is under the minimum, joins it with a
 *    sibling and splits the whole again if it overflows (mas_rebalance);
 *    both push one change to the parent, which is handled the same way up
 *    to the root.  Before splitting, a node first pushes its overflow into
 *    a sibling with room, left then right (mas_push_data()), which only
 *    moves a pivot in the parent: appends then fill leaves to 15 of 16.
 *    A split never leaves a leaf ending in NULL, as the kernel's
 *    mab_no_null_split(); a root with one child is dropped.
 * Where it is simpler:
 *  - nodes are at least half full (8 of 16, 5 of 10); the kernel allows
 *    mt_min_slots (6 and 4).  Splits cut in the middle; the kernel's
 *    mab_calc_split() also leans towards the left for bulk stores.
 *  - no RCU: nodes are changed in place under the writer's lock (mm:
 *    mmap_lock), where the kernel copies a node and publishes it.
 *  - a store over several leaves (mas_wr_spanning_store) is done leaf by
 *    leaf: first NULL into each, then the entry into the one free slot
 *    this leaves.  Such a store may fail with -ENOMEM half done; one
 *    within a leaf (all the mm makes: a VMA into a gap, a VMA out) either
 *    succeeds or changes nothing, its nodes allocated beforehand as
 *    mas_preallocate() does.
 *  - a NULL range never ends a leaf other than the last one, so each free
 *    range is one slot of one leaf: a store that would leave one there
 *    moves it into the next leaf (mt_move_trailing_null()).
 *  - a store that leaves its leaf within bounds is written into it in
 *    place (the kernel's mas_wr_slot_store()/mas_wr_append() fast paths);
 *    others go through the big node.
 *  - a write keeps the path from the root.  A write through a state
 *    already on the leaf (as mas_wr_prealloc_setup() lets the kernel's)
 *    builds that path by climbing the parent pointers, each of which
 *    holds the node and the slot there (mte_parent_slot(); the kernel's
 *    also holds the kind); any other write walks from the root.
 *  - no single entry held in the root pointer, no dense nodes, no marks.
 * Nodes come from aligned_alloc() through a small per-tree free list; a
 * cap on the nodes of all trees (mt_set_node_limit()) makes allocation
 * fail as under memory pressure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maple-int.h"

const unsigned char mt_slots[] = {
	[maple_dense] = MAPLE_RANGE64_SLOTS,
	[maple_leaf_64] = MAPLE_RANGE64_SLOTS,
	[maple_range_64] = MAPLE_RANGE64_SLOTS,
	[maple_arange_64] = MAPLE_ARANGE64_SLOTS,
};
const unsigned char mt_pivots[] = {
	[maple_dense] = 0,
	[maple_leaf_64] = MAPLE_RANGE64_SLOTS - 1,
	[maple_range_64] = MAPLE_RANGE64_SLOTS - 1,
	[maple_arange_64] = MAPLE_ARANGE64_SLOTS - 1,
};
const unsigned char mt_min_slots[] = {
	[maple_dense] = MAPLE_RANGE64_SLOTS / 2,
	[maple_leaf_64] = MAPLE_RANGE64_SLOTS / 2,
	[maple_range_64] = MAPLE_RANGE64_SLOTS / 2,
	[maple_arange_64] = MAPLE_ARANGE64_SLOTS / 2,
};

#define MT_FREE_KEEP	32	/* freed nodes a tree keeps for reuse */

static unsigned long mt_node_limit;	/* 0: no cap */
static unsigned long mt_nodes_total;	/* nodes of all trees */

/* Tests' cap on the nodes of all trees. */
unsigned long mt_set_node_limit(unsigned long limit)
{
	unsigned long old = mt_node_limit;

	mt_node_limit = limit;
	return old;
}

/* A node from the heap, within the cap; NULL when out. */
static struct maple_node *mt_heap_node(void)
{
	unsigned long total = __atomic_add_fetch(&mt_nodes_total, 1,
	    __ATOMIC_RELAXED);
	struct maple_node *n = NULL;

	if (mt_node_limit == 0 || total <= mt_node_limit)
		n = aligned_alloc(MAPLE_NODE_SIZE, sizeof(*n));
	if (n == NULL)
		__atomic_sub_fetch(&mt_nodes_total, 1, __ATOMIC_RELAXED);
	return n;
}

/* models mt_alloc_one(): a zeroed node, from the free list or the heap. */
struct maple_node *mt_alloc_node(struct maple_tree *mt)
{
	struct maple_node *n = mt->ma_free;

	if (n != NULL) {
		mt->ma_free = (struct maple_node *)n->parent;
		mt->ma_nfree--;
	} else if ((n = mt_heap_node()) == NULL) {
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	mt->ma_nodes++;
	return n;
}

/* models mt_free_one(): back to the free list, or to the heap. */
void mt_free_node(struct maple_tree *mt, struct maple_node *n)
{
	mt->ma_nodes--;
	if (mt->ma_nfree < MT_FREE_KEEP) {
		n->parent = (struct maple_pnode *)mt->ma_free;
		mt->ma_free = n;
		mt->ma_nfree++;
		return;
	}
	free(n);
	__atomic_sub_fetch(&mt_nodes_total, 1, __ATOMIC_RELAXED);
}

/* models mas_alloc_nodes(): have count nodes on the free list, so that a
 * write cannot fail half done; 0 or -ENOMEM. */
int mt_prealloc(struct maple_tree *mt, unsigned int count)
{
	while (mt->ma_nfree < count) {
		struct maple_node *n = mt_heap_node();

		if (n == NULL)
			return -ENOMEM;
		n->parent = (struct maple_pnode *)mt->ma_free;
		mt->ma_free = n;
		mt->ma_nfree++;
	}
	return 0;
}

/* mt_init_flags(). */
void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	memset(mt, 0, sizeof(*mt));
	mt->ma_flags = flags;
}

/* Free a subtree's nodes. */
static void mt_destroy_walk(struct maple_tree *mt, struct maple_enode *e)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);

	if (!ma_is_leaf(type)) {
		unsigned char end = ma_data_end(n, type);

		for (unsigned char i = 0; i < end; i++)
			mt_destroy_walk(mt, ma_slots(n, type)[i]);
	}
	mt_free_node(mt, n);
}

/* __mt_destroy(): every node goes, the free list too. */
void __mt_destroy(struct maple_tree *mt)
{
	struct maple_node *n;

	if (mt->ma_root != NULL)
		mt_destroy_walk(mt, mt->ma_root);
	while ((n = mt->ma_free) != NULL) {
		mt->ma_free = (struct maple_node *)n->parent;
		free(n);
		__atomic_sub_fetch(&mt_nodes_total, 1, __ATOMIC_RELAXED);
	}
	mt->ma_nfree = 0;
	mt->ma_root = NULL;
	mt->ma_height = 0;
}

/* The slot of a node holding index (ma_wr_walk's search of pivots). */
static unsigned char ma_slot_of(struct maple_node *n, enum maple_type type,
    unsigned char end, unsigned long index)
{
	unsigned long *pivots = ma_pivots(n, type);
	unsigned char i = 0;

	while (i + 1 < end && pivots[i] < index)
		i++;
	return i;
}

/* The walk of a write: the path from the root to index's leaf. */
void mt_walk_path(struct maple_tree *mt, unsigned long index,
    struct mt_path *p)
{
	struct maple_enode *e = mt->ma_root;
	unsigned long min = 0, max = ULONG_MAX;
	int l = 0;

	for (;;) {
		struct maple_node *n = mte_to_node(e);
		enum maple_type type = mte_node_type(e);
		unsigned char end = ma_data_end(n, type);
		unsigned char i = ma_slot_of(n, type, end, index);

		p->n[l] = e;
		p->off[l] = i;
		p->min[l] = min;
		p->max[l] = max;
		if (ma_is_leaf(type))
			break;
		if (i > 0)
			min = ma_pivots(n, type)[i - 1] + 1;
		max = mas_safe_pivot(n, type, i, end, max);
		e = ma_slots(n, type)[i];
		l++;
	}
	p->leaf = l;
}

/* models mas_ascend() up from the state's leaf: the path above it from
 * the parent pointers, then each level's range from its parent's pivots,
 * top down. */
static void mas_ascend_path(const struct ma_state *mas, struct mt_path *p)
{
	enum maple_type itype = mt_inner_type(mas->tree), type;
	struct maple_node *n = mte_to_node(mas->node);
	int l = (int)mas->tree->ma_height - 1;

	p->leaf = l;
	p->n[l] = mas->node;
	for (; l > 0; l--) {
		p->off[l - 1] = mte_parent_slot(n);
		n = mte_parent(n);
		p->n[l - 1] = mt_mk_node(n, itype);
	}
	p->min[0] = 0;
	p->max[0] = ULONG_MAX;
	for (l = 0; l < p->leaf; l++) {
		unsigned char i = p->off[l];

		n = mte_to_node(p->n[l]);
		p->min[l + 1] = i > 0 ? ma_pivots(n, itype)[i - 1] + 1 : p->min[l];
		p->max[l + 1] = mas_safe_pivot(n, itype, i,
		    ma_data_end(n, itype), p->max[l]);
	}
	n = mte_to_node(mas->node);
	type = mte_node_type(mas->node);
	p->off[p->leaf] = ma_slot_of(n, type, ma_data_end(n, type), mas->index);
}

#ifdef ASPACE_DEBUG
/* A climbed path must be the walked one: a state kept across another
 * write to its tree would not be. */
static void mas_check_path(struct ma_state *mas, const struct mt_path *p)
{
	struct mt_path w;

	mt_walk_path(mas->tree, mas->index, &w);
	for (int l = 0; l <= w.leaf; l++)
		if (w.leaf != p->leaf || w.n[l] != p->n[l] ||
		    w.off[l] != p->off[l] || w.min[l] != p->min[l] ||
		    w.max[l] != p->max[l]) {
			fprintf(stderr, "maple tree: a stale ma_state at "
			    "0x%lx (level %d)\n", mas->index, l);
			abort();
		}
}
#endif

/* The path of a write (models mas_wr_prealloc_setup(): the state's leaf
 * is kept when the write falls inside it). */
void mas_wr_path(struct ma_state *mas, bool on_leaf, struct mt_path *p)
{
	if (!on_leaf) {
		mt_walk_path(mas->tree, mas->index, p);
		return;
	}
	mas_ascend_path(mas, p);
#ifdef ASPACE_DEBUG
	mas_check_path(mas, p);
#endif
}

/* Set the state on slot i of its leaf (range from the pivots). */
void *mas_set_slot(struct ma_state *mas, unsigned char i)
{
	struct maple_node *n = mte_to_node(mas->node);
	enum maple_type type = mte_node_type(mas->node);
	unsigned char end = ma_data_end(n, type);

	mas->offset = i;
	mas->index = i > 0 ? ma_pivots(n, type)[i - 1] + 1 : mas->min;
	mas->last = mas_safe_pivot(n, type, i, end, mas->max);
	mas->status = ma_active;
	return ma_slots(n, type)[i];
}

/* The whole range of the slot an active state is on. */
void mas_slot_range(const struct ma_state *mas, unsigned long *first,
    unsigned long *last)
{
	struct maple_node *n = mte_to_node(mas->node);
	enum maple_type type = mte_node_type(mas->node);
	unsigned char end = ma_data_end(n, type);

	*first = mas->offset > 0 ? ma_pivots(n, type)[mas->offset - 1] + 1 :
	    mas->min;
	*last = mas_safe_pivot(n, type, mas->offset, end, mas->max);
}

/* Where a walk to index ends: the leaf, its range and the slot. */
struct mt_leaf_pos {
	struct maple_enode *e;
	struct maple_node *n;
	enum maple_type type;
	unsigned long min, max;
	unsigned char end, i;
};

/* The descent of mas_walk() (mtree_lookup_walk()); the tree not empty. */
static inline void mt_descend(const struct maple_tree *mt,
    unsigned long index, struct mt_leaf_pos *w)
{
	struct maple_enode *e = mt->ma_root;

	w->min = 0;
	w->max = ULONG_MAX;
	for (;;) {
		w->n = mte_to_node(e);
		w->type = mte_node_type(e);
		w->end = ma_data_end(w->n, w->type);
		w->i = ma_slot_of(w->n, w->type, w->end, index);
		if (ma_is_leaf(w->type))
			break;
		if (w->i > 0)
			w->min = ma_pivots(w->n, w->type)[w->i - 1] + 1;
		w->max = mas_safe_pivot(w->n, w->type, w->i, w->end, w->max);
		e = ma_slots(w->n, w->type)[w->i];
	}
	w->e = e;
}

/* mas_walk(): the entry at index; the state names its slot. */
void *mas_walk(struct ma_state *mas)
{
	struct mt_leaf_pos w;

	if (mas->tree->ma_root == NULL) {
		mas->status = ma_none;
		mas->index = 0;
		mas->last = ULONG_MAX;
		return NULL;
	}
	mt_descend(mas->tree, mas->index, &w);
	mas->node = w.e;
	mas->min = w.min;
	mas->max = w.max;
	mas->offset = w.i;
	mas->index = w.i > 0 ? ma_pivots(w.n, w.type)[w.i - 1] + 1 : w.min;
	mas->last = mas_safe_pivot(w.n, w.type, w.i, w.end, w.max);
	mas->status = ma_active;
	return ma_slots(w.n, w.type)[w.i];
}

/* models mas_next_slot(): the slot after the current one, maybe NULL;
 * false past the end of the tree. */
static bool mas_next_any(struct ma_state *mas, void **entry)
{
	struct maple_node *n = mte_to_node(mas->node);
	enum maple_type type = mte_node_type(mas->node);

	if (mas->offset + 1 < ma_data_end(n, type)) {
		*entry = mas_set_slot(mas, mas->offset + 1);
		return true;
	}
	if (mas->max == ULONG_MAX)
		return false;
	mas->index = mas->max + 1;
	*entry = mas_walk(mas);
	return true;
}

/* models mas_prev_slot(): the slot before the current one. */
static bool mas_prev_any(struct ma_state *mas, void **entry)
{
	if (mas->offset > 0) {
		*entry = mas_set_slot(mas, mas->offset - 1);
		return true;
	}
	if (mas->min == 0)
		return false;
	mas->index = mas->min - 1;
	*entry = mas_walk(mas);
	return true;
}

/* mas_next_slot() skipping NULLs, up to max. */
static void *mas_next_entry(struct ma_state *mas, unsigned long max)
{
	void *entry;

	do {
		if (mas->last >= max || !mas_next_any(mas, &entry)) {
			mas->status = ma_overflow;
			return NULL;
		}
	} while (entry == NULL);
	if (mas->index > max) {
		mas->status = ma_overflow;
		return NULL;
	}
	return entry;
}

/* mas_prev_slot() skipping NULLs, down to min. */
static void *mas_prev_entry(struct ma_state *mas, unsigned long min)
{
	void *entry;

	do {
		if (mas->index <= min || !mas_prev_any(mas, &entry)) {
			mas->status = ma_underflow;
			return NULL;
		}
	} while (entry == NULL);
	if (mas->last < min) {
		mas->status = ma_underflow;
		return NULL;
	}
	return entry;
}

/* Walk from index when the state is not on a slot; false if empty. */
static bool mas_start_walk(struct ma_state *mas, void **entry)
{
	if (mas->status == ma_active)
		return false;
	*entry = mas_walk(mas);
	return true;
}

/* mas_find(). */
void *mas_find(struct ma_state *mas, unsigned long max)
{
	void *entry;

	if (mas->status == ma_overflow || mas->status == ma_error)
		return NULL;
	if (mas_start_walk(mas, &entry)) {
		if (mas->status == ma_none)
			return NULL;
		if (entry != NULL)
			return mas->index <= max ? entry : NULL;
	}
	return mas_next_entry(mas, max);
}

/* mas_find_rev(). */
void *mas_find_rev(struct ma_state *mas, unsigned long min)
{
	void *entry;

	if (mas->status == ma_underflow || mas->status == ma_error)
		return NULL;
	if (mas_start_walk(mas, &entry)) {
		if (mas->status == ma_none)
			return NULL;
		if (entry != NULL)
			return mas->last >= min ? entry : NULL;
	}
	return mas_prev_entry(mas, min);
}

/* mas_next(). */
void *mas_next(struct ma_state *mas, unsigned long max)
{
	void *entry;

	if (mas_start_walk(mas, &entry) && mas->status == ma_none)
		return NULL;
	if (mas->status != ma_active)
		return NULL;
	return mas_next_entry(mas, max);
}

/* mas_prev(). */
void *mas_prev(struct ma_state *mas, unsigned long min)
{
	void *entry;

	if (mas_start_walk(mas, &entry) && mas->status == ma_none)
		return NULL;
	if (mas->status != ma_active)
		return NULL;
	return mas_prev_entry(mas, min);
}

/* mtree_load(). */
void *mtree_load(struct maple_tree *mt, unsigned long index)
{
	MA_STATE(mas, mt, index, index);

	return mas_walk(&mas);
}

/* mt_find(): the first entry in [*index, max]; *index moves past it
 * (stays at ULONG_MAX for an entry that ends there).  One descent: a free
 * slot is never last in its leaf but in the last leaf, so the entry after
 * one is the next slot. */
void *mt_find(struct maple_tree *mt, unsigned long *index, unsigned long max)
{
	struct mt_leaf_pos w;
	unsigned long last;

	if (mt->ma_root == NULL)
		return NULL;
	mt_descend(mt, *index, &w);
	if (ma_slots(w.n, w.type)[w.i] == NULL) {
		if (w.i + 1 >= w.end)
			return NULL;
		w.i++;
		if (ma_pivots(w.n, w.type)[w.i - 1] + 1 > max)
			return NULL;
	}
	last = mas_safe_pivot(w.n, w.type, w.i, w.end, w.max);
	*index = last == ULONG_MAX ? last : last + 1;
	return ma_slots(w.n, w.type)[w.i];
}

/*
 * maple-int.h: what maple_tree.c and maple_tree-gap.c share: node
 * accessors (the kernel's mte_ and ma_ helpers), the big node a write is
 * assembled in, and the path of a write.  Not for other files.
 */
#ifndef ASPACE_MAPLE_INT_H
#define ASPACE_MAPLE_INT_H

#include <limits.h>
#include <stdint.h>

#include "maple_tree.h"

#define MAPLE_ENODE_TYPE_SHIFT	3
#define MAPLE_ENODE_NULL	0x04UL
#define MAPLE_NODE_MASK		((uintptr_t)MAPLE_NODE_SIZE - 1)
#define MAPLE_ROOT_NODE		0x01UL
#define MAPLE_PARENT_SLOT_SHIFT	3	/* a parent pointer: node | slot << 3 */
/* A big node holds two nodes' worth and the two ranges a store adds. */
#define MAPLE_BIG_NODE_SLOTS	(2 * MAPLE_RANGE64_SLOTS + 2)

extern const unsigned char mt_slots[];
extern const unsigned char mt_pivots[];
extern const unsigned char mt_min_slots[];

/* struct maple_big_node: a node's new contents before they are split. */
struct maple_big_node {
	unsigned long pivot[MAPLE_BIG_NODE_SLOTS];	/* every slot's last */
	void *slot[MAPLE_BIG_NODE_SLOTS];
	unsigned long gap[MAPLE_BIG_NODE_SLOTS];
	unsigned int end;				/* slots used */
};

/* The nodes from the root down to a leaf, as a write walked them. */
struct mt_path {
	struct maple_enode *n[MAPLE_HEIGHT_MAX];
	unsigned char off[MAPLE_HEIGHT_MAX];	/* the slot taken below */
	unsigned long min[MAPLE_HEIGHT_MAX];
	unsigned long max[MAPLE_HEIGHT_MAX];
	int leaf;				/* level of the leaf */
};

/* mte_to_node(): the node of an encoded node. */
static inline struct maple_node *mte_to_node(const struct maple_enode *e)
{
	return (struct maple_node *)((uintptr_t)e & ~MAPLE_NODE_MASK);
}

/* mte_node_type(): the kind an encoded node carries. */
static inline enum maple_type mte_node_type(const struct maple_enode *e)
{
	return (enum maple_type)(((uintptr_t)e >> MAPLE_ENODE_TYPE_SHIFT) & 3);
}

/* The kind of inner node this tree uses. */
static inline enum maple_type mt_inner_type(const struct maple_tree *mt)
{
	return mt->ma_flags & MT_FLAGS_ALLOC_RANGE ? maple_arange_64 :
	    maple_range_64;
}

/* ma_set_parent(): a child's parent pointer, the node it hangs from and
 * its slot there (the kernel's mas_set_parent(); not the kind). */
static inline void ma_set_parent(struct maple_node *child,
    const struct maple_node *parent, unsigned char slot)
{
	child->parent = (struct maple_pnode *)((uintptr_t)parent |
	    (uintptr_t)slot << MAPLE_PARENT_SLOT_SHIFT);
}

/* mte_parent(): the node a non-root node hangs from. */
static inline struct maple_node *mte_parent(const struct maple_node *n)
{
	return (struct maple_node *)((uintptr_t)n->parent & ~MAPLE_NODE_MASK);
}

/* mte_parent_slot(): its slot there. */
static inline unsigned char mte_parent_slot(const struct maple_node *n)
{
	return (unsigned char)(((uintptr_t)n->parent & MAPLE_NODE_MASK) >>
	    MAPLE_PARENT_SLOT_SHIFT);
}

/* mt_mk_node(): encode a node with its kind. */
static inline struct maple_enode *mt_mk_node(const struct maple_node *n,
    enum maple_type type)
{
	return (struct maple_enode *)((uintptr_t)n |
	    ((uintptr_t)type << MAPLE_ENODE_TYPE_SHIFT) | MAPLE_ENODE_NULL);
}

static inline bool ma_is_leaf(enum maple_type type)
{
	return type < maple_range_64;
}

/* ma_pivots(): the pivot array of a node of this kind. */
static inline unsigned long *ma_pivots(struct maple_node *n,
    enum maple_type type)
{
	return type == maple_arange_64 ? n->ma64.pivot : n->mr64.pivot;
}

/* ma_slots(): the slot array. */
static inline void **ma_slots(struct maple_node *n, enum maple_type type)
{
	return type == maple_arange_64 ? n->ma64.slot : n->mr64.slot;
}

/* ma_data_end(): slots in use (the kernel returns the last index). */
static inline unsigned char ma_data_end(struct maple_node *n,
    enum maple_type type)
{
	if (type == maple_arange_64)
		return (unsigned char)(n->ma64.meta.end + 1);
	if (n->mr64.pivot[MAPLE_RANGE64_SLOTS - 2] != 0)
		return MAPLE_RANGE64_SLOTS;
	return (unsigned char)(n->mr64.meta.end + 1);
}

/* mas_safe_pivot(): slot i's last address, the node's max for its last. */
static inline unsigned long mas_safe_pivot(struct maple_node *n,
    enum maple_type type, unsigned char i, unsigned char end,
    unsigned long max)
{
	return i + 1 < end ? ma_pivots(n, type)[i] : max;
}

/* The size of [lo, hi], ULONG_MAX for the whole space. */
static inline unsigned long mt_range_size(unsigned long lo, unsigned long hi)
{
	unsigned long s = hi - lo + 1;

	return s == 0 ? ULONG_MAX : s;
}

/* ma_max_gap(): the largest free range under a node. */
unsigned long ma_max_gap(struct maple_enode *e, unsigned long min,
    unsigned long max);
/* The walk of a write: path to the leaf holding index. */
void mt_walk_path(struct maple_tree *mt, unsigned long index,
    struct mt_path *p);
/* The path of a write at mas->index: climbed from the state's leaf when
 * on_leaf (mas_wr_on_leaf() said so before the state was reset), else
 * walked. */
void mas_wr_path(struct ma_state *mas, bool on_leaf, struct mt_path *p);
/* Is the state on a leaf holding all of [index, last]? */
static inline bool mas_wr_on_leaf(const struct ma_state *mas)
{
	return mas->status == ma_active && mas->index >= mas->min &&
	    mas->last <= mas->max && mas->index <= mas->last;
}
struct maple_node *mt_alloc_node(struct maple_tree *mt);
void mt_free_node(struct maple_tree *mt, struct maple_node *n);
int mt_prealloc(struct maple_tree *mt, unsigned int count);
/* The state on slot i of its leaf (node, min, max set): the entry. */
void *mas_set_slot(struct ma_state *mas, unsigned char i);
/* The nodes a write within one leaf may need, at most. */
static inline unsigned int mt_write_nodes(const struct maple_tree *mt)
{
	return 2 * mt->ma_height + 4;
}

#endif /* ASPACE_MAPLE_INT_H */

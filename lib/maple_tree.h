/*
 * maple_tree.h: the maple tree, a range B-tree (Linux's
 * include/linux/maple_tree.h; the layout is the kernel's, the code ours).
 *
 * Every address in [0, ULONG_MAX] belongs to exactly one slot of one leaf;
 * a slot holds an entry (a pointer, e.g. a VMA) or NULL for a free range.
 * A node has slots and pivots: slot i covers (pivot[i-1], pivot[i]], the
 * first from the node's min, the last up to the node's max (which the
 * parent's pivot gives; the root's is ULONG_MAX).  Node kinds and sizes:
 *   maple_leaf_64    16 entries, 15 pivots                       (leaves)
 *   maple_range_64   16 children, 15 pivots              (not used by mm)
 *   maple_arange_64  10 children, 9 pivots, gap[i] = the largest free
 *                    range under child i                 (mm's inner nodes)
 * Each node is 256 bytes aligned to a cache line.  A tree with
 * MT_FLAGS_ALLOC_RANGE (mm's) keeps gaps so that mas_empty_area{,_rev}()
 * find free ranges in O(log n).
 *
 * Writers hold the tree's lock (mm: mmap_lock for writing); readers hold it
 * for reading.  There is no RCU: a reader never runs beside a writer.
 */
#ifndef ASPACE_MAPLE_TREE_H
#define ASPACE_MAPLE_TREE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MAPLE_RANGE64_SLOTS	16
#define MAPLE_ARANGE64_SLOTS	10
#define MAPLE_NODE_SLOTS	MAPLE_RANGE64_SLOTS
#define MAPLE_HEIGHT_MAX	31
#define MAPLE_NODE_SIZE		256
#define MAPLE_NODE_ALIGN	64	/* a cache line */

#define MT_FLAGS_ALLOC_RANGE	0x01	/* track gaps (arange_64 inner nodes) */

/* The node kinds (enum maple_type); a node's kind lives in its pointer. */
enum maple_type {
	maple_dense,		/* not used here */
	maple_leaf_64,
	maple_range_64,
	maple_arange_64,
};

struct maple_pnode;		/* a parent pointer (tagged) */
struct vma;			/* for the VMA layer's fields below */
struct maple_enode;		/* an encoded node: pointer | kind */

/* struct maple_metadata: where a node's data ends. */
struct maple_metadata {
	unsigned char end;	/* index of the last used slot */
	unsigned char gap;	/* slot of the largest gap (arange) */
};

struct maple_range_64 {
	struct maple_pnode *parent;
	unsigned long pivot[MAPLE_RANGE64_SLOTS - 1];
	union {
		void *slot[MAPLE_RANGE64_SLOTS];
		struct {	/* when slot 15 is unused */
			void *pad[MAPLE_RANGE64_SLOTS - 1];
			struct maple_metadata meta;
		};
	};
};

struct maple_arange_64 {
	struct maple_pnode *parent;
	unsigned long pivot[MAPLE_ARANGE64_SLOTS - 1];
	void *slot[MAPLE_ARANGE64_SLOTS];
	unsigned long gap[MAPLE_ARANGE64_SLOTS];
	struct maple_metadata meta;
};

struct maple_node {
	union {
		struct {
			struct maple_pnode *parent;
		};
		struct maple_range_64 mr64;
		struct maple_arange_64 ma64;
	};
} __attribute__((aligned(MAPLE_NODE_SIZE)));

static_assert(sizeof(struct maple_node) == MAPLE_NODE_SIZE,
    "a maple node is 256 bytes");
static_assert(MAPLE_NODE_SIZE % MAPLE_NODE_ALIGN == 0,
    "a maple node is whole cache lines");

/*
 * struct maple_tree.  first/last/count are not the kernel's: the VMA layer
 * (vma_iter.c) keeps there the ends of the vm_prev/vm_next list and the
 * number of VMAs; the tree itself neither reads nor writes them.
 */
struct maple_tree {
	void		*ma_root;	/* NULL or an encoded node */
	unsigned int	 ma_flags;
	unsigned int	 ma_height;
	unsigned long	 ma_nodes;	/* nodes allocated for this tree */
	struct maple_node *ma_free;	/* a few freed nodes, for reuse */
	unsigned int	 ma_nfree;
	struct vma	*first, *last;	/* VMA layer: list ends */
	unsigned long	 count;		/* VMA layer: VMAs */
};

/* enum maple_status: where an ma_state stands. */
enum maple_status {
	ma_active,	/* node/offset name the slot of [index, last] */
	ma_start,	/* not walked yet */
	ma_none,	/* the tree is empty */
	ma_pause,	/* walk again from index before going on */
	ma_overflow,	/* went past the limit of a find/next */
	ma_underflow,	/* went below the limit of a prev */
	ma_error,	/* a store failed: node is -errno */
};

/* struct ma_state: a position in the tree and the range it names. */
struct ma_state {
	struct maple_tree *tree;
	unsigned long index;	/* the range being looked at or stored */
	unsigned long last;
	struct maple_enode *node;	/* the leaf, when active */
	unsigned long min;		/* the leaf's range */
	unsigned long max;
	unsigned char offset;		/* the slot in the leaf */
	enum maple_status status;
	int error;
};

#define MA_STATE(name, mt, first_, end_)				\
	struct ma_state name = { .tree = (mt), .index = (first_),	\
	    .last = (end_), .status = ma_start }

typedef unsigned int gfp_t;
#define GFP_KERNEL	0u

/* mt_init_flags(): an empty tree. */
void mt_init_flags(struct maple_tree *mt, unsigned int flags);
/* __mt_destroy(): free every node (the entries are the caller's). */
void __mt_destroy(struct maple_tree *mt);
/* mt_set_node_limit(): cap on nodes of all trees (0: none), for tests of
 * -ENOMEM; returns the previous cap. */
unsigned long mt_set_node_limit(unsigned long limit);
/* mt_height(): levels of the tree (0 when empty). */
static inline unsigned int mt_height(const struct maple_tree *mt)
{
	return mt->ma_height;
}

static inline void mas_set_range(struct ma_state *mas, unsigned long start,
    unsigned long last)
{
	mas->index = start;
	mas->last = last;
	mas->status = ma_start;
}

/* __mas_set_range(): a new range, the state left where it is: a store
 * into the leaf it is on then climbs from there instead of walking. */
static inline void __mas_set_range(struct ma_state *mas, unsigned long start,
    unsigned long last)
{
	mas->index = start;
	mas->last = last;
}

static inline void mas_set(struct ma_state *mas, unsigned long index)
{
	mas_set_range(mas, index, index);
}

static inline void mas_reset(struct ma_state *mas)
{
	mas->status = ma_start;
}

static inline void mas_pause(struct ma_state *mas)
{
	mas->status = ma_pause;
}

/* The whole range of the slot an active state is on (after
 * mas_empty_area{,_rev}(): the free range found, not only its part). */
void mas_slot_range(const struct ma_state *mas, unsigned long *first,
    unsigned long *last);
/* The entry at mas->index; mas->index/last become its range. */
void *mas_walk(struct ma_state *mas);
/* The first entry at or after mas->index (then: after the current one)
 * that starts at or below max; NULL when none. */
void *mas_find(struct ma_state *mas, unsigned long max);
/* The last entry at or before mas->index (then: before the current one)
 * that ends at or above min; NULL when none. */
void *mas_find_rev(struct ma_state *mas, unsigned long min);
/* The entry after the current one, up to max. */
void *mas_next(struct ma_state *mas, unsigned long max);
/* The entry before the current one, down to min. */
void *mas_prev(struct ma_state *mas, unsigned long min);
/* Store entry over [mas->index, mas->last]; 0 or -ENOMEM (tree unchanged). */
int mas_store_gfp(struct ma_state *mas, void *entry, gfp_t gfp);
/* Erase the entry at mas->index (its whole range); returns it. */
void *mas_erase(struct ma_state *mas);
/* The lowest free range of size bytes within [min, max]: 0 with
 * mas->index/last set to its first size bytes, or -EBUSY. */
int mas_empty_area(struct ma_state *mas, unsigned long min,
    unsigned long max, unsigned long size);
/* The highest such range: 0 with mas->index/last its last size bytes. */
int mas_empty_area_rev(struct ma_state *mas, unsigned long min,
    unsigned long max, unsigned long size);

void *mtree_load(struct maple_tree *mt, unsigned long index);
int mtree_store_range(struct maple_tree *mt, unsigned long first,
    unsigned long last, void *entry, gfp_t gfp);
void *mtree_erase(struct maple_tree *mt, unsigned long index);
/* __mt_dup(): a copy of mt's nodes in new (same shape, same entries). */
int __mt_dup(struct maple_tree *mt, struct maple_tree *new, gfp_t gfp);
/* Replace, in place, the entry of the slot holding index (a store that
 * changes no range: vma_iter_bulk_store() after __mt_dup()). */
void mas_replace_entry(struct maple_tree *mt, unsigned long index,
    void *entry);

/* mt_validate(): NULL, or what is wrong with the tree. */
const char *mt_validate(const struct maple_tree *mt);
/* Nodes in use, for the memory figures. */
static inline unsigned long mt_nr_nodes(const struct maple_tree *mt)
{
	return mt->ma_nodes;
}
/* Writes an entry's name into buf (for mt_dump()). */
typedef void (*mt_entry_name_t)(const void *entry, char *buf, size_t len);
/* mt_dump(): the tree as text, or as JSON when json; name may be NULL. */
void mt_dump(const struct maple_tree *mt, FILE *out, bool json,
    mt_entry_name_t name);

/* For benchmarks (maple_tree-dump.c): a lookup's route (a slot and the
 * cache lines read, a level), and the route followed without comparing. */
unsigned int mt_lookup_route(const struct maple_tree *mt, unsigned long index,
    unsigned char *off, unsigned char *lines);
void *mt_follow_route(const struct maple_tree *mt, const unsigned char *off,
    const unsigned char *lines, unsigned int levels, unsigned long *sum);

/* mt_find(): the first entry at or after *index up to max; *index is set
 * past it. */
void *mt_find(struct maple_tree *mt, unsigned long *index, unsigned long max);

#endif /* ASPACE_MAPLE_TREE_H */

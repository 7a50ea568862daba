/*
 * vma_iter.h: the VMA index of an mm, a maple tree (mm->mm_mt), and the
 * VMA iterator over it as Linux's mm/vma.h and include/linux/mm.h have
 * them (vma_iter_*, for_each_vma, vma_next, vma_prev, find_vma).
 *
 * Each VMA is stored over [vm_start, vm_end - 1]; free ranges are NULL.
 * Not the kernel's: struct vma keeps vm_prev/vm_next, and the tree's
 * first/last/count fields their list ends and length, maintained here on
 * every insert and erase, so that the ~70 places that step along the list
 * stay as they are (Linux dropped the list in 6.1).
 *
 * The caller holds mmap_lock for writing around every change and at least
 * for reading around every lookup.  The gap before a VMA v is
 * [vm_end_gap(prev), vm_start_gap(v)), where vm_start_gap() lowers
 * vm_start by the stack guard gap for VM_GROWSDOWN VMAs.
 */
#ifndef ASPACE_VMA_ITER_H
#define ASPACE_VMA_ITER_H

#include <limits.h>

#include "maple_tree.h"
#include "mm_types.h"

/* The mm's tree keeps gaps (MM_MT_FLAGS). */
#define MM_MT_FLAGS	MT_FLAGS_ALLOC_RANGE

/* vm_start_gap(): the lowest address a VMA claims, guard gap included. */
static inline unsigned long vm_start_gap(const struct vma *vma)
{
	unsigned long start = vma->vm_start;

	if (vma->vm_flags & VM_GROWSDOWN) {
		start -= AS_STACK_GUARD_GAP;
		if (start > vma->vm_start)
			start = 0;
	}
	return start;
}

/* vm_end_gap(): the highest address a VMA claims (no VM_GROWSUP on x86). */
static inline unsigned long vm_end_gap(const struct vma *vma)
{
	return vma->vm_end;
}

/* struct vma_iterator. */
struct vma_iterator {
	struct ma_state mas;
};

#define VMA_ITERATOR(name, __mm, __addr)				\
	struct vma_iterator name = { .mas = { .tree = &(__mm)->mm_mt,	\
	    .index = (__addr), .last = (__addr), .status = ma_start } }

/* vma_iter_init(). */
static inline void vma_iter_init(struct vma_iterator *vmi, struct mm *mm,
    unsigned long addr)
{
	*vmi = (struct vma_iterator){ .mas = { .tree = &mm->mm_mt,
	    .index = addr, .last = addr, .status = ma_start } };
}

/* vma_next(): the next VMA (the first at or after the start). */
static inline struct vma *vma_next(struct vma_iterator *vmi)
{
	return mas_find(&vmi->mas, ULONG_MAX);
}

/* vma_find(): the next VMA starting below max. */
static inline struct vma *vma_find(struct vma_iterator *vmi,
    unsigned long max)
{
	return mas_find(&vmi->mas, max - 1);
}

/* vma_prev(): the VMA before the current one. */
static inline struct vma *vma_prev(struct vma_iterator *vmi)
{
	return mas_prev(&vmi->mas, 0);
}

/* vma_iter_load(): the VMA at the iterator's index, or NULL. */
static inline struct vma *vma_iter_load(struct vma_iterator *vmi)
{
	return mas_walk(&vmi->mas);
}

/* vma_iter_config(): the range [index, last) for a store, the iterator
 * kept where it is (__mas_set_range()). */
static inline void vma_iter_config(struct vma_iterator *vmi,
    unsigned long index, unsigned long last)
{
	__mas_set_range(&vmi->mas, index, last - 1);
}

/* vma_iter_set(). */
static inline void vma_iter_set(struct vma_iterator *vmi, unsigned long addr)
{
	mas_set(&vmi->mas, addr);
}

/* vma_iter_addr()/vma_iter_end(): the current range, end exclusive. */
static inline unsigned long vma_iter_addr(const struct vma_iterator *vmi)
{
	return vmi->mas.index;
}

static inline unsigned long vma_iter_end(const struct vma_iterator *vmi)
{
	return vmi->mas.last + 1;
}

/* vma_iter_store_gfp(): the VMA over its range; 0 or -ENOMEM. */
static inline int vma_iter_store_gfp(struct vma_iterator *vmi,
    struct vma *vma, gfp_t gfp)
{
	mas_set_range(&vmi->mas, vma->vm_start, vma->vm_end - 1);
	return mas_store_gfp(&vmi->mas, vma, gfp);
}

/* vma_iter_clear_gfp(): [start, end) free; 0 or -ENOMEM. */
static inline int vma_iter_clear_gfp(struct vma_iterator *vmi,
    unsigned long start, unsigned long end, gfp_t gfp)
{
	mas_set_range(&vmi->mas, start, end - 1);
	return mas_store_gfp(&vmi->mas, NULL, gfp);
}

#define for_each_vma(__vmi, __vma)					\
	while (((__vma) = vma_next(&(__vmi))) != NULL)

/* models mt_init_flags(&mm->mm_mt, MM_MT_FLAGS). */
void vma_mt_init(struct maple_tree *mt);
/* models __mt_destroy(): the tree's nodes go (the VMAs are gone). */
void vma_mt_destroy(struct maple_tree *mt);
/* Insert a VMA that overlaps none (vma_iter_store_new() + the list). */
void vma_mt_insert(struct maple_tree *mt, struct vma *vma);
/* The same through a state: no walk when it is still on the leaf of the
 * VMA's range (a walk of the tree not written since left it there). */
void vma_mt_insert_at(struct ma_state *mas, struct vma *vma);
/* Take a VMA out (vma_iter_clear_gfp() + the list). */
void vma_mt_erase(struct maple_tree *mt, struct vma *vma);
/* The same through a state: no walk when it is still on the VMA. */
void vma_mt_erase_at(struct ma_state *mas, struct vma *vma);
/* After changing vm_start/vm_end (or VM_GROWSDOWN) of a VMA in place,
 * order unchanged: its range in the tree follows (vma_iter_store()). */
void vma_mt_adjust(struct maple_tree *mt, struct vma *vma);
/* models __mt_dup() in dup_mmap(): new (empty) gets old's nodes, its
 * entries still old's VMAs until each is replaced or cleared; 0 or
 * -ENOMEM. */
int vma_mt_dup(struct maple_tree *old, struct maple_tree *new);
/* models vma_iter_bulk_store(): the copy of the VMA over the same range
 * takes its slot, and goes last in the list. */
void vma_mt_bulk_store(struct maple_tree *mt, struct vma *vma);
/* models vma_iter_clear_gfp(): [start, end) holds no VMA (end 0: to the
 * top).  Not for a VMA in the list: vma_mt_erase() is. */
void vma_mt_clear(struct maple_tree *mt, unsigned long start,
    unsigned long end);
/* The first VMA with vm_end > addr, or NULL (models find_vma()). */
static inline struct vma *vma_mt_find(struct maple_tree *mt,
    unsigned long addr)
{
	return mt_find(mt, &addr, ULONG_MAX);
}
/* The last VMA with vm_start < addr, or NULL. */
struct vma *vma_mt_find_before(struct maple_tree *mt, unsigned long addr);

/*
 * Top-down gap search (models unmapped_area_topdown()).  The gaps are
 * [vm_end_gap(prev), vm_start_gap(next)), the first one starting at 0 and
 * the last one ending at ULONG_MAX.  Finds the highest gap whose part inside
 * [low_limit, high_limit) holds length + align_mask bytes and returns the
 * highest addr with [addr, addr + length) in that part and
 * (addr & align_mask) == (align_offset & align_mask); align_mask is 0 or
 * 2^k - 1.  With align_mask 0 that is the highest fitting addr overall; with
 * alignment, as in Linux, a gap that holds length bytes only at a lucky
 * alignment is passed over.  Returns -ENOMEM (as unsigned long) when there
 * is none (also when length + align_mask overflows).
 */
unsigned long vma_mt_gap_topdown(struct maple_tree *mt,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset);
/*
 * Bottom-up search (models unmapped_area()): the lowest gap whose part
 * inside the limits holds length + align_mask bytes, and in it the lowest
 * aligned addr; or -ENOMEM.
 */
unsigned long vma_mt_gap_bottomup(struct maple_tree *mt,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset);

/* mt_validate() and the VMAs in it: each once, over its own range, in
 * list order; NULL or a message. */
const char *vma_mt_validate(struct maple_tree *mt);
/* The tree drawn with VMAs named by their ranges (aspace mt). */
void vma_mt_dump(const struct maple_tree *mt, FILE *out, bool json);

#endif /* ASPACE_VMA_ITER_H */

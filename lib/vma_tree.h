/*
 * vma_tree.h: the ordered VMA index of an mm (the maple tree's job).
 *
 * An augmented red-black tree keyed by vm_start, each node carrying the
 * largest free gap in its subtree, as Linux did with rb_subtree_gap before
 * 6.1.  Lookups and the gap search are O(log n); vm_prev/vm_next are kept so
 * stepping to a neighbour is O(1).  The caller holds mmap_lock for writing
 * around every change and at least for reading around every lookup.
 *
 * The gap before a VMA v is vm_start_gap(v) - (prev ? prev->vm_end : 0),
 * clamped at 0, where vm_start_gap() lowers vm_start by the stack guard gap
 * for VM_GROWSDOWN VMAs.
 */
#ifndef ASPACE_VMA_TREE_H
#define ASPACE_VMA_TREE_H

#include "mm_types.h"

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

void vma_tree_init(struct vma_tree *t);
/* Insert a VMA that overlaps none in the tree. */
void vma_tree_insert(struct vma_tree *t, struct vma *vma);
void vma_tree_erase(struct vma_tree *t, struct vma *vma);
/*
 * Call after changing vm_start/vm_end (or VM_GROWSDOWN) of a VMA in place
 * without changing the order of VMAs: fixes the gaps of it and its
 * successor up to the root.
 */
void vma_tree_adjust(struct vma_tree *t, struct vma *vma);

/* The first VMA with vm_end > addr, or NULL (Linux's find_vma()). */
struct vma *vma_tree_find(const struct vma_tree *t, unsigned long addr);
/* The last VMA with vm_start < addr... i.e. vm_start <= addr - 1, or NULL. */
struct vma *vma_tree_find_before(const struct vma_tree *t, unsigned long addr);

/*
 * Top-down gap search (unmapped_area_topdown()).  The gaps are
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
unsigned long vma_tree_gap_topdown(const struct vma_tree *t,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset);
/*
 * Bottom-up search (unmapped_area()): the lowest gap whose part inside the
 * limits holds length + align_mask bytes, and in it the lowest aligned addr;
 * or -ENOMEM.
 */
unsigned long vma_tree_gap_bottomup(const struct vma_tree *t,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset);

/* Check the tree's invariants; returns 0 or a message describing the fault. */
const char *vma_tree_validate(const struct vma_tree *t);

#endif /* ASPACE_VMA_TREE_H */

/*
 * vma.c: splitting and merging VMAs (mm/vma.c).
 *
 * Every change of a VMA's flags over part of its range goes through
 * vma_modify_flags(): first try to merge the range into a neighbour
 * (vma_merge_existing_range), else split the VMA so the range stands alone.
 * New ranges (mmap, brk, mremap) try vma_merge_new_range() before a new VMA
 * is made.  The merge rules are Linux 6.18's:
 *
 *   - flags equal, same file, file offsets contiguous (anonymous VMAs use
 *     vm_pgoff = address >> PAGE_SHIFT at creation, so they count too);
 *   - anon_vmas compatible: either side has none, or both have the same;
 *   - when both neighbours would merge, their anon_vmas must be compatible
 *     with each other as well;
 *   - VM_SPECIAL mappings never merge.
 *
 * The caller holds mmap_lock for writing.
 */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "mm.h"
#include "shm.h"

/* find_vma_prev(): find_vma(), and the VMA before addr in *pprev. */
struct vma *find_vma_prev(struct mm *mm, unsigned long addr, struct vma **pprev)
{
	struct vma *vma = find_vma(mm, addr);

	*pprev = vma != NULL ? vma->vm_prev : mm->mm_mt.last;
	return vma;
}

/* find_vma_intersection(): the first VMA overlapping [start, end). */
struct vma *find_vma_intersection(struct mm *mm, unsigned long start,
    unsigned long end)
{
	struct vma *vma = find_vma(mm, start);

	if (vma != NULL && vma->vm_start >= end)
		return NULL;
	return vma;
}

/* vma_lookup(): the VMA containing addr, if any. */
struct vma *vma_lookup(struct mm *mm, unsigned long addr)
{
	struct vma *vma = find_vma(mm, addr);

	if (vma != NULL && vma->vm_start > addr)
		return NULL;
	return vma;
}

/* __split_vma(): cut vma at addr; the new VMA takes the lower part when
 * new_below, else the upper part.  No map_count check. */
int __split_vma(struct vma *vma, unsigned long addr, int new_below)
{
	struct mm *mm = vma->vm_mm;
	struct vma *new = vm_area_dup(vma);

	if (new == NULL)
		return -ENOMEM;
	vma_i_mmap_lock(vma);
	if (new_below) {
		new->vm_end = addr;
		vma->vm_pgoff += (addr - vma->vm_start) >> AS_PAGE_SHIFT;
		vma->vm_start = addr;
	} else {
		new->vm_start = addr;
		new->vm_pgoff += (addr - vma->vm_start) >> AS_PAGE_SHIFT;
		vma->vm_end = addr;
	}
	vma_i_mmap_unlock(vma);
	vma_mt_adjust(&mm->mm_mt, vma);
	vma_link(mm, new);
	explain_op("split_vma: 0x%lx-0x%lx | 0x%lx-0x%lx",
	    new_below ? new->vm_start : vma->vm_start, addr, addr,
	    new_below ? vma->vm_end : new->vm_end);
	return 0;
}

/* split_vma(): __split_vma() within max_map_count. */
int split_vma(struct vma *vma, unsigned long addr, int new_below)
{
	if (vma->vm_mm->map_count >=
	    vma->vm_mm->session->limits.max_map_count) {
		explain_op("split_vma: refused, max_map_count (%d) VMAs: "
		    "-ENOMEM", vma->vm_mm->session->limits.max_map_count);
		return -ENOMEM;
	}
	return __split_vma(vma, addr, new_below);
}

/* The proposed range a merge is asked about (struct vma_merge_struct). */
struct vmg {
	struct vma	*prev, *middle, *next;
	struct vma	*copied_from;	/* mremap's source VMA */
	unsigned long	 start, end, pgoff, flags;
	struct file	*file;
	struct anon_vma	*anon_vma;
};

static bool is_mergeable_vma(const struct vmg *g, const struct vma *v)
{
	return v->vm_flags == g->flags && v->vm_file == g->file;
}

/*
 * is_mergeable_anon_vma(): may the range (its anon_vma from g) join tgt?
 * A side without an anon_vma takes the other's, unless that would put a
 * fork child's pages or chain where they do not belong.
 */
static bool is_mergeable_anon_vma(const struct vmg *g, const struct vma *tgt)
{
	if (tgt->anon_vma == NULL && g->anon_vma != NULL)
		return !vma_is_fork_child(g->middle) &&
		    !vma_is_fork_child(g->copied_from);
	if (tgt->anon_vma != NULL && g->anon_vma == NULL)
		return !vma_is_fork_child(tgt);
	return g->anon_vma == tgt->anon_vma;
}

/* are_anon_vmas_compatible(): may prev and next end up as one VMA? */
static bool are_anon_vmas_compatible(const struct vma *a, const struct vma *b)
{
	return a->anon_vma == NULL || b->anon_vma == NULL ||
	    a->anon_vma == b->anon_vma;
}

/* can_vma_merge_before(): the range may merge in front of g->next. */
static bool can_vma_merge_before(const struct vmg *g)
{
	unsigned long pglen = (g->end - g->start) >> AS_PAGE_SHIFT;

	return is_mergeable_vma(g, g->next) &&
	    is_mergeable_anon_vma(g, g->next) &&
	    g->next->vm_pgoff == g->pgoff + pglen;
}

/* can_vma_merge_after(): the range may merge behind g->prev. */
static bool can_vma_merge_after(const struct vmg *g)
{
	return is_mergeable_vma(g, g->prev) &&
	    is_mergeable_anon_vma(g, g->prev) &&
	    g->prev->vm_pgoff + vma_pages(g->prev) == g->pgoff;
}

static bool can_vma_merge_left(const struct vmg *g)
{
	return g->prev != NULL && g->prev->vm_end == g->start &&
	    can_vma_merge_after(g);
}

static bool can_vma_merge_right(const struct vmg *g, bool merge_left)
{
	if (g->next == NULL || g->end != g->next->vm_start ||
	    !can_vma_merge_before(g))
		return false;
	return !merge_left || are_anon_vmas_compatible(g->prev, g->next);
}

/* --- explaining a merge: the rule that refused a neighbour ---------------- */

/* Why flags differ: the bits only one side has, as VmFlags codes. */
static void explain_flags(char *buf, size_t size, const char *side,
    unsigned long theirs, unsigned long ours)
{
	char a[96], b[96];

	snprintf(buf, size, "VmFlags differ (%s only: %s; range only: %s)",
	    side, explain_vm_flags(a, sizeof(a), theirs & ~ours),
	    explain_vm_flags(b, sizeof(b), ours & ~theirs));
	if ((theirs ^ ours) & VM_NOHUGEPAGE)
		snprintf(buf + strlen(buf), size - strlen(buf), ", nh is "
		    "VM_NOHUGEPAGE (MAP_STACK or MADV_NOHUGEPAGE)");
}

/* merge_refusal(): why v (prev when is_prev, else next) may not take the
 * range, in the order the checks run; NULL if it may. */
static const char *merge_refusal(const struct vmg *g, const struct vma *v,
    bool is_prev, char *buf, size_t size)
{
	const char *side = is_prev ? "prev" : "next";
	unsigned long pglen = (g->end - g->start) >> AS_PAGE_SHIFT;
	bool follows = is_prev ? v->vm_pgoff + vma_pages(v) == g->pgoff :
	    v->vm_pgoff == g->pgoff + pglen;

	if (v->vm_flags != g->flags)
		explain_flags(buf, size, side, v->vm_flags, g->flags);
	else if (v->vm_file != g->file)
		snprintf(buf, size, "not the same struct file");
	else if (!is_mergeable_anon_vma(g, v))
		snprintf(buf, size, "anon_vma differs%s",
		    v->anon_vma != NULL && g->anon_vma != NULL ? "" :
		    " (a fork child's pages stay in their own anon_vma)");
	else if (!follows)
		snprintf(buf, size, "%s offsets do not follow on (pgoff "
		    "0x%lx, range 0x%lx)", v->vm_file != NULL ? "file" :
		    "vm_pgoff", v->vm_pgoff, g->pgoff);
	else
		return NULL;
	return buf;
}

/* The rule against a neighbour that passed merge_refusal()'s checks. */
static const char *merge_refusal_late(bool is_prev, bool left)
{
	if (!is_prev && left)
		return "prev and next anon_vmas differ, or next is a System V "
		    "shm attachment (never removed by a merge): prev only";
	return "a System V shm attachment is never removed by a merge";
}

/* Record the outcome of a merge asked about g (left/right: taken). */
static void explain_merge(const struct vmg *g, const char *fn, bool left,
    bool right)
{
	const struct vma *prev = g->prev, *next = g->next;
	bool padj = prev != NULL && prev->vm_end == g->start;
	bool nadj = next != NULL && next->vm_start == g->end;
	const char *why;
	char buf[320];

	if (!explain_recording())
		return;
	if (g->flags & VM_SPECIAL) {
		explain_op("%s: VM_SPECIAL (io, pf, dd) never merges", fn);
		return;
	}
	if (left || right)
		explain_op("%s: 0x%lx-0x%lx merged with %s", fn, g->start,
		    g->end, left && right ? "prev and next" : left ? "prev" :
		    "next");
	else if (!padj && !nadj)
		explain_op("%s: no adjacent VMA", fn);
	if (padj && !left) {
		why = merge_refusal(g, prev, true, buf, sizeof(buf));
		explain_op("%s: not with prev 0x%lx-0x%lx: %s", fn,
		    prev->vm_start, prev->vm_end,
		    why != NULL ? why : merge_refusal_late(true, left));
	}
	if (nadj && !right) {
		why = merge_refusal(g, next, false, buf, sizeof(buf));
		explain_op("%s: not with next 0x%lx-0x%lx: %s", fn,
		    next->vm_start, next->vm_end,
		    why != NULL ? why : merge_refusal_late(false, left));
	}
}

/* dup_anon_vma(): the growing VMA takes the shrinking one's anon_vma. */
static void dup_anon_vma(struct vma *dst, struct vma *src)
{
	if (src != NULL && src->anon_vma != NULL && dst->anon_vma == NULL) {
		dst->anon_vma = src->anon_vma;
		if (anon_vma_clone(dst, src) != 0)
			unlink_anon_vmas(dst);	/* no memory: stay unfaulted */
	}
}

/* can_merge_remove_vma(): a VMA with a close() operation (a System V
 * shm attachment) may grow or shrink in a merge, never disappear. */
static bool can_merge_remove_vma(const struct vma *vma)
{
	return !vma_is_shm(vma);
}

/* vma_set_range(): move a VMA's bounds in place (order unchanged). */
static void vma_set_range(struct vma *vma, unsigned long start,
    unsigned long end, unsigned long pgoff)
{
	vma_i_mmap_lock(vma);
	vma->vm_start = start;
	vma->vm_end = end;
	vma->vm_pgoff = pgoff;
	vma_i_mmap_unlock(vma);
	vma_mt_adjust(&vma->vm_mm->mm_mt, vma);
	vma->vm_mm->vmacache_seqnum++;
}

/*
 * vma_merge_existing_range(): [start, end) of g->middle changes to
 * g->flags; merge it into prev and/or next if Linux would.
 *
 *   merge both:  |prev|*middle*|next|  -> prev grows over both
 *   merge left:  |prev|***|middle      -> prev grows, middle shrinks/goes
 *   merge right:     middle|***|next|  -> next grows down, middle shrinks/goes
 */
static struct vma *vma_merge_existing_range(struct vmg *g)
{
	struct vma *mid = g->middle, *prev = g->prev, *next = mid->vm_next;
	bool left = g->start == mid->vm_start, right = g->end == mid->vm_end;
	bool merge_left, merge_right;
	struct mm *mm = mid->vm_mm;

	if (g->flags & VM_SPECIAL)
		explain_merge(g, "vma_merge_existing_range", false, false);
	if ((g->flags & VM_SPECIAL) || (!left && !right))
		return NULL;
	merge_left = left && can_vma_merge_left(g);
	g->next = right ? next : NULL;
	merge_right = right && can_vma_merge_right(g, merge_left);
	if (left && right && !can_merge_remove_vma(mid))
		merge_left = merge_right = false;
	if (merge_left && merge_right && !can_merge_remove_vma(next))
		merge_right = false;
	explain_merge(g, "vma_merge_existing_range", merge_left, merge_right);
	if (!merge_left && !merge_right)
		return NULL;
	if (merge_left && merge_right) {
		unsigned long end = next->vm_end;

		dup_anon_vma(prev, next->anon_vma ? next : mid);
		vma_unlink_free(mm, mid);
		vma_unlink_free(mm, next);
		vma_set_range(prev, prev->vm_start, end, prev->vm_pgoff);
		return prev;
	}
	if (merge_left) {
		dup_anon_vma(prev, mid);
		if (right) {
			vma_unlink_free(mm, mid);
		} else {
			vma_set_range(mid, g->end, mid->vm_end, mid->vm_pgoff +
			    ((g->end - mid->vm_start) >> AS_PAGE_SHIFT));
		}
		vma_set_range(prev, prev->vm_start, g->end, prev->vm_pgoff);
		return prev;
	}
	dup_anon_vma(next, mid);
	if (left) {
		vma_unlink_free(mm, mid);
	} else {
		vma_set_range(mid, mid->vm_start, g->start, mid->vm_pgoff);
	}
	vma_set_range(next, g->start, next->vm_end, g->pgoff);
	return next;
}

/*
 * vma_modify_flags(): give [start, end) of vma (prev is the VMA before
 * start, or vma itself when start is inside it) new_flags, merging or
 * splitting as needed.  Returns the VMA now covering start, or ERR_PTR.
 */
struct vma *vma_modify_flags(struct vma *prev, struct vma *vma,
    unsigned long start, unsigned long end, unsigned long new_flags)
{
	struct vmg g = {
		.prev = prev != vma ? prev : NULL, .middle = vma,
		.start = start, .end = end, .flags = new_flags,
		.file = vma->vm_file, .anon_vma = vma->anon_vma,
		.pgoff = vma->vm_pgoff +
		    ((start - vma->vm_start) >> AS_PAGE_SHIFT),
	};
	struct vma *merged = vma_merge_existing_range(&g);
	int err;

	if (merged != NULL)
		return merged;
	if (vma->vm_start < start && (err = split_vma(vma, start, 1)) != 0)
		return ERR_PTR(err);
	if (vma->vm_end > end && (err = split_vma(vma, end, 0)) != 0)
		return ERR_PTR(err);
	return vma;
}

/*
 * vma_merge_new_range(): a range about to be mapped, [start, end) between
 * prev and next, merges into them when it can.  Returns the VMA that now
 * covers it, or NULL when a new VMA is needed.
 */
struct vma *vma_merge_new_range(struct mm *mm, struct vma *prev,
    struct vma *next, unsigned long start, unsigned long end,
    unsigned long flags, struct file *file, unsigned long pgoff,
    struct anon_vma *anon_vma, struct vma *copied_from)
{
	struct vmg g = { .prev = prev, .next = next, .start = start,
	    .end = end, .flags = flags, .file = file, .pgoff = pgoff,
	    .copied_from = copied_from, .anon_vma = anon_vma };
	bool left, right;
	struct vma *target;

	if ((flags & VM_SPECIAL) || (prev == NULL && next == NULL)) {
		explain_merge(&g, "vma_merge_new_range", false, false);
		return NULL;
	}
	left = can_vma_merge_left(&g);
	right = can_vma_merge_right(&g, left);
	if (left && right && !can_merge_remove_vma(next))
		right = false;	/* merge with prev only */
	explain_merge(&g, "vma_merge_new_range", left, right);
	if (!left && !right)
		return NULL;
	target = left ? prev : next;
	dup_anon_vma(target, copied_from);	/* it may be next, freed below */
	if (left && right) {
		dup_anon_vma(prev, next);
		end = next->vm_end;
		vma_unlink_free(mm, next);
	} else if (right) {
		end = next->vm_end;
	}
	vma_set_range(target, left ? prev->vm_start : start, end,
	    left ? prev->vm_pgoff : pgoff);
	return target;
}

/* vma_merge_extend(): grow vma by delta at its end, merging with next. */
struct vma *vma_merge_extend(struct vma *vma, unsigned long delta)
{
	unsigned long start = vma->vm_end;
	struct vma *next = vma->vm_next;

	if (next != NULL && next->vm_start > start + delta)
		next = NULL;
	return vma_merge_new_range(vma->vm_mm, vma, next, start, start + delta,
	    vma->vm_flags, vma->vm_file,
	    vma->vm_pgoff + vma_pages(vma), vma->anon_vma, NULL);
}

/*
 * copy_vma(): for mremap, a copy of *vmap's [addr of the source] placed at
 * [addr, addr + len) with file offset pgoff, merged with neighbours when
 * possible.  If the source itself was merged into the copy, *vmap is
 * updated.  Returns NULL on failure.
 */
struct vma *copy_vma(struct vma **vmap, unsigned long addr,
    unsigned long len, unsigned long pgoff)
{
	struct vma *vma = *vmap, *prev, *next, *new;
	unsigned long vma_start = vma->vm_start;
	struct mm *mm = vma->vm_mm;

	/* An unfaulted anonymous VMA takes the offset of its new place. */
	if (vma_is_anonymous(vma) && vma->anon_vma == NULL)
		pgoff = addr >> AS_PAGE_SHIFT;
	next = find_vma_prev(mm, addr, &prev);
	if (next != NULL && next->vm_start < addr + len)
		return NULL;
	new = vma_merge_new_range(mm, prev, next, addr, addr + len,
	    vma->vm_flags, vma->vm_file, pgoff, vma->anon_vma, vma);
	if (new != NULL) {
		if (vma_start >= new->vm_start && vma_start < new->vm_end)
			*vmap = new;
		return new;
	}
	if ((new = vm_area_dup(vma)) == NULL)
		return NULL;
	new->vm_start = addr;
	new->vm_end = addr + len;
	new->vm_pgoff = pgoff;
	vma_link(mm, new);
	return new;
}

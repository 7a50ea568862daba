/*
 * vma_iter.c: the mm's VMA index on the maple tree: inserting, erasing and
 * moving VMAs (keeping the vm_prev/vm_next list, see vma_iter.h), find_vma
 * and the gap searches of get_unmapped_area.
 *
 * The gap searches are the kernel's unmapped_area{,_topdown}(): the tree
 * finds a free range holding length + align_mask bytes (mas_empty_area
 * {,_rev}()), then the VMA after it is looked at: when its stack guard gap
 * eats into the range so that it no longer fits, the search goes on past
 * that range.  A raw free range is never smaller than the gap it holds,
 * so no fitting gap is skipped and the answers are those of the
 * augmented rbtree this replaced, to the byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vma_iter.h"

#define NO_ADDR ((unsigned long)-ENOMEM)

/* models mt_init_flags(&mm->mm_mt, MM_MT_FLAGS). */
void vma_mt_init(struct maple_tree *mt)
{
	mt_init_flags(mt, MM_MT_FLAGS);
}

/* models __mt_destroy(). */
void vma_mt_destroy(struct maple_tree *mt)
{
	__mt_destroy(mt);
	mt->first = mt->last = NULL;
	mt->count = 0;
}

/* The mm's writes are preallocated in the kernel and cannot fail here but
 * for the heap itself: give up as the kernel's BUG() would. */
static void vma_mas_write(struct ma_state *mas, struct vma *vma)
{
	if (mas_store_gfp(mas, vma, GFP_KERNEL) != 0) {
		fprintf(stderr, "aspace: out of memory for maple nodes\n");
		abort();
	}
}

/* vma_mas_write() over [start, last], walked from the root. */
static void vma_mas_store(struct ma_state *mas, unsigned long start,
    unsigned long last, struct vma *vma)
{
	mas_set_range(mas, start, last);
	vma_mas_write(mas, vma);
}

/* vma_mas_store() from a state of its own. */
static void vma_mt_store(struct maple_tree *mt, unsigned long start,
    unsigned long last, struct vma *vma)
{
	MA_STATE(mas, mt, start, last);

	vma_mas_store(&mas, start, last, vma);
}

/* Link v into the list between prev and next (either may be NULL). */
static void vma_list_link(struct maple_tree *mt, struct vma *v,
    struct vma *prev, struct vma *next)
{
	v->vm_prev = prev;
	v->vm_next = next;
	if (prev)
		prev->vm_next = v;
	else
		mt->first = v;
	if (next)
		next->vm_prev = v;
	else
		mt->last = v;
	mt->count++;
}

/* Unlink v from the list. */
static void vma_list_unlink(struct maple_tree *mt, struct vma *v)
{
	if (v->vm_prev)
		v->vm_prev->vm_next = v->vm_next;
	else
		mt->first = v->vm_next;
	if (v->vm_next)
		v->vm_next->vm_prev = v->vm_prev;
	else
		mt->last = v->vm_prev;
	v->vm_prev = v->vm_next = NULL;
	mt->count--;
}

/* models vma_iter_store_new() (vma_link()'s part): from where mas is
 * when it is still on the leaf of the VMA's range, else from the root. */
void vma_mt_insert_at(struct ma_state *mas, struct vma *vma)
{
	struct vma *next;

	__mas_set_range(mas, vma->vm_start, vma->vm_end - 1);
	vma_mas_write(mas, vma);
	next = mas_next(mas, ULONG_MAX);
	vma_list_link(mas->tree, vma, next ? next->vm_prev : mas->tree->last,
	    next);
}

/* vma_mt_insert_at() from the root. */
void vma_mt_insert(struct maple_tree *mt, struct vma *vma)
{
	MA_STATE(mas, mt, 0, 0);

	vma_mt_insert_at(&mas, vma);
}

/* Where the tree holds vma now (its bounds may have moved since): set
 * mas on its slot; false when nothing of it is left in the tree. */
static bool vma_mt_locate(struct maple_tree *mt, struct vma *vma,
    struct ma_state *mas)
{
	struct vma *e;

	mas_set(mas, vma->vm_start);
	if (mas_walk(mas) == vma)
		return true;
	mas_set(mas, vma->vm_end - 1);
	if (mas_walk(mas) == vma)
		return true;
	mas_set(mas, vma->vm_prev ? vma->vm_prev->vm_start : 0);
	while ((e = mas_find(mas, ULONG_MAX)) != NULL)
		if (e == vma)
			return true;
		else if (e == vma->vm_next)
			break;
	return false;
}

/* models vma_iter_clear_gfp() for a VMA going (remove_vma()'s part): no
 * walk when mas is still on the VMA (munmap's vma_find() left it there),
 * one when the tree holds it at its vm_start, as it should. */
void vma_mt_erase_at(struct ma_state *mas, struct vma *vma)
{
	struct maple_tree *mt = mas->tree;
	struct vma *e;

	if (mas->status != ma_active || mas->index != vma->vm_start)
		mas_set(mas, vma->vm_start);
	if ((e = mas_erase(mas)) != vma) {
		if (e != NULL)	/* not its slot: put that back */
			vma_mas_store(mas, mas->index, mas->last, e);
		if (vma_mt_locate(mt, vma, mas))
			vma_mas_store(mas, mas->index, mas->last, NULL);
	}
	vma_list_unlink(mt, vma);
}

/* vma_mt_erase_at() from the root. */
void vma_mt_erase(struct maple_tree *mt, struct vma *vma)
{
	MA_STATE(mas, mt, vma->vm_start, vma->vm_start);

	vma_mt_erase_at(&mas, vma);
}

/* models vma_iter_store() after vma_set_range(): the tree follows the
 * VMA's new bounds, with one store for a VMA that only grew or only shrank
 * at one end (a split, a merge, a stack growing). */
void vma_mt_adjust(struct maple_tree *mt, struct vma *vma)
{
	MA_STATE(mas, mt, 0, 0);
	unsigned long start = vma->vm_start, last = vma->vm_end - 1;
	unsigned long os = start, oe = last;
	bool found = vma_mt_locate(mt, vma, &mas);

	if (found) {
		os = mas.index;
		oe = mas.last;
		if (os == start && oe == last)
			return;
	}
	if (!found || start < os || last > oe)
		vma_mas_store(&mas, start, last, vma);
	if (found && os < start)
		vma_mas_store(&mas, os, start - 1, NULL);
	if (found && oe > last)
		vma_mas_store(&mas, last + 1, oe, NULL);
}

/* models __mt_dup(&oldmm->mm_mt, &mm->mm_mt). */
int vma_mt_dup(struct maple_tree *old, struct maple_tree *new)
{
	return __mt_dup(old, new, GFP_KERNEL);
}

/* models vma_iter_bulk_store(). */
void vma_mt_bulk_store(struct maple_tree *mt, struct vma *vma)
{
	mas_replace_entry(mt, vma->vm_start, vma);
	vma_list_link(mt, vma, mt->last, NULL);
}

/* models vma_iter_clear_gfp(). */
void vma_mt_clear(struct maple_tree *mt, unsigned long start,
    unsigned long end)
{
	vma_mt_store(mt, start, end - 1, NULL);
}

/* models find_vma_prev()'s search: the last VMA starting below addr. */
struct vma *vma_mt_find_before(struct maple_tree *mt, unsigned long addr)
{
	MA_STATE(mas, mt, addr - 1, addr - 1);

	if (addr == 0)
		return NULL;
	return mas_find_rev(&mas, 0);
}

/* A search for need bytes of a gap inside [lo, hi). */
struct vma_gap_query {
	unsigned long need, lo, hi;
};

/* The query of a gap search; false when nothing can fit (length plus
 * the alignment slack overflowing, or limits too close). */
static bool vma_gap_init(struct vma_gap_query *q, unsigned long length,
    unsigned long lo, unsigned long hi, unsigned long align_mask)
{
	q->need = length + align_mask;
	q->lo = lo;
	q->hi = hi;
	return q->need >= length && hi >= lo && hi - lo >= q->need;
}

/* Does the gap [start, end) hold need bytes inside the limits? */
static bool vma_gap_fits(unsigned long start, unsigned long end,
    const struct vma_gap_query *q)
{
	if (start < q->lo)
		start = q->lo;
	if (end > q->hi)
		end = q->hi;
	return end >= start && end - start >= q->need;
}

/* The gap whose free range the state is on (mas_empty_area{,_rev}()
 * left it there): its start and (guard gap included) end; the free
 * range's last address into *last. */
static void vma_gap_at(struct ma_state *mas, unsigned long *start,
    unsigned long *end, unsigned long *last)
{
	struct vma *next;

	*start = 0;
	*last = *end = ULONG_MAX;
	if (mas->status != ma_active)
		return;		/* an empty tree */
	mas_slot_range(mas, start, last);
	if (*last != ULONG_MAX && (next = mas_next(mas, ULONG_MAX)) != NULL)
		*end = vm_start_gap(next);
}

/* A gap of need 0 may be empty, which the tree does not hold: step along
 * the list (only a zero-length request, which mmap refuses earlier). */
static bool vma_gap_linear(struct maple_tree *mt, struct vma_gap_query *q,
    bool top, unsigned long *start, unsigned long *end)
{
	struct vma *v = top ? mt->last : mt->first, *p;

	if (top && vma_gap_fits(v ? vm_end_gap(v) : 0, ULONG_MAX, q)) {
		*start = v ? vm_end_gap(v) : 0;
		*end = ULONG_MAX;
		return true;
	}
	for (; v != NULL; v = top ? v->vm_prev : v->vm_next) {
		p = v->vm_prev;
		*start = p ? vm_end_gap(p) : 0;
		*end = vm_start_gap(v);
		if (vma_gap_fits(*start, *end, q))
			return true;
	}
	*start = mt->last ? vm_end_gap(mt->last) : 0;
	*end = ULONG_MAX;
	return !top && vma_gap_fits(*start, *end, q);
}

/* The highest (top) or lowest fitting gap: [*start, *end). */
static bool vma_gap_find(struct maple_tree *mt, struct vma_gap_query *q,
    bool top, unsigned long *start, unsigned long *end)
{
	struct vma_gap_query w = *q;
	MA_STATE(mas, mt, 0, 0);
	unsigned long last;

	if (q->need == 0)
		return vma_gap_linear(mt, q, top, start, end);
	while (w.hi >= w.lo && w.hi - w.lo >= w.need) {
		if ((top ? mas_empty_area_rev(&mas, w.lo, w.hi - 1, w.need) :
		    mas_empty_area(&mas, w.lo, w.hi - 1, w.need)) != 0)
			return false;
		vma_gap_at(&mas, start, end, &last);
		if (vma_gap_fits(*start, *end, q))
			return true;
		if (top)
			w.hi = *start;
		else if ((w.lo = last + 1) == 0)
			return false;	/* it was the last gap */
	}
	return false;
}

/* models unmapped_area_topdown(). */
unsigned long vma_mt_gap_topdown(struct maple_tree *mt,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset)
{
	struct vma_gap_query q;
	unsigned long start, end, addr;

	if (!vma_gap_init(&q, length, low_limit, high_limit, align_mask) ||
	    !vma_gap_find(mt, &q, true, &start, &end))
		return NO_ADDR;
	if (end > high_limit)
		end = high_limit;
	addr = end - length;
	return addr - ((addr - align_offset) & align_mask);
}

/* models unmapped_area(). */
unsigned long vma_mt_gap_bottomup(struct maple_tree *mt,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset)
{
	struct vma_gap_query q;
	unsigned long start, end;

	if (!vma_gap_init(&q, length, low_limit, high_limit, align_mask) ||
	    !vma_gap_find(mt, &q, false, &start, &end))
		return NO_ADDR;
	if (start < low_limit)
		start = low_limit;
	return start + ((align_offset - start) & align_mask);
}

/* vma_mt_validate(). */
const char *vma_mt_validate(struct maple_tree *mt)
{
	const char *err = mt_validate(mt);
	MA_STATE(mas, mt, 0, 0);
	struct vma *v, *want = mt->first, *prev = NULL;
	unsigned long n = 0;

	if (err != NULL)
		return err;
	while ((v = mas_find(&mas, ULONG_MAX)) != NULL) {
		if (v != want)
			return "tree and vm_next list disagree";
		if (v->vm_prev != prev)
			return "vm_prev is not the previous VMA";
		if (mas.index != v->vm_start || mas.last != v->vm_end - 1)
			return "a VMA's range in the tree is not its own";
		if (++n > mt->count)
			return "more VMAs in the tree than count";
		prev = v;
		want = v->vm_next;
	}
	if (want != NULL || n != mt->count)
		return "fewer VMAs in the tree than in the list";
	if (mt->last != prev)
		return "last is not the highest VMA";
	return NULL;
}

/* Names a VMA by its range. */
static void vma_mt_name(const void *entry, char *buf, size_t len)
{
	const struct vma *v = entry;

	snprintf(buf, len, "vma %lx-%lx", v->vm_start, v->vm_end);
}

/* vma_mt_dump(). */
void vma_mt_dump(const struct maple_tree *mt, FILE *out, bool json)
{
	mt_dump(mt, out, json, vma_mt_name);
}

/*
 * madvise.c: advice on a range (mm/madvise.c).  The VMA-flag advices split
 * and merge VMAs like mprotect; unlike mprotect, holes in the range are
 * skipped and reported as ENOMEM at the end, and a failed split (the
 * map-count limit) reads EAGAIN.
 */
#include "mm.h"

static bool madvise_behavior_valid(int behavior)
{
	switch (behavior) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_WILLNEED: case MADV_DONTNEED: case MADV_DONTFORK:
	case MADV_DOFORK: case MADV_DONTDUMP: case MADV_DODUMP:
		return true;
	default:
		return false;
	}
}

/* madvise_new_flags(): the VMA flags an advice asks for; -EINVAL if none. */
static int madvise_new_flags(const struct vma *vma, int behavior,
    unsigned long *flags)
{
	unsigned long f = vma->vm_flags;

	switch (behavior) {
	case MADV_NORMAL:	f &= ~(VM_RAND_READ | VM_SEQ_READ); break;
	case MADV_SEQUENTIAL:	f = (f & ~VM_RAND_READ) | VM_SEQ_READ; break;
	case MADV_RANDOM:	f = (f & ~VM_SEQ_READ) | VM_RAND_READ; break;
	case MADV_DONTFORK:	f |= VM_DONTCOPY; break;
	case MADV_DOFORK:
		if (f & VM_IO)
			return -EINVAL;
		f &= ~VM_DONTCOPY;
		break;
	case MADV_DONTDUMP:	f |= VM_DONTDUMP; break;
	case MADV_DODUMP:
		if (f & VM_SPECIAL)
			return -EINVAL;
		f &= ~VM_DONTDUMP;
		break;
	default:
		return -EINVAL;
	}
	*flags = f;
	return 0;
}

/* models madvise_dontneed_free(): zap the range; locked VMAs refuse. */
static int madvise_dontneed(struct vma *vma, unsigned long start,
    unsigned long end)
{
	if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP))
		return -EINVAL;
	zap_page_range(vma, start, end);
	return 0;
}

/* madvise_vma_behavior(): apply one advice to [start, end) of vma. */
static int madvise_vma_behavior(struct vma *vma, struct vma **prev,
    unsigned long start, unsigned long end, int behavior)
{
	unsigned long new_flags;
	int err;

	if (behavior == MADV_WILLNEED) {
		*prev = vma;
		return 0;	/* readahead or swap-in: no visible effect */
	}
	if (behavior == MADV_DONTNEED) {
		*prev = vma;
		return madvise_dontneed(vma, start, end);
	}
	if ((err = madvise_new_flags(vma, behavior, &new_flags)) != 0)
		return err;
	if (new_flags == vma->vm_flags) {
		*prev = vma;
		return 0;
	}
	vma = vma_modify_flags(*prev, vma, start, end, new_flags);
	if (IS_ERR(vma))
		return PTR_ERR(vma) == -ENOMEM ? -EAGAIN : (int)PTR_ERR(vma);
	*prev = vma;
	vma->vm_flags = new_flags;
	return 0;
}

/* madvise_walk_vmas(): every VMA piece in [start, end), holes skipped. */
static int madvise_walk_vmas(struct mm *mm, unsigned long start,
    unsigned long end, int behavior)
{
	struct vma *prev, *vma = find_vma_prev(mm, start, &prev);
	unsigned long tmp;
	int unmapped_error = 0, error;

	if (vma != NULL && start > vma->vm_start)
		prev = vma;
	for (;;) {
		if (vma == NULL)
			return -ENOMEM;
		if (start < vma->vm_start) {
			unmapped_error = -ENOMEM;
			start = vma->vm_start;
			if (start >= end)
				break;
		}
		tmp = vma->vm_end < end ? vma->vm_end : end;
		error = madvise_vma_behavior(vma, &prev, start, tmp, behavior);
		if (error)
			return error;
		start = tmp;
		if (prev != NULL && start < prev->vm_end)
			start = prev->vm_end;
		if (start >= end)
			break;
		vma = prev != NULL ? find_vma(mm, prev->vm_end) :
		    find_vma(mm, start);
	}
	return unmapped_error;
}

/* madvise(2). */
int sys_madvise(struct mm *mm, unsigned long start, unsigned long len_in,
    int behavior)
{
	unsigned long len, end;
	int ret;

	if (!madvise_behavior_valid(behavior))
		return -EINVAL;
	if (as_offset_in_page(start))
		return -EINVAL;
	len = AS_PAGE_ALIGN(len_in);
	if (len_in && !len)
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	mmap_write_lock(mm);
	ret = madvise_walk_vmas(mm, start, end, behavior);
	mmap_write_unlock(mm);
	return ret;
}

/*
 * mlock.c: locking ranges in memory (mm/mlock.c).  VM_LOCKED splits and
 * merges VMAs like any flag; a hole anywhere in the range is ENOMEM (the
 * VMAs before it stay changed), and mlock then faults the range in.
 */
#include "explain.h"
#include "mm.h"

/* mlock_fixup(): set or clear VM_LOCKED on [start, end) of vma. */
static int mlock_fixup(struct mm *mm, struct vma *vma, struct vma **prev,
    unsigned long start, unsigned long end, unsigned long newflags)
{
	unsigned long oldflags = vma->vm_flags;
	long nr_pages;

	if (newflags == oldflags || (oldflags & VM_SPECIAL)) {
		*prev = vma;
		return 0;
	}
	vma = vma_modify_flags(*prev, vma, start, end, newflags);
	if (IS_ERR(vma)) {
		*prev = NULL;
		return (int)PTR_ERR(vma);
	}
	nr_pages = (long)((end - start) >> AS_PAGE_SHIFT);
	if (!(newflags & VM_LOCKED))
		nr_pages = -nr_pages;
	else if (oldflags & VM_LOCKED)
		nr_pages = 0;
	mm->locked_vm += nr_pages;
	vma->vm_flags = newflags;
	*prev = vma;
	explain_op("mlock_fixup 0x%lx-0x%lx: VM_LOCKED %s", start, end,
	    newflags & VM_LOCKED ? "set" : "cleared");
	return 0;
}

/* apply_vma_lock_flags(): walk [start, start + len) setting flags. */
static int apply_vma_lock_flags(struct mm *mm, unsigned long start,
    unsigned long len, unsigned long flags)
{
	unsigned long end = start + len, nstart = start, tmp, newflags;
	struct vma *vma, *prev, *next;
	int error;

	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if ((vma = vma_lookup(mm, start)) == NULL)
		return -ENOMEM;
	prev = start > vma->vm_start ? vma : vma->vm_prev;
	for (tmp = vma->vm_start; vma != NULL && vma->vm_start < end;
	    vma = next) {
		if (vma->vm_start != tmp) {
			explain_op("mlock: hole at 0x%lx: -ENOMEM, the VMAs "
			    "before it stay changed", tmp);
			return -ENOMEM;
		}
		newflags = (vma->vm_flags & ~VM_LOCKED_MASK) | flags;
		tmp = vma->vm_end < end ? vma->vm_end : end;
		error = mlock_fixup(mm, vma, &prev, nstart, tmp, newflags);
		if (error)
			return error;
		tmp = prev->vm_end;
		nstart = tmp;
		next = prev->vm_next;
	}
	if (tmp < end)
		explain_op("mlock: hole at 0x%lx: -ENOMEM", tmp);
	return tmp < end ? -ENOMEM : 0;
}

/* count_mm_mlocked_page_nr(): pages of [start, start + len) locked
 * already, which a new mlock() of the range does not charge again. */
static unsigned long count_mm_mlocked_page_nr(struct mm *mm,
    unsigned long start, unsigned long len)
{
	unsigned long end = ~0UL - len < start ? ~0UL : start + len;
	unsigned long count = 0;
	struct vma *vma;

	for (vma = find_vma_intersection(mm, start, end); vma != NULL &&
	    vma->vm_start < end; vma = vma->vm_next) {
		if (!(vma->vm_flags & VM_LOCKED))
			continue;
		if (start > vma->vm_start)
			count -= start - vma->vm_start;
		if (end < vma->vm_end)
			return (count + end - vma->vm_start) >> AS_PAGE_SHIFT;
		count += vma->vm_end - vma->vm_start;
	}
	return count >> AS_PAGE_SHIFT;
}

/* do_mlock(): mlock(2) without the populate step's error mapping. */
static int do_mlock(struct mm *mm, unsigned long start, unsigned long len)
{
	const struct as_limits *l = &mm->session->limits;
	unsigned long locked, lock_limit = l->rlimit_memlock >> AS_PAGE_SHIFT;
	int error = -ENOMEM;

	if (!can_do_mlock(mm))
		return -EPERM;
	len = AS_PAGE_ALIGN(len + as_offset_in_page(start));
	start &= AS_PAGE_MASK;
	mmap_write_lock(mm);
	locked = (len >> AS_PAGE_SHIFT) + mm->locked_vm;
	if (locked > lock_limit && !l->cap_ipc_lock)
		locked -= count_mm_mlocked_page_nr(mm, start, len);
	if (locked <= lock_limit || l->cap_ipc_lock)
		error = apply_vma_lock_flags(mm, start, len, VM_LOCKED);
	else
		explain_op("mlock: %lu pages over RLIMIT_MEMLOCK (%lu): "
		    "-ENOMEM", locked, lock_limit);
	mmap_write_unlock(mm);
	if (error)
		return error;
	error = __mm_populate(mm, start, len, 0);
	explain_op("__mm_populate 0x%lx-0x%lx: every page faulted in now",
	    start, start + len);
	/* __mlock_posix_error_return() */
	if (error == -EFAULT)
		return -ENOMEM;
	if (error == -ENOMEM)
		return -EAGAIN;
	return error;
}

/* mlock(2). */
int sys_mlock(struct mm *mm, unsigned long start, unsigned long len)
{
	return do_mlock(mm, start, len);
}

/* munlock(2). */
int sys_munlock(struct mm *mm, unsigned long start, unsigned long len)
{
	int ret;

	len = AS_PAGE_ALIGN(len + as_offset_in_page(start));
	start &= AS_PAGE_MASK;
	mmap_write_lock(mm);
	ret = apply_vma_lock_flags(mm, start, len, 0);
	mmap_write_unlock(mm);
	return ret;
}

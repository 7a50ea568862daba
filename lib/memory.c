/*
 * memory.c: the page-fault path (mm/memory.c, mm/gup.c).
 *
 * This model has no page tables yet: a fault decides what Linux's
 * would decide about the VMA (anon_vma preparation, SIGBUS past the end of
 * a file), which is all that VMA merging and mlock/MAP_POPULATE results
 * depend on.  Page tables and frames replace the body of handle_mm_fault()
 * in the next step without changing its callers.
 */
#include "mm.h"

#define FAULT_FLAG_WRITE	0x01
#define VM_FAULT_SIGBUS		0x02

/* file_page_in_eof(): does page index pgoff lie inside the file? */
static bool file_page_in_eof(const struct as_file *f, unsigned long pgoff)
{
	return pgoff < (f->size + AS_PAGE_SIZE - 1) >> AS_PAGE_SHIFT;
}

/* handle_mm_fault(): resolve a fault at addr in vma; 0 or VM_FAULT_*. */
static int handle_mm_fault(struct vma *vma, unsigned long addr, int flags)
{
	unsigned long pgoff = vma->vm_pgoff +
	    ((addr - vma->vm_start) >> AS_PAGE_SHIFT);
	bool cow = (flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED);

	/* do_anonymous_page() and do_cow_fault() prepare the anon_vma first */
	if (cow && anon_vma_prepare(vma) != 0)
		return VM_FAULT_SIGBUS;
	if (vma->vm_file != NULL && !file_page_in_eof(vma->vm_file, pgoff))
		return VM_FAULT_SIGBUS;
	return 0;
}

/*
 * populate_vma_page_range(): fault in [start, end) of vma as gup would;
 * returns the number of pages done, or -EFAULT if none could be.
 */
long populate_vma_page_range(struct vma *vma, unsigned long start,
    unsigned long end)
{
	unsigned long nr = (end - start) >> AS_PAGE_SHIFT, i;
	int flags = 0;

	if (vma->vm_flags & VM_LOCKONFAULT)
		return (long)nr;
	/* Writable private mappings are faulted for writing to break COW. */
	if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return -EFAULT;		/* PROT_NONE cannot be populated */
	for (i = 0; i < nr; i++)
		if (handle_mm_fault(vma, start + (i << AS_PAGE_SHIFT), flags))
			break;
	return i == 0 ? -EFAULT : (long)i;
}

/* __mm_populate(): fault in every VMA in [start, start + len). */
int __mm_populate(struct mm *mm, unsigned long start, unsigned long len,
    int ignore_errors)
{
	unsigned long end = start + len, nstart, nend;
	struct vma *vma = NULL;
	long ret = 0;

	mmap_read_lock(mm);
	for (nstart = start; nstart < end; nstart = nend) {
		if (vma == NULL)
			vma = find_vma_intersection(mm, nstart, end);
		else if (nstart >= vma->vm_end)
			vma = find_vma_intersection(mm, vma->vm_end, end);
		if (vma == NULL)
			break;
		nend = end < vma->vm_end ? end : vma->vm_end;
		if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			continue;
		if (nstart < vma->vm_start)
			nstart = vma->vm_start;
		ret = populate_vma_page_range(vma, nstart, nend);
		if (ret < 0) {
			if (ignore_errors) {
				ret = 0;
				continue;
			}
			break;
		}
		nend = nstart + ((unsigned long)ret << AS_PAGE_SHIFT);
		ret = 0;
	}
	mmap_read_unlock(mm);
	return (int)ret;
}

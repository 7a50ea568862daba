/*
 * msync.c: msync(2) (mm/msync.c).
 *
 * MS_SYNC writes the dirty pages of each shared file mapping in the
 * range back (vfs_fsync_range(), page-writeback.c); MS_ASYNC does nothing
 * (since Linux 2.6.19 dirty pages are tracked by the kernel anyway);
 * MS_INVALIDATE only refuses a locked VMA.  A hole in the range is
 * -ENOMEM, but only at the end: the loop syncs what is mapped first, as
 * Linux's does.
 */
#include "mm.h"

/* models SYSCALL_DEFINE3(msync): the checks and the loop of Linux 6.18. */
int sys_msync(struct mm *mm, unsigned long start, unsigned long len,
    int flags)
{
	unsigned long end, fstart, fend;
	struct vma *vma;
	struct file *file;
	int unmapped_error = 0, error = -EINVAL;

	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		goto out;
	if (as_offset_in_page(start))
		goto out;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		goto out;
	error = -ENOMEM;
	len = (len + ~AS_PAGE_MASK) & AS_PAGE_MASK;
	end = start + len;
	if (end < start)
		goto out;
	error = 0;
	if (end == start)
		goto out;
	/* A hole in [start, end) is skipped but makes the answer -ENOMEM;
	 * with MS_ASYNC alone it would be -ENOMEM anyway, so it stops. */
	mmap_read_lock(mm);
	vma = find_vma(mm, start);
	for (;;) {
		error = -ENOMEM;
		if (vma == NULL)
			goto out_unlock;
		if (start < vma->vm_start) {
			if (flags == MS_ASYNC)
				goto out_unlock;
			start = vma->vm_start;
			if (start >= end)
				goto out_unlock;
			unmapped_error = -ENOMEM;
		}
		if ((flags & MS_INVALIDATE) && (vma->vm_flags & VM_LOCKED)) {
			error = -EBUSY;
			goto out_unlock;
		}
		file = vma->vm_file;
		fstart = (start - vma->vm_start) +
		    (vma->vm_pgoff << AS_PAGE_SHIFT);
		fend = fstart + ((end < vma->vm_end ? end : vma->vm_end) -
		    start) - 1;
		start = vma->vm_end;
		if ((flags & MS_SYNC) && file != NULL &&
		    (vma->vm_flags & VM_SHARED)) {
			/* The lock is dropped for the writeback, as Linux
			 * does; the VMA is looked up again after it. */
			get_file(file);
			mmap_read_unlock(mm);
			error = vfs_fsync_range(mm->session, file, fstart,
			    fend);
			fput(mm->session, file);
			if (error != 0 || start >= end)
				goto out;
			mmap_read_lock(mm);
			vma = find_vma(mm, start);
		} else {
			if (start >= end) {
				error = 0;
				goto out_unlock;
			}
			vma = find_vma(mm, vma->vm_end);
		}
	}
out_unlock:
	mmap_read_unlock(mm);
out:
	return error != 0 ? error : unmapped_error;
}

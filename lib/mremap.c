/*
 * mremap.c: resizing and moving mappings (mm/mremap.c, Linux 6.18).
 *
 * The shape follows the kernel's struct vma_remap_struct: parameters are
 * checked, the source VMA found and checked (check_prep_vma), then the
 * request is a no-op, a shrink, an in-place expansion, or a move; a fixed
 * move of equal length may span several VMAs, keeping the gaps between
 * them (remap_move).
 */
#include "explain.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"

enum mremap_type { MREMAP_INVALID, MREMAP_NO_RESIZE, MREMAP_SHRINK,
    MREMAP_EXPAND };

struct vma_remap_struct {
	struct mm	*mm;
	unsigned long	 addr, old_len, new_len, flags, new_addr;
	struct vma	*vma;
	unsigned long	 delta;
	enum mremap_type remap_type;
	bool		 populate_expand;
};

static bool vrm_implies_new_addr(const struct vma_remap_struct *vrm)
{
	return vrm->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
}

/* check_mremap_params(): what can be refused before looking at VMAs. */
static unsigned long check_mremap_params(struct vma_remap_struct *vrm)
{
	const struct mm *mm = vrm->mm;

	if (vrm->flags & ~(unsigned long)(MREMAP_FIXED | MREMAP_MAYMOVE |
	    MREMAP_DONTUNMAP))
		return -EINVAL;
	if (as_offset_in_page(vrm->addr) || vrm->new_len == 0 ||
	    vrm->new_len > mm->task_size)
		return -EINVAL;
	if (!vrm_implies_new_addr(vrm))
		return 0;
	if (vrm->new_addr > mm->task_size - vrm->new_len ||
	    as_offset_in_page(vrm->new_addr) ||
	    !(vrm->flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((vrm->flags & MREMAP_DONTUNMAP) && vrm->old_len != vrm->new_len)
		return -EINVAL;
	/* vrm_overlaps(): source and destination may not overlap. */
	if (vrm->addr + vrm->old_len > vrm->new_addr &&
	    vrm->new_addr + vrm->new_len > vrm->addr)
		return -EINVAL;
	return 0;
}

/*
 * models check_mremap_params()'s last check, room for both VMAs of a move to be
 * split in three.  Linux makes it before taking mmap_lock, reading
 * map_count unlocked; here it is made just after, so that no thread
 * reads map_count while another changes it.  The errno order is Linux's.
 */
static unsigned long check_map_count(const struct vma_remap_struct *vrm)
{
	const struct mm *mm = vrm->mm;

	if (vrm_implies_new_addr(vrm) &&
	    mm->map_count + 2 >= mm->session->limits.max_map_count - 3)
		return -ENOMEM;
	return 0;
}

/* check_prep_vma(): may this VMA be resized or moved as asked? */
static int check_prep_vma(struct vma_remap_struct *vrm)
{
	struct vma *vma = vrm->vma;
	unsigned long old_len = vrm->old_len, new_len = vrm->new_len, pgoff;

	if (vma == NULL)
		return -EFAULT;
	vrm->delta = old_len > new_len ? old_len - new_len : new_len - old_len;
	vrm->remap_type = vrm->delta == 0 ? MREMAP_NO_RESIZE :
	    old_len > new_len ? MREMAP_SHRINK : MREMAP_EXPAND;
	if (!vrm_implies_new_addr(vrm))
		vrm->new_addr = vrm->addr;
	if (vrm->remap_type != MREMAP_EXPAND && !vrm_implies_new_addr(vrm))
		return 0;
	/* Old length 0 "duplicates" a mapping: only shared ones. */
	if (old_len == 0 && !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	if ((vrm->flags & MREMAP_DONTUNMAP) &&
	    (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return -EINVAL;
	if (vrm->remap_type == MREMAP_SHRINK)
		old_len = new_len;
	if (old_len > vma->vm_end - vrm->addr)
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	if (vma->vm_flags & VM_LOCKED)
		vrm->populate_expand = true;
	pgoff = vma->vm_pgoff + ((vrm->addr - vma->vm_start) >> AS_PAGE_SHIFT);
	if (pgoff + (new_len >> AS_PAGE_SHIFT) < pgoff)
		return -EINVAL;
	if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
		return -EFAULT;
	if (!mlock_future_ok(vrm->mm, vma->vm_flags & VM_LOCKED, vrm->delta))
		return -EAGAIN;
	if (!may_expand_vm(vrm->mm, vma->vm_flags, vrm->delta >> AS_PAGE_SHIFT))
		return -ENOMEM;
	return 0;
}

/* vrm_calc_charge(): charge what the remap adds to accounted memory. */
static bool vrm_calc_charge(struct vma_remap_struct *vrm)
{
	unsigned long charged;

	if (!(vrm->vma->vm_flags & VM_ACCOUNT))
		return true;
	charged = (vrm->flags & MREMAP_DONTUNMAP) ? vrm->new_len : vrm->delta;
	return security_vm_enough_memory_mm(vrm->mm,
	    charged >> AS_PAGE_SHIFT) == 0;
}

/* vrm_stat_account(): total_vm etc. grow by bytes. */
static void vrm_stat_account(struct vma_remap_struct *vrm, unsigned long bytes)
{
	vm_stat_account(vrm->mm, vrm->vma->vm_flags, bytes >> AS_PAGE_SHIFT);
	if (vrm->vma->vm_flags & VM_LOCKED)
		vrm->mm->locked_vm += bytes >> AS_PAGE_SHIFT;
}

/*
 * unmap_source_vma(): unmap the old range without uncharging it: VM_ACCOUNT
 * is lifted for the unmap and put back on what remains either side.
 */
static void unmap_source_vma(struct vma_remap_struct *vrm)
{
	struct vma *vma = vrm->vma, *v;
	unsigned long addr = vrm->addr, end = addr + vrm->old_len;
	unsigned long vm_start = vma->vm_start, vm_end = vma->vm_end;
	bool accountable = (vma->vm_flags & VM_ACCOUNT) &&
	    !(vrm->flags & MREMAP_DONTUNMAP);

	if (accountable)
		vma->vm_flags &= ~VM_ACCOUNT;
	vrm->vma = NULL;
	if (do_munmap(vrm->mm, addr, vrm->old_len) != 0 || !accountable)
		return;
	if (vm_start < addr) {
		find_vma_prev(vrm->mm, addr, &v);
		if (v != NULL)
			v->vm_flags |= VM_ACCOUNT;
	}
	if (vm_end > end && (v = find_vma(vrm->mm, addr)) != NULL)
		v->vm_flags |= VM_ACCOUNT;
}

/* A page left in a VMA that loses VM_LOCKED keeps the mlock it got (the
 * kernel's PG_mlocked and mlock_count; no munlock_folio() runs), so
 * reclaim and pageout still pass it over until it is freed. */
static void keep_mlocked(void *arg, unsigned long addr, pte_t *pte)
{
	struct page *page = vm_normal_page(arg, *pte);

	(void)addr;
	if (page != NULL)
		page_set_flags(page, PG_mlocked);
}

/* dontunmap_complete(): the old VMA stays, unlocked and emptied (of what
 * moved: the rest keeps its pages, still mlocked). */
static void dontunmap_complete(struct vma_remap_struct *vrm,
    struct vma *new_vma)
{
	struct vma *vma = vrm->vma;
	unsigned long start = vrm->addr, end = start + vrm->old_len;

	if (vma->vm_flags & VM_LOCKED)
		walk_page_range(vma->vm_mm, vma->vm_start, vma->vm_end,
		    keep_mlocked, vma);
	vma->vm_flags &= ~VM_LOCKED_MASK;
	if (new_vma != vma && start == vma->vm_start && end == vma->vm_end)
		unlink_anon_vmas(vma);
}

/* move_vma(): copy the VMA to new_addr, then unmap (or keep) the old. */
static unsigned long move_vma(struct vma_remap_struct *vrm)
{
	struct mm *mm = vrm->mm;
	struct vma *vma = vrm->vma, *new_vma;
	unsigned long pgoff, moved, err = 0;

	if (mm->map_count >= mm->session->limits.max_map_count - 3)
		return -ENOMEM;
	if (!vrm_calc_charge(vrm))
		return -ENOMEM;
	pgoff = vma->vm_pgoff + ((vrm->addr - vma->vm_start) >> AS_PAGE_SHIFT);
	new_vma = copy_vma(&vma, vrm->new_addr, vrm->new_len, pgoff);
	if (new_vma == NULL)
		return -ENOMEM;
	vrm->vma = vma;
	moved = move_page_tables(vma, vrm->addr, new_vma, vrm->new_addr,
	    vrm->old_len);
	if (moved < vrm->old_len) {
		/* Out of page tables: move back, then unmap the new VMA. */
		move_page_tables(new_vma, vrm->new_addr, vma, vrm->addr, moved);
		vrm->vma = new_vma;
		vrm->addr = vrm->new_addr;
		vrm->old_len = vrm->new_len;
		err = -ENOMEM;
	}
	vrm_stat_account(vrm, vrm->new_len);
	if (err == 0)
		explain_op("move_vma: 0x%lx-0x%lx moved to 0x%lx, its page "
		    "tables moved (move_page_tables), not copied", vrm->addr,
		    vrm->addr + vrm->old_len, vrm->new_addr);
	if (err == 0 && (vrm->flags & MREMAP_DONTUNMAP))
		dontunmap_complete(vrm, new_vma);
	else
		unmap_source_vma(vrm);
	return err ? err : vrm->new_addr;
}

/* vrm_set_new_addr(): where the moved VMA goes. */
static unsigned long vrm_set_new_addr(struct vma_remap_struct *vrm)
{
	struct vma *vma = vrm->vma;
	unsigned long pgoff = vma->vm_pgoff +
	    ((vrm->addr - vma->vm_start) >> AS_PAGE_SHIFT);
	unsigned long flags = 0, res;

	if (vrm->flags & MREMAP_FIXED)
		flags |= MAP_FIXED;
	if (vma->vm_flags & VM_MAYSHARE)
		flags |= MAP_SHARED;
	res = get_unmapped_area(vrm->mm, vma->vm_file,
	    vrm_implies_new_addr(vrm) ? vrm->new_addr : 0, vrm->new_len,
	    pgoff, flags);
	if (IS_ERR_VALUE(res))
		return res;
	vrm->new_addr = res;
	return 0;
}

/* mremap_to(): move to an explicit (or DONTUNMAP-chosen) address. */
static unsigned long mremap_to(struct vma_remap_struct *vrm)
{
	struct mm *mm = vrm->mm;
	unsigned long err;

	if (vrm->flags & MREMAP_FIXED) {
		if ((err = do_munmap(mm, vrm->new_addr, vrm->new_len)) != 0)
			return err;
		if ((vrm->vma = vma_lookup(mm, vrm->addr)) == NULL)
			return -EFAULT;
	}
	if (vrm->remap_type == MREMAP_SHRINK) {
		err = do_munmap(mm, vrm->addr + vrm->new_len, vrm->delta);
		if (err != 0)
			return err;
		if ((vrm->vma = vma_lookup(mm, vrm->addr)) == NULL)
			return -EFAULT;
		vrm->old_len = vrm->new_len;
	}
	if ((vrm->flags & MREMAP_DONTUNMAP) && !may_expand_vm(mm,
	    vrm->vma->vm_flags, vrm->old_len >> AS_PAGE_SHIFT))
		return -ENOMEM;
	if ((err = vrm_set_new_addr(vrm)) != 0)
		return err;
	return move_vma(vrm);
}

/* vma_expandable(): is [vm_end, vm_end + delta) free for vma to grow? */
static bool vma_expandable(struct mm *mm, struct vma *vma, unsigned long delta)
{
	unsigned long end = vma->vm_end + delta, got;
	struct as_explain *ex;

	if (end < vma->vm_end)
		return false;
	if (find_vma_intersection(mm, vma->vm_end, end) != NULL)
		return false;
	ex = explain_pause();
	got = get_unmapped_area(mm, NULL, vma->vm_start, end - vma->vm_start, 0,
	    MAP_FIXED);
	explain_end(ex);
	return !as_offset_in_page(got);
}

/* expand_vma(): grow in place when the range ends the VMA, else move. */
static unsigned long expand_vma(struct vma_remap_struct *vrm)
{
	struct vma *vma = vrm->vma;
	unsigned long err;

	if (vma->vm_end - vrm->addr == vrm->old_len &&
	    vma_expandable(vrm->mm, vma, vrm->delta)) {
		if (!vrm_calc_charge(vrm))
			return -ENOMEM;
		if ((vrm->vma = vma_merge_extend(vma, vrm->delta)) == NULL)
			return -ENOMEM;
		vrm_stat_account(vrm, vrm->delta);
		explain_op("expand_vma: grown in place to 0x%lx",
		    vrm->addr + vrm->new_len);
		return vrm->addr;
	}
	explain_op("expand_vma: 0x%lx-0x%lx %s", vrm->addr + vrm->old_len,
	    vrm->addr + vrm->new_len, vma->vm_end - vrm->addr != vrm->old_len ?
	    "is inside the VMA: cannot grow in place" : "is not free");
	if (!(vrm->flags & MREMAP_MAYMOVE)) {
		explain_op("no MREMAP_MAYMOVE: -ENOMEM");
		return -ENOMEM;
	}
	if ((err = vrm_set_new_addr(vrm)) != 0)
		return err;
	return move_vma(vrm);
}

/* mremap_at(): resize where it stands, moving only if it must. */
static unsigned long mremap_at(struct vma_remap_struct *vrm)
{
	unsigned long err;

	switch (vrm->remap_type) {
	case MREMAP_NO_RESIZE:
		return vrm->addr;
	case MREMAP_SHRINK:
		err = do_munmap(vrm->mm, vrm->addr + vrm->new_len, vrm->delta);
		return err ? err : vrm->addr;
	case MREMAP_EXPAND:
		return expand_vma(vrm);
	default:
		return -EINVAL;
	}
}

/*
 * vma_multi_allowed(): may vma be one of several a move takes?  Not one
 * whose file places mappings its own way (System V shm's
 * shm_get_unmapped_area()): MREMAP_FIXED might not hold for it.  Regular
 * files (thp_get_unmapped_area()) and shmem may.
 */
static bool vma_multi_allowed(const struct vma *vma)
{
	return vma->vm_file == NULL || file_inode(vma->vm_file)->shm == NULL;
}

/* remap_move(): a fixed, equal-length move of every VMA in the range. */
static unsigned long remap_move(struct vma_remap_struct *vrm)
{
	unsigned long start = vrm->addr, end = start + vrm->old_len;
	unsigned long target = vrm->new_addr, res = -EFAULT, last_end = 0;
	unsigned long pos = start, res_vma, addr, len, offset;
	bool seen = false;
	struct vma *vma;

	while (pos < end &&
	    (vma = find_vma_intersection(vrm->mm, pos, end)) != NULL) {
		addr = vma->vm_start > start ? vma->vm_start : start;
		len = (vma->vm_end < end ? vma->vm_end : end) - addr;
		if (!seen && start < vma->vm_start)
			return -EFAULT;
		/* One that may not be among several: alone, or not at all. */
		if (!vma_multi_allowed(vma) && (seen || end > vma->vm_end))
			return -EFAULT;
		offset = seen ? vma->vm_start - last_end : 0;
		last_end = vma->vm_end;
		vrm->vma = vma;
		vrm->addr = addr;
		vrm->new_addr = target + offset;
		vrm->old_len = vrm->new_len = len;
		res_vma = check_prep_vma(vrm);
		if (res_vma == 0)
			res_vma = mremap_to(vrm);
		if (IS_ERR_VALUE(res_vma))
			return res_vma;
		if (!seen)
			res = res_vma;
		seen = true;
		target = res_vma + len;
		pos = last_end;	/* the iterator resumes after the old VMA */
	}
	return res;
}

/* The part of mremap(2) under mmap_lock. */
static unsigned long mremap_locked(struct vma_remap_struct *vrm)
{
	unsigned long res;

	if ((res = check_map_count(vrm)) != 0)
		return res;
	if ((vrm->flags & MREMAP_FIXED) && vrm->old_len == vrm->new_len)
		return remap_move(vrm);
	vrm->vma = vma_lookup(vrm->mm, vrm->addr);
	if ((res = (unsigned long)check_prep_vma(vrm)) != 0)
		return res;
	return vrm_implies_new_addr(vrm) ? mremap_to(vrm) : mremap_at(vrm);
}

/* mremap(2). */
unsigned long sys_mremap(struct mm *mm, unsigned long addr,
    unsigned long old_len, unsigned long new_len, unsigned long flags,
    unsigned long new_addr)
{
	struct vma_remap_struct vrm = { .mm = mm, .addr = addr,
	    .old_len = AS_PAGE_ALIGN(old_len), .new_len = AS_PAGE_ALIGN(new_len),
	    .flags = flags, .new_addr = new_addr };
	unsigned long res;

	if ((res = check_mremap_params(&vrm)) != 0)
		return res;
	mmap_write_lock(mm);
	res = mremap_locked(&vrm);
	mmap_write_unlock(mm);
	if (!IS_ERR_VALUE(res) && vrm.populate_expand)
		__mm_populate(mm, vrm.new_addr + vrm.old_len, vrm.delta, 1);
	return res;
}

/*
 * mprotect.c: changing the protection of a range (mm/mprotect.c).
 * Each VMA in the range is handled in turn; a hole ends the walk with
 * ENOMEM after the VMAs before it have changed, as in Linux.
 */
#include "explain.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"

/* The new value of a present PTE under vma's new protection. */
static pte_t change_pte(struct vma *vma, pte_t pte)
{
	const pte_t keep = PTE_PFN_MASK | _PAGE_DIRTY | _PAGE_ACCESSED |
	    _PAGE_SPECIAL;
	struct page *page = vm_normal_page(vma, pte);
	pte_t new = (pte & keep) | (vma->vm_page_prot & ~_PAGE_ACCESSED);

	/* can_change_pte_writable(): skip the write fault where it would
	 * only reuse the page or dirty it. */
	if ((vma->vm_flags & VM_WRITE) && page != NULL &&
	    (new & _PAGE_PRESENT) && !(new & _PAGE_RW) &&
	    (((vma->vm_flags & VM_SHARED) && (pte & _PAGE_DIRTY)) ||
	    (!(vma->vm_flags & VM_SHARED) && page_exclusive(page))))
		new |= _PAGE_RW;
	return new;
}

static void change_one(void *vma, unsigned long addr, pte_t *pte)
{
	(void)addr;
	if (pte_present(*pte))
		*pte = change_pte(vma, *pte);
}

/* change_protection(): rewrite the PTEs of [start, end) for vma's prot. */
void change_protection(struct vma *vma, unsigned long start, unsigned long end)
{
	walk_page_range(vma->vm_mm, start, end, change_one, vma);
}


/* mprotect_fixup(): give [start, end) of vma newflags, with accounting. */
static int mprotect_fixup(struct mm *mm, struct vma *vma, struct vma **pprev,
    unsigned long start, unsigned long end, unsigned long newflags)
{
	unsigned long oldflags = vma->vm_flags;
	unsigned long nrpages = (end - start) >> AS_PAGE_SHIFT;

	if (newflags == oldflags) {
		explain_op("mprotect_fixup: 0x%lx-0x%lx has these flags "
		    "already", start, end);
		*pprev = vma;
		return 0;
	}
	if (newflags & VM_WRITE) {
		if (!may_expand_vm(mm, newflags, nrpages) &&
		    may_expand_vm(mm, oldflags, nrpages))
			return -ENOMEM;
		/* A private mapping turning writable is charged now. */
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB |
		    VM_SHARED | VM_NORESERVE))) {
			if (security_vm_enough_memory_mm(mm, nrpages))
				return -ENOMEM;
			newflags |= VM_ACCOUNT;
		}
	} else if ((oldflags & VM_ACCOUNT) && vma_is_anonymous(vma) &&
	    vma->anon_vma == NULL) {
		newflags &= ~VM_ACCOUNT;	/* nothing to keep charged */
	}
	vma = vma_modify_flags(*pprev, vma, start, end, newflags);
	if (IS_ERR(vma))
		return (int)PTR_ERR(vma);
	*pprev = vma;
	vma->vm_flags = newflags;
	vma_set_page_prot(vma);
	change_protection(vma, start, end);
	explain_op("change_protection 0x%lx-0x%lx: PTEs %s", start, end,
	    newflags & VM_WRITE ? "writable where no COW is pending" :
	    "write-protected");
	/* A locked private VMA turning writable breaks COW now, so no
	 * major fault waits on a later write (this gives it an anon_vma). */
	if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED &&
	    (newflags & VM_WRITE))
		populate_vma_page_range(vma, start, end);
	vm_stat_account(mm, oldflags, -(long)nrpages);
	vm_stat_account(mm, newflags, (long)nrpages);
	return 0;
}

/* mprotect_newflags(): the flags of vma under the requested prot. */
static int mprotect_newflags(const struct vma *vma, unsigned long prot,
    unsigned long *newflags)
{
	unsigned long f = (prot & PROT_READ ? VM_READ : 0) |
	    (prot & PROT_WRITE ? VM_WRITE : 0) |
	    (prot & PROT_EXEC ? VM_EXEC : 0);

	f |= vma->vm_flags & ~VM_ACCESS_FLAGS;
	/* Each permission asked for needs its VM_MAY* counterpart. */
	if ((f & ~(f >> 4)) & VM_ACCESS_FLAGS) {
		explain_op("mprotect: 0x%lx-0x%lx lacks VM_MAY%s: -EACCES",
		    vma->vm_start, vma->vm_end, ((f & ~(f >> 4)) & VM_WRITE) ?
		    "WRITE (a file opened read-only, mapped shared)" :
		    "READ or VM_MAYEXEC");
		return -EACCES;
	}
	*newflags = f;
	return 0;
}

/* models do_mprotect_pkey(): the walk over the VMAs of [start, end). */
static int do_mprotect(struct mm *mm, unsigned long start, unsigned long end,
    unsigned long prot)
{
	struct vma *vma = find_vma(mm, start), *prev, *next;
	unsigned long nstart = start, tmp, newflags;
	int error;

	if (vma == NULL || vma->vm_start > start)
		return -ENOMEM;
	prev = start > vma->vm_start ? vma : vma->vm_prev;
	for (tmp = vma->vm_start; vma != NULL && vma->vm_start < end;
	    vma = next) {
		if (vma->vm_start != tmp) {
			explain_op("mprotect: hole at 0x%lx: -ENOMEM, the "
			    "changes before it stay", tmp);
			return -ENOMEM;
		}
		if ((error = mprotect_newflags(vma, prot, &newflags)) != 0)
			return error;
		tmp = vma->vm_end < end ? vma->vm_end : end;
		error = mprotect_fixup(mm, vma, &prev, nstart, tmp, newflags);
		if (error)
			return error;
		tmp = prev->vm_end;
		nstart = tmp;
		next = prev->vm_next;
	}
	return tmp < end ? -ENOMEM : 0;
}

/* mprotect(2). */
int sys_mprotect(struct mm *mm, unsigned long start, unsigned long len,
    unsigned long prot)
{
	unsigned long end;
	int ret;

	if (as_offset_in_page(start))
		return -EINVAL;
	if (len == 0)
		return 0;
	len = AS_PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	mmap_write_lock(mm);
	ret = do_mprotect(mm, start, end, prot);
	mmap_write_unlock(mm);
	return ret;
}

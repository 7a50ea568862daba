/*
 * fault.c: a task's memory access as the CPU and arch/x86/mm/fault.c see
 * it.  The MMU walks the page tables; a missing or insufficient PTE raises
 * a page fault, which do_user_addr_fault() resolves: find the VMA (through
 * the task's VMA cache), grow a stack, check the access against the VMA
 * (access_error), then handle_mm_fault().  A fault that cannot be resolved
 * becomes SIGSEGV or SIGBUS with its si_code; the access is then retried.
 */
#include <string.h>

#include "explain.h"
#include "fault.h"
#include "mm.h"
#include "pgtable.h"

#define X86_PF_PROT	0x1
#define X86_PF_WRITE	0x2
#define X86_PF_INSTR	0x10

/* vmacache_find(): the VMA containing addr if the cache has it. */
static struct vma *vmacache_find(struct task *t, unsigned long addr)
{
	int i;

	if (t->vmacache_seqnum != t->mm->vmacache_seqnum) {
		memset(t->vmacache, 0, sizeof(t->vmacache));
		t->vmacache_seqnum = t->mm->vmacache_seqnum;
		return NULL;
	}
	for (i = 0; i < VMACACHE_SIZE; i++) {
		struct vma *v = t->vmacache[i];

		if (v != NULL && v->vm_start <= addr && v->vm_end > addr)
			return v;
	}
	return NULL;
}

/* models find_vma() through the task's cache, counting hits and misses. */
static struct vma *task_find_vma(struct task *t, unsigned long addr,
    struct as_explain *ex)
{
	struct vma *vma = vmacache_find(t, addr);

	if (vma != NULL) {
		COUNT(t, t->mm->session, vmacache_hits);
		explain(ex, "vmacache hit");
		return vma;
	}
	COUNT(t, t->mm->session, vmacache_misses);
	explain(ex, "vmacache miss");
	vma = find_vma(t->mm, addr);
	if (vma != NULL && vma->vm_start <= addr)
		t->vmacache[(addr >> AS_PAGE_SHIFT) & (VMACACHE_SIZE - 1)] = vma;
	return vma;
}

/* access_error(): does the VMA forbid this access? */
static bool access_error(unsigned int error_code, const struct vma *vma)
{
	if (error_code & X86_PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	if (error_code & X86_PF_PROT)	/* present: an NX fetch */
		return true;
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/* acct_stack_growth(): may the stack VMA grow to size (grow pages)? */
static int acct_stack_growth(struct vma *vma, unsigned long size,
    unsigned long grow)
{
	struct mm *mm = vma->vm_mm;

	if (!may_expand_vm(mm, vma->vm_flags, grow))
		return -ENOMEM;
	if (size > mm->session->limits.rlimit_stack)
		return -ENOMEM;
	if (!mlock_future_ok(mm, vma->vm_flags, grow << AS_PAGE_SHIFT))
		return -ENOMEM;
	return security_vm_enough_memory_mm(mm, grow);
}

/* expand_downwards(): grow a VM_GROWSDOWN VMA down to address. */
static int expand_downwards(struct vma *vma, unsigned long address)
{
	struct mm *mm = vma->vm_mm;
	struct vma *prev = vma->vm_prev;
	unsigned long size, grow;
	int err;

	address &= AS_PAGE_MASK;
	if (address < AS_MMAP_MIN_ADDR)
		return -EPERM;
	/* The stack guard gap to an accessible VMA below. */
	if (prev != NULL && !(prev->vm_flags & VM_GROWSDOWN) &&
	    (prev->vm_flags & VM_ACCESS_FLAGS) &&
	    address - prev->vm_end < AS_STACK_GUARD_GAP)
		return -ENOMEM;
	if (anon_vma_prepare(vma) != 0)
		return -ENOMEM;
	size = vma->vm_end - address;
	grow = (vma->vm_start - address) >> AS_PAGE_SHIFT;
	if (grow > vma->vm_pgoff)
		return -ENOMEM;
	if ((err = acct_stack_growth(vma, size, grow)) != 0)
		return err;
	if (vma->vm_flags & VM_LOCKED)
		mm->locked_vm += grow;
	vm_stat_account(mm, vma->vm_flags, (long)grow);
	vma_i_mmap_lock(vma);
	vma->vm_start = address;
	vma->vm_pgoff -= grow;
	vma_i_mmap_unlock(vma);
	vma_mt_adjust(&mm->mm_mt, vma);
	mm->vmacache_seqnum++;
	return 0;
}

/*
 * expand_stack(): the fault is below a growsdown VMA; retake mmap_lock for
 * writing and grow it.  Returns the VMA now containing addr, or NULL; the
 * mmap_lock is held for reading again either way.
 */
static struct vma *expand_stack(struct task *t, unsigned long addr,
    struct as_explain *ex)
{
	struct mm *mm = t->mm;
	struct vma *vma;
	int err = -EFAULT;

	mmap_read_unlock(mm);
	mmap_write_lock(mm);
	vma = find_vma(mm, addr);
	if (vma != NULL && vma->vm_start <= addr)
		err = 0;
	else if (vma != NULL && (vma->vm_flags & VM_GROWSDOWN))
		err = expand_downwards(vma, addr);
	mmap_write_unlock(mm);
	mmap_read_lock(mm);
	if (err != 0) {
		explain(ex, "expand_stack: refused (%d)", err);
		return NULL;
	}
	COUNT(t, mm->session, stack_expansions);
	explain(ex, "expand_stack: grown down to 0x%lx", addr & AS_PAGE_MASK);
	vma = find_vma(mm, addr);
	return vma != NULL && vma->vm_start <= addr ? vma : NULL;
}

static int fault_signal(struct task *t, int sig, int code,
    struct access_result *r)
{
	r->sig = sig;
	r->code = code;
	if (sig == AS_SIGSEGV)
		COUNT(t, t->mm->session, sigsegv);
	else if (sig == AS_SIGBUS)
		COUNT(t, t->mm->session, sigbus);
	return -1;
}

/* do_user_addr_fault(): 0 when the fault was fixed, -1 with r filled. */
static int do_user_addr_fault(struct task *t, unsigned long addr,
    unsigned int error_code, struct access_result *r)
{
	unsigned int flags = 0;
	struct vma *vma = task_find_vma(t, addr, &r->explain);
	int fault;

	if (vma == NULL || (vma->vm_start > addr &&
	    (!(vma->vm_flags & VM_GROWSDOWN) ||
	    (vma = expand_stack(t, addr, &r->explain)) == NULL))) {
		explain(&r->explain, "no VMA: SEGV_MAPERR");
		return fault_signal(t, AS_SIGSEGV, AS_SEGV_MAPERR, r);
	}
	if (access_error(error_code, vma)) {
		explain(&r->explain, "access_error: SEGV_ACCERR");
		return fault_signal(t, AS_SIGSEGV, AS_SEGV_ACCERR, r);
	}
	if (error_code & X86_PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (error_code & X86_PF_INSTR)
		flags |= FAULT_FLAG_INSTRUCTION;
	fault = handle_mm_fault(vma, addr, flags, t, &r->explain);
	if (fault & VM_FAULT_OOM)
		return fault_signal(t, AS_OOM, 0, r);
	if (fault & VM_FAULT_SIGBUS)
		return fault_signal(t, AS_SIGBUS, AS_BUS_ADRERR, r);
	if (fault & VM_FAULT_SIGSEGV)
		return fault_signal(t, AS_SIGSEGV, AS_SEGV_ACCERR, r);
	return 0;
}

/*
 * The PTE the MMU uses for addr.  Through a PMD entry fork shared, a write
 * faults (the entry is read-only), and a read that would set the
 * accessed bit in this mm's view (old in a child's) first makes the table
 * this mm's own, as the child of a Linux fork has its own; that is no
 * fault.
 */
static pte_t *mmu_pte(struct mm *mm, unsigned long addr, enum as_access kind,
    bool *wp, pte_t *pmdval)
{
	pte_t pmd = 0, *pte = pte_offset_ro(mm, addr, &pmd);
	struct as_explain *prev;

	*wp = false;
	*pmdval = pmd;
	if (pte == NULL || !pmd_shared(pmd) || !(*pte & _PAGE_PRESENT))
		return pte;
	if (kind == AS_WRITE) {
		*wp = true;
		return pte;
	}
	if ((pmd & _PAGE_PT_OLD) || !(*pte & _PAGE_ACCESSED)) {
		prev = explain_pause();		/* no fault to tell of */
		pte = pte_offset(mm, addr);
		explain_end(prev);
	}
	return pte;
}

/* May the MMU set bits in the table behind pmd in place: not shared by
 * fork, its bytes its own (host_ksm.c)? */
static bool mmu_table_own(struct mm *mm, pte_t pmd)
{
	return !pmd_shared(pmd) && !page_test(pfn_to_page(&mm->session->phys,
	    pte_pfn(pmd)), PG_hostshared);
}

/* The MMU: 0 and the frame's byte address if the PTE allows the access,
 * else the page-fault error code. */
static unsigned int mmu_translate(struct mm *mm, unsigned long addr,
    enum as_access kind, uint8_t **byte)
{
	unsigned int code = (kind == AS_WRITE ? X86_PF_WRITE : 0) |
	    (kind == AS_EXEC ? X86_PF_INSTR : 0);
	bool wp;
	pte_t pmd, *pte = mmu_pte(mm, addr, kind, &wp, &pmd);
	struct page *page;

	if (pte == NULL || !(*pte & _PAGE_PRESENT))
		return code | 0x100;	/* not present */
	if ((kind == AS_WRITE && (wp || !(*pte & _PAGE_RW))) ||
	    (kind == AS_EXEC && (*pte & _PAGE_NX)))
		return code | X86_PF_PROT;
	/* the accessed and dirty bits to set: a change to the table */
	if ((!(*pte & _PAGE_ACCESSED) || (kind == AS_WRITE &&
	    !(*pte & _PAGE_DIRTY))) && (mmu_table_own(mm, pmd) ||
	    (pte = pte_offset(mm, addr)) != NULL))
		*pte |= _PAGE_ACCESSED | (kind == AS_WRITE ? _PAGE_DIRTY : 0);
	page = pte != NULL ? pfn_to_page(&mm->session->phys, pte_pfn(*pte)) :
	    NULL;
	if (page == NULL || (kind == AS_WRITE && page_make_writable(page)))
		return code | 0x100;	/* no host memory: not done */
	*byte = page->data + (addr & (AS_PAGE_SIZE - 1));
	return 0;
}

/* One attempt of the access; 0 done, 1 faulted (code in *code). */
static int try_access(struct mm *mm, unsigned long addr, enum as_access kind,
    struct access_result *r, unsigned int *code)
{
	uint8_t *byte = NULL;

	pthread_mutex_lock(&mm->page_table_lock);
	*code = mmu_translate(mm, addr, kind, &byte);
	/* Tasks of other mms may share the frame (MAP_SHARED): the bus
	 * makes single-byte accesses atomic, and so do we. */
	if (*code == 0) {
		if (kind == AS_WRITE && r->store)
			__atomic_store_n(byte, r->value, __ATOMIC_RELAXED);
		else
			r->value = __atomic_load_n(byte, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&mm->page_table_lock);
	return *code != 0;
}

/* Addresses no user page can have: non-canonical, or the kernel's half. */
static int bad_address(struct task *t, unsigned long addr,
    struct access_result *r)
{
	if (addr >= 0x800000000000UL && addr < 0xffff800000000000UL) {
		explain(&r->explain, "non-canonical address: #GP");
		return fault_signal(t, AS_SIGSEGV, AS_SI_KERNEL, r);
	}
	explain(&r->explain, "kernel address: SEGV_MAPERR");
	return fault_signal(t, AS_SIGSEGV, AS_SEGV_MAPERR, r);
}

int as_access(struct task *t, unsigned long addr, enum as_access kind,
    struct access_result *r)
{
	struct mm *mm = t->mm;
	struct as_explain *prev;
	unsigned int code;
	int tries, ret = 0;

	r->sig = 0;
	r->code = 0;
	r->explain.len = 0;
	r->explain.text[0] = '\0';	/* filled only if r->explain.on */
	if (addr >= mm->task_size)
		return bad_address(t, addr, r);
	prev = explain_pause();		/* nested steps go to r->explain */
	if (r->explain.on)
		explain_current = &r->explain;
	mmap_read_lock(mm);
	for (tries = 0; tries < 4 && try_access(mm, addr, kind, r, &code);
	    tries++) {
		if (code & 0x100)
			code &= ~0x100U;
		else
			code |= X86_PF_PROT;
		if ((ret = do_user_addr_fault(t, addr, code, r)) != 0)
			break;
	}
	mmap_read_unlock(mm);
	explain_end(prev);
	if (ret == 0 && tries == 4)
		ret = fault_signal(t, AS_SIGSEGV, AS_SEGV_ACCERR, r);
	return ret;
}

/*
 * mmap.c: creating and destroying mappings (mm/mmap.c, mm/vma.c,
 * arch/x86/kernel/sys_x86_64.c, mm/huge_memory.c): get_unmapped_area(),
 * do_mmap(), mmap_region(), do_munmap(), brk(), and the mmap/munmap
 * system calls with Linux 6.18's order of checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "explain.h"
#include "mm.h"
#include "pgtable.h"
#include "shm.h"

#define PMD_SIZE	(1UL << 21)

/* calc_vm_prot_bits(): PROT_* to VM_*. */
static unsigned long calc_vm_prot_bits(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	    (prot & PROT_WRITE ? VM_WRITE : 0) |
	    (prot & PROT_EXEC ? VM_EXEC : 0);
}

/* calc_vm_flag_bits(): MAP_* to VM_*; MAP_STACK means "no huge pages". */
static unsigned long calc_vm_flag_bits(unsigned long flags)
{
	return (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) |
	    (flags & MAP_LOCKED ? VM_LOCKED : 0) |
	    (flags & MAP_STACK ? VM_NOHUGEPAGE : 0);
}

/* models mmap_base(): below the stack's rlimit gap (arch/x86/mm/mmap.c). */
unsigned long mmap_base_for(struct as_session *s, uint64_t rnd)
{
	unsigned long gap = s->limits.rlimit_stack;
	unsigned long pad = AS_STACK_GUARD_GAP;
	unsigned long gap_min = 128UL << 20, gap_max = AS_TASK_SIZE / 6 * 5;

	if (s->randomize)	/* stack_maxrandom_size() */
		pad += 0x3fffffUL << AS_PAGE_SHIFT;
	if (gap + pad > gap)
		gap += pad;
	if (gap < gap_min)
		gap = gap_min;
	else if (gap > gap_max)
		gap = gap_max;
	return AS_PAGE_ALIGN(AS_TASK_SIZE - gap - rnd);
}

/* Is the hint free for len bytes, guard gaps included?  Says why not. */
static bool hint_fits(struct mm *mm, unsigned long addr, unsigned long len)
{
	struct vma *vma;

	if (mm->task_size - len < addr) {
		explain_op("hint 0x%lx refused: past TASK_SIZE", addr);
		return false;
	}
	vma = find_vma(mm, addr);
	if (vma == NULL || addr + len <= vm_start_gap(vma)) {
		explain_op("hint 0x%lx taken: free", addr);
		return true;
	}
	explain_op("hint 0x%lx refused: 0x%lx-0x%lx meets the VMA 0x%lx-0x%lx"
	    "%s", addr, addr, addr + len, vma->vm_start, vma->vm_end,
	    vm_start_gap(vma) < vma->vm_start ? " or its stack guard gap" :
	    "");
	return false;
}

/* arch_get_unmapped_area_topdown(): hint if free, else top-down search. */
static unsigned long arch_get_unmapped_area_topdown(struct mm *mm,
    unsigned long addr, unsigned long len, unsigned long pgoff,
    unsigned long flags)
{
	unsigned long got;

	if (len > mm->task_size)
		return -ENOMEM;
	if (flags & MAP_FIXED) {
		explain_op("MAP_FIXED: at 0x%lx as asked", addr);
		return addr;
	}
	if (addr && hint_fits(mm, addr & AS_PAGE_MASK, len))
		return addr & AS_PAGE_MASK;
	got = vma_mt_gap_topdown(&mm->mm_mt, len, AS_MMAP_MIN_ADDR,
	    mm->mmap_base, 0, 0);
	if (!IS_ERR_VALUE(got)) {
		explain_op("top-down search below mmap_base 0x%lx: the highest "
		    "gap for 0x%lx bytes ends at 0x%lx", mm->mmap_base, len,
		    got + len);
		return got;
	}
	/* Bottom-up fallback from TASK_UNMAPPED_BASE (a third of the space). */
	got = vma_mt_gap_bottomup(&mm->mm_mt, len,
	    AS_PAGE_ALIGN(mm->task_size / 3), mm->task_size, 0, 0);
	explain_op("no gap below mmap_base: bottom-up from 0x%lx: %s",
	    AS_PAGE_ALIGN(mm->task_size / 3), IS_ERR_VALUE(got) ? "none, "
	    "-ENOMEM" : "found");
	return got;
}

/* models __thp_get_unmapped_area(): pad to find a PMD-aligned spot; 0 = no. */
static unsigned long thp_get_unmapped_area(struct mm *mm, unsigned long addr,
    unsigned long len, unsigned long pgoff, unsigned long flags)
{
	unsigned long off = pgoff << AS_PAGE_SHIFT, ret, off_sub;
	unsigned long off_align = (off + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
	unsigned long off_end = off + len, len_pad = len + PMD_SIZE;

	if (off_end <= off_align || off_end - off_align < PMD_SIZE)
		return 0;
	if (len_pad < len || off + len_pad < off)
		return 0;
	ret = arch_get_unmapped_area_topdown(mm, addr, len_pad, pgoff, flags);
	if (IS_ERR_VALUE(ret))
		return 0;
	if (ret == addr)
		return addr;
	off_sub = (off - ret) & (PMD_SIZE - 1);
	ret += off_sub == 0 ? PMD_SIZE : off_sub;
	explain_op("thp_get_unmapped_area: searched 2 MiB more, placed at "
	    "0x%lx so that address and file offset agree modulo 2 MiB", ret);
	return ret;
}

/* models __get_unmapped_area(): where a mapping of len bytes will go. */
unsigned long get_unmapped_area(struct mm *mm, struct file *file,
    unsigned long addr, unsigned long len, unsigned long pgoff,
    unsigned long flags)
{
	unsigned long got = 0;

	if (len > mm->task_size)
		return -ENOMEM;
	if (file == NULL)
		pgoff = 0;
	/* Regular files use thp_get_unmapped_area (ext4); so do large
	 * anonymous mappings placed without a hint. */
	if ((file != NULL && !file_inode(file)->shmem_zero) ||
	    (file == NULL && !(flags & MAP_SHARED) && addr == 0 &&
	    (len & (PMD_SIZE - 1)) == 0))
		got = thp_get_unmapped_area(mm, addr, len, pgoff, flags);
	if (got == 0)
		got = arch_get_unmapped_area_topdown(mm, addr, len, pgoff,
		    flags);
	if (IS_ERR_VALUE(got))
		return got;
	if (got > mm->task_size - len)
		return -ENOMEM;
	if (as_offset_in_page(got))
		return -EINVAL;
	return got;
}

/* accountable_mapping(): private writable, reserved memory is charged. */
static bool accountable_mapping(unsigned long vm_flags)
{
	return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

/* The VMAs a munmap (or a MAP_FIXED mmap) takes away, split to fit. */
struct vma_munmap_struct {
	struct vma_iterator *vmi;	/* on first, until a split */
	struct vma	*first, *last;	/* run of VMAs inside [start, end) */
	unsigned long	 nr_pages, nr_accounted;
};

/*
 * vms_gather_munmap_vmas(): split the VMAs at start and end so that the
 * range is covered by whole VMAs; only the first split may exceed
 * max_map_count.  Splits made before a failure stay, as in Linux.
 */
static int vms_gather_munmap_vmas(struct mm *mm, struct vma *vma,
    unsigned long start, unsigned long end, struct vma_munmap_struct *vms)
{
	struct vma *v;
	int err;

	if (start > vma->vm_start) {
		if (end < vma->vm_end &&
		    mm->map_count >= mm->session->limits.max_map_count)
			return -ENOMEM;
		mas_reset(&vms->vmi->mas);	/* the split writes */
		if ((err = __split_vma(vma, start, 1)) != 0)
			return err;
	}
	vms->first = vma;
	for (v = vma; v != NULL && v->vm_start < end; v = v->vm_next) {
		if (v->vm_end > end)
			mas_reset(&vms->vmi->mas);
		if (v->vm_end > end && (err = __split_vma(v, end, 0)) != 0)
			return err;
		vms->last = v;
		vms->nr_pages += vma_pages(v);
		if (v->vm_flags & VM_ACCOUNT)
			vms->nr_accounted += vma_pages(v);
	}
	return 0;
}

/* vms_complete_munmap_vmas(): remove the gathered VMAs for good. */
static void vms_complete_munmap_vmas(struct mm *mm,
    struct vma_munmap_struct *vms)
{
	struct vma *v = vms->first, *next;
	unsigned long floor, ceiling, start, end;

	if (v == NULL)
		return;
	floor = v->vm_prev != NULL ? v->vm_prev->vm_end : 0;
	ceiling = vms->last->vm_next != NULL ? vms->last->vm_next->vm_start :
	    ~0UL;
	start = v->vm_start;
	end = vms->last->vm_end;
	while (v != NULL) {
		zap_page_range(v, v->vm_start, v->vm_end);
		next = v == vms->last ? NULL : v->vm_next;
		vm_stat_account(mm, v->vm_flags, -(long)vma_pages(v));
		if (v->vm_flags & VM_LOCKED)
			mm->locked_vm -= vma_pages(v);
		vma_iter_unlink_free(mm, vms->vmi, v);	/* then walks */
		v = next;
	}
	vms->first = vms->last = NULL;
	explain_op("unmapped 0x%lx-0x%lx (%lu page%s): zap_page_range, "
	    "free_pgtables", start, end, vms->nr_pages,
	    vms->nr_pages == 1 ? "" : "s");
	pthread_mutex_lock(&mm->page_table_lock);
	free_pgtables(mm, start, end, floor, ceiling);
	pthread_mutex_unlock(&mm->page_table_lock);
}

/* do_vmi_align_munmap(): unmap [start, end), vma being the first in it
 * (vmi on it, or not walked yet). */
int do_vmi_align_munmap(struct vma_iterator *vmi, struct mm *mm,
    struct vma *vma, unsigned long start, unsigned long end)
{
	struct vma_munmap_struct vms = { .vmi = vmi };
	int err = vms_gather_munmap_vmas(mm, vma, start, end, &vms);

	if (err != 0)
		return err;
	vms_complete_munmap_vmas(mm, &vms);
	return 0;
}

/* models do_vmi_munmap(): the checks of munmap(2), then the unmap. */
int do_munmap(struct mm *mm, unsigned long start, unsigned long len)
{
	VMA_ITERATOR(vmi, mm, start);
	unsigned long end;
	struct vma *vma;

	mmap_assert_write_locked(mm);
	if (as_offset_in_page(start) || start > mm->task_size ||
	    len > mm->task_size - start)
		return -EINVAL;
	end = start + AS_PAGE_ALIGN(len);
	if (end == start)
		return -EINVAL;
	vma = vma_find(&vmi, end);
	if (vma == NULL) {
		explain_op("do_vmi_munmap: no VMA in 0x%lx-0x%lx: nothing to do",
		    start, end);
		return 0;
	}
	return do_vmi_align_munmap(&vmi, mm, vma, start, end);
}

/* models __mmap_new_vma(): a fresh VMA; shared anonymous memory gets
 * its object. */
static int mmap_new_vma(struct mm *mm, struct vma_iterator *vmi,
    struct file *file, unsigned long addr, unsigned long len,
    unsigned long vm_flags, unsigned long pgoff, struct vma **out)
{
	struct vma *vma = vm_area_alloc(mm);

	if (vma == NULL)
		return -ENOMEM;
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_flags = vm_flags;
	vma->vm_pgoff = pgoff;
	if (file != NULL) {
		vma->vm_file = file;
		get_file(file);
		if (vma_is_shm(vma))
			shm_open(vma);	/* shm_mmap() */
	}
	vma_iter_link(mm, vmi, vma);
	*out = vma;
	return 0;
}

/* models __mmap_complete(): statistics, mlock accounting, page protection. */
static void mmap_complete(struct mm *mm, struct vma *vma,
    unsigned long vm_flags, unsigned long pglen)
{
	vm_stat_account(mm, vm_flags, pglen);
	if (vm_flags & VM_LOCKED)
		mm->locked_vm += pglen;
	vma_set_page_prot(vma);
}

/* find_vma() through vmi, which is left on the slot holding addr (a hole,
 * or the VMA there): the new VMA's store starts from it with no walk
 * (the iterator's vma_find() and vma_iter_next_rewind() in the kernel's
 * __mmap_region()). */
static struct vma *mmap_region_next(struct vma_iterator *vmi,
    unsigned long addr)
{
	struct ma_state ahead;
	struct vma *next;

	vma_iter_set(vmi, addr);
	if ((next = vma_iter_load(vmi)) != NULL ||
	    vmi->mas.status != ma_active)
		return next;
	ahead = vmi->mas;
	return mas_next(&ahead, ULONG_MAX);
}

/* models __mmap_region(): replace whatever is at [addr, addr + len)
 * with a map. */
static unsigned long mmap_region(struct mm *mm, struct file *file,
    unsigned long addr, unsigned long len, unsigned long vm_flags,
    unsigned long pgoff)
{
	VMA_ITERATOR(vmi, mm, addr);
	struct vma_munmap_struct vms = { .vmi = &vmi };
	unsigned long pglen = len >> AS_PAGE_SHIFT, charged, end = addr + len;
	struct vma *next = mmap_region_next(&vmi, addr), *vma, *prev;
	int err;

	vma = next != NULL && next->vm_start < end ? next : NULL;

	if (vma != NULL &&
	    (err = vms_gather_munmap_vmas(mm, vma, addr, end, &vms)) != 0)
		return err;
	if (vma != NULL)
		explain_op("mmap_region: the map replaces what was at "
		    "0x%lx-0x%lx", addr, end);
	if (!may_expand_vm(mm, vm_flags, pglen - vms.nr_pages)) {
		explain_op("may_expand_vm: over RLIMIT_AS or RLIMIT_DATA: "
		    "-ENOMEM");
		return -ENOMEM;
	}
	if (accountable_mapping(vm_flags)) {
		charged = pglen - vms.nr_accounted;
		if (charged && security_vm_enough_memory_mm(mm, charged)) {
			explain_op("__vm_enough_memory: %lu pages refused "
			    "by the overcommit policy: -ENOMEM", charged);
			return -ENOMEM;
		}
		vm_flags |= VM_ACCOUNT;
	}
	vms_complete_munmap_vmas(mm, &vms);
	/* the neighbours (vma_prev()/vma_next() on the kernel's iterator):
	 * the lookup above stands unless a VMA was unmapped */
	if (vma != NULL)
		next = mmap_region_next(&vmi, addr);
	prev = next != NULL ? next->vm_prev : mm->mm_mt.last;
	if (file != NULL && file_inode(file)->shmem_zero) {
		vma = NULL;	/* shmem_zero_setup() makes a new object */
		explain_op("shared anonymous: an object of its own, so no "
		    "merge");
	} else
		vma = vma_merge_new_range(mm, prev, next, addr, end, vm_flags,
		    file, pgoff, NULL, NULL);
	if (vma == NULL &&
	    (err = mmap_new_vma(mm, &vmi, file, addr, len, vm_flags, pgoff,
	    &vma)))
		return err;
	if (vma->vm_start == addr && vma->vm_end == end)
		explain_op("__mmap_new_vma: new VMA 0x%lx-0x%lx", addr, end);
	mmap_complete(mm, vma, vm_flags, pglen);
	return addr;
}

/* The file/anonymous part of do_mmap()'s checks (models its switch on
 * MAP_TYPE); updates vm_flags, pgoff. */
static int mmap_check_type(struct file *file, unsigned long flags,
    unsigned long addr, unsigned long *vm_flags, unsigned long *pgoff)
{
	if (file != NULL) {
		switch (flags & MAP_TYPE) {
		case MAP_SHARED:
			if ((*vm_flags & VM_WRITE) &&
			    !(file->f_mode & FMODE_WRITE))
				return -EACCES;
			*vm_flags |= VM_SHARED | VM_MAYSHARE;
			if (!(file->f_mode & FMODE_WRITE))
				*vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
			/* fallthrough */
		case MAP_PRIVATE:
			if (*vm_flags & VM_GROWSDOWN)
				return -EINVAL;
			return 0;
		default:
			return -EINVAL;
		}
	}
	switch (flags & MAP_TYPE) {
	case MAP_SHARED:
		if (*vm_flags & VM_GROWSDOWN)
			return -EINVAL;
		*pgoff = 0;
		*vm_flags |= VM_SHARED | VM_MAYSHARE;
		return 0;
	case MAP_PRIVATE:
		*pgoff = addr >> AS_PAGE_SHIFT;
		return 0;
	default:
		return -EINVAL;
	}
}

/* round_hint_to_min(): a hint below mmap_min_addr is raised to it. */
static unsigned long round_hint_to_min(unsigned long hint)
{
	hint &= AS_PAGE_MASK;
	if (hint != 0 && hint < AS_MMAP_MIN_ADDR)
		return AS_PAGE_ALIGN(AS_MMAP_MIN_ADDR);
	return hint;
}

/* do_mmap(): the body of mmap(2), mmap_lock held for writing. */
unsigned long do_mmap(struct mm *mm, struct file *file, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    unsigned long pgoff, unsigned long *populate)
{
	unsigned long vm_flags;
	int err;

	mmap_assert_write_locked(mm);
	*populate = 0;
	if (len == 0)
		return -EINVAL;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;
	if (!(flags & MAP_FIXED)) {
		if (round_hint_to_min(addr) != (addr & AS_PAGE_MASK))
			explain_op("hint 0x%lx below mmap_min_addr: raised "
			    "to 0x%lx", addr, round_hint_to_min(addr));
		addr = round_hint_to_min(addr);
	}
	len = AS_PAGE_ALIGN(len);
	if (len == 0)
		return -ENOMEM;
	if (pgoff + (len >> AS_PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	if (mm->map_count > mm->session->limits.max_map_count)
		return -ENOMEM;
	vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) |
	    mm->def_flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	addr = get_unmapped_area(mm, file, addr, len, pgoff, flags);
	if (IS_ERR_VALUE(addr))
		return addr;
	if ((flags & MAP_FIXED_NOREPLACE) &&
	    find_vma_intersection(mm, addr, addr + len) != NULL) {
		explain_op("MAP_FIXED_NOREPLACE: 0x%lx-0x%lx is in use: "
		    "-EEXIST", addr, addr + len);
		return -EEXIST;
	}
	if ((flags & MAP_LOCKED) && !can_do_mlock(mm))
		return -EPERM;
	if (!mlock_future_ok(mm, vm_flags, len))
		return -EAGAIN;
	if ((err = mmap_check_type(file, flags, addr, &vm_flags, &pgoff)) != 0)
		return err;
	if ((flags & MAP_NORESERVE) &&
	    mm->session->limits.overcommit_memory != 2)
		vm_flags |= VM_NORESERVE;
	addr = mmap_region(mm, file, addr, len, vm_flags, pgoff);
	if (!IS_ERR_VALUE(addr) && ((vm_flags & VM_LOCKED) ||
	    (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE))
		*populate = len;
	return addr;
}

/* shmem_zero_setup(): the object behind a MAP_SHARED|MAP_ANONYMOUS map,
 * opened as a file of its own. */
static struct file *shmem_zero_setup(struct as_session *s, unsigned long len)
{
	struct as_file *f = as_file_alloc("/dev/zero (deleted)", len, true,
	    &s->mem);
	struct file *file;

	if (f == NULL)
		return NULL;
	f->id = __atomic_add_fetch(&s->next_file_id, 1, __ATOMIC_RELAXED);
	file = alloc_file(s, f);
	iput(s, f);		/* the file holds the object now */
	return file;
}

/* vm_mmap_pgoff(): lock, map, populate. */
static unsigned long vm_mmap_pgoff(struct mm *mm, struct file *file,
    unsigned long addr, unsigned long len, unsigned long prot,
    unsigned long flags, unsigned long pgoff)
{
	unsigned long ret, populate;
	struct file *shm = NULL;

	if (file == NULL && (flags & MAP_TYPE) == MAP_SHARED && len != 0) {
		if ((shm = shmem_zero_setup(mm->session,
		    AS_PAGE_ALIGN(len))) == NULL)
			return -ENOMEM;
		file = shm;
	}
	mmap_write_lock(mm);
	ret = do_mmap(mm, file, addr, len, prot, flags, pgoff, &populate);
	mmap_write_unlock(mm);
	if (shm != NULL)
		fput(mm->session, shm);	/* the VMA holds its own reference */
	if (populate)
		__mm_populate(mm, ret, populate, 1);
	return ret;
}

/* vm_mmap(): a mapping of an open file (exec's elf_map() uses it). */
unsigned long vm_mmap(struct mm *mm, struct file *file, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    unsigned long off)
{
	if (as_offset_in_page(off))
		return -EINVAL;
	return vm_mmap_pgoff(mm, file, addr, len, prot, flags,
	    off >> AS_PAGE_SHIFT);
}

/*
 * sys_mmap(): mmap(2) on x86-64 (arch/x86/kernel/sys_x86_64.c).  A file
 * mapping is its own open(), mmap(), close(): the VMAs it makes hold the
 * only references to that struct file, so they merge with no other
 * mapping's (the trace names files, not descriptors).  The file is opened
 * even for an mmap that fails or ignores it (MAP_ANONYMOUS), and its
 * close then releases it (ext4_release_file()).
 */
unsigned long sys_mmap(struct mm *mm, unsigned long addr, unsigned long len,
    unsigned long prot, unsigned long flags, struct as_file *inode, int fd_ok,
    unsigned long off)
{
	struct file *file = NULL;
	unsigned long ret;

	/* open(): the descriptor exists whatever mmap makes of it */
	if (fd_ok && inode != NULL &&
	    (file = alloc_file(mm->session, inode)) == NULL)
		return -ENOMEM;
	if (as_offset_in_page(off))
		ret = -EINVAL;
	else if (flags & MAP_ANONYMOUS)
		ret = vm_mmap_pgoff(mm, NULL, addr, len, prot, flags,
		    off >> AS_PAGE_SHIFT);
	else if (file == NULL)
		ret = -EBADF;
	else if (flags & MAP_HUGETLB)
		ret = -EINVAL;
	else
		ret = vm_mmap_pgoff(mm, file, addr, len, prot, flags,
		    off >> AS_PAGE_SHIFT);
	if (file != NULL)
		fput(mm->session, file);	/* close() */
	return ret;
}

/* munmap(2). */
int sys_munmap(struct mm *mm, unsigned long addr, unsigned long len)
{
	int ret;

	mmap_write_lock(mm);
	ret = do_munmap(mm, addr, len);
	mmap_write_unlock(mm);
	return ret;
}

/* do_brk_flags(): grow the heap VMA or make it. */
static int do_brk_flags(struct mm *mm, struct vma *brkvma, unsigned long addr,
    unsigned long len)
{
	unsigned long flags = VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mm->def_flags;
	VMA_ITERATOR(vmi, mm, addr);
	struct vma *vma = NULL;
	int err;

	if (!may_expand_vm(mm, flags, len >> AS_PAGE_SHIFT) ||
	    mm->map_count > mm->session->limits.max_map_count ||
	    security_vm_enough_memory_mm(mm, len >> AS_PAGE_SHIFT))
		return -ENOMEM;
	if (brkvma != NULL && brkvma->vm_end == addr)
		vma = vma_merge_new_range(mm, brkvma, NULL, addr, addr + len,
		    flags, NULL, addr >> AS_PAGE_SHIFT, NULL, NULL);
	if (vma == NULL &&
	    (err = mmap_new_vma(mm, &vmi, NULL, addr, len, flags,
	    addr >> AS_PAGE_SHIFT, &vma)) != 0)
		return err;
	vma_set_page_prot(vma);
	vm_stat_account(mm, flags, len >> AS_PAGE_SHIFT);
	if (flags & VM_LOCKED)
		mm->locked_vm += len >> AS_PAGE_SHIFT;
	return 0;
}

/* brk_shrink(): give back [newbrk, oldbrk) of the heap. */
static int brk_shrink(struct mm *mm, unsigned long brk, unsigned long newbrk,
    unsigned long oldbrk)
{
	VMA_ITERATOR(vmi, mm, newbrk);
	struct vma *brkvma = vma_find(&vmi, oldbrk);

	if (brkvma == NULL || brkvma->vm_start >= oldbrk)
		return -ENOMEM;
	mm->brk = brk;
	return do_vmi_align_munmap(&vmi, mm, brkvma, newbrk, oldbrk);
}

/* brk_grow(): extend the heap to newbrk unless something is in the way. */
static int brk_grow(struct mm *mm, unsigned long newbrk, unsigned long oldbrk)
{
	struct vma *next = find_vma(mm, oldbrk), *brkvma;

	if (next != NULL && newbrk + AS_PAGE_SIZE > vm_start_gap(next)) {
		explain_op("brk: 0x%lx would meet the VMA at 0x%lx: refused",
		    newbrk, next->vm_start);
		return -ENOMEM;
	}
	/* vma_prev_limit(): the VMA below oldbrk, if it reaches start_brk. */
	find_vma_prev(mm, oldbrk, &brkvma);
	if (brkvma != NULL && brkvma->vm_end <= mm->start_brk)
		brkvma = NULL;
	return do_brk_flags(mm, brkvma, oldbrk, newbrk - oldbrk);
}

/* brk(2): the new break, or the old one when the request fails. */
unsigned long sys_brk(struct mm *mm, unsigned long brk)
{
	unsigned long origbrk, newbrk, oldbrk, ret;
	int err = 0;

	mmap_write_lock(mm);
	origbrk = mm->brk;
	if (brk < mm->start_brk || brk - mm->start_brk >
	    mm->session->limits.rlimit_data) {
		explain_op("brk: 0x%lx %s: the break stays", brk,
		    brk < mm->start_brk ? "below start_brk" :
		    "over RLIMIT_DATA");
		ret = origbrk;
		goto out;
	}
	newbrk = AS_PAGE_ALIGN(brk);
	oldbrk = AS_PAGE_ALIGN(mm->brk);
	if (oldbrk != newbrk)
		err = brk <= mm->brk ? brk_shrink(mm, brk, newbrk, oldbrk) :
		    brk_grow(mm, newbrk, oldbrk);
	mm->brk = err ? origbrk : brk;
	ret = mm->brk;
out:
	mmap_write_unlock(mm);
	return ret;
}

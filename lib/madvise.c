/*
 * madvise.c: advice on a range (mm/madvise.c).  The VMA-flag advices split
 * and merge VMAs like mprotect; unlike mprotect, holes in the range are
 * skipped and reported as ENOMEM at the end, and a failed split (the
 * map-count limit) reads EAGAIN.  The memory advices act on the PTEs:
 * dontneed zaps, free makes private anonymous pages lazily freed, cold
 * and pageout deactivate and reclaim (mm/vmscan.c's shrink_folio_list(),
 * writing anonymous and shmem pages to swap where there is a swap device),
 * remove punches a hole in shmem, and the
 * populate advices fault the range in like GUP (mm/gup.c).
 */
#include "explain.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "shmem.h"
#include "swap.h"
#include "session.h"
#include "vmscan.h"

static bool madvise_behavior_valid(int behavior)
{
	switch (behavior) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_WILLNEED: case MADV_DONTNEED: case MADV_DONTFORK:
	case MADV_DOFORK: case MADV_DONTDUMP: case MADV_DODUMP:
	case MADV_FREE: case MADV_COLD: case MADV_PAGEOUT:
	case MADV_POPULATE_READ: case MADV_POPULATE_WRITE: case MADV_REMOVE:
	case MADV_WIPEONFORK: case MADV_KEEPONFORK:
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
	case MADV_WIPEONFORK:	/* anonymous memory only */
		if (vma->vm_file != NULL || (f & VM_SHARED))
			return -EINVAL;
		f |= VM_WIPEONFORK;
		break;
	case MADV_KEEPONFORK:	f &= ~VM_WIPEONFORK; break;
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

static struct as_phys *phys_of(struct vma *vma)
{
	return &vma->vm_mm->session->phys;
}

/* vma_is_anonymous() as Linux means it: no vm_ops, so neither a file
 * (shmem included) nor a special mapping such as [vdso]. */
static bool vma_has_no_ops(const struct vma *vma)
{
	return vma_is_anonymous(vma) && vma->vm_special_name == NULL;
}

/*
 * models madvise_free_pte_range(): an exclusive anonymous page loses
 * PG_dirty, its PTE loses dirty and young, and it becomes lazily freed
 * (folio_mark_lazyfree(): PG_swapbacked cleared).  A dirty page, or one
 * in the swap cache, is left alone if mapped elsewhere too, or if its
 * swap slot cannot be freed (folio_free_swap()); the zero page is
 * skipped.
 */
static void madvise_free_one(void *arg, unsigned long addr, pte_t *pte)
{
	struct vma *vma = arg;
	struct page *page = vm_normal_page(vma, *pte);

	(void)addr;
	if (is_swap_pte(*pte)) {	/* the swapped-out page is dropped */
		free_swap_and_cache(phys_of(vma), pte_swp_offset(*pte));
		*pte = 0;
		return;
	}
	if (page == NULL)
		return;
	if (page_test(page, PG_swapcache) || page_test(page, PG_dirty)) {
		if (page_mapcount(page) != 1)
			return;
		if (page_test(page, PG_swapcache) &&
		    !folio_free_swap(phys_of(vma), page))
			return;
		page_clear_flags(page, PG_dirty);
	}
	*pte &= ~(_PAGE_DIRTY | _PAGE_ACCESSED);
	if (page_test(page, PG_anon) && page_test(page, PG_swapbacked) &&
	    !page_test(page, PG_mlocked))
		folio_mark_lazyfree(phys_of(vma), page);
}

/* models madvise_free_single_vma(): MADV_FREE on private anonymous
 * memory only. */
static int madvise_free(struct vma *vma, unsigned long start,
    unsigned long end)
{
	if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP))
		return -EINVAL;		/* madvise_dontneed_free_valid_vma() */
	if (!vma_has_no_ops(vma))
		return -EINVAL;
	walk_page_range(vma->vm_mm, start, end, madvise_free_one, vma);
	return 0;
}

/*
 * models shrink_folio_list() for an exclusive swap-backed anonymous page
 * on a machine with swap: add_to_swap() (nothing more without a free
 * slot: the page stays mapped), pageout() writing its bytes to the slot
 * (models swap_writepage(); a clean page already in the swap cache would
 * not be written again, its slot holding the same bytes: written here
 * all the same, but counted in pswpout only when Linux writes it: a page
 * new to the swap cache, which add_to_swap() dirties, or a dirty one;
 * madvise has no task here, so the count is the session's), try_to_unmap()
 * turning the PTE into a swap entry (exclusive if the page was), and
 * __remove_mapping() freeing the frame, which leaves the swap cache.
 */
static void pageout_anon(struct vma *vma, pte_t *pte, struct page *page)
{
	struct as_phys *phys = phys_of(vma);
	struct as_session *s = vma->vm_mm->session;
	bool dirty = !page_test(page, PG_swapcache) ||
	    page_test(page, PG_dirty) || (*pte & _PAGE_DIRTY);

	if (swap_info_get(phys, s->limits.swap_bytes) == NULL ||
	    !add_to_swap(phys, page))
		return;
	if (swap_writepage(phys, page) != 0)
		return;
	if (dirty)		/* pageout(): PSWPOUT, of no task */
		COUNT(NULL, s, pswpout);
	swap_duplicate(phys, page->private);
	*pte = swp_entry_to_pte(page->private, page_exclusive(page));
	page_remove_rmap_put(phys, page);
}

/*
 * models shrink_folio_list() for one page MADV_PAGEOUT isolated, on a
 * machine without swap: a swap-backed anonymous page cannot be written
 * anywhere (add_to_swap() fails) and stays mapped; a lazily freed one is
 * discarded if still clean (try_to_unmap_one()'s MADV_FREE check), or
 * remapped and swap-backed again if written since; a file or shmem page
 * is unmapped (its PTE's dirty bit passed to the page), then dropped from
 * the page cache if clean, kept there if dirty (only kswapd writes file
 * pages back; shmem_writeout() needs a swap device).  One difference:
 * a clean page whose bytes the simulated disk does not have (written,
 * then cleaned by msync) stays cached, where Linux drops it and reads
 * the same bytes back (filemap_page_on_disk()).  With a swap device, a
 * dirty shmem page goes to swap (pageout(): shmem_writeout()) if a slot
 * is free, else stays dirty in the page cache, unmapped.
 */
static void shrink_page(struct vma *vma, pte_t *pte, struct page *page)
{
	struct as_phys *phys = phys_of(vma);
	unsigned long swap_bytes = vma->vm_mm->session->limits.swap_bytes;

	if (page_test(page, PG_anon)) {
		if (page_test(page, PG_swapbacked)) {
			pageout_anon(vma, pte, page);
			return;
		}
		if (*pte & _PAGE_DIRTY)
			page_set_flags(page, PG_dirty);
		if (page_refcount(page) == page_mapcount(page) &&
		    !page_test(page, PG_dirty)) {
			*pte = 0;
			page_remove_rmap_put(phys, page);
			return;
		}
		page_set_flags(page, PG_swapbacked);
		return;
	}
	if (*pte & _PAGE_DIRTY)
		page_set_flags(page, PG_dirty);		/* folio_mark_dirty() */
	*pte = 0;
	get_page(page);			/* the isolation's reference */
	page_remove_rmap_put(phys, page);
	/* A written-back page is kept: the simulated disk has no copy. */
	if (page_test(page, PG_dirty) && page_test(page, PG_swapbacked)) {
		if (shmem_writeout(phys, page, swap_bytes))
			COUNT(NULL, vma->vm_mm->session, pswpout);
	}
	else if (!page_test(page, PG_dirty) &&
	    filemap_page_on_disk(page->mapping, page))
		remove_mapping(phys, page);
	else if (page_test(page, PG_dirty) && !page_test(page, PG_swapbacked))
		page_set_flags(page, PG_reclaim);	/* folio_set_reclaim() */
	put_page(phys, page);		/* freed here if it left the cache */
}

struct cold_walk {
	struct vma	*vma;
	bool		 pageout;
	bool		 anon_only;	/* pageout_anon_only_filter */
};

/* models madvise_cold_or_pageout_pte_range(): pages mapped only here. */
static void madvise_cold_one(void *arg, unsigned long addr, pte_t *pte)
{
	struct cold_walk *w = arg;
	struct page *page = vm_normal_page(w->vma, *pte);

	(void)addr;
	if (page == NULL || !page_test(page, PG_lru) ||
	    page_mapcount(page) != 1)
		return;
	if (w->anon_only && !page_test(page, PG_anon))
		return;
	if (!w->pageout) {
		*pte &= ~_PAGE_ACCESSED;	/* young no more */
		folio_deactivate(phys_of(w->vma), page);
	}
	page_clear_flags(page, PG_referenced);
	if (w->pageout && !page_test(page, PG_mlocked))
		shrink_page(w->vma, pte, page);
}

/* can_madv_lru_vma() */
static bool can_madv_lru_vma(const struct vma *vma)
{
	return !(vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB));
}

/*
 * models madvise_cold() and madvise_pageout(): cold only deactivates (the
 * pages stay mapped); pageout reclaims.  The simulated tasks are root, so
 * can_do_file_pageout() holds for every file VMA and only an anonymous
 * VMA filters to anonymous pages.
 */
static int madvise_cold_or_pageout(struct vma *vma, unsigned long start,
    unsigned long end, bool pageout)
{
	struct cold_walk w = { vma, pageout, false };

	if (!can_madv_lru_vma(vma))
		return -EINVAL;
	w.anon_only = pageout && vma->vm_file == NULL;
	walk_page_range(vma->vm_mm, start, end, madvise_cold_one, &w);
	return 0;
}

/* The PTEs of a VMA that map f's pages from first to last (page
 * indices): zapped, as unmap_mapping_range() without even_cows does. */
struct remove_walk {
	struct vma	*vma;
	unsigned long	 first, last;
};

static void remove_one(void *arg, unsigned long addr, pte_t *pte)
{
	struct remove_walk *w = arg;
	unsigned long pg = w->vma->vm_pgoff +
	    ((addr - w->vma->vm_start) >> AS_PAGE_SHIFT);
	struct page *page;

	if (pg < w->first || pg > w->last || !pte_present(*pte))
		return;		/* a swap entry is a private copy's */
	page = vm_normal_page(w->vma, *pte);
	if (page != NULL && page_test(page, PG_anon))
		return;		/* !even_cows: private copies stay */
	if (page != NULL)
		page_remove_rmap_put(phys_of(w->vma), page);
	*pte = 0;
}

/* unmap_mapping_range(mapping, first, last, even_cows = 0) over mm. */
static void unmap_range_mm(struct mm *mm, struct as_file *f,
    unsigned long first, unsigned long last)
{
	struct remove_walk w;
	struct vma *vma;

	mmap_read_lock(mm);
	for (vma = mm->mm_mt.first; vma != NULL; vma = vma->vm_next) {
		if (vma->vm_file == NULL || file_inode(vma->vm_file) != f)
			continue;
		w.vma = vma;
		w.first = first;
		w.last = last;
		walk_page_range(mm, vma->vm_start, vma->vm_end, remove_one, &w);
	}
	mmap_read_unlock(mm);
}

/* models unmap_mapping_range() of pages first..last of f in every mm of
 * the session (each mm found through its tasks, held by mm_users). */
static void unmap_mapping_pages(struct as_session *s, struct as_file *f,
    unsigned long first, unsigned long last)
{
	struct mm *seen[256], *mm;
	struct task *t;
	int n = 0, j;

	for (;;) {
		mm = NULL;
		pthread_mutex_lock(&s->lock);
		for (t = s->tasks; t != NULL && mm == NULL; t = t->next) {
			if (t->mm == NULL)
				continue;
			for (j = 0; j < n && seen[j] != t->mm; j++)
				;
			if (j == n) {
				mm = t->mm;
				__atomic_add_fetch(&mm->mm_users, 1,
				    __ATOMIC_RELAXED);
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (mm == NULL)
			break;
		unmap_range_mm(mm, f, first, last);
		seen[n++] = mm;
		if (n == 256)
			break;
	}
	while (n > 0)
		mmput(seen[--n]);
}

/* models truncate_inode_pages_range(): the cache drops pages first..last,
 * dirty or not, and a shmem object's swap entries there with their slots
 * (shmem_undo_range()'s shmem_free_swap()). */
static void truncate_range(struct as_session *s, struct as_file *f,
    unsigned long first, unsigned long last)
{
	pthread_mutex_lock(&f->lock);
	shmem_undo_range(&s->phys, f, first, last);	/* swap entries too */
	pthread_mutex_unlock(&f->lock);
}

/*
 * models vfs_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE):
 * shmem_fallocate() or ext4_punch_hole().  A regular file first records
 * the hole on its disk (so that the pages read back as zeros; 0 or
 * -ENOSPC, -ENOMEM and nothing done); then every mapping of pages
 * first..last in every mm is zapped, private copies kept, and the cache
 * drops them, dirty or not (ext4 writes them back first, into blocks it
 * then frees: the same).
 */
static int punch_hole(struct as_session *s, struct as_file *f,
    unsigned long first, unsigned long last)
{
	int err = 0;

	if (!f->shmem_zero) {
		pthread_mutex_lock(&f->lock);
		err = file_punch_hole(f, first, last);
		pthread_mutex_unlock(&f->lock);
	}
	if (err != 0)
		return err;
	unmap_mapping_pages(s, f, first, last);
	truncate_range(s, f, first, last);
	return 0;
}

/*
 * models madvise_remove(): a hole punched in the file behind a shared
 * writable mapping (vfs_fallocate(PUNCH_HOLE | KEEP_SIZE)), with the
 * mmap_lock dropped meanwhile.
 */
static int madvise_remove(struct vma *vma, unsigned long start,
    unsigned long end, bool *lock_dropped)
{
	struct mm *mm = vma->vm_mm;
	struct as_file *f;
	unsigned long first;
	int err;

	if (vma->vm_flags & VM_LOCKED)
		return -EINVAL;
	if (vma->vm_file == NULL)
		return -EINVAL;
	if ((vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) !=
	    (VM_SHARED | VM_MAYWRITE))
		return -EACCES;		/* !vma_is_shared_maywrite() */
	f = file_inode(vma->vm_file);
	first = vma->vm_pgoff + ((start - vma->vm_start) >> AS_PAGE_SHIFT);
	ihold(f);
	*lock_dropped = true;
	mmap_write_unlock(mm);
	err = punch_hole(mm->session, f,
	    first, first + ((end - start) >> AS_PAGE_SHIFT) - 1);
	iput(mm->session, f);
	mmap_write_lock(mm);
	return err;
}

/* What an advice does to the piece [start, end) of a VMA. */
static void explain_madvise(unsigned long start, unsigned long end,
    int behavior)
{
	const char *what;

	switch (behavior) {
	case MADV_WILLNEED: what = "readahead only: nothing visible"; break;
	case MADV_DONTNEED: what = "zap_page_range: its pages dropped (private"
	    " anonymous memory reads back as zeros, a file's from the page "
	    "cache)"; break;
	case MADV_FREE: what = "lazy free: clean anonymous pages are dropped "
	    "under pressure unless written again"; break;
	case MADV_COLD: what = "deactivated: first in line for reclaim"; break;
	case MADV_PAGEOUT: what = "reclaimed now (anonymous pages to swap, "
	    "if there is swap)"; break;
	case MADV_REMOVE: what = "a hole punched in the shared object"; break;
	default: what = "VmFlags changed (a merge or split, if any, above)";
	    break;
	}
	explain_op("madvise 0x%lx-0x%lx: %s", start, end, what);
}

/* The advice applied to [start, end) of vma. */
static int madvise_vma_advise(struct vma *vma, struct vma **prev,
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
	if (behavior == MADV_FREE) {
		*prev = vma;
		return madvise_free(vma, start, end);
	}
	if (behavior == MADV_COLD || behavior == MADV_PAGEOUT) {
		*prev = vma;
		return madvise_cold_or_pageout(vma, start, end,
		    behavior == MADV_PAGEOUT);
	}
	if (behavior == MADV_REMOVE) {
		bool dropped = false;

		*prev = vma;
		err = madvise_remove(vma, start, end, &dropped);
		if (dropped)
			*prev = NULL;	/* the VMA may be gone: look again */
		return err;
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

/* madvise_vma_behavior(): apply one advice to [start, end) of vma. */
static int madvise_vma_behavior(struct vma *vma, struct vma **prev,
    unsigned long start, unsigned long end, int behavior)
{
	bool locked = (vma->vm_flags & VM_LOCKED) != 0;	/* vma may go */
	int err = madvise_vma_advise(vma, prev, start, end, behavior);

	if (err == 0)
		explain_madvise(start, end, behavior);
	else if (err == -EINVAL && locked)
		explain_op("madvise 0x%lx-0x%lx: a locked VMA (mlock): -EINVAL",
		    start, end);
	return err;
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
			explain_op("madvise: hole at 0x%lx: -ENOMEM once the "
			    "rest is advised", start);
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

/* models check_vma_flags() for FOLL_MADV_POPULATE: 0 or -EFAULT. */
static int check_vma_flags(const struct vma *vma, bool write)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return -EFAULT;
	if (write ? !(vma->vm_flags & VM_WRITE) : !(vma->vm_flags & VM_READ))
		return -EFAULT;
	return 0;
}

/*
 * models madvise_populate() and faultin_page_range(): __get_user_pages()
 * with FOLL_MADV_POPULATE | FOLL_TOUCH (| FOLL_WRITE): each page not
 * present (or, for writing, not writable) is faulted in, reading or
 * writing; a hole ends it with -ENOMEM, a VMA the access may not make
 * with -EINVAL, a fault that would signal with -EFAULT, and running out
 * of memory with -ENOMEM, the pages before it populated.
 */
static int madvise_populate(struct mm *mm, unsigned long start,
    unsigned long end, bool write)
{
	struct vma *vma = NULL;
	unsigned long addr;
	pte_t *pte;
	int ret = 0, found;

	mmap_read_lock(mm);
	for (addr = start; addr < end; addr += AS_PAGE_SIZE) {
		if (vma == NULL || addr >= vma->vm_end) {
			vma = find_vma(mm, addr);	/* vma_lookup() */
			if (vma == NULL || addr < vma->vm_start) {
				ret = -ENOMEM;
				break;
			}
			if (check_vma_flags(vma, write) != 0) {
				ret = -EINVAL;
				break;
			}
		}
		pthread_mutex_lock(&mm->page_table_lock);
		pte = pte_offset(mm, addr);
		found = pte != NULL && (*pte & _PAGE_PRESENT) &&
		    (!write || (*pte & _PAGE_RW));
		if (found) {		/* follow_page_pte() with FOLL_TOUCH */
			struct page *page = vm_normal_page(vma, *pte);

			if (write && page != NULL && !(*pte & _PAGE_DIRTY))
				page_set_flags(page, PG_dirty);
			*pte |= _PAGE_ACCESSED;
		}
		pthread_mutex_unlock(&mm->page_table_lock);
		if (found)
			continue;
		ret = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0,
		    NULL, NULL);
		if (ret & VM_FAULT_OOM) {
			ret = -ENOMEM;
			break;
		}
		if (ret) {		/* VM_FAULT_SIGBUS or VM_FAULT_SIGSEGV */
			ret = -EFAULT;
			break;
		}
	}
	mmap_read_unlock(mm);
	return ret;
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
	if (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE)
		return madvise_populate(mm, start, end,
		    behavior == MADV_POPULATE_WRITE);
	mmap_write_lock(mm);
	ret = madvise_walk_vmas(mm, start, end, behavior);
	mmap_write_unlock(mm);
	if (behavior == MADV_PAGEOUT)	/* the worker it may have queued */
		swap_reclaim_work(&mm->session->phys);
	return ret;
}

/*
 * memory.c: the page-fault handler and page-table maintenance
 * (mm/memory.c, mm/gup.c, mm/filemap.c's map_pages, mm/mremap.c's
 * move_page_tables; mm/mprotect.c's change_protection is mprotect.c's).
 *
 * handle_mm_fault() runs under mmap_lock (read or write) and takes
 * page_table_lock for the PTE work: a missing PTE goes to
 * do_anonymous_page() or do_fault() (read with fault-around, private write
 * copying the file page, shared write dirtying it); a write to a present
 * read-only PTE goes to do_wp_page() (reuse an exclusive anonymous page,
 * else copy).  The caller has already checked the access against the VMA.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "mm.h"
#include "shm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"
#include "swap.h"
#include "vmscan.h"

struct vm_fault {
	struct vma	*vma;
	unsigned long	 address;	/* page aligned */
	unsigned int	 flags;
	unsigned long	 pgoff;		/* file page of address */
	pte_t		*pte;
	struct task	*task;
	struct as_explain *ex;
	struct ra_inflight inflight;	/* reads the retried fault skips */
};

/*
 * copy_user_highpage(): a copy-on-write copy of from.  A page cache page
 * may meanwhile be stored into by a task of another mm, through a shared
 * mapping and under that mm's page_table_lock (try_access() stores single
 * bytes atomically), so its bytes are loaded atomically too: the copy may
 * mix old and new bytes, as Linux's may.  An anonymous page being copied
 * is write-protected in every mm that maps it.
 */
static void copy_user_highpage(struct page *to, const struct page *from)
{
	size_t i;

	if (from->mapping == NULL) {
		memcpy(to->data, from->data, AS_PAGE_SIZE);
		return;
	}
	for (i = 0; i < AS_PAGE_SIZE; i++)
		to->data[i] = __atomic_load_n(&from->data[i], __ATOMIC_RELAXED);
}

static struct as_phys *phys_of(struct vma *vma)
{
	return &vma->vm_mm->session->phys;
}

/* mk_pte() with maybe_mkwrite(pte_mkdirty()) for a write. */
static pte_t mk_pte(struct vma *vma, unsigned long pfn, bool write)
{
	pte_t pte = pfn_pte(pfn, vma->vm_page_prot);

	if (write) {
		pte |= _PAGE_DIRTY;
		if (vma->vm_flags & VM_WRITE)
			pte |= _PAGE_RW;
	}
	return pte;
}

/* vm_normal_page(): the page a PTE maps, NULL for the zero page. */
struct page *vm_normal_page(struct vma *vma, pte_t pte)
{
	if (!pte_present(pte) || (pte & _PAGE_SPECIAL))
		return NULL;
	return pfn_to_page(phys_of(vma), pte_pfn(pte));
}

/* A fresh anonymous page for vma (refcount 1 held by the mapping), at
 * linear_page_index() and on the inactive anon list. */
static struct page *alloc_anon_page(struct vma *vma, unsigned long address)
{
	struct page *page = alloc_page(phys_of(vma));

	if (page == NULL)
		return NULL;
	page->flags |= PG_anon | PG_swapbacked;
	page->anon_excl = 1;
	page->anon_vma = vma->anon_vma;		/* __folio_set_anon() */
	page->index = vma->vm_pgoff + ((address - vma->vm_start) >>
	    AS_PAGE_SHIFT);
	page->counts = PAGE_MAP_ONE | 1;
	folio_add_lru(phys_of(vma), page);
	return page;
}

/* The PTE slot, allocating the PTE table now if the fault had none. */
static bool vmf_pte_alloc(struct vm_fault *vmf)
{
	if (vmf->pte == NULL)
		vmf->pte = pte_offset_alloc(vmf->vma->vm_mm, vmf->address);
	return vmf->pte != NULL;
}

/* Map a page-cache page at vmf's PTE (a new mapping and reference). */
static void map_file_page(struct vm_fault *vmf, struct page *page, bool write)
{
	*vmf->pte = mk_pte(vmf->vma, page->pfn, write);
	page_dup_rmap(page);
}

/* mm_forbids_zeropage(): a machine booted without the shared zero page. */
static bool mm_forbids_zeropage(struct mm *mm)
{
	return !mm->session->limits.zero_page;
}

/*
 * do_anonymous_page(): the zero page for a read, else a new frame, mapped
 * dirty and writable in a writable VMA (a read fault too, where the zero
 * page is forbidden), clean and read-only otherwise.
 */
static int do_anonymous_page(struct vm_fault *vmf)
{
	struct vma *vma = vmf->vma;
	struct page *page;

	if (!vmf_pte_alloc(vmf))
		return VM_FAULT_OOM;
	if (!(vmf->flags & FAULT_FLAG_WRITE) &&
	    !mm_forbids_zeropage(vma->vm_mm)) {
		*vmf->pte = pfn_pte(phys_of(vma)->zero_pfn,
		    (vma->vm_page_prot & ~_PAGE_RW) | _PAGE_SPECIAL);
		COUNT(vmf->task, vma->vm_mm->session, zero_page_maps);
		explain(vmf->ex, "do_anonymous_page: zero page mapped");
		return 0;
	}
	if (__anon_vma_prepare(vma) != 0 ||
	    (page = alloc_anon_page(vma, vmf->address)) == NULL)
		return VM_FAULT_OOM;
	*vmf->pte = mk_pte(vma, page->pfn, vma->vm_flags & VM_WRITE);
	COUNT(vmf->task, vma->vm_mm->session, anon_faults);
	explain(vmf->ex, "do_anonymous_page: frame 0x%lx%s", page->pfn,
	    vmf->flags & FAULT_FLAG_WRITE ? "" : " (no zero page)");
	return 0;
}

/* fault_around_pages: fault_around_bytes (64 KiB unless the machine's
 * kernel parameter says otherwise) in pages. */
static unsigned long fault_around_pages(struct vma *vma)
{
	return vma->vm_mm->session->limits.fault_around_bytes >> AS_PAGE_SHIFT;
}

/* next_uptodate_folio()'s test: a cached page at pg that fault-around
 * may map, not one with the readahead mark (PG_reclaim) nor one still
 * being read (locked); no reference. */
static struct page *fault_around_page(struct vm_fault *vmf, struct as_file *f,
    unsigned long pg)
{
	struct page *page = filemap_lookup(f, pg);

	return page != NULL && !page_test(page, PG_reclaim) &&
	    !ra_inflight_test(&vmf->inflight, pg) ? page : NULL;
}

/*
 * do_fault_around(): map the cached pages of the fault_around_bytes-aligned
 * block around the fault (clipped to the VMA, the page table and the end
 * of the file) whose PTEs are empty.  Returns true if the faulting page is
 * mapped.
 */
static bool do_fault_around(struct vm_fault *vmf)
{
	struct vma *vma = vmf->vma;
	struct as_file *f = file_inode(vma->vm_file);
	unsigned long pte_off = (vmf->address >> AS_PAGE_SHIFT) & 511;
	unsigned long vma_off = vmf->pgoff - vma->vm_pgoff, from, to, pg, end;
	unsigned long nr = 0, last = file_size_pages(f);
	unsigned long nr_pages = fault_around_pages(vma);
	struct page *page;
	pte_t *pte;
	bool mapped = false;

	/* should_fault_around(): a System V shm attachment's operations
	 * have no map_pages(), so it never faults around. */
	if (nr_pages <= 1 || vma_is_shm(vma))
		return false;
	from = pte_off - (pte_off < vma_off ? pte_off : vma_off);
	if ((pte_off & ~(nr_pages - 1)) > from)
		from = pte_off & ~(nr_pages - 1);
	to = from + nr_pages;
	if (to > 512)
		to = 512;
	if (to > pte_off + vma_pages(vma) - vma_off)
		to = pte_off + vma_pages(vma) - vma_off;
	end = vmf->pgoff + to - pte_off < last ? vmf->pgoff + to - pte_off : last;
	pg = vmf->pgoff + from - pte_off;
	while (pg < end && fault_around_page(vmf, f, pg) == NULL)
		pg++;
	/* Nothing cached: no PTE table is made.  Nor is one (Linux 6.18's
	 * filemap_map_pmd()) when the first cached page is the file's last,
	 * except for shmem, which may map across its size. */
	if (pg >= end ||
	    (vmf->pte == NULL && pg + 1 >= last && !f->shmem_zero))
		return false;
	if (!vmf_pte_alloc(vmf))
		return false;
	for (; pg < end; pg++) {
		if ((page = filemap_get_page(f, pg)) == NULL)
			continue;
		pte = vmf->pte + (long)(pg - vmf->pgoff);
		if (*pte != 0 || page_test(page, PG_reclaim) ||
		    ra_inflight_test(&vmf->inflight, pg)) {
			put_page(phys_of(vma), page);
			continue;
		}
		*pte = mk_pte(vma, page->pfn, false);
		page_mapcount_add(page, 1);	/* its reference: taken */
		nr++;
		mapped |= pg == vmf->pgoff;
	}
	vm_event_states.fault_around_pages += nr;
	if (vmf->task != NULL)
		vmf->task->counters.fault_around_pages += nr;
	else
		__atomic_add_fetch(
		    &vma->vm_mm->session->counters.fault_around_pages, nr,
		    __ATOMIC_RELAXED);
	explain(vmf->ex, "do_read_fault: fault-around 0x%lx-0x%lx mapped "
	    "%lu pages", vmf->address - ((pte_off - from) << AS_PAGE_SHIFT),
	    vmf->address + ((to - pte_off) << AS_PAGE_SHIFT), nr);
	return mapped;
}

/* do_sync_mmap_readahead() (filemap.c) for the page vmf faults on. */
static bool sync_mmap_readahead(struct vm_fault *vmf)
{
	return do_sync_mmap_readahead(vmf->vma, vmf->pgoff, &vmf->inflight);
}

/* The page-cache page for vmf with a reference the caller drops, or
 * NULL with the VM_FAULT_* in *ret. */
static struct page *fault_file_page(struct vm_fault *vmf, int *ret)
{
	bool sigbus, major = false;
	struct page *page;

	(void)sync_mmap_readahead(vmf);
	page = __filemap_fault(phys_of(vmf->vma),
	    file_inode(vmf->vma->vm_file), vmf->pgoff, &sigbus, &major);
	if (major) {		/* shmem_swapin_folio() */
		COUNT(vmf->task, vmf->vma->vm_mm->session, major_faults);
		if (page != NULL)
			COUNT(vmf->task, vmf->vma->vm_mm->session, pswpin);
		explain(vmf->ex, "shmem_swapin_folio: swap entry read back%s",
		    page != NULL ? "" : ": out of memory");
	}

	if (page != NULL && page_test(page, PG_reclaim))
		page_clear_flags(page, PG_reclaim);	/* async readahead */
	if (page == NULL) {
		*ret = sigbus ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
		explain(vmf->ex, sigbus ? "page past end of file: SIGBUS" :
		    "out of memory");
	}
	return page;
}

static int do_read_fault(struct vm_fault *vmf)
{
	struct page *page;
	int ret = 0;

	if (do_fault_around(vmf)) {
		COUNT(vmf->task, vmf->vma->vm_mm->session, file_read_faults);
		return 0;
	}
	/* read back after reclaim, then the retried fault's fault-around */
	if (sync_mmap_readahead(vmf)) {
		if (do_fault_around(vmf)) {
			COUNT(vmf->task, vmf->vma->vm_mm->session,
			    file_read_faults);
			return 0;
		}
	}
	if ((page = fault_file_page(vmf, &ret)) == NULL)
		return ret;
	if (!vmf_pte_alloc(vmf)) {
		put_page(phys_of(vmf->vma), page);
		return VM_FAULT_OOM;
	}
	map_file_page(vmf, page, false);
	put_page(phys_of(vmf->vma), page);
	COUNT(vmf->task, vmf->vma->vm_mm->session, file_read_faults);
	explain(vmf->ex, "do_read_fault: page cache frame 0x%lx", page->pfn);
	return 0;
}

/* do_cow_fault(): a private write copies the file's page. */
static int do_cow_fault(struct vm_fault *vmf)
{
	struct vma *vma = vmf->vma;
	struct page *page, *new;
	int ret = 0;

	if (__anon_vma_prepare(vma) != 0 ||
	    (new = alloc_anon_page(vma, vmf->address)) == NULL)
		return VM_FAULT_OOM;
	if ((page = fault_file_page(vmf, &ret)) == NULL) {
		new->counts = 1;
		put_page(phys_of(vma), new);
		return ret;
	}
	if (!vmf_pte_alloc(vmf)) {
		new->counts = 1;
		put_page(phys_of(vma), new);
		put_page(phys_of(vma), page);
		return VM_FAULT_OOM;
	}
	copy_user_highpage(new, page);
	put_page(phys_of(vma), page);
	*vmf->pte = mk_pte(vma, new->pfn, true);
	COUNT(vmf->task, vma->vm_mm->session, cow_copies);
	explain(vmf->ex, "do_cow_fault: copied page cache frame 0x%lx -> 0x%lx",
	    page->pfn, new->pfn);
	return 0;
}

/* do_shared_fault(): a shared write maps the cache page dirty. */
static int do_shared_fault(struct vm_fault *vmf)
{
	struct page *page;
	int ret = 0;

	if ((page = fault_file_page(vmf, &ret)) == NULL)
		return ret;
	if (!vmf_pte_alloc(vmf)) {
		put_page(phys_of(vmf->vma), page);
		return VM_FAULT_OOM;
	}
	page_set_flags(page, PG_dirty);
	map_file_page(vmf, page, true);
	put_page(phys_of(vmf->vma), page);
	COUNT(vmf->task, vmf->vma->vm_mm->session, shared_faults);
	explain(vmf->ex, "do_shared_fault: page cache frame 0x%lx dirtied",
	    page->pfn);
	return 0;
}

static int do_fault(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return do_read_fault(vmf);
	if (!(vmf->vma->vm_flags & VM_SHARED))
		return do_cow_fault(vmf);
	return do_shared_fault(vmf);
}

/* wp_page_copy(): give the writer its own copy of the page. */
static int wp_page_copy(struct vm_fault *vmf, struct page *old)
{
	struct vma *vma = vmf->vma;
	struct page *new;

	if (__anon_vma_prepare(vma) != 0 ||
	    (new = alloc_anon_page(vma, vmf->address)) == NULL)
		return VM_FAULT_OOM;
	if (old != NULL)
		copy_user_highpage(new, old);
	*vmf->pte = mk_pte(vma, new->pfn, true);
	if (old != NULL)
		page_remove_rmap_put(phys_of(vma), old);
	COUNT(vmf->task, vma->vm_mm->session, cow_copies);
	if (old != NULL)
		explain(vmf->ex, "do_wp_page: copied frame 0x%lx -> 0x%lx",
		    old->pfn, new->pfn);
	else
		explain(vmf->ex, "do_wp_page: copied zero page -> 0x%lx",
		    new->pfn);
	return 0;
}

/* do_wp_page(): a write to a present, write-protected PTE. */
static int do_wp_page(struct vm_fault *vmf)
{
	struct vma *vma = vmf->vma;
	struct page *page = vm_normal_page(vma, *vmf->pte);

	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
		if (page != NULL)
			page_set_flags(page, PG_dirty);	/* page_mkwrite */
		*vmf->pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
		COUNT(vmf->task, vma->vm_mm->session, shared_faults);
		explain(vmf->ex, "do_wp_page: shared page made writable");
		return 0;
	}
	/* wp_can_reuse_anon_folio(): only ours, once out of the swap
	 * cache (which it leaves if no swap PTE names its slot). */
	if (page != NULL && page_test(page, PG_anon) &&
	    (page_exclusive(page) || (page_refcount(page) == 1 &&
	    (!page_test(page, PG_swapcache) ||
	    folio_free_swap(phys_of(vma), page))))) {
		page_set_exclusive(page, true);
		page->anon_vma = vma->anon_vma;	/* folio_move_anon_rmap() */
		*vmf->pte |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
		COUNT(vmf->task, vma->vm_mm->session, wp_reuses);
		explain(vmf->ex, "do_wp_page: reused frame 0x%lx", page->pfn);
		return 0;
	}
	return wp_page_copy(vmf, page);
}

/* models should_try_to_free_swap() for a device without
 * SWP_SYNCHRONOUS_IO (a swap file): the swap is more than half full, the
 * VMA or page is mlocked, or a write fault finds the page mapped here
 * only. */
static bool should_try_to_free_swap(struct swap_info_struct *si,
    struct page *page, struct vma *vma, unsigned int flags)
{
	if (!page_test(page, PG_swapcache))
		return false;
	if (vm_swap_full(si) || (vma->vm_flags & VM_LOCKED) ||
	    page_test(page, PG_mlocked))
		return true;
	return (flags & FAULT_FLAG_WRITE) && page_refcount(page) == 1;
}

/*
 * do_swap_page(): a swap PTE faults its page back in: the page in the
 * swap cache, else a new frame read from the slot (added to the swap
 * cache; a major fault, and a pswpin).  The PTE's swap reference is dropped, then the swap
 * cache is left (slot freed, page dirty) where should_try_to_free_swap()
 * says so.  The page is mapped writable (and dirty for a write) if it
 * was exclusive when swapped out or is only ours, else read-only, a
 * write then going on to do_wp_page().
 */
static int do_swap_page(struct vm_fault *vmf)
{
	struct vma *vma = vmf->vma;
	struct as_phys *phys = phys_of(vma);
	struct swap_info_struct *si = phys->swap;
	pte_t orig = *vmf->pte, pte;
	unsigned long off = pte_swp_offset(orig);
	bool exclusive = (orig & _PAGE_SWP_EXCLUSIVE) != 0, fresh = false;
	struct page *page;

	if (__anon_vma_prepare(vma) != 0)
		return VM_FAULT_OOM;
	if ((page = swap_cache_get(phys, off)) != NULL) {
		page_mapcount_add(page, 1);	/* the reference: taken */
		if (page_mapcount(page) == 1)	/* mapped nowhere else */
			page->anon_vma = vma->anon_vma;
	} else {
		if ((page = alloc_anon_page(vma, vmf->address)) == NULL)
			return VM_FAULT_OOM;
		page->anon_excl = 0;
		swap_read_folio(phys, off, page);
		fresh = true;
		/* read from the slot: PGMAJFAULT, and PSWPIN as
		 * swap_read_folio() counts it; a swap-cache hit is
		 * neither (a minor fault, as Linux counts it) */
		COUNT(vmf->task, vma->vm_mm->session, major_faults);
		COUNT(vmf->task, vma->vm_mm->session, pswpin);
	}
	swap_free(phys, off);
	if (should_try_to_free_swap(si, page, vma, vmf->flags))
		(void)folio_free_swap(phys, page);
	pte = pfn_pte(page->pfn, vma->vm_page_prot);
	if (exclusive || (!page_test(page, PG_swapcache) &&
	    page_refcount(page) == 1)) {
		if (vma->vm_flags & VM_WRITE) {
			pte |= _PAGE_RW;
			if (vmf->flags & FAULT_FLAG_WRITE) {
				pte |= _PAGE_DIRTY;
				vmf->flags &= ~FAULT_FLAG_WRITE;
			}
		}
		page_set_exclusive(page, true);
	}
	*vmf->pte = pte | _PAGE_ACCESSED;
	explain(vmf->ex, "do_swap_page: swap slot %lu -> frame 0x%lx%s%s", off,
	    page->pfn, fresh ? " (read)" : " (swap cache)",
	    page_test(page, PG_swapcache) ? "" : ", slot freed");
	if (vmf->flags & FAULT_FLAG_WRITE)
		return do_wp_page(vmf);
	return 0;
}

/* handle_pte_fault(): dispatch on the state of the PTE. */
static int handle_pte_fault(struct vm_fault *vmf)
{
	pte_t pte = vmf->pte != NULL ? *vmf->pte : 0;

	if (pte == 0)
		return vma_is_anonymous(vmf->vma) ? do_anonymous_page(vmf) :
		    do_fault(vmf);
	if (is_swap_pte(pte))
		return do_swap_page(vmf);
	if (!(pte & _PAGE_PRESENT))
		return VM_FAULT_SIGSEGV;	/* PROT_NONE PTE */
	if ((vmf->flags & FAULT_FLAG_WRITE) && !(pte & _PAGE_RW))
		return do_wp_page(vmf);
	*vmf->pte |= _PAGE_ACCESSED;		/* spurious: already fixed */
	explain(vmf->ex, "PTE already present");
	return 0;
}

/* handle_mm_fault(): resolve a fault at address in vma. */
int handle_mm_fault(struct vma *vma, unsigned long address,
    unsigned int flags, struct task *task, struct as_explain *ex)
{
	struct mm *mm = vma->vm_mm;
	struct vm_fault vmf = { .vma = vma, .task = task, .ex = ex };
	size_t exlen = ex != NULL ? ex->len : 0;
	unsigned long freed;
	bool busy;
	int ret, tries, no_progress = 0;

	COUNT(task, mm->session, minor_faults);
	for (tries = 0; ; tries++) {
		vmf.address = address & AS_PAGE_MASK;
		vmf.flags = flags;
		vmf.pgoff = vma->vm_pgoff + ((vmf.address - vma->vm_start) >>
		    AS_PAGE_SHIFT);
		pthread_mutex_lock(&mm->page_table_lock);
		vmf.pte = pte_offset(mm, vmf.address);	/* NULL: no table */
		vmf.inflight.mask = 0;
		ret = handle_pte_fault(&vmf);
		pthread_mutex_unlock(&mm->page_table_lock);
		if (!(ret & VM_FAULT_OOM) || no_progress == MAX_RECLAIM_RETRIES ||
		    tries == MAX_FAULT_RETRIES)
			break;
		/* should_reclaim_retry(): no progress, but locks were busy;
		 * progress starts the count again (another thread may have
		 * taken what was freed) */
		if ((freed = try_to_free_pages(mm->session, mm, &busy)) == 0 &&
		    !busy)
			break;
		no_progress = freed > 0 ? 0 : no_progress + 1;
		if (freed == 0)
			sched_yield();
		/* __alloc_pages_direct_reclaim(), then the fault again */
		if (ex != NULL && ex->on) {
			ex->len = exlen;
			ex->text[exlen] = '\0';
		}
		explain(ex, "RAM full: direct reclaim freed %lu page%s, "
		    "fault retried", freed, freed == 1 ? "" : "s");
	}
	if (ret & VM_FAULT_OOM)
		COUNT(task, mm->session, oom);
	return ret;
}

/* models follow_page_pte()'s FOLL_TOUCH for a write: a clean writable
 * PTE (an exclusive anonymous page mprotect() made writable) dirties its
 * page. */
static void follow_page_touch(struct vma *vma, pte_t pte)
{
	struct page *page = vm_normal_page(vma, pte);

	if (page != NULL && !(pte & _PAGE_DIRTY))
		page_set_flags(page, PG_dirty);
}

/*
 * populate_vma_page_range(): the faultin_page() loop of __get_user_pages():
 * fault in [start, end) of vma for reading, or writing to break COW;
 * returns pages done or -errno.
 */
long populate_vma_page_range(struct vma *vma, unsigned long start,
    unsigned long end)
{
	unsigned long nr = (end - start) >> AS_PAGE_SHIFT, i, addr;
	bool write = (vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
	pte_t *pte;
	int ret;

	if (vma->vm_flags & VM_LOCKONFAULT)
		return (long)nr;
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return -EFAULT;		/* PROT_NONE cannot be populated */
	for (i = 0; i < nr; i++) {
		addr = start + (i << AS_PAGE_SHIFT);
		pthread_mutex_lock(&vma->vm_mm->page_table_lock);
		pte = pte_offset(vma->vm_mm, addr);
		ret = pte != NULL && (*pte & _PAGE_PRESENT) &&
		    (!write || (*pte & _PAGE_RW));
		if (ret && write)
			follow_page_touch(vma, *pte);
		pthread_mutex_unlock(&vma->vm_mm->page_table_lock);
		if (ret)
			continue;	/* follow_page() found it */
		ret = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0,
		    NULL, NULL);
		if (ret & VM_FAULT_OOM)
			return i ? (long)i : -ENOMEM;
		if (ret)
			return i ? (long)i : -EFAULT;
	}
	return (long)nr;
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

/* zap_pte(): drop one PTE's mapping of its page. */
static void zap_pte(struct vma *vma, pte_t *pte)
{
	struct page *page;

	if (pte_present(*pte) && (page = vm_normal_page(vma, *pte)) != NULL) {
		if (!page_test(page, PG_anon) && (*pte & _PAGE_DIRTY))
			page_set_flags(page, PG_dirty);	/* set_page_dirty */
		if (!page_test(page, PG_anon) && (*pte & _PAGE_ACCESSED))
			folio_mark_accessed(phys_of(vma), page);
		page_remove_rmap_put(phys_of(vma), page);
	} else if (is_swap_pte(*pte)) {
		free_swap_and_cache(phys_of(vma), pte_swp_offset(*pte));
	}
	*pte = 0;
}

/* A walk's current PTE table, so that each step costs no table walk. */
struct pte_cursor {
	pte_t		*table;		/* entry 0 of the table, or NULL */
	unsigned long	 base;		/* address the table starts at */
	unsigned long	 next;		/* no table: where one could start */
};
#define PTE_CURSOR_INIT	{ NULL, 1, 0 }	/* no table base is odd */

/* The next address at or after addr whose PTE table exists (its slot in
 * *ptep), or end; a shared table is made mm's own first if unshare.  A
 * missing PUD or PGD table skips all it would span, so that a walk costs
 * the tables there are, not the size of the range. */
static unsigned long next_pte(struct mm *mm, unsigned long addr,
    unsigned long end, pte_t **ptep, struct pte_cursor *c, int unshare)
{
	const unsigned long pmd_size = 1UL << PMD_SHIFT;
	unsigned long base;

	while (addr < end) {
		base = addr & ~(pmd_size - 1);
		if (base != c->base) {
			c->base = base;
			c->table = pte_offset_next(mm, base, &c->next,
			    unshare);
		}
		if (c->table != NULL) {
			*ptep = c->table + ((addr >> AS_PAGE_SHIFT) & 511);
			return addr;
		}
		if (c->next <= addr)	/* the top of the address space */
			return end;
		addr = c->next;
	}
	return addr;
}

static void zap_one(void *vma, unsigned long addr, pte_t *pte)
{
	(void)addr;
	zap_pte(vma, pte);
}

/* models zap_page_range_single(): unmap the pages of [start, end) of vma. */
void zap_page_range(struct vma *vma, unsigned long start, unsigned long end)
{
	walk_page_range(vma->vm_mm, start, end, zap_one, vma);
}

/*
 * move_page_tables(): move the PTEs of [old_addr, old_addr + len) to
 * new_addr; returns the bytes moved (less than len if tables ran out).
 */
unsigned long move_page_tables(struct vma *vma, unsigned long old_addr,
    struct vma *new_vma, unsigned long new_addr, unsigned long len)
{
	struct mm *mm = vma->vm_mm;
	unsigned long done, end = old_addr + len, addr;
	struct pte_cursor cur = PTE_CURSOR_INIT;
	pte_t *old, *new;

	(void)new_vma;
	pthread_mutex_lock(&mm->page_table_lock);
	for (addr = next_pte(mm, old_addr, end, &old, &cur, 1); addr < end;
	    addr = next_pte(mm, addr + AS_PAGE_SIZE, end, &old, &cur, 1)) {
		if (*old == 0)
			continue;
		done = addr - old_addr;
		if ((new = pte_offset_alloc(mm, new_addr + done)) == NULL) {
			pthread_mutex_unlock(&mm->page_table_lock);
			return done;
		}
		*new = *old;
		*old = 0;
	}
	pthread_mutex_unlock(&mm->page_table_lock);
	return len;
}

/* Call fn on every non-empty PTE of [start, end) under page_table_lock;
 * shared tables unshared first if unshare. */
static void __walk_page_range(struct mm *mm, unsigned long start,
    unsigned long end, void (*fn)(void *arg, unsigned long addr, pte_t *pte),
    void *arg, int unshare)
{
	struct pte_cursor cur = PTE_CURSOR_INIT;
	unsigned long addr;
	pte_t *pte;

	pthread_mutex_lock(&mm->page_table_lock);
	for (addr = next_pte(mm, start, end, &pte, &cur, unshare); addr < end;
	    addr = next_pte(mm, addr + AS_PAGE_SIZE, end, &pte, &cur, unshare))
		if (*pte != 0)
			fn(arg, addr, pte);
	pthread_mutex_unlock(&mm->page_table_lock);
}

/* walk_page_range(): for a walk that changes PTEs. */
void walk_page_range(struct mm *mm, unsigned long start, unsigned long end,
    void (*fn)(void *arg, unsigned long addr, pte_t *pte), void *arg)
{
	__walk_page_range(mm, start, end, fn, arg, 1);
}

/* walk_page_range() for a walk that only reads: fn must not write *pte,
 * which may lie in a table fork shared. */
void walk_page_range_ro(struct mm *mm, unsigned long start,
    unsigned long end, void (*fn)(void *arg, unsigned long addr, pte_t *pte),
    void *arg)
{
	__walk_page_range(mm, start, end, fn, arg, 0);
}

/* Copy one PTE into the child (models copy_present_pte()); true if it was
 * write-protected for copy on write. */
static bool copy_pte(struct vma *dst, struct vma *src, pte_t *dpte,
    pte_t *spte)
{
	pte_t pte = *spte;
	struct page *page = vm_normal_page(src, pte);
	bool cow = (src->vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;

	if (page != NULL) {
		page_dup_rmap(page);
		if (page_exclusive(page))	/* shared with the child now */
			page_set_exclusive(page, false);
	}
	if (dst->vm_flags & VM_SHARED)
		pte &= ~_PAGE_DIRTY;
	*dpte = pte & ~_PAGE_ACCESSED;
	if (cow && (pte & _PAGE_RW)) {		/* both sides copy on write */
		*spte &= ~_PAGE_RW;
		*dpte &= ~_PAGE_RW;
		return true;
	}
	return false;
}

/* copy_nonpresent_pte(): a swap entry is shared with the child, one more
 * swap count, and exclusive no more on either side. */
static void copy_nonpresent_pte(struct vma *src, pte_t *dpte, pte_t *spte)
{
	swap_duplicate(phys_of(src), pte_swp_offset(*spte));
	*spte &= ~_PAGE_SWP_EXCLUSIVE;
	*dpte = *spte;
}

/* copy_pte_range(): copy src's PTEs of [addr, end), in one PTE table,
 * into dst's table, made now even if none is present; 0 or -ENOMEM. */
static int copy_pte_range(struct vma *dst, struct vma *src, unsigned long addr,
    unsigned long end, unsigned long *nr, unsigned long *wp)
{
	pte_t *spte = pte_offset(src->vm_mm, addr), *dpte;

	if (spte == NULL)
		return -ENOMEM;		/* no host memory to unshare it */
	if ((dpte = pte_offset_alloc(dst->vm_mm, addr)) == NULL)
		return -ENOMEM;
	for (; addr < end; addr += AS_PAGE_SIZE, spte++, dpte++) {
		if (pte_present(*spte))
			*wp += copy_pte(dst, src, dpte, spte);
		else if (is_swap_pte(*spte))
			copy_nonpresent_pte(src, dpte, spte);
		*nr += *spte != 0;
	}
	return 0;
}

/* The present and swap PTEs of [addr, end) in a table, for a message. */
static unsigned long count_ptes(struct mm *mm, unsigned long addr,
    unsigned long end)
{
	pte_t *pte = pte_offset_ro(mm, addr, NULL);
	unsigned long n = 0;

	for (; pte != NULL && addr < end; addr += AS_PAGE_SIZE, pte++)
		n += *pte != 0;
	return n;
}

/*
 * copy_page_range(): copy src's PTEs into dst (a fork child's VMA) when
 * src has anonymous pages; other VMAs fault afresh in the child.  A PTE
 * table whose whole span fork copies is shared instead (pt_share.c).
 */
int copy_page_range(struct vma *dst, struct vma *src)
{
	struct mm *mm = src->vm_mm, *dmm = dst->vm_mm;
	unsigned long addr, next, end = src->vm_end, nr = 0, wp = 0, tables;
	unsigned long shared = 0;
	struct pte_share_batch b;
	int err = 0;

	if (src->anon_vma == NULL)
		return 0;
	pthread_mutex_lock(&mm->page_table_lock);
	pthread_mutex_lock(&dmm->page_table_lock);
	pte_share_begin(&b, dst, src);
	for (addr = src->vm_start; addr < end && err == 0; addr = next) {
		next = (addr | (PMD_SIZE - 1)) + 1;
		if (pte_offset_next(mm, addr, &next, 0) == NULL) {
			next = next == 0 || next > end ? end : next;
			continue;	/* no table: nothing to copy */
		}
		next = next > end ? end : next;
		if (pte_share_table(&b, addr & ~(PMD_SIZE - 1))) {
			if (explain_recording())
				shared += count_ptes(mm, addr, next);
			continue;
		}
		err = copy_pte_range(dst, src, addr, next, &nr, &wp);
	}
	pte_share_end(&b);
	tables = b.tables;
	pthread_mutex_unlock(&dmm->page_table_lock);
	pthread_mutex_unlock(&mm->page_table_lock);
	if (tables != 0)
		explain_op("copy_page_range 0x%lx-0x%lx: %lu PTE table%s "
		    "(%lu PTEs) shared with the child, write-protected at the "
		    "PMD in both mms, each copied on its first change "
		    "(kernel share_tables); %lu PTEs copied", src->vm_start,
		    src->vm_end, tables, tables == 1 ? "" : "s", shared, nr);
	else
		explain_op("copy_page_range 0x%lx-0x%lx: %lu PTEs copied, %lu "
		    "write-protected in both mms (copy on write)",
		    src->vm_start, src->vm_end, nr, wp);
	return err;
}

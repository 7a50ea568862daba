/*
 * vmscan.c: page reclaim under memory pressure (mm/vmscan.c, mm/swap.c's
 * LRU lists, mm/rmap.c's folio_referenced() and try_to_unmap()).
 *
 * Every page a task may map and every page-cache page is on one of four
 * lists (inactive/active anon, inactive/active file), a new page at the
 * head of its inactive list.  When a fault finds RAM full it calls
 * try_to_free_pages(), which shrinks the lists from their tails by
 * priority as shrink_lruvec() does: an active list is shrunk (its pages
 * deactivated) while its inactive list is the smaller, and each inactive
 * page is judged by folio_check_references(): mapped by a PTE young since
 * the last scan, it is kept once (PG_referenced) and activated the next
 * time; otherwise it is reclaimed: an anonymous page goes to swap (only
 * with swap), a lazily freed clean one is dropped, a file page leaves the
 * page cache (written back first if dirty).  Mlocked pages are activated,
 * never freed.  The walk of a page's mappings (the reverse map) visits
 * the VMAs of its anon_vma's rb_root or of its file's i_mmap, listed
 * under their lock and visited after it; another mm's mmap_lock is only
 * tried, a busy one leaving the pages it maps where they are (as
 * try_to_unmap() may fail), and the page_table_locks are taken one at a
 * time.  Locking: the lock order at
 * the top of mm.c; the policy: docs/architecture.md ("Reclaim").
 */
#include <errno.h>
#include <stdlib.h>

#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"
#include "shmem.h"
#include "swap.h"
#include "session.h"
#include "vmscan.h"

#define RECLAIM_MMS_MAX	64	/* mms one reclaim visits */

struct scan_control {
	struct as_session *s;
	struct as_phys	*phys;
	struct mm	*cur;		/* its mmap_lock held by the caller */
	struct mm	*mms[RECLAIM_MMS_MAX];
	bool		 usable[RECLAIM_MMS_MAX];	/* mmap_lock held */
	bool		 locked[RECLAIM_MMS_MAX];	/* taken here */
	int		 nmm;
	bool		 may_swap;
	unsigned long	 nr_to_reclaim;
	unsigned long	 nr_reclaimed;
	unsigned long	 nr_scanned;
	bool		 contended;	/* a busy lock passed a page over */
};

/* ---- the lists (mm/swap.c, include/linux/mm_inline.h) ---- */

void lru_init(struct as_phys *p)
{
	pthread_mutex_init(&p->lruvec.lru_lock, NULL);
}

/* A list's size changes under lru_lock; reclaim's heuristics read it
 * without (lru_size()), so both are atomic. */
static void lru_nr_add(struct lruvec *lv, enum lru_list l, long n)
{
	__atomic_add_fetch(&lv->nr[l], (unsigned long)n, __ATOMIC_RELAXED);
}

static unsigned long lru_size(const struct lruvec *lv, enum lru_list l)
{
	return __atomic_load_n(&lv->nr[l], __ATOMIC_RELAXED);
}

/* folio_lru_list(): the list a page's flags name. */
static enum lru_list folio_lru_list(const struct page *page)
{
	enum lru_list l = page_test(page, PG_swapbacked) ? LRU_INACTIVE_ANON :
	    LRU_INACTIVE_FILE;

	return page_test(page, PG_active) ? l + 1 : l;
}

/* lruvec_add_folio(): at the head of its list; lru_lock held. */
static void lruvec_add_folio(struct lruvec *lv, struct page *page)
{
	enum lru_list l = folio_lru_list(page);

	page->lru_prev = NULL;
	page->lru_next = lv->head[l];
	if (lv->head[l] != NULL)
		lv->head[l]->lru_prev = page;
	else
		lv->tail[l] = page;
	lv->head[l] = page;
	lru_nr_add(lv, l, 1);
	page->lru = (uint8_t)(l + 1);
	page_set_flags(page, PG_lru);
}

/* lruvec_del_folio(): off its list; lru_lock held. */
static void lruvec_del_folio(struct lruvec *lv, struct page *page)
{
	enum lru_list l = (enum lru_list)(page->lru - 1);

	if (page->lru_prev != NULL)
		page->lru_prev->lru_next = page->lru_next;
	else
		lv->head[l] = page->lru_next;
	if (page->lru_next != NULL)
		page->lru_next->lru_prev = page->lru_prev;
	else
		lv->tail[l] = page->lru_prev;
	lru_nr_add(lv, l, -1);
	page->lru = 0;
	page->lru_prev = page->lru_next = NULL;
	page_clear_flags(page, PG_lru);
}

void folio_add_lru(struct as_phys *p, struct page *page)
{
	pthread_mutex_lock(&p->lruvec.lru_lock);
	if (page->lru == 0)
		lruvec_add_folio(&p->lruvec, page);
	pthread_mutex_unlock(&p->lruvec.lru_lock);
}

void lru_page_freed(struct as_phys *p, struct page *page)
{
	/* Its last reference is gone: no one else moves it now.  Page
	 * tables and pages never listed need no lock. */
	if (page->lru == 0) {
		page_clear_flags(page, PG_active | PG_lru);
		return;
	}
	pthread_mutex_lock(&p->lruvec.lru_lock);
	if (page->lru != 0)
		lruvec_del_folio(&p->lruvec, page);
	pthread_mutex_unlock(&p->lruvec.lru_lock);
	page_clear_flags(page, PG_active | PG_lru);
}

/* Move a listed page to the head of the list its new flags name:
 * clear, then set (lru_lock taken here). */
static void lru_move(struct as_phys *p, struct page *page, unsigned int clear,
    unsigned int set)
{
	pthread_mutex_lock(&p->lruvec.lru_lock);
	if (page->lru != 0) {
		lruvec_del_folio(&p->lruvec, page);
		page_clear_flags(page, clear);
		page_set_flags(page, set);
		lruvec_add_folio(&p->lruvec, page);
	} else {		/* isolated: its flags decide where it goes */
		page_clear_flags(page, clear);
		page_set_flags(page, set);
	}
	pthread_mutex_unlock(&p->lruvec.lru_lock);
}

void folio_mark_accessed(struct as_phys *p, struct page *page)
{
	if (page_test(page, PG_active) || !page_test(page, PG_referenced))
		page_set_flags(page, PG_referenced);
	else			/* folio_activate() */
		lru_move(p, page, PG_referenced, PG_active);
}

void folio_deactivate(struct as_phys *p, struct page *page)
{
	lru_move(p, page, PG_active | PG_referenced, 0);
}

void folio_mark_lazyfree(struct as_phys *p, struct page *page)
{
	lru_move(p, page, PG_active | PG_referenced | PG_swapbacked, 0);
}

void lru_restore_tail(struct as_phys *p, struct page *page, enum lru_list l)
{
	struct lruvec *lv = &p->lruvec;

	page->lru_next = NULL;
	page->lru_prev = lv->tail[l];
	if (lv->tail[l] != NULL)
		lv->tail[l]->lru_next = page;
	else
		lv->head[l] = page;
	lv->tail[l] = page;
	lru_nr_add(lv, l, 1);
	page->lru = (uint8_t)(l + 1);
}

/* ---- the reverse map (mm/rmap.c) ---- */

struct rmap_walk {
	struct page	*page;
	/* One PTE of vma maps page (its mm's page_table_lock held); false
	 * ends the walk. */
	bool		(*one)(struct scan_control *sc, struct rmap_walk *w,
			    struct vma *vma, pte_t *pte);
	int		 found;		/* PTEs seen */
	int		 mapped;	/* its mapcount when the walk began */
	int		 referenced;	/* young ones */
	unsigned long	 vm_flags;	/* of the VMAs seen */
	bool		 contended;	/* a mapping could not be seen */
	bool		 stop;
};

/* models vma_address(): where vma maps page, if it can. */
static bool page_vma_address(const struct page *page, const struct vma *vma,
    unsigned long *addr)
{
	unsigned long idx = page->index;

	if (page_test(page, PG_anon) ? vma->anon_vma == NULL :
	    vma->vm_file == NULL || file_inode(vma->vm_file) != page->mapping)
		return false;
	if (idx < vma->vm_pgoff || idx - vma->vm_pgoff >= vma_pages(vma))
		return false;
	*addr = vma->vm_start + ((idx - vma->vm_pgoff) << AS_PAGE_SHIFT);
	return true;
}

/* models page_vma_mapped_walk() in one VMA (its mm's page_table_lock
 * held): the PTE mapping page there, if any, given to w->one. */
static void rmap_walk_one(struct scan_control *sc, struct rmap_walk *w,
    struct vma *vma)
{
	unsigned long addr;
	pte_t *pte;

	if (!page_vma_address(w->page, vma, &addr))
		return;
	pte = pte_offset(vma->vm_mm, addr);
	if (pte == NULL || !pte_present(*pte) ||
	    (*pte & _PAGE_SPECIAL) || pte_pfn(*pte) != w->page->pfn)
		return;
	w->found++;
	if (!w->one(sc, w, vma, pte))
		w->stop = true;
}

/* Where mm is in the walk's list, or -1. */
static int sc_mm_index(const struct scan_control *sc, const struct mm *mm)
{
	int i;

	for (i = 0; i < sc->nmm; i++)
		if (sc->mms[i] == mm)
			return i;
	return -1;
}

/*
 * models rmap_walk_anon() and rmap_walk_file(): the VMAs of the page's
 * anon_vma (its rb_root: every VMA chained to it, fork children's too)
 * or of its file's i_mmap, each visited under its mm's page_table_lock
 * (the caller holds no other) if reclaim holds that mm's mmap_lock; a
 * VMA of another mm marks the walk contended.  false if the page has no
 * such list to walk (an anonymous page without its anon_vma).
 */
static bool rmap_walk_list(struct scan_control *sc, struct rmap_walk *w)
{
	struct page *page = w->page;
	struct rmap_vma *v;
	int n, i, k;

	if (page_test(page, PG_anon) && page->anon_vma != NULL)
		v = anon_vma_rb_snapshot(sc->s, page->anon_vma, &n);
	else if (!page_test(page, PG_anon) && page->mapping != NULL)
		v = i_mmap_snapshot(page->mapping, &n);
	else
		return false;
	for (i = 0; i < n && !w->stop && w->found < w->mapped; i++) {
		if ((k = sc_mm_index(sc, v[i].mm)) < 0 || !sc->usable[k]) {
			w->contended = true;
			continue;
		}
		pthread_mutex_lock(&v[i].mm->page_table_lock);
		rmap_walk_one(sc, w, v[i].vma);
		pthread_mutex_unlock(&v[i].mm->page_table_lock);
	}
	free(v);
	return true;
}

/* models rmap_walk(): through the page's anon_vma or i_mmap; a page
 * without one, through each mm's VMAs in turn, under its
 * page_table_lock.  A mapping not seen marks the walk contended. */
static void rmap_walk(struct scan_control *sc, struct rmap_walk *w)
{
	struct vma *vma;
	int i;

	w->mapped = page_mapcount(w->page);
	i = w->mapped == 0 || rmap_walk_list(sc, w) ? sc->nmm : 0;
	for (; i < sc->nmm && !w->stop && w->found < w->mapped; i++) {
		if (!sc->usable[i]) {
			w->contended = true;
			continue;
		}
		pthread_mutex_lock(&sc->mms[i]->page_table_lock);
		for (vma = sc->mms[i]->mm_mt.first; vma != NULL && !w->stop &&
		    w->found < w->mapped; vma = vma->vm_next)
			rmap_walk_one(sc, w, vma);
		pthread_mutex_unlock(&sc->mms[i]->page_table_lock);
	}
	if (!w->stop && w->found < w->mapped)
		w->contended = true;
	sc->contended |= w->contended;
}

/* folio_referenced_one(): a young PTE is made old and counted. */
static bool folio_referenced_one(struct scan_control *sc, struct rmap_walk *w,
    struct vma *vma, pte_t *pte)
{
	(void)sc;
	if (vma->vm_flags & VM_LOCKED) {
		w->vm_flags = VM_LOCKED;
		return false;
	}
	w->vm_flags |= vma->vm_flags;
	if (*pte & _PAGE_ACCESSED) {
		*pte &= ~(pte_t)_PAGE_ACCESSED;
		w->referenced++;
	}
	return true;
}

/* folio_referenced(): the young PTEs mapping page, now old; -1 if a
 * mapping could not be looked at. */
static int folio_referenced(struct scan_control *sc, struct page *page,
    unsigned long *vm_flags)
{
	struct rmap_walk w = { .page = page, .one = folio_referenced_one };

	*vm_flags = 0;
	if (page_mapcount(page) == 0)
		return 0;
	rmap_walk(sc, &w);
	*vm_flags = w.vm_flags;
	if (w.contended && !(w.vm_flags & VM_LOCKED))
		return -1;
	return w.referenced;
}

/* The PTE of a lazily freed page: dropped if the page is clean and no
 * one else holds it, else it stays and the page is swap-backed again. */
static bool unmap_lazyfree(struct scan_control *sc, struct page *page,
    pte_t *pte)
{
	if (!page_test(page, PG_dirty) &&
	    page_refcount(page) == page_mapcount(page) + 1) {
		*pte = 0;
		page_remove_rmap_put(sc->phys, page);
		return true;
	}
	page_set_flags(page, PG_swapbacked);
	return false;
}

/* try_to_unmap_one(): the PTE goes (a swap entry for a swap-backed
 * anonymous page), its dirty bit passed to the page. */
static bool try_to_unmap_one(struct scan_control *sc, struct rmap_walk *w,
    struct vma *vma, pte_t *pte)
{
	struct page *page = w->page;

	if (vma->vm_flags & VM_LOCKED)
		return false;		/* mlocked: the walk fails */
	if (*pte & _PAGE_DIRTY)
		page_set_flags(page, PG_dirty);
	if (page_test(page, PG_anon) && !page_test(page, PG_swapbacked))
		return unmap_lazyfree(sc, page, pte);
	if (page_test(page, PG_anon)) {
		swap_duplicate(sc->phys, page->private);
		*pte = swp_entry_to_pte(page->private, page_exclusive(page));
	} else {
		*pte = 0;
	}
	page_remove_rmap_put(sc->phys, page);
	return true;
}

/* try_to_unmap(): true if no PTE maps page any more. */
static bool try_to_unmap(struct scan_control *sc, struct page *page)
{
	struct rmap_walk w = { .page = page, .one = try_to_unmap_one };

	if (page_mapcount(page) > 0)
		rmap_walk(sc, &w);
	return page_mapcount(page) == 0;
}

/* ---- shrinking (mm/vmscan.c) ---- */

enum folio_references {
	FOLIOREF_RECLAIM,
	FOLIOREF_RECLAIM_CLEAN,
	FOLIOREF_KEEP,
	FOLIOREF_ACTIVATE,
};

enum { PAGE_KEEP, PAGE_ACTIVATE, PAGE_FREE };

static bool folio_is_file_lru(const struct page *page)
{
	return !page_test(page, PG_swapbacked);
}

/* folio_test_clear_referenced() */
static bool folio_test_clear_referenced(struct page *page)
{
	return (__atomic_fetch_and(&page->flags, ~PG_referenced,
	    __ATOMIC_RELAXED) & PG_referenced) != 0;
}

/* folio_check_references(): a page used twice (a young PTE and
 * PG_referenced, or two young PTEs) is activated, once is kept. */
static enum folio_references folio_check_references(struct scan_control *sc,
    struct page *page)
{
	unsigned long vm_flags;
	int ptes = folio_referenced(sc, page, &vm_flags);
	bool referenced = folio_test_clear_referenced(page);

	if (vm_flags & VM_LOCKED)
		return FOLIOREF_ACTIVATE;
	if (ptes == -1)
		return FOLIOREF_KEEP;
	if (ptes > 0) {
		page_set_flags(page, PG_referenced);
		if (referenced || ptes > 1)
			return FOLIOREF_ACTIVATE;
		if ((vm_flags & VM_EXEC) && folio_is_file_lru(page))
			return FOLIOREF_ACTIVATE;
		return FOLIOREF_KEEP;
	}
	if (referenced && folio_is_file_lru(page))
		return FOLIOREF_RECLAIM_CLEAN;
	return FOLIOREF_RECLAIM;
}

/* An isolated page nothing else holds is freed (folio_ref_freeze()). */
static int free_isolated(struct page *page)
{
	return page_refcount(page) == 1 && page_mapcount(page) == 0 ?
	    PAGE_FREE : PAGE_KEEP;
}

/* shrink_folio_list() for a swap-backed anonymous page: add_to_swap()
 * (the page dirty then), try_to_unmap(), pageout() to its slot. */
static int shrink_anon(struct scan_control *sc, struct page *page)
{
	bool cached = page_test(page, PG_swapcache);

	if (!sc->may_swap ||
	    swap_info_get(sc->phys, sc->s->limits.swap_bytes) == NULL ||
	    !add_to_swap(sc->phys, page))
		return PAGE_ACTIVATE;
	if (!cached)
		page_set_flags(page, PG_dirty);
	if (!try_to_unmap(sc, page))
		return PAGE_ACTIVATE;
	/* faulted back and taken out of the swap cache meanwhile (Linux's
	 * folio lock would have made the fault wait) */
	if (!page_test(page, PG_swapcache))
		return PAGE_KEEP;
	if (page_test(page, PG_dirty) && swap_writepage(sc->phys, page) != 0)
		return PAGE_ACTIVATE;
	return free_isolated(page);
}

/* shrink_folio_list() for a lazily freed page: discarded if clean. */
static int shrink_lazyfree(struct scan_control *sc, struct page *page)
{
	if (!try_to_unmap(sc, page))
		return PAGE_ACTIVATE;	/* written since: swap-backed again */
	if (page_test(page, PG_dirty)) {
		page_set_flags(page, PG_swapbacked);
		return PAGE_ACTIVATE;
	}
	return free_isolated(page);
}

/*
 * shrink_folio_list() for a file page: unmapped, written back if dirty
 * (done at once: no flusher thread here), then __remove_mapping().  A
 * page whose bytes did not reach the simulated disk (written through a
 * shared mapping, no room for its copy) stays cached.
 */
static int shrink_file(struct scan_control *sc, struct page *page,
    enum folio_references ref)
{
	if (!try_to_unmap(sc, page))
		return PAGE_ACTIVATE;
	if (page_test(page, PG_dirty)) {
		if (ref == FOLIOREF_RECLAIM_CLEAN)
			return PAGE_KEEP;
		file_pageout(page);
	}
	if (page->mapping == NULL ||
	    !filemap_page_on_disk(page->mapping, page))
		return PAGE_KEEP;
	remove_mapping(sc->phys, page);
	return free_isolated(page);
}

/*
 * models shrink_folio_list() for a shmem page: unmapped everywhere, then
 * written to swap if dirty (pageout(): shmem_writeout(), the page cache
 * keeping a swap entry; no swap device or no free slot redirties it and
 * it is activated), dropped from the page cache if clean.
 */
static int shrink_shmem(struct scan_control *sc, struct page *page,
    enum folio_references ref)
{
	if (sc->s->limits.swap_bytes == 0)	/* !can_reclaim_anon_pages() */
		return PAGE_ACTIVATE;
	if (!try_to_unmap(sc, page))
		return PAGE_ACTIVATE;
	if (page_test(page, PG_dirty)) {
		if (ref == FOLIOREF_RECLAIM_CLEAN)
			return PAGE_KEEP;
		if (!shmem_writeout(sc->phys, page,
		    sc->s->limits.swap_bytes))
			return PAGE_ACTIVATE;
		COUNT(NULL, sc->s, pswpout);
		return free_isolated(page);
	}
	if (page->mapping == NULL)
		return PAGE_KEEP;
	remove_mapping(sc->phys, page);
	return free_isolated(page);
}

/* shrink_folio_list() for one isolated page: what becomes of it. */
static int shrink_folio(struct scan_control *sc, struct page *page)
{
	enum folio_references ref;

	if (page_test(page, PG_mlocked))
		return PAGE_ACTIVATE;	/* unevictable: no such list here */
	ref = folio_check_references(sc, page);
	if (ref == FOLIOREF_ACTIVATE)
		return PAGE_ACTIVATE;
	if (ref == FOLIOREF_KEEP)
		return PAGE_KEEP;
	if (!page_test(page, PG_anon) && page_test(page, PG_swapbacked))
		return shrink_shmem(sc, page, ref);
	if (page_test(page, PG_anon))
		return page_test(page, PG_swapbacked) ? shrink_anon(sc, page) :
		    shrink_lazyfree(sc, page);
	return shrink_file(sc, page, ref);
}

/* isolate_lru_folios(): up to n pages from the tail of list l, each
 * with a reference, off the list; the pages looked at in *scanned. */
static int isolate_lru_folios(struct scan_control *sc, enum lru_list l,
    unsigned long n, struct page **out, unsigned long *scanned)
{
	struct lruvec *lv = &sc->phys->lruvec;
	struct page *page, *prev;
	int got = 0;

	*scanned = 0;
	pthread_mutex_lock(&lv->lru_lock);
	for (page = lv->tail[l]; page != NULL && *scanned < n; page = prev) {
		prev = page->lru_prev;
		(*scanned)++;
		if (!get_page_unless_zero(page)) {
			sc->contended = true;	/* being freed */
			continue;
		}
		lruvec_del_folio(lv, page);
		out[got++] = page;
	}
	__atomic_add_fetch(&lv->nr_isolated, (unsigned long)got,
	    __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lv->lru_lock);
	sc->nr_scanned += *scanned;
	return got;
}

/* move_folios_to_lru(): the pages kept go back to the head of the list
 * their flags name, then isolation's references go; freed pages are
 * counted. */
static void move_folios_to_lru(struct scan_control *sc, struct page **pages,
    const int *fate, int n)
{
	struct lruvec *lv = &sc->phys->lruvec;
	int i;

	pthread_mutex_lock(&lv->lru_lock);
	__atomic_sub_fetch(&lv->nr_isolated, (unsigned long)n,
	    __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		if (fate[i] == PAGE_FREE)
			continue;
		if (fate[i] == PAGE_ACTIVATE)
			page_set_flags(pages[i], PG_active);
		lruvec_add_folio(lv, pages[i]);
	}
	pthread_mutex_unlock(&lv->lru_lock);
	for (i = 0; i < n; i++) {
		if (fate[i] == PAGE_FREE && page_ref_freeze_free(sc->phys,
		    pages[i])) {
			sc->nr_reclaimed++;
			continue;
		}
		if (fate[i] == PAGE_FREE)	/* taken since: kept */
			folio_add_lru(sc->phys, pages[i]);
		put_page(sc->phys, pages[i]);
	}
}

/* shrink_inactive_list(): nr pages from the tail of inactive list l. */
static void shrink_inactive_list(struct scan_control *sc, enum lru_list l,
    unsigned long nr)
{
	struct page *pages[SWAP_CLUSTER_MAX];
	int fate[SWAP_CLUSTER_MAX], n, i;
	unsigned long scanned;

	while (nr > 0) {
		n = isolate_lru_folios(sc, l, nr < SWAP_CLUSTER_MAX ? nr :
		    SWAP_CLUSTER_MAX, pages, &scanned);
		if (scanned == 0)
			break;
		nr -= scanned < nr ? scanned : nr;
		for (i = 0; i < n; i++)
			fate[i] = shrink_folio(sc, pages[i]);
		move_folios_to_lru(sc, pages, fate, n);
	}
}

/* shrink_active_list(): nr pages from the tail of active list l move to
 * their inactive list, but for mlocked pages and executable file pages
 * in use (kept active). */
static void shrink_active_list(struct scan_control *sc, enum lru_list l,
    unsigned long nr)
{
	struct page *pages[SWAP_CLUSTER_MAX];
	int fate[SWAP_CLUSTER_MAX], n, i;
	unsigned long scanned, vm_flags;

	n = isolate_lru_folios(sc, l, nr < SWAP_CLUSTER_MAX ? nr :
	    SWAP_CLUSTER_MAX, pages, &scanned);
	for (i = 0; i < n; i++) {
		fate[i] = PAGE_ACTIVATE;
		if (page_test(pages[i], PG_mlocked))
			continue;
		if (folio_referenced(sc, pages[i], &vm_flags) > 0 &&
		    (vm_flags & VM_EXEC) && folio_is_file_lru(pages[i]))
			continue;
		page_clear_flags(pages[i], PG_active);
		fate[i] = PAGE_KEEP;
	}
	move_folios_to_lru(sc, pages, fate, n);
}

/* inactive_is_low(): the inactive list l is smaller than its active
 * list over the ratio (1 below 1 GiB, else sqrt(10 * GiB)). */
static bool inactive_is_low(struct scan_control *sc, enum lru_list l)
{
	unsigned long inactive = lru_size(&sc->phys->lruvec, l);
	unsigned long active = lru_size(&sc->phys->lruvec, l + 1);
	unsigned long gb = (inactive + active) >> (30 - AS_PAGE_SHIFT);
	unsigned long ratio = 1;

	while (gb > 0 && (ratio + 1) * (ratio + 1) <= 10 * gb)
		ratio++;
	return inactive * ratio < active;
}

/* shrink_list(): an active list is shrunk while its inactive list is
 * low; an inactive list always. */
static void shrink_list(struct scan_control *sc, enum lru_list l,
    unsigned long nr)
{
	if (l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE) {
		if (inactive_is_low(sc, l - 1))
			shrink_active_list(sc, l, nr);
		return;
	}
	shrink_inactive_list(sc, l, nr);
}

/*
 * models get_scan_count(): each list's size >> priority, the file lists
 * alone without swap or while the inactive file list has pages at this
 * priority and is not low (cache_trim_mode), else split by swappiness 60
 * (anon 60, file 140 of 201: no refault costs are kept here), all of
 * every list at priority 0 (SCAN_EQUAL).
 */
static void get_scan_count(struct scan_control *sc, int priority,
    unsigned long *nr)
{
	const struct lruvec *lv = &sc->phys->lruvec;
	bool file_only = !sc->may_swap ||
	    ((lru_size(lv, LRU_INACTIVE_FILE) >> priority) > 0 &&
	    !inactive_is_low(sc, LRU_INACTIVE_FILE));
	int l;

	for (l = 0; l < NR_LRU_LISTS; l++) {
		nr[l] = lru_size(lv, (enum lru_list)l) >> priority;
		if (l < LRU_INACTIVE_FILE && file_only)
			nr[l] = 0;
		else if (priority > 0 && !file_only)
			nr[l] = nr[l] * (l < LRU_INACTIVE_FILE ? 60 : 140) / 201;
	}
}

/* shrink_lruvec(): the lists in rounds of SWAP_CLUSTER_MAX pages each
 * until enough is freed, then the active anon list aged if low. */
static void shrink_lruvec(struct scan_control *sc, int priority)
{
	unsigned long nr[NR_LRU_LISTS], left, n;
	int l;

	get_scan_count(sc, priority, nr);
	do {
		left = 0;
		for (l = 0; l < NR_LRU_LISTS; l++) {
			n = nr[l] < SWAP_CLUSTER_MAX ? nr[l] : SWAP_CLUSTER_MAX;
			nr[l] -= n;
			if (n > 0)
				shrink_list(sc, (enum lru_list)l, n);
			left += nr[l];
		}
	} while (left > 0 && sc->nr_reclaimed < sc->nr_to_reclaim);
	if (sc->may_swap && inactive_is_low(sc, LRU_INACTIVE_ANON))
		shrink_active_list(sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
}

/* Every mm of the session, each with a user; the mmap_lock of each but
 * cur tried for reading (a busy one leaves its mappings unseen); the
 * tables fork shared in the mms it may look at, unshared. */
static void reclaim_get_mms(struct scan_control *sc)
{
	struct task *t;
	int i;

	pthread_mutex_lock(&sc->s->lock);
	for (t = sc->s->tasks; t != NULL && sc->nmm < RECLAIM_MMS_MAX;
	    t = t->next) {
		for (i = 0; i < sc->nmm && sc->mms[i] != t->mm; i++)
			;
		if (t->mm == NULL || i < sc->nmm)
			continue;
		__atomic_add_fetch(&t->mm->mm_users, 1, __ATOMIC_RELAXED);
		sc->mms[sc->nmm++] = t->mm;
	}
	pthread_mutex_unlock(&sc->s->lock);
	for (i = 0; i < sc->nmm; i++) {
		sc->locked[i] = sc->mms[i] != sc->cur &&
		    pthread_rwlock_tryrdlock(&sc->mms[i]->mmap_lock) == 0;
		sc->usable[i] = sc->mms[i] == sc->cur || sc->locked[i];
		sc->contended |= !sc->usable[i];
	}
	/* mapcounts as rmap counts them: no table shared by fork */
	for (i = 0; i < sc->nmm; i++) {
		if (!sc->usable[i])
			continue;
		pthread_mutex_lock(&sc->mms[i]->page_table_lock);
		mm_unshare_tables(sc->mms[i]);
		pthread_mutex_unlock(&sc->mms[i]->page_table_lock);
	}
}

static void reclaim_put_mms(struct scan_control *sc)
{
	int i;

	for (i = 0; i < sc->nmm; i++) {
		if (sc->locked[i])
			pthread_rwlock_unlock(&sc->mms[i]->mmap_lock);
		mmput(sc->mms[i]);
	}
}

/* The pages one direct reclaim aims to free: a 64th of RAM, from 1 to
 * SWAP_CLUSTER_MAX (a stand-in for kswapd's watermarks). */
static unsigned long reclaim_target(const struct as_phys *p)
{
	unsigned long n = p->nr_frames >> 6;

	return n < 1 ? 1 : n > SWAP_CLUSTER_MAX ? SWAP_CLUSTER_MAX : n;
}

unsigned long try_to_free_pages(struct as_session *s, struct mm *cur,
    bool *contended)
{
	struct scan_control sc = { .s = s, .phys = &s->phys, .cur = cur };
	int priority;

	sc.may_swap = s->limits.swap_bytes > 0;
	sc.nr_to_reclaim = reclaim_target(sc.phys);
	reclaim_get_mms(&sc);
	for (priority = DEF_PRIORITY; priority >= 0 &&
	    sc.nr_reclaimed < sc.nr_to_reclaim; priority--)
		shrink_lruvec(&sc, priority);	/* shrink_node() */
	reclaim_put_mms(&sc);
	swap_reclaim_work(sc.phys);	/* queued if reclaim filled the swap */
	/* too_many_isolated(): another reclaimer holds pages meanwhile */
	*contended = sc.contended ||
	    __atomic_load_n(&sc.phys->lruvec.nr_isolated, __ATOMIC_RELAXED);
	return sc.nr_reclaimed;
}

unsigned long shrink_lru_list(struct as_session *s, enum lru_list l,
    unsigned long nr)
{
	struct scan_control sc = { .s = s, .phys = &s->phys };
	unsigned long n;

	sc.may_swap = s->limits.swap_bytes > 0;
	sc.nr_to_reclaim = ~0UL;
	reclaim_get_mms(&sc);
	if (l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE) {
		for (; nr > 0; nr -= n) {
			n = nr < SWAP_CLUSTER_MAX ? nr : SWAP_CLUSTER_MAX;
			shrink_active_list(&sc, l, n);
		}
	} else {
		shrink_inactive_list(&sc, l, nr);
	}
	reclaim_put_mms(&sc);
	return sc.nr_reclaimed;
}

void remove_mapping(struct as_phys *phys, struct page *page)
{
	struct as_file *f = page->mapping;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	if (page->mapping == f && page_refcount(page) == 2 &&
	    page_mapcount(page) == 0 && !page_test(page, PG_dirty) &&
	    page->index < f->cache_len && f->cache[page->index] == page) {
		f->cache[page->index] = NULL;
		page->mapping = NULL;
		pthread_mutex_unlock(&f->lock);
		put_page(phys, page);	/* the cache's reference */
		return;
	}
	pthread_mutex_unlock(&f->lock);
}

/* One list: linked both ways, each page's list and flags agreeing, the
 * count right. */
static const char *lru_validate_list(struct lruvec *lv, enum lru_list l)
{
	struct page *page, *prev = NULL;
	unsigned long n = 0;
	bool active = l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE;

	for (page = lv->head[l]; page != NULL; page = page->lru_next) {
		if (page->lru_prev != prev || page->lru != l + 1)
			return "an LRU list's links are broken";
		if (!page_test(page, PG_lru) || page->data == NULL ||
		    page_test(page, PG_active) != active)
			return "a page on an LRU list has the wrong flags";
		prev = page;
		if (++n > lv->nr[l])
			break;
	}
	if (n != lv->nr[l] || lv->tail[l] != prev)
		return "an LRU list's count or tail is wrong";
	return NULL;
}

const char *lru_validate(struct as_phys *p)
{
	struct lruvec *lv = &p->lruvec;
	const char *err = NULL;
	unsigned long pfn, on = 0, sum = 0;
	int l;

	pthread_mutex_lock(&lv->lru_lock);
	for (l = 0; l < NR_LRU_LISTS && err == NULL; l++) {
		err = lru_validate_list(lv, (enum lru_list)l);
		sum += lv->nr[l];
	}
	for (pfn = 0; pfn < p->next_unused && err == NULL; pfn++) {
		struct page *page = pfn_to_page(p, pfn);

		if (page->data == NULL ||
		    page_test(page, PG_pgtable | PG_reserved))
			continue;
		if (page->lru == 0)
			err = "a page in use is on no LRU list";
		on++;
	}
	if (err == NULL && on != sum)
		err = "the LRU lists' counts do not add up";
	if (err == NULL && lv->nr_isolated != 0)
		err = "pages are isolated from the LRU lists";
	pthread_mutex_unlock(&lv->lru_lock);
	return err;
}

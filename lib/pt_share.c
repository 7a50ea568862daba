/*
 * pt_share.c: PTE tables shared at fork, copied on the first change
 * (On-demand-fork, EuroSys '21).  Linux's fork copies every PTE of every
 * VMA with anonymous pages (copy_pte_range()); here, where a whole 2 MiB
 * span holds only such VMAs, the child takes the parent's PTE table as it
 * is: one more reference to the table page, its PMD entry in both mms
 * write-protected (pmd_shared()), the child's marked _PAGE_PT_OLD.  What
 * copy_present_pte() would have done to each PTE is done later, to the
 * table one mm makes its own:
 *
 *   pte_unshare()      another mm still holds it: copy it (each page one
 *                      more mapping and reference, no longer
 *                      PageAnonExclusive, each swap entry one more count),
 *                      the copy write-protected, and old if this mm's view
 *                      is (_PAGE_PT_OLD); else take it over in place,
 *                      write-protecting it the same way.
 *   pte_table_drop()   an exiting mm lets its share go: nothing was taken
 *                      for it, so nothing is given back.
 *
 * Every change to a PTE goes through pte_offset() or a walk that unshares
 * (pgtable.c), so a shared table never changes while shared: readers
 * need no lock beyond their own page_table_lock.  The page a shared
 * table maps counts one mapping for all its sharers, so readers that
 * report mapcounts or young bits (smaps) first unshare every table of
 * the session (session_unshare_tables()), as reclaim does in the mms it
 * scans; what they print is then Linux's, as the differential suite
 * checks both with `kernel share_tables on` (the default) and off.
 *
 * A shared table's frame is still charged once per sharer: fork reserves
 * a frame of RAM for each share (pt_reserve()), so RAM fills as it would
 * on Linux, and the copy made later cannot fail for RAM.
 *
 * Locks (the order is in mm.c): phys->pt_share_lock, inside the
 * page_table_lock of the mm unsharing or dropping, guards the decision
 * to copy, take over or drop by a table page's count of sharers.  Fork
 * adds a sharer without it (an atomic increment, under the parent's and
 * the child's page_table_locks): the parent holds the table, so no other
 * mm can be deciding to take it over.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "mm.h"
#include "page.h"
#include "pt_share.h"
#include "shm.h"
#include "session.h"
#include "swap.h"

static struct as_phys *phys_of(struct mm *mm)
{
	return &mm->session->phys;
}

static pte_t *table_at(struct as_phys *p, unsigned long pfn)
{
	return (pte_t *)pfn_to_page(p, pfn)->data;
}

/* models vma_needs_copy() for a private, copy-on-write mapping whose
 * PTEs fork would copy whole. */
static bool vma_shares_ptes(const struct vma *vma)
{
	return vma->anon_vma != NULL && !vma_is_shm(vma) &&
	    (vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE &&
	    !(vma->vm_flags & (VM_DONTCOPY | VM_WIPEONFORK | VM_IO |
	    VM_PFNMAP));
}

bool pte_table_shareable(struct mm *src, unsigned long base)
{
	unsigned long end = base + PMD_SIZE;
	struct vma *vma;

	if (!src->session->limits.share_tables)
		return false;
	for (vma = find_vma(src, base); vma != NULL && vma->vm_start < end;
	    vma = vma->vm_next)
		if (!vma_shares_ptes(vma))
			return false;
	return true;
}

void pte_share_begin(struct pte_share_batch *b, struct vma *dst,
    struct vma *src)
{
	memset(b, 0, sizeof(*b));
	b->dst = dst->vm_mm;
	b->src = src->vm_mm;
	b->start = src->vm_start;
	b->end = src->vm_end;
	b->whole = src->vm_mm->session->limits.share_tables &&
	    vma_shares_ptes(src);
	b->sbase = b->dbase = 1;	/* no PMD table yet */
}

/* The PMD entry of base in mm through a cached PMD table (*tbase its
 * span's start), made (and made writable) once per 1 GiB. */
static pte_t *batch_pmd(struct mm *mm, unsigned long base, pte_t **table,
    unsigned long *tbase, int how)
{
	unsigned long span = base & ~((1UL << PUD_SHIFT) - 1);
	pte_t *pmd;

	if (span != *tbase) {
		if ((pmd = pmd_offset(mm, span, how)) == NULL)
			return NULL;
		*table = pmd;	/* entry 0 of the table */
		*tbase = span;
	}
	return *table + ((base >> PMD_SHIFT) & (PTRS_PER_TABLE - 1));
}

/* A frame reserved for the next share: 64 at a time, else one. */
static int batch_credit(struct pte_share_batch *b)
{
	struct as_phys *p = phys_of(b->src);

	if (b->credit > 0)
		return 0;
	if (pt_reserve(p, 64) == 0)
		b->credit = 64;
	else if (pt_reserve(p, 1) == 0)
		b->credit = 1;
	else
		return -ENOMEM;
	return 0;
}

int pte_share_table(struct pte_share_batch *b, unsigned long base)
{
	struct as_phys *p = phys_of(b->src);
	pte_t *spmd, *dpmd;

	if (!(b->whole && base >= b->start && base + PMD_SIZE <= b->end) &&
	    !pte_table_shareable(b->src, base))
		return 0;
	if ((spmd = batch_pmd(b->src, base, &b->stable, &b->sbase,
	    PMD_WRITE)) == NULL || !(*spmd & _PAGE_PRESENT) ||
	    (dpmd = batch_pmd(b->dst, base, &b->dtable, &b->dbase,
	    PMD_ALLOC)) == NULL)
		return 0;
	if (*dpmd & _PAGE_PRESENT)
		return 1;		/* shared for an earlier VMA */
	if (batch_credit(b) != 0)
		return 0;
	b->credit--;
	/* the struct page of the table 8 on, while this one's is counted:
	 * after the memory was touched they are out of the caches */
	if (((base >> PMD_SHIFT) & (PTRS_PER_TABLE - 1)) < PTRS_PER_TABLE - 8 &&
	    (spmd[8] & _PAGE_PRESENT))
		__builtin_prefetch(pfn_to_page(p, pte_pfn(spmd[8])), 1);
	/* no lock: a table fork shares is held by this mm, so no other mm
	 * may take it over meanwhile (pte_unshare()) */
	get_page(pfn_to_page(p, pte_pfn(*spmd)));
	b->pmds += pmd_shared(*spmd) ? 1 : 2;
	*spmd &= ~_PAGE_RW;
	*dpmd = (*spmd & ~_PAGE_PT_OLD) | _PAGE_PT_OLD;
	b->tables++;
	return 1;
}

void pte_share_end(struct pte_share_batch *b)
{
	struct as_phys *p = phys_of(b->src);

	if (b->credit > 0)
		pt_unreserve(p, b->credit);
	b->dst->nr_pgtables += b->tables;
	__atomic_add_fetch(&p->nr_shared_pmds, b->pmds, __ATOMIC_RELEASE);
}

/* What copy_present_pte() or copy_nonpresent_pte() leaves in the child
 * (old: the view is old), for entry e of a copy-on-write mapping. */
static pte_t fork_pte(struct as_phys *p, pte_t e, bool old, bool copy)
{
	struct page *page;

	if (is_swap_pte(e)) {
		if (copy)
			swap_duplicate(p, pte_swp_offset(e));
		return e & ~_PAGE_SWP_EXCLUSIVE;
	}
	if (!pte_present(e))
		return e;
	if (!(e & _PAGE_SPECIAL)) {
		page = pfn_to_page(p, pte_pfn(e));
		if (copy)
			page_dup_rmap(page);
		if (page_exclusive(page))	/* shared since the fork */
			page_set_exclusive(page, false);
	}
	e &= ~_PAGE_RW;
	return old ? e & ~_PAGE_ACCESSED : e;
}

/* This mm's own copy of the table old, in new (pt_share_lock held). */
static unsigned long copy_shared_table(struct as_phys *p, pte_t *new,
    const pte_t *old, bool view_old)
{
	unsigned long i, nr = 0;

	for (i = 0; i < PTRS_PER_TABLE; i++) {
		new[i] = old[i] != 0 ? fork_pte(p, old[i], view_old, true) : 0;
		nr += old[i] != 0;
	}
	return nr;
}

/* The last holder takes the table over: the fork finished in place. */
static void own_shared_table(struct as_phys *p, pte_t *t, bool view_old)
{
	unsigned long i;

	for (i = 0; i < PTRS_PER_TABLE; i++)
		if (t[i] != 0)
			t[i] = fork_pte(p, t[i], view_old, false);
}

int pte_unshare(struct mm *mm, unsigned long addr, pte_t *pmd)
{
	struct as_phys *p = phys_of(mm);
	struct page *old = pfn_to_page(p, pte_pfn(*pmd)), *new = NULL;
	bool view_old = (*pmd & _PAGE_PT_OLD) != 0;
	unsigned long nr = 0;

	pthread_mutex_lock(&p->pt_share_lock);
	if (page_refcount(old) == 1) {
		if (page_make_writable(old) != 0) {
			pthread_mutex_unlock(&p->pt_share_lock);
			return -ENOMEM;
		}
		own_shared_table(p, (pte_t *)old->data, view_old);
	} else if ((new = alloc_page_reserved(p)) == NULL) {
		pthread_mutex_unlock(&p->pt_share_lock);
		return -ENOMEM;
	} else {
		new->flags |= PG_pgtable;
		nr = copy_shared_table(p, (pte_t *)new->data,
		    (const pte_t *)old->data, view_old);
		put_page(p, old);	/* not the last reference */
	}
	__atomic_sub_fetch(&p->nr_shared_pmds, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->pt_share_lock);
	*pmd = pfn_pte(new != NULL ? new->pfn : old->pfn, _PAGE_TABLE);
	if (new != NULL)
		explain_op("pte_unshare: the PTE table of 0x%lx-0x%lx, shared "
		    "since fork, copied now (%lu PTEs: copy_pte_range() "
		    "deferred)", addr & ~(PMD_SIZE - 1),
		    (addr & ~(PMD_SIZE - 1)) + PMD_SIZE, nr);
	else
		explain_op("pte_unshare: the PTE table of 0x%lx-0x%lx, shared "
		    "since fork, taken over: no other mm holds it now",
		    addr & ~(PMD_SIZE - 1), (addr & ~(PMD_SIZE - 1)) +
		    PMD_SIZE);
	return 0;
}

bool pte_table_drop(struct mm *mm, pte_t *pmd)
{
	struct as_phys *p = phys_of(mm);
	struct page *t = pfn_to_page(p, pte_pfn(*pmd));
	bool dropped;

	pthread_mutex_lock(&p->pt_share_lock);
	dropped = page_refcount(t) > 1;
	if (dropped)
		put_page(p, t);
	__atomic_sub_fetch(&p->nr_shared_pmds, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->pt_share_lock);
	if (dropped) {
		pt_unreserve(p, 1);
		*pmd = 0;
		mm->nr_pgtables--;
	} else if (page_make_writable(t) == 0) {	/* ours alone */
		own_shared_table(p, (pte_t *)t->data,
		    (*pmd & _PAGE_PT_OLD) != 0);
		*pmd = pfn_pte(t->pfn, _PAGE_TABLE);	/* as if never shared */
	}
	return dropped;
}

bool pte_seen(struct mm *mm, unsigned long addr, pte_t *pte, int *mapcount)
{
	struct as_phys *p = phys_of(mm);
	pte_t pmd = 0, *ptep = pte_offset_ro(mm, addr, &pmd);
	struct page *page;
	int m;

	*pte = ptep != NULL ? *ptep : 0;
	*mapcount = 0;
	if (pmd_shared(pmd))
		*pte &= ~(_PAGE_RW | ((pmd & _PAGE_PT_OLD) ? _PAGE_ACCESSED :
		    0));
	if (!pte_present(*pte) || (*pte & _PAGE_SPECIAL))
		return true;
	page = pfn_to_page(p, pte_pfn(*pte));
	m = page_mapcount(page);
	if (m == 1)		/* this PTE alone: its table's sharers */
		*mapcount = page_refcount(pfn_to_page(p, pte_pfn(pmd)));
	else if (__atomic_load_n(&p->nr_shared_pmds, __ATOMIC_ACQUIRE) == 0)
		*mapcount = m;
	else
		return false;
	return true;
}

/* Call fn on every shared PMD entry of mm (page_table_lock held). */
static void for_each_shared_pmd(struct mm *mm,
    void (*fn)(struct mm *, unsigned long, pte_t *))
{
	struct as_phys *p = phys_of(mm);
	pte_t *pgd = table_at(p, mm->pgd), *pud, *pmd;
	unsigned long i, j, k;

	for (i = 0; i < PTRS_PER_TABLE; i++) {
		if (!(pgd[i] & _PAGE_PRESENT))
			continue;
		pud = table_at(p, pte_pfn(pgd[i]));
		for (j = 0; j < PTRS_PER_TABLE; j++) {
			if (!(pud[j] & _PAGE_PRESENT))
				continue;
			for (k = 0; k < PTRS_PER_TABLE; k++) {
				pmd = table_at(p, pte_pfn(pud[j]));
				if (!pmd_shared(pmd[k]) || page_make_writable(
				    pfn_to_page(p, pte_pfn(pud[j]))) != 0)
					continue;
				pmd = table_at(p, pte_pfn(pud[j]));
				fn(mm, (i << PGDIR_SHIFT) | (j << PUD_SHIFT) |
				    (k << PMD_SHIFT), &pmd[k]);
			}
		}
	}
}

static void drop_one(struct mm *mm, unsigned long addr, pte_t *pmd)
{
	(void)addr;
	(void)pte_table_drop(mm, pmd);
}

static void unshare_one(struct mm *mm, unsigned long addr, pte_t *pmd)
{
	(void)pte_unshare(mm, addr, pmd);
}

void mm_drop_shared_tables(struct mm *mm)
{
	if (__atomic_load_n(&phys_of(mm)->nr_shared_pmds, __ATOMIC_RELAXED) ==
	    0)
		return;
	pthread_mutex_lock(&mm->page_table_lock);
	for_each_shared_pmd(mm, drop_one);
	pthread_mutex_unlock(&mm->page_table_lock);
}

void mm_unshare_tables(struct mm *mm)
{
	struct as_explain *prev;

	if (__atomic_load_n(&phys_of(mm)->nr_shared_pmds, __ATOMIC_RELAXED) ==
	    0)
		return;
	prev = explain_pause();	/* bookkeeping for a reader, no decision */
	for_each_shared_pmd(mm, unshare_one);
	explain_end(prev);
}

/* Every mm of s with a user taken, in a new array of *n (NULL: none, or
 * no host memory, *n then 0). */
static struct mm **session_mms(struct as_session *s, int *n)
{
	struct mm **mms = NULL, **grown;
	struct task *t;
	int i, cap = 0;

	*n = 0;
	pthread_mutex_lock(&s->lock);
	for (t = s->tasks; t != NULL; t = t->next) {
		for (i = 0; i < *n && mms[i] != t->mm; i++)
			;
		if (t->mm == NULL || i < *n)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(mms, sizeof(*mms) * cap)) == NULL)
				break;
			mms = grown;
		}
		__atomic_add_fetch(&t->mm->mm_users, 1, __ATOMIC_RELAXED);
		mms[(*n)++] = t->mm;
	}
	pthread_mutex_unlock(&s->lock);
	return mms;
}

void session_unshare_tables(struct as_session *s)
{
	struct mm **mms;
	int n, i;

	if (__atomic_load_n(&s->phys.nr_shared_pmds, __ATOMIC_ACQUIRE) == 0)
		return;
	mms = session_mms(s, &n);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&mms[i]->page_table_lock);
		mm_unshare_tables(mms[i]);
		pthread_mutex_unlock(&mms[i]->page_table_lock);
		mmput(mms[i]);
	}
	free(mms);
}

/*
 * req-pages.c: pages (docs/web.md, docs/protocol.md section 9): the state
 * of each page of the task's VMAs in [start, end), for the web view's page
 * cells.  Read from the PTEs and the struct pages under the mm's
 * mmap_lock (read) and page_table_lock, as page_walk reads them; the
 * figures are those smaps counts (maps.c, smaps_pte_entry()), a shmem
 * page swapped out of its object included (smaps' shmem_swap_usage()):
 * its PTE is gone, its object holds the swap entry.  At most
 * PAGES_MAX pages an answer: the view asks for one VMA, a window at a
 * time.  pages_pte_state() is also the web stepper's (web-step.c), so
 * that a step's page cells say what this request would have.
 */
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"
#include "req.h"
#include "shmem.h"
#include "web-step.h"

#define PAGES_MAX	4096

/* An anonymous page's state in vma: write-protected where the VMA lets
 * the task write is a copy on write to come. */
static Aspace__Page__State anon_state(const struct vma *vma, pte_t pte,
    int mapcount)
{
	if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE &&
	    !(pte & _PAGE_RW))
		return ASPACE__PAGE__STATE__COW;
	return mapcount > 1 ? ASPACE__PAGE__STATE__SHARED :
	    ASPACE__PAGE__STATE__ANON;
}

/* A present PTE's page into p, mapped mapcount times. */
static void present(Aspace__Page *p, const struct vma *vma, pte_t pte,
    int mapcount)
{
	struct page *page;

	p->has_pfn = true;
	p->pfn = pte_pfn(pte);
	if (pte & _PAGE_SPECIAL) {
		p->state = ASPACE__PAGE__STATE__ZERO;
		return;
	}
	page = pfn_to_page(&vma->vm_mm->session->phys, p->pfn);
	p->has_mapcount = p->has_dirty = true;
	p->mapcount = mapcount;
	p->dirty = (pte & _PAGE_DIRTY) || page_test(page, PG_dirty);
	if (page_test(page, PG_anon))
		p->state = anon_state(vma, pte, mapcount);
	else if (p->mapcount > 1)
		p->state = ASPACE__PAGE__STATE__SHARED;
	else
		p->state = p->dirty ? ASPACE__PAGE__STATE__FILE_DIRTY :
		    ASPACE__PAGE__STATE__FILE_CLEAN;
}

bool pages_pte_state(Aspace__Page *p, struct vma *vma, unsigned long addr)
{
	int mapcount;
	pte_t pte;
	bool exact = pte_seen(vma->vm_mm, addr, &pte, &mapcount);

	aspace__page__init(p);
	p->has_addr = p->has_state = p->has_locked = true;
	p->addr = addr;
	p->locked = (vma->vm_flags & VM_LOCKED) != 0;
	if (is_swap_pte(pte))
		p->state = ASPACE__PAGE__STATE__SWAP;
	else if (pte_present(pte))
		present(p, vma, pte, mapcount);
	else
		p->state = ASPACE__PAGE__STATE__NOT_PRESENT;
	return exact;
}

/* The pages of [lo, hi) into r (the mm locked); false out of memory.
 * *exact false: a mapcount needs the session's tables unshared. */
static bool fill_pages(struct req_ctx *c, Aspace__PagesResult *r,
    struct mm *mm, unsigned long lo, unsigned long hi, bool *exact)
{
	struct vma *vma;
	unsigned long a;

	for (vma = find_vma(mm, lo); vma != NULL && vma->vm_start < hi;
	    vma = vma->vm_next) {
		a = vma->vm_start > lo ? vma->vm_start : lo & AS_PAGE_MASK;
		for (; a < vma->vm_end && a < hi; a += AS_PAGE_SIZE) {
			if (r->n_pages == PAGES_MAX) {
				r->has_truncated = r->truncated = true;
				return true;
			}
			if ((r->pages[r->n_pages] = req_alloc(c,
			    sizeof(Aspace__Page))) == NULL)
				return false;
			*exact &= pages_pte_state(r->pages[r->n_pages++], vma,
			    a);
		}
	}
	return true;
}

bool pages_shmem_swapped(const struct vma *vma, unsigned long addr)
{
	struct as_file *f;
	unsigned long idx;
	bool swapped;

	if (vma->vm_file == NULL || !file_inode(vma->vm_file)->shmem_zero)
		return false;
	f = file_inode(vma->vm_file);
	idx = vma->vm_pgoff + ((addr - vma->vm_start) >> AS_PAGE_SHIFT);
	pthread_mutex_lock(&f->lock);
	swapped = idx < f->cache_len && f->cache[idx] != NULL &&
	    xa_is_value(f->cache[idx]);
	pthread_mutex_unlock(&f->lock);
	return swapped;
}

/* Pages with no PTE in a shmem VMA whose object holds a swap entry for
 * them: SWAP (the mm read-locked; the object's lock, as smaps takes it). */
static void shmem_swapped(struct mm *mm, Aspace__PagesResult *r)
{
	struct vma *vma = NULL;
	size_t i;

	for (i = 0; i < r->n_pages; i++) {
		Aspace__Page *p = r->pages[i];

		if (p->state != ASPACE__PAGE__STATE__NOT_PRESENT)
			continue;
		if (vma == NULL || p->addr >= vma->vm_end)
			vma = find_vma(mm, p->addr);
		if (vma != NULL && pages_shmem_swapped(vma, p->addr))
			p->state = ASPACE__PAGE__STATE__SWAP;
	}
}

/*
 * fill_pages() under page_table_lock, first unsharing the session's
 * tables if unshare: 1, or 0 if a mapcount cannot be told without that
 * (PTE tables fork shared, pt_share.c: tables are read as they are where
 * the answer is exact, so that a view shows them shared), -1 out of
 * memory.
 */
static int fill_locked(struct req_ctx *c, Aspace__PagesResult *r,
    struct mm *mm, const Aspace__PagesRequest *m, bool unshare)
{
	bool ok, exact = true;

	if (unshare)
		session_unshare_tables(mm->session);
	r->n_pages = 0;
	r->has_truncated = r->truncated = false;
	pthread_mutex_lock(&mm->page_table_lock);
	ok = fill_pages(c, r, mm, m->start, m->end, &exact);
	pthread_mutex_unlock(&mm->page_table_lock);
	return !ok ? -1 : exact || unshare;
}

static void do_pages_req(struct req_ctx *c)
{
	const Aspace__PagesRequest *m = c->req->pages;
	struct mm *mm = c->task->mm;
	Aspace__PagesResult *r;
	int exact;

	if (!m->has_start || !m->has_end || m->end <= m->start) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "pages: start and end, start < end, needed");
		return;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL)
		return;
	aspace__pages_result__init(r);
	if ((r->pages = req_alloc(c, PAGES_MAX * sizeof(*r->pages))) == NULL)
		return;
	mmap_read_lock(mm);
	if ((exact = fill_locked(c, r, mm, m, false)) == 0)
		exact = fill_locked(c, r, mm, m, true);	/* the second time */
	if (exact < 0)
		r = NULL;
	if (r != NULL)
		shmem_swapped(mm, r);
	mmap_read_unlock(mm);
	if (r == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_PAGES;
	c->resp->pages = r;
}

const struct request_entry req_pages_entry = {
	.op = ASPACE__REQUEST__OP_PAGES,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_pages_req,
};

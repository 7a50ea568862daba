/*
 * req-page-walk.c: page_walk (docs/protocol.md, section 9): the four
 * entries the MMU reads for an address, by pgtable_walk(), under the
 * mm's mmap_lock (read) and page_table_lock, so that a fault in another
 * task of the mm cannot change the tables midway.  A swap entry in the
 * PTE is decoded as well: type, offset (the slot), exclusive; and the
 * mms holding the PTE table (more than one: fork shared it).
 */
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "req.h"

/* include/linux/swapops.h: BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT. */
#define SWP_TYPE_SHIFT	58

/* A swap PTE's entry, as the kernel's swp_entry_t (type above offset;
 * the simulator's device is type 0). */
static void swap_decode(Aspace__PageWalkResult *r, pte_t pte)
{
	r->has_swap = r->has_swap_entry = r->has_swap_type = true;
	r->has_swap_offset = r->has_swap_exclusive = true;
	r->swap = true;
	r->swap_type = 0;
	r->swap_offset = pte_swp_offset(pte);
	r->swap_entry = ((uint64_t)r->swap_type << SWP_TYPE_SHIFT) |
	    r->swap_offset;
	r->swap_exclusive = (pte & _PAGE_SWP_EXCLUSIVE) != 0;
}

static void do_page_walk_req(struct req_ctx *c)
{
	const Aspace__PageWalkRequest *m = c->req->page_walk;
	Aspace__PageWalkResult *r;
	struct mm *mm = c->task->mm;
	pte_t e[4];
	int sharers = 0;

	if (!m->has_addr) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "page_walk: addr needed");
		return;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL)
		return;
	mmap_read_lock(mm);
	pthread_mutex_lock(&mm->page_table_lock);
	pgtable_walk(mm, m->addr, e);
	if (e[2] & _PAGE_PRESENT)	/* the sharers hold the table page */
		sharers = page_refcount(pfn_to_page(&mm->session->phys,
		    pte_pfn(e[2])));
	pthread_mutex_unlock(&mm->page_table_lock);
	mmap_read_unlock(mm);
	aspace__page_walk_result__init(r);
	r->has_pgd = r->has_pud = r->has_pmd = r->has_pte = true;
	r->pgd = e[0];
	r->pud = e[1];
	r->pmd = e[2];
	r->pte = e[3];
	if (is_swap_pte(e[3]))
		swap_decode(r, e[3]);
	r->has_pt_sharers = sharers > 0;
	r->pt_sharers = (uint32_t)sharers;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_PAGE_WALK;
	c->resp->page_walk = r;
}

const struct request_entry req_page_walk_entry = {
	.op = ASPACE__REQUEST__OP_PAGE_WALK,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_page_walk_req,
};

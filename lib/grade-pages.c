/*
 * grade-pages.c: the pages behind an smaps figure, for the grader's "why"
 * (grade.h): each present or swapped PTE of a VMA, as smaps_pte_entry()
 * (maps.c) counts it: the frame, its mapcount, dirty or clean, anonymous
 * or the page cache; the zero page; a swap entry.  At most
 * GRADE_PAGES_MAX pages a VMA, then how many more.
 */
#include <stdio.h>

#include "grade.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"

#define GRADE_PAGES_MAX	16

struct pages_walk {
	struct as_buf	*b;
	struct vma	*vma;
	unsigned int	 n;
};

static void page_entry(void *arg, unsigned long addr, pte_t *ptep)
{
	struct pages_walk *w = arg;
	pte_t pte = *ptep;
	struct page *page;

	if (!is_swap_pte(pte) && !pte_present(pte))
		return;
	if (w->n++ >= GRADE_PAGES_MAX)
		return;
	if (is_swap_pte(pte)) {
		as_buf_printf(w->b, "  0x%lx: swapped out\n", addr);
		return;
	}
	if (pte & _PAGE_SPECIAL) {
		as_buf_printf(w->b, "  0x%lx: the zero page (not counted)\n",
		    addr);
		return;
	}
	page = pfn_to_page(&w->vma->vm_mm->session->phys, pte_pfn(pte));
	as_buf_printf(w->b, "  0x%lx: frame 0x%lx, mapcount %d, %s, %s\n",
	    addr, pte_pfn(pte), page_mapcount(page),
	    (pte & _PAGE_DIRTY) || page_test(page, PG_dirty) ? "dirty" :
	    "clean", page_test(page, PG_anon) ? "anonymous" : "page cache");
}

void as_grade_smaps_pages(struct as_buf *b, struct vma *vma)
{
	struct pages_walk w = { b, vma, 0 };

	show_map_vma(b, "", vma);
	session_unshare_tables(vma->vm_mm->session);	/* mapcounts */
	walk_page_range_ro(vma->vm_mm, vma->vm_start, vma->vm_end, page_entry,
	    &w);
	if (w.n > GRADE_PAGES_MAX)
		as_buf_printf(b, "  (%u pages more)\n", w.n - GRADE_PAGES_MAX);
	else if (w.n == 0)
		as_buf_printf(b, "  no page mapped\n");
}

/*
 * maps.c: the text of /proc/PID/maps and smaps' VmFlags line
 * (fs/proc/task_mmu.c: show_map_vma(), show_smap_vma_flags()), and the
 * mm counters /proc/PID/status prints (mm_rss_count()).
 */
#include <stdio.h>

#include "buf.h"
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"
#include "shmem.h"
#include "trace_parse.h"

#define PSS_SHIFT	12

/* The VMA's name as /proc/PID/maps prints it. */
static const char *vma_name(const struct vma *vma)
{
	const struct mm *mm = vma->vm_mm;

	if (vma->vm_file != NULL)
		return file_inode(vma->vm_file)->name;
	if (vma->vm_special_name != NULL)
		return vma->vm_special_name;
	if (vma->vm_start < mm->brk && vma->vm_end > mm->start_brk)
		return "[heap]";	/* vma_is_initial_heap() */
	if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
		return "[stack]";
	return "";
}

/* show_map_vma(): one maps line, after indent, with a newline. */
void show_map_vma(struct as_buf *b, const char *indent, struct vma *vma)
{
	char perms[4], line[256];
	unsigned long off = 0;

	perms[0] = vma->vm_flags & VM_READ ? 'r' : '-';
	perms[1] = vma->vm_flags & VM_WRITE ? 'w' : '-';
	perms[2] = vma->vm_flags & VM_EXEC ? 'x' : '-';
	perms[3] = vma->vm_flags & VM_MAYSHARE ? 's' : 'p';
	if (vma->vm_file != NULL)
		off = vma->vm_pgoff << AS_PAGE_SHIFT;
	trace_format_maps_line(line, sizeof(line), vma->vm_start, vma->vm_end,
	    perms, off, vma_name(vma));
	as_buf_printf(b, "%s%s\n", indent, line);
}

/* The two-letter codes of VmFlags, by bit number. */
static const char mnemonics[32][3] = {
	"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms",
	"gd", "um", "pf", "",   "uw", "lo", "io", "sr",
	"rr", "dc", "de", "lf", "ac", "nr", "ht", "sf",
	"ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg",
};

/* The VmFlags code of flag bit i ("" for a bit smaps does not show). */
const char *vm_flag_mnemonic(unsigned int i)
{
	return i < 32 ? mnemonics[i] : "";
}

/* show_smap_vma_flags(): "VmFlags: rd wr mr mw me ac". */
void show_smap_vma_flags(struct as_buf *b, const char *indent,
    const struct vma *vma)
{
	unsigned int i;

	as_buf_printf(b, "%sVmFlags:", indent);
	for (i = 0; i < 32; i++)
		if ((vma->vm_flags & (1UL << i)) && mnemonics[i][0] != '\0')
			as_buf_printf(b, " %s", mnemonics[i]);
	as_buf_put(b, "\n", 1);
}

/* struct mem_size_stats: one VMA's smaps figures, in bytes. */
struct mem_size_stats {
	struct vma	*vma;
	unsigned long	 resident, shared_clean, shared_dirty;
	unsigned long	 private_clean, private_dirty, anonymous;
	unsigned long	 swap;		/* swap PTEs or entries, in bytes */
	uint64_t	 pss, pss_locked;
	bool		 inexact;	/* a mapcount needs tables unshared */
};

/* smaps_page_accumulate(): add one page's share. */
static void smaps_page_accumulate(struct mem_size_stats *mss, uint64_t pss,
    bool dirty, bool private)
{
	mss->pss += pss;
	if (mss->vma->vm_flags & VM_LOCKED)
		mss->pss_locked += pss;
	if (dirty)
		*(private ? &mss->private_dirty : &mss->shared_dirty) +=
		    AS_PAGE_SIZE;
	else
		*(private ? &mss->private_clean : &mss->shared_clean) +=
		    AS_PAGE_SIZE;
}

/* smaps_pte_entry(): account one PTE (the zero page counts for nothing),
 * with the mapcount Linux would show (pte_seen(): a table fork shared
 * counts its sharers). */
static void smaps_pte_entry(void *arg, unsigned long addr, pte_t *ptep)
{
	struct mem_size_stats *mss = arg;
	struct page *page;
	uint64_t pss = (uint64_t)AS_PAGE_SIZE << PSS_SHIFT;
	bool dirty;
	int mapcount;
	pte_t pte;

	(void)ptep;
	mss->inexact |= !pte_seen(mss->vma->vm_mm, addr, &pte, &mapcount);
	if (is_swap_pte(pte)) {		/* a swap entry: counted as Swap */
		mss->swap += AS_PAGE_SIZE;
		return;
	}
	if (!pte_present(pte) || (pte & _PAGE_SPECIAL))
		return;
	page = pfn_to_page(&mss->vma->vm_mm->session->phys, pte_pfn(pte));
	dirty = (pte & _PAGE_DIRTY) || page_test(page, PG_dirty);
	if (page_test(page, PG_anon))
		mss->anonymous += AS_PAGE_SIZE;
	mss->resident += AS_PAGE_SIZE;
	if (mapcount >= 2)
		pss /= (uint64_t)mapcount;
	smaps_page_accumulate(mss, pss, dirty, mapcount < 2);
}

/* show_smap(): the maps line, the figures and VmFlags of one VMA. */
void show_smap(struct as_buf *b, const char *indent, struct vma *vma)
{
	struct mem_size_stats mss = { .vma = vma };
	char in2[16];

	walk_page_range_ro(vma->vm_mm, vma->vm_start, vma->vm_end,
	    smaps_pte_entry, &mss);
	if (mss.inexact) {	/* a page in tables fork shared and others */
		session_unshare_tables(vma->vm_mm->session);
		mss = (struct mem_size_stats){ .vma = vma };
		walk_page_range_ro(vma->vm_mm, vma->vm_start, vma->vm_end,
		    smaps_pte_entry, &mss);
	}
	/* smap_gather_stats(): a shmem VMA (always shared here) counts its
	 * object's swapped pages in the range it maps */
	if (vma->vm_file != NULL && file_inode(vma->vm_file)->shmem_zero)
		mss.swap += shmem_swap_usage(vma);
	show_map_vma(b, indent, vma);
	snprintf(in2, sizeof(in2), "%s  ", indent);
	as_buf_printf(b, "%sRss: %lu kB\n%sPss: %lu kB\n", in2,
	    mss.resident >> 10, in2, (unsigned long)(mss.pss >> (PSS_SHIFT + 10)));
	as_buf_printf(b, "%sShared_Clean: %lu kB\n%sShared_Dirty: %lu kB\n",
	    in2, mss.shared_clean >> 10, in2, mss.shared_dirty >> 10);
	as_buf_printf(b, "%sPrivate_Clean: %lu kB\n%sPrivate_Dirty: %lu kB\n",
	    in2, mss.private_clean >> 10, in2, mss.private_dirty >> 10);
	as_buf_printf(b, "%sAnonymous: %lu kB\n%sSwap: %lu kB\n", in2,
	    mss.anonymous >> 10, in2, mss.swap >> 10);
	as_buf_printf(b, "%sLocked: %lu kB\n", in2,
	    (unsigned long)(mss.pss_locked >> (PSS_SHIFT + 10)));
	show_smap_vma_flags(b, in2, vma);
}

struct rss_walk {
	struct vma		*vma;
	struct mm_rss_stat	*r;
};

/* One PTE as the mm counters hold it: a swap entry as MM_SWAPENTS, a
 * page as MM_ANONPAGES, MM_SHMEMPAGES or MM_FILEPAGES (the zero page and
 * other special PTEs count for nothing). */
static void rss_pte_entry(void *arg, unsigned long addr, pte_t *ptep)
{
	struct rss_walk *w = arg;
	struct page *page;
	pte_t pte = *ptep;

	(void)addr;
	if (is_swap_pte(pte)) {
		w->r->swapents++;
		return;
	}
	if (!pte_present(pte) || (pte & _PAGE_SPECIAL))
		return;
	page = pfn_to_page(&w->vma->vm_mm->session->phys, pte_pfn(pte));
	if (page_test(page, PG_anon))
		w->r->anon++;
	else if (w->vma->vm_file != NULL &&
	    file_inode(w->vma->vm_file)->shmem_zero)
		w->r->shmem++;
	else
		w->r->file++;
}

void mm_rss_count(struct mm *mm, struct mm_rss_stat *r)
{
	struct rss_walk w = { .r = r };

	r->file = r->anon = r->swapents = r->shmem = 0;
	for (w.vma = find_vma(mm, 0); w.vma != NULL; w.vma = w.vma->vm_next)
		walk_page_range_ro(mm, w.vma->vm_start, w.vma->vm_end,
		    rss_pte_entry, &w);
}

/*
 * pgtable.c: walking, allocating and freeing x86-64 page tables
 * (mm/memory.c __pte_alloc() and friends, mm/memory.c free_pgd_range()).
 * Page-table pages are frames of the simulated RAM, so they count against
 * it as they do in Linux.
 */
#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "pt_share.h"

static struct as_phys *phys_of(struct mm *mm)
{
	return &mm->session->phys;
}

static pte_t *table_of(struct mm *mm, unsigned long pfn)
{
	return (pte_t *)pfn_to_page(phys_of(mm), pfn)->data;
}

static unsigned int index_at(unsigned long addr, int shift)
{
	return (addr >> shift) & (PTRS_PER_TABLE - 1);
}

int pgd_alloc(struct mm *mm)
{
	struct page *page = alloc_page(phys_of(mm));

	if (page == NULL)
		return -ENOMEM;
	page->flags |= PG_pgtable;
	mm->pgd = page->pfn;
	return 0;
}

/* The table at pfn to change: its own host bytes first (a table whose
 * bytes another session shares, host_ksm.c); NULL if there is no host
 * memory for them. */
static pte_t *table_w(struct mm *mm, unsigned long pfn)
{
	struct page *page = pfn_to_page(phys_of(mm), pfn);

	return page_make_writable(page) == 0 ? (pte_t *)page->data : NULL;
}

/*
 * The next level's table behind *entry, made if missing and alloc (the
 * caller made *entry's table writable); writable itself if write.
 */
static pte_t *next_table(struct mm *mm, pte_t *entry, int alloc, int write)
{
	struct page *page;

	if (*entry & _PAGE_PRESENT)
		return write ? table_w(mm, pte_pfn(*entry)) :
		    table_of(mm, pte_pfn(*entry));
	if (!alloc || (page = alloc_page(phys_of(mm))) == NULL)
		return NULL;
	page->flags |= PG_pgtable;
	*entry = pfn_pte(page->pfn, _PAGE_TABLE);
	mm->nr_pgtables++;
	return (pte_t *)page->data;
}

/* The PMD entry for addr: upper tables made if PMD_ALLOC, else NULL
 * where one is missing; every table on the way writable unless
 * PMD_READ. */
pte_t *pmd_offset(struct mm *mm, unsigned long addr, int how)
{
	int write = how != PMD_READ, alloc = how == PMD_ALLOC;
	pte_t *table = write ? table_w(mm, mm->pgd) : table_of(mm, mm->pgd);

	if (table != NULL)
		table = next_table(mm, &table[index_at(addr, PGDIR_SHIFT)],
		    alloc, write);
	if (table != NULL)
		table = next_table(mm, &table[index_at(addr, PUD_SHIFT)],
		    alloc, write);
	return table != NULL ? &table[index_at(addr, PMD_SHIFT)] : NULL;
}

/* The PTE slot of addr for a change: a shared table unshared first,
 * every table on the way its own host bytes. */
static pte_t *walk(struct mm *mm, unsigned long addr, int alloc)
{
	pte_t *pmd = pmd_offset(mm, addr, alloc ? PMD_ALLOC : PMD_WRITE);
	pte_t *table;

	if (pmd == NULL)
		return NULL;
	if (pmd_shared(*pmd) && pte_unshare(mm, addr, pmd) != 0)
		return NULL;
	table = next_table(mm, pmd, alloc, 1);
	return table != NULL ? &table[index_at(addr, AS_PAGE_SHIFT)] : NULL;
}

pte_t *pte_offset_alloc(struct mm *mm, unsigned long addr)
{
	return walk(mm, addr, 1);
}

pte_t *pte_offset(struct mm *mm, unsigned long addr)
{
	return walk(mm, addr, 0);
}

pte_t *pte_offset_ro(struct mm *mm, unsigned long addr, pte_t *pmdval)
{
	pte_t *pmd = pmd_offset(mm, addr, PMD_READ);

	if (pmd == NULL || !(*pmd & _PAGE_PRESENT))
		return NULL;
	if (pmdval != NULL)
		*pmdval = *pmd;
	return &table_of(mm, pte_pfn(*pmd))[index_at(addr, AS_PAGE_SHIFT)];
}

/*
 * pte_offset() (unshare) or pte_offset_ro() for a range walk: the PTE
 * slot of addr, or NULL with *next set to the end of the span of the
 * highest empty entry on the way down, where the walk resumes
 * (pgd_addr_end(), pud_addr_end(), pmd_addr_end() of a walk that skips
 * pgd_none(), pud_none(), pmd_none() entries); 0 if that span ends at
 * the top of the address space.
 */
pte_t *pte_offset_next(struct mm *mm, unsigned long addr, unsigned long *next,
    int unshare)
{
	static const int shifts[3] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT };
	pte_t *table = table_of(mm, mm->pgd), *entry;
	unsigned long pfn = mm->pgd;
	int level;

	for (level = 0; level < 3 && table != NULL; level++) {
		entry = &table[index_at(addr, shifts[level])];
		if (!(*entry & _PAGE_PRESENT)) {
			*next = (addr | ((1UL << shifts[level]) - 1)) + 1;
			return NULL;
		}
		if (level == 2 && unshare && pmd_shared(*entry) &&
		    (table_w(mm, pfn) == NULL ||	/* entry's table */
		    pte_unshare(mm, addr, entry) != 0))
			table = NULL;
		else
			table = table_of(mm, pfn = pte_pfn(*entry));
	}
	if (table != NULL && unshare)
		table = table_w(mm, pfn);
	if (table == NULL) {	/* host memory gone: left as it is */
		*next = (addr | (PMD_SIZE - 1)) + 1;
		return NULL;
	}
	return &table[index_at(addr, AS_PAGE_SHIFT)];
}

void pgtable_walk(struct mm *mm, unsigned long addr, pte_t entries[4])
{
	static const int shifts[4] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT,
	    AS_PAGE_SHIFT };
	pte_t *table = table_of(mm, mm->pgd);
	int level;

	for (level = 0; level < 4; level++) {
		entries[level] = table != NULL ?
		    table[index_at(addr, shifts[level])] : 0;
		table = level < 3 && (entries[level] & _PAGE_PRESENT) ?
		    table_of(mm, pte_pfn(entries[level])) : NULL;
	}
}

/*
 * Free, below table (at the level whose entries span 1 << shift bytes),
 * every child table covering part of [start, end) whose whole span lies in
 * [floor, ceiling).
 */
static void free_level(struct mm *mm, unsigned long tpfn, int shift,
    unsigned long base, unsigned long start, unsigned long end,
    unsigned long floor, unsigned long ceiling)
{
	unsigned long span = 1UL << shift, s, i, last;
	pte_t *table = table_of(mm, tpfn);

	/* only the entries [start, end) meets, not all 512 */
	if (end <= base || end - 1 < start)
		return;
	i = start > base ? (start - base) >> shift : 0;
	last = (end - 1 - base) >> shift;
	if (last >= PTRS_PER_TABLE)
		last = PTRS_PER_TABLE - 1;
	for (; i <= last; i++) {
		s = base + i * span;
		if (!(table[i] & _PAGE_PRESENT))
			continue;
		if (shift > PMD_SHIFT)
			free_level(mm, pte_pfn(table[i]), shift - 9, s, start,
			    end, floor, ceiling);
		if (s < floor || s + span - 1 > ceiling - 1 ||
		    table_w(mm, tpfn) == NULL)
			continue;
		table = table_of(mm, tpfn);	/* its own bytes now */
		/* a table fork shared: this mm's share goes */
		if (shift == PMD_SHIFT && pmd_shared(table[i]) &&
		    pte_table_drop(mm, &table[i]))
			continue;
		put_page(phys_of(mm), pfn_to_page(phys_of(mm),
		    pte_pfn(table[i])));
		table[i] = 0;
		mm->nr_pgtables--;
	}
}

void free_pgtables(struct mm *mm, unsigned long start, unsigned long end,
    unsigned long floor, unsigned long ceiling)
{
	if (mm->pgd != 0 || mm->nr_pgtables != 0)
		free_level(mm, mm->pgd, PGDIR_SHIFT, 0, start, end, floor,
		    ceiling);
}

void pgd_free(struct mm *mm)
{
	free_pgtables(mm, 0, ~0UL, 0, ~0UL);
	put_page(phys_of(mm), pfn_to_page(phys_of(mm), mm->pgd));
}

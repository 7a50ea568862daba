/*
 * pgtable.h: x86-64 4-level page tables (arch/x86/include/asm/pgtable*.h).
 * Each table is a simulated frame holding 512 64-bit entries; an entry
 * holds the next table's (or the page's) frame number and these bits.
 * All changes are made under mm->page_table_lock.
 */
#ifndef ASPACE_PGTABLE_H
#define ASPACE_PGTABLE_H

#include <stdint.h>

#include "mm_types.h"

typedef uint64_t pte_t;

#define _PAGE_PRESENT	0x001ULL
#define _PAGE_RW	0x002ULL
#define _PAGE_USER	0x004ULL
#define _PAGE_ACCESSED	0x020ULL
#define _PAGE_DIRTY	0x040ULL
#define _PAGE_PROTNONE	0x100ULL	/* the global bit, reused */
#define _PAGE_SPECIAL	0x200ULL	/* software bit: no struct page use */
#define _PAGE_NX	(1ULL << 63)
#define PTE_PFN_MASK	0x000ffffffffff000ULL
/* An entry pointing at a lower table (Linux's _PAGE_TABLE, less dirty). */
#define _PAGE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)
/*
 * A PMD entry whose PTE table fork shared (pt_share.c, kernel
 * share_tables): _PAGE_TABLE less _PAGE_RW, so that the MMU faults on
 * every write through it, and with _PAGE_PT_OLD (a bit x86 leaves to
 * software in a table entry) where this mm sees every PTE of the table
 * old, as copy_present_pte() leaves a fork child's.
 */
#define _PAGE_PT_OLD	0x400ULL
#define PMD_SIZE	(1UL << 21)
#define PUD_SIZE	(1UL << 30)

#define PTRS_PER_TABLE	512
#define PGDIR_SHIFT	39
#define PUD_SHIFT	30
#define PMD_SHIFT	21

static inline unsigned long pte_pfn(pte_t pte)
{
	return (unsigned long)((pte & PTE_PFN_MASK) >> 12);
}

/* pte_present(): present, or PROT_NONE (which x86 also counts). */
static inline int pte_present(pte_t pte)
{
	return (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0;
}

static inline pte_t pfn_pte(unsigned long pfn, uint64_t prot)
{
	return ((pte_t)pfn << 12) | prot;
}

/*
 * Swap entries in non-present PTEs (x86-64's __swp_entry(), type 0 only,
 * offset not inverted): neither _PAGE_PRESENT nor _PAGE_PROTNONE, the
 * slot's offset from bit 14 (SWP_OFFSET_FIRST_BIT), and
 * _PAGE_SWP_EXCLUSIVE (the _PAGE_USER bit, as x86 reuses it): the page was
 * PageAnonExclusive when unmapped.  Slot 0 is the swap header, never
 * handed out, so a swap PTE is never 0.
 */
#define _PAGE_SWP_EXCLUSIVE	_PAGE_USER
#define SWP_OFFSET_FIRST_BIT	14

static inline int is_swap_pte(pte_t pte)
{
	return pte != 0 && !pte_present(pte);
}

static inline pte_t swp_entry_to_pte(unsigned long offset, int exclusive)
{
	return ((pte_t)offset << SWP_OFFSET_FIRST_BIT) |
	    (exclusive ? _PAGE_SWP_EXCLUSIVE : 0);
}

static inline unsigned long pte_swp_offset(pte_t pte)
{
	return (unsigned long)((pte & ~_PAGE_NX) >> SWP_OFFSET_FIRST_BIT);
}

/* pmd_shared(): a PMD entry naming a table fork shared. */
static inline int pmd_shared(pte_t pmd)
{
	return (pmd & (_PAGE_PRESENT | _PAGE_RW)) == _PAGE_PRESENT;
}

/*
 * The PTE slot for addr, for a change: made (tables allocated) or just
 * looked up; a table fork shared is made this mm's own first
 * (pte_unshare()), NULL if that fails.  page_table_lock held.
 */
pte_t *pte_offset_alloc(struct mm *mm, unsigned long addr);
pte_t *pte_offset(struct mm *mm, unsigned long addr);
/* The PTE slot for addr to read, maybe in a shared table (*pmd: the PMD
 * entry, for pmd_shared() and _PAGE_PT_OLD), or NULL. */
pte_t *pte_offset_ro(struct mm *mm, unsigned long addr, pte_t *pmd);
/* The PMD entry for addr: to read (PMD_READ), to change (PMD_WRITE:
 * the tables on the way given their own host bytes, host_ksm.c), or to
 * change with upper tables made where missing (PMD_ALLOC); NULL if a
 * table is missing (or there is no host memory). */
#define PMD_READ	0
#define PMD_ALLOC	1
#define PMD_WRITE	2
pte_t *pmd_offset(struct mm *mm, unsigned long addr, int how);
/* pte_offset() (unshare) or pte_offset_ro(), or NULL with where the
 * next table could start in *next. */
pte_t *pte_offset_next(struct mm *mm, unsigned long addr,
    unsigned long *next, int unshare);
/* Walk entries for a page walk report: the four entries, 0 if absent. */
void pgtable_walk(struct mm *mm, unsigned long addr, pte_t entries[4]);
/* free_pgtables(): free tables of [start, end) lying wholly in
 * [floor, ceiling), the span no VMA covers. */
void free_pgtables(struct mm *mm, unsigned long start, unsigned long end,
    unsigned long floor, unsigned long ceiling);
void walk_page_range(struct mm *mm, unsigned long start, unsigned long end,
    void (*fn)(void *arg, unsigned long addr, pte_t *pte), void *arg);
void walk_page_range_ro(struct mm *mm, unsigned long start,
    unsigned long end, void (*fn)(void *arg, unsigned long addr, pte_t *pte),
    void *arg);
int pgd_alloc(struct mm *mm);
void pgd_free(struct mm *mm);

#endif /* ASPACE_PGTABLE_H */

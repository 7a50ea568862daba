/*
 * pt_share.h: PTE tables shared at fork (pt_share.c), a simulator design
 * choice the `kernel share_tables` parameter turns off.
 */
#ifndef ASPACE_PT_SHARE_H
#define ASPACE_PT_SHARE_H

#include <stdbool.h>

#include "mm_types.h"
#include "pgtable.h"

struct as_session;

/* May fork share the PTE table of src's 2 MiB span at base? */
bool pte_table_shareable(struct mm *src, unsigned long base);
/*
 * Fork's sharing of the tables of one VMA, under both mms'
 * page_table_locks: pte_share_begin(), then pte_share_table() for the
 * 2 MiB span at each base where src has a table (1: shared, or shared
 * already; 0: copy it instead), then pte_share_end().  The PMD tables
 * are found once per 1 GiB and frames reserved 64 at a time.
 */
struct pte_share_batch {
	struct mm	*src, *dst;
	unsigned long	 start, end;	/* the VMA */
	bool		 whole;		/* its spans inside it are shareable */
	pte_t		*stable, *dtable;	/* PMD tables, entry 0 */
	unsigned long	 sbase, dbase;	/* the 1 GiB they span */
	unsigned long	 credit;	/* frames reserved, not yet used */
	unsigned long	 tables;	/* shared */
	unsigned long	 pmds;		/* PMD entries newly marked shared */
};
void pte_share_begin(struct pte_share_batch *b, struct vma *dst,
    struct vma *src);
int pte_share_table(struct pte_share_batch *b, unsigned long base);
void pte_share_end(struct pte_share_batch *b);
/* Make the shared table behind *pmd (addr's) mm's own: copied, or taken
 * over when no other mm holds it; 0 or -ENOMEM (host memory). */
int pte_unshare(struct mm *mm, unsigned long addr, pte_t *pmd);
/* Drop mm's share of the table behind *pmd if another mm holds it too
 * (true); false, with *pmd unmarked, if mm is its last holder. */
bool pte_table_drop(struct mm *mm, pte_t *pmd);
/* exit_mmap()'s first step: every table mm shares with another, let go. */
void mm_drop_shared_tables(struct mm *mm);
/*
 * A reader's view of the PTE at addr of mm without unsharing (its
 * page_table_lock held): *pte as this mm sees it (read-only through a
 * shared PMD entry, old through a child's view) and, for a page it maps,
 * the mapcount Linux would show in *mapcount: exact when the page has one
 * mapping (its table's sharers count) or nothing is shared in the
 * session; false if it cannot tell (session_unshare_tables() first).
 */
bool pte_seen(struct mm *mm, unsigned long addr, pte_t *pte, int *mapcount);
/* Unshare every shared table of mm (page_table_lock held). */
void mm_unshare_tables(struct mm *mm);
/* Unshare every table of every mm of s, so that mapcounts and young bits
 * read as Linux's (smaps and friends); a no-op if nothing is shared.
 * Takes each mm's page_table_lock in turn: call it holding none. */
void session_unshare_tables(struct as_session *s);

#endif /* ASPACE_PT_SHARE_H */

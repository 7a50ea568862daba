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
/* Share src's table behind *spmd with dst at base (both mms'
 * page_table_locks held); 0, or -ENOMEM to copy it instead. */
int pte_table_share(struct mm *dst, struct mm *src, unsigned long base,
    pte_t *spmd);
/* Make the shared table behind *pmd (addr's) mm's own: copied, or taken
 * over when no other mm holds it; 0 or -ENOMEM (host memory). */
int pte_unshare(struct mm *mm, unsigned long addr, pte_t *pmd);
/* Drop mm's share of the table behind *pmd if another mm holds it too
 * (true); false, with *pmd unmarked, if mm is its last holder. */
bool pte_table_drop(struct mm *mm, pte_t *pmd);
/* exit_mmap()'s first step: every table mm shares with another, let go. */
void mm_drop_shared_tables(struct mm *mm);
/* Unshare every shared table of mm (page_table_lock held). */
void mm_unshare_tables(struct mm *mm);
/* Unshare every table of every mm of s, so that mapcounts and young bits
 * read as Linux's (smaps and friends); a no-op if nothing is shared.
 * Takes each mm's page_table_lock in turn: call it holding none. */
void session_unshare_tables(struct as_session *s);

#endif /* ASPACE_PT_SHARE_H */

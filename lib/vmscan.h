/*
 * vmscan.h: page reclaim (mm/vmscan.c, mm/swap.c's LRU, mm/rmap.c's
 * folio_referenced() and try_to_unmap()).  Every page a task may map or
 * the page cache holds is on one of the machine's four LRU lists; when
 * RAM is full, the fault path calls try_to_free_pages(), which scans the
 * lists' tails and frees pages the way shrink_folio_list() does.  The
 * policy is written in docs/architecture.md ("Reclaim").
 */
#ifndef ASPACE_VMSCAN_H
#define ASPACE_VMSCAN_H

#include <stdbool.h>

#include "page.h"

struct as_phys;
struct as_session;
struct mm;
struct page;

#define SWAP_CLUSTER_MAX	32UL	/* pages one reclaim aims to free */
#define DEF_PRIORITY		12
#define MAX_RECLAIM_RETRIES	16
/* Our bound on a fault's reclaim-and-retry loops however many made progress
 * (Linux's bound is the watermark check of should_reclaim_retry()). */
#define MAX_FAULT_RETRIES	64

void lru_init(struct as_phys *p);
/* folio_add_lru(): a new page joins the head of its inactive list. */
void folio_add_lru(struct as_phys *p, struct page *page);
/* The page is being freed: it leaves its list (__folio_put()). */
void lru_page_freed(struct as_phys *p, struct page *page);
/* folio_mark_accessed(): referenced once, activated on the second use. */
void folio_mark_accessed(struct as_phys *p, struct page *page);
/* folio_deactivate(): MADV_COLD's move to the inactive list. */
void folio_deactivate(struct as_phys *p, struct page *page);
/* folio_mark_lazyfree(): MADV_FREE's anonymous page, no longer
 * swap-backed, goes to the inactive file list. */
void folio_mark_lazyfree(struct as_phys *p, struct page *page);
/* The checkpoint loader's: page joins the tail of list l (a checkpoint
 * keeps each list from head to tail). */
void lru_restore_tail(struct as_phys *p, struct page *page, enum lru_list l);
/* models __remove_mapping(): a clean page only the page cache and the
 * caller hold leaves the page cache. */
void remove_mapping(struct as_phys *phys, struct page *page);
/*
 * try_to_free_pages(): direct reclaim of up to SWAP_CLUSTER_MAX pages of
 * s; the number freed.  cur is the mm whose mmap_lock the caller holds
 * (or NULL); the caller holds no page_table_lock and no inner lock.
 * *contended: a page was passed over for a busy lock (worth a retry).
 */
unsigned long try_to_free_pages(struct as_session *s, struct mm *cur,
    bool *contended);
/*
 * models shrink_list(): nr pages from the tail of list l, an active list
 * deactivated whatever the size of its inactive one; the pages freed.
 * For the unit tests, which step the lists one scan at a time.
 */
unsigned long shrink_lru_list(struct as_session *s, enum lru_list l,
    unsigned long nr);
/* The lists' invariants, for mm_validate(): NULL or the problem. */
const char *lru_validate(struct as_phys *p);

#endif /* ASPACE_VMSCAN_H */

/*
 * checkpoint-lru.c: the LRU section of a checkpoint (checkpoint.h): the
 * four lists of reclaim (vmscan.c), each from head to tail as frame
 * numbers, so that a loaded session reclaims the pages the saved one
 * would have, in the same order.
 */
#include "checkpoint-int.h"
#include "vmscan.h"

/* The LRU section: per list, u64 count and the pfns, head first. */
void ck_save_lru(struct ck_save *w)
{
	struct lruvec *lv = &w->s->phys.lruvec;
	const struct page *page;
	int l;

	ck_sect_begin(w, S_LRU);
	pthread_mutex_lock(&lv->lru_lock);
	for (l = 0; l < NR_LRU_LISTS; l++) {
		ck_put_u64(w, lv->nr[l]);
		for (page = lv->head[l]; page != NULL; page = page->lru_next)
			ck_put_u64(w, page->pfn);
	}
	pthread_mutex_unlock(&lv->lru_lock);
	ck_sect_end(w);
}

/* One page of list l: a frame in use, neither a page table nor the zero
 * page, on no list yet, its PG_lru and PG_active as the list says. */
static int load_lru_page(struct ck_load *l, enum lru_list lru)
{
	uint64_t pfn = ck_get_u64(l);
	bool active = lru == LRU_ACTIVE_ANON || lru == LRU_ACTIVE_FILE;
	struct page *page;

	if (l->err != 0)
		return l->err;
	if (pfn >= l->next_unused || l->state[pfn] != FS_USED)
		return BAD(l, "LRU page 0x%llx not a frame in use",
		    (unsigned long long)pfn);
	page = pfn_to_page(&l->s->phys, (unsigned long)pfn);
	if (page_test(page, PG_pgtable | PG_reserved) || page->lru != 0 ||
	    !page_test(page, PG_lru) || page_test(page, PG_active) != active)
		return BAD(l, "LRU page 0x%llx twice or of flags 0x%x",
		    (unsigned long long)pfn, page->flags);
	lru_restore_tail(&l->s->phys, page, lru);
	return 0;
}

/* The LRU section; then every frame in use but page tables and the zero
 * page must be on a list (lru_validate()). */
int ck_load_lru(struct ck_load *l)
{
	const char *err;
	uint64_t n, i;
	int lru;

	for (lru = 0; lru < NR_LRU_LISTS && l->err == 0; lru++) {
		n = ck_get_count(l, 8, 8, "LRU pages");
		for (i = 0; i < n && l->err == 0; i++)
			load_lru_page(l, (enum lru_list)lru);
	}
	if (l->err == 0 && (err = lru_validate(&l->s->phys)) != NULL)
		return BAD(l, "%s", err);
	return l->err;
}

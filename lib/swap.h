/*
 * swap.h: one swap device of a session (mm/swapfile.c, mm/swap_state.c,
 * include/linux/swap.h).  Made on first use from the machine's `kernel
 * swap SIZE`: SIZE / 4 KiB slots, slot 0 the swap header.  Each slot has
 * a swap count (the swap PTEs naming it, or the one swap entry of a shmem
 * object's page cache), SWAP_HAS_CACHE while a page is
 * in the swap cache for it, and the bytes pageout wrote there.  A slot in
 * use is charged to the session; the arrays are calloc()ed whole, their
 * untouched pages costing nothing, so `kernel swap 1T` costs what is used.
 * All under the device's lock, the innermost lock.
 */
#ifndef ASPACE_SWAP_H
#define ASPACE_SWAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct as_phys;
struct page;

#define SWAP_HAS_CACHE	0x40000000U	/* swap_map's flag */
#define SWAP_COUNT_MASK	0x3fffffffU

struct swap_info_struct {
	pthread_mutex_t	 lock;
	unsigned long	 max;		/* slots, header included */
	/* Slots at or above cap were never used: walks stop there.  The
	 * arrays are calloc()ed whole, so a large swap size costs host
	 * memory only for the parts touched. */
	unsigned long	 cap;
	unsigned long	 pages;		/* usable slots: max - 1 */
	unsigned long	 inuse_pages;
	bool		 reclaim_pending;	/* filled: reclaim work queued */
	unsigned long	 next;		/* where the next search starts, 0: none
				 * (the CPU's cluster cursor; get_swap_page()) */
	uint32_t	*swap_map;	/* count | SWAP_HAS_CACHE */
	struct page	**cache;	/* the swap cache: slot -> page */
	uint8_t		**data;		/* the slot's bytes once written */
};

/* The session's device, made now if swap_bytes > 0; NULL without swap. */
struct swap_info_struct *swap_info_get(struct as_phys *p,
    unsigned long swap_bytes);
void swap_info_destroy(struct as_phys *p);
/* Slot off (< max, else -1) is about to be used: raise cap past it. */
int swap_grow(struct as_phys *p, struct swap_info_struct *si,
    unsigned long off);
/* models swap_reclaim_work(): the reclaim queued when the device filled
 * frees every slot the swap cache alone holds (the page dirty again); run
 * when the call that filled it returns, as the host's worker runs then. */
void swap_reclaim_work(struct as_phys *p);
/* vm_swap_full(): more than half the slots in use. */
bool vm_swap_full(struct swap_info_struct *si);
/* add_to_swap(): give page a slot (SWAP_HAS_CACHE, count 0) and put it in
 * the swap cache; true if it is (or already was) there. */
bool add_to_swap(struct as_phys *p, struct page *page);
/* swap_writepage(): save page's bytes in its slot. */
int swap_writepage(struct as_phys *p, struct page *page);
/* swap_duplicate(): one more swap PTE names the slot. */
void swap_duplicate(struct as_phys *p, unsigned long offset);
/* swap_free(): one swap PTE less (do_swap_page()). */
void swap_free(struct as_phys *p, unsigned long offset);
/* free_swap_and_cache(): a swap PTE zapped; the slot is freed with its
 * last reference (the swap cache's page, if mapped, keeps it unless the
 * swap is full). */
void free_swap_and_cache(struct as_phys *p, unsigned long offset);
/* The swap-cache page of a slot, or NULL. */
struct page *swap_cache_lookup(struct as_phys *p, unsigned long offset);
/* swap_cache_get_folio(): the same with a reference, NULL if the page
 * is being freed (reclaim may free it meanwhile). */
struct page *swap_cache_get(struct as_phys *p, unsigned long offset);
/* Read the slot's bytes into page and add it to the swap cache. */
void swap_read_folio(struct as_phys *p, unsigned long offset,
    struct page *page);
/* folio_free_swap(): drop page from the swap cache and free its slot if
 * no swap PTE names it (the page becomes dirty); true if done. */
bool folio_free_swap(struct as_phys *p, struct page *page);
/* A swap-cache page is being freed (its last mapping went). */
void swapcache_page_freed(struct as_phys *p, struct page *page);
/* models folio_alloc_swap() + swap_shmem_alloc() + swap_writeout() for
 * a shmem page: a free slot whose one reference is the page cache's swap
 * entry, page's bytes written there; the slot, or 0 when none is free.
 * The page does not stay in the swap cache (see swapfile.c). */
unsigned long shmem_swap_alloc(struct as_phys *p, struct page *page);
/* models shmem_swapin_folio()'s swap_read_folio(), swap_cache_del_folio()
 * and swap_free_nr(): page gets the slot's bytes and the slot is freed. */
void shmem_swap_read_free(struct as_phys *p, unsigned long offset,
    struct page *page);
/* The swap count of a slot, for mm_validate(). */
unsigned long swap_count(struct as_phys *p, unsigned long offset);

#endif /* ASPACE_SWAP_H */

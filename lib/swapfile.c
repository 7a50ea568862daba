/*
 * swapfile.c: the swap device and the swap cache (mm/swapfile.c,
 * mm/swap_state.c, mm/page_io.c), one device of type 0.  See swap.h.
 *
 * What is modelled: slots handed out lowest free first from a cursor
 * (models cluster_alloc_swap_entry(), whose order only /proc/swaps and
 * pagemap would show), swap counts, the swap cache as a slot -> page
 * map, and the slot's contents.  A page in the swap cache that nothing
 * maps any more leaves it at once (Linux keeps it until reclaim; nothing
 * a trace shows depends on it), its slot freed if no swap PTE names it.
 * So does a shmem page written out (shmem_writeout(): the page-cache
 * slot then holds a swap entry, which is the slot's one reference), and
 * a shmem page read back leaves the swap cache at once, freeing its slot
 * (shmem_swapin_folio()).
 */
#include <stdlib.h>
#include <string.h>

#include "memcontrol.h"
#include "page.h"
#include "swap.h"
#include "mm_types.h"

/* The host bytes of one slot in the arrays, charged while it is in use:
 * the arrays are made whole (calloc(), so pages of them never touched
 * take no host memory), cap bounds the slots ever used. */
#define SLOT_BYTES	(sizeof(uint32_t) + sizeof(struct page *) + \
			 sizeof(uint8_t *))

int swap_grow(struct as_phys *p, struct swap_info_struct *si,
    unsigned long off)
{
	(void)p;
	if (off >= si->max)
		return -1;
	if (off >= si->cap)
		si->cap = off + 1;
	return 0;
}

struct swap_info_struct *swap_info_get(struct as_phys *p,
    unsigned long swap_bytes)
{
	struct swap_info_struct *si = __atomic_load_n(&p->swap,
	    __ATOMIC_ACQUIRE);

	if (si != NULL || swap_bytes < 2 * AS_PAGE_SIZE)
		return si;
	pthread_mutex_lock(&p->lock);
	if ((si = p->swap) == NULL && (si = calloc(1, sizeof(*si))) != NULL) {
		si->max = swap_bytes >> AS_PAGE_SHIFT;
		si->pages = si->max - 1;
		si->next = 1;
		si->swap_map = calloc(si->max, sizeof(*si->swap_map));
		si->cache = calloc(si->max, sizeof(*si->cache));
		si->data = calloc(si->max, sizeof(*si->data));
		if (si->swap_map == NULL || si->cache == NULL ||
		    si->data == NULL) {
			free(si->swap_map);
			free(si->cache);
			free(si->data);
			free(si);
			si = NULL;
		} else {
			pthread_mutex_init(&si->lock, NULL);
			__atomic_store_n(&p->swap, si, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return si;
}

void swap_info_destroy(struct as_phys *p)
{
	struct swap_info_struct *si = p->swap;
	unsigned long i;

	if (si == NULL)
		return;
	for (i = 0; i < si->cap; i++)
		if (si->data[i] != NULL) {
			free(si->data[i]);
			memcg_uncharge(p->memcg, AS_PAGE_SIZE);
		}
	memcg_uncharge(p->memcg, (long)(si->inuse_pages * SLOT_BYTES));
	free(si->swap_map);
	free(si->cache);
	free(si->data);
	pthread_mutex_destroy(&si->lock);
	free(si);
	p->swap = NULL;
}

bool vm_swap_full(struct swap_info_struct *si)
{
	/* read without the device's lock (a fault's look), so atomically */
	return (si->pages - __atomic_load_n(&si->inuse_pages,
	    __ATOMIC_RELAXED)) * 2 < si->pages;
}

/* swap_entry_range_free(): the slot is free again, its bytes dropped. */
static void swap_slot_free(struct as_phys *p, struct swap_info_struct *si,
    unsigned long off)
{
	si->swap_map[off] = 0;
	__atomic_sub_fetch(&si->inuse_pages, 1, __ATOMIC_RELAXED);
	memcg_uncharge(p->memcg, (long)SLOT_BYTES);
	if (si->data[off] != NULL) {
		free(si->data[off]);
		si->data[off] = NULL;
		memcg_uncharge(p->memcg, AS_PAGE_SIZE);
	}
}

static bool __folio_free_swap(struct as_phys *p, struct swap_info_struct *si,
    struct page *page);

/* A slot the allocator may take: a free one or, with the swap full, one
 * only the swap cache holds, reclaimed for it (cluster_scan_range() and
 * cluster_reclaim_range(): the page leaves the swap cache, dirty). */
static bool swap_slot_usable(struct as_phys *p, struct swap_info_struct *si,
    unsigned long off)
{
	if (off >= si->cap || si->swap_map[off] == 0)
		return true;
	if (si->swap_map[off] != SWAP_HAS_CACHE || !vm_swap_full(si) ||
	    si->cache[off] == NULL)
		return false;
	return __folio_free_swap(p, si, si->cache[off]);
}

/* models alloc_swap_scan_cluster(): the first usable slot from off on,
 * 0 if none (or the device, one cluster here, is full). */
static unsigned long swap_scan(struct as_phys *p, struct swap_info_struct *si,
    unsigned long off)
{
	if (si->inuse_pages >= si->pages)
		return 0;
	for (; off < si->max; off++)
		if (swap_slot_usable(p, si, off))
			return off;
	return 0;
}

/* models swap_reclaim_full_clusters(): every slot held by the swap cache
 * alone is freed, its page dirty again. */
static void swap_reclaim_full(struct as_phys *p, struct swap_info_struct *si)
{
	unsigned long off;

	for (off = 1; off < si->cap; off++)
		if (si->swap_map[off] == SWAP_HAS_CACHE && si->cache[off] != NULL)
			(void)__folio_free_swap(p, si, si->cache[off]);
}

/*
 * models cluster_alloc_swap_entry() for one page on one CPU, the device
 * being one cluster (the traces' devices are under 512 slots; a larger
 * one is treated as one cluster too): go on from the CPU's cursor, and
 * past the end (cursor invalid, 0) from the start.  A full device is off
 * the list of devices with room: no slot.  Filling it queues the reclaim
 * work of swap_range_alloc(), run when the call returns
 * (swap_reclaim_work()).  0 if no slot.
 */
static unsigned long get_swap_page(struct as_phys *p,
    struct swap_info_struct *si)
{
	unsigned long off = 0;

	if (si->inuse_pages >= si->pages)
		return 0;
	if (si->next != 0)
		off = swap_scan(p, si, si->next);
	if (off == 0)
		off = swap_scan(p, si, 1);
	if (off == 0 || swap_grow(p, si, off) != 0) {
		si->next = 0;
		return 0;
	}
	__atomic_add_fetch(&si->inuse_pages, 1, __ATOMIC_RELAXED);
	memcg_charge_force(p->memcg, (long)SLOT_BYTES);
	si->next = off + 1 < si->max && si->inuse_pages < si->pages ?
	    off + 1 : 0;
	if (si->inuse_pages == si->pages && vm_swap_full(si))
		si->reclaim_pending = true;
	return off;
}

void swap_reclaim_work(struct as_phys *p)
{
	struct swap_info_struct *si = p->swap;

	if (si == NULL || !__atomic_load_n(&si->reclaim_pending,
	    __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&si->lock);
	if (si->reclaim_pending)
		swap_reclaim_full(p, si);
	si->reclaim_pending = false;
	pthread_mutex_unlock(&si->lock);
}

bool add_to_swap(struct as_phys *p, struct page *page)
{
	struct swap_info_struct *si = p->swap;
	unsigned long off;

	if (page_test(page, PG_swapcache))
		return true;
	if (si == NULL)
		return false;
	pthread_mutex_lock(&si->lock);
	if ((off = get_swap_page(p, si)) != 0) {
		si->swap_map[off] = SWAP_HAS_CACHE;
		si->cache[off] = page;
		page->private = off;
		page_set_flags(page, PG_swapcache);
	}
	pthread_mutex_unlock(&si->lock);
	return off != 0;
}

int swap_writepage(struct as_phys *p, struct page *page)
{
	struct swap_info_struct *si = p->swap;
	unsigned long off = page->private;

	pthread_mutex_lock(&si->lock);
	if (si->data[off] == NULL) {
		if ((si->data[off] = malloc(AS_PAGE_SIZE)) == NULL) {
			pthread_mutex_unlock(&si->lock);
			return -1;
		}
		memcg_charge_force(p->memcg, AS_PAGE_SIZE);
	}
	memcpy(si->data[off], page->data, AS_PAGE_SIZE);
	pthread_mutex_unlock(&si->lock);
	page_clear_flags(page, PG_dirty);	/* folio_end_writeback() */
	return 0;
}

void swap_duplicate(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;

	pthread_mutex_lock(&si->lock);
	si->swap_map[offset]++;
	pthread_mutex_unlock(&si->lock);
}

void swap_free(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;

	pthread_mutex_lock(&si->lock);
	if (--si->swap_map[offset] == 0)
		swap_slot_free(p, si, offset);
	pthread_mutex_unlock(&si->lock);
}

/* __folio_free_swap() under si->lock: count 0 needed. */
static bool __folio_free_swap(struct as_phys *p, struct swap_info_struct *si,
    struct page *page)
{
	unsigned long off = page->private;

	if ((si->swap_map[off] & SWAP_COUNT_MASK) != 0)
		return false;		/* folio_swapped() */
	si->cache[off] = NULL;
	page_clear_flags(page, PG_swapcache);
	page->private = 0;
	swap_slot_free(p, si, off);
	page_set_flags(page, PG_dirty);
	return true;
}

void free_swap_and_cache(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;
	struct page *page;

	pthread_mutex_lock(&si->lock);
	if (--si->swap_map[offset] == 0)
		swap_slot_free(p, si, offset);
	else if (si->swap_map[offset] == SWAP_HAS_CACHE && vm_swap_full(si) &&
	    (page = si->cache[offset]) != NULL)
		(void)__folio_free_swap(p, si, page);	/* TTRS_FULL */
	pthread_mutex_unlock(&si->lock);
}

struct page *swap_cache_lookup(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;
	struct page *page;

	pthread_mutex_lock(&si->lock);
	page = si->cache[offset];
	pthread_mutex_unlock(&si->lock);
	return page;
}

struct page *swap_cache_get(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;
	struct page *page;

	pthread_mutex_lock(&si->lock);
	page = si->cache[offset];
	if (page != NULL && !get_page_unless_zero(page))
		page = NULL;
	pthread_mutex_unlock(&si->lock);
	return page;
}

void swap_read_folio(struct as_phys *p, unsigned long offset,
    struct page *page)
{
	struct swap_info_struct *si = p->swap;

	pthread_mutex_lock(&si->lock);
	if (si->data[offset] != NULL)
		memcpy(page->data, si->data[offset], AS_PAGE_SIZE);
	si->swap_map[offset] |= SWAP_HAS_CACHE;
	si->cache[offset] = page;
	page->private = offset;
	page_set_flags(page, PG_swapcache);
	pthread_mutex_unlock(&si->lock);
}

bool folio_free_swap(struct as_phys *p, struct page *page)
{
	struct swap_info_struct *si = p->swap;
	bool done;

	if (!page_test(page, PG_swapcache))
		return false;
	pthread_mutex_lock(&si->lock);
	done = __folio_free_swap(p, si, page);
	pthread_mutex_unlock(&si->lock);
	return done;
}

void swapcache_page_freed(struct as_phys *p, struct page *page)
{
	struct swap_info_struct *si = p->swap;
	unsigned long off = page->private;

	if (si == NULL) {		/* a checkpoint load given up */
		page_clear_flags(page, PG_swapcache);
		return;
	}
	pthread_mutex_lock(&si->lock);
	if (off >= si->cap || si->cache[off] != page) {	/* unclaimed */
		pthread_mutex_unlock(&si->lock);
		page_clear_flags(page, PG_swapcache);
		return;
	}
	si->cache[off] = NULL;
	si->swap_map[off] &= ~SWAP_HAS_CACHE;
	if (si->swap_map[off] == 0)
		swap_slot_free(p, si, off);
	pthread_mutex_unlock(&si->lock);
	page_clear_flags(page, PG_swapcache);
	page->private = 0;
}

unsigned long shmem_swap_alloc(struct as_phys *p, struct page *page)
{
	struct swap_info_struct *si = p->swap;
	unsigned long off;
	uint8_t *data;

	if (si == NULL)
		return 0;
	pthread_mutex_lock(&si->lock);
	if ((off = get_swap_page(p, si)) != 0) {
		if ((data = si->data[off]) == NULL &&
		    (data = malloc(AS_PAGE_SIZE)) == NULL) {
			swap_slot_free(p, si, off);
			pthread_mutex_unlock(&si->lock);
			return 0;
		}
		if (si->data[off] == NULL)
			memcg_charge_force(p->memcg, AS_PAGE_SIZE);
		si->data[off] = data;
		memcpy(data, page->data, AS_PAGE_SIZE);
		si->swap_map[off] = 1;
	}
	pthread_mutex_unlock(&si->lock);
	return off;
}

void shmem_swap_read_free(struct as_phys *p, unsigned long offset,
    struct page *page)
{
	struct swap_info_struct *si = p->swap;

	pthread_mutex_lock(&si->lock);
	if (si->data[offset] != NULL)
		memcpy(page->data, si->data[offset], AS_PAGE_SIZE);
	if (--si->swap_map[offset] == 0)
		swap_slot_free(p, si, offset);
	pthread_mutex_unlock(&si->lock);
}

unsigned long swap_count(struct as_phys *p, unsigned long offset)
{
	struct swap_info_struct *si = p->swap;
	unsigned long n;

	pthread_mutex_lock(&si->lock);
	n = si->swap_map[offset] & SWAP_COUNT_MASK;
	pthread_mutex_unlock(&si->lock);
	return n;
}

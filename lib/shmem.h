/*
 * shmem.h: swap of shmem pages (mm/shmem.c).  A shmem object's page cache
 * (struct as_file's cache[]) holds, at each index, nothing, a page, or a
 * swap entry: the slot its page was written to, stored as Linux stores it
 * in the mapping's xarray, a value entry (xa_mk_value(), the low bit set),
 * so that no page pointer is ever mistaken for one.  f->swapped counts
 * them (shmem_inode_info's swapped).  All under f->lock.
 */
#ifndef ASPACE_SHMEM_H
#define ASPACE_SHMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_types.h"

struct as_phys;
struct page;

/* xa_is_value(): a page-cache entry that is a swap entry. */
static inline bool xa_is_value(const struct page *entry)
{
	return ((uintptr_t)entry & 1) != 0;
}

/* swp_to_radix_entry(): the page-cache entry of swap slot off. */
static inline struct page *swp_to_radix_entry(unsigned long off)
{
	return (struct page *)(uintptr_t)((off << 1) | 1);
}

/* radix_to_swp_entry(): the slot of a swap entry. */
static inline unsigned long radix_to_swp_offset(const struct page *entry)
{
	return (unsigned long)((uintptr_t)entry >> 1);
}

/* The page at index of f's cache: NULL for none or a swap entry. */
static inline struct page *cache_page(const struct as_file *f,
    unsigned long index)
{
	struct page *p = index < f->cache_len ? f->cache[index] : NULL;

	return p != NULL && !xa_is_value(p) ? p : NULL;
}

/* shmem_writeout(): a dirty, unmapped shmem page that only its page
 * cache (and reclaim) holds goes to a free slot of the swap device, made
 * from swap_bytes if need be; true if it went (its frame then freed by
 * the caller's last put_page()), false if it stays (no swap, no slot). */
bool shmem_writeout(struct as_phys *phys, struct page *page,
    unsigned long swap_bytes);
/* shmem_swapin_folio(): the page of swap entry at index of f, read back
 * dirty into a new page that replaces the entry (its slot freed), or
 * NULL when memory ran out; f->lock held. */
struct page *shmem_swapin_folio(struct as_phys *phys, struct as_file *f,
    unsigned long index);
/* shmem_undo_range(): pages and swap entries first..last (inclusive) of
 * f leave it, dirty or not; f->lock held. */
void shmem_undo_range(struct as_phys *phys, struct as_file *f,
    unsigned long first, unsigned long last);
/* shmem_swap_usage(): the bytes of vma's shmem object swapped out in the
 * range it maps (smaps' Swap). */
unsigned long shmem_swap_usage(struct vma *vma);
/* For mm_validate(): add f's swap entries to tally (per slot, below cap);
 * NULL, or the problem (an entry naming no slot, swapped wrong). */
const char *shmem_swap_tally(struct as_file *f, unsigned long *tally,
    unsigned long cap);

/* The shmem objects of the n mms' VMAs and of s's segments, each once,
 * held (the caller iput()s them), in a new array; s->lock held. */
int shmem_objects(struct as_session *s, struct mm **mms, size_t n,
    struct as_file ***out, size_t *nf);

#endif /* ASPACE_SHMEM_H */

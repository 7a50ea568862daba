/*
 * page.h: simulated physical memory (include/linux/mm_types.h struct page,
 * mm/page_alloc.c).  A session's RAM is a number of 4 KiB frames; the
 * struct pages and the frames' contents are allocated on the host 512
 * frames (2 MiB, in a huge page where the host offers one) at a time, when
 * first used, so an idle session costs almost nothing.
 */
#ifndef ASPACE_PAGE_H
#define ASPACE_PAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "memcontrol.h"

struct as_file;
struct anon_vma;
struct swap_info_struct;

/* Page flags (include/linux/page-flags.h), the ones smaps needs. */
#define PG_locked	(1U << 0)
#define PG_referenced	(1U << 1)
#define PG_uptodate	(1U << 2)
#define PG_dirty	(1U << 3)
#define PG_lru		(1U << 4)
#define PG_anon		(1U << 5)	/* folio_test_anon() */
#define PG_swapbacked	(1U << 6)
#define PG_reserved	(1U << 7)	/* the zero page */
#define PG_pgtable	(1U << 8)	/* a page-table page */
#define PG_active	(1U << 9)	/* on an active LRU list (vmscan.c) */
#define PG_mlocked	(1U << 10)
#define PG_swapcache	(1U << 11)	/* in the swap cache: slot in private */
/* PG_reclaim, which is also PG_readahead: reclaim met the page dirty and
 * left it for writeback; fault-around skips it as a readahead mark */
#define PG_reclaim	(1U << 12)
/* Not Linux's: the bytes are a host page sessions share read-only
 * (host_ksm.c); page_make_writable() before any store into them. */
#define PG_hostshared	(1U << 13)

struct page {
	/* folio_ref_count() in the low 32 bits, folio_mapcount() (the PTEs
	 * mapping it) in the high 32: a new mapping takes both at once. */
	uint64_t	 counts;
	unsigned int	 flags;
	uint8_t		 anon_excl;	/* PageAnonExclusive() */
	uint8_t		 lru;		/* its LRU list + 1, 0: on none */
	struct as_file	*mapping;	/* page cache owner, or NULL */
	struct anon_vma	*anon_vma;	/* for anonymous pages */
	unsigned long	 index;		/* file page index or linear index */
	unsigned long	 pfn;		/* its frame number */
	unsigned long	 private;	/* swap slot, with PG_swapcache */
	uint8_t		*data;		/* the frame's 4096 bytes */
	struct page	*lru_prev;	/* folio->lru, under lru_lock */
	struct page	*lru_next;
};

/* The LRU lists of a machine (enum lru_list, struct lruvec): head the
 * most recently added, tail the next to scan (vmscan.c). */
enum lru_list {
	LRU_INACTIVE_ANON,
	LRU_ACTIVE_ANON,
	LRU_INACTIVE_FILE,
	LRU_ACTIVE_FILE,
	NR_LRU_LISTS
};

struct lruvec {
	pthread_mutex_t	 lru_lock;
	struct page	*head[NR_LRU_LISTS];
	struct page	*tail[NR_LRU_LISTS];
	unsigned long	 nr[NR_LRU_LISTS];
	unsigned long	 nr_isolated;	/* off the lists in a reclaim */
};

/* struct pages are charged this many at a time (a memmap section). */
#define PAGES_PER_CHUNK	64

/* A session's physical memory. */
struct as_phys {
	pthread_mutex_t	 lock;		/* free list and counters */
	unsigned long	 nr_frames;	/* RAM size in frames */
	unsigned long	 max_frames;	/* the arrays' size (`kernel ram`) */
	struct page	*memmap;	/* max_frames struct pages, reserved
					 * address space (vmemmap): the host
					 * backs the parts in use */
	uint64_t	*memmap_made;	/* chunks charged, a bit each */
	unsigned long	*free;		/* stack of free pfns */
	unsigned long	 nr_free_stack;
	unsigned long	 free_cap;
	unsigned long	 next_unused;	/* frames never handed out start here */
	unsigned long	 nr_used;
	unsigned long	 zero_pfn;	/* the shared zero page */
	struct as_memcg	*memcg;		/* the session's charge */
	struct swap_info_struct *swap;	/* swapfile.c, made on first use */
	long		 arrays_bytes;	/* the arrays above, charged */
	/* PTE tables fork shared (pt_share.c): frames reserved, one per
	 * share beyond the first (counted as used, taken when a sharer
	 * copies its table), and PMD entries marked shared, under
	 * pt_share_lock (read unlocked as a hint). */
	pthread_mutex_t	 pt_share_lock;
	unsigned long	 nr_reserved;
	unsigned long	 nr_shared_pmds;
	struct lruvec	 lruvec;	/* vmscan.c */
};

/*
 * A page shared by several mms (after fork) is updated under different
 * page_table_locks, so its counts and flags change atomically.
 */
#define PAGE_MAP_ONE	(1ULL << 32)

static inline void page_mapcount_add(struct page *page, int n)
{
	__atomic_add_fetch(&page->counts, (uint64_t)(int64_t)n << 32,
	    __ATOMIC_RELAXED);
}

/* A new PTE maps the page: one more mapping and one more reference. */
static inline void page_dup_rmap(struct page *page)
{
	__atomic_add_fetch(&page->counts, PAGE_MAP_ONE | 1, __ATOMIC_RELAXED);
}

static inline int page_mapcount(const struct page *page)
{
	return (int)(__atomic_load_n(&page->counts, __ATOMIC_RELAXED) >> 32);
}

static inline int page_refcount(const struct page *page)
{
	return (int)(uint32_t)__atomic_load_n(&page->counts, __ATOMIC_ACQUIRE);
}

/* PageAnonExclusive(): set and cleared whole, so a plain atomic store. */
static inline bool page_exclusive(const struct page *page)
{
	return __atomic_load_n(&page->anon_excl, __ATOMIC_RELAXED);
}

static inline void page_set_exclusive(struct page *page, bool on)
{
	__atomic_store_n(&page->anon_excl, on, __ATOMIC_RELAXED);
}

static inline void page_set_flags(struct page *page, unsigned int f)
{
	__atomic_or_fetch(&page->flags, f, __ATOMIC_RELAXED);
}

static inline void page_clear_flags(struct page *page, unsigned int f)
{
	__atomic_and_fetch(&page->flags, ~f, __ATOMIC_RELAXED);
}

static inline bool page_test(const struct page *page, unsigned int f)
{
	return (__atomic_load_n(&page->flags, __ATOMIC_RELAXED) & f) != 0;
}

/* phys_init(): RAM of ram_bytes, its host memory charged to memcg (may
 * be NULL); 0 or -1. */
int phys_init(struct as_phys *p, unsigned long ram_bytes,
    struct as_memcg *memcg);
/* The host bytes of the struct pages of all of a RAM of ram_bytes and of
 * the allocator's arrays: what a session's limit adds to its RAM. */
unsigned long phys_meta_bytes(unsigned long ram_bytes);
void phys_destroy(struct as_phys *p);
/* `kernel ram`: RAM of ram_bytes from now on, at most phys_init()'s and
 * at least the frames handed out so far; 0 or -EINVAL. */
int phys_set_ram(struct as_phys *p, unsigned long ram_bytes);
/* memmap_charge(): charge pfn's chunk of struct pages when it is first
 * used: 0, or -ENOMEM when the session's memory is spent. */
int memmap_charge(struct as_phys *p, unsigned long pfn);

/* Has pfn's chunk of struct pages been charged (so, used)? */
static inline bool memmap_made(const struct as_phys *p, unsigned long pfn)
{
	unsigned long c = pfn / PAGES_PER_CHUNK;

	return (p->memmap_made[c / 64] >> (c % 64)) & 1;
}

/* pfn_to_page(): the struct page of a frame, in the vmemmap (a frame
 * that was never handed out reads as zero there). */
static inline struct page *pfn_to_page(struct as_phys *p, unsigned long pfn)
{
	return &p->memmap[pfn];
}
/* page_pool.c: a zeroed 4 KiB of host memory (NULL: the host has none),
 * and giving it back; shared by every session. */
/*
 * host_ksm.c: host_ksm_session() points the frames of a new session
 * made with p that equal its template's at the template's read-only host
 * pages; page_make_writable() gives a frame its own host page before a
 * store (0 or -ENOMEM); page_data_forget() a frame freed without one.
 */
struct as_session;
struct as_session_params;
void host_ksm_session(struct as_session *s, const struct as_session_params *p);
/* The same for a session a checkpoint made, if its template exists. */
void host_ksm_loaded(struct as_session *s);
int page_data_unshare(struct page *page);
void page_data_forget(struct page *page);
unsigned long host_ksm_pages_shared(void);

static inline int page_make_writable(struct page *page)
{
	return page_test(page, PG_hostshared) ? page_data_unshare(page) : 0;
}

void *host_page_alloc(void);
void host_page_free(void *data);
/* The one read-only zero page every session's zero page shows. */
const void *host_zero_page(void);

/* alloc_page(): a zeroed frame with refcount 1, or NULL when RAM is full. */
struct page *alloc_page(struct as_phys *p);
/* pt_reserve(): n frames of RAM (and their charge) held back for tables
 * fork shares; 0 or -ENOMEM.  pt_unreserve() gives n back;
 * alloc_page_reserved() takes the frame (NULL only if the host has no
 * memory). */
int pt_reserve(struct as_phys *p, unsigned long n);
void pt_unreserve(struct as_phys *p, unsigned long n);
struct page *alloc_page_reserved(struct as_phys *p);
void put_page(struct as_phys *p, struct page *page);
/* folio_ref_freeze() and free: the page goes if the caller holds its
 * only reference (and no PTE maps it); true if it went. */
bool page_ref_freeze_free(struct as_phys *p, struct page *page);
/* get_page_unless_zero(): a reference, unless the page is being freed. */
static inline bool get_page_unless_zero(struct page *page)
{
	uint64_t c = __atomic_load_n(&page->counts, __ATOMIC_RELAXED);

	do {
		if ((uint32_t)c == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&page->counts, &c, c + 1, true,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}
/* The checkpoint loader's restoring of frames and of the free order. */
struct page *phys_restore_frame(struct as_phys *p, unsigned long pfn);
int phys_restore_free(struct as_phys *p, unsigned long next_unused,
    const unsigned long *pfns, unsigned long n);

static inline void get_page(struct page *page)
{
	__atomic_add_fetch(&page->counts, 1, __ATOMIC_RELAXED);
}

/* A PTE stops mapping the page: drop the mapping and its reference. */
void page_remove_rmap_put(struct as_phys *p, struct page *page);

#endif /* ASPACE_PAGE_H */

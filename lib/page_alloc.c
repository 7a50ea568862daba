/*
 * page_alloc.c: the frame allocator of a simulated machine
 * (mm/page_alloc.c).  Frame numbers come from a free stack, else from the
 * part of RAM never used yet; struct pages live in a vmemmap, address
 * space reserved for all of RAM's that the host backs only where frames
 * are used (charged PAGES_PER_CHUNK at a time, as memmap sections are
 * made); a frame's contents are 4 KiB of host memory from the
 * pool all sessions share (page_pool.c), taken when the frame is and
 * given back when it is freed, so that a session's host memory follows
 * its frames in use.  Every frame in use, every chunk of struct pages and
 * the allocator's arrays are charged to the session's memcg
 * (memcontrol.h).  Exhaustion of the frames or of the charge is NULL,
 * which the fault path turns into VM_FAULT_OOM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "page.h"
#include "swap.h"
#include "vmscan.h"
#include "session.h"
#include "uapi.h"

#define MEMMAP_CHUNK	kmem_size(PAGES_PER_CHUNK * sizeof(struct page))

/*
 * Every machine's nr_used summed, for the daemon's metrics (a host-wide
 * figure like vm_zone_stat's, kept exact: relaxed atomic adds next to
 * each nr_used change, under an allocator lock taken anyway).
 */
static unsigned long frames_in_use;

unsigned long as_frames_in_use(void)
{
	return __atomic_load_n(&frames_in_use, __ATOMIC_RELAXED);
}

static unsigned long memmap_bitmap_words(unsigned long nr_frames)
{
	return nr_frames / PAGES_PER_CHUNK / 64 + 1;
}

static size_t memmap_bytes(unsigned long nr_frames)
{
	return (nr_frames * sizeof(struct page) + AS_PAGE_SIZE - 1) &
	    ~(size_t)(AS_PAGE_SIZE - 1);
}

/* The per-chunk arrays of a RAM of nr_frames, and the first free stack. */
static long phys_arrays_bytes(unsigned long nr_frames)
{
	return (long)(memmap_bitmap_words(nr_frames) * sizeof(uint64_t) +
	    64 * sizeof(unsigned long) + 2 * KMEM_OVERHEAD);
}

unsigned long phys_meta_bytes(unsigned long ram_bytes)
{
	unsigned long n = ram_bytes >> AS_PAGE_SHIFT;

	return (unsigned long)phys_arrays_bytes(n) +
	    (n + PAGES_PER_CHUNK - 1) / PAGES_PER_CHUNK *
	    (unsigned long)MEMMAP_CHUNK;
}

int phys_init(struct as_phys *p, unsigned long ram_bytes,
    struct as_memcg *memcg)
{
	struct page *zero;
	void *m;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->pt_share_lock, NULL);
	p->memcg = memcg;
	p->nr_frames = ram_bytes >> AS_PAGE_SHIFT;
	p->max_frames = p->nr_frames;
	lru_init(p);
	if (memcg_try_charge(memcg, phys_arrays_bytes(p->nr_frames)) != 0)
		return -1;
	p->arrays_bytes = phys_arrays_bytes(p->nr_frames);
	/* Reserved, not committed: the host backs what is touched. */
	m = mmap(NULL, memmap_bytes(p->max_frames), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p->memmap = m != MAP_FAILED ? m : NULL;
	p->memmap_made = calloc(memmap_bitmap_words(p->max_frames),
	    sizeof(uint64_t));
	p->free_cap = 64;
	p->free = malloc(sizeof(*p->free) * p->free_cap);
	if (p->memmap == NULL || p->memmap_made == NULL || p->free == NULL ||
	    p->nr_frames < 2)
		return -1;
	/* The zero page is frame 0, never freed; its contents are the
	 * host's one read-only zero page (a write to it would fault). */
	if ((zero = alloc_page(p)) == NULL)
		return -1;
	host_page_free(zero->data);
	zero->data = (uint8_t *)host_zero_page();
	zero->flags |= PG_reserved;
	p->zero_pfn = zero->pfn;
	return 0;
}

/* The contents of the frames in use in the chunk from pfn. */
static void memmap_free_chunk(struct as_phys *p, unsigned long pfn)
{
	unsigned long i;

	for (i = pfn; i < pfn + PAGES_PER_CHUNK && i < p->max_frames; i++) {
		if (p->memmap[i].data == NULL || i == p->zero_pfn)
			continue;
		if (page_test(&p->memmap[i], PG_hostshared))
			page_data_forget(&p->memmap[i]);
		else
			host_page_free(p->memmap[i].data);
	}
}

/* The frames' contents, and the struct pages' charge, of each chunk. */
static void memmap_free(struct as_phys *p)
{
	unsigned long pfn;

	for (pfn = 0; pfn < p->max_frames; pfn += PAGES_PER_CHUNK) {
		if (!memmap_made(p, pfn))
			continue;
		memmap_free_chunk(p, pfn);
		memcg_uncharge(p->memcg, MEMMAP_CHUNK);
	}
	munmap(p->memmap, memmap_bytes(p->max_frames));
}

void phys_destroy(struct as_phys *p)
{
	swap_info_destroy(p);
	__atomic_sub_fetch(&frames_in_use, p->nr_used, __ATOMIC_RELAXED);
	memcg_uncharge(p->memcg, (long)((p->nr_used + p->nr_reserved) *
	    AS_PAGE_SIZE) + p->arrays_bytes);
	if (p->memmap != NULL && p->memmap_made != NULL)
		memmap_free(p);
	else if (p->memmap != NULL)
		munmap(p->memmap, memmap_bytes(p->max_frames));
	free(p->memmap_made);
	free(p->free);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->pt_share_lock);
	pthread_mutex_destroy(&p->lruvec.lru_lock);
}

int phys_set_ram(struct as_phys *p, unsigned long ram_bytes)
{
	unsigned long n = ram_bytes >> AS_PAGE_SHIFT;

	pthread_mutex_lock(&p->lock);
	if (n > p->max_frames || n < p->next_unused || n < 2) {
		pthread_mutex_unlock(&p->lock);
		return -EINVAL;
	}
	p->nr_frames = n;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int memmap_charge(struct as_phys *p, unsigned long pfn)
{
	unsigned long c = pfn / PAGES_PER_CHUNK;

	if (memmap_made(p, pfn))
		return 0;
	if (memcg_try_charge(p->memcg, MEMMAP_CHUNK) != 0)
		return -ENOMEM;
	p->memmap_made[c / 64] |= 1ULL << (c % 64);
	return 0;
}

/* Take a free frame number; caller holds p->lock. */
static bool take_pfn(struct as_phys *p, unsigned long *pfn)
{
	if (p->nr_free_stack > 0) {
		*pfn = p->free[--p->nr_free_stack];
		return true;
	}
	if (p->next_unused < p->nr_frames) {
		*pfn = p->next_unused++;
		return true;
	}
	return false;
}

/* A frame, its contents data (charged already): NULL when RAM is full
 * but for the frames reserved, unless one of those is taken. */
static struct page *__alloc_page(struct as_phys *p, uint8_t *data,
    bool reserved)
{
	struct page *page = NULL;
	unsigned long pfn = 0;
	bool took;

	pthread_mutex_lock(&p->lock);
	if (reserved)
		p->nr_reserved--;
	took = (reserved || p->nr_used + p->nr_reserved < p->nr_frames) &&
	    take_pfn(p, &pfn);
	if (took && memmap_charge(p, pfn) == 0)
		page = pfn_to_page(p, pfn);
	else if (took)
		p->free[p->nr_free_stack++] = pfn;	/* room: it was popped */
	if (page != NULL) {
		page->pfn = pfn;
		page->data = data;
		p->nr_used++;
		__atomic_add_fetch(&frames_in_use, 1, __ATOMIC_RELAXED);
		page->counts = 1;
		page->flags = 0;
		page->anon_excl = 0;
		page->mapping = NULL;
		page->anon_vma = NULL;
		page->index = 0;
	} else if (reserved) {
		p->nr_reserved++;
	}
	pthread_mutex_unlock(&p->lock);
	return page;
}

struct page *alloc_page(struct as_phys *p)
{
	struct page *page;
	uint8_t *data;

	/* mem_cgroup_charge(): the frame's contents, before taking it. */
	if (memcg_try_charge(p->memcg, AS_PAGE_SIZE) != 0)
		return NULL;
	if ((data = host_page_alloc()) == NULL) {
		memcg_uncharge(p->memcg, AS_PAGE_SIZE);
		return NULL;
	}
	if ((page = __alloc_page(p, data, false)) == NULL) {
		host_page_free(data);
		memcg_uncharge(p->memcg, AS_PAGE_SIZE);
	}
	return page;
}

struct page *alloc_page_reserved(struct as_phys *p)
{
	struct page *page;
	uint8_t *data;

	if ((data = host_page_alloc()) == NULL)
		return NULL;
	if ((page = __alloc_page(p, data, true)) == NULL)
		host_page_free(data);
	return page;
}

int pt_reserve(struct as_phys *p, unsigned long n)
{
	int err = 0;

	if (memcg_try_charge(p->memcg, (long)(n * AS_PAGE_SIZE)) != 0)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	if (p->nr_used + p->nr_reserved + n <= p->nr_frames)
		p->nr_reserved += n;
	else
		err = -ENOMEM;
	pthread_mutex_unlock(&p->lock);
	if (err != 0)
		memcg_uncharge(p->memcg, (long)(n * AS_PAGE_SIZE));
	return err;
}

void pt_unreserve(struct as_phys *p, unsigned long n)
{
	pthread_mutex_lock(&p->lock);
	p->nr_reserved -= n;
	pthread_mutex_unlock(&p->lock);
	memcg_uncharge(p->memcg, (long)(n * AS_PAGE_SIZE));
}

/* free_page(): return the frame and its contents; its charge goes. */
static void free_page(struct as_phys *p, struct page *page)
{
	unsigned long *nf;

	if (page_test(page, PG_swapcache))
		swapcache_page_freed(p, page);
	lru_page_freed(p, page);
	memcg_uncharge(p->memcg, AS_PAGE_SIZE);
	if (page_test(page, PG_hostshared))	/* a template's: kept */
		page_data_forget(page);
	else
		host_page_free(page->data);
	pthread_mutex_lock(&p->lock);
	page->data = NULL;
	p->nr_used--;
	__atomic_sub_fetch(&frames_in_use, 1, __ATOMIC_RELAXED);
	if (p->nr_free_stack == p->free_cap) {
		nf = realloc(p->free, sizeof(*nf) * p->free_cap * 2);
		if (nf == NULL) {	/* host OOM: the frame is lost */
			pthread_mutex_unlock(&p->lock);
			return;
		}
		/* The stack's growth may not fail: charged regardless. */
		memcg_charge_force(p->memcg,
		    (long)(sizeof(*nf) * p->free_cap));
		p->arrays_bytes += (long)(sizeof(*nf) * p->free_cap);
		p->free = nf;
		p->free_cap *= 2;
	}
	p->free[p->nr_free_stack++] = page->pfn;
	pthread_mutex_unlock(&p->lock);
}

/*
 * phys_restore_frame(): the checkpoint loader's alloc_page() of a given
 * frame, which the caller knows to be below nr_frames and not in use:
 * in use again, zeroed, its fields clear (counts 0); NULL on host OOM.
 */
struct page *phys_restore_frame(struct as_phys *p, unsigned long pfn)
{
	struct page *page = pfn_to_page(p, pfn);
	uint8_t *data;

	if (memmap_charge(p, pfn) != 0 || (data = host_page_alloc()) == NULL)
		return NULL;
	page->pfn = pfn;
	page->data = data;
	page->counts = 0;
	page->flags = 0;
	page->anon_excl = 0;
	page->mapping = NULL;
	page->anon_vma = NULL;
	page->index = 0;
	page->lru = 0;
	page->lru_prev = page->lru_next = NULL;
	p->nr_used++;
	__atomic_add_fetch(&frames_in_use, 1, __ATOMIC_RELAXED);
	memcg_charge_force(p->memcg, AS_PAGE_SIZE);	/* what was kept */
	return page;
}

/*
 * phys_restore_free(): the checkpoint loader sets the allocator's order:
 * the free stack (pfns[0] at the bottom) and the first frame never handed
 * out.  The caller has checked every pfn; their struct pages are made, as
 * a running allocator has them.  0 or -ENOMEM.
 */
int phys_restore_free(struct as_phys *p, unsigned long next_unused,
    const unsigned long *pfns, unsigned long n)
{
	unsigned long cap = 64, i, *nf;

	while (cap < n)
		cap *= 2;
	if ((nf = realloc(p->free, sizeof(*nf) * cap)) == NULL)
		return -ENOMEM;
	memcg_charge_force(p->memcg, ((long)cap - (long)p->free_cap) *
	    (long)sizeof(*nf));
	p->arrays_bytes += ((long)cap - (long)p->free_cap) * (long)sizeof(*nf);
	p->free = nf;
	p->free_cap = cap;
	for (i = 0; i < n; i++)
		if (memmap_charge(p, pfns[i]) != 0)
			return -ENOMEM;
	if (n > 0)
		memcpy(p->free, pfns, sizeof(*pfns) * n);
	p->nr_free_stack = n;
	p->next_unused = next_unused;
	return 0;
}

bool page_ref_freeze_free(struct as_phys *p, struct page *page)
{
	uint64_t one = 1;

	if (!__atomic_compare_exchange_n(&page->counts, &one, 0, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	free_page(p, page);
	return true;
}

void put_page(struct as_phys *p, struct page *page)
{
	if (page_test(page, PG_reserved))
		return;
	if ((uint32_t)__atomic_sub_fetch(&page->counts, 1,
	    __ATOMIC_ACQ_REL) == 0)
		free_page(p, page);
}

void page_remove_rmap_put(struct as_phys *p, struct page *page)
{
	if (page_test(page, PG_reserved))
		return;
	if ((uint32_t)__atomic_sub_fetch(&page->counts, PAGE_MAP_ONE | 1,
	    __ATOMIC_ACQ_REL) == 0)
		free_page(p, page);
}

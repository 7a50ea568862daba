/*
 * page_alloc.c: the frame allocator of a simulated machine
 * (mm/page_alloc.c).  Frames come from a free stack, else from the part of
 * RAM never used yet; struct pages and frame contents are made 512 frames
 * at a time, the contents in one 2 MiB block so that the host can back it
 * with a transparent huge page.  Every frame in use, every chunk of struct
 * pages and the allocator's arrays are charged to the session's memcg
 * (memcontrol.h); a chunk whose last frame is freed gives its 2 MiB back
 * (to the small pool below, else to the host), so a session's host memory
 * follows its frames in use, not its high-water mark.  Exhaustion of the
 * frames or of the charge is NULL, which the fault path turns into
 * VM_FAULT_OOM.
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

#define CHUNK_BYTES	(PAGES_PER_CHUNK * AS_PAGE_SIZE)
#define POOL_MAX	16	/* chunks kept for reuse: 32 MiB */
#define MEMMAP_CHUNK	kmem_size(PAGES_PER_CHUNK * sizeof(struct page))

/*
 * Chunks freed by sessions wait here for the next one: memory the host
 * has already backed is much cheaper than fresh memory.  A recycled
 * chunk's frames are zeroed as they are handed out.  The pool is small
 * (32 MiB, charged to nobody): beyond it a chunk goes back to the host
 * (munmap), so the daemon's RSS falls back when sessions end.
 */
static struct {
	pthread_mutex_t	 lock;
	uint8_t		*chunk[POOL_MAX];
	int		 n;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

static uint8_t *pool_take(void)
{
	uint8_t *c = NULL;

	pthread_mutex_lock(&pool.lock);
	if (pool.n > 0)
		c = pool.chunk[--pool.n];
	pthread_mutex_unlock(&pool.lock);
	return c;
}

static void pool_give(uint8_t *c)
{
	pthread_mutex_lock(&pool.lock);
	if (pool.n < POOL_MAX)
		pool.chunk[pool.n++] = c;
	else
		munmap(c, CHUNK_BYTES);
	pthread_mutex_unlock(&pool.lock);
}

/* The per-chunk arrays of a RAM of nr_frames, and the first free stack. */
static long phys_arrays_bytes(unsigned long nr_frames)
{
	return (long)((nr_frames / PAGES_PER_CHUNK + 1) *
	    (2 * sizeof(void *) + sizeof(uint8_t) + sizeof(uint16_t)) +
	    64 * sizeof(unsigned long) + 5 * KMEM_OVERHEAD);
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
	unsigned long n;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->memcg = memcg;
	p->nr_frames = ram_bytes >> AS_PAGE_SHIFT;
	p->max_frames = p->nr_frames;
	lru_init(p);
	n = p->nr_frames / PAGES_PER_CHUNK + 1;
	if (memcg_try_charge(memcg, phys_arrays_bytes(p->nr_frames)) != 0)
		return -1;
	p->arrays_bytes = phys_arrays_bytes(p->nr_frames);
	p->chunks = calloc(n, sizeof(*p->chunks));
	p->data = calloc(n, sizeof(*p->data));
	p->recycled = calloc(n, 1);
	p->chunk_used = calloc(n, sizeof(*p->chunk_used));
	p->free_cap = 64;
	p->free = malloc(sizeof(*p->free) * p->free_cap);
	if (p->chunks == NULL || p->data == NULL || p->free == NULL ||
	    p->recycled == NULL || p->chunk_used == NULL || p->nr_frames < 2)
		return -1;
	/* The zero page is frame 0, never freed. */
	if ((zero = alloc_page(p)) == NULL)
		return -1;
	zero->flags |= PG_reserved;
	p->zero_pfn = zero->pfn;
	return 0;
}

void phys_destroy(struct as_phys *p)
{
	unsigned long c;

	swap_info_destroy(p);
	__atomic_sub_fetch(&frames_in_use, p->nr_used, __ATOMIC_RELAXED);
	memcg_uncharge(p->memcg, (long)(p->nr_used * AS_PAGE_SIZE) +
	    p->arrays_bytes);
	for (c = 0; p->chunks != NULL && c <= p->nr_frames / PAGES_PER_CHUNK;
	    c++) {
		if (p->chunks[c] != NULL)
			memcg_uncharge(p->memcg, MEMMAP_CHUNK);
		free(p->chunks[c]);
		if (p->data != NULL && p->data[c] != NULL)
			pool_give(p->data[c]);
	}
	free(p->chunks);
	free(p->data);
	free(p->recycled);
	free(p->chunk_used);
	free(p->free);
	pthread_mutex_destroy(&p->lock);
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

/* The 2 MiB of contents of chunk c, made on first use. */
static uint8_t *chunk_data(struct as_phys *p, unsigned long c)
{
	if (p->data[c] == NULL && (p->data[c] = pool_take()) != NULL)
		p->recycled[c] = 1;
	if (p->data[c] == NULL) {
		/* Anonymous host memory: zero, and a 2 MiB multiple is placed
		 * 2 MiB-aligned, so it can be one huge page. */
		void *m = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
#ifdef MADV_HUGEPAGE
		madvise(m, CHUNK_BYTES, MADV_HUGEPAGE);
#endif
		p->data[c] = m;
	}
	return p->data[c];
}

/* __pfn_to_page(): pfn_to_page() when the frame's chunk is not made. */
struct page *__pfn_to_page(struct as_phys *p, unsigned long pfn)
{
	struct page **chunk = &p->chunks[pfn / PAGES_PER_CHUNK];
	unsigned long i;

	if (*chunk == NULL) {
		if (memcg_try_charge(p->memcg, MEMMAP_CHUNK) != 0)
			return NULL;
		*chunk = calloc(PAGES_PER_CHUNK, sizeof(**chunk));
		if (*chunk == NULL) {
			memcg_uncharge(p->memcg, MEMMAP_CHUNK);
			return NULL;
		}
		for (i = 0; i < PAGES_PER_CHUNK; i++)
			(*chunk)[i].pfn = pfn - pfn % PAGES_PER_CHUNK + i;
	}
	return &(*chunk)[pfn % PAGES_PER_CHUNK];
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

struct page *alloc_page(struct as_phys *p)
{
	struct page *page = NULL;
	unsigned long pfn;

	uint8_t *data = NULL;
	bool fresh;

	/* mem_cgroup_charge(): the frame's contents, before taking it. */
	if (memcg_try_charge(p->memcg, AS_PAGE_SIZE) != 0)
		return NULL;
	pthread_mutex_lock(&p->lock);
	fresh = p->nr_free_stack == 0;	/* never used: still zero */
	if (take_pfn(p, &pfn) && (page = pfn_to_page(p, pfn)) != NULL &&
	    (data = chunk_data(p, pfn / PAGES_PER_CHUNK)) == NULL) {
		p->free[p->nr_free_stack++] = pfn;	/* room: it was popped */
		page = NULL;
	}
	if (page != NULL) {
		page->data = data + (pfn % PAGES_PER_CHUNK) * AS_PAGE_SIZE;
		if (!fresh || p->recycled[pfn / PAGES_PER_CHUNK])
			memset(page->data, 0, AS_PAGE_SIZE);
		p->nr_used++;
		p->chunk_used[pfn / PAGES_PER_CHUNK]++;
		__atomic_add_fetch(&frames_in_use, 1, __ATOMIC_RELAXED);
		page->counts = 1;
		page->flags = 0;
		page->anon_excl = 0;
		page->mapping = NULL;
		page->anon_vma = NULL;
		page->index = 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (page == NULL)
		memcg_uncharge(p->memcg, AS_PAGE_SIZE);
	return page;
}

/* The last frame of chunk c is free: its contents go back (p->lock). */
static void chunk_release(struct as_phys *p, unsigned long c)
{
	if (c == p->zero_pfn / PAGES_PER_CHUNK || p->data[c] == NULL)
		return;
	pool_give(p->data[c]);
	p->data[c] = NULL;
	p->recycled[c] = 0;
}


/* free_page(): return the frame, and its chunk's contents with its last
 * frame; the frame's charge goes. */
static void free_page(struct as_phys *p, struct page *page)
{
	unsigned long *nf, c = page->pfn / PAGES_PER_CHUNK;

	if (page_test(page, PG_swapcache))
		swapcache_page_freed(p, page);
	lru_page_freed(p, page);
	memcg_uncharge(p->memcg, AS_PAGE_SIZE);
	pthread_mutex_lock(&p->lock);
	page->data = NULL;	/* the bytes stay in their chunk for reuse */
	p->nr_used--;
	if (--p->chunk_used[c] == 0)
		chunk_release(p, c);
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
	unsigned long c = pfn / PAGES_PER_CHUNK;
	struct page *page = pfn_to_page(p, pfn);
	uint8_t *data;

	if (page == NULL || (data = chunk_data(p, c)) == NULL)
		return NULL;
	page->data = data + (pfn % PAGES_PER_CHUNK) * AS_PAGE_SIZE;
	if (p->recycled[c])	/* a fresh chunk is zero already */
		memset(page->data, 0, AS_PAGE_SIZE);
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
	p->chunk_used[c]++;
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
		if (pfn_to_page(p, pfns[i]) == NULL)
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

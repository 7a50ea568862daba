/*
 * page_pool.c: the host memory behind every simulated frame, shared by
 * all sessions (models the buddy allocator's free lists behind per-CPU
 * page lists, struct per_cpu_pages).  A frame's 4 KiB come from 2 MiB
 * host chunks (each 2 MiB-aligned, so that the host backs it with one
 * transparent huge page), carved a page at a time: a session pays for
 * the frames it uses, never for a chunk of its own.
 *
 *   - Each thread keeps a small cache of free pages (no lock); it refills
 *     from the chunks, and spills back to them, PCP_BATCH pages at a
 *     time under pool.lock.
 *   - A chunk keeps its own free pages (a list through them) and the
 *     part of it never used (zero).  Pages are taken from the partial
 *     chunks first, so that the others may empty.
 *   - A chunk whose pages are all free again goes back to the host
 *     (munmap) once CHUNKS_KEEP empty ones are kept: whole 2 MiB at a
 *     time, never a page out of a huge page, so the daemon's RSS falls
 *     when sessions end and what stays stays huge.
 *   - A page handed out is zero: a chunk's never-used part is; a page
 *     freed is cleared when handed out again (clear_page()).
 *   - Every session's zero page has the same contents: one read-only
 *     host page (the host's own zero page backs it), host_zero_page().
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "page.h"
#include "uapi.h"

#define CHUNK_SHIFT	21
#define CHUNK_BYTES	(1UL << CHUNK_SHIFT)
#define CHUNK_PAGES	(CHUNK_BYTES / AS_PAGE_SIZE)
#define PCP_HIGH	64	/* a thread's cache */
#define PCP_BATCH	32
#define CHUNKS_KEEP	16	/* empty chunks kept: 32 MiB */

/* A free page holds the link to the next (its first bytes). */
struct free_page {
	struct free_page	*next;
};

/* A 2 MiB chunk of host memory and its free pages. */
struct chunk {
	uint8_t			*base;
	struct free_page	*free;		/* freed pages: to clear */
	unsigned int		 nr_free;	/* on free */
	unsigned int		 unused;	/* pages never handed out */
	struct chunk		*prev, *next;	/* on partial or empty */
};

static struct {
	pthread_mutex_t		 lock;
	struct chunk		*partial;	/* some pages free */
	struct chunk		*empty;		/* all pages free */
	unsigned int		 nr_empty;
	struct chunk		**table;	/* by base, open addressing */
	size_t			 table_cap, nr_chunks;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The thread's cache of free pages (dirty). */
static _Thread_local struct {
	struct free_page	*head;
	unsigned int		 n;
	bool			 registered;	/* pcp_exit() will run */
} pcp;

static pthread_key_t pcp_key;
static pthread_once_t pcp_once = PTHREAD_ONCE_INIT;

static size_t slot_of(uintptr_t base, size_t cap)
{
	return (size_t)((base >> CHUNK_SHIFT) * 0x9e3779b97f4a7c15ULL >>
	    32) & (cap - 1);
}

/* The chunk a page belongs to (pool.lock held). */
static struct chunk *chunk_of(const void *page)
{
	uintptr_t base = (uintptr_t)page & ~(CHUNK_BYTES - 1);
	size_t i = slot_of(base, pool.table_cap);

	while ((uintptr_t)pool.table[i]->base != base)
		i = (i + 1) & (pool.table_cap - 1);
	return pool.table[i];
}

/* Put c in the table, grown to keep it at most half full. */
static bool table_add(struct chunk *c)
{
	struct chunk **old = pool.table, **t;
	size_t cap = pool.table_cap, i, j;

	if (2 * (pool.nr_chunks + 1) > cap) {
		cap = cap ? cap * 2 : 64;
		if ((t = calloc(cap, sizeof(*t))) == NULL)
			return false;
		for (i = 0; i < pool.table_cap; i++) {
			if (old[i] == NULL)
				continue;
			j = slot_of((uintptr_t)old[i]->base, cap);
			while (t[j] != NULL)
				j = (j + 1) & (cap - 1);
			t[j] = old[i];
		}
		free(old);
		pool.table = t;
		pool.table_cap = cap;
	}
	i = slot_of((uintptr_t)c->base, pool.table_cap);
	while (pool.table[i] != NULL)
		i = (i + 1) & (pool.table_cap - 1);
	pool.table[i] = c;
	pool.nr_chunks++;
	return true;
}

/* Take c out of the table (backward-shift deletion). */
static void table_del(struct chunk *c)
{
	size_t cap = pool.table_cap, i = slot_of((uintptr_t)c->base, cap), j;
	size_t home;

	while (pool.table[i] != c)
		i = (i + 1) & (cap - 1);
	pool.table[i] = NULL;
	for (j = (i + 1) & (cap - 1); pool.table[j] != NULL;
	    j = (j + 1) & (cap - 1)) {
		home = slot_of((uintptr_t)pool.table[j]->base, cap);
		if (((j - home) & (cap - 1)) >= ((j - i) & (cap - 1))) {
			pool.table[i] = pool.table[j];
			pool.table[j] = NULL;
			i = j;
		}
	}
	pool.nr_chunks--;
}

static void list_del(struct chunk **head, struct chunk *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_add(struct chunk **head, struct chunk *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

/* A new chunk from the host, on the partial list; NULL if none. */
static struct chunk *chunk_new(void)
{
	struct chunk *c = calloc(1, sizeof(*c));
	void *m;

	if (c == NULL)
		return NULL;
	/* A 2 MiB multiple is placed 2 MiB-aligned by the host. */
	m = mmap(NULL, 2 * CHUNK_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		free(c);
		return NULL;
	}
	c->base = (uint8_t *)(((uintptr_t)m + CHUNK_BYTES - 1) &
	    ~(CHUNK_BYTES - 1));
	if (c->base > (uint8_t *)m)
		munmap(m, (size_t)(c->base - (uint8_t *)m));
	munmap(c->base + CHUNK_BYTES, CHUNK_BYTES -
	    (size_t)(c->base - (uint8_t *)m));
#ifdef MADV_HUGEPAGE
	madvise(c->base, CHUNK_BYTES, MADV_HUGEPAGE);
#endif
	c->unused = CHUNK_PAGES;
	if (!table_add(c)) {
		munmap(c->base, CHUNK_BYTES);
		free(c);
		return NULL;
	}
	list_add(&pool.partial, c);
	return c;
}

/* One page from c (which has one); *zero if it is. */
static void *chunk_take(struct chunk *c, bool *zero)
{
	struct free_page *f = c->free;

	if (f != NULL) {
		c->free = f->next;
		c->nr_free--;
		*zero = false;
		return f;
	}
	*zero = true;
	return c->base + (CHUNK_PAGES - c->unused--) * AS_PAGE_SIZE;
}

/* The chunk to take from: a partial one, an empty one, a new one. */
static struct chunk *chunk_pick(void)
{
	struct chunk *c = pool.partial;

	if (c != NULL)
		return c;
	if ((c = pool.empty) != NULL) {
		list_del(&pool.empty, c);
		pool.nr_empty--;
		list_add(&pool.partial, c);
		return c;
	}
	return chunk_new();
}

/* A page from the chunks (pool.lock held). */
static void *pool_take_locked(bool *zero)
{
	struct chunk *c = chunk_pick();
	void *page;

	if (c == NULL)
		return NULL;
	page = chunk_take(c, zero);
	if (c->free == NULL && c->unused == 0)
		list_del(&pool.partial, c);	/* full: on no list */
	return page;
}

/* A page back to its chunk (pool.lock held). */
static void pool_give_locked(void *page)
{
	struct chunk *c = chunk_of(page);
	struct free_page *f = page;
	bool was_full = c->free == NULL && c->unused == 0;

	f->next = c->free;
	c->free = f;
	if (was_full)
		list_add(&pool.partial, c);
	if (++c->nr_free + c->unused < CHUNK_PAGES)
		return;
	list_del(&pool.partial, c);
	if (pool.nr_empty < CHUNKS_KEEP) {
		list_add(&pool.empty, c);
		pool.nr_empty++;
		return;
	}
	table_del(c);
	munmap(c->base, CHUNK_BYTES);
	free(c);
}

/* Spill n pages of the thread's cache back to their chunks. */
static void pcp_spill(unsigned int n)
{
	struct free_page *f;

	pthread_mutex_lock(&pool.lock);
	while (n-- > 0 && (f = pcp.head) != NULL) {
		pcp.head = f->next;
		pcp.n--;
		pool_give_locked(f);
	}
	pthread_mutex_unlock(&pool.lock);
}

/* A thread that ends gives its cache back. */
static void pcp_exit(void *arg)
{
	(void)arg;
	pcp_spill(pcp.n);
}

static void pcp_key_make(void)
{
	(void)pthread_key_create(&pcp_key, pcp_exit);
}

void *host_page_alloc(void)
{
	struct free_page *f = pcp.head;
	bool zero = false;
	void *m;

	if (f != NULL) {
		pcp.head = f->next;
		pcp.n--;
		memset(f, 0, AS_PAGE_SIZE);	/* clear_page() */
		return f;
	}
	pthread_mutex_lock(&pool.lock);
	m = pool_take_locked(&zero);
	pthread_mutex_unlock(&pool.lock);
	if (m != NULL && !zero)
		memset(m, 0, AS_PAGE_SIZE);
	return m;
}

void host_page_free(void *data)
{
	struct free_page *f = data;

	if (!pcp.registered) {
		(void)pthread_once(&pcp_once, pcp_key_make);
		(void)pthread_setspecific(pcp_key, &pcp);
		pcp.registered = true;
	}
	f->next = pcp.head;
	pcp.head = f;
	if (++pcp.n >= PCP_HIGH)
		pcp_spill(PCP_BATCH);
}

static const void *zero_page;
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_page_make(void)
{
	void *m = mmap(NULL, AS_PAGE_SIZE, PROT_READ, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		abort();	/* at the first session: nothing to keep */
	zero_page = m;
}

const void *host_zero_page(void)
{
	(void)pthread_once(&zero_once, zero_page_make);
	return zero_page;
}

/*
 * host_ksm.c: frames of the same contents in many sessions share one
 * host page, as KSM (mm/ksm.c) merges the identical pages of KVM guests
 * on one host.  Every session made with the same parameters starts as
 * the same machine: task 1 has exec'd the same image, so its page cache,
 * its stack page and its page tables (which name the same frame numbers)
 * hold the same bytes.  The first session made with some parameters
 * leaves a template: a copy of each of its frames in host memory made
 * read-only.  Each later session with those parameters points each of
 * its frames whose bytes equal the template's at the template's page
 * (PG_hostshared) and gives its own back, so that an idle session costs
 * the host only its structures; so does a session a checkpoint brings
 * back (host_ksm_loaded()), where a template for its parameters exists.  Nothing a session shows changes: frame
 * numbers, counts and flags are its own; only where the bytes live.
 *
 * The first write to such a frame copies the host page first
 * (page_make_writable()): the MMU's store (fault.c), and every change to
 * a page table, which the walks that hand out a table to change make
 * private first (pgtable.c, pt_share.c).  The template's pages are
 * mapped read-only, so a write that missed its copy faults on the host
 * instead of reaching another session.
 *
 * Locks: ksm_lock guards the list of templates (taken by
 * as_session_new() alone, holding no other).  A frame is made writable
 * under the lock that guards its writers (a table's or an anonymous
 * page's mm's page_table_lock); a page-cache page, which tasks of other
 * mms may store into under their own, under ksm_lock as well.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "page.h"
#include "session.h"

#define KSM_TEMPLATES_MAX	8	/* parameter sets with a template */
#define KSM_FRAMES_MAX		64	/* frames a template keeps */

struct ksm_template {
	struct as_session_params key;	/* mem_parent cleared */
	uint8_t		*mem;		/* nr read-only host pages */
	unsigned long	 nr;
	unsigned long	 pfn[KSM_FRAMES_MAX];	/* the frame of each page */
};

static pthread_mutex_t ksm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ksm_template templates[KSM_TEMPLATES_MAX];
static int nr_templates;
static unsigned long ksm_pages_shared;	/* frames pointing at templates */

unsigned long host_ksm_pages_shared(void)
{
	return __atomic_load_n(&ksm_pages_shared, __ATOMIC_RELAXED);
}

/* The parameters that decide a new session's contents. */
static void ksm_key(struct as_session_params *k,
    const struct as_session_params *p)
{
	memset(k, 0, sizeof(*k));
	k->ram_bytes = p->ram_bytes;
	memcpy(k->kparam, p->kparam, sizeof(k->kparam));
	k->seed = p->seed;
	k->randomize = p->randomize;
	k->image = p->image;
}

static struct ksm_template *ksm_find(const struct as_session_params *key)
{
	int i;

	for (i = 0; i < nr_templates; i++)
		if (memcmp(&templates[i].key, key, sizeof(*key)) == 0)
			return &templates[i];
	return NULL;
}

/* A frame a template may keep: in use, not the zero page. */
static bool ksm_candidate(struct as_phys *p, unsigned long pfn)
{
	struct page *page = pfn_to_page(p, pfn);

	return page->data != NULL && !(page->flags & PG_reserved);
}

/* A template of s's frames (ksm_lock held); NULL if none can be made. */
static struct ksm_template *ksm_make(struct as_session *s,
    const struct as_session_params *key)
{
	struct ksm_template *t = &templates[nr_templates];
	struct as_phys *p = &s->phys;
	unsigned long pfn, n = 0;

	for (pfn = 0; pfn < p->next_unused; pfn++)
		n += ksm_candidate(p, pfn);
	if (n == 0 || n > KSM_FRAMES_MAX)
		return NULL;
	t->mem = mmap(NULL, n * AS_PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->mem == MAP_FAILED)
		return NULL;
	for (pfn = 0; pfn < p->next_unused; pfn++) {
		if (!ksm_candidate(p, pfn))
			continue;
		memcpy(t->mem + t->nr * AS_PAGE_SIZE, pfn_to_page(p, pfn)->data,
		    AS_PAGE_SIZE);
		t->pfn[t->nr++] = pfn;
	}
	mprotect(t->mem, n * AS_PAGE_SIZE, PROT_READ);
	t->key = *key;
	nr_templates++;
	return t;
}

/* Point s's frames equal to t's at them, its own host pages freed. */
static void ksm_merge(struct as_session *s, const struct ksm_template *t)
{
	struct as_phys *p = &s->phys;
	struct page *page;
	uint8_t *mine;
	unsigned long i;

	for (i = 0; i < t->nr; i++) {
		if (t->pfn[i] >= p->next_unused ||
		    !ksm_candidate(p, t->pfn[i]))
			continue;
		page = pfn_to_page(p, t->pfn[i]);
		mine = page->data;
		if (memcmp(mine, t->mem + i * AS_PAGE_SIZE, AS_PAGE_SIZE) != 0)
			continue;
		page->data = t->mem + i * AS_PAGE_SIZE;
		page_set_flags(page, PG_hostshared);
		host_page_free(mine);
		__atomic_add_fetch(&ksm_pages_shared, 1, __ATOMIC_RELAXED);
	}
}

void host_ksm_session(struct as_session *s, const struct as_session_params *p)
{
	struct as_session_params key;
	struct ksm_template *t;

	if (p->randomize)	/* a layout of its own: nothing to share */
		return;
	ksm_key(&key, p);
	pthread_mutex_lock(&ksm_lock);
	if ((t = ksm_find(&key)) != NULL)
		ksm_merge(s, t);
	else if (nr_templates < KSM_TEMPLATES_MAX)
		(void)ksm_make(s, &key);	/* the first: the template */
	pthread_mutex_unlock(&ksm_lock);
}

void host_ksm_loaded(struct as_session *s)
{
	struct as_session_params p, key;
	struct ksm_template *t;
	int k;

	memset(&p, 0, sizeof(p));
	p.ram_bytes = s->phys.max_frames << AS_PAGE_SHIFT;
	for (k = 0; k < KP_COUNT; k++)
		p.kparam[k] = as_kparam_get(s, (enum kparam)k);
	p.seed = s->seed;
	p.randomize = s->randomize;
	p.image = s->image;
	if (p.randomize)
		return;
	ksm_key(&key, &p);
	pthread_mutex_lock(&ksm_lock);
	if ((t = ksm_find(&key)) != NULL)	/* none made from a load */
		ksm_merge(s, t);
	pthread_mutex_unlock(&ksm_lock);
}

/* The copy on first write: page's own host page, its bytes. */
int page_data_unshare(struct page *page)
{
	bool cache = page->mapping != NULL;
	uint8_t *mine;

	if (cache)
		pthread_mutex_lock(&ksm_lock);
	if (!page_test(page, PG_hostshared)) {
		if (cache)
			pthread_mutex_unlock(&ksm_lock);
		return 0;
	}
	if ((mine = host_page_alloc()) == NULL) {
		if (cache)
			pthread_mutex_unlock(&ksm_lock);
		return -ENOMEM;
	}
	memcpy(mine, page->data, AS_PAGE_SIZE);
	__atomic_store_n(&page->data, mine, __ATOMIC_RELEASE);
	page_clear_flags(page, PG_hostshared);
	__atomic_sub_fetch(&ksm_pages_shared, 1, __ATOMIC_RELAXED);
	if (cache)
		pthread_mutex_unlock(&ksm_lock);
	return 0;
}

void page_data_forget(struct page *page)
{
	page_clear_flags(page, PG_hostshared);
	__atomic_sub_fetch(&ksm_pages_shared, 1, __ATOMIC_RELAXED);
}

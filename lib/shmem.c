/*
 * shmem.c: swap of shmem pages (mm/shmem.c), the objects behind shared
 * anonymous mappings and System V segments.  Reclaim (madvise pageout)
 * writes a dirty shmem page that nothing maps any more to a swap slot and
 * leaves a swap entry in its place in the page cache (shmem_writeout());
 * a fault there reads it back, dirty, into a new page that takes the
 * entry's place, the slot freed at once (shmem_swapin_folio()); punching
 * a hole or the object's end frees the entries' slots (shmem_free_swap()).
 * smaps counts an object's entries in the range a VMA maps as its Swap
 * (shmem_swap_usage()).  See shmem.h for the entries.
 */
#include <stdlib.h>

#include "mm.h"
#include "page.h"
#include "shm.h"
#include "shmem.h"
#include "swap.h"
#include "vmscan.h"

bool shmem_writeout(struct as_phys *phys, struct page *page,
    unsigned long swap_bytes)
{
	struct as_file *f = page->mapping;
	unsigned long off = 0;

	/* !total_swap_pages: redirty */
	if (f == NULL || !f->shmem_zero ||
	    swap_info_get(phys, swap_bytes) == NULL)
		return false;
	pthread_mutex_lock(&f->lock);
	/* is_page_cache_freeable(): the cache's and reclaim's references */
	if (page->mapping == f && page_mapcount(page) == 0 &&
	    page_refcount(page) == 2 && cache_page(f, page->index) == page)
		off = shmem_swap_alloc(phys, page);
	if (off != 0) {	/* shmem_delete_from_page_cache(), swap entry left */
		f->cache[page->index] = swp_to_radix_entry(off);
		f->swapped++;
		page->mapping = NULL;
		page_clear_flags(page, PG_dirty);
	}
	pthread_mutex_unlock(&f->lock);
	if (off == 0)
		return false;	/* folio_mark_dirty(): it stays, dirty */
	put_page(phys, page);	/* the page cache's reference */
	return true;
}

struct page *shmem_swapin_folio(struct as_phys *phys, struct as_file *f,
    unsigned long index)
{
	unsigned long off = radix_to_swp_offset(f->cache[index]);
	struct page *page;

	if ((page = alloc_page(phys)) == NULL)
		return NULL;
	page->mapping = f;
	page->index = index;
	page->flags |= PG_uptodate | PG_swapbacked;
	folio_add_lru(phys, page);
	shmem_swap_read_free(phys, off, page);
	page_set_flags(page, PG_dirty);		/* folio_mark_dirty() */
	f->cache[index] = page;
	f->swapped--;
	return page;
}

/* shmem_free_swap(): the swap entry at index of f goes, and its slot. */
static void shmem_free_swap(struct as_phys *phys, struct as_file *f,
    unsigned long index)
{
	unsigned long off = radix_to_swp_offset(f->cache[index]);

	f->cache[index] = NULL;
	f->swapped--;
	free_swap_and_cache(phys, off);
}

void shmem_undo_range(struct as_phys *phys, struct as_file *f,
    unsigned long first, unsigned long last)
{
	struct page *page;
	unsigned long i;

	for (i = first; i <= last && i < f->cache_len; i++) {
		if ((page = f->cache[i]) == NULL)
			continue;
		if (xa_is_value(page)) {
			shmem_free_swap(phys, f, i);
			continue;
		}
		f->cache[i] = NULL;
		page->mapping = NULL;
		put_page(phys, page);
	}
}

/* shmem_partial_swap_usage(): f's swap entries in [start, end) (pages);
 * f->lock held. */
static unsigned long shmem_partial_swap_usage(struct as_file *f,
    unsigned long start, unsigned long end)
{
	unsigned long i, n = 0;

	for (i = start; i < end && i < f->cache_len; i++)
		n += f->cache[i] != NULL && xa_is_value(f->cache[i]);
	return n;
}

unsigned long shmem_swap_usage(struct vma *vma)
{
	struct as_file *f = file_inode(vma->vm_file);
	unsigned long swapped;

	pthread_mutex_lock(&f->lock);
	swapped = f->swapped;
	/* the easy cases: nothing swapped, or the VMA maps the whole object */
	if (swapped != 0 && (vma->vm_pgoff != 0 ||
	    vma->vm_end - vma->vm_start < f->size))
		swapped = shmem_partial_swap_usage(f, vma->vm_pgoff,
		    vma->vm_pgoff + vma_pages(vma));
	pthread_mutex_unlock(&f->lock);
	return swapped << AS_PAGE_SHIFT;
}

const char *shmem_swap_tally(struct as_file *f, unsigned long *tally,
    unsigned long cap)
{
	const char *err = NULL;
	unsigned long i, off, n = 0;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->cache_len && err == NULL; i++) {
		if (f->cache[i] == NULL || !xa_is_value(f->cache[i]))
			continue;
		off = radix_to_swp_offset(f->cache[i]);
		if (!f->shmem_zero || off == 0 || off >= cap ||
		    i >= file_nr_pages(f))
			err = "a page-cache swap entry names no slot";
		else
			tally[off]++;
		n++;
	}
	if (err == NULL && n != f->swapped)
		err = "a shmem object's swapped count differs from its entries";
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* models nothing: the shmem objects of the n mms' VMAs and of s's live
 * segments (every object that may hold swap entries), each once and
 * held (ihold()), in a new array of *nf; s->lock held.  0 or -ENOMEM. */
int shmem_objects(struct as_session *s, struct mm **mms, size_t n,
    struct as_file ***out, size_t *nf)
{
	struct shmid_kernel *shp;
	struct as_file **v = NULL, **nv, *f;
	size_t k = 0, cap = 0, i, j;
	struct vma *vma = NULL;

	for (i = 0, shp = s->shm_segs; ; ) {
		if (shp != NULL) {
			f = shp->shm_file;
			shp = shp->next;
		} else if (vma != NULL) {
			f = vma->vm_file != NULL ? file_inode(vma->vm_file) :
			    NULL;
			vma = vma->vm_next;
		} else if (i < n) {
			vma = mms[i++]->mm_mt.first;
			continue;
		} else {
			break;
		}
		if (f == NULL || !f->shmem_zero)
			continue;
		for (j = 0; j < k && v[j] != f; j++)
			;
		if (j < k)
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				while (k > 0)
					iput(s, v[--k]);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		ihold(f);
		v[k++] = f;
	}
	*out = v;
	*nf = k;
	return 0;
}

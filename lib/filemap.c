/*
 * filemap.c: the page cache of simulated files, and the readahead of a
 * file mapping's fault (mm/filemap.c, mm/shmem.c).  A regular file's
 * pages are all in the cache, clean, from the moment it is written (the
 * trace's `file` command writes and fsyncs it); byte i holds
 * (i * 7 + 3) & 0xff and the tail of the last page past the end of the
 * file is zero, as are the holes madvise remove punched
 * (ext4_punch_hole()'s freed blocks: a list of page ranges).  A page that
 * writeback wrote with other bytes keeps them on the simulated disk
 * (f->blocks), so that reclaim may drop it from the cache and a later
 * fault reads them back, as from ext4.  The object behind a shared
 * anonymous mapping (shmem) gets zeroed pages as they are first faulted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "page.h"
#include "shmem.h"
#include "vmscan.h"

/* The number of pages of f; the caller holds f->lock. */
unsigned long file_nr_pages(const struct as_file *f)
{
	return (f->size + AS_PAGE_SIZE - 1) >> AS_PAGE_SHIFT;
}

/* as_file_init(): a file object of size bytes, with an empty cache. */
struct as_file *as_file_alloc(const char *name, unsigned long size, bool shmem,
    struct as_memcg *memcg)
{
	struct as_file *f;

	if (memcg_try_charge(memcg, kmem_size(sizeof(*f))) != 0)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		memcg_uncharge(memcg, kmem_size(sizeof(*f)));
		return NULL;
	}
	f->memcg = memcg;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->size = size;
	f->shmem_zero = shmem;
	f->refcount = 1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->i_mmap_rwsem, NULL);
	return f;
}

/*
 * Room for n elements of size elem in the array *arrp points to (a
 * pointer variable of the caller's), of *cap now: doubled from first,
 * the new part zeroed, the growth charged to memcg; 0, or -ENOMEM with
 * nothing changed.
 */
static int array_reserve(struct as_memcg *memcg, void *arrp,
    unsigned long *cap, unsigned long n, size_t elem, unsigned long first)
{
	unsigned long len = *cap ? *cap : first;
	void *old, *a;

	if (n <= *cap)
		return 0;
	while (len < n)
		len *= 2;
	if (memcg_try_charge(memcg, (long)((len - *cap) * elem)) != 0)
		return -ENOMEM;
	memcpy(&old, arrp, sizeof(old));
	if ((a = realloc(old, len * elem)) == NULL) {
		memcg_uncharge(memcg, (long)((len - *cap) * elem));
		return -ENOMEM;
	}
	memset((char *)a + *cap * elem, 0, (len - *cap) * elem);
	memcpy(arrp, &a, sizeof(a));
	*cap = len;
	return 0;
}

/* Grow the cache index to hold index n - 1. */
static int cache_reserve(struct as_file *f, unsigned long n)
{
	return array_reserve(f->memcg, &f->cache, &f->cache_len, n,
	    sizeof(*f->cache), 16);
}

/* The byte at offset off of a file as `file` writes it. */
static uint8_t file_byte(unsigned long off)
{
	return (uint8_t)((off * 7 + 3) & 0xff);
}

#define FILE_MAX_HOLES	4096	/* extents of holes a file may have */

/* Is page index of f in a hole?  The caller holds f->lock. */
bool file_in_hole(const struct as_file *f, unsigned long index)
{
	unsigned int i;

	for (i = 0; i < f->nr_holes && f->holes[i].first <= index; i++)
		if (index <= f->holes[i].last)
			return true;
	return false;
}

/* Is a dirty page of f in a hole, a block reserved for it by delayed
 * allocation (ext4's i_reserved_data_blocks)?  The caller holds f->lock. */
bool file_dirty_in_hole(const struct as_file *f)
{
	unsigned long idx;
	unsigned int i;
	struct page *page;

	for (i = 0; i < f->nr_holes; i++)
		for (idx = f->holes[i].first; idx <= f->holes[i].last &&
		    idx < f->cache_len; idx++)
			if ((page = cache_page(f, idx)) != NULL &&
			    page_test(page, PG_dirty))
				return true;
	return false;
}

/* Room for n holes in f's list, charged; 0 or -ENOMEM. */
static int holes_reserve(struct as_file *f, unsigned int n)
{
	return array_reserve(f->memcg, &f->holes, &f->holes_cap, n,
	    sizeof(*f->holes), 4);
}

/* Pages first..last of f read back as `file` wrote them (or as holes):
 * the disk's copies of them go.  The caller holds f->lock. */
static void file_blocks_drop(struct as_file *f, unsigned long first,
    unsigned long last)
{
	for (unsigned long i = first; i <= last && i < f->blocks_len; i++) {
		if (f->blocks[i] == NULL)
			continue;
		free(f->blocks[i]);
		f->blocks[i] = NULL;
		f->nr_blocks--;
		memcg_uncharge(f->memcg, AS_PAGE_SIZE);
	}
}

/* Forget f's holes, its disk's copies of pages and their memory (the
 * file is written anew, or freed). */
void file_holes_free(struct as_file *f)
{
	memcg_uncharge(f->memcg, (long)(f->holes_cap * sizeof(*f->holes)));
	free(f->holes);
	f->holes = NULL;
	f->nr_holes = f->holes_cap = 0;
	file_blocks_drop(f, 0, ~0UL);
	memcg_uncharge(f->memcg, (long)(f->blocks_len * sizeof(*f->blocks)));
	free(f->blocks);
	f->blocks = NULL;
	f->blocks_len = 0;
}

/*
 * Pages first..last of f become a hole on disk, merged with the holes it
 * touches (the blocks ext4_punch_hole() frees; none past the end of the
 * file, where it has no blocks); 0, or -ENOSPC past FILE_MAX_HOLES
 * extents, -ENOMEM.  The caller holds f->lock.
 */
int file_punch_hole(struct as_file *f, unsigned long first, unsigned long last)
{
	unsigned int i, j, n = f->nr_holes, left;

	if (first >= file_nr_pages(f))
		return 0;
	if (last >= file_nr_pages(f))
		last = file_nr_pages(f) - 1;

	for (i = 0; i < n && f->holes[i].last + 1 < first; i++)
		;
	for (j = i; j < n && f->holes[j].first <= last + 1; j++)
		;
	if (i < j && f->holes[i].first < first)
		first = f->holes[i].first;
	if (i < j && f->holes[j - 1].last > last)
		last = f->holes[j - 1].last;
	left = n - (j - i) + 1;
	if (left > FILE_MAX_HOLES)
		return -ENOSPC;
	if (holes_reserve(f, left) != 0)
		return -ENOMEM;
	memmove(&f->holes[i + 1], &f->holes[j], (n - j) * sizeof(*f->holes));
	f->holes[i].first = first;
	f->holes[i].last = last;
	f->nr_holes = left;
	file_blocks_drop(f, first, last);
	return 0;
}

/*
 * Page index of f has a block again (ext4's writeback allocates the
 * delayed block of a page dirtied in a hole): out of its hole, which may
 * split in two; 0, or -ENOMEM (it then stays a hole).  The caller holds
 * f->lock.
 */
int file_fill_hole(struct as_file *f, unsigned long index)
{
	unsigned int i, n = f->nr_holes;
	struct file_hole *h;

	for (i = 0; i < n && f->holes[i].last < index; i++)
		;
	if (i == n || (h = &f->holes[i])->first > index)
		return 0;
	if (h->first == index && h->last == index) {
		memmove(h, h + 1, (n - i - 1) * sizeof(*h));
		f->nr_holes--;
	} else if (h->first == index) {
		h->first++;
	} else if (h->last == index) {
		h->last--;
	} else {
		if (n + 1 > FILE_MAX_HOLES || holes_reserve(f, n + 1) != 0)
			return -ENOMEM;
		h = &f->holes[i];
		memmove(h + 1, h, (n - i) * sizeof(*h));
		h[0].last = index - 1;
		h[1].first = index + 1;
		f->nr_holes++;
	}
	return 0;
}

/* The bytes page index of f holds on the simulated disk, into buf: the
 * copy writeback left, zeros in a hole, else what `file` wrote (zeros
 * past the end).  The caller holds f->lock. */
static void file_read_block(const struct as_file *f, unsigned long index,
    uint8_t *buf)
{
	unsigned long off = index << AS_PAGE_SHIFT, i, n = 0;

	if (index < f->blocks_len && f->blocks[index] != NULL) {
		memcpy(buf, f->blocks[index], AS_PAGE_SIZE);
		return;
	}
	if (!f->shmem_zero && !file_in_hole(f, index) && off < f->size)
		n = f->size - off < AS_PAGE_SIZE ? f->size - off : AS_PAGE_SIZE;
	for (i = 0; i < n; i++)
		buf[i] = file_byte(off + i);
	memset(buf + n, 0, AS_PAGE_SIZE - n);
}

/* Room in f's block index for page n - 1, charged; 0 or -ENOMEM. */
static int blocks_reserve(struct as_file *f, unsigned long n)
{
	return array_reserve(f->memcg, &f->blocks, &f->blocks_len, n,
	    sizeof(*f->blocks), 16);
}

/*
 * models ext4's writeback of one page of a regular file (->writepages,
 * ext4_bio_write_folio()): a page dirtied in a hole gets its block; the
 * part of the page past i_size is zeroed in the page itself (it may be
 * mapped, and what was written there never reaches the file); then its
 * bytes go to the disk, kept only where they differ from what the disk
 * gives without them.  0, or -ENOMEM (the page then cannot leave the
 * cache).  The caller holds f->lock.
 */
int file_write_block(struct as_file *f, struct page *page)
{
	unsigned long index = page->index, off = index << AS_PAGE_SHIFT;
	uint8_t base[AS_PAGE_SIZE];

	(void)file_fill_hole(f, index);
	if (off < f->size && f->size - off < AS_PAGE_SIZE)
		memset(page->data + (f->size - off), 0,
		    AS_PAGE_SIZE - (f->size - off));
	file_blocks_drop(f, index, index);
	file_read_block(f, index, base);
	if (memcmp(base, page->data, AS_PAGE_SIZE) == 0)
		return 0;
	if (blocks_reserve(f, index + 1) != 0 ||
	    memcg_try_charge(f->memcg, AS_PAGE_SIZE) != 0)
		return -ENOMEM;
	if ((f->blocks[index] = malloc(AS_PAGE_SIZE)) == NULL) {
		memcg_uncharge(f->memcg, AS_PAGE_SIZE);
		return -ENOMEM;
	}
	memcpy(f->blocks[index], page->data, AS_PAGE_SIZE);
	f->nr_blocks++;
	return 0;
}

/*
 * Would reading page back from the file give the bytes it holds?  Not
 * for a page written through a shared mapping and not written back (or
 * whose copy could not be kept): it must not leave the page cache.
 * Shmem pages are never written back but to swap (shmem_writeout(), for
 * dirty ones): a clean one holds the zeros it began as.
 */
bool filemap_page_on_disk(struct as_file *f, const struct page *page)
{
	uint8_t disk[AS_PAGE_SIZE];

	if (f->shmem_zero)
		return true;
	pthread_mutex_lock(&f->lock);
	file_read_block(f, page->index, disk);
	pthread_mutex_unlock(&f->lock);
	return memcmp(disk, page->data, AS_PAGE_SIZE) == 0;
}

/* A new page-cache page of f at index, with the file's bytes. */
static struct page *add_to_page_cache(struct as_phys *phys, struct as_file *f,
    unsigned long index)
{
	struct page *page;

	if (cache_reserve(f, index + 1) != 0 ||
	    (page = alloc_page(phys)) == NULL)
		return NULL;
	page->mapping = f;
	page->index = index;
	page->flags |= PG_uptodate;
	if (f->shmem_zero)
		page->flags |= PG_swapbacked;
	folio_add_lru(phys, page);
	if (!f->shmem_zero)
		file_read_block(f, index, page->data);
	f->cache[index] = page;
	return page;
}

/* filemap_write(): truncate f to size and write every page of it. */
int filemap_write(struct as_phys *phys, struct as_file *f, unsigned long size)
{
	unsigned long i, n;
	int err = 0;

	pthread_mutex_lock(&f->lock);
	truncate_inode_pages(phys, f);
	file_holes_free(f);
	f->size = size;
	n = file_nr_pages(f);
	for (i = 0; i < n && err == 0; i++)
		if (add_to_page_cache(phys, f, i) == NULL)
			err = -ENOSPC;
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* truncate_inode_pages(): drop the cache's references to every page (and
 * a shmem object's swap entries with their slots); the caller holds
 * f->lock (or is its last user). */
void truncate_inode_pages(struct as_phys *phys, struct as_file *f)
{
	shmem_undo_range(phys, f, 0, ~0UL);
}

/*
 * filemap_fault() / shmem_fault(): the cache page at index, with a
 * reference (reclaim may not free it before the caller maps it), or NULL
 * with *sigbus set when index lies wholly past the end of the file (or
 * NULL alone when memory ran out).  A shmem swap entry there is read back
 * (shmem_swapin_folio(), a major fault: *major set if major is given).
 */
struct page *__filemap_fault(struct as_phys *phys, struct as_file *f,
    unsigned long index, bool *sigbus, bool *major)
{
	struct page *page = NULL;

	pthread_mutex_lock(&f->lock);
	*sigbus = index >= file_nr_pages(f);
	if (!*sigbus && index < f->cache_len)
		page = f->cache[index];
	if (page != NULL && xa_is_value(page)) {
		page = shmem_swapin_folio(phys, f, index);
		if (major != NULL)
			*major = true;
	} else if (!*sigbus && page == NULL) {
		/* Only shmem objects lack pages inside their size. */
		page = add_to_page_cache(phys, f, index);
	}
	if (page != NULL)
		get_page(page);
	pthread_mutex_unlock(&f->lock);
	return page;
}

struct page *filemap_fault(struct as_phys *phys, struct as_file *f,
    unsigned long index, bool *sigbus)
{
	return __filemap_fault(phys, f, index, sigbus, NULL);
}

/* filemap_get_folio(): the cached page at index with a reference, or
 * NULL (never allocates). */
struct page *filemap_get_page(struct as_file *f, unsigned long index)
{
	struct page *page = NULL;

	pthread_mutex_lock(&f->lock);
	if (index < file_nr_pages(f))
		page = cache_page(f, index);	/* a swap entry is none */
	if (page != NULL)
		get_page(page);
	pthread_mutex_unlock(&f->lock);
	return page;
}

/* The cached page at index if any, for fault-around (never allocates;
 * a swap entry is none, as next_uptodate_folio() skips it). */
struct page *filemap_lookup(struct as_file *f, unsigned long index)
{
	struct page *page = NULL;

	pthread_mutex_lock(&f->lock);
	if (index < file_nr_pages(f))
		page = cache_page(f, index);
	pthread_mutex_unlock(&f->lock);
	return page;
}

/* i_size in pages, read under the file's lock. */
unsigned long file_size_pages(struct as_file *f)
{
	unsigned long n;

	pthread_mutex_lock(&f->lock);
	n = file_nr_pages(f);
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* zap every page mapped from f in mm, private copies included. */
static void unmap_file_in_mm(struct mm *mm, struct as_file *f)
{
	struct vma *vma;

	mmap_read_lock(mm);
	for (vma = mm->mm_mt.first; vma != NULL; vma = vma->vm_next)
		if (vma->vm_file != NULL && file_inode(vma->vm_file) == f)
			zap_page_range(vma, vma->vm_start, vma->vm_end);
	mmap_read_unlock(mm);
}

/* The next mm after prev (in task order) that has not been seen: taken
 * with a user reference, under session->lock. */
static struct mm *next_mm(struct as_session *s, struct mm **seen, int nseen)
{
	struct task *t;
	struct mm *mm = NULL;
	int i;

	pthread_mutex_lock(&s->lock);
	for (t = s->tasks; t != NULL && mm == NULL; t = t->next) {
		for (i = 0; i < nseen && seen[i] != t->mm; i++)
			;
		if (i == nseen) {
			mm = t->mm;
			__atomic_add_fetch(&mm->mm_users, 1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return mm;
}

/* unmap_mapping_range(..., even_cows = 1) over every mm of the session. */
void unmap_mapping_range(struct as_session *s, struct as_file *f)
{
	struct mm *seen[256], *mm;
	int n = 0;

	while (n < 256 && (mm = next_mm(s, seen, n)) != NULL) {
		unmap_file_in_mm(mm, f);
		seen[n++] = mm;
	}
	while (n > 0)
		mmput(seen[--n]);
}

#define RA_PAGES	32	/* VM_READAHEAD_PAGES: read_ahead_kb 128 */

/*
 * The file pages do_sync_mmap_readahead() reads for a miss at pgoff, as
 * [*first, *last): none but pgoff with VM_RAND_READ, unless VM_EXEC too
 * (the kernel takes executable memory's own readahead as meant for
 * random access already); RA_PAGES from pgoff on with VM_SEQ_READ
 * (page_cache_sync_ra()); from pgoff to at most the end of the VMA with
 * VM_EXEC (executable memory gets no read-around); else the RA_PAGES
 * around pgoff (mmap read-around).  Not modelled: the
 * PG_readahead mark and the async readahead it starts, and mmap_miss
 * turning readahead off after 100 misses.
 */
static void mmap_ra_range(struct vma *vma, unsigned long pg,
    unsigned long nr_file, unsigned long *first, unsigned long *last)
{
	unsigned long vma_end = vma->vm_pgoff + vma_pages(vma);

	*first = pg;
	if ((vma->vm_flags & (VM_RAND_READ | VM_EXEC)) == VM_RAND_READ)
		*last = pg + 1;
	else if (vma->vm_flags & VM_SEQ_READ)
		*last = pg + RA_PAGES;
	else if (vma->vm_flags & VM_EXEC)
		*last = pg + RA_PAGES < vma_end ? pg + RA_PAGES : vma_end;
	else {
		*first = pg > RA_PAGES / 2 ? pg - RA_PAGES / 2 : 0;
		*last = *first + RA_PAGES;
	}
	if (*last > nr_file)
		*last = nr_file;
}

/* Does page pg of f, missing from the cache, need the disk to be read
 * (not so for a hole: ext4_mpage_readpages() zeroes it at once)? */
static bool ra_reads_disk(struct as_file *f, unsigned long pg)
{
	bool disk;

	pthread_mutex_lock(&f->lock);
	disk = !file_in_hole(f, pg);
	pthread_mutex_unlock(&f->lock);
	return disk;
}

/*
 * models do_sync_mmap_readahead(): a regular file's page that is not in
 * the page cache (reclaim or a punched hole dropped it) is read with the
 * pages readahead reads around it (mmap_ra_range(), every page of the
 * small files traces use), those already cached left as they are; the
 * fault is then retried, so fault-around maps what is cached in its
 * block.  The pages past the end of the file are not read.  A fault
 * waits for its own page's read (filemap_fault() locks the folio), and
 * the reads of one read-around complete together; but a page in a hole
 * is zeroed at once, so a fault there retries while the reads of the
 * other pages are still in flight: *inflight notes them (else it is
 * left empty).  True if the page was missing.
 */
bool do_sync_mmap_readahead(struct vma *vma, unsigned long pgoff,
    struct ra_inflight *inflight)
{
	struct as_phys *phys = &vma->vm_mm->session->phys;
	struct as_file *f = file_inode(vma->vm_file);
	unsigned long nr_file = file_size_pages(f), pg, last;
	struct page *page;
	uint64_t disk = 0;
	bool sigbus;

	if (f->shmem_zero || pgoff >= nr_file ||
	    filemap_lookup(f, pgoff) != NULL)
		return false;
	mmap_ra_range(vma, pgoff, nr_file, &pg, &last);
	inflight->first = pg;
	for (; pg < last; pg++) {
		if (filemap_lookup(f, pg) == NULL && ra_reads_disk(f, pg) &&
		    pg - inflight->first < 64)
			disk |= (uint64_t)1 << (pg - inflight->first);
		if ((page = filemap_fault(phys, f, pg, &sigbus)) == NULL)
			break;
		put_page(phys, page);
	}
	inflight->mask = ra_reads_disk(f, pgoff) ? 0 : disk;
	return true;
}

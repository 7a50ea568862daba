/*
 * page-writeback.c: writing a file's dirty page-cache pages back
 * (mm/page-writeback.c, mm/filemap.c's filemap_write_and_wait_range(),
 * fs/sync.c's vfs_fsync_range()).
 *
 * Writeback changes the state of the page and of every PTE that maps it,
 * and the simulated disk (file_write_block() in filemap.c keeps the bytes
 * that differ from what `file` wrote).  A dirty page
 * becomes clean (PG_dirty cleared), and folio_mkclean() (rmap.c), through
 * the file's i_mmap, write-protects and cleans each shared mapping's PTE
 * of it in every mm, so smaps counts it Clean everywhere and the next
 * write through any of them faults again (do_wp_page() dirties it anew).
 */
#include "mm.h"
#include "shmem.h"

/*
 * folio_clear_dirty_for_io(): move the PTEs' dirty bits into the page
 * (folio_mkclean(), then folio_mark_dirty() if any PTE was changed) and
 * clear PG_dirty; whether the page was dirty and is to be written.
 * Linux holds the folio lock across this, so that a write fault waits;
 * the simulator has no folio lock, and a write racing a writeback in
 * another thread may leave the page clean under a dirty PTE.
 */
bool folio_clear_dirty_for_io(struct page *page)
{
	bool dirty;

	if (folio_mkclean(page) > 0)
		page_set_flags(page, PG_dirty);	/* folio_mark_dirty() */
	dirty = page_test(page, PG_dirty);
	page_clear_flags(page, PG_dirty);
	if (dirty)	/* written: folio_end_writeback() clears PG_reclaim */
		page_clear_flags(page, PG_reclaim);
	return dirty;
}

/*
 * filemap_write_and_wait_range(): write back every dirty page of f whose
 * bytes meet [lstart, lend] (inclusive, as Linux's), as
 * write_cache_pages() does for WB_SYNC_ALL: each page is taken with a
 * reference under the cache's lock, then cleaned without it.
 */
int filemap_write_and_wait_range(struct as_phys *phys, struct as_file *f,
    unsigned long lstart, unsigned long lend)
{
	unsigned long idx = lstart >> AS_PAGE_SHIFT, last = lend >> AS_PAGE_SHIFT;
	struct page *page;

	for (; idx <= last; idx++) {
		pthread_mutex_lock(&f->lock);
		if (idx >= f->cache_len) {
			pthread_mutex_unlock(&f->lock);
			break;
		}
		page = cache_page(f, idx);	/* a swap entry is clean */
		if (page != NULL && page_test(page, PG_dirty))
			get_page(page);
		else
			page = NULL;
		pthread_mutex_unlock(&f->lock);
		if (page == NULL)
			continue;
		if (folio_clear_dirty_for_io(page) && !f->shmem_zero) {
			/* ->writepages() */
			pthread_mutex_lock(&f->lock);
			(void)file_write_block(f, page);
			pthread_mutex_unlock(&f->lock);
		}
		put_page(phys, page);
	}
	return 0;
}

/* pageout() of a dirty page of a regular file: clean, and written to the
 * disk (->writepage), so that reclaim may drop it from the cache. */
void file_pageout(struct page *page)
{
	struct as_file *f = page->mapping;

	page_clear_flags(page, PG_dirty);
	if (f == NULL || f->shmem_zero)
		return;
	pthread_mutex_lock(&f->lock);
	(void)file_write_block(f, page);
	pthread_mutex_unlock(&f->lock);
}

/*
 * vfs_fsync_range(file, start, end, datasync): the file system's fsync
 * of bytes [start, end]: a regular file writes its dirty pages back
 * (ext4_sync_file() -> file_write_and_wait_range()); shmem's fsync is
 * noop_fsync(): its pages stay dirty, as they have nowhere to go.
 */
int vfs_fsync_range(struct as_session *s, struct file *file,
    unsigned long start, unsigned long end)
{
	struct as_file *f = file_inode(file);

	if (f->shmem_zero)
		return 0;	/* noop_fsync() */
	return filemap_write_and_wait_range(&s->phys, f, start, end);
}

/*
 * models ext4_release_file(), when the last reference to a struct file of
 * f goes: if f was truncated to size 0 since the last such release (ext4's
 * auto_da_alloc: `file` truncates before it writes), its delayed
 * allocations are forced out, ext4_alloc_da_blocks() calling
 * filemap_flush() if any block is reserved (a page dirtied through a
 * shared mapping in a punched hole); that writes back every dirty page of
 * f.  Linux runs this __fput() as task work on the way back to user
 * space, with no lock held: the flush is left to flush_delayed_fput().
 */
void ext4_release_file(struct as_file *f)
{
	if (f->shmem_zero)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->da_alloc_close && file_dirty_in_hole(f))
		f->da_flush = true;
	f->da_alloc_close = false;
	pthread_mutex_unlock(&f->lock);
}

/* The next file of s with a flush to do, with a reference, or NULL. */
static struct as_file *next_da_flush(struct as_session *s)
{
	struct as_file *f;
	bool flush = false;

	pthread_mutex_lock(&s->lock);
	for (f = s->files; f != NULL; f = f->next) {
		pthread_mutex_lock(&f->lock);
		flush = f->da_flush;
		f->da_flush = false;
		pthread_mutex_unlock(&f->lock);
		if (flush)
			break;
	}
	if (f != NULL)
		ihold(f);
	pthread_mutex_unlock(&s->lock);
	return f;
}

/* models task_work_run()'s delayed __fput() at the return to user space:
 * the writeback (filemap_flush()) each ext4_release_file() asked for. */
void flush_delayed_fput(struct as_session *s)
{
	struct as_file *f;

	while ((f = next_da_flush(s)) != NULL) {
		(void)filemap_write_and_wait_range(&s->phys, f, 0, ~0UL);
		iput(s, f);
	}
}

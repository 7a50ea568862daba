/*
 * mm.h: the simulated kernel's internal interface (mm/internal.h, mm/vma.h).
 *
 * Functions named after Linux behave like their namesakes and return 0 or a
 * negative errno; those that return an address return it as unsigned long,
 * with errors as -errno cast (test with IS_ERR_VALUE()).
 */
#ifndef ASPACE_MM_H
#define ASPACE_MM_H

#include <errno.h>

#include "mm_types.h"
#include "vma_iter.h"

struct as_explain;

/* handle_mm_fault() flags and results (include/linux/mm_types.h). */
#define FAULT_FLAG_WRITE	0x01
#define FAULT_FLAG_INSTRUCTION	0x02
#define VM_FAULT_OOM		0x01
#define VM_FAULT_SIGBUS		0x02
#define VM_FAULT_SIGSEGV	0x04

#define IS_ERR_VALUE(x)	((unsigned long)(x) >= (unsigned long)-4095)
#define vma_pages(v)	(((v)->vm_end - (v)->vm_start) >> AS_PAGE_SHIFT)

/* --- mm.c: lifetime, locks, accounting, validation ----------------------- */
struct mm *mm_alloc(struct as_session *s);
void mmput(struct mm *mm);
void mmap_write_lock(struct mm *mm);
void mmap_write_unlock(struct mm *mm);
void mmap_read_lock(struct mm *mm);
void mmap_read_unlock(struct mm *mm);
void mmap_assert_write_locked(struct mm *mm);
void vm_stat_account(struct mm *mm, unsigned long flags, long npages);
bool may_expand_vm(struct mm *mm, unsigned long flags, unsigned long npages);
int security_vm_enough_memory_mm(struct mm *mm, unsigned long pages);
bool can_do_mlock(struct mm *mm);
bool mlock_future_ok(struct mm *mm, unsigned long flags, unsigned long bytes);
const char *mm_validate(struct mm *mm);
const char *mm_validate_vmas(struct mm *mm);
const char *session_validate_ptes(struct as_session *s);
struct mm *mm_alloc_nopgd(struct as_session *s);
void mm_free_nopgd(struct mm *mm);
void vm_area_free(struct vma *vma);
struct vma *vm_area_alloc(struct mm *mm);
struct vma *vm_area_dup(struct vma *orig);
struct vma *vm_area_copy(struct vma *orig, struct mm *mm);
void vma_link(struct mm *mm, struct vma *vma);
void vma_iter_link(struct mm *mm, struct vma_iterator *vmi, struct vma *vma);
void vma_unlink_free(struct mm *mm, struct vma *vma);
void vma_iter_unlink_free(struct mm *mm, struct vma_iterator *vmi,
    struct vma *vma);
void vma_set_page_prot(struct vma *vma);
bool vma_is_anonymous(const struct vma *vma);
void ihold(struct as_file *f);
void iput(struct as_session *s, struct as_file *f);
struct file *alloc_file(struct as_session *s, struct as_file *inode);
void get_file(struct file *f);
void fput(struct as_session *s, struct file *f);
struct anon_vma *anon_vma_alloc(struct as_session *s);
void anon_vma_get(struct anon_vma *av);
void anon_vma_put(struct anon_vma *av);
int anon_vma_prepare(struct vma *vma);
int __anon_vma_prepare(struct vma *vma);
void unlink_anon_vmas(struct vma *vma);
bool anon_vma_rb_holds(const struct vma *vma);
/* A VMA an rmap walk visits, with its mm as read under the list's lock
 * (the VMA may be used only while that mm's mmap_lock is held). */
struct rmap_vma {
	struct vma	*vma;
	struct mm	*mm;
};
/* The VMAs of av's rb_root, or of f's i_mmap, copied into a new array
 * of *n under the list's lock; NULL with *n 0 if none or no memory. */
struct rmap_vma *anon_vma_rb_snapshot(struct as_session *s,
    struct anon_vma *av, int *n);
struct rmap_vma *i_mmap_snapshot(struct as_file *f, int *n);
int anon_vma_clone(struct vma *dst, struct vma *src);
int anon_vma_fork(struct vma *vma, struct vma *pvma);
bool vma_is_fork_child(const struct vma *vma);
void i_mmap_lock_write(struct as_file *f);
void i_mmap_unlock_write(struct as_file *f);
void vma_interval_tree_insert(struct vma *vma, struct as_file *f);
void vma_interval_tree_remove(struct vma *vma, struct as_file *f);
void vma_link_file(struct vma *vma);
void unlink_file_vma(struct vma *vma);
void vma_i_mmap_lock(struct vma *vma);
void vma_i_mmap_unlock(struct vma *vma);
int folio_mkclean(struct page *page);

static inline struct vma *find_vma(struct mm *mm, unsigned long addr)
{
	return vma_mt_find(&mm->mm_mt, addr);
}

/* --- filemap.c: the page cache ------------------------------------------- */
unsigned long file_nr_pages(const struct as_file *f);
struct as_file *as_file_alloc(const char *name, unsigned long size,
    bool shmem, struct as_memcg *memcg);
int filemap_write(struct as_phys *phys, struct as_file *f, unsigned long size);
void truncate_inode_pages(struct as_phys *phys, struct as_file *f);
struct page *filemap_fault(struct as_phys *phys, struct as_file *f,
    unsigned long index, bool *sigbus);
struct page *__filemap_fault(struct as_phys *phys, struct as_file *f,
    unsigned long index, bool *sigbus, bool *major);
struct page *filemap_lookup(struct as_file *f, unsigned long index);
struct page *filemap_get_page(struct as_file *f, unsigned long index);
bool filemap_page_on_disk(struct as_file *f, const struct page *page);
int file_punch_hole(struct as_file *f, unsigned long first, unsigned long last);
bool file_dirty_in_hole(const struct as_file *f);
bool file_in_hole(const struct as_file *f, unsigned long index);
int file_fill_hole(struct as_file *f, unsigned long index);
int file_write_block(struct as_file *f, struct page *page);
void file_pageout(struct page *page);
void file_holes_free(struct as_file *f);
unsigned long file_size_pages(struct as_file *f);
/*
 * The pages a read-around read from disk whose reads are still in flight
 * when the fault is retried (bit i: page first + i): set only when the
 * faulting page lay in a hole, which reads as zeros at once, so that the
 * fault did not wait for the disk.  Fault-around skips them, as
 * next_uptodate_folio() skips a locked folio.
 */
struct ra_inflight {
	unsigned long	first;
	uint64_t	mask;
};

static inline bool ra_inflight_test(const struct ra_inflight *r,
    unsigned long pg)
{
	return pg >= r->first && pg - r->first < 64 &&
	    (r->mask >> (pg - r->first) & 1);
}

bool do_sync_mmap_readahead(struct vma *vma, unsigned long pgoff,
    struct ra_inflight *inflight);

/* --- page-writeback.c, msync.c: writeback and msync(2) --------------------- */
bool folio_clear_dirty_for_io(struct page *page);
int filemap_write_and_wait_range(struct as_phys *phys, struct as_file *f,
    unsigned long lstart, unsigned long lend);
int vfs_fsync_range(struct as_session *s, struct file *file,
    unsigned long start, unsigned long end);
void ext4_release_file(struct as_file *f);
void flush_delayed_fput(struct as_session *s);

/* --- vma.c: split, merge, modify ------------------------------------------ */
struct vma *find_vma_prev(struct mm *mm, unsigned long addr, struct vma **pprev);
struct vma *find_vma_intersection(struct mm *mm, unsigned long start,
    unsigned long end);
struct vma *vma_lookup(struct mm *mm, unsigned long addr);
int split_vma(struct vma *vma, unsigned long addr, int new_below);
int __split_vma(struct vma *vma, unsigned long addr, int new_below);
struct vma *vma_merge_new_range(struct mm *mm, struct vma *prev,
    struct vma *next, unsigned long start, unsigned long end,
    unsigned long flags, struct file *file, unsigned long pgoff,
    struct anon_vma *anon_vma, struct vma *copied_from);
struct vma *vma_modify_flags(struct vma *prev, struct vma *vma,
    unsigned long start, unsigned long end, unsigned long new_flags);
struct vma *vma_merge_extend(struct vma *vma, unsigned long delta);
struct vma *copy_vma(struct vma **vmap, unsigned long addr,
    unsigned long len, unsigned long pgoff);
#define ERR_PTR(e)	((struct vma *)(long)(e))
#define PTR_ERR(p)	((long)(p))
#define IS_ERR(p)	IS_ERR_VALUE((unsigned long)(p))

/* --- mmap.c --------------------------------------------------------------- */
unsigned long get_unmapped_area(struct mm *mm, struct file *file,
    unsigned long addr, unsigned long len, unsigned long pgoff,
    unsigned long flags);
unsigned long do_mmap(struct mm *mm, struct file *file, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    unsigned long pgoff, unsigned long *populate);
int do_munmap(struct mm *mm, unsigned long start, unsigned long len);
int do_vmi_align_munmap(struct vma_iterator *vmi, struct mm *mm,
    struct vma *vma, unsigned long start, unsigned long end);
long populate_vma_page_range(struct vma *vma, unsigned long start,
    unsigned long end);
int __mm_populate(struct mm *mm, unsigned long start, unsigned long len,
    int ignore_errors);
unsigned long mmap_base_for(struct as_session *s, uint64_t rnd);

/* --- system calls: the entry points the trace runner and daemon use -------- */
unsigned long vm_mmap(struct mm *mm, struct file *file, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long flags,
    unsigned long off);
unsigned long sys_mmap(struct mm *mm, unsigned long addr, unsigned long len,
    unsigned long prot, unsigned long flags, struct as_file *inode, int fd_ok,
    unsigned long off);
int sys_munmap(struct mm *mm, unsigned long addr, unsigned long len);
int sys_mprotect(struct mm *mm, unsigned long start, unsigned long len,
    unsigned long prot);
unsigned long sys_mremap(struct mm *mm, unsigned long addr,
    unsigned long old_len, unsigned long new_len, unsigned long flags,
    unsigned long new_addr);
unsigned long sys_brk(struct mm *mm, unsigned long brk);
int sys_madvise(struct mm *mm, unsigned long start, unsigned long len,
    int behavior);
int sys_mlock(struct mm *mm, unsigned long start, unsigned long len);
int sys_munlock(struct mm *mm, unsigned long start, unsigned long len);
int sys_msync(struct mm *mm, unsigned long start, unsigned long len,
    int flags);

/* --- memory.c: faults and page-table maintenance --------------------------- */
int handle_mm_fault(struct vma *vma, unsigned long address,
    unsigned int flags, struct task *task, struct as_explain *ex);
void zap_page_range(struct vma *vma, unsigned long start, unsigned long end);
int copy_page_range(struct vma *dst, struct vma *src);
/* vm_normal_page(): the page a present PTE maps, NULL for none or the
 * zero page. */
struct page *vm_normal_page(struct vma *vma, uint64_t pte);
void change_protection(struct vma *vma, unsigned long start,
    unsigned long end);
unsigned long move_page_tables(struct vma *vma, unsigned long old_addr,
    struct vma *new_vma, unsigned long new_addr, unsigned long len);
void unmap_mapping_range(struct as_session *s, struct as_file *f);
/*
 * vm_event_states: every event of every session the calling thread ran
 * (mm/vmstat.c's per-CPU vm_event_states, a host thread standing for a
 * CPU); only its own thread writes it.  as_thread_events() reads it.
 */
extern __thread struct as_counters vm_event_states;

/*
 * COUNT(): one more of an event.  A task's own events go to its counters
 * only (the session's figure is their sum, see as_session_counters());
 * events of no task (populate) to the session's, atomically.  Either way
 * the thread's vm_event_states counts it too.
 */
#define COUNT(t, s, field) do { \
	struct task *t_ = (t); \
	vm_event_states.field++; \
	if (t_ != NULL) \
		t_->counters.field++; \
	else \
		__atomic_add_fetch(&(s)->counters.field, 1, __ATOMIC_RELAXED); \
} while (0)

/* --- maps.c: /proc/PID/maps ------------------------------------------------ */
struct as_buf;
void show_map_vma(struct as_buf *b, const char *indent, struct vma *vma);
const char *vm_flag_mnemonic(unsigned int i);
void show_smap_vma_flags(struct as_buf *b, const char *indent,
    const struct vma *vma);
void show_smap(struct as_buf *b, const char *indent, struct vma *vma);
/*
 * mm_rss_count(): the mm counters Linux keeps in mm->rss_stat, in pages,
 * counted from the page tables: MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS
 * (swap entries in PTEs; a shmem page swapped out is the page cache's
 * entry, not a PTE's, and is not one) and MM_SHMEMPAGES.  The caller
 * holds the mmap_lock; walk_page_range() takes page_table_lock.
 */
struct mm_rss_stat {
	unsigned long	 file, anon, swapents, shmem;
};
void mm_rss_count(struct mm *mm, struct mm_rss_stat *r);

#endif /* ASPACE_MM_H */

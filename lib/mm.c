/*
 * mm.c: the life of a struct mm and of its VMAs, its locks, and the memory
 * accounting every operation consults (kernel/fork.c, mm/mmap.c,
 * mm/util.c).
 *
 * Lock order (the only order in which these may nest):
 *
 *   mm->mmap_lock                 (rwlock; fork alone holds two: parent's
 *     mm->page_table_lock          then child's, the child being new)
 *       phys->pt_share_lock        (the sharers of PTE tables fork shared;
 *                                   only phys->lock and a swap device's
 *                                   lock are taken inside it)
 *       session->anon_vma_lock    (anon_vma chains and counters)
 *         file->lock               (a file's page cache and size)
 *           session->lock           (files list, tasks, id counters)
 *             phys->lock            (the frame allocator)
 *             lruvec.lru_lock       (the LRU lists; never nested with
 *                                    phys->lock nor a swap device's lock)
 *
 * Reclaim (vmscan.c) nests one mm's lock in another's only by trying: a
 * fault that finds RAM full drops its page_table_lock and calls
 * try_to_free_pages() with its mmap_lock alone held; that tries (never
 * waits for) the mmap_lock, for reading, of every other mm of the
 * session, a busy one leaving that mm's mappings unseen (their pages
 * stay, as try_to_unmap() may fail); then, page by page, it copies the
 * page's mappings from its anon_vma's rb_root (under anon_vma_lock) or
 * its file's i_mmap (under i_mmap_rwsem), lets that lock go, and takes
 * the page_table_lock of each mapping's mm in turn, holding no other
 * lock (no one waits for an mmap_lock, or for a second page_table_lock
 * but fork's of a new child, while holding a page_table_lock), and
 * lru_lock only to move pages on and off the lists.  The fault is then
 * retried.
 *
 * Tables fork shared (pt_share.c) cross mms without a lock of their own:
 * a shared table never changes while another mm holds it, each mm reads
 * it under its own page_table_lock, and the count of its sharers, with
 * the choice to copy it or take it over, is decided under pt_share_lock
 * (taken inside the page_table_lock of the mm unsharing, never two
 * page_table_locks but fork's).  Readers that need every mm's mapcounts
 * exact unshare the session's tables first, one page_table_lock at a
 * time, holding no other (session_unshare_tables()).
 *
 * What each lock guards:
 *   mmap_lock         the VMA index and every field of every VMA; map_count,
 *                     total_vm, locked_vm, data_vm, exec_vm, stack_vm,
 *                     start_brk, brk, mmap_base, vmacache_seqnum.
 *   page_table_lock   page-table pages and PTEs.
 *   session->lock     the session's file list and task list (and each
 *                     task's pid and vfork_parent).
 *   file->lock        a file's page cache and size.
 *   anon_vma_lock     every anon_vma chain and anon_vma counter.
 *   (atomics)         the refcounts of files and anon_vmas, which several
 *                     mms may share.
 *   vma->anon_vma     set once, under page_table_lock, by anon_vma_prepare()
 *                     (faults hold mmap_lock only for reading); otherwise
 *                     changed only under mmap_lock held for writing.
 *
 * The VMA index, mm->mm_mt (a maple tree, vma_iter.h), is read by many
 * threads at once under mmap_lock held for reading (faults, find_vma) and
 * written only under it held for writing, nodes changed in place: the
 * rw-lock alone keeps readers from seeing a half-written node.  There is
 * no RCU here; Linux instead copies each node it changes and publishes
 * the copy so that lockless (RCU) walkers and per-VMA-lock faults never
 * wait for mmap_lock.  mm->mm_mt.ma_free (spare nodes) is the writer's.
 */
#include <stdlib.h>
#include <string.h>
#include <assert.h>

#include "mm.h"
#include "pgtable.h"
#include "pt_share.h"
#include "swap.h"
#include "session.h"
#include "shm.h"
#include "shmem.h"
#include "vmscan.h"

/* models mm_alloc() without a page table: the checkpoint loader gives
 * it one. */
struct mm *mm_alloc_nopgd(struct as_session *s)
{
	struct mm *mm;

	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*mm))) != 0)
		return NULL;
	if ((mm = calloc(1, sizeof(*mm))) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*mm)));
		return NULL;
	}
	vma_mt_init(&mm->mm_mt);
	pthread_rwlock_init(&mm->mmap_lock, NULL);
	pthread_mutex_init(&mm->page_table_lock, NULL);
	mm->mm_users = 1;
	mm->mm_count = 1;
	mm->task_size = AS_TASK_SIZE;
	mm->session = s;
	return mm;
}

/* mm_alloc(): an empty address space of session s. */
struct mm *mm_alloc(struct as_session *s)
{
	struct mm *mm = mm_alloc_nopgd(s);

	if (mm != NULL && pgd_alloc(mm) != 0) {
		mm_free_nopgd(mm);
		return NULL;
	}
	return mm;
}

/* Free an mm holding no VMA and no page table (mm_alloc_nopgd()'s). */
void mm_free_nopgd(struct mm *mm)
{
	vma_mt_destroy(&mm->mm_mt);
	pthread_rwlock_destroy(&mm->mmap_lock);
	pthread_mutex_destroy(&mm->page_table_lock);
	memcg_uncharge(&mm->session->mem, kmem_size(sizeof(*mm)));
	free(mm);
}

/* exit_mmap(): tear down every VMA. */
static void exit_mmap(struct mm *mm)
{
	struct vma *vma;

	mm_drop_shared_tables(mm);	/* what fork shared: nothing to zap */
	for (vma = mm->mm_mt.first; vma != NULL; vma = vma->vm_next)
		zap_page_range(vma, vma->vm_start, vma->vm_end);
	while ((vma = mm->mm_mt.first) != NULL)
		vma_unlink_free(mm, vma);
	pgd_free(mm);
}

/* mmput(): drop a user; the last one frees the address space. */
void mmput(struct mm *mm)
{
	if (mm == NULL ||
	    __atomic_sub_fetch(&mm->mm_users, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	exit_mmap(mm);
	mm_free_nopgd(mm);
}

void mmap_write_lock(struct mm *mm)
{
	pthread_rwlock_wrlock(&mm->mmap_lock);
#ifdef ASPACE_DEBUG
	mm->mmap_lock_writer = 1;
#endif
}

void mmap_write_unlock(struct mm *mm)
{
#ifdef ASPACE_DEBUG
	mm->mmap_lock_writer = 0;
#endif
	pthread_rwlock_unlock(&mm->mmap_lock);
}

void mmap_read_lock(struct mm *mm)
{
	pthread_rwlock_rdlock(&mm->mmap_lock);
}

void mmap_read_unlock(struct mm *mm)
{
	pthread_rwlock_unlock(&mm->mmap_lock);
}

/* mmap_assert_write_locked(): debug builds check the caller's claim. */
void mmap_assert_write_locked(struct mm *mm)
{
#ifdef ASPACE_DEBUG
	assert(mm->mmap_lock_writer);
#else
	(void)mm;
#endif
}

static bool is_exec_mapping(unsigned long flags)
{
	return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}

static bool is_stack_mapping(unsigned long flags)
{
	return (flags & VM_STACK) == VM_STACK;
}

static bool is_data_mapping(unsigned long flags)
{
	return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE;
}

/* vm_stat_account(): total_vm and the exec/stack/data split. */
void vm_stat_account(struct mm *mm, unsigned long flags, long npages)
{
	mm->total_vm += npages;
	if (is_exec_mapping(flags))
		mm->exec_vm += npages;
	else if (is_stack_mapping(flags))
		mm->stack_vm += npages;
	else if (is_data_mapping(flags))
		mm->data_vm += npages;
}

/* may_expand_vm(): RLIMIT_AS and RLIMIT_DATA. */
bool may_expand_vm(struct mm *mm, unsigned long flags, unsigned long npages)
{
	const struct as_limits *l = &mm->session->limits;

	if (mm->total_vm + npages > l->rlimit_as >> AS_PAGE_SHIFT)
		return false;
	if (is_data_mapping(flags) &&
	    mm->data_vm + npages > l->rlimit_data >> AS_PAGE_SHIFT)
		return false;
	return true;
}

/* models __vm_enough_memory(): the overcommit policy (heuristic or always). */
int security_vm_enough_memory_mm(struct mm *mm, unsigned long pages)
{
	const struct as_limits *l = &mm->session->limits;
	unsigned long total = (l->ram_bytes + l->swap_bytes) >> AS_PAGE_SHIFT;

	if (l->overcommit_memory == 1)
		return 0;
	return pages > total ? -ENOMEM : 0;
}

/* can_do_mlock(): a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
bool can_do_mlock(struct mm *mm)
{
	const struct as_limits *l = &mm->session->limits;

	return l->rlimit_memlock != 0 || l->cap_ipc_lock;
}

/* mlock_future_ok(): may this mm lock bytes more? */
bool mlock_future_ok(struct mm *mm, unsigned long flags, unsigned long bytes)
{
	const struct as_limits *l = &mm->session->limits;
	unsigned long locked;

	if (!(flags & VM_LOCKED) || l->cap_ipc_lock)
		return true;
	locked = (bytes >> AS_PAGE_SHIFT) + mm->locked_vm;
	return locked <= l->rlimit_memlock >> AS_PAGE_SHIFT;
}

struct vma *vm_area_alloc(struct mm *mm)
{
	struct vma *vma;

	/* vm_area_alloc() is a kmem_cache_alloc(GFP_KERNEL_ACCOUNT). */
	if (memcg_try_charge(&mm->session->mem, kmem_size(sizeof(*vma))) != 0)
		return NULL;
	if ((vma = calloc(1, sizeof(*vma))) == NULL)
		memcg_uncharge(&mm->session->mem, kmem_size(sizeof(*vma)));
	else
		vma->vm_mm = mm;
	return vma;
}

/* vm_area_copy(): the fields of orig, with no anon_vma chain yet. */
struct vma *vm_area_copy(struct vma *orig, struct mm *mm)
{
	struct vma *vma = vm_area_alloc(mm);

	if (vma == NULL)
		return NULL;
	vma->vm_start = orig->vm_start;
	vma->vm_end = orig->vm_end;
	vma->vm_flags = orig->vm_flags;
	vma->vm_pgoff = orig->vm_pgoff;
	vma->vm_page_prot = orig->vm_page_prot;
	vma->vm_special_name = orig->vm_special_name;
	vma->vm_file = orig->vm_file;
	if (vma->vm_file != NULL)
		get_file(vma->vm_file);
	if (vma_is_shm(vma))
		shm_open(vma);	/* vm_ops->open() */
	return vma;
}

/* vm_area_dup() + anon_vma_clone(): a copy of orig sharing its anon_vmas. */
struct vma *vm_area_dup(struct vma *orig)
{
	struct vma *vma = vm_area_copy(orig, orig->vm_mm);

	if (vma == NULL)
		return NULL;
	vma->anon_vma = orig->anon_vma;
	if (anon_vma_clone(vma, orig) != 0) {
		vm_area_free(vma);
		return NULL;
	}
	return vma;
}

void vm_area_free(struct vma *vma)
{
	if (vma_is_shm(vma))
		shm_close(vma);	/* vm_ops->close() */
	if (vma->vm_file != NULL)
		fput(vma->vm_mm->session, vma->vm_file);
	unlink_anon_vmas(vma);
	memcg_uncharge(&vma->vm_mm->session->mem, kmem_size(sizeof(*vma)));
	free(vma);
}

/* vma_link(): insert into the index, and a file VMA into its file's
 * i_mmap. */
void vma_link(struct mm *mm, struct vma *vma)
{
	VMA_ITERATOR(vmi, mm, vma->vm_start);

	vma_iter_link(mm, &vmi, vma);
}

/* vma_link() through the caller's iterator (vma_iter_store_new(), as
 * __mmap_new_vma() stores): no walk when it is still on the leaf. */
void vma_iter_link(struct mm *mm, struct vma_iterator *vmi, struct vma *vma)
{
	vma_mt_insert_at(&vmi->mas, vma);
	vma_link_file(vma);
	mm->map_count++;
	mm->vmacache_seqnum++;
}

/* models remove_vma(): take out of the index and free. */
void vma_unlink_free(struct mm *mm, struct vma *vma)
{
	VMA_ITERATOR(vmi, mm, vma->vm_start);

	vma_iter_unlink_free(mm, &vmi, vma);
}

/* remove_vma() through the caller's iterator: no walk when it is still
 * on the VMA. */
void vma_iter_unlink_free(struct mm *mm, struct vma_iterator *vmi,
    struct vma *vma)
{
	vma_mt_erase_at(&vmi->mas, vma);
	unlink_file_vma(vma);
	mm->map_count--;
	mm->vmacache_seqnum++;
	vm_area_free(vma);
}

bool vma_is_anonymous(const struct vma *vma)
{
	return vma->vm_file == NULL;
}

/* x86 PTE bits (arch/x86/include/asm/pgtable_types.h). */

/* vma_set_page_prot(): protection_map[] for the VMA's flags. */
void vma_set_page_prot(struct vma *vma)
{
	unsigned long f = vma->vm_flags, prot;

	if (!(f & VM_ACCESS_FLAGS)) {
		vma->vm_page_prot = _PAGE_PROTNONE | _PAGE_ACCESSED | _PAGE_NX;
		return;
	}
	prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
	/* Private writable pages start read-only: writes copy on write.
	 * Shared file pages too (vma_wants_writenotify(): the file system
	 * hears of the first write); shmem pages need no notice. */
	if ((f & VM_WRITE) && (f & VM_SHARED) &&
	    (vma->vm_file == NULL || file_inode(vma->vm_file)->shmem_zero))
		prot |= _PAGE_RW;
	if (!(f & VM_EXEC))
		prot |= _PAGE_NX;
	vma->vm_page_prot = prot;
}

struct pte_check {
	struct mm	*mm;
	int		*tally;		/* mappings seen per frame; for a
					 * PTE table, the PMD entries naming it */
	unsigned long	 shared_pmds;	/* PMD entries marked shared */
	unsigned long	*swap_tally;	/* swap PTEs seen per slot */
	const char	*err;
};

/* Check one present leaf PTE at addr. */
static void check_pte(struct pte_check *c, unsigned long addr, pte_t pte)
{
	struct vma *vma = vma_lookup(c->mm, addr);
	struct page *page;

	if (vma == NULL) {
		c->err = "a PTE maps an address outside every VMA";
		return;
	}
	if (pte & _PAGE_SPECIAL)
		return;
	page = pfn_to_page(&c->mm->session->phys, pte_pfn(pte));
	if (page->data == NULL || page_refcount(page) < page_mapcount(page) ||
	    page_mapcount(page) < 1)
		c->err = "a mapped page has bad refcount or mapcount";
	else if (c->tally != NULL)
		c->tally[pte_pfn(pte)]++;
}

/* A swap PTE: in a VMA, naming a slot of the device. */
static void check_swap_pte(struct pte_check *c, unsigned long addr, pte_t pte)
{
	struct swap_info_struct *si = c->mm->session->phys.swap;
	unsigned long off = pte_swp_offset(pte);

	if (vma_lookup(c->mm, addr) == NULL)
		c->err = "a swap PTE outside every VMA";
	else if (si == NULL || off == 0 || off >= si->cap ||
	    pte != swp_entry_to_pte(off, (pte & _PAGE_SWP_EXCLUSIVE) != 0))
		c->err = "a swap PTE names no slot of the swap device";
	else if (c->swap_tally != NULL)
		c->swap_tally[off]++;
}

/* A PMD entry naming a PTE table: true if the table is to be walked
 * (the first time it is seen: a table fork shared is walked once). */
static bool check_pmd(struct pte_check *c, pte_t pmd)
{
	struct page *t = pfn_to_page(&c->mm->session->phys, pte_pfn(pmd));

	c->shared_pmds += pmd_shared(pmd);
	if (page_refcount(t) > 1 && !pmd_shared(pmd))
		c->err = "a PTE table of several mms is writable in one";
	else if ((pmd & ~PTE_PFN_MASK & ~(pte_t)_PAGE_PT_OLD) !=
	    (pmd_shared(pmd) ? _PAGE_TABLE & ~_PAGE_RW : _PAGE_TABLE))
		c->err = "a PMD entry has bad bits";
	return c->tally == NULL || c->tally[pte_pfn(pmd)]++ == 0;
}

static void check_table(struct pte_check *c, pte_t *table, int shift,
    unsigned long base)
{
	unsigned long i;

	for (i = 0; i < 512 && c->err == NULL; i++) {
		if (shift == AS_PAGE_SHIFT && is_swap_pte(table[i]))
			check_swap_pte(c, base + (i << shift), table[i]);
		if (!pte_present(table[i]))
			continue;
		if (shift == AS_PAGE_SHIFT)
			check_pte(c, base + (i << shift), table[i]);
		else if (shift != PMD_SHIFT || check_pmd(c, table[i]))
			check_table(c, (pte_t *)pfn_to_page(&c->mm->session->phys,
			    pte_pfn(table[i]))->data, shift - 9,
			    base + (i << shift));
	}
}

/* Every page's mapcount equals the PTEs (of all mms) mapping it, each
 * PTE table's refcount the PMD entries naming it, and the frames
 * reserved for shared tables (pt_share.c) one per share past the first. */
static const char *check_tally(struct as_session *s, const int *tally,
    unsigned long shared_pmds)
{
	struct as_phys *p = &s->phys;
	unsigned long pfn, shares = 0;

	for (pfn = 0; pfn < p->next_unused; pfn++) {
		struct page *page = pfn_to_page(p, pfn);

		if (page->data == NULL || (page->flags & PG_reserved))
			continue;
		if (!(page->flags & PG_pgtable)) {
			if (page_mapcount(page) != tally[pfn])
				return "a page's mapcount differs from its "
				    "PTEs";
		} else if (tally[pfn] > 0) {
			if (page_refcount(page) != tally[pfn])
				return "a PTE table's refcount differs from "
				    "its PMD entries";
			shares += (unsigned long)tally[pfn] - 1;
		}
	}
	pthread_mutex_lock(&p->lock);
	pfn = p->nr_reserved;
	pthread_mutex_unlock(&p->lock);
	if (shares != pfn || shared_pmds !=
	    __atomic_load_n(&p->nr_shared_pmds, __ATOMIC_ACQUIRE))
		return "the frames reserved for shared PTE tables, or the "
		    "shared PMD entries, do not add up";
	return NULL;
}

/* Every slot's swap count equals the swap PTEs (of all mms) and shmem
 * page-cache swap entries naming it, a slot in use has a count or a
 * swap-cache page, and inuse_pages adds up. */
static const char *check_swap_tally(struct as_session *s,
    const unsigned long *tally)
{
	struct swap_info_struct *si = s->phys.swap;
	unsigned long off, inuse = 0;
	const char *err = NULL;

	pthread_mutex_lock(&si->lock);
	for (off = 1; off < si->cap && err == NULL; off++) {
		uint32_t m = si->swap_map[off];
		struct page *page = si->cache[off];

		if ((m & SWAP_COUNT_MASK) != tally[off])
			err = "a swap slot's count differs from its swap PTEs "
			    "and entries";
		else if (((m & SWAP_HAS_CACHE) != 0) != (page != NULL) ||
		    (page != NULL && (!page_test(page, PG_swapcache) ||
		    page->private != off || page_mapcount(page) < 1)))
			err = "a swap slot and its swap-cache page disagree";
		else if (m != 0 && m != SWAP_HAS_CACHE && si->data[off] == NULL)
			err = "a swapped-out page's slot holds no bytes";
		inuse += m != 0;
	}
	if (err == NULL && inuse != si->inuse_pages)
		err = "the swap device's slots in use do not add up";
	pthread_mutex_unlock(&si->lock);
	return err;
}

/* Walk every PTE of mm into c. */
static void check_mm_ptes(struct pte_check *c, struct mm *mm)
{
	c->mm = mm;
	check_table(c, (pte_t *)pfn_to_page(&mm->session->phys,
	    mm->pgd)->data, PGDIR_SHIFT, 0);
}

/* The VMA part of mm_validate(): the tree, map_count, bounds, total_vm. */
const char *mm_validate_vmas(struct mm *mm)
{
	const char *err = vma_mt_validate(&mm->mm_mt);
	struct vma *v;
	unsigned long total = 0;

	if (err != NULL)
		return err;
	if ((unsigned long)mm->map_count != mm->mm_mt.count)
		return "map_count differs from the number of VMAs";
	for (v = mm->mm_mt.first; v != NULL; v = v->vm_next) {
		if (as_offset_in_page(v->vm_start | v->vm_end))
			return "VMA bounds not page aligned";
		if (v->vm_end > mm->task_size)
			return "VMA beyond task_size";
		if (v->vm_mm != mm)
			return "VMA of another mm";
		if (!anon_vma_rb_holds(v))
			return "VMA missing from the rb_root of an anon_vma";
		total += vma_pages(v);
	}
	if (total != mm->total_vm)
		return "total_vm differs from the sum of VMA sizes";
	/* locked_vm is not checked: mremap(MREMAP_DONTUNMAP) unlocks the old
	 * VMA without uncharging it, in Linux as here. */
	return NULL;
}

static int cmp_mm(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct mm *const *)a;
	uintptr_t y = (uintptr_t)*(struct mm *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * The mms of s's tasks, each once, in a new array of *n (sorted, so that
 * a session of many threads costs n log n); -ENOMEM.  Under s->lock.
 */
static int session_mms(struct as_session *s, struct mm ***out, size_t *n)
{
	struct task *t;
	struct mm **v;
	size_t k = 0, i, u = 0;

	for (t = s->tasks; t != NULL; t = t->next)
		k++;
	if ((v = calloc(k > 0 ? k : 1, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (t = s->tasks, i = 0; t != NULL; t = t->next)
		v[i++] = t->mm;
	qsort(v, k, sizeof(*v), cmp_mm);
	for (i = 0; i < k; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	*n = u;
	return 0;
}

/* Is v linked into f's i_mmap where its own links say? */
static bool i_mmap_linked(const struct vma *v, const struct as_file *f)
{
	if (v->shared_prev != NULL ? v->shared_prev->shared_next != v :
	    f->i_mmap != v)
		return false;
	return v->shared_next == NULL || v->shared_next->shared_prev == v;
}

/*
 * Each file's i_mmap holds exactly the VMAs that map it, over the n mms
 * (sorted) of the session: every file VMA is linked into its file's list,
 * and each list holds i_mmap_count VMAs, all of this file and of these
 * mms, as many as map the file.  The lists are read without their locks:
 * the caller holds the session quiescent, as for the page tables.
 */
static const char *check_i_mmap(struct mm **mms, size_t n)
{
	const unsigned long walked = ~0UL;
	const char *err = NULL;
	struct vma *v, *e;
	struct as_file *f;
	unsigned long count;
	size_t i;

	for (i = 0; i < n && err == NULL; i++)
		for (v = mms[i]->mm_mt.first; v != NULL; v = v->vm_next) {
			if (v->vm_file == NULL) {
				if (v->shared_prev != NULL || v->shared_next)
					err = "an anonymous VMA is on an i_mmap";
				continue;
			}
			f = file_inode(v->vm_file);
			if (!i_mmap_linked(v, f))
				err = "a file VMA is not on its file's i_mmap";
			f->i_mmap_seen++;
		}
	for (i = 0; i < n && err == NULL; i++)
		for (v = mms[i]->mm_mt.first; v != NULL && err == NULL;
		    v = v->vm_next) {
			if (v->vm_file == NULL ||
			    (f = file_inode(v->vm_file))->i_mmap_seen == walked)
				continue;
			count = 0;
			for (e = f->i_mmap; e != NULL && err == NULL;
			    e = e->shared_next, count++)
				if (e->vm_file == NULL ||
				    file_inode(e->vm_file) != f)
					err = "i_mmap holds a VMA of another file";
				else if (bsearch(&e->vm_mm, mms, n,
				    sizeof(*mms), cmp_mm) == NULL)
					err = "i_mmap holds a VMA of no mm";
			if (err == NULL && (count != f->i_mmap_count ||
			    count != f->i_mmap_seen))
				err = "i_mmap differs from the VMAs mapping "
				    "its file";
			f->i_mmap_seen = walked;
		}
	for (i = 0; i < n; i++)
		for (v = mms[i]->mm_mt.first; v != NULL; v = v->vm_next)
			if (v->vm_file != NULL)
				file_inode(v->vm_file)->i_mmap_seen = 0;
	return err;
}

/* The swap entries of the shmem objects (held) into c's swap tally; each
 * object let go. */
static void tally_shmem_swap(struct as_session *s, struct pte_check *c,
    struct as_file **files, size_t nf)
{
	size_t i;

	for (i = 0; i < nf; i++) {
		if (c->err == NULL && c->swap_tally != NULL)
			c->err = shmem_swap_tally(files[i], c->swap_tally,
			    s->phys.swap->cap);
		iput(s, files[i]);
	}
	free(files);
}

/*
 * Every mm of s: with vmas, mm_validate_vmas() of each; the files'
 * i_mmap; then the page tables: every mm's PTEs lie in its VMAs and each
 * page's mapcount equals its PTEs over all the mms; the swap slots' counts
 * equal the swap PTEs and shmem swap entries naming them.  0 with *err NULL or the first problem (and
 * *nmms the mms), or -ENOMEM.
 */
static int validate_mms(struct as_session *s, bool vmas, const char **err,
    size_t *nmms)
{
	struct pte_check c = { .mm = NULL };
	struct mm **mms = NULL;
	struct as_file **files = NULL;
	size_t n = 0, i, nf = 0;
	int ret;

	*err = NULL;
	*nmms = 0;
	if ((c.tally = calloc(s->phys.nr_frames, sizeof(int))) == NULL)
		return -ENOMEM;
	if (s->phys.swap != NULL && (c.swap_tally = calloc(s->phys.swap->cap + 1,
	    sizeof(*c.swap_tally))) == NULL) {
		free(c.tally);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	if ((ret = session_mms(s, &mms, &n)) == 0) {
		for (i = 0; i < n && vmas && c.err == NULL; i++)
			c.err = mm_validate_vmas(mms[i]);
		if (c.err == NULL)
			c.err = check_i_mmap(mms, n);
		for (i = 0; i < n && c.err == NULL; i++)
			check_mm_ptes(&c, mms[i]);
		if (c.err == NULL)
			c.err = shm_validate(s, mms, n);
		if (c.swap_tally != NULL)
			ret = shmem_objects(s, mms, n, &files, &nf);
		free(mms);
	}
	pthread_mutex_unlock(&s->lock);
	if (ret == 0)
		tally_shmem_swap(s, &c, files, nf);
	if (ret == 0 && c.err == NULL)
		c.err = check_tally(s, c.tally, c.shared_pmds);
	if (ret == 0 && c.err == NULL && c.swap_tally != NULL)
		c.err = check_swap_tally(s, c.swap_tally);
	if (ret == 0 && c.err == NULL)
		c.err = lru_validate(&s->phys);
	free(c.tally);
	free(c.swap_tally);
	*err = c.err;
	*nmms = n;
	return ret;
}

/* mm_validate(): every invariant of an mm, or NULL when all hold (or
 * when there is no memory to check the page tables with). */
const char *mm_validate(struct mm *mm)
{
	const char *err = mm_validate_vmas(mm);
	size_t n;

	if (err == NULL && validate_mms(mm->session, false, &err, &n) != 0)
		err = NULL;
	return err;
}

/*
 * The page-table part of mm_validate(), over every mm of session s: PTEs
 * lie in their mm's VMAs and each page's mapcount equals its PTEs.
 */
const char *session_validate_ptes(struct as_session *s)
{
	const char *err = NULL;
	size_t n;

	if (validate_mms(s, false, &err, &n) != 0)
		return NULL;	/* no memory to check with */
	return err;
}

/* mm_validate() over every mm of s, the page tables walked once. */
int as_session_validate(struct as_session *s, const char **problem,
    unsigned int *nmms)
{
	size_t n = 0;
	int ret = validate_mms(s, true, problem, &n);

	*nmms = (unsigned int)n;
	return ret;
}

/*
 * rmap.c: anon_vma and anon_vma_chain (mm/rmap.c), and the references of
 * struct files (fs/file_table.c) and inodes (fs/inode.c).
 *
 * An anon_vma decides which VMAs may merge (those sharing one) and is
 * the reverse map of anonymous pages: every anonymous page names the
 * anon_vma of the VMA it was made in (page->anon_vma), and each anon_vma
 * keeps its rb_root, every VMA chained to it, in every mm, which reclaim
 * walks to find a page's mappings (rmap_walk_anon(), in vmscan.c).  A
 * VMA's chain lists every anon_vma it is linked to: its own, and on a
 * fork child also those of its ancestors, so a page made before a fork
 * is found in the child too.  A VMA whose chain has more than one entry
 * is a fork child (vma_is_fork_child()).
 *
 * Chains and the anon_vma counters change under session->anon_vma_lock
 * (the role of the root anon_vma's lock: forks share anon_vmas between
 * mms), taken inside mmap_lock and page_table_lock.  vma->anon_vma is set
 * under mmap_lock held for writing, or by a fault (mmap_lock for reading)
 * under page_table_lock.  Reference counts are atomic.
 *
 * File pages do have a reverse map: each file's i_mmap, every VMA mapping
 * it (below), which writeback walks to clean the PTEs of a page in every
 * mm (folio_mkclean()).
 */
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "pgtable.h"

/* ihold(): one more reference to an inode. */
void ihold(struct as_file *f)
{
	__atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
}

/* iput(): the last reference frees the inode and its page cache (it left
 * the session's list earlier). */
void iput(struct as_session *s, struct as_file *f)
{
	if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		truncate_inode_pages(&s->phys, f);
		file_holes_free(f);
		pthread_mutex_destroy(&f->lock);
		pthread_mutex_destroy(&f->i_mmap_rwsem);
		memcg_uncharge(f->memcg, kmem_size(sizeof(*f)) +
		    (long)(f->cache_len * sizeof(*f->cache)));
		free(f->cache);
		free(f);
	}
}

/* alloc_file(): models do_dentry_open(): a new struct file of inode. */
struct file *alloc_file(struct as_session *s, struct as_file *inode)
{
	struct file *file;

	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*file))) != 0)
		return NULL;
	if ((file = calloc(1, sizeof(*file))) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*file)));
		return NULL;
	}
	ihold(inode);
	file->f_inode = inode;
	file->f_count = 1;
	file->f_mode = FMODE_READ | FMODE_WRITE;
	file->f_id = __atomic_add_fetch(&s->next_file_id, 1, __ATOMIC_RELAXED);
	return file;
}

void get_file(struct file *f)
{
	__atomic_add_fetch(&f->f_count, 1, __ATOMIC_RELAXED);
}

/* fput(): the last reference (close() or the last VMA) frees the file. */
void fput(struct as_session *s, struct file *f)
{
	if (__atomic_sub_fetch(&f->f_count, 1, __ATOMIC_ACQ_REL) == 0) {
		ext4_release_file(f->f_inode);	/* f_op->release() */
		iput(s, f->f_inode);
		memcg_uncharge(&s->mem, kmem_size(sizeof(*f)));
		free(f);
	}
}

void anon_vma_get(struct anon_vma *av)
{
	__atomic_add_fetch(&av->refcount, 1, __ATOMIC_RELAXED);
}

void anon_vma_put(struct anon_vma *av)
{
	struct anon_vma *parent, *root;

	if (__atomic_sub_fetch(&av->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	parent = av->parent;
	root = av->root;
	memcg_uncharge(av->memcg, kmem_size(sizeof(*av)) +
	    (long)(av->rb_cap * sizeof(*av->rb_vmas)));
	free(av->rb_vmas);
	free(av);
	if (parent != av)
		anon_vma_put(parent);
	if (root != av && root != parent)
		anon_vma_put(root);
}

static void lock_anon_vmas(struct vma *vma)
{
	pthread_mutex_lock(&vma->vm_mm->session->anon_vma_lock);
}

static void unlock_anon_vmas(struct vma *vma)
{
	pthread_mutex_unlock(&vma->vm_mm->session->anon_vma_lock);
}

/* anon_vma_alloc(): a new root anon_vma (its own parent). */
struct anon_vma *anon_vma_alloc(struct as_session *s)
{
	struct anon_vma *av;

	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*av))) != 0)
		return NULL;
	if ((av = calloc(1, sizeof(*av))) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*av)));
		return NULL;
	}
	av->memcg = &s->mem;
	av->id = __atomic_add_fetch(&s->next_anon_vma_id, 1, __ATOMIC_RELAXED);
	av->root = av->parent = av;
	av->num_children = 1;	/* the self-parent link of a root */
	return av;
}

/* Room in av's rb_root for nr_links + 1 VMAs, charged to m; 0 or
 * -ENOMEM.  The anon_vma lock is held. */
static int anon_vma_rb_reserve(struct anon_vma *av, struct as_memcg *m)
{
	struct vma **n;
	unsigned int cap = av->rb_cap ? av->rb_cap * 2 : 2;
	long more = (long)((cap - av->rb_cap) * sizeof(*n));

	if ((unsigned int)av->nr_links < av->rb_cap)
		return 0;
	if (memcg_try_charge(m, more) != 0)
		return -ENOMEM;
	if ((n = realloc(av->rb_vmas, cap * sizeof(*n))) == NULL) {
		memcg_uncharge(m, more);
		return -ENOMEM;
	}
	av->rb_vmas = n;
	av->rb_cap = cap;
	return 0;
}

/* vma leaves av's rb_root (anon_vma_interval_tree_remove()). */
static void anon_vma_rb_remove(struct anon_vma *av, struct vma *vma)
{
	int i;

	for (i = 0; i < av->nr_links; i++) {
		if (av->rb_vmas[i] == vma) {
			av->rb_vmas[i] = av->rb_vmas[av->nr_links - 1];
			return;
		}
	}
}

struct rmap_vma *anon_vma_rb_snapshot(struct as_session *s,
    struct anon_vma *av, int *n)
{
	struct rmap_vma *v = NULL;
	int i;

	pthread_mutex_lock(&s->anon_vma_lock);
	*n = av->nr_links;
	if (*n > 0 && (v = malloc((size_t)*n * sizeof(*v))) != NULL) {
		for (i = 0; i < *n; i++) {
			v[i].vma = av->rb_vmas[i];
			v[i].mm = av->rb_vmas[i]->vm_mm;
		}
	}
	pthread_mutex_unlock(&s->anon_vma_lock);
	if (v == NULL)
		*n = 0;
	return v;
}

/* Is vma in the rb_root of every anon_vma on its chain (mm_validate())? */
bool anon_vma_rb_holds(const struct vma *vma)
{
	unsigned int i;
	int k;

	for (i = 0; i < vma->avc_len; i++) {
		const struct anon_vma *av = vma->avc[i];

		for (k = 0; k < av->nr_links && av->rb_vmas[k] != vma; k++)
			;
		if (k == av->nr_links)
			return false;
	}
	return true;
}

/* anon_vma_chain_link(): link vma into av's tree. */
static int anon_vma_chain_link(struct vma *vma, struct anon_vma *av)
{
	struct anon_vma **n;

	if (anon_vma_rb_reserve(av, &vma->vm_mm->session->mem) != 0)
		return -ENOMEM;
	if (vma->avc_len == vma->avc_cap) {
		struct as_memcg *m = &vma->vm_mm->session->mem;
		unsigned int cap = vma->avc_cap ? vma->avc_cap * 2 : 2;
		long more = (long)((cap - vma->avc_cap) * sizeof(*n));

		if (memcg_try_charge(m, more) != 0)
			return -ENOMEM;
		if ((n = realloc(vma->avc, cap * sizeof(*n))) == NULL) {
			memcg_uncharge(m, more);
			return -ENOMEM;
		}
		vma->avc = n;
		vma->avc_cap = cap;
	}
	vma->avc[vma->avc_len++] = av;
	av->rb_vmas[av->nr_links++] = vma;	/* anon_vma_interval_tree_insert */
	anon_vma_get(av);
	return 0;
}

/* vma_is_fork_child(): linked to an ancestor's anon_vma too. */
bool vma_is_fork_child(const struct vma *vma)
{
	return vma != NULL && vma->anon_vma != NULL && vma->avc_len != 1;
}

/* anon_vma_compatible(): could a and b (a just below b) share one? */
static bool anon_vma_compatible(struct vma *a, struct vma *b)
{
	return a->vm_end == b->vm_start && a->vm_file == b->vm_file &&
	    !((a->vm_flags ^ b->vm_flags) & ~VM_ACCESS_FLAGS) &&
	    b->vm_pgoff == a->vm_pgoff +
	    ((b->vm_start - a->vm_start) >> AS_PAGE_SHIFT);
}

/* reusable_anon_vma(): old's anon_vma, if a and b are compatible and old
 * is no fork child. */
static struct anon_vma *reusable_anon_vma(struct vma *old, struct vma *a,
    struct vma *b)
{
	if (anon_vma_compatible(a, b) && old->anon_vma != NULL &&
	    old->avc_len == 1)
		return old->anon_vma;
	return NULL;
}

/* find_mergeable_anon_vma(): reuse the next, then the previous, VMA's. */
static struct anon_vma *find_mergeable_anon_vma(struct vma *vma)
{
	struct anon_vma *av = NULL;
	struct vma *next = vma->vm_next, *prev = vma->vm_prev;

	if (next != NULL && next->vm_start == vma->vm_end)
		av = reusable_anon_vma(next, vma, next);
	if (av == NULL && prev != NULL)
		av = reusable_anon_vma(prev, prev, vma);
	return av;
}

/* __anon_vma_prepare(): give a VMA an anon_vma before its first anon
 * page; the caller holds page_table_lock (faults hold mmap_lock only for
 * reading, so that lock decides who sets it). */
int __anon_vma_prepare(struct vma *vma)
{
	struct anon_vma *av;
	int err = 0;

	if (vma->anon_vma != NULL)
		return 0;
	lock_anon_vmas(vma);
	av = find_mergeable_anon_vma(vma);
	if (av == NULL && (av = anon_vma_alloc(vma->vm_mm->session)) == NULL)
		err = -ENOMEM;
	else if (anon_vma_chain_link(vma, av) != 0) {
		if (av->refcount == 0) {
			memcg_uncharge(av->memcg, kmem_size(sizeof(*av)) +
			    (long)(av->rb_cap * sizeof(*av->rb_vmas)));
			free(av->rb_vmas);
			free(av);
		}
		err = -ENOMEM;
	} else {
		vma->anon_vma = av;
		av->num_active_vmas++;
	}
	unlock_anon_vmas(vma);
	return err;
}

/* anon_vma_prepare(): __anon_vma_prepare() taking page_table_lock. */
int anon_vma_prepare(struct vma *vma)
{
	int err;

	pthread_mutex_lock(&vma->vm_mm->page_table_lock);
	err = __anon_vma_prepare(vma);
	pthread_mutex_unlock(&vma->vm_mm->page_table_lock);
	return err;
}

/*
 * The body of anon_vma_clone(), under the chains' lock: link dst to every
 * anon_vma of src's chain; a dst with none reuses one that no VMA uses any
 * more and that has at most one child (never the root).
 */
static int __anon_vma_clone(struct vma *dst, struct vma *src)
{
	unsigned int i;

	for (i = 0; i < src->avc_len; i++) {
		struct anon_vma *av = src->avc[i];

		if (anon_vma_chain_link(dst, av) != 0)
			return -ENOMEM;
		if (dst->anon_vma == NULL && src->anon_vma != NULL &&
		    av->num_children < 2 && av->num_active_vmas == 0)
			dst->anon_vma = av;
	}
	if (dst->anon_vma != NULL)
		dst->anon_vma->num_active_vmas++;
	return 0;
}

/* anon_vma_clone(): dst (a split piece or copy of src) shares its chain. */
int anon_vma_clone(struct vma *dst, struct vma *src)
{
	int err;

	lock_anon_vmas(dst);
	err = __anon_vma_clone(dst, src);
	unlock_anon_vmas(dst);
	return err;
}

/*
 * The body of anon_vma_fork(), under the chains' lock: a fork child's VMA
 * is linked to the parent VMA's anon_vmas (so rmap finds the pages still
 * shared), plus an anon_vma of its own for the pages it will copy.
 */
static int __anon_vma_fork(struct vma *vma, struct vma *pvma)
{
	struct anon_vma *av;

	vma->anon_vma = NULL;
	if (pvma->anon_vma == NULL)
		return 0;
	if (__anon_vma_clone(vma, pvma) != 0)
		return -ENOMEM;
	if (vma->anon_vma != NULL)
		return 0;	/* an old one was reused */
	if ((av = anon_vma_alloc(vma->vm_mm->session)) == NULL)
		return -ENOMEM;
	av->num_children = 0;
	av->root = pvma->anon_vma->root;
	av->parent = pvma->anon_vma;
	anon_vma_get(av->root);
	if (av->parent != av->root)
		anon_vma_get(av->parent);
	av->num_active_vmas++;
	vma->anon_vma = av;
	av->parent->num_children++;
	if (anon_vma_chain_link(vma, av) != 0) {
		/* No room for the link: undo the anon_vma, whose only
		 * references are the ones it holds. */
		av->parent->num_children--;
		vma->anon_vma = NULL;
		anon_vma_get(av);
		anon_vma_put(av);
		return -ENOMEM;
	}
	return 0;
}

/* anon_vma_fork(): give a fork child's VMA its chain and anon_vma. */
int anon_vma_fork(struct vma *vma, struct vma *pvma)
{
	int err;

	lock_anon_vmas(vma);
	err = __anon_vma_fork(vma, pvma);
	unlock_anon_vmas(vma);
	return err;
}

/* unlink_anon_vmas(): the VMA leaves every anon_vma tree it was in. */
void unlink_anon_vmas(struct vma *vma)
{
	unsigned int i;

	lock_anon_vmas(vma);
	for (i = 0; i < vma->avc_len; i++) {
		struct anon_vma *av = vma->avc[i];

		anon_vma_rb_remove(av, vma);
		if (--av->nr_links == 0 && av->parent != av)
			av->parent->num_children--;
	}
	if (vma->anon_vma != NULL)
		vma->anon_vma->num_active_vmas--;
	vma->anon_vma = NULL;
	for (i = 0; i < vma->avc_len; i++)
		anon_vma_put(vma->avc[i]);
	unlock_anon_vmas(vma);
	memcg_uncharge(&vma->vm_mm->session->mem,
	    (long)(vma->avc_cap * sizeof(*vma->avc)));
	free(vma->avc);
	vma->avc = NULL;
	vma->avc_len = vma->avc_cap = 0;
}

/* ---- the reverse map of file pages: address_space->i_mmap ---------------- */

struct rmap_vma *i_mmap_snapshot(struct as_file *f, int *n)
{
	struct rmap_vma *v = NULL;
	struct vma *vma;
	int i = 0;

	pthread_mutex_lock(&f->i_mmap_rwsem);
	*n = (int)f->i_mmap_count;
	if (*n > 0 && (v = malloc((size_t)*n * sizeof(*v))) != NULL) {
		for (vma = f->i_mmap; vma != NULL && i < *n;
		    vma = vma->shared_next, i++) {
			v[i].vma = vma;
			v[i].mm = vma->vm_mm;
		}
		*n = i;
	}
	pthread_mutex_unlock(&f->i_mmap_rwsem);
	if (v == NULL)
		*n = 0;
	return v;
}

/* i_mmap_lock_write(): guards f->i_mmap and its VMAs' bounds. */
void i_mmap_lock_write(struct as_file *f)
{
	pthread_mutex_lock(&f->i_mmap_rwsem);
}

void i_mmap_unlock_write(struct as_file *f)
{
	pthread_mutex_unlock(&f->i_mmap_rwsem);
}

/* vma_interval_tree_insert() (mm/interval_tree.c), here a list push; the
 * caller holds f->i_mmap_rwsem. */
void vma_interval_tree_insert(struct vma *vma, struct as_file *f)
{
	vma->shared_prev = NULL;
	vma->shared_next = f->i_mmap;
	if (f->i_mmap != NULL)
		f->i_mmap->shared_prev = vma;
	f->i_mmap = vma;
	f->i_mmap_count++;
}

/* vma_interval_tree_remove(); the caller holds f->i_mmap_rwsem. */
void vma_interval_tree_remove(struct vma *vma, struct as_file *f)
{
	if (vma->shared_prev != NULL)
		vma->shared_prev->shared_next = vma->shared_next;
	else
		f->i_mmap = vma->shared_next;
	if (vma->shared_next != NULL)
		vma->shared_next->shared_prev = vma->shared_prev;
	vma->shared_prev = vma->shared_next = NULL;
	f->i_mmap_count--;
}

/* models vma_link_file() (mm/vma.c): a new file VMA joins i_mmap. */
void vma_link_file(struct vma *vma)
{
	struct as_file *f;

	if (vma->vm_file == NULL)
		return;
	f = file_inode(vma->vm_file);
	i_mmap_lock_write(f);
	vma_interval_tree_insert(vma, f);
	i_mmap_unlock_write(f);
}

/* models unlink_file_vma() / __remove_shared_vm_struct(). */
void unlink_file_vma(struct vma *vma)
{
	struct as_file *f;

	if (vma->vm_file == NULL)
		return;
	f = file_inode(vma->vm_file);
	i_mmap_lock_write(f);
	vma_interval_tree_remove(vma, f);
	i_mmap_unlock_write(f);
}

/* The i_mmap lock of a VMA's file, if it has one: taken around changes of
 * a linked VMA's bounds or pgoff (vma_prepare()/vma_complete()). */
void vma_i_mmap_lock(struct vma *vma)
{
	if (vma->vm_file != NULL)
		i_mmap_lock_write(file_inode(vma->vm_file));
}

void vma_i_mmap_unlock(struct vma *vma)
{
	if (vma->vm_file != NULL)
		i_mmap_unlock_write(file_inode(vma->vm_file));
}

/* page_mkclean_one(): write-protect and clean vma's PTE of page at
 * address, if it maps it dirty or writable; 1 if it did. */
static int page_mkclean_one(struct page *page, struct vma *vma,
    unsigned long address)
{
	struct mm *mm = vma->vm_mm;
	pte_t *pte;
	int cleaned = 0;

	pthread_mutex_lock(&mm->page_table_lock);
	pte = pte_offset(mm, address);
	/* pte_present(): a PROT_NONE PTE maps the page too, and keeps its
	 * dirty bit (page_vma_mapped_walk() finds it) */
	if (pte != NULL && pte_present(*pte) && !(*pte & _PAGE_SPECIAL) &&
	    pte_pfn(*pte) == page->pfn && (*pte & (_PAGE_DIRTY | _PAGE_RW))) {
		*pte &= ~(pte_t)(_PAGE_RW | _PAGE_DIRTY);  /* wrprotect, mkclean */
		cleaned = 1;
	}
	pthread_mutex_unlock(&mm->page_table_lock);
	return cleaned;
}

/*
 * folio_mkclean(): through the file's reverse map, every PTE of a shared
 * mapping that maps page (in any mm) is write-protected and cleaned, so
 * that the next write faults and dirties the page again; the number of
 * PTEs changed.  Private mappings are skipped (invalid_mkclean_vma()):
 * their PTEs of a page-cache page are never writable.
 */
int folio_mkclean(struct page *page)
{
	struct as_file *f = page->mapping;
	unsigned long idx = page->index;
	struct vma *vma;
	int cleaned = 0;

	if (f == NULL || page_test(page, PG_anon))
		return 0;
	i_mmap_lock_write(f);	/* i_mmap_lock_read() */
	for (vma = f->i_mmap; vma != NULL; vma = vma->shared_next) {
		/* VM_SHARED never changes once a VMA is made. */
		if (!(__atomic_load_n(&vma->vm_flags, __ATOMIC_RELAXED) &
		    VM_SHARED))
			continue;
		if (idx < vma->vm_pgoff || idx - vma->vm_pgoff >= vma_pages(vma))
			continue;
		cleaned += page_mkclean_one(page, vma, vma->vm_start +
		    ((idx - vma->vm_pgoff) << AS_PAGE_SHIFT));
	}
	i_mmap_unlock_write(f);
	return cleaned;
}

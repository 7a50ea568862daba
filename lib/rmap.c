/*
 * rmap.c: anon_vma identity (mm/rmap.c) and file references.  Here an
 * anon_vma carries no reverse map yet; what matters is which VMAs share
 * one, since that decides which VMAs may merge.
 */
#include <stdlib.h>

#include "mm.h"

/* File and anon_vma references are atomic: several mms may share them. */
void get_file(struct as_file *f)
{
	__atomic_add_fetch(&f->refcount, 1, __ATOMIC_RELAXED);
}

/* fput(): the last reference frees the file (it left the list earlier). */
void fput(struct as_session *s, struct as_file *f)
{
	if (__atomic_sub_fetch(&f->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		truncate_inode_pages(&s->phys, f);
		free(f->cache);
		free(f);
	}
}

struct anon_vma *anon_vma_alloc(struct as_session *s)
{
	struct anon_vma *av = calloc(1, sizeof(*av));

	if (av == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	av->id = ++s->next_anon_vma_id;
	pthread_mutex_unlock(&s->lock);
	av->root = av;
	return av;
}

void anon_vma_get(struct anon_vma *av)
{
	__atomic_add_fetch(&av->refcount, 1, __ATOMIC_RELAXED);
}

void anon_vma_put(struct anon_vma *av)
{
	if (__atomic_sub_fetch(&av->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		free(av);
}

/* anon_vma_compatible(): could a and b (a just below b) share one? */
static bool anon_vma_compatible(struct vma *a, struct vma *b)
{
	return a->vm_end == b->vm_start && a->vm_file == b->vm_file &&
	    !((a->vm_flags ^ b->vm_flags) & ~VM_ACCESS_FLAGS) &&
	    b->vm_pgoff == a->vm_pgoff +
	    ((b->vm_start - a->vm_start) >> AS_PAGE_SHIFT);
}

/* reusable_anon_vma(): old's anon_vma, if a and b are compatible. */
static struct anon_vma *reusable_anon_vma(struct vma *old, struct vma *a,
    struct vma *b)
{
	if (anon_vma_compatible(a, b) && old->anon_vma != NULL)
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

	if (vma->anon_vma != NULL)
		return 0;
	av = find_mergeable_anon_vma(vma);
	if (av == NULL && (av = anon_vma_alloc(vma->vm_mm->session)) == NULL)
		return -ENOMEM;
	anon_vma_get(av);
	vma->anon_vma = av;
	return 0;
}

int anon_vma_prepare(struct vma *vma)
{
	int err;

	if (vma->anon_vma != NULL)
		return 0;
	pthread_mutex_lock(&vma->vm_mm->page_table_lock);
	err = __anon_vma_prepare(vma);
	pthread_mutex_unlock(&vma->vm_mm->page_table_lock);
	return err;
}

/* unlink_anon_vmas(): the VMA no longer maps anonymous pages. */
void unlink_anon_vmas(struct vma *vma)
{
	if (vma->anon_vma != NULL) {
		anon_vma_put(vma->anon_vma);
		vma->anon_vma = NULL;
	}
}

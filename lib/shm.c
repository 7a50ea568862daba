/*
 * shm.c: System V shared memory (ipc/shm.c).  A segment is a shmem
 * inode (zero-filled on first touch, as the object behind a shared
 * anonymous mapping) with a size, an attach count and a removed flag;
 * an attachment is a MAP_SHARED mapping of a new struct file of that
 * inode, whose VMAs count in shm_nattch one each (shm_open/shm_close, the
 * VMA operations Linux gives them), so that fork, split, mremap, munmap
 * and exit keep the count as Linux does.  The trace names segments; the
 * session keeps every NAME it was given, destroyed segments too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "mm.h"
#include "shm.h"

/* models ipc_obtain_object_idr(): the segment called name, or NULL. */
static struct shmid_kernel *shm_find_locked(struct as_session *s,
    const char *name)
{
	struct shmid_kernel *shp;

	for (shp = s->shm_segs; shp != NULL; shp = shp->next)
		if (strcmp(shp->name, name) == 0)
			break;
	return shp;
}

struct shmid_kernel *shm_lookup(struct as_session *s, const char *name)
{
	struct shmid_kernel *shp;

	pthread_mutex_lock(&s->lock);
	shp = shm_find_locked(s, name);
	pthread_mutex_unlock(&s->lock);
	return shp;
}

/* models shm_may_destroy(): no attachment left and IPC_RMID given. */
static bool shm_may_destroy(const struct shmid_kernel *shp)
{
	return shp->shm_nattch == 0 && shp->removed && !shp->destroyed;
}

/* models shm_destroy() (its first half, under s->lock): the segment is
 * gone; the caller drops the returned inode reference unlocked. */
static struct as_file *shm_destroy(struct shmid_kernel *shp)
{
	struct as_file *f = shp->shm_file;

	shp->destroyed = true;
	shp->shm_file = NULL;
	if (f != NULL)
		f->shm = NULL;
	return f;
}

/* models newseg(): a new segment of size bytes, called name. */
int as_shmget(struct as_session *s, struct mm *mm, const char *name,
    unsigned long size)
{
	unsigned long numpages = (size + AS_PAGE_SIZE - 1) >> AS_PAGE_SHIFT;
	struct shmid_kernel *shp, **pp;
	struct as_file *f;

	if (strlen(name) >= sizeof(shp->name))
		return -ENAMETOOLONG;
	if (shm_lookup(s, name) != NULL)
		return -EEXIST;
	if (size < SHMMIN || size > SHMMAX)
		return -EINVAL;
	if ((numpages << AS_PAGE_SHIFT) < size)
		return -ENOSPC;
	/* shmem_kernel_file_setup(): i_size is a loff_t, then
	 * shmem_acct_size() charges the whole size (no SHM_NORESERVE). */
	if (size > AS_MAX_LFS_FILESIZE)
		return -EINVAL;
	if (security_vm_enough_memory_mm(mm, numpages) != 0)
		return -ENOMEM;
	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*shp))) != 0)
		return -ENOMEM;
	if ((shp = calloc(1, sizeof(*shp))) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*shp)));
		return -ENOMEM;
	}
	if ((f = as_file_alloc("/SYSV00000000 (deleted)", size, true,
	    &s->mem)) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*shp)));
		free(shp);
		return -ENOMEM;
	}
	snprintf(shp->name, sizeof(shp->name), "%s", name);
	shp->shm_segsz = size;
	shp->shm_file = f;
	f->shm = shp;
	pthread_mutex_lock(&s->lock);
	if (shm_find_locked(s, name) != NULL) {	/* a racing shmget won */
		pthread_mutex_unlock(&s->lock);
		iput(s, f);
		memcg_uncharge(&s->mem, kmem_size(sizeof(*shp)));
		free(shp);
		return -EEXIST;
	}
	f->id = __atomic_add_fetch(&s->next_file_id, 1, __ATOMIC_RELAXED);
	for (pp = &s->shm_segs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = shp;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* models shm_open(): one more VMA attached (mmap, split, fork, mremap). */
void shm_open(struct vma *vma)
{
	struct as_session *s = vma->vm_mm->session;
	struct shmid_kernel *shp;

	pthread_mutex_lock(&s->lock);
	if ((shp = file_inode(vma->vm_file)->shm) != NULL)
		shp->shm_nattch++;
	pthread_mutex_unlock(&s->lock);
}

/* models shm_close(): one VMA less; the last one of a removed segment
 * destroys it. */
void shm_close(struct vma *vma)
{
	struct as_session *s = vma->vm_mm->session;
	struct shmid_kernel *shp;
	struct as_file *gone = NULL;

	pthread_mutex_lock(&s->lock);
	if ((shp = file_inode(vma->vm_file)->shm) != NULL) {
		shp->shm_nattch--;
		if (shm_may_destroy(shp))
			gone = shm_destroy(shp);
	}
	pthread_mutex_unlock(&s->lock);
	if (gone != NULL)
		iput(s, gone);
}

/* models do_shmat(): attach NAME at addr (0: the kernel chooses). */
unsigned long as_shmat(struct as_session *s, struct mm *mm, const char *name,
    unsigned long addr, unsigned long shmflg)
{
	unsigned long flags = MAP_SHARED, prot, size, populate = 0, ret;
	struct shmid_kernel *shp = shm_lookup(s, name);
	struct as_file *inode, *gone = NULL;
	unsigned int f_mode;
	struct file *file;

	if (shp == NULL)		/* the trace's shmid -1 */
		return -EINVAL;
	if (addr) {
		if (addr & (SHMLBA - 1)) {
			if (!(shmflg & SHM_RND))
				return -EINVAL;
			addr &= ~(SHMLBA - 1);
			if (!addr && (shmflg & SHM_REMAP))
				return -EINVAL;
		}
		flags |= MAP_FIXED;
	} else if (shmflg & SHM_REMAP) {
		return -EINVAL;
	}
	if (shmflg & SHM_RDONLY) {
		prot = PROT_READ;
		f_mode = FMODE_READ;
	} else {
		prot = PROT_READ | PROT_WRITE;
		f_mode = FMODE_READ | FMODE_WRITE;
	}
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;
	/* shm_obtain_object_check(): a destroyed segment's id is gone;
	 * root passes ipcperms(). */
	pthread_mutex_lock(&s->lock);
	if (shp->destroyed) {
		pthread_mutex_unlock(&s->lock);
		return -EINVAL;
	}
	shp->shm_nattch++;
	inode = shp->shm_file;
	size = inode->size;
	pthread_mutex_unlock(&s->lock);
	/* alloc_file_clone(): an open file of the segment's inode. */
	if ((file = alloc_file(s, inode)) == NULL) {
		ret = -ENOMEM;
		goto out_nattch;
	}
	file->f_mode = f_mode;
	mmap_write_lock(mm);
	explain_op("do_shmat: segment %s, %lu bytes, mapped shared %s", name,
	    size, addr ? "at the address given (MAP_FIXED)" : "where "
	    "get_unmapped_area finds room");
	if (addr && !(shmflg & SHM_REMAP) &&
	    (addr + size < addr ||
	    find_vma_intersection(mm, addr, addr + size) != NULL)) {
		explain_op("do_shmat: 0x%lx-0x%lx is in use and no SHM_REMAP: "
		    "-EINVAL", addr, addr + size);
		ret = -EINVAL;
	} else {
		ret = do_mmap(mm, file, addr, size, prot, flags, 0, &populate);
	}
	mmap_write_unlock(mm);
	fput(s, file);
out_nattch:
	pthread_mutex_lock(&s->lock);
	shp->shm_nattch--;
	if (shm_may_destroy(shp))
		gone = shm_destroy(shp);
	pthread_mutex_unlock(&s->lock);
	if (gone != NULL)
		iput(s, gone);
	return ret;
}

/* models ksys_shmdt(): unmap the attachment starting at addr, all its
 * pieces that split or munmap left. */
int as_shmdt(struct mm *mm, unsigned long addr)
{
	VMA_ITERATOR(vmi, mm, addr);
	struct vma *vma, *next;
	struct file *file = NULL;
	unsigned long size = 0;
	int retval = -EINVAL;

	if (as_offset_in_page(addr))
		return -EINVAL;
	mmap_write_lock(mm);
	for (vma = find_vma(mm, addr); vma != NULL; vma = vma->vm_next) {
		if (vma_is_shm(vma) &&
		    (vma->vm_start - addr) / AS_PAGE_SIZE == vma->vm_pgoff) {
			file = vma->vm_file;
			size = file_inode(file)->size;
			next = vma->vm_next;
			vma_iter_set(&vmi, vma->vm_start);
			do_vmi_align_munmap(&vmi, mm, vma, vma->vm_start,
			    vma->vm_end);
			retval = 0;
			vma = next;
			break;
		}
	}
	size = AS_PAGE_ALIGN(size);
	while (vma != NULL && (long)(vma->vm_end - addr) <= (long)size) {
		next = vma->vm_next;
		if (vma_is_shm(vma) &&
		    (vma->vm_start - addr) / AS_PAGE_SIZE == vma->vm_pgoff &&
		    vma->vm_file == file) {
			vma_iter_set(&vmi, vma->vm_start);
			do_vmi_align_munmap(&vmi, mm, vma, vma->vm_start,
			    vma->vm_end);
		}
		vma = next;
	}
	mmap_write_unlock(mm);
	return retval;
}

/* models do_shm_rmid(): destroy now, or mark SHM_DEST while attached. */
int as_shmrm(struct as_session *s, const char *name)
{
	struct shmid_kernel *shp;
	struct as_file *gone = NULL;

	pthread_mutex_lock(&s->lock);
	shp = shm_find_locked(s, name);
	if (shp == NULL || shp->destroyed) {
		pthread_mutex_unlock(&s->lock);
		return -EINVAL;
	}
	shp->removed = true;
	if (shp->shm_nattch == 0)
		gone = shm_destroy(shp);
	pthread_mutex_unlock(&s->lock);
	if (gone != NULL)
		iput(s, gone);
	return 0;
}

/* models shm_exit_ns() / shm_destroy_orphaned(): the session ends. */
void shm_exit_ns(struct as_session *s)
{
	struct shmid_kernel *shp, *next;

	for (shp = s->shm_segs; shp != NULL; shp = next) {
		next = shp->next;
		if (shp->shm_file != NULL) {
			shp->shm_file->shm = NULL;
			iput(s, shp->shm_file);
		}
		memcg_uncharge(&s->mem, kmem_size(sizeof(*shp)));
		free(shp);
	}
	s->shm_segs = NULL;
}

/* The attach counts against the VMAs of the session's mms (s->lock held). */
const char *shm_validate(struct as_session *s, struct mm **mms, size_t n)
{
	struct shmid_kernel *shp;
	struct vma *v;
	long count;
	size_t i;

	for (shp = s->shm_segs; shp != NULL; shp = shp->next) {
		if (shp->destroyed) {
			if (shp->shm_file != NULL)
				return "shm: a destroyed segment keeps its inode";
			continue;
		}
		if (shp->shm_file == NULL || shp->shm_file->shm != shp)
			return "shm: a segment and its inode disagree";
		if (shp->removed && shp->shm_nattch == 0)
			return "shm: a removed segment with no attachment lives";
		count = 0;
		for (i = 0; i < n; i++)
			for (v = mms[i]->mm_mt.first; v != NULL; v = v->vm_next)
				if (v->vm_file != NULL &&
				    file_inode(v->vm_file) == shp->shm_file)
					count++;
		if (count != shp->shm_nattch)
			return "shm: shm_nattch differs from the VMAs attached";
	}
	return NULL;
}

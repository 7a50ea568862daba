/*
 * shm.h: System V shared memory (ipc/shm.c, include/linux/shm.h): a
 * session's segments, shmget/shmat/shmdt/shmctl(IPC_RMID), and the
 * attachments' VMA operations (shm_open/shm_close).
 */
#ifndef ASPACE_SHM_H
#define ASPACE_SHM_H

#include "mm_types.h"
#include "trace_parse.h"

/* include/uapi/linux/shm.h and arch/x86 (SHMLBA is PAGE_SIZE). */
#define SHMMIN		1UL
#define SHMMAX		(~0UL - (1UL << 24))
#define SHMALL		(~0UL - (1UL << 24))
#define SHMLBA		AS_PAGE_SIZE
#define AS_MAX_LFS_FILESIZE	0x7fffffffffffffffUL

/* struct shmid_kernel: one segment, named as the trace names it. */
struct shmid_kernel {
	char		 name[TRACE_NAME_MAX];
	unsigned long	 shm_segsz;	/* its size in bytes */
	long		 shm_nattch;	/* VMAs attached to it, in all mms */
	bool		 removed;	/* SHM_DEST: IPC_RMID while attached */
	bool		 destroyed;	/* shm_destroy()ed: only its name is left */
	struct as_file	*shm_file;	/* its shmem inode (a reference), or
					   NULL once destroyed */
	struct shmid_kernel *next;	/* session's list, creation order */
};

/* The trace-level error line of a NAME used twice. */
#define SHM_NAME_USED_FMT "segment %s already used"

/* shmget(IPC_PRIVATE, size, IPC_CREAT | 0600) as NAME: 0, -EEXIST for a
 * NAME used before (the trace's error line), or Linux's errno. */
int as_shmget(struct as_session *s, struct mm *mm, const char *name,
    unsigned long size);
/* shmat(2) of NAME at addr: the address, or -errno cast. */
unsigned long as_shmat(struct as_session *s, struct mm *mm, const char *name,
    unsigned long addr, unsigned long shmflg);
/* shmdt(2). */
int as_shmdt(struct mm *mm, unsigned long addr);
/* shmctl(IPC_RMID) of NAME. */
int as_shmrm(struct as_session *s, const char *name);
/* A segment by NAME (destroyed ones too), or NULL; s->lock not held. */
struct shmid_kernel *shm_lookup(struct as_session *s, const char *name);

/* The VMA operations of an attachment: vma is about to exist / go. */
void shm_open(struct vma *vma);
void shm_close(struct vma *vma);
static inline bool vma_is_shm(const struct vma *vma)
{
	return vma->vm_file != NULL && vma->vm_file->f_inode->shm != NULL;
}
/* Free every segment at the end of a session (no VMA is left). */
void shm_exit_ns(struct as_session *s);
/* Every live segment's shm_nattch equals the VMAs mapping it in the
 * session's mms (given, deduplicated); NULL or the problem. */
const char *shm_validate(struct as_session *s, struct mm **mms, size_t n);

#endif /* ASPACE_SHM_H */

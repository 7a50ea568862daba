/*
 * uapi.h: the user-visible constants of the simulated kernel.
 *
 * The values are those of Linux x86-64 (include/uapi/asm-generic/mman*.h,
 * include/uapi/linux/mman.h), so a trace, a client and the reference runner
 * all speak the same numbers.  Each is guarded so that including
 * <sys/mman.h> as well is harmless: the values are identical.
 */
#ifndef ASPACE_UAPI_H
#define ASPACE_UAPI_H

#ifndef PROT_NONE
#define PROT_NONE	0x0
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4
#endif

#ifndef MAP_SHARED
#define MAP_SHARED	0x01
#define MAP_PRIVATE	0x02
#define MAP_FIXED	0x10
#define MAP_ANONYMOUS	0x20
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_TYPE
#define MAP_TYPE	0x0f
#endif
#ifndef MAP_GROWSDOWN
#define MAP_GROWSDOWN	0x0100
#define MAP_DENYWRITE	0x0800
#define MAP_EXECUTABLE	0x1000
#define MAP_LOCKED	0x2000
#define MAP_NORESERVE	0x4000
#define MAP_POPULATE	0x8000
#define MAP_NONBLOCK	0x10000
#define MAP_STACK	0x20000
#define MAP_HUGETLB	0x40000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE	1
#define MREMAP_FIXED	2
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#ifndef MADV_NORMAL
#define MADV_NORMAL	0
#define MADV_RANDOM	1
#define MADV_SEQUENTIAL	2
#define MADV_WILLNEED	3
#define MADV_DONTNEED	4
#endif
#ifndef MADV_DONTFORK
#define MADV_DONTFORK	10
#define MADV_DOFORK	11
#endif
#ifndef MADV_DONTDUMP
#define MADV_DONTDUMP	16
#define MADV_DODUMP	17
#endif

#ifndef MADV_FREE
#define MADV_FREE	8
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE	9
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK	18
#define MADV_KEEPONFORK	19
#endif
#ifndef MADV_COLD
#define MADV_COLD	20
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

#ifndef MS_ASYNC
#define MS_ASYNC	1
#define MS_INVALIDATE	2
#define MS_SYNC		4
#endif

/* System V shared memory: shmat(2)'s flags (include/uapi/linux/shm.h). */
#ifndef SHM_RDONLY
#define SHM_RDONLY	010000
#define SHM_RND		020000
#define SHM_REMAP	040000
#define SHM_EXEC	0100000
#endif

#define AS_PAGE_SHIFT	12
#define AS_PAGE_SIZE	(1UL << AS_PAGE_SHIFT)
#define AS_PAGE_MASK	(~(AS_PAGE_SIZE - 1))
#define AS_PAGE_ALIGN(x) (((x) + AS_PAGE_SIZE - 1) & AS_PAGE_MASK)
#define as_offset_in_page(x) ((unsigned long)(x) & (AS_PAGE_SIZE - 1))

/* x86-64, 4-level paging: 47 bits of user address space, less one page. */
#define AS_TASK_SIZE	((1UL << 47) - AS_PAGE_SIZE)

#endif /* ASPACE_UAPI_H */

/*
 * mm_types.h: the simulated kernel's memory-management structures, named
 * after include/linux/mm_types.h.
 *
 * Locking: which lock guards each field, and the one order in which the
 * core's locks nest, are written once, at the top of mm.c.
 */
#ifndef ASPACE_MM_TYPES_H
#define ASPACE_MM_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "maple_tree.h"
#include "page.h"
#include "uapi.h"

/* VM_* flag bits, include/linux/mm.h (x86-64). */
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_GROWSDOWN	0x00000100UL
#define VM_UFFD_MISSING	0x00000200UL
#define VM_PFNMAP	0x00000400UL
#define VM_UFFD_WP	0x00001000UL
#define VM_LOCKED	0x00002000UL
#define VM_IO		0x00004000UL
#define VM_SEQ_READ	0x00008000UL
#define VM_RAND_READ	0x00010000UL
#define VM_DONTCOPY	0x00020000UL
#define VM_DONTEXPAND	0x00040000UL
#define VM_LOCKONFAULT	0x00080000UL
#define VM_ACCOUNT	0x00100000UL
#define VM_NORESERVE	0x00200000UL
#define VM_HUGETLB	0x00400000UL
#define VM_SYNC		0x00800000UL
#define VM_ARCH_1	0x01000000UL
#define VM_WIPEONFORK	0x02000000UL
#define VM_DONTDUMP	0x04000000UL
#define VM_SOFTDIRTY	0x08000000UL	/* never set: no CONFIG_MEM_SOFT_DIRTY */
#define VM_MIXEDMAP	0x10000000UL
#define VM_HUGEPAGE	0x20000000UL
#define VM_NOHUGEPAGE	0x40000000UL
#define VM_MERGEABLE	0x80000000UL

#define VM_ACCESS_FLAGS	(VM_READ | VM_WRITE | VM_EXEC)
#define VM_LOCKED_MASK	(VM_LOCKED | VM_LOCKONFAULT)
#define VM_SPECIAL	(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP)
#define VM_STACK	VM_GROWSDOWN
#define VM_DATA_DEFAULT_FLAGS	(VM_READ | VM_WRITE | VM_MAYREAD | \
				 VM_MAYWRITE | VM_MAYEXEC)

/* Default limits of a root process on the reference machine. */
#define AS_DEFAULT_MAX_MAP_COUNT	65530
#define AS_STACK_GUARD_GAP		(256UL << AS_PAGE_SHIFT)
#define AS_MMAP_MIN_ADDR		65536UL	/* max(sysctl 4096, LSM_MMAP_MIN_ADDR) */
#define AS_RLIM_INFINITY		(~0UL)

struct mm;
struct vma;
struct as_session;
struct shmid_kernel;

/* A simulated regular file (or the shmem object behind MAP_SHARED|ANON). */
struct as_file {
	char		 name[64];
	unsigned long	 size;		/* i_size in bytes */
	bool		 shmem_zero;	/* "/dev/zero (deleted)" */
	int		 refcount;	/* session list + open files (iput()) */
	unsigned long	 id;		/* creation order, for merge identity */
	struct as_file	*next;		/* session's file list */
	struct shmid_kernel *shm;	/* the System V segment it backs (shm.c) */
	/* The page cache (address_space): page index -> page, or NULL,
	 * or for shmem a swap entry (shmem.h); it, swapped and size are
	 * guarded by lock. */
	pthread_mutex_t	 lock;
	struct page	**cache;
	unsigned long	 cache_len;	/* slots in cache[] */
	unsigned long	 swapped;	/* swap entries in cache[] */
	/* Holes punched in a regular file (madvise remove): ranges of
	 * pages that read back as zeros, ascending and disjoint, under
	 * lock; `file` writing the file again fills them. */
	struct file_hole { unsigned long first, last; } *holes;
	unsigned int	 nr_holes;
	unsigned long	 holes_cap;
	/* The disk's pages that writeback (msync, fsync, reclaim's pageout)
	 * left with other bytes than `file` wrote: page index -> a copy of
	 * its AS_PAGE_SIZE bytes, or NULL; nr_blocks of blocks_len slots
	 * used.  Under lock; `file` writing the file again drops them. */
	uint8_t		**blocks;
	unsigned long	 blocks_len, nr_blocks;
	/* ext4's EXT4_STATE_DA_ALLOC_CLOSE: truncated to size 0 (`file`)
	 * since a struct file of it was last released; da_flush: a
	 * release found delayed allocations to flush (ext4_release_file(),
	 * page-writeback.c).  Both under lock. */
	bool		 da_alloc_close, da_flush;
	struct as_memcg	*memcg;		/* charged for it and its cache */
	/*
	 * i_mmap: every VMA, of every mm, that maps this file, shared or
	 * private (address_space->i_mmap, the reverse map of file pages).
	 * Linux keeps an interval tree keyed by each VMA's range of file
	 * pages (vma_interval_tree_*()); here it is a doubly-linked list
	 * through vma->shared_prev/shared_next, and a lookup tests each VMA
	 * for overlap with the range, which gives the same set of VMAs.
	 * i_mmap_rwsem guards the list and, for each VMA on it, vm_start,
	 * vm_end and vm_pgoff (changed under it, as Linux's vma_prepare()
	 * does), so that writeback may walk VMAs of other mms.
	 */
	pthread_mutex_t	 i_mmap_rwsem;
	struct vma	*i_mmap;
	unsigned long	 i_mmap_count;	/* VMAs on i_mmap */
	unsigned long	 i_mmap_seen;	/* scratch of mm_validate() */
};

/* struct file: one open() of a file (or of a shmem object).  Each mmap
 * opens its own; the VMAs of that mapping share it (splits, mremap, fork),
 * and only VMAs of one struct file may merge (is_mergeable_vma()). */
struct file {
	struct as_file	*f_inode;	/* the inode and its page cache */
	long		 f_count;	/* get_file() and fput() */
	unsigned long	 f_id;		/* opening order, for checkpoints */
	unsigned int	 f_mode;	/* FMODE_READ | FMODE_WRITE */
};

/* f_mode bits (include/linux/fs.h). */
#define FMODE_READ	0x1U
#define FMODE_WRITE	0x2U

static inline struct as_file *file_inode(const struct file *f)
{
	return f->f_inode;
}

/* struct anon_vma: identity decides merges (mm/rmap.c). */
struct anon_vma {
	unsigned long	 id;
	int		 refcount;	/* chain links + child anon_vmas */
	struct anon_vma	*root;
	struct anon_vma	*parent;
	int		 num_children;	/* anon_vmas forked from it (+1 root) */
	int		 num_active_vmas; /* VMAs whose anon_vma it is */
	int		 nr_links;	/* VMAs chained to it (its rb_root) */
	/* rb_root: those nr_links VMAs, of every mm, in no order (Linux
	 * keeps an interval tree by pgoff; a walk tests each for overlap),
	 * under session->anon_vma_lock; rmap_walk_anon() reads it. */
	struct vma	**rb_vmas;
	unsigned int	 rb_cap;
	struct as_memcg	*memcg;		/* charged for it */
};

/* struct vm_area_struct: [vm_start, vm_end) of one mapping. */
struct vma {
	unsigned long	 vm_start;
	unsigned long	 vm_end;
	unsigned long	 vm_flags;
	unsigned long	 vm_pgoff;	/* offset in the file, in pages */
	struct file	*vm_file;	/* NULL: anonymous */
	struct anon_vma	*anon_vma;
	/* anon_vma_chain: every anon_vma this VMA is linked to, oldest
	 * (the root) first; a fork child has more than one. */
	struct anon_vma	**avc;
	unsigned int	 avc_len, avc_cap;
	unsigned long	 vm_page_prot;	/* x86 PTE protection bits */
	struct mm	*vm_mm;
	const char	*vm_special_name; /* "[vdso]"...: special mappings */
	/* vma->shared: the links of the file's i_mmap (struct as_file). */
	struct vma	*shared_prev;
	struct vma	*shared_next;

	/* Where the rbtree's links and gap were (40 bytes): kept so that
	 * sizeof(struct vma), which every VMA charges to the session's
	 * memory (kmem_size()), and so every figure printed, stays as it
	 * was.  Unused. */
	unsigned long	 vm_rb_reserved[5];
	/* In-order neighbours, kept beside the maple tree (vma_iter.c) for
	 * O(1) stepping; Linux dropped this list in 6.1. */
	struct vma	*vm_prev;
	struct vma	*vm_next;
};


/* struct mm_struct. */
struct mm {
	struct maple_tree mm_mt;	/* the VMA index (vma_iter.h) */
	int		 map_count;
	unsigned long	 task_size;
	unsigned long	 mmap_base;
	unsigned long	 start_code, end_code, start_data, end_data;
	unsigned long	 start_brk, brk, start_stack;
	unsigned long	 total_vm;	/* pages */
	unsigned long	 locked_vm;
	unsigned long	 data_vm;
	unsigned long	 exec_vm;
	unsigned long	 stack_vm;
	unsigned long	 def_flags;
	pthread_rwlock_t mmap_lock;
	pthread_mutex_t	 page_table_lock;
	int		 mm_users;
	int		 mm_count;
	unsigned long	 vmacache_seqnum;
	unsigned long	 pgd;		/* frame of the top-level table */
	unsigned long	 nr_pgtables;	/* page-table pages below it */
	struct as_session *session;
#ifdef ASPACE_DEBUG
	int		 mmap_lock_writer;	/* for lock assertions */
#endif
};

/* Event counters, kept per task and per session. */
struct as_counters {
	unsigned long	 minor_faults;
	unsigned long	 zero_page_maps;
	unsigned long	 cow_copies;
	unsigned long	 wp_reuses;
	unsigned long	 fault_around_pages;
	unsigned long	 stack_expansions;
	unsigned long	 sigsegv;
	unsigned long	 sigbus;
	unsigned long	 vmacache_hits;
	unsigned long	 vmacache_misses;
	unsigned long	 oom;
	/* The kind of each fault handle_mm_fault() fixed: a new anonymous
	 * frame, a page-cache read, a shared write (zero-page maps, COW
	 * copies and reuses are above). */
	unsigned long	 anon_faults;
	unsigned long	 file_read_faults;
	unsigned long	 shared_faults;
	unsigned long	 major_faults;	/* swap-ins read from a slot */
	/* vmstat's pswpin and pswpout: pages read from and written to swap
	 * slots (swap_read_folio(), swap_writepage()). */
	unsigned long	 pswpin;
	unsigned long	 pswpout;
};

#define VMACACHE_SIZE	4

/* struct task_struct, as much as a task needs here. */
struct task {
	int		 pid;
	int		 tgid;
	struct mm	*mm;
	struct task	*next;
	/* The per-task VMA cache (pre-6.1 mm/vmacache.c). */
	struct vma	*vmacache[VMACACHE_SIZE];
	unsigned long	 vmacache_seqnum;
	struct as_counters counters;
	struct task	*vfork_parent;	/* a vfork child, until exec or exit */
	bool		 vfork_blocked;	/* a parent waiting for that */
};

/* Limits of a simulated machine (sysctls and rlimits of its process). */
struct as_limits {
	unsigned long	 ram_bytes;
	unsigned long	 swap_bytes;
	int		 max_map_count;
	unsigned long	 rlimit_stack;
	unsigned long	 rlimit_memlock;
	unsigned long	 rlimit_as;
	unsigned long	 rlimit_data;
	int		 overcommit_memory;	/* 0 heuristic, 1 always, 2 never */
	bool		 cap_ipc_lock;		/* root: mlock ignores the rlimit */
	bool		 zero_page;		/* !mm_forbids_zeropage() */
	unsigned long	 fault_around_bytes;
	bool		 share_tables;		/* fork shares PTE tables */
};

/* A program for exec: its name and the sizes of its parts. */
struct as_image {
	char		 name[64];
	unsigned long	 text, data, bss;	/* bytes */
};

/* One simulated machine. */
struct as_session {
	pthread_mutex_t	 lock;
	pthread_mutex_t	 anon_vma_lock;	/* chains and anon_vma counters */
	struct as_limits limits;
	/* Kernel parameters may change until the session starts: until a
	 * task does anything but create files (as_session_start()). */
	bool		 started;
	struct as_image	 image;		/* task 1's program, for a re-exec */
	uint64_t	 seed;
	bool		 randomize;
	struct as_file	*files;
	/* System V shared memory (shm.c): every segment the session made, in
	 * creation order, destroyed ones kept as names (guarded by lock). */
	struct shmid_kernel *shm_segs;
	unsigned long	 next_file_id;	/* inodes and struct files alike */
	unsigned long	 next_anon_vma_id;
	struct task	*tasks;
	int		 next_pid;
	struct as_phys	 phys;		/* the machine's RAM */
	struct as_counters counters;	/* guarded by lock */
	/* The host memory charged to the session (memcontrol.h); its limit
	 * is its RAM plus the struct pages of that RAM. */
	struct as_memcg	 mem;
};

#endif /* ASPACE_MM_TYPES_H */

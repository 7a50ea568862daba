/*
 * checkpoint.h: a whole session as bytes and back, so that sessions
 * survive a restart of the daemon exactly: the same tasks, mms, VMAs,
 * anon_vmas, page tables, frames (numbers, contents, counts, flags),
 * files and their open struct files, page cache, seed, kernel parameters
 * and limits, program image, counters, and the frame allocator's
 * free order, so that later allocations get the frames an uninterrupted
 * run would.  No Linux counterpart: CRIU does this from user space.  The
 * format is described below and in docs/architecture.md, "Checkpoints".
 *
 * The code: checkpoint-save.c saves, checkpoint-load.c loads,
 * checkpoint-verify.c cross-checks what was loaded, checkpoint-codec.c
 * holds what they share (integers, sections, pointer tables; declared in
 * checkpoint-int.h), and crc32.c the checksum.
 *
 * Locking: as_session_save() reads every object of the session without
 * taking the session's locks.  The caller must hold the session quiescent:
 * no other thread may use the session, its tasks or mms (no request, no
 * trace) until it returns; the daemon holds the session's own lock
 * exclusively around it.  as_session_load() builds a new session that no
 * other thread can reach before it returns.
 */
#ifndef ASPACE_CHECKPOINT_H
#define ASPACE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crc32.h"	/* as_crc32(), which checkpoints are sealed with */
#include "session.h"

/*
 * The format (version 6; an older checkpoint is refused as any other
 * version is, "format version N, not 6", with what it lacks: version 1
 * kept no struct files, kernel parameters or image, version 3 no swap
 * device and 14 counters, version 4 15 counters, without pswpin and
 * pswpout, nor holes in files, LRU lists or `kernel ram`; version 5 no
 * `kernel share_tables`).  Integers are
 * little-endian, of the widths given (u8 for booleans); "idx" is a u32
 * index into a table of this checkpoint, NONE (0xffffffff) for no object;
 * counters are 17 u64s in struct as_counters order (major_faults,
 * pswpin, pswpout last).
 *
 *   header (32 bytes): "ASPACECK", u32 version, u32 0, u64 body length,
 *                      u32 CRC-32 of the body, u32 0
 *   body: ten sections, in this order, each a 4-byte tag, a u64 length
 *         and that many bytes, which its parser must consume exactly:
 *   "SESS"  u64 RAM, the RAM the session was made with (at least RAM:
 *           `kernel ram` lowers the first; the memory charged and
 *           as_checkpoint_ram() go by the second), swap; u32 max_map_count; u64 rlimits stack, memlock,
 *           as, data; u32 overcommit; u8 cap_ipc_lock, zero_page;
 *           u64 fault_around_bytes; u8 share_tables, started; the image: u8 length and
 *           the name, u64 text, data, bss; u64 seed; u8 randomize;
 *           u64 next_file_id (inodes' and struct files' ids alike),
 *           next_anon_vma_id; u32 next_pid; counters; u32 files (inodes),
 *           struct files, anon_vmas, mms, tasks.  Each kernel parameter
 *           (as as_kparam_get() reads it) must be kparam_valid(), and
 *           cap_ipc_lock is set exactly when RLIMIT_MEMLOCK is unlimited;
 *           the name is 1 to 63 of [A-Za-z0-9._-], text + data fit in RAM
 *           and bss in TASK_SIZE
 *   "FRAM"  u64 zero page's pfn, next_unused, nr_used; u64 count and the
 *           free stack's pfns, bottom first; u64 count and every frame in
 *           use by increasing pfn: u64 pfn; u32 refcount, mapcount,
 *           flags; u8 AnonExclusive; mapping (file idx); anon_vma idx;
 *           u64 index; u8 encoding of the contents: 0 zero, 1 4096 raw
 *           bytes, 2 runs: u16 count of (u16 offset, u16 length, bytes)
 *   "SWAP"  u64 slots of the swap device, header slot included (0: no
 *           device made; else the session's swap size in pages), u64
 *           the allocation cursor (1 to slots - 1, or 0: none, as
 *           always without a device),
 *           u64 count of slots in use, then per slot in use by increasing
 *           offset: u64 offset; u32 swap count; u64 the pfn of its
 *           swap-cache page (a PG_swapcache anonymous frame in use, of
 *           one slot only; ~0 for none); u8 written, and if so the
 *           slot's bytes encoded as a frame's.  A slot in use has a swap
 *           count or a swap-cache page; one with a count was written.
 *           Swap PTEs (non-present, offset from bit 14, _PAGE_USER as
 *           the exclusive bit) must name a slot; mm_validate() checks
 *           the counts against them
 *   "FILE"  per file (inode): u8 length and the name; u64 size; u8
 *           flags (1 shmem, 2 truncated to size 0 since a struct file of
 *           it was last released: ext4's DA_ALLOC_CLOSE); u32 refcount;
 *           u64 id; u8 on the session's list (which keeps table order);
 *           u64 count of (u64 index, u64 pfn), by index
 *           (a "pfn" with bit 63 set, CK_CACHE_SWAP, is a shmem object's
 *           swap entry, its slot, in use with a count, in the low bits);
 *           u32 count of holes (madvise remove), each u64 first and last
 *           page, ascending, disjoint and not adjacent, inside the
 *           file; none in a shmem object; u32 count of the disk's copies
 *           of pages writeback left (filemap.c), each u64 index (by
 *           index, inside the file, in no hole) and the bytes encoded as
 *           a frame's; none in a shmem object
 *   "OPEN"  per struct file, by increasing f_id: file idx; u32 f_count;
 *           u64 f_id; u8 f_mode (FMODE_READ 1 | FMODE_WRITE 2, not 0)
 *   "AVMA"  per anon_vma: u64 id; u32 refcount; root idx, parent idx;
 *           u32 num_children, num_active_vmas, nr_links
 *   "MMS "  per mm: u64 task_size, mmap_base, start/end_code,
 *           start/end_data, start_brk, brk, start_stack, total_vm,
 *           locked_vm, data_vm, exec_vm, stack_vm, def_flags;
 *           u32 mm_users, mm_count; u64 vmacache_seqnum, pgd, nr_pgtables;
 *           u32 map_count; u32 count of VMAs in address order: u64 start,
 *           end, flags, pgoff, page_prot; struct file idx; anon_vma idx;
 *           u8 special name (0 none, 1 [vvar], 2 [vvar_vclock], 3 [vdso]);
 *           u32 count of the anon_vma chain's idx
 *   "TASK"  per task in list order: u32 pid, tgid; mm idx; u32 vfork
 *           parent's pid (0: none); u8 vfork_blocked; u64 vmacache_seqnum;
 *           4 u32 VMA cache entries (ordinals in its mm's VMAs, or NONE);
 *           counters
 *   "SHM "  u32 count of System V segments in creation order: u8 length and
 *           the name; u64 size; u64 shm_nattch; u8 removed, destroyed;
 *           its shmem inode's file idx (NONE exactly when destroyed; an
 *           inode of one segment only, off the list, of the same size;
 *           it holds one reference).  Names are unique, a removed live
 *           segment is attached, and shm_nattch equals the VMAs mapping
 *           the inode in all mms
 *   "LRU "  the four LRU lists of reclaim (vmscan.h: inactive anon, active
 *           anon, inactive file, active file): per list a u64 count and
 *           the pfns from head to tail.  Every frame in use but page
 *           tables and the zero page is on exactly one list, with PG_lru,
 *           and with PG_active exactly on the active lists
 *
 * Page tables are frames like any other: their contents are the entries.
 * The loader trusts nothing: the header, the checksum, every count against
 * the bytes left, every index, pfn and address against its table, RAM and
 * the VMAs; the page tables must form one tree per mm of PG_pgtable frames;
 * refcounts, mapcounts, nr_links, num_active_vmas, num_children, mm_users
 * and file references must equal what the restored objects account for
 * (a struct file's f_count its VMAs, as nothing else holds one in a
 * saved session; an inode's refcount its place on the list and its
 * struct files);
 * and mm_validate()'s checks run before the session is handed out.  What
 * is dropped: host-side details (page-cache array and free stack
 * capacities, where in the host page pool frames are, the maple
 * tree's shape) and a VMA cache its seqnum has made stale (saved empty, as its next use
 * would empty it).
 */
/* A FILE section cache entry that is a swap entry (a shmem page in swap):
 * no pfn has bit 63. */
#define CK_CACHE_SWAP		(1ULL << 63)

#define AS_CKPT_MAGIC		"ASPACECK"
#define AS_CKPT_VERSION		7
#define AS_CKPT_HEADER_SIZE	32
#define AS_CKPT_MAX_RAM		(64UL << 30)	/* the largest session loaded */

/*
 * Append the checkpoint of s to out.  0, or -ENOSPC when it does not fit
 * in out's cap (or the host has no memory for it), -ENOMEM, -EOPNOTSUPP
 * when swap slots are in use (the format has no swap device yet), or
 * -EINVAL when the session breaks an invariant the format relies on (a
 * bug).
 * On error out may hold a partial checkpoint past its old length.
 */
int as_session_save(struct as_session *s, struct as_buf *out);

/*
 * Make a session from the len bytes of a checkpoint.  0 with *sp set, or
 * -EBADMSG (corrupt, truncated or inconsistent), -EINVAL (not a
 * checkpoint, or a version or size this build does not load) or -ENOMEM,
 * with a one-line reason in why (whylen bytes, may be 0).  Every count,
 * index, frame and address is checked, and mm_validate()'s invariants
 * too, before the session is handed out; on error nothing is left
 * allocated.
 */
int as_session_load(const void *data, size_t len, struct as_session **sp,
    char *why, size_t whylen);

/*
 * The RAM size of a checkpoint's session, once its header and checksum
 * are checked: the loader's memory grows with it, so a caller that limits
 * RAM (the daemon's --max-ram) checks it first.  0, -EINVAL or -EBADMSG.
 */
int as_checkpoint_ram(const void *data, size_t len, unsigned long *ram_bytes);

/*
 * For tests and fuzzing: make the header's body length and checksum match
 * len bytes of an edited checkpoint, so that the loader's other checks can
 * be reached.  0, or -EINVAL if len is shorter than the header.
 */
int as_checkpoint_reseal(void *data, size_t len);

#endif /* ASPACE_CHECKPOINT_H */

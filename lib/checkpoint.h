/*
 * checkpoint.h: a whole session as bytes and back, so that sessions
 * survive a restart of the daemon exactly: the same tasks, mms, VMAs,
 * anon_vmas, page tables, frames (numbers, contents, counts, flags),
 * files and their open struct files, page cache, seed, kernel parameters
 * and limits, program image, counters, and the frame allocator's
 * free order, so that later allocations get the frames an uninterrupted
 * run would.  The format is described at the top of checkpoint.c and in
 * docs/architecture.md, "Checkpoints".
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
#include "session.h"

#define AS_CKPT_MAGIC		"ASPACECK"
#define AS_CKPT_VERSION		2
#define AS_CKPT_HEADER_SIZE	32
#define AS_CKPT_MAX_RAM		(64UL << 30)	/* the largest session loaded */

/*
 * Append the checkpoint of s to out.  0, or -ENOSPC when it does not fit
 * in out's cap (or the host has no memory for it), -ENOMEM, or -EINVAL
 * when the session breaks an invariant the format relies on (a bug).
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

/* CRC-32 (IEEE 802.3, as zlib's crc32()): start with crc 0. */
uint32_t as_crc32(uint32_t crc, const void *data, size_t len);

/*
 * For tests and fuzzing: make the header's body length and checksum match
 * len bytes of an edited checkpoint, so that the loader's other checks can
 * be reached.  0, or -EINVAL if len is shorter than the header.
 */
int as_checkpoint_reseal(void *data, size_t len);

#endif /* ASPACE_CHECKPOINT_H */

/*
 * persist.h: sessions kept across restarts of aspaced.
 *
 * Each session of the table is a file STATE/sessions/ID.ck (ID in hex):
 * the daemon's part (id, tenant by name, label, creation time, RAM, the
 * run_trace cursor) around libaspace's checkpoint (checkpoint.h), with a
 * CRC-32 over the whole.  Files are written atomically (a temporary
 * file, fsync, rename, fsync of the directory).  Every session is saved
 * when the daemon stops, and changed ones every checkpoint interval by a
 * thread of this module, so that a kill -9 loses at most one interval.
 * At start-up every file is loaded; a corrupt or truncated one, or one
 * whose name is not the id inside, is reported, renamed ID.ck.corrupt
 * and skipped; one of a destroyed session (DIR/destroyed.ids, written
 * before a destroy is answered) is renamed ID.ck.destroyed.  A failed
 * save keeps the previous file and is counted and shown (persist.c).
 *
 * Locks: a save holds the session's ckpt_lock, then its rw lock
 * exclusively while the session is serialized (not while the file is
 * written); forgetting a destroyed session's file takes ckpt_lock alone,
 * so a save that raced with the destroy cannot write the file back.
 */
#ifndef ASPACED_PERSIST_H
#define ASPACED_PERSIST_H

#include "session-table.h"
#include "tokens.h"

#define PERSIST_MAGIC		"ASPACEDS"
#define PERSIST_VERSION		1

struct persist;

/* Use (making it, mode 0700) dir/sessions; NULL with a message. */
struct persist *persist_new(const char *dir, struct tenants *tn,
    unsigned long ram_max);
/* Stop the thread (if started) and free; sessions are not saved. */
void persist_free(struct persist *p);

/* Load every session file into st; returns how many were loaded. */
unsigned int persist_restore(struct persist *p, struct session_table *st);
/* Save ds if it changed since its last save: 0, or -errno. */
int persist_save(struct persist *p, struct dsession *ds);
/* Save every changed session of st; returns how many failed. */
unsigned int persist_save_all(struct persist *p, struct session_table *st);
/* Remove the file of ds, which is dead. */
void persist_forget(struct persist *p, struct dsession *ds);
/* Save changed sessions every interval_ms on a thread of its own. */
int persist_start(struct persist *p, struct session_table *st,
    unsigned int interval_ms);

#endif /* ASPACED_PERSIST_H */

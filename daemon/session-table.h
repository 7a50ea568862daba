/*
 * session-table.h: the daemon's sessions, each a simulated machine
 * (struct as_session) owned by a tenant, named by 16 random bytes.
 *
 * A lookup gives a reference (stable_get); the caller then takes the
 * session's own rwlock in the mode its request needs and, once it holds
 * it, checks ds->dead: a session destroyed meanwhile is as missing.  The
 * table's lock, the session rwlocks and the task locks are described,
 * with their order, at the top of session-table.c.
 */
#ifndef ASPACED_SESSION_TABLE_H
#define ASPACED_SESSION_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "session.h"
#include "trace.h"

#define SESSION_ID_LEN		16
#define SESSION_LABEL_MAX	64
#define SESSION_TASK_LOCKS	16	/* stripes of per-task mutexes */
#define SESSION_HASH_SIZE	4096	/* id buckets (a power of two) */
#define TENANT_HASH_SIZE	1024	/* tenant buckets (a power of two) */

struct dsession {
	uint8_t		 id[SESSION_ID_LEN];
	uid_t		 tenant;
	char		 label[SESSION_LABEL_MAX + 1];
	time_t		 created;
	unsigned long	 ram_bytes;
	struct as_session *s;
	pthread_rwlock_t rw;		/* READ: task ops; WRITE: task set */
	pthread_mutex_t	 task_lock[SESSION_TASK_LOCKS];
	bool		 dead;		/* destroyed; under rw (write) */
	bool		 dirty;		/* changed since saved (atomic) */
	pthread_mutex_t	 ckpt_lock;	/* a save; before rw (persist.h) */
	int64_t		 unsaved_since;	/* first failed save; under ckpt_lock */
	struct as_trace_cursor cursor;	/* run_trace "continue"; under rw */
	int		 refs;		/* under the table's lock */
	struct dsession	*next, *prev;	/* the table's list */
	bool		 linked;	/* on it; under the table's lock */
	struct dsession	*hnext;		/* the id's bucket */
};

/* The host memory a tenant's sessions are charged (never freed before the
 * table: a tenant's sessions point at it). */
struct tenant_mem {
	uid_t		 tenant;
	struct as_memcg	 mem;		/* parent: the table's mem */
	unsigned int	 nsessions;	/* in the table; under its lock */
	struct tenant_mem *next;	/* the tenant's bucket */
};

struct session_table {
	pthread_mutex_t	 lock;
	/* Every session's charge, through its tenant's (lib/memcontrol.h);
	 * its limit is --ram-total (0: none). */
	struct as_memcg	 mem;
	struct tenant_mem *tenants[TENANT_HASH_SIZE];	/* under lock */
	struct dsession	*head;
	struct dsession	*hash[SESSION_HASH_SIZE];
	unsigned int	 count;		/* live sessions */
	unsigned int	 max_total;
	unsigned int	 max_per_tenant;
};

void stable_init(struct session_table *t, unsigned int max_total,
    unsigned int max_per_tenant);
/* The charge of tenant's sessions (made on first use); NULL if out of
 * memory.  Its parent is t->mem. */
struct as_memcg *stable_tenant_mem(struct session_table *t, uid_t tenant);
/* The daemon-wide limit of every session's charge (--ram-total; 0: none). */
void stable_set_mem_limit(struct session_table *t, unsigned long long bytes);
/* Too little of --ram-total left for a new session (SESSION_MEM_MIN). */
#define SESSION_MEM_MIN	(256UL << 10)
bool stable_mem_full(struct session_table *t);
/* The bytes charged to every session of the daemon (the table's). */
unsigned long long stable_mem_charged(void);
/* Destroy every session (no request may be running). */
void stable_free(struct session_table *t);

/*
 * Make a session for tenant from p, label (may be NULL) and register it.
 * Returns 0 with *out referenced, -EDQUOT over a cap, -ENOMEM, -EINVAL
 * (as_session_new refused p), -EIO (no random bytes).
 */
int stable_create(struct session_table *t, uid_t tenant,
    const struct as_session_params *p, const char *label,
    struct dsession **out);
/*
 * Register s, loaded from a checkpoint, under its old id and tenant,
 * over the caps (what was kept is not refused).  0, -EEXIST, -ENOMEM.
 */
int stable_adopt(struct session_table *t, const uint8_t id[SESSION_ID_LEN],
    uid_t tenant, const char *label, time_t created,
    unsigned long ram_bytes, struct as_session *s,
    const struct as_trace_cursor *cursor);
/* Every session, referenced (n of them in a malloc'ed array; NULL, 0 if
 * none or out of memory). */
struct dsession **stable_snapshot(struct session_table *t, unsigned int *n);
/* Mark ds changed (after a request ran in it). */
void dsession_touch(struct dsession *ds);
/* The tenant's session with this id, referenced; NULL if none. */
struct dsession *stable_get(struct session_table *t, const uint8_t *id,
    size_t len, uid_t tenant);
void stable_put(struct session_table *t, struct dsession *ds);
/*
 * Unlink ds and free its machine: it is dead, its id unknown (the caller
 * holds ds->rw for writing and a reference; the shell goes with the last
 * reference).
 */
void stable_remove(struct session_table *t, struct dsession *ds);

/* A snapshot of one session for session_list. */
struct dsession_info {
	uint8_t		 id[SESSION_ID_LEN];
	char		 label[SESSION_LABEL_MAX + 1];
	unsigned int	 tasks;
	time_t		 created;
	unsigned long	 ram_bytes;
	unsigned long	 charged_bytes;	/* host bytes charged to it now */
};

/* The tenant's sessions: up to max into out; returns how many there are. */
unsigned int stable_list(struct session_table *t, uid_t tenant,
    struct dsession_info *out, unsigned int max);

/* The lock a READ-mode request on task pid holds while it runs. */
pthread_mutex_t *dsession_task_lock(struct dsession *ds, int pid);

#endif /* ASPACED_SESSION_TABLE_H */

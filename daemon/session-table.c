/*
 * session-table.c: the daemon's sessions (session-table.h).
 *
 * Locks, in the order they are taken (never the other way round):
 *
 *   1. session_table.lock (mutex): the list, the counts, every dsession's
 *      refs.  Held only briefly, never while waiting for another lock of
 *      this list except the core's session->lock in stable_list (a leaf,
 *      there, to count tasks).
 *   1a. dsession.ckpt_lock (mutex): a checkpoint of the session
 *      (persist.c) holds it around taking rw (WRITE) to serialize the
 *      session and writing its file; forgetting a destroyed session's
 *      file takes it alone, after rw is released.  Never taken with rw
 *      held.
 *   2. dsession.rw (rwlock): taken after the table lock has been released
 *      (stable_get hands out a reference, not a locked session).  READ
 *      for requests that run as one task and do not end a task or the
 *      session (mmap, munmap, access, maps, fork); WRITE for those that
 *      change the task set or run arbitrary commands (exit, run_trace,
 *      session_destroy).  dead is written under WRITE.
 *   3. dsession.task_lock[pid % SESSION_TASK_LOCKS] (mutex): READ-mode
 *      requests hold their task's stripe, so one task's own state (its
 *      VMA cache, its counters) sees one request at a time, while other
 *      tasks of the session run in parallel.
 *   4. The core's locks, taken inside libaspace calls only, in the order
 *      written at the top of lib/mm.c.
 *
 * The daemon's other locks are leaves: held around none of these, and
 * taken inside them only last.  pool.c's lock is taken by pool_yield()
 * between two lines of a trace that holds its session's rw; admission.c's
 * lock and server.c's ctx_lock and tokens_lock are taken alone.
 *
 * A dsession is freed when its last reference goes: the table holds one
 * while it is listed, each request in progress one more, and each
 * connection whose last request named it one (req.c's cache, so that a
 * run of requests to one session skips the table's lock).  Destroying a
 * session frees its machine at once; the shell waits for its references.
 * dirty (atomic) is set after every request and cleared by a checkpoint.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "metrics.h"
#include "session-table.h"

/* The table whose charge the metrics report (the daemon has one). */
static struct session_table *charged_table;

unsigned long long stable_mem_charged(void)
{
	struct session_table *t = __atomic_load_n(&charged_table,
	    __ATOMIC_ACQUIRE);
	long u = t != NULL ? memcg_usage(&t->mem) : 0;

	return u > 0 ? (unsigned long long)u : 0;
}

/* The tenant's bucket: a course has thousands, one per student. */
static struct tenant_mem **tenant_bucket(struct session_table *t,
    uid_t tenant)
{
	return &t->tenants[((uint32_t)tenant * 2654435761u) %
	    TENANT_HASH_SIZE];
}

/* tenant's entry, or NULL; the table is locked. */
static struct tenant_mem *tenant_find(struct session_table *t, uid_t tenant)
{
	struct tenant_mem *tm;

	for (tm = *tenant_bucket(t, tenant); tm != NULL &&
	    tm->tenant != tenant; tm = tm->next)
		;
	return tm;
}

struct as_memcg *stable_tenant_mem(struct session_table *t, uid_t tenant)
{
	struct tenant_mem *tm;

	pthread_mutex_lock(&t->lock);
	tm = tenant_find(t, tenant);
	if (tm == NULL && (tm = calloc(1, sizeof(*tm))) != NULL) {
		tm->tenant = tenant;
		tm->mem.parent = &t->mem;
		tm->next = *tenant_bucket(t, tenant);
		*tenant_bucket(t, tenant) = tm;
	}
	pthread_mutex_unlock(&t->lock);
	return tm != NULL ? &tm->mem : NULL;
}

bool stable_mem_full(struct session_table *t)
{
	long lim = __atomic_load_n(&t->mem.limit, __ATOMIC_RELAXED);

	return lim > 0 && memcg_usage(&t->mem) + (long)SESSION_MEM_MIN > lim;
}

void stable_set_mem_limit(struct session_table *t, unsigned long long bytes)
{
	long v = bytes > (unsigned long long)LONG_MAX ? LONG_MAX : (long)bytes;

	if (__atomic_load_n(&t->mem.limit, __ATOMIC_RELAXED) != v)
		__atomic_store_n(&t->mem.limit, v, __ATOMIC_RELAXED);
}

void stable_init(struct session_table *t, unsigned int max_total,
    unsigned int max_per_tenant)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	__atomic_store_n(&charged_table, t, __ATOMIC_RELEASE);
	t->max_total = max_total;
	t->max_per_tenant = max_per_tenant;
}

/*
 * session_free(): a machine goes; every TRIM_EVERY of them, the host
 * memory malloc keeps free goes back to the host (malloc_trim: a heap's
 * free pages below its top are kept otherwise, and the daemon's RSS
 * would stay at its high-water mark after a class's sessions end).
 */
#define TRIM_EVERY	256
static void session_free(struct as_session *s)
{
	static unsigned long freed;

	if (s == NULL)
		return;
	as_session_free(s);
	if (__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED) % TRIM_EVERY == 0)
		malloc_trim(0);
}

static void dsession_free(struct dsession *ds)
{
	int i;

	session_free(ds->s);
	pthread_rwlock_destroy(&ds->rw);
	pthread_mutex_destroy(&ds->ckpt_lock);
	for (i = 0; i < SESSION_TASK_LOCKS; i++)
		pthread_mutex_destroy(&ds->task_lock[i]);
	free(ds);
}

void stable_free(struct session_table *t)
{
	struct session_table *self = t;
	struct dsession *ds, *next;
	struct tenant_mem *tm;
	unsigned int i;

	for (ds = t->head; ds != NULL; ds = next) {
		next = ds->next;
		dsession_free(ds);
	}
	t->head = NULL;
	t->count = 0;
	for (i = 0; i < TENANT_HASH_SIZE; i++)
		while ((tm = t->tenants[i]) != NULL) {	/* no session
							 * points at it */
			t->tenants[i] = tm->next;
			free(tm);
		}
	__atomic_compare_exchange_n(&charged_table, &self, NULL, false,
	    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	pthread_mutex_destroy(&t->lock);
}

/* tenant's sessions in the table (locked): counted, not walked. */
static unsigned int tenant_count(struct session_table *t, uid_t tenant)
{
	struct tenant_mem *tm = tenant_find(t, tenant);

	return tm != NULL ? tm->nsessions : 0;
}

/* The bucket of an id: its bytes are random, so any of them will do. */
static struct dsession **bucket(struct session_table *t, const uint8_t *id)
{
	uint32_t h;

	memcpy(&h, id, sizeof(h));
	return &t->hash[h & (SESSION_HASH_SIZE - 1)];
}

static struct dsession *find_id(struct session_table *t, const uint8_t *id)
{
	struct dsession *ds;

	for (ds = *bucket(t, id); ds != NULL; ds = ds->hnext)
		if (memcmp(ds->id, id, SESSION_ID_LEN) == 0)
			return ds;
	return NULL;
}

static struct dsession *dsession_new(uid_t tenant, const char *label)
{
	struct dsession *ds = calloc(1, sizeof(*ds));
	int i;

	if (ds == NULL)
		return NULL;
	ds->tenant = tenant;
	ds->created = time(NULL);
	snprintf(ds->label, sizeof(ds->label), "%s", label ? label : "");
	pthread_rwlock_init(&ds->rw, NULL);
	pthread_mutex_init(&ds->ckpt_lock, NULL);
	as_trace_cursor_init(&ds->cursor);
	ds->dirty = true;
	for (i = 0; i < SESSION_TASK_LOCKS; i++)
		pthread_mutex_init(&ds->task_lock[i], NULL);
	ds->refs = 2;		/* the table's and the caller's */
	return ds;
}

static void table_link(struct session_table *t, struct dsession *ds)
{
	struct tenant_mem *tm = tenant_find(t, ds->tenant);

	assert(tm != NULL);	/* made by stable_tenant_mem() first */
	tm->nsessions++;
	ds->prev = NULL;
	ds->next = t->head;
	if (t->head != NULL)
		t->head->prev = ds;
	t->head = ds;
	ds->linked = true;
	ds->hnext = *bucket(t, ds->id);
	*bucket(t, ds->id) = ds;
	t->count++;
}

/* Check the caps and link ds under a fresh id; the table is locked. */
static int table_add(struct session_table *t, struct dsession *ds)
{
	if (t->count >= t->max_total ||
	    tenant_count(t, ds->tenant) >= t->max_per_tenant)
		return -EDQUOT;
	do {
		if (RAND_bytes(ds->id, SESSION_ID_LEN) != 1)
			return -EIO;
	} while (find_id(t, ds->id) != NULL);
	table_link(t, ds);
	return 0;
}

/* Is there room for one more of tenant's sessions? */
static bool table_has_room(struct session_table *t, uid_t tenant)
{
	bool ok;

	pthread_mutex_lock(&t->lock);
	ok = t->count < t->max_total &&
	    tenant_count(t, tenant) < t->max_per_tenant;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* A session refused by a cap: counted, logged (rate-limited), -EDQUOT. */
static int quota_hit(void)
{
	metrics_inc(MC_LIMIT_SESSIONS);
	log_abuse(ABUSE_LIMITS, LOG_NOTICE, "session_create refused: over "
	    "the session quota");
	return -EDQUOT;
}

int stable_create(struct session_table *t, uid_t tenant,
    const struct as_session_params *p, const char *label,
    struct dsession **out)
{
	struct as_session_params q = *p;
	struct dsession *ds;
	int err;

	if (!table_has_room(t, tenant))	/* before the costly part */
		return quota_hit();
	if ((q.mem_parent = stable_tenant_mem(t, tenant)) == NULL ||
	    (ds = dsession_new(tenant, label)) == NULL)
		return -ENOMEM;
	ds->ram_bytes = p->ram_bytes;
	if ((ds->s = as_session_new(&q)) == NULL) {
		dsession_free(ds);
		return -EINVAL;
	}
	pthread_mutex_lock(&t->lock);
	err = table_add(t, ds);
	pthread_mutex_unlock(&t->lock);
	if (err != 0) {
		dsession_free(ds);
		return err == -EDQUOT ? quota_hit() : err;
	}
	metrics_inc(MC_SESSIONS_CREATED);
	metrics_add(MC_SESSIONS_RAM_ADDED, ds->ram_bytes);
	*out = ds;
	return 0;
}

struct dsession *stable_get(struct session_table *t, const uint8_t *id,
    size_t len, uid_t tenant)
{
	struct dsession *ds;

	if (len != SESSION_ID_LEN)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ds = find_id(t, id);
	if (ds != NULL && ds->tenant != tenant)
		ds = NULL;	/* the same answer as no session at all */
	if (ds != NULL)
		ds->refs++;
	pthread_mutex_unlock(&t->lock);
	return ds;
}

void stable_put(struct session_table *t, struct dsession *ds)
{
	int refs;

	pthread_mutex_lock(&t->lock);
	refs = --ds->refs;
	pthread_mutex_unlock(&t->lock);
	if (refs == 0)
		dsession_free(ds);
}

int stable_adopt(struct session_table *t, const uint8_t id[SESSION_ID_LEN],
    uid_t tenant, const char *label, time_t created,
    unsigned long ram_bytes, struct as_session *s,
    const struct as_trace_cursor *cursor)
{
	struct as_memcg *tm = stable_tenant_mem(t, tenant);
	struct dsession *ds;
	int err = 0;

	if (tm == NULL || (ds = dsession_new(tenant, label)) == NULL)
		return -ENOMEM;
	/* Charged from now on, with what it holds (not refused: kept). */
	as_session_mem_attach(s, tm);
	memcpy(ds->id, id, SESSION_ID_LEN);
	ds->created = created;
	ds->ram_bytes = ram_bytes;
	ds->cursor = *cursor;
	ds->dirty = false;	/* its file is what it is */
	ds->refs = 1;		/* the table's */
	pthread_mutex_lock(&t->lock);
	if (find_id(t, id) != NULL)
		err = -EEXIST;
	else
		table_link(t, ds);
	pthread_mutex_unlock(&t->lock);
	if (err != 0) {
		dsession_free(ds);
		return err;
	}
	ds->s = s;
	/* Counted as stable_create counts, so stable_remove's subtraction
	 * matches (the gauges are differences of these counters). */
	metrics_inc(MC_SESSIONS_RESTORED);
	metrics_add(MC_SESSIONS_RAM_ADDED, ds->ram_bytes);
	return 0;
}

struct dsession **stable_snapshot(struct session_table *t, unsigned int *n)
{
	struct dsession **v, *ds;
	unsigned int i = 0;

	pthread_mutex_lock(&t->lock);
	v = t->count > 0 ? calloc(t->count, sizeof(*v)) : NULL;
	for (ds = t->head; v != NULL && ds != NULL; ds = ds->next) {
		ds->refs++;
		v[i++] = ds;
	}
	pthread_mutex_unlock(&t->lock);
	*n = i;
	return v;
}

void dsession_touch(struct dsession *ds)
{
	if (!__atomic_load_n(&ds->dirty, __ATOMIC_RELAXED))
		__atomic_store_n(&ds->dirty, true, __ATOMIC_RELAXED);
}

void stable_remove(struct session_table *t, struct dsession *ds)
{
	struct dsession **pp;
	bool found;

	pthread_mutex_lock(&t->lock);
	if ((found = ds->linked)) {
		ds->linked = false;
		if (ds->prev != NULL)
			ds->prev->next = ds->next;
		else
			t->head = ds->next;
		if (ds->next != NULL)
			ds->next->prev = ds->prev;
		tenant_find(t, ds->tenant)->nsessions--;
		for (pp = bucket(t, ds->id); *pp != ds; pp = &(*pp)->hnext)
			;
		*pp = ds->hnext;
		t->count--;
		ds->refs--;	/* the table's; the caller still holds one */
		metrics_inc(MC_SESSIONS_DESTROYED);
		metrics_add(MC_SESSIONS_RAM_REMOVED, ds->ram_bytes);
	}
	ds->dead = true;
	pthread_mutex_unlock(&t->lock);
	/* Connections may keep the shell referenced (req.c caches it):
	 * give the machine's memory back now. */
	session_free(ds->s);
	ds->s = NULL;
}

static unsigned int count_tasks(struct as_session *s)
{
	struct task *tk;
	unsigned int n = 0;

	pthread_mutex_lock(&s->lock);
	for (tk = s->tasks; tk != NULL; tk = tk->next)
		n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned int stable_list(struct session_table *t, uid_t tenant,
    struct dsession_info *out, unsigned int max)
{
	struct dsession *ds;
	unsigned int n = 0;

	pthread_mutex_lock(&t->lock);
	for (ds = t->head; ds != NULL; ds = ds->next) {
		if (ds->tenant != tenant)
			continue;
		if (n < max) {
			memcpy(out[n].id, ds->id, SESSION_ID_LEN);
			memcpy(out[n].label, ds->label, sizeof(out[n].label));
			out[n].tasks = count_tasks(ds->s);
			out[n].created = ds->created;
			out[n].ram_bytes = ds->ram_bytes;
			out[n].charged_bytes = as_session_mem(ds->s);
		}
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

pthread_mutex_t *dsession_task_lock(struct dsession *ds, int pid)
{
	unsigned int k = (unsigned int)pid % SESSION_TASK_LOCKS;

	return &ds->task_lock[k];
}

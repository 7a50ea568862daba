/*
 * persist.c: sessions kept across restarts (persist.h).
 *
 * A session file, all integers little-endian:
 *
 *	"ASPACEDS" u32 version  u32 H
 *	H bytes:  id[16] u64 created u64 ram_bytes
 *	          i32 cursor.current u64 win_start u64 win_end
 *	          u64 lineno i32 errors
 *	          u16 n, tenant name[n]  u16 n, label[n]
 *	u64 B, then B bytes of libaspace's checkpoint (checkpoint.h)
 *	u32 CRC-32 of every byte before it
 *
 * The tenant is kept by name (tokens.h: "uid:1000", "token:alice",
 * "cert:CN"), since tenant numbers are made afresh by each run.  The id
 * inside must be the one the file is named by: a file copied or renamed
 * under another session's name is set aside (NAME.corrupt), not loaded.
 *
 * Destroyed sessions are remembered in DIR/destroyed.ids, so that an old
 * copy of a destroyed session's file put back (a backup restored, a
 * replayed file) does not bring it back:
 *
 *	"ASPACEDT" u32 version (1), then id[16] records, appended
 *
 * one record per destroy, written and fdatasync'ed before the session's
 * file is unlinked and the directory fsync'ed, all before the destroy is
 * answered.  It is bounded: past 2 * TOMB_KEEP records it is rewritten
 * (atomically) with the newest TOMB_KEEP.  A file found at start whose id
 * is listed is renamed NAME.destroyed and not loaded.
 *
 * A failed save (ENOSPC, EDQUOT, EIO...) keeps the previous file (the new
 * one is a temporary until renamed), is counted by reason, retried at the
 * next interval, and shown (metrics_ckpt_health()): the STATUS= line and
 * aspaced_checkpoint_oldest_unsaved_seconds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "log.h"
#include "metrics.h"
#include "persist.h"

#define ID_HEX		(2 * SESSION_ID_LEN)
#define FILE_SLACK	(256UL << 20)	/* metadata beyond the RAM itself */
#define TOMB_MAGIC	"ASPACEDT"
#define TOMB_VERSION	1
#define TOMB_HEAD	12		/* magic, version */
#define TOMB_KEEP	65536		/* ids kept at a compaction */
#define TOMB_FILE	"destroyed.ids"

struct persist {
	char		*dir;		/* STATE/sessions */
	struct tenants	*tn;
	unsigned long	 max_file;
	struct session_table *st;	/* with the thread */
	unsigned int	 interval_ms;
	pthread_t	 thread;
	bool		 running, stop;
	pthread_mutex_t	 lock;		/* stop */
	pthread_cond_t	 cond;
	pthread_mutex_t	 tomb_lock;	/* tomb_fd, tomb_n; a leaf */
	int		 tomb_fd;	/* DIR/destroyed.ids, O_APPEND; -1 */
	unsigned long	 tomb_n;	/* records in it */
	uint8_t		*tomb;		/* at restore: sorted ids */
	size_t		 ntomb;
	pthread_mutex_t	 health_lock;	/* below; a leaf */
	int		 fail_err;	/* the last pass's last failure */
	int64_t		 fail_since;	/* 0: not failing */
};

/* --- encoding ------------------------------------------------------------ */

static void set_le(char *at, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		at[i] = (char)(v >> (8 * i));
}

static int put_le(struct as_buf *b, uint64_t v, int bytes)
{
	char c[8];

	set_le(c, v, bytes);
	return as_buf_put(b, c, (size_t)bytes);
}

static int put_str(struct as_buf *b, const char *s)
{
	size_t n = strlen(s);

	return put_le(b, n, 2) != 0 ? -1 : as_buf_put(b, s, n);
}

/* The header of ds (its rw lock held), tenant named tenant. */
static int put_header(struct as_buf *b, const struct dsession *ds,
    const char *tenant)
{
	const struct as_trace_cursor *c = &ds->cursor;
	size_t at;
	int r = 0;

	r |= as_buf_put(b, PERSIST_MAGIC, 8);
	r |= put_le(b, PERSIST_VERSION, 4);
	at = b->len;
	r |= put_le(b, 0, 4);			/* H, set below */
	r |= as_buf_put(b, (const char *)ds->id, SESSION_ID_LEN);
	r |= put_le(b, (uint64_t)ds->created, 8);
	r |= put_le(b, ds->ram_bytes, 8);
	r |= put_le(b, (uint32_t)c->current, 4);
	r |= put_le(b, c->win_start, 8);
	r |= put_le(b, c->win_end, 8);
	r |= put_le(b, c->lineno, 8);
	r |= put_le(b, (uint32_t)c->errors, 4);
	r |= put_str(b, tenant);
	r |= put_str(b, ds->label);
	if (r != 0 || b->overflow)
		return -ENOSPC;
	set_le(b->data + at, b->len - at - 4, 4);
	return 0;
}

/* ds as a whole file in b (ds->rw held exclusively). */
static int encode(struct persist *p, struct dsession *ds, struct as_buf *b)
{
	char tenant[TENANT_NAME_MAX + 1];
	size_t at;
	uint32_t crc;
	int err;

	if (!tenants_name(p->tn, ds->tenant, tenant, sizeof(tenant)))
		return -ENOENT;
	if ((err = put_header(b, ds, tenant)) != 0)
		return err;
	at = b->len;
	if (put_le(b, 0, 8) != 0)
		return -ENOSPC;
	if ((err = as_session_save(ds->s, b)) != 0)
		return err;
	set_le(b->data + at, b->len - at - 8, 8);
	crc = as_crc32(0, b->data, b->len);
	return put_le(b, crc, 4) != 0 || b->overflow ? -ENOSPC : 0;
}

/* --- decoding ------------------------------------------------------------ */

struct reader {
	const uint8_t	*p, *end;
	bool		 bad;
};

static uint64_t get_le(struct reader *r, int bytes)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->end - r->p < bytes) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	return v;
}

/* A u16-counted string of at most max bytes, NUL-free. */
static void get_str(struct reader *r, char *out, size_t max)
{
	size_t n = (size_t)get_le(r, 2);

	if (r->bad || n > max || (size_t)(r->end - r->p) < n ||
	    memchr(r->p, '\0', n) != NULL) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
}

struct saved {
	uint8_t		 id[SESSION_ID_LEN];
	time_t		 created;
	unsigned long	 ram_bytes;
	struct as_trace_cursor cursor;
	char		 tenant[TENANT_NAME_MAX + 1];
	char		 label[SESSION_LABEL_MAX + 1];
	const uint8_t	*blob;
	size_t		 blob_len;
};

static const char *decode_header(struct reader *r, struct saved *s)
{
	struct as_trace_cursor *c = &s->cursor;

	memcpy(s->id, r->p, SESSION_ID_LEN);
	r->p += SESSION_ID_LEN;
	s->created = (time_t)get_le(r, 8);
	s->ram_bytes = get_le(r, 8);
	c->current = (int)(uint32_t)get_le(r, 4);
	c->win_start = get_le(r, 8);
	c->win_end = get_le(r, 8);
	c->lineno = get_le(r, 8);
	c->errors = (int)(uint32_t)get_le(r, 4);
	get_str(r, s->tenant, TENANT_NAME_MAX);
	get_str(r, s->label, SESSION_LABEL_MAX);
	if (r->bad || r->p != r->end)
		return "bad header";
	if (s->tenant[0] == '\0' || c->current < 0 || c->errors < 0)
		return "bad header fields";
	return NULL;
}

/* Check the frame of a file of len bytes and fill s; NULL or why not. */
static const char *decode(const uint8_t *data, size_t len, struct saved *s)
{
	struct reader r = { data, data + len, false }, h;
	struct reader tail = { data + len - 4, data + len, false };
	const char *e;
	uint64_t hl, bl;

	if (len < 8 + 4 + 4 + SESSION_ID_LEN + 8 + 4 ||
	    memcmp(data, PERSIST_MAGIC, 8) != 0)
		return "not a session file";
	if (as_crc32(0, data, len - 4) != (uint32_t)get_le(&tail, 4))
		return "checksum mismatch (corrupt or truncated)";
	r.p += 8;
	if (get_le(&r, 4) != PERSIST_VERSION)
		return "unknown version";
	hl = get_le(&r, 4);
	if (hl < SESSION_ID_LEN || hl > (uint64_t)(r.end - r.p))
		return "bad header length";
	h = (struct reader){ r.p, r.p + hl, false };
	if ((e = decode_header(&h, s)) != NULL)
		return e;
	r.p += hl;
	bl = get_le(&r, 8);
	if (r.bad || bl != (uint64_t)(r.end - r.p) - 4)
		return "bad checkpoint length";
	s->blob = r.p;
	s->blob_len = (size_t)bl;
	return NULL;
}

/* --- files --------------------------------------------------------------- */

static void id_hex(const uint8_t *id, char out[ID_HEX + 1])
{
	int i;

	for (i = 0; i < SESSION_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* DIR/ID.ck, or the temporary DIR/.ID.tmp it is written as. */
static void file_path(struct persist *p, const uint8_t *id, bool tmp,
    char *out, size_t size)
{
	char hex[ID_HEX + 1];

	id_hex(id, hex);
	snprintf(out, size, tmp ? "%s/.%s.tmp" : "%s/%s.ck", p->dir, hex);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

/* Write len bytes as path, atomically: tmp, fsync, rename, fsync dir. */
static int write_atomic(struct persist *p, const char *tmp, const char *path,
    const char *data, size_t len)
{
	int fd, err;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, data, len);
	if (err == 0 && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && err == 0)
		err = -errno;
	if (err == 0 && rename(tmp, path) != 0)
		err = -errno;
	if (err != 0) {
		unlink(tmp);
		return err;
	}
	return sync_dir(p->dir);
}

static uint8_t *read_file(const char *path, unsigned long max, size_t *len,
    const char **why);

/* --- saving -------------------------------------------------------------- */

/* Serialize ds if it is live and changed; 1 when b holds it. */
static int snapshot(struct persist *p, struct dsession *ds, struct as_buf *b)
{
	int err = 0;

	pthread_rwlock_wrlock(&ds->rw);
	if (ds->dead || !__atomic_load_n(&ds->dirty, __ATOMIC_RELAXED)) {
		pthread_rwlock_unlock(&ds->rw);
		return 0;
	}
	__atomic_store_n(&ds->dirty, false, __ATOMIC_RELAXED);
	err = encode(p, ds, b);
	if (err != 0)
		__atomic_store_n(&ds->dirty, true, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&ds->rw);
	return err == 0 ? 1 : err;
}

int persist_save(struct persist *p, struct dsession *ds)
{
	char path[4096], tmp[4096];
	bool written = false, encoded = true;
	struct as_buf b;
	int r;

	as_buf_init(&b, p->max_file);
	pthread_mutex_lock(&ds->ckpt_lock);
	if ((r = snapshot(p, ds, &b)) == 1) {
		file_path(p, ds->id, false, path, sizeof(path));
		file_path(p, ds->id, true, tmp, sizeof(tmp));
		if ((r = write_atomic(p, tmp, path, b.data, b.len)) == 0)
			written = true;
		else
			dsession_touch(ds);	/* try again next time */
	} else if (r < 0)
		encoded = false;	/* not the disk's doing */
	if (written)
		ds->unsaved_since = 0;
	else if (r < 0 && ds->unsaved_since == 0)
		ds->unsaved_since = (int64_t)time(NULL);
	pthread_mutex_unlock(&ds->ckpt_lock);
	as_buf_free(&b);
	if (written)
		metrics_inc(MC_CKPT_WRITTEN);
	if (r < 0) {
		metrics_inc(!encoded ? MC_CKPT_FAIL_OTHER :
		    r == -ENOSPC ? MC_CKPT_FAIL_ENOSPC :
		    r == -EDQUOT ? MC_CKPT_FAIL_EDQUOT :
		    r == -EIO ? MC_CKPT_FAIL_EIO : MC_CKPT_FAIL_OTHER);
		log_msg(LOG_ERR, "state: cannot save a session in %s: %s "
		    "(its previous file is kept)", p->dir, strerror(-r));
	}
	return r < 0 ? r : 0;
}

/* After a pass over every session: the health metrics_ckpt_health() shows;
 * err the last failure (0: none), unsaved the oldest unsaved_since. */
static void health_update(struct persist *p, int err, int64_t unsaved)
{
	int64_t since;

	pthread_mutex_lock(&p->health_lock);
	if (err == 0)
		p->fail_since = 0;
	else if (p->fail_since == 0)
		p->fail_since = unsaved != 0 ? unsaved : (int64_t)time(NULL);
	if (err != 0 && p->fail_err == 0)
		log_msg(LOG_ERR, "state: checkpoints failing: %s",
		    strerror(err));
	else if (err == 0 && p->fail_err != 0)
		log_msg(LOG_NOTICE, "state: checkpoints saved again");
	p->fail_err = err;
	since = p->fail_since;
	pthread_mutex_unlock(&p->health_lock);
	metrics_ckpt_health(err, since, unsaved);
}

unsigned int persist_save_all(struct persist *p, struct session_table *st)
{
	struct dsession **v;
	unsigned int i, n, failed = 0;

	int64_t oldest = 0, u;
	int r, err = 0;

	v = stable_snapshot(st, &n);
	for (i = 0; i < n; i++) {
		if ((r = persist_save(p, v[i])) != 0) {
			failed++;
			err = -r;
		}
		pthread_mutex_lock(&v[i]->ckpt_lock);
		u = v[i]->unsaved_since;
		pthread_mutex_unlock(&v[i]->ckpt_lock);
		if (u != 0 && (oldest == 0 || u < oldest))
			oldest = u;
		stable_put(st, v[i]);
	}
	free(v);
	health_update(p, err, oldest);
	return failed;
}

/* --- destroyed ids ------------------------------------------------------ */

static void tomb_path(struct persist *p, bool tmp, char *out, size_t size)
{
	snprintf(out, size, tmp ? "%s/." TOMB_FILE ".tmp" : "%s/" TOMB_FILE,
	    p->dir);
}

/* DIR/destroyed.ids whole (header checked); its records and their count,
 * or NULL (none, or unreadable: said). */
static uint8_t *tomb_read(struct persist *p, size_t *n)
{
	char path[4096];
	const char *why;
	uint8_t *data;
	size_t len = 0;

	*n = 0;
	tomb_path(p, false, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return NULL;
	if ((data = read_file(path, (2UL * TOMB_KEEP + 1) * SESSION_ID_LEN +
	    TOMB_HEAD, &len, &why)) == NULL) {
		log_msg(LOG_ERR, "state: %s: %s", path, why);
		return NULL;
	}
	if (len < TOMB_HEAD || memcmp(data, TOMB_MAGIC, 8) != 0 ||
	    data[8] != TOMB_VERSION || data[9] || data[10] || data[11]) {
		log_msg(LOG_ERR, "state: %s: not a list of destroyed ids",
		    path);
		free(data);
		return NULL;
	}
	*n = (len - TOMB_HEAD) / SESSION_ID_LEN;	/* a torn last one: out */
	memmove(data, data + TOMB_HEAD, *n * SESSION_ID_LEN);
	return data;
}

/* Open the list for appending (made, with its header, if need be), after
 * rewriting it with its newest TOMB_KEEP ids if it holds more; tomb_lock
 * held.  0 or -errno. */
static int tomb_open(struct persist *p)
{
	char path[4096], tmp[4096];
	uint8_t *ids;
	size_t n, keep;
	char *out;
	int err = 0;

	if (p->tomb_fd >= 0 && p->tomb_n < 2UL * TOMB_KEEP)
		return 0;
	if (p->tomb_fd >= 0)
		close(p->tomb_fd);
	p->tomb_fd = -1;
	tomb_path(p, false, path, sizeof(path));
	tomb_path(p, true, tmp, sizeof(tmp));
	ids = tomb_read(p, &n);
	if (ids == NULL || n > TOMB_KEEP) {	/* (re)write it */
		keep = n > TOMB_KEEP ? TOMB_KEEP : n;
		if ((out = malloc(TOMB_HEAD + keep * SESSION_ID_LEN)) == NULL) {
			free(ids);
			return -ENOMEM;
		}
		memcpy(out, TOMB_MAGIC, 8);
		set_le(out + 8, TOMB_VERSION, 4);
		if (keep > 0)
			memcpy(out + TOMB_HEAD, ids + (n - keep) *
			    SESSION_ID_LEN, keep * SESSION_ID_LEN);
		err = write_atomic(p, tmp, path, out,
		    TOMB_HEAD + keep * SESSION_ID_LEN);
		free(out);
		n = keep;
	}
	free(ids);
	if (err != 0)
		return err;
	p->tomb_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (p->tomb_fd < 0)
		return -errno;
	p->tomb_n = n;
	return 0;
}

/* Note id as destroyed, durably (fdatasync).  0 or -errno. */
static int tomb_add(struct persist *p, const uint8_t *id)
{
	int err;

	pthread_mutex_lock(&p->tomb_lock);
	if ((err = tomb_open(p)) == 0) {
		err = write_all(p->tomb_fd, (const char *)id, SESSION_ID_LEN);
		if (err == 0 && fdatasync(p->tomb_fd) != 0)
			err = -errno;
		if (err == 0)
			p->tomb_n++;
		else {		/* a torn record: rewritten at the next open */
			close(p->tomb_fd);
			p->tomb_fd = -1;
		}
	}
	pthread_mutex_unlock(&p->tomb_lock);
	return err;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SESSION_ID_LEN);
}

static bool tomb_has(struct persist *p, const uint8_t *id)
{
	return p->ntomb > 0 && bsearch(id, p->tomb, p->ntomb, SESSION_ID_LEN,
	    id_cmp) != NULL;
}

/*
 * A destroyed session: its id listed as destroyed, then its file removed
 * and the directory synced, before the destroy is answered (the caller
 * answers after this returns).  Failures are said and counted; the
 * session is gone from memory either way.
 */
void persist_forget(struct persist *p, struct dsession *ds)
{
	char path[4096];
	int err;

	pthread_mutex_lock(&ds->ckpt_lock);
	file_path(p, ds->id, false, path, sizeof(path));
	if ((err = tomb_add(p, ds->id)) != 0)
		log_msg(LOG_ERR, "state: cannot note %s as destroyed: %s",
		    path, strerror(-err));
	if (unlink(path) != 0 && errno != ENOENT) {
		err = -errno;
		log_msg(LOG_ERR, "state: cannot remove %s: %s", path,
		    strerror(errno));
	} else if ((err = sync_dir(p->dir)) != 0)
		log_msg(LOG_ERR, "state: cannot sync %s: %s", p->dir,
		    strerror(-err));
	ds->unsaved_since = 0;
	pthread_mutex_unlock(&ds->ckpt_lock);
}

/* --- loading ------------------------------------------------------------- */

/* The whole file, at most max bytes; NULL with why. */
static uint8_t *read_file(const char *path, unsigned long max, size_t *len,
    const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint8_t *data = NULL;
	struct stat sb;
	size_t got = 0;

	*why = "cannot read it";
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	*why = "larger than any session this daemon keeps";
	if ((unsigned long long)sb.st_size > max ||
	    (data = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, data + got, (size_t)sb.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	return data;
}

/* Load one file, named name, into st; NULL, or why it was skipped (and
 * *kind, the metric and suffix it is set aside under). */
static const char *load_one(struct persist *p, struct session_table *st,
    const char *path, const char *name, char *why, size_t whylen,
    enum metrics_counter *kind)
{
	char hex[ID_HEX + 1];
	const char *e = NULL;
	struct as_session *s = NULL;
	struct saved sv;
	uint8_t *data;
	size_t len = 0;
	uid_t tenant;

	*kind = MC_CKPT_ASIDE_CORRUPT;
	if ((data = read_file(path, p->max_file, &len, &e)) == NULL)
		return e;
	if ((e = decode(data, len, &sv)) == NULL) {
		id_hex(sv.id, hex);
		if (strncmp(name, hex, ID_HEX) != 0) {
			snprintf(why, whylen, "its name is not the id inside "
			    "(%s)", hex);
			e = why;
			*kind = MC_CKPT_ASIDE_NAME;
		} else if (tomb_has(p, sv.id)) {
			e = "a destroyed session (an old copy put back?)";
			*kind = MC_CKPT_ASIDE_DESTROYED;
		}
	}
	if (e == NULL &&
	    as_session_load(sv.blob, sv.blob_len, &s, why, whylen) != 0)
		e = why;
	if (e == NULL &&
	    (tenant = tenants_intern(p->tn, sv.tenant)) == TENANT_NONE)
		e = "no room for its tenant";
	if (e == NULL && stable_adopt(st, sv.id, tenant, sv.label, sv.created,
	    sv.ram_bytes, s, &sv.cursor) != 0)
		e = "its id is taken";
	if (e != NULL)
		as_session_free(s);
	free(data);
	return e;
}

/* NAME is 32 hex digits and ".ck". */
static bool is_session_file(const char *name)
{
	size_t i;

	if (strlen(name) != ID_HEX + 3 || strcmp(name + ID_HEX, ".ck") != 0)
		return false;
	for (i = 0; i < ID_HEX; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* Keep a file that did not load, out of the way of the next start:
 * NAME.destroyed for a destroyed session's, else NAME.corrupt. */
static void set_aside(const char *path, const char *why,
    enum metrics_counter kind)
{
	char bad[4096 + sizeof(".destroyed")];

	metrics_inc(kind);
	snprintf(bad, sizeof(bad), "%s.%s", path,
	    kind == MC_CKPT_ASIDE_DESTROYED ? "destroyed" : "corrupt");
	log_msg(LOG_ERR, "state: skipping %s: %s (kept as %s)", path, why,
	    bad);
	if (rename(path, bad) != 0)
		log_msg(LOG_ERR, "state: cannot rename %s: %s", path,
		    strerror(errno));
}

unsigned int persist_restore(struct persist *p, struct session_table *st)
{
	char path[4096], why[256];
	enum metrics_counter kind;
	struct dirent *de;
	unsigned int n = 0;
	const char *e;
	DIR *d;

	if ((d = opendir(p->dir)) == NULL)
		return 0;
	if ((p->tomb = tomb_read(p, &p->ntomb)) != NULL)
		qsort(p->tomb, p->ntomb, SESSION_ID_LEN, id_cmp);
	while ((de = readdir(d)) != NULL) {
		if (!is_session_file(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->dir, de->d_name);
		why[0] = '\0';
		if ((e = load_one(p, st, path, de->d_name, why, sizeof(why),
		    &kind)) != NULL)
			set_aside(path, e, kind);
		else
			n++;
	}
	closedir(d);
	free(p->tomb);
	p->tomb = NULL;
	p->ntomb = 0;
	return n;
}

/* --- the checkpoint thread ----------------------------------------------- */

static void *persist_main(void *arg)
{
	struct persist *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += p->interval_ms / 1000;
		ts.tv_nsec += (long)(p->interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		persist_save_all(p, p->st);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int persist_start(struct persist *p, struct session_table *st,
    unsigned int interval_ms)
{
	if (interval_ms == 0)
		return 0;
	p->st = st;
	p->interval_ms = interval_ms;
	if (pthread_create(&p->thread, NULL, persist_main, p) != 0)
		return -EAGAIN;
	p->running = true;
	return 0;
}

struct persist *persist_new(const char *dir, struct tenants *tn,
    unsigned long ram_max)
{
	struct persist *p = calloc(1, sizeof(*p));
	size_t n = strlen(dir) + sizeof("/sessions");

	if (p == NULL || (p->dir = malloc(n)) == NULL) {
		free(p);
		return NULL;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		log_msg(LOG_ERR, "state: cannot make %s: %s", dir,
		    strerror(errno));
	snprintf(p->dir, n, "%s/sessions", dir);
	if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "state: cannot make %s: %s", p->dir,
		    strerror(errno));
		free(p->dir);
		free(p);
		return NULL;
	}
	p->tn = tn;
	p->max_file = ram_max + FILE_SLACK;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_mutex_init(&p->tomb_lock, NULL);
	pthread_mutex_init(&p->health_lock, NULL);
	p->tomb_fd = -1;
	return p;
}

void persist_free(struct persist *p)
{
	if (p == NULL)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	if (p->tomb_fd >= 0)
		close(p->tomb_fd);
	pthread_mutex_destroy(&p->tomb_lock);
	pthread_mutex_destroy(&p->health_lock);
	free(p->tomb);
	free(p->dir);
	free(p);
}

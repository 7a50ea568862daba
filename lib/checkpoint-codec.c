/*
 * checkpoint-codec.c: the checkpoint format's building blocks, shared by
 * the saver (checkpoint-save.c) and the loader (checkpoint-load.c,
 * checkpoint-verify.c): the section tags and special VMA names, integers
 * little-endian, the header's reseal, the saver's putters with section
 * framing, the loader's bounds-checked getters and its error recording
 * (ck_fail(), BAD()), and the pointer tables that number the objects a
 * checkpoint refers to by index.  The format is described in checkpoint.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"

/* The sections' tags, in their order in the body (S_*). */
const char *const sect_tags[] = {
	"SESS", "FRAM", "SWAP", "FILE", "OPEN", "AVMA", "MMS ", "TASK", "SHM ",
	"LRU "
};

/* The special VMA names, by their code in a checkpoint (0: none). */
const char *const special_names[] = {
	NULL, "[vvar]", "[vvar_vclock]", "[vdso]"
};

/* --- little-endian integers and the header -------------------------------- */

/* Store v in the n bytes at p, little-endian. */
void ck_le_put(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The n bytes at p as a little-endian integer. */
uint64_t ck_le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Set the header's body length and CRC-32 from the bytes (checkpoint.h). */
int as_checkpoint_reseal(void *data, size_t len)
{
	uint8_t *p = data;

	if (len < AS_CKPT_HEADER_SIZE)
		return -EINVAL;
	ck_le_put(p + 16, len - AS_CKPT_HEADER_SIZE, 8);
	ck_le_put(p + 24, as_crc32(0, p + AS_CKPT_HEADER_SIZE,
	    len - AS_CKPT_HEADER_SIZE), 4);
	return 0;
}

/* --- pointer tables: object -> index, for the saver ----------------------- */

/* The first hash slot of p, for a power-of-two hcap. */
static size_t ptab_hash(const void *p, size_t hcap)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL) &
	    (hcap - 1);
}

/* The index of p, or NONE. */
uint32_t ck_ptab_get(const struct ptab *t, const void *p)
{
	size_t h;

	if (t->hcap == 0 || p == NULL)
		return NONE;
	for (h = ptab_hash(p, t->hcap); t->key[h] != NULL;
	    h = (h + 1) & (t->hcap - 1))
		if (t->key[h] == p)
			return t->val[h];
	return NONE;
}

/* Put p -> v in the first free hash slot (the table has room). */
static void ptab_slot(struct ptab *t, const void *p, uint32_t v)
{
	size_t h = ptab_hash(p, t->hcap);

	while (t->key[h] != NULL)
		h = (h + 1) & (t->hcap - 1);
	t->key[h] = p;
	t->val[h] = v;
}

/* Double the hash part and the array as needed; 0 or -ENOMEM. */
static int ptab_grow(struct ptab *t)
{
	size_t ncap = t->hcap ? t->hcap * 2 : 64, ocap, i;
	const void **key = calloc(ncap, sizeof(*key)), **old = t->key, **obj;
	uint32_t *val = calloc(ncap, sizeof(*val)), *oval = t->val;

	if (key == NULL || val == NULL ||
	    (obj = realloc(t->obj, ncap / 2 * sizeof(*obj))) == NULL) {
		free(key);
		free(val);
		return -ENOMEM;
	}
	t->obj = obj;
	t->cap = (uint32_t)(ncap / 2);
	t->key = key;
	t->val = val;
	ocap = t->hcap;
	t->hcap = ncap;
	for (i = 0; i < ocap; i++)
		if (old[i] != NULL)
			ptab_slot(t, old[i], oval[i]);
	free(old);
	free(oval);
	return 0;
}

/* Add p (not NULL) if new; 0, or -ENOMEM / -EOVERFLOW. */
int ck_ptab_add(struct ptab *t, const void *p)
{
	if (p == NULL || ck_ptab_get(t, p) != NONE)
		return 0;
	if (t->n >= NONE - 1)
		return -EOVERFLOW;
	if (t->n == t->cap && ptab_grow(t) != 0)
		return -ENOMEM;
	t->obj[t->n] = p;
	ptab_slot(t, p, t->n++);
	return 0;
}

/* Map p to v without adding it to the array (VMA ordinals). */
int ck_ptab_map(struct ptab *t, const void *p, uint32_t v)
{
	if ((size_t)t->n * 2 + 2 >= t->hcap && ptab_grow(t) != 0)
		return -ENOMEM;
	t->n++;
	ptab_slot(t, p, v);
	return 0;
}

/* Order the array by cmp and index it again. */
void ck_ptab_sort(struct ptab *t, int (*cmp)(const void *, const void *))
{
	uint32_t i;

	if (t->n == 0)
		return;
	qsort(t->obj, t->n, sizeof(*t->obj), cmp);
	memset(t->key, 0, t->hcap * sizeof(*t->key));
	for (i = 0; i < t->n; i++)
		ptab_slot(t, t->obj[i], i);
}

/* Free the table's arrays and empty it. */
void ck_ptab_free(struct ptab *t)
{
	free(t->obj);
	free(t->key);
	free(t->val);
	memset(t, 0, sizeof(*t));
}

/* --- the saver's putters and section framing ------------------------------ */

/* Append n bytes; the first failure is kept in w->err. */
void ck_put_bytes(struct ck_save *w, const void *p, size_t n)
{
	if (w->err == 0 && as_buf_put(w->out, p, n) != 0)
		w->err = -ENOSPC;
}

/* Append v as n little-endian bytes. */
static void put_int(struct ck_save *w, uint64_t v, int n)
{
	uint8_t b[8];

	ck_le_put(b, v, n);
	ck_put_bytes(w, b, (size_t)n);
}

/* Append an integer of 1, 2, 4 or 8 bytes. */
void ck_put_u8(struct ck_save *w, uint64_t v) { put_int(w, v, 1); }
void ck_put_u16(struct ck_save *w, uint64_t v) { put_int(w, v, 2); }
void ck_put_u32(struct ck_save *w, uint64_t v) { put_int(w, v, 4); }
void ck_put_u64(struct ck_save *w, uint64_t v) { put_int(w, v, 8); }

/* Open section i: its tag and a length filled in by ck_sect_end(). */
void ck_sect_begin(struct ck_save *w, int i)
{
	ck_put_bytes(w, sect_tags[i], 4);
	w->sect = w->out->len;
	ck_put_u64(w, 0);
}

/* Close the open section: its length is the bytes since ck_sect_begin(). */
void ck_sect_end(struct ck_save *w)
{
	if (w->err == 0)
		ck_le_put((uint8_t *)w->out->data + w->sect,
		    w->out->len - w->sect - 8, 8);
}

/* --- the loader's getters: every read checked ----------------------------- */

/* Record the first error with its reason; returns it. */
int ck_fail(struct ck_load *l, int err, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (l->err != 0)
		return l->err;
	l->err = err;
	l->off = l->len;	/* nothing more is read */
	if (l->whylen == 0)
		return err;
	if (l->sect != NULL)
		n = snprintf(l->why, l->whylen, "%s: ", l->sect);
	if (n >= 0 && (size_t)n < l->whylen) {
		va_start(ap, fmt);
		vsnprintf(l->why + n, l->whylen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* The next n bytes as an integer; 0 after an error or at the end. */
static uint64_t get_int(struct ck_load *l, int n)
{
	uint64_t v;

	if (l->err != 0)
		return 0;
	if (l->len - l->off < (size_t)n) {
		BAD(l, "truncated");
		return 0;
	}
	v = ck_le_get(l->p + l->off, n);
	l->off += (size_t)n;
	return v;
}

/* The next integer of 2, 4 or 8 bytes. */
uint64_t ck_get_u16(struct ck_load *l) { return get_int(l, 2); }
static uint64_t ck_get_u32(struct ck_load *l) { return get_int(l, 4); }
uint64_t ck_get_u64(struct ck_load *l) { return get_int(l, 8); }

/* The next n bytes in place, or NULL (truncated, or after an error). */
const uint8_t *ck_get_bytes(struct ck_load *l, size_t n)
{
	const uint8_t *b = l->p + l->off;

	if (l->err != 0)
		return NULL;
	if (l->len - l->off < n) {
		BAD(l, "truncated");
		return NULL;
	}
	l->off += n;
	return b;
}

/* A value that must lie in [lo, hi]. */
uint64_t ck_get_range(struct ck_load *l, int n, uint64_t lo, uint64_t hi,
    const char *what)
{
	uint64_t v = get_int(l, n);

	if (l->err == 0 && (v < lo || v > hi))
		BAD(l, "%s %llu out of range", what, (unsigned long long)v);
	return l->err == 0 ? v : lo;
}

/* A u8 that must be 0 or 1. */
bool ck_get_bool(struct ck_load *l, const char *what)
{
	return ck_get_range(l, 1, 0, 1, what) != 0;
}

/* A count of records of at least min bytes each, that the bytes left can
 * hold. */
uint64_t ck_get_count(struct ck_load *l, int n, size_t min,
    const char *what)
{
	return ck_get_range(l, n, 0, (l->len - l->off) / min, what);
}

/* An index below n, or NONE when none is allowed. */
uint32_t ck_get_idx(struct ck_load *l, uint32_t n, bool none_ok,
    const char *what)
{
	uint32_t v = (uint32_t)ck_get_u32(l);

	if (l->err == 0 && v >= n && !(none_ok && v == NONE))
		BAD(l, "%s index %u out of range", what, v);
	return l->err == 0 ? v : NONE;
}

/* calloc() of at least one element; NULL and -ENOMEM recorded on failure. */
void *ck_load_calloc(struct ck_load *l, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		ck_fail(l, -ENOMEM, "out of memory");
	return p;
}

/* What an older format lacks, for the message refusing it. */
const char *ck_old_version_why(unsigned int version)
{
	switch (version) {
	case 1:
		return " (an older build's: without struct files and kernel "
		    "parameters)";
	case 3:
		return " (an older build's: without swap)";
	case 4:
		return " (an older build's: without the pswpin and pswpout "
		    "counters, holes in files and LRU lists)";
	case 5:
		return " (an older build's: without kernel share_tables)";
	case 6:
		return " (an older build's: without the pages writeback left "
		    "on the disk)";
	}
	return "";
}

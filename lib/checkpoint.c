/*
 * checkpoint.c: saving a session to bytes and loading it back (see
 * checkpoint.h).  No Linux counterpart: CRIU does this from user space.
 *
 * The format (version 2; a version-1 checkpoint, which kept no struct
 * files, kernel parameters or image, is refused as any other version is:
 * its VMAs' sharing of struct files, which decides merges, is lost).
 * Integers are little-endian, of the widths given (u8 for booleans);
 * "idx" is a u32 index into a table of this checkpoint, NONE (0xffffffff)
 * for no object; counters are 14 u64s.
 *
 *   header (32 bytes): "ASPACECK", u32 version, u32 0, u64 body length,
 *                      u32 CRC-32 of the body, u32 0
 *   body: seven sections, in this order, each a 4-byte tag, a u64 length
 *         and that many bytes, which its parser must consume exactly:
 *   "SESS"  u64 RAM, swap; u32 max_map_count; u64 rlimits stack, memlock,
 *           as, data; u32 overcommit; u8 cap_ipc_lock, zero_page;
 *           u64 fault_around_bytes; u8 started; the image: u8 length and
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
 *   "FILE"  per file (inode): u8 length and the name; u64 size; u8 shmem;
 *           u32 refcount; u64 id; u8 on the session's list (which keeps
 *           table order); u64 count of (u64 index, u64 pfn), by index
 *   "OPEN"  per struct file, by increasing f_id: file idx; u32 f_count;
 *           u64 f_id
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
 * capacities, which chunks came from the pool, the red-black tree's shape)
 * and a VMA cache its seqnum has made stale (saved empty, as its next use
 * would empty it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "mm.h"
#include "pgtable.h"

#define NONE		0xffffffffU
#define NCOUNTERS	(sizeof(struct as_counters) / sizeof(unsigned long))
#define PG_KNOWN	(PG_locked | PG_referenced | PG_uptodate | PG_dirty | \
			 PG_lru | PG_anon | PG_swapbacked | PG_reserved | \
			 PG_pgtable | PG_mlocked)
#define PTE_KNOWN	(PTE_PFN_MASK | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | \
			 _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PROTNONE | \
			 _PAGE_SPECIAL | _PAGE_NX)
#define MAX_CACHE_INDEX	(1UL << 24)	/* page-cache slots a file may need */
#define MAX_RUNS	1024		/* runs of one frame's contents */
#define IMAGE_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789._-"

enum { DATA_ZERO, DATA_RAW, DATA_RUNS };

_Static_assert(NCOUNTERS == 14, "the format has 14 counters");

static const char *const sect_tags[] = {
	"SESS", "FRAM", "FILE", "OPEN", "AVMA", "MMS ", "TASK"
};
enum { S_SESS, S_FRAM, S_FILE, S_OPEN, S_AVMA, S_MMS, S_TASK };
#define NSECT	(sizeof(sect_tags) / sizeof(sect_tags[0]))

static const char *const special_names[] = {
	NULL, "[vvar]", "[vvar_vclock]", "[vdso]"
};
#define NSPECIAL	(sizeof(special_names) / sizeof(special_names[0]))

/* --- CRC-32 ---------------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* The tables of the reflected polynomial 0xedb88320, eight bytes a step. */
static void crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
			    crc_table[0][crc_table[k - 1][i] & 0xff];
}

uint32_t as_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
		    crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][crc >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
	}
	while (len-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void le_put(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int as_checkpoint_reseal(void *data, size_t len)
{
	uint8_t *p = data;

	if (len < AS_CKPT_HEADER_SIZE)
		return -EINVAL;
	le_put(p + 16, len - AS_CKPT_HEADER_SIZE, 8);
	le_put(p + 24, as_crc32(0, p + AS_CKPT_HEADER_SIZE,
	    len - AS_CKPT_HEADER_SIZE), 4);
	return 0;
}

/* --- pointer tables: object -> index, for the saver ----------------------- */

struct ptab {
	const void	**obj;		/* by index */
	uint32_t	 n, cap;
	const void	**key;		/* open addressing, hcap slots */
	uint32_t	*val;
	size_t		 hcap;
};

static size_t ptab_hash(const void *p, size_t hcap)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL) &
	    (hcap - 1);
}

/* The index of p, or NONE. */
static uint32_t ptab_get(const struct ptab *t, const void *p)
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
static int ptab_add(struct ptab *t, const void *p)
{
	if (p == NULL || ptab_get(t, p) != NONE)
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
static int ptab_map(struct ptab *t, const void *p, uint32_t v)
{
	if ((size_t)t->n * 2 + 2 >= t->hcap && ptab_grow(t) != 0)
		return -ENOMEM;
	t->n++;
	ptab_slot(t, p, v);
	return 0;
}

/* Order the array by cmp and index it again. */
static void ptab_sort(struct ptab *t, int (*cmp)(const void *, const void *))
{
	uint32_t i;

	if (t->n == 0)
		return;
	qsort(t->obj, t->n, sizeof(*t->obj), cmp);
	memset(t->key, 0, t->hcap * sizeof(*t->key));
	for (i = 0; i < t->n; i++)
		ptab_slot(t, t->obj[i], i);
}

static void ptab_free(struct ptab *t)
{
	free(t->obj);
	free(t->key);
	free(t->val);
	memset(t, 0, sizeof(*t));
}

/* --- the saver --------------------------------------------------------------- */

struct ck_save {
	struct as_session *s;
	struct as_buf	*out;
	size_t		 base;		/* the checkpoint's offset in out */
	size_t		 sect;		/* the open section's length field */
	int		 err;
	struct ptab	 mms, files, opens, avs;	/* opens: struct files */
	struct ptab	 vmas;		/* VMA -> ordinal in its mm */
};

static void put_bytes(struct ck_save *w, const void *p, size_t n)
{
	if (w->err == 0 && as_buf_put(w->out, p, n) != 0)
		w->err = -ENOSPC;
}

static void put_int(struct ck_save *w, uint64_t v, int n)
{
	uint8_t b[8];

	le_put(b, v, n);
	put_bytes(w, b, (size_t)n);
}

static void put_u8(struct ck_save *w, uint64_t v) { put_int(w, v, 1); }
static void put_u16(struct ck_save *w, uint64_t v) { put_int(w, v, 2); }
static void put_u32(struct ck_save *w, uint64_t v) { put_int(w, v, 4); }
static void put_u64(struct ck_save *w, uint64_t v) { put_int(w, v, 8); }

static void sect_begin(struct ck_save *w, int i)
{
	put_bytes(w, sect_tags[i], 4);
	w->sect = w->out->len;
	put_u64(w, 0);
}

static void sect_end(struct ck_save *w)
{
	if (w->err == 0)
		le_put((uint8_t *)w->out->data + w->sect,
		    w->out->len - w->sect - 8, 8);
}

static void put_counters(struct ck_save *w, const struct as_counters *c)
{
	const unsigned long *v = (const unsigned long *)c;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		put_u64(w, v[i]);
}

static int by_f_id(const void *a, const void *b)
{
	unsigned long x = (*(const struct file *const *)a)->f_id;
	unsigned long y = (*(const struct file *const *)b)->f_id;

	return (x > y) - (x < y);
}

/* Gather the mms, files (listed, then those of struct files), struct
 * files (by f_id) and anon_vmas, each in a fixed order. */
static int save_collect(struct ck_save *w)
{
	struct as_session *s = w->s;
	struct as_file *f;
	struct task *t;
	struct vma *v;
	uint32_t i, k, ord;
	int err = 0;

	for (t = s->tasks; t != NULL && err == 0; t = t->next)
		err = ptab_add(&w->mms, t->mm);
	for (f = s->files; f != NULL && err == 0; f = f->next)
		err = ptab_add(&w->files, f);
	for (i = 0; i < w->mms.n && err == 0; i++) {
		ord = 0;
		for (v = ((struct mm *)w->mms.obj[i])->mm_mt.first;
		    v != NULL && err == 0; v = v->vm_next) {
			err = ptab_add(&w->opens, v->vm_file);
			for (k = 0; k < v->avc_len && err == 0; k++)
				err = ptab_add(&w->avs, v->avc[k]);
			if (err == 0)
				err = ptab_add(&w->avs, v->anon_vma);
			if (err == 0)
				err = ptab_map(&w->vmas, v, ord++);
		}
	}
	if (err == 0)
		ptab_sort(&w->opens, by_f_id);
	for (i = 0; i < w->opens.n && err == 0; i++)
		err = ptab_add(&w->files,
		    file_inode((const struct file *)w->opens.obj[i]));
	for (i = 0; i < w->avs.n && err == 0; i++) {	/* ancestors */
		const struct anon_vma *av = w->avs.obj[i];

		if ((err = ptab_add(&w->avs, av->parent)) == 0)
			err = ptab_add(&w->avs, av->root);
	}
	return err;
}

static void save_session(struct ck_save *w)
{
	const struct as_session *s = w->s;
	const struct as_limits *l = &s->limits;
	uint32_t ntask = 0;
	const struct task *t;

	for (t = s->tasks; t != NULL; t = t->next)
		ntask++;
	sect_begin(w, S_SESS);
	put_u64(w, l->ram_bytes);
	put_u64(w, l->swap_bytes);
	put_u32(w, (uint32_t)l->max_map_count);
	put_u64(w, l->rlimit_stack);
	put_u64(w, l->rlimit_memlock);
	put_u64(w, l->rlimit_as);
	put_u64(w, l->rlimit_data);
	put_u32(w, (uint32_t)l->overcommit_memory);
	put_u8(w, l->cap_ipc_lock);
	put_u8(w, l->zero_page);
	put_u64(w, l->fault_around_bytes);
	put_u8(w, s->started);
	put_u8(w, strnlen(s->image.name, sizeof(s->image.name)));
	put_bytes(w, s->image.name, strnlen(s->image.name,
	    sizeof(s->image.name)));
	put_u64(w, s->image.text);
	put_u64(w, s->image.data);
	put_u64(w, s->image.bss);
	put_u64(w, s->seed);
	put_u8(w, s->randomize);
	put_u64(w, s->next_file_id);
	put_u64(w, s->next_anon_vma_id);
	put_u32(w, (uint32_t)s->next_pid);
	put_counters(w, &s->counters);
	put_u32(w, w->files.n);
	put_u32(w, w->opens.n);
	put_u32(w, w->avs.n);
	put_u32(w, w->mms.n);
	put_u32(w, ntask);
	sect_end(w);
}

static bool frame_is_zero(const uint8_t *d)
{
	static const uint8_t zero[64];
	size_t i;

	for (i = 0; i < AS_PAGE_SIZE; i += sizeof(zero))
		if (memcmp(d + i, zero, sizeof(zero)) != 0)
			return false;
	return true;
}

/*
 * The runs of non-zero bytes of a frame (gaps of under 5 zeros joined, a
 * run's header being 4 bytes); -1 when there are too many for runs to pay.
 */
static int frame_runs(const uint8_t *d, uint16_t run[][2], size_t *bytes)
{
	int n = 0;
	size_t i = 0, end;

	*bytes = 2;
	while (i < AS_PAGE_SIZE) {
		while (i < AS_PAGE_SIZE && d[i] == 0)
			i++;
		if (i == AS_PAGE_SIZE)
			break;
		if (n > 0 && i - (run[n - 1][0] + run[n - 1][1]) < 5)
			n--;		/* extend the previous run over the gap */
		else if (n == MAX_RUNS)
			return -1;
		else
			run[n][0] = (uint16_t)i;
		for (end = i; end < AS_PAGE_SIZE && d[end] != 0; end++)
			;
		run[n][1] = (uint16_t)(end - run[n][0]);
		n++;
		i = end;
	}
	for (i = 0; i < (size_t)n; i++)
		*bytes += 4 + run[i][1];
	return *bytes < AS_PAGE_SIZE ? n : -1;
}

static void save_frame_data(struct ck_save *w, const uint8_t *d)
{
	uint16_t run[MAX_RUNS][2];
	size_t bytes;
	int n, i;

	if (frame_is_zero(d)) {
		put_u8(w, DATA_ZERO);
		return;
	}
	if ((n = frame_runs(d, run, &bytes)) < 0) {
		put_u8(w, DATA_RAW);
		put_bytes(w, d, AS_PAGE_SIZE);
		return;
	}
	put_u8(w, DATA_RUNS);
	put_u16(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		put_u16(w, run[i][0]);
		put_u16(w, run[i][1]);
		put_bytes(w, d + run[i][0], run[i][1]);
	}
}

static void save_page(struct ck_save *w, const struct page *page)
{
	uint32_t file = ptab_get(&w->files, page->mapping);
	uint32_t av = ptab_get(&w->avs, page->anon_vma);

	if ((page->mapping != NULL && file == NONE) ||
	    (page->anon_vma != NULL && av == NONE))
		w->err = w->err ? w->err : -EINVAL;
	put_u64(w, page->pfn);
	put_u32(w, (uint32_t)page_refcount(page));
	put_u32(w, (uint32_t)page_mapcount(page));
	put_u32(w, page->flags);
	put_u8(w, page->anon_excl);
	put_u32(w, file);
	put_u32(w, av);
	put_u64(w, page->index);
	save_frame_data(w, page->data);
}

/* The frame of pfn if it is in use, else NULL (never makes a chunk). */
static const struct page *page_in_use(const struct as_phys *p,
    unsigned long pfn)
{
	const struct page *chunk = p->chunks[pfn / PAGES_PER_CHUNK];

	if (chunk == NULL || chunk[pfn % PAGES_PER_CHUNK].data == NULL)
		return NULL;
	return &chunk[pfn % PAGES_PER_CHUNK];
}

static void save_frames(struct ck_save *w)
{
	const struct as_phys *p = &w->s->phys;
	unsigned long pfn, i, n = 0;

	for (pfn = 0; pfn < p->next_unused; pfn++)
		n += page_in_use(p, pfn) != NULL;
	sect_begin(w, S_FRAM);
	put_u64(w, p->zero_pfn);
	put_u64(w, p->next_unused);
	put_u64(w, p->nr_used);
	put_u64(w, p->nr_free_stack);
	for (i = 0; i < p->nr_free_stack; i++)
		put_u64(w, p->free[i]);
	put_u64(w, n);
	for (pfn = 0; pfn < p->next_unused && w->err == 0; pfn++)
		if (page_in_use(p, pfn) != NULL)
			save_page(w, page_in_use(p, pfn));
	sect_end(w);
}

static void save_file(struct ck_save *w, const struct as_file *f)
{
	const struct as_file *g;
	unsigned long i, n = 0;
	bool listed = false;

	for (g = w->s->files; g != NULL && !listed; g = g->next)
		listed = g == f;
	for (i = 0; i < f->cache_len; i++)
		n += f->cache[i] != NULL;
	put_u8(w, strlen(f->name));
	put_bytes(w, f->name, strlen(f->name));
	put_u64(w, f->size);
	put_u8(w, f->shmem_zero);
	put_u32(w, (uint32_t)f->refcount);
	put_u64(w, f->id);
	put_u8(w, listed);
	put_u64(w, n);
	for (i = 0; i < f->cache_len; i++) {
		if (f->cache[i] != NULL) {
			put_u64(w, i);
			put_u64(w, f->cache[i]->pfn);
		}
	}
}

static void save_files(struct ck_save *w)
{
	uint32_t i;

	sect_begin(w, S_FILE);
	for (i = 0; i < w->files.n; i++)
		save_file(w, w->files.obj[i]);
	sect_end(w);
}

static void save_opens(struct ck_save *w)
{
	const struct file *f;
	uint32_t i;

	sect_begin(w, S_OPEN);
	for (i = 0; i < w->opens.n; i++) {
		f = w->opens.obj[i];
		if (f->f_count < 1 || f->f_count > INT32_MAX)
			w->err = w->err ? w->err : -EINVAL;
		put_u32(w, ptab_get(&w->files, file_inode(f)));
		put_u32(w, (uint32_t)f->f_count);
		put_u64(w, f->f_id);
	}
	sect_end(w);
}

static void save_anon_vmas(struct ck_save *w)
{
	uint32_t i;

	sect_begin(w, S_AVMA);
	for (i = 0; i < w->avs.n; i++) {
		const struct anon_vma *av = w->avs.obj[i];

		put_u64(w, av->id);
		put_u32(w, (uint32_t)av->refcount);
		put_u32(w, ptab_get(&w->avs, av->root));
		put_u32(w, ptab_get(&w->avs, av->parent));
		put_u32(w, (uint32_t)av->num_children);
		put_u32(w, (uint32_t)av->num_active_vmas);
		put_u32(w, (uint32_t)av->nr_links);
	}
	sect_end(w);
}

static uint32_t special_code(const struct vma *v)
{
	uint32_t i;

	for (i = 1; v->vm_special_name != NULL && i < NSPECIAL; i++)
		if (strcmp(v->vm_special_name, special_names[i]) == 0)
			return i;
	return 0;
}

static void save_vma(struct ck_save *w, const struct vma *v)
{
	unsigned int i;

	if (v->vm_special_name != NULL && special_code(v) == 0)
		w->err = w->err ? w->err : -EINVAL;	/* a name to add */
	put_u64(w, v->vm_start);
	put_u64(w, v->vm_end);
	put_u64(w, v->vm_flags);
	put_u64(w, v->vm_pgoff);
	put_u64(w, v->vm_page_prot);
	put_u32(w, ptab_get(&w->opens, v->vm_file));
	put_u32(w, ptab_get(&w->avs, v->anon_vma));
	put_u8(w, special_code(v));
	put_u32(w, v->avc_len);
	for (i = 0; i < v->avc_len; i++)
		put_u32(w, ptab_get(&w->avs, v->avc[i]));
}

static void save_mm(struct ck_save *w, const struct mm *mm)
{
	const unsigned long f[] = { mm->task_size, mm->mmap_base,
	    mm->start_code, mm->end_code, mm->start_data, mm->end_data,
	    mm->start_brk, mm->brk, mm->start_stack, mm->total_vm,
	    mm->locked_vm, mm->data_vm, mm->exec_vm, mm->stack_vm,
	    mm->def_flags };
	const struct vma *v;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		put_u64(w, f[i]);
	put_u32(w, (uint32_t)mm->mm_users);
	put_u32(w, (uint32_t)mm->mm_count);
	put_u64(w, mm->vmacache_seqnum);
	put_u64(w, mm->pgd);
	put_u64(w, mm->nr_pgtables);
	put_u32(w, (uint32_t)mm->map_count);
	put_u32(w, (uint32_t)mm->mm_mt.count);
	for (v = mm->mm_mt.first; v != NULL; v = v->vm_next)
		save_vma(w, v);
}

static void save_mms(struct ck_save *w)
{
	uint32_t i;

	sect_begin(w, S_MMS);
	for (i = 0; i < w->mms.n; i++)
		save_mm(w, w->mms.obj[i]);
	sect_end(w);
}

/* A cached VMA's ordinal; a stale cache (seqnum behind) is saved empty,
 * as the next lookup would empty it. */
static uint32_t vmacache_ord(struct ck_save *w, const struct task *t, int i)
{
	const struct vma *v = t->vmacache[i];

	if (v == NULL || t->vmacache_seqnum != t->mm->vmacache_seqnum)
		return NONE;
	return ptab_get(&w->vmas, v) != NONE && v->vm_mm == t->mm ?
	    ptab_get(&w->vmas, v) : NONE;
}

static void save_tasks(struct ck_save *w)
{
	const struct task *t;
	int i;

	sect_begin(w, S_TASK);
	for (t = w->s->tasks; t != NULL; t = t->next) {
		put_u32(w, (uint32_t)t->pid);
		put_u32(w, (uint32_t)t->tgid);
		put_u32(w, ptab_get(&w->mms, t->mm));
		put_u32(w, t->vfork_parent ? (uint32_t)t->vfork_parent->pid : 0);
		put_u8(w, t->vfork_blocked);
		put_u64(w, t->vmacache_seqnum);
		for (i = 0; i < VMACACHE_SIZE; i++)
			put_u32(w, vmacache_ord(w, t, i));
		put_counters(w, &t->counters);
	}
	sect_end(w);
}

static void save_header(struct ck_save *w)
{
	uint8_t h[AS_CKPT_HEADER_SIZE];

	memset(h, 0, sizeof(h));
	memcpy(h, AS_CKPT_MAGIC, 8);
	le_put(h + 8, AS_CKPT_VERSION, 4);
	put_bytes(w, h, sizeof(h));
}

int as_session_save(struct as_session *s, struct as_buf *out)
{
	struct ck_save w = { .s = s, .out = out, .base = out->len };

	w.err = save_collect(&w);
	save_header(&w);
	save_session(&w);
	save_frames(&w);
	save_files(&w);
	save_opens(&w);
	save_anon_vmas(&w);
	save_mms(&w);
	save_tasks(&w);
	if (w.err == 0)
		as_checkpoint_reseal(out->data + w.base, out->len - w.base);
	ptab_free(&w.mms);
	ptab_free(&w.files);
	ptab_free(&w.opens);
	ptab_free(&w.avs);
	ptab_free(&w.vmas);
	return w.err;
}

/* --- the loader ------------------------------------------------------------- */

struct ck_load {
	const uint8_t	*p;		/* the section being read */
	size_t		 len, off;
	const char	*sect;		/* its tag, for messages */
	int		 err;
	char		*why;
	size_t		 whylen;
	size_t		 body_len;
	struct as_session *s;
	uint32_t	 nfile, nopen, nav, nmm, ntask;
	struct as_file	**files;
	uint8_t		*listed;	/* per file: on the session's list */
	unsigned long	*file_pages;	/* per file: frames naming it */
	unsigned long	*file_opens;	/* per file: struct files of it */
	struct file	**opens;
	unsigned long	*open_vmas;	/* per struct file: VMAs holding it */
	struct anon_vma	**avs;
	uint32_t	*av_root, *av_parent;	/* their indices */
	unsigned long	*av_links, *av_active;	/* counted from the VMAs */
	int		*vfork_pid;	/* per task: its vfork parent's pid */
	uint32_t	*task_mm;	/* per task: its mm's index */
	bool		 phys_ready;
	struct mm	**mms;
	struct vma	***vmas;	/* per mm: its VMAs in order */
	uint32_t	*nvma;
	struct task	**tasks;
	unsigned long	 next_unused;
	uint8_t		*state;		/* per pfn below next_unused: FS_* */
	uint32_t	*tally;		/* per pfn: PTEs mapping it */
	unsigned long	*pfns;		/* the frames in use, in order */
	unsigned long	 npages;
};

enum { FS_LOST, FS_FREE, FS_USED, FS_TABLE };	/* FS_TABLE: claimed */

/* Record the first error with its reason; returns it. */
static int fail(struct ck_load *l, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ck_load *l, int err, const char *fmt, ...)
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

#define BAD(l, ...)	fail((l), -EBADMSG, __VA_ARGS__)

static uint64_t get_int(struct ck_load *l, int n)
{
	uint64_t v;

	if (l->err != 0)
		return 0;
	if (l->len - l->off < (size_t)n) {
		BAD(l, "truncated");
		return 0;
	}
	v = le_get(l->p + l->off, n);
	l->off += (size_t)n;
	return v;
}

static uint64_t get_u16(struct ck_load *l) { return get_int(l, 2); }
static uint64_t get_u32(struct ck_load *l) { return get_int(l, 4); }
static uint64_t get_u64(struct ck_load *l) { return get_int(l, 8); }

static const uint8_t *get_bytes(struct ck_load *l, size_t n)
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
static uint64_t get_range(struct ck_load *l, int n, uint64_t lo, uint64_t hi,
    const char *what)
{
	uint64_t v = get_int(l, n);

	if (l->err == 0 && (v < lo || v > hi))
		BAD(l, "%s %llu out of range", what, (unsigned long long)v);
	return l->err == 0 ? v : lo;
}

static bool get_bool(struct ck_load *l, const char *what)
{
	return get_range(l, 1, 0, 1, what) != 0;
}

/* A count of records of at least min bytes each, that the bytes left can
 * hold. */
static uint64_t get_count(struct ck_load *l, int n, size_t min,
    const char *what)
{
	return get_range(l, n, 0, (l->len - l->off) / min, what);
}

/* An index below n, or NONE when none is allowed. */
static uint32_t get_idx(struct ck_load *l, uint32_t n, bool none_ok,
    const char *what)
{
	uint32_t v = (uint32_t)get_u32(l);

	if (l->err == 0 && v >= n && !(none_ok && v == NONE))
		BAD(l, "%s index %u out of range", what, v);
	return l->err == 0 ? v : NONE;
}

static void get_counters(struct ck_load *l, struct as_counters *c)
{
	unsigned long *v = (unsigned long *)c;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		v[i] = get_u64(l);
}

static void *load_calloc(struct ck_load *l, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		fail(l, -ENOMEM, "out of memory");
	return p;
}

/* The header: magic, version, length and checksum; sets the body. */
static int load_header(struct ck_load *l, const uint8_t *d, size_t len)
{
	if (len < AS_CKPT_HEADER_SIZE || memcmp(d, AS_CKPT_MAGIC, 8) != 0)
		return fail(l, -EINVAL, "not a checkpoint");
	if (le_get(d + 8, 4) != AS_CKPT_VERSION)
		return fail(l, -EINVAL, "format version %u, not %u%s",
		    (unsigned)le_get(d + 8, 4), AS_CKPT_VERSION,
		    le_get(d + 8, 4) == 1 ? " (an older build's: without "
		    "struct files and kernel parameters)" : "");
	if (le_get(d + 12, 4) != 0 || le_get(d + 28, 4) != 0)
		return BAD(l, "reserved header fields not zero");
	if (le_get(d + 16, 8) != len - AS_CKPT_HEADER_SIZE)
		return BAD(l, "body of %zu bytes, the header says %llu",
		    len - AS_CKPT_HEADER_SIZE,
		    (unsigned long long)le_get(d + 16, 8));
	if (le_get(d + 24, 4) != as_crc32(0, d + AS_CKPT_HEADER_SIZE,
	    len - AS_CKPT_HEADER_SIZE))
		return BAD(l, "checksum mismatch");
	l->body_len = len - AS_CKPT_HEADER_SIZE;
	return 0;
}

/* Make the objects the counts promise, so that indices can point at
 * them before their own section. */
static int load_alloc_tables(struct ck_load *l)
{
	uint32_t i;

	l->files = load_calloc(l, l->nfile, sizeof(*l->files));
	l->listed = load_calloc(l, l->nfile, 1);
	l->file_pages = load_calloc(l, l->nfile, sizeof(*l->file_pages));
	l->file_opens = load_calloc(l, l->nfile, sizeof(*l->file_opens));
	l->opens = load_calloc(l, l->nopen, sizeof(*l->opens));
	l->open_vmas = load_calloc(l, l->nopen, sizeof(*l->open_vmas));
	l->avs = load_calloc(l, l->nav, sizeof(*l->avs));
	l->av_root = load_calloc(l, l->nav, sizeof(*l->av_root));
	l->av_parent = load_calloc(l, l->nav, sizeof(*l->av_parent));
	l->av_links = load_calloc(l, l->nav, sizeof(*l->av_links));
	l->vfork_pid = load_calloc(l, l->ntask, sizeof(*l->vfork_pid));
	l->task_mm = load_calloc(l, l->ntask, sizeof(*l->task_mm));
	l->av_active = load_calloc(l, l->nav, sizeof(*l->av_active));
	l->mms = load_calloc(l, l->nmm, sizeof(*l->mms));
	l->vmas = load_calloc(l, l->nmm, sizeof(*l->vmas));
	l->nvma = load_calloc(l, l->nmm, sizeof(*l->nvma));
	l->tasks = load_calloc(l, l->ntask, sizeof(*l->tasks));
	for (i = 0; i < l->nfile && l->err == 0; i++)
		if ((l->files[i] = as_file_alloc("", 0, false, &l->s->mem)) == NULL)
			fail(l, -ENOMEM, "out of memory");
	/* Charged as alloc_file() and anon_vma_alloc() charge them; a load
	 * is not refused by the charge (its limit is set at the end). */
	for (i = 0; i < l->nopen && l->err == 0; i++)
		if ((l->opens[i] = load_calloc(l, 1, sizeof(**l->opens))) !=
		    NULL)
			memcg_charge_force(&l->s->mem,
			    kmem_size(sizeof(**l->opens)));
	for (i = 0; i < l->nav && l->err == 0; i++)
		if ((l->avs[i] = load_calloc(l, 1, sizeof(**l->avs))) != NULL) {
			memcg_charge_force(&l->s->mem,
			    kmem_size(sizeof(**l->avs)));
			l->avs[i]->memcg = &l->s->mem;
		}
	return l->err;
}

/* The kernel parameters, each as as_kparam_get() reads it; a finite
 * RLIMIT_MEMLOCK takes CAP_IPC_LOCK away, as as_kparam_set() does. */
static int load_kparams(struct ck_load *l)
{
	const struct as_limits *lim = &l->s->limits;
	unsigned long v;
	int k;

	for (k = 0; k < KP_COUNT && l->err == 0; k++) {
		v = as_kparam_get(l->s, (enum kparam)k);
		if (!kparam_valid((enum kparam)k, v))
			return BAD(l, "kernel parameter %s of %lu out of range",
			    kparam_name((enum kparam)k), v);
	}
	if (l->err == 0 && lim->cap_ipc_lock !=
	    (lim->rlimit_memlock == AS_RLIM_INFINITY))
		return BAD(l, "cap_ipc_lock %d with rlimit_memlock %lu",
		    lim->cap_ipc_lock, lim->rlimit_memlock);
	return l->err;
}

/* Task 1's program: a name of [A-Za-z0-9._-], a file that fits in RAM
 * (exec made it) and a bss that fits in TASK_SIZE. */
static int load_image(struct ck_load *l)
{
	struct as_image *img = &l->s->image;
	size_t len = (size_t)get_range(l, 1, 1, sizeof(img->name) - 1,
	    "image name length"), i;
	const uint8_t *name = get_bytes(l, len);
	unsigned long ram = l->s->limits.ram_bytes;

	for (i = 0; name != NULL && i < len; i++)
		if (memchr(IMAGE_CHARS, name[i], sizeof(IMAGE_CHARS) - 1) ==
		    NULL)
			return BAD(l, "image name with byte 0x%02x", name[i]);
	if (name != NULL)
		memcpy(img->name, name, len);
	img->text = get_range(l, 8, 0, ram, "image text");
	img->data = get_range(l, 8, 0, ram - img->text, "image data");
	img->bss = get_range(l, 8, 0, AS_TASK_SIZE, "image bss");
	return l->err;
}

/* The session itself, with its RAM (and the zero page phys_init() makes). */
static int load_session(struct ck_load *l)
{
	struct as_session *s = l->s;
	struct as_limits *lim = &s->limits;

	lim->ram_bytes = get_range(l, 8, 2 * AS_PAGE_SIZE, ~0UL, "RAM size");
	if (lim->ram_bytes > AS_CKPT_MAX_RAM)
		return fail(l, -EINVAL, "RAM of %lu bytes, over the %lu loaded",
		    lim->ram_bytes, AS_CKPT_MAX_RAM);
	lim->swap_bytes = get_u64(l);
	lim->max_map_count = (int)get_range(l, 4, 1, INT32_MAX,
	    "max_map_count");	/* kparam_valid() checks it below */
	lim->rlimit_stack = get_u64(l);
	lim->rlimit_memlock = get_u64(l);
	lim->rlimit_as = get_u64(l);
	lim->rlimit_data = get_u64(l);
	lim->overcommit_memory = (int)get_range(l, 4, 0, 2, "overcommit mode");
	lim->cap_ipc_lock = get_bool(l, "cap_ipc_lock");
	lim->zero_page = get_bool(l, "zero_page");
	lim->fault_around_bytes = get_u64(l);
	s->started = get_bool(l, "started");
	if (load_kparams(l) != 0 || load_image(l) != 0)
		return l->err;
	s->seed = get_u64(l);
	s->randomize = get_bool(l, "randomize");
	s->next_file_id = get_u64(l);
	s->next_anon_vma_id = get_u64(l);
	s->next_pid = (int)get_range(l, 4, 2, 1U << 30, "next_pid");
	get_counters(l, &s->counters);
	l->nfile = (uint32_t)get_range(l, 4, 0, l->body_len / 31, "files");
	l->nopen = (uint32_t)get_range(l, 4, 0, l->body_len / 16,
	    "struct files");
	l->nav = (uint32_t)get_range(l, 4, 0, l->body_len / 32, "anon_vmas");
	l->nmm = (uint32_t)get_range(l, 4, 0, l->body_len / 64, "mms");
	l->ntask = (uint32_t)get_range(l, 4, 0, l->body_len / 64, "tasks");
	if (l->err == 0 && (l->nmm > l->ntask ||
	    l->ntask > (uint32_t)s->next_pid - 1))
		BAD(l, "%u mms and %u tasks with next_pid %d", l->nmm,
		    l->ntask, s->next_pid);
	if (l->err != 0)
		return l->err;
	l->phys_ready = true;
	if (phys_init(&s->phys, lim->ram_bytes, &s->mem) != 0)
		return fail(l, -ENOMEM, "out of memory for RAM of %lu bytes",
		    lim->ram_bytes);
	return load_alloc_tables(l);
}

/* The free stack, bottom first: frames below next_unused, each once. */
static int load_free(struct ck_load *l)
{
	unsigned long n = get_count(l, 8, 8, "free frames"), i, *pfns;
	uint64_t pfn;

	if ((pfns = load_calloc(l, n, sizeof(*pfns))) == NULL)
		return l->err;
	for (i = 0; i < n && l->err == 0; i++) {
		pfn = get_u64(l);
		if (l->err == 0 && (pfn >= l->next_unused ||
		    l->state[pfn] != FS_LOST))
			BAD(l, "free frame 0x%llx out of range or twice",
			    (unsigned long long)pfn);
		else if (l->err == 0) {
			l->state[pfn] = FS_FREE;
			pfns[i] = (unsigned long)pfn;
		}
	}
	if (l->err == 0 &&
	    phys_restore_free(&l->s->phys, l->next_unused, pfns, n) != 0)
		fail(l, -ENOMEM, "out of memory");
	free(pfns);
	return l->err;
}

/* A frame's contents, encoded as save_frame_data() does. */
static int load_frame_data(struct ck_load *l, uint8_t *d, bool zero_page)
{
	unsigned int kind = (unsigned int)get_range(l, 1, DATA_ZERO,
	    zero_page ? DATA_ZERO : DATA_RUNS, "contents encoding");
	unsigned long n, i, off, len, end = 0;
	const uint8_t *b;

	if (kind == DATA_RAW && (b = get_bytes(l, AS_PAGE_SIZE)) != NULL)
		memcpy(d, b, AS_PAGE_SIZE);
	if (kind != DATA_RUNS)
		return l->err;
	n = get_range(l, 2, 1, MAX_RUNS, "runs");
	for (i = 0; i < n && l->err == 0; i++) {
		off = get_u16(l);
		len = get_u16(l);
		if (l->err == 0 && (off < end || len == 0 ||
		    off + len > AS_PAGE_SIZE))
			return BAD(l, "run %lu+%lu of a frame overlaps or "
			    "leaves it", off, len);
		if ((b = get_bytes(l, len)) != NULL)
			memcpy(d + off, b, len);
		end = off + len;
	}
	return l->err;
}

/* One frame in use, after the frame prev (~0UL: the first). */
static int load_page(struct ck_load *l, unsigned long prev)
{
	struct as_phys *phys = &l->s->phys;
	uint64_t pfn = get_u64(l), ref, map, flags, index;
	uint32_t file, av;
	bool excl;
	struct page *page;

	if (l->err == 0 && (pfn >= l->next_unused ||
	    (prev != ~0UL && pfn <= prev) || l->state[pfn] != FS_LOST))
		return BAD(l, "frame 0x%llx out of order, range or free",
		    (unsigned long long)pfn);
	ref = get_range(l, 4, 1, INT32_MAX, "refcount");
	map = get_range(l, 4, 0, INT32_MAX, "mapcount");
	flags = get_range(l, 4, 0, PG_KNOWN, "page flags");
	excl = get_bool(l, "AnonExclusive");
	file = get_idx(l, l->nfile, true, "page's file");
	av = get_idx(l, l->nav, true, "page's anon_vma");
	index = get_u64(l);
	if (l->err == 0 && ((flags & ~(uint64_t)PG_KNOWN) != 0 ||
	    (pfn == phys->zero_pfn) != ((flags & PG_reserved) != 0) ||
	    ((flags & (PG_reserved | PG_pgtable)) &&
	    (file != NONE || av != NONE))))
		return BAD(l, "frame 0x%llx has flags 0x%llx",
		    (unsigned long long)pfn, (unsigned long long)flags);
	if (l->err != 0)
		return l->err;
	page = pfn == phys->zero_pfn ? pfn_to_page(phys, pfn) :
	    phys_restore_frame(phys, pfn);
	if (page == NULL)
		return fail(l, -ENOMEM, "out of memory");
	l->state[pfn] = FS_USED;
	l->pfns[l->npages++] = pfn;
	page->counts = map << 32 | ref;
	page->flags = (unsigned int)flags;
	page->anon_excl = excl;
	page->mapping = file != NONE ? l->files[file] : NULL;
	page->anon_vma = av != NONE ? l->avs[av] : NULL;
	page->index = index;
	if (file != NONE)
		l->file_pages[file]++;
	return load_frame_data(l, page->data, pfn == phys->zero_pfn);
}

/* Every chunk of 512 frames below next_unused was made for a frame it
 * holds: without one in use or free, the count is forged. */
static int check_chunks(struct ck_load *l)
{
	unsigned long c, pfn, end;
	bool any;

	for (c = 0; c * PAGES_PER_CHUNK < l->next_unused; c++) {
		end = (c + 1) * PAGES_PER_CHUNK;
		end = end < l->next_unused ? end : l->next_unused;
		for (any = false, pfn = c * PAGES_PER_CHUNK; pfn < end && !any;
		    pfn++)
			any = l->state[pfn] != FS_LOST;
		if (!any)
			return BAD(l, "next_unused 0x%lx past frames never "
			    "used", l->next_unused);
	}
	return 0;
}

static int load_frames(struct ck_load *l)
{
	struct as_phys *phys = &l->s->phys;
	unsigned long nr_used, n, i;

	if (get_u64(l) != phys->zero_pfn && l->err == 0)
		return BAD(l, "the zero page is not frame 0x%lx",
		    phys->zero_pfn);
	l->next_unused = get_range(l, 8, 1, phys->nr_frames, "next_unused");
	nr_used = get_u64(l);
	if (l->err != 0 || (l->state = load_calloc(l, l->next_unused, 1)) ==
	    NULL || load_free(l) != 0)
		return l->err;
	n = get_count(l, 8, 38, "frames in use");
	if (l->err != 0 || (l->pfns = load_calloc(l, n, sizeof(*l->pfns))) ==
	    NULL)
		return l->err;
	for (i = 0; i < n && l->err == 0; i++)
		load_page(l, i == 0 ? ~0UL : l->pfns[i - 1]);
	if (l->err == 0 && (nr_used != n || l->state[phys->zero_pfn] !=
	    FS_USED))
		return BAD(l, "nr_used %lu but %lu frames, zero page %s",
		    nr_used, n, l->state[phys->zero_pfn] == FS_USED ?
		    "present" : "missing");
	if (l->err == 0 && check_chunks(l) == 0)
		l->tally = load_calloc(l, l->next_unused, sizeof(*l->tally));
	return l->err;
}

/* One cache entry of f: a frame in use that names f at this index. */
static int load_cache_entry(struct ck_load *l, uint32_t i, uint64_t index,
    uint64_t pfn)
{
	struct as_file *f = l->files[i];
	struct page *page;

	if (pfn >= l->next_unused || l->state[pfn] != FS_USED)
		return BAD(l, "file %u caches frame 0x%llx, not in use", i,
		    (unsigned long long)pfn);
	page = pfn_to_page(&l->s->phys, (unsigned long)pfn);
	if (page->mapping != f || page->index != index)
		return BAD(l, "file %u caches frame 0x%llx at %llu, which "
		    "names another place", i, (unsigned long long)pfn,
		    (unsigned long long)index);
	f->cache[index] = page;
	return 0;
}

/* f's page cache: (index, pfn) pairs by increasing index, exactly the
 * frames that name f. */
static int load_cache(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	unsigned long n = get_count(l, 8, 16, "cached pages"), k;
	uint64_t last, index = 0, prev = 0, pfn;

	if (l->err == 0 && l->file_pages[i] != n)
		return BAD(l, "file %u: %lu frames name it, %lu cached", i,
		    l->file_pages[i], n);
	if (l->err != 0 || n == 0)
		return l->err;
	last = le_get(l->p + l->off + (n - 1) * 16, 8);
	if (last >= MAX_CACHE_INDEX || last >= file_nr_pages(f))
		return BAD(l, "file %u caches page %llu, past its end or "
		    "too far", i, (unsigned long long)last);
	for (f->cache_len = 16; f->cache_len <= last; f->cache_len *= 2)
		;
	if ((f->cache = load_calloc(l, f->cache_len, sizeof(*f->cache))) ==
	    NULL)
		return l->err;
	memcg_charge_force(f->memcg, (long)(f->cache_len * sizeof(*f->cache)));
	for (k = 0; k < n && l->err == 0; prev = index, k++) {
		index = get_u64(l);
		pfn = get_u64(l);
		if (l->err == 0 && k > 0 && index <= prev)
			return BAD(l, "file %u's cache out of order", i);
		if (l->err == 0)
			load_cache_entry(l, i, index, pfn);
	}
	return l->err;
}

static int load_file(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	size_t len = (size_t)get_range(l, 1, 0, sizeof(f->name) - 1,
	    "name length");
	const uint8_t *name = get_bytes(l, len);

	if (name != NULL && memchr(name, '\0', len) != NULL)
		return BAD(l, "file %u's name holds a NUL", i);
	if (name != NULL)
		memcpy(f->name, name, len);
	f->size = get_u64(l);
	f->shmem_zero = get_bool(l, "shmem");
	f->refcount = (int)get_range(l, 4, 1, INT32_MAX, "file refcount");
	f->id = get_range(l, 8, 0, l->s->next_file_id, "file id");
	l->listed[i] = get_bool(l, "listed");
	if (l->err == 0 && l->listed[i] && f->shmem_zero)
		return BAD(l, "file %u: a shmem object on the file list", i);
	return l->err != 0 ? l->err : load_cache(l, i);
}

static int load_files(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->nfile && l->err == 0; i++)
		load_file(l, i);
	return l->err;
}

/* The struct files, by increasing f_id: each of an inode, held by the
 * VMAs that name it (counted there, checked in check_files()). */
static int load_opens(struct ck_load *l)
{
	unsigned long prev = 0;
	struct file *f;
	uint32_t i, file;

	for (i = 0; i < l->nopen && l->err == 0; i++) {
		f = l->opens[i];
		file = get_idx(l, l->nfile, false, "struct file's inode");
		f->f_count = (long)get_range(l, 4, 1, INT32_MAX, "f_count");
		f->f_id = get_range(l, 8, prev + 1, l->s->next_file_id,
		    "struct file id (in order)");
		if (l->err != 0)
			break;
		f->f_inode = l->files[file];
		l->file_opens[file]++;
		prev = f->f_id;
	}
	return l->err;
}

static int load_anon_vma(struct ck_load *l, uint32_t i)
{
	struct anon_vma *av = l->avs[i];

	av->id = get_range(l, 8, 1, l->s->next_anon_vma_id, "anon_vma id");
	av->refcount = (int)get_range(l, 4, 1, INT32_MAX, "anon_vma refcount");
	l->av_root[i] = get_idx(l, l->nav, false, "root anon_vma");
	l->av_parent[i] = get_idx(l, l->nav, false, "parent anon_vma");
	av->num_children = (int)get_range(l, 4, 0, INT32_MAX, "num_children");
	av->num_active_vmas = (int)get_range(l, 4, 0, INT32_MAX,
	    "num_active_vmas");
	av->nr_links = (int)get_range(l, 4, 0, INT32_MAX, "nr_links");
	if (l->err == 0) {
		av->root = l->avs[l->av_root[i]];
		av->parent = l->avs[l->av_parent[i]];
	}
	return l->err;
}

/*
 * The anon_vma trees: a root is its own root and parent; any other has an
 * older parent (ids grow with age, so there is no cycle) of the same root.
 */
static int check_anon_vma_trees(struct ck_load *l)
{
	const struct anon_vma *av;
	uint32_t i;

	for (i = 0; i < l->nav; i++) {
		av = l->avs[i];
		if (av->root == av && av->parent == av)
			continue;
		if (av->root == av || av->parent == av ||
		    av->root->root != av->root || av->parent->root != av->root ||
		    av->parent->id >= av->id)
			return BAD(l, "anon_vma %u is no proper tree node", i);
	}
	return 0;
}

static int load_anon_vmas(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->nav && l->err == 0; i++)
		load_anon_vma(l, i);
	return l->err != 0 ? l->err : check_anon_vma_trees(l);
}

/* Bounds in order, page aligned, below TASK_SIZE, above prev_end. */
static int check_vma_bounds(struct ck_load *l, const struct vma *v,
    unsigned long prev_end)
{
	if (v->vm_start >= v->vm_end || as_offset_in_page(v->vm_start |
	    v->vm_end) || v->vm_end > AS_TASK_SIZE || v->vm_start < prev_end)
		return BAD(l, "VMA 0x%lx-0x%lx out of order or bounds",
		    v->vm_start, v->vm_end);
	if ((v->vm_page_prot & ~(PTE_KNOWN & ~PTE_PFN_MASK)) != 0 ||
	    v->vm_flags > 0xffffffffUL)
		return BAD(l, "VMA 0x%lx-0x%lx has bad flags", v->vm_start,
		    v->vm_end);
	return 0;
}

/* A VMA's anon_vma chain; its anon_vma must be on it. */
static int load_avc(struct ck_load *l, struct vma *v)
{
	unsigned int n = (unsigned int)get_count(l, 4, 4, "anon_vma chain");
	unsigned int k;
	uint32_t a;
	bool found = v->anon_vma == NULL;

	if (l->err != 0 || n == 0 ||
	    (v->avc = load_calloc(l, n, sizeof(*v->avc))) == NULL)
		goto out;
	v->avc_cap = n;
	memcg_charge_force(&l->s->mem, (long)(n * sizeof(*v->avc)));
	for (k = 0; k < n && l->err == 0; k++) {
		if ((a = get_idx(l, l->nav, false, "chained anon_vma")) ==
		    NONE || l->err != 0)
			break;
		v->avc[v->avc_len++] = l->avs[a];
		l->av_links[a]++;
		found |= l->avs[a] == v->anon_vma;
	}
out:
	if (l->err == 0 && !found)
		BAD(l, "VMA 0x%lx-0x%lx: its anon_vma is not on its chain",
		    v->vm_start, v->vm_end);
	return l->err;
}

/* VMA k of mm m, above prev_end; linked into the mm's index at once. */
static int load_vma(struct ck_load *l, uint32_t m, uint32_t k,
    unsigned long prev_end)
{
	struct mm *mm = l->mms[m];
	struct vma *v = vm_area_alloc(mm);
	uint32_t file, av, special;

	if (v == NULL)
		return fail(l, -ENOMEM, "out of memory");
	v->vm_start = get_u64(l);
	v->vm_end = get_u64(l);
	v->vm_flags = get_u64(l);
	v->vm_pgoff = get_u64(l);
	v->vm_page_prot = get_u64(l);
	file = get_idx(l, l->nopen, true, "VMA's struct file");
	av = get_idx(l, l->nav, true, "VMA's anon_vma");
	special = (uint32_t)get_range(l, 1, 0, NSPECIAL - 1, "special name");
	if (l->err != 0 || check_vma_bounds(l, v, prev_end) != 0) {
		free(v);
		return l->err;
	}
	v->vm_file = file != NONE ? l->opens[file] : NULL;
	v->anon_vma = av != NONE ? l->avs[av] : NULL;
	v->vm_special_name = special_names[special];
	if (file != NONE)
		l->open_vmas[file]++;
	if (av != NONE)
		l->av_active[av]++;
	vma_tree_insert(&mm->mm_mt, v);
	l->vmas[m][k] = v;
	return load_avc(l, v);
}

static int load_mm_fields(struct ck_load *l, struct mm *mm)
{
	unsigned long *f[] = { &mm->task_size, &mm->mmap_base,
	    &mm->start_code, &mm->end_code, &mm->start_data, &mm->end_data,
	    &mm->start_brk, &mm->brk, &mm->start_stack, &mm->total_vm,
	    &mm->locked_vm, &mm->data_vm, &mm->exec_vm, &mm->stack_vm,
	    &mm->def_flags };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = get_u64(l);
	mm->mm_users = (int)get_range(l, 4, 1, INT32_MAX, "mm_users");
	mm->mm_count = (int)get_range(l, 4, 1, INT32_MAX, "mm_count");
	mm->vmacache_seqnum = get_u64(l);
	mm->pgd = get_range(l, 8, 0, l->next_unused - 1, "pgd");
	mm->nr_pgtables = get_u64(l);
	mm->map_count = (int)get_range(l, 4, 0, INT32_MAX, "map_count");
	if (l->err == 0 && mm->task_size != AS_TASK_SIZE)
		return BAD(l, "task_size 0x%lx", mm->task_size);
	for (i = 1; i <= 8 && l->err == 0; i++)	/* the layout */
		if (*f[i] > AS_TASK_SIZE)
			return BAD(l, "layout address 0x%lx", *f[i]);
	return l->err;
}

static int load_mm(struct ck_load *l, uint32_t m)
{
	struct mm *mm = mm_alloc_nopgd(l->s);
	unsigned long prev_end = 0;
	uint32_t k;

	if ((l->mms[m] = mm) == NULL)
		return fail(l, -ENOMEM, "out of memory");
	if (load_mm_fields(l, mm) != 0)
		return l->err;
	l->nvma[m] = (uint32_t)get_count(l, 4, 53, "VMAs");
	if (l->err == 0 && l->nvma[m] != (uint32_t)mm->map_count)
		return BAD(l, "map_count %d but %u VMAs", mm->map_count,
		    l->nvma[m]);
	if (l->err != 0 || (l->vmas[m] = load_calloc(l, l->nvma[m],
	    sizeof(**l->vmas))) == NULL)
		return l->err;
	for (k = 0; k < l->nvma[m] && l->err == 0; k++) {
		load_vma(l, m, k, prev_end);
		if (l->err == 0)
			prev_end = l->vmas[m][k]->vm_end;
	}
	return l->err;
}

static int load_mms(struct ck_load *l)
{
	uint32_t m;

	for (m = 0; m < l->nmm && l->err == 0; m++)
		load_mm(l, m);
	return l->err;
}

static int load_task(struct ck_load *l, uint32_t i)
{
	struct task *t = load_calloc(l, 1, sizeof(*t));
	uint32_t m, ord, last = (uint32_t)l->s->next_pid - 1;
	int k;

	if ((l->tasks[i] = t) == NULL)
		return l->err;
	memcg_charge_force(&l->s->mem, kmem_size(sizeof(*t)));
	t->pid = (int)get_range(l, 4, 1, last, "pid");
	t->tgid = (int)get_range(l, 4, 1, last, "tgid");
	m = get_idx(l, l->nmm, false, "task's mm");
	l->vfork_pid[i] = (int)get_range(l, 4, 0, last, "vfork parent");
	t->vfork_blocked = get_bool(l, "vfork_blocked");
	t->vmacache_seqnum = get_u64(l);
	if (l->err != 0)
		return l->err;
	t->mm = l->mms[m];
	l->task_mm[i] = m;
	for (k = 0; k < VMACACHE_SIZE && l->err == 0; k++) {
		ord = get_idx(l, l->nvma[m], true, "cached VMA");
		if (l->err == 0 && ord != NONE)
			t->vmacache[k] = l->vmas[m][ord];
	}
	get_counters(l, &t->counters);
	return l->err;
}

static int load_tasks(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->ntask && l->err == 0; i++)
		load_task(l, i);
	return l->err;
}

/* --- the loader's cross-checks ------------------------------------------------ */

/* Claim a page-table frame for one place in one tree. */
static int claim_table(struct ck_load *l, unsigned long pfn)
{
	if (pfn >= l->next_unused || l->state[pfn] != FS_USED ||
	    !page_test(pfn_to_page(&l->s->phys, pfn), PG_pgtable))
		return BAD(l, "a page table at frame 0x%lx, which is no free "
		    "page-table frame", pfn);
	l->state[pfn] = FS_TABLE;
	return 0;
}

/* A leaf PTE of mm at addr: a frame in use (or the zero page), in a VMA. */
static int check_leaf(struct ck_load *l, struct mm *mm, unsigned long addr,
    pte_t pte)
{
	struct as_phys *phys = &l->s->phys;
	unsigned long pfn = pte_pfn(pte);

	if ((pte & ~PTE_KNOWN) != 0 || !pte_present(pte) ||
	    vma_lookup(mm, addr) == NULL)
		return BAD(l, "PTE 0x%llx at 0x%lx is not a present PTE in a "
		    "VMA", (unsigned long long)pte, addr);
	if (pte & _PAGE_SPECIAL) {
		if (pfn != phys->zero_pfn)
			return BAD(l, "special PTE at 0x%lx maps frame 0x%lx",
			    addr, pfn);
		return 0;
	}
	if (pfn >= l->next_unused || l->state[pfn] == FS_FREE ||
	    l->state[pfn] == FS_LOST || page_test(pfn_to_page(phys, pfn),
	    PG_pgtable | PG_reserved) || l->tally[pfn] >= INT32_MAX)
		return BAD(l, "PTE at 0x%lx maps frame 0x%lx, not a page in "
		    "use", addr, pfn);
	l->tally[pfn]++;
	return 0;
}

/* Check the table at pfn (level 0: the pgd) and the tables below it. */
static int walk_table(struct ck_load *l, struct mm *mm, unsigned long pfn,
    int level, unsigned long base, unsigned long *ntables)
{
	static const int shift[4] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT,
	    AS_PAGE_SHIFT };
	const pte_t *t = (const pte_t *)pfn_to_page(&l->s->phys, pfn)->data;
	unsigned long i, addr, child;

	for (i = 0; i < PTRS_PER_TABLE && l->err == 0; i++) {
		if (t[i] == 0)
			continue;
		addr = base + (i << shift[level]);
		if (level == 3) {
			check_leaf(l, mm, addr, t[i]);
			continue;
		}
		child = pte_pfn(t[i]);
		if (t[i] != pfn_pte(child, _PAGE_TABLE))
			return BAD(l, "table entry 0x%llx at 0x%lx",
			    (unsigned long long)t[i], addr);
		if (claim_table(l, child) == 0) {
			(*ntables)++;
			walk_table(l, mm, child, level + 1, addr, ntables);
		}
	}
	return l->err;
}

/* Every mm's page tables: one tree of its own, nr_pgtables tables below
 * the pgd; then every page-table frame belongs to one. */
static int check_page_tables(struct ck_load *l)
{
	unsigned long n, i;
	uint32_t m;

	for (m = 0; m < l->nmm && l->err == 0; m++) {
		n = 0;
		if (claim_table(l, l->mms[m]->pgd) == 0 &&
		    walk_table(l, l->mms[m], l->mms[m]->pgd, 0, 0, &n) == 0 &&
		    n != l->mms[m]->nr_pgtables)
			return BAD(l, "mm %u: nr_pgtables %lu, %lu tables", m,
			    l->mms[m]->nr_pgtables, n);
	}
	for (i = 0; i < l->npages && l->err == 0; i++)
		if (page_test(pfn_to_page(&l->s->phys, l->pfns[i]),
		    PG_pgtable) && l->state[l->pfns[i]] != FS_TABLE)
			return BAD(l, "page-table frame 0x%lx in no tree",
			    l->pfns[i]);
	return l->err;
}

/* Each frame's counts are its holders': PTEs, the page cache, a table. */
static int check_page_counts(struct ck_load *l)
{
	struct as_phys *phys = &l->s->phys;
	const struct page *page;
	unsigned long i, pfn;
	int held;

	for (i = 0; i < l->npages; i++) {
		pfn = l->pfns[i];
		page = pfn_to_page(phys, pfn);
		if (pfn == phys->zero_pfn)
			continue;
		held = page_test(page, PG_pgtable) ? 1 :
		    (int)l->tally[pfn] + (page->mapping != NULL);
		if (page_mapcount(page) != (int)l->tally[pfn] ||
		    page_refcount(page) != held)
			return BAD(l, "frame 0x%lx: refcount %d mapcount %d, "
			    "but %d PTEs and %d holders", pfn,
			    page_refcount(page), page_mapcount(page),
			    (int)l->tally[pfn], held);
	}
	return 0;
}

/* anon_vma counters: links and active VMAs counted, references held by
 * links and by children (their parent, and a root that is not it). */
static int check_anon_vma_counts(struct ck_load *l)
{
	unsigned long *refs = load_calloc(l, l->nav, sizeof(*refs));
	unsigned long *kids = load_calloc(l, l->nav, sizeof(*kids));
	uint32_t i, p, r;

	for (i = 0; i < l->nav && l->err == 0; i++) {
		p = l->av_parent[i];
		r = l->av_root[i];
		refs[i] += l->av_links[i];
		kids[i] += r == i;	/* a root's self-parent link */
		if (p != i) {
			refs[p]++;
			kids[p] += l->av_links[i] > 0;
		}
		if (r != i && r != p)
			refs[r]++;
	}
	for (i = 0; i < l->nav && l->err == 0; i++) {
		const struct anon_vma *av = l->avs[i];

		if ((unsigned long)av->nr_links != l->av_links[i] ||
		    (unsigned long)av->num_active_vmas != l->av_active[i] ||
		    (unsigned long)av->refcount != refs[i] ||
		    (unsigned long)av->num_children != kids[i])
			BAD(l, "anon_vma %u: counts differ from its links", i);
	}
	free(refs);
	free(kids);
	return l->err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct as_file *const *)a)->name,
	    (*(struct as_file *const *)b)->name);
}

/* References: a struct file's its VMAs', an inode's the list's and its
 * struct files'; listed names unique. */
static int check_files(struct ck_load *l)
{
	struct as_file **sorted = load_calloc(l, l->nfile, sizeof(*sorted));
	uint32_t i, n = 0;

	for (i = 0; i < l->nopen && l->err == 0; i++)
		if ((unsigned long)l->opens[i]->f_count != l->open_vmas[i])
			BAD(l, "struct file %u: f_count %ld, %lu VMAs", i,
			    l->opens[i]->f_count, l->open_vmas[i]);
	for (i = 0; i < l->nfile && l->err == 0; i++) {
		if ((unsigned long)l->files[i]->refcount !=
		    l->listed[i] + l->file_opens[i])
			BAD(l, "file %u: refcount %d, %lu references", i,
			    l->files[i]->refcount,
			    l->listed[i] + l->file_opens[i]);
		if (l->listed[i])
			sorted[n++] = l->files[i];
	}
	if (l->err == 0)
		qsort(sorted, n, sizeof(*sorted), by_name);
	for (i = 1; i < n && l->err == 0; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			BAD(l, "two files named %s", sorted[i]->name);
	free(sorted);
	return l->err;
}

static int by_pid(const void *a, const void *b)
{
	int x = (*(struct task *const *)a)->pid;
	int y = (*(struct task *const *)b)->pid;

	return (x > y) - (x < y);
}

/* The task of pid in sorted (by pid), or NULL. */
static struct task *find_pid(struct task **sorted, uint32_t n, int pid)
{
	struct task key = { .pid = pid }, *kp = &key, **t;

	t = bsearch(&kp, sorted, n, sizeof(*sorted), by_pid);
	return t != NULL ? *t : NULL;
}

/* pids unique, vfork parents alive and blocked, mm_users right. */
static int check_tasks(struct ck_load *l)
{
	struct task **sorted = load_calloc(l, l->ntask, sizeof(*sorted));
	unsigned long *users = load_calloc(l, l->nmm, sizeof(*users));
	struct task *p;
	uint32_t i, m;

	for (i = 0; i < l->ntask && l->err == 0; i++)
		sorted[i] = l->tasks[i];
	if (l->err == 0)
		qsort(sorted, l->ntask, sizeof(*sorted), by_pid);
	for (i = 1; i < l->ntask && l->err == 0; i++)
		if (sorted[i - 1]->pid == sorted[i]->pid)
			BAD(l, "two tasks with pid %d", sorted[i]->pid);
	for (i = 0; i < l->ntask && l->err == 0; i++) {
		users[l->task_mm[i]]++;
		if (l->vfork_pid[i] == 0)
			continue;
		p = find_pid(sorted, l->ntask, l->vfork_pid[i]);
		if (p == NULL || p == l->tasks[i] || !p->vfork_blocked)
			BAD(l, "task %d's vfork parent %d", l->tasks[i]->pid,
			    l->vfork_pid[i]);
		l->tasks[i]->vfork_parent = p;
	}
	for (m = 0; m < l->nmm && l->err == 0; m++)
		if ((unsigned long)l->mms[m]->mm_users != users[m])
			BAD(l, "mm %u: mm_users %d, %lu tasks", m,
			    l->mms[m]->mm_users, users[m]);
	free(sorted);
	free(users);
	return l->err;
}

/* Put the objects in the session's lists, in the checkpoint's order. */
static void link_session(struct ck_load *l)
{
	struct as_file **fp = &l->s->files;
	uint32_t i;

	for (i = 0; i < l->ntask; i++)
		l->tasks[i]->next = i + 1 < l->ntask ? l->tasks[i + 1] : NULL;
	l->s->tasks = l->ntask > 0 ? l->tasks[0] : NULL;
	for (i = 0; i < l->nfile; i++) {
		if (l->listed[i]) {
			*fp = l->files[i];
			fp = &l->files[i]->next;
		}
	}
	*fp = NULL;
}

/* Every cross-check, the last being mm_validate()'s own. */
static int load_verify(struct ck_load *l)
{
	const char *err;
	uint32_t m;

	if (check_page_tables(l) || check_page_counts(l) ||
	    check_anon_vma_counts(l) || check_files(l) || check_tasks(l))
		return l->err;
	link_session(l);
	for (m = 0; m < l->nmm; m++)
		if ((err = mm_validate_vmas(l->mms[m])) != NULL)
			return BAD(l, "mm %u: %s", m, err);
	if (l->ntask > 0 && (err = session_validate_ptes(l->s)) != NULL)
		return BAD(l, "%s", err);
	return 0;
}

static int load_sections(struct ck_load *l, const uint8_t *body)
{
	static int (*const parse[NSECT])(struct ck_load *) = {
		load_session, load_frames, load_files, load_opens,
		load_anon_vmas, load_mms, load_tasks
	};
	size_t off = 0, len;
	size_t i;

	for (i = 0; i < NSECT && l->err == 0; i++) {
		l->sect = NULL;
		if (l->body_len - off < 12 ||
		    memcmp(body + off, sect_tags[i], 4) != 0)
			return BAD(l, "section %s missing", sect_tags[i]);
		len = (size_t)le_get(body + off + 4, 8);
		if (len > l->body_len - off - 12)
			return BAD(l, "section %s longer than the body",
			    sect_tags[i]);
		l->p = body + off + 12;
		l->len = len;
		l->off = 0;
		l->sect = sect_tags[i];
		if (parse[i](l) == 0 && l->off != l->len)
			BAD(l, "%zu bytes left over", l->len - l->off);
		off += 12 + len;
	}
	l->sect = NULL;
	if (l->err == 0 && off != l->body_len)
		BAD(l, "%zu bytes after the last section", l->body_len - off);
	return l->err;
}

/* Free the loader's own arrays (not the objects they point at). */
static void load_free_tables(struct ck_load *l)
{
	uint32_t m;

	for (m = 0; l->vmas != NULL && m < l->nmm; m++)
		free(l->vmas[m]);
	free(l->vmas);
	free(l->nvma);
	free(l->files);
	free(l->listed);
	free(l->file_pages);
	free(l->file_opens);
	free(l->opens);
	free(l->open_vmas);
	free(l->avs);
	free(l->av_root);
	free(l->av_parent);
	free(l->av_links);
	free(l->av_active);
	free(l->vfork_pid);
	free(l->task_mm);
	free(l->mms);
	free(l->tasks);
	free(l->state);
	free(l->tally);
	free(l->pfns);
}

static void discard_mm(struct mm *mm)
{
	struct vma *v, *vn;

	for (v = mm->mm_mt.first; v != NULL; v = vn) {
		vn = v->vm_next;
		free(v->avc);
		free(v);
	}
	mm_free_nopgd(mm);
}

/* Free everything a failed load made, whatever its counts say. */
static void load_discard(struct ck_load *l)
{
	struct as_session *s = l->s;
	uint32_t i;

	for (i = 0; l->mms != NULL && i < l->nmm; i++)
		if (l->mms[i] != NULL)
			discard_mm(l->mms[i]);
	for (i = 0; l->files != NULL && i < l->nfile; i++) {
		if (l->files[i] != NULL) {
			free(l->files[i]->cache);
			pthread_mutex_destroy(&l->files[i]->lock);
			free(l->files[i]);
		}
	}
	for (i = 0; l->opens != NULL && i < l->nopen; i++)
		free(l->opens[i]);
	for (i = 0; l->avs != NULL && i < l->nav; i++)
		free(l->avs[i]);
	for (i = 0; l->tasks != NULL && i < l->ntask; i++)
		free(l->tasks[i]);
	if (l->phys_ready)
		phys_destroy(&s->phys);
	pthread_mutex_destroy(&s->anon_vma_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int as_checkpoint_ram(const void *data, size_t len, unsigned long *ram_bytes)
{
	const uint8_t *body = (const uint8_t *)data + AS_CKPT_HEADER_SIZE;
	struct ck_load l = { .why = NULL, .whylen = 0 };

	if (data == NULL || load_header(&l, data, len) != 0)
		return l.err != 0 ? l.err : -EINVAL;
	if (l.body_len < 20 || memcmp(body, sect_tags[0], 4) != 0)
		return -EBADMSG;
	*ram_bytes = (unsigned long)le_get(body + 12, 8);
	return 0;
}

int as_session_load(const void *data, size_t len, struct as_session **sp,
    char *why, size_t whylen)
{
	struct ck_load l = { .why = why, .whylen = whylen };

	*sp = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (data == NULL || load_header(&l, data, len) != 0)
		return l.err != 0 ? l.err : fail(&l, -EINVAL, "no data");
	if ((l.s = calloc(1, sizeof(*l.s))) == NULL)
		return fail(&l, -ENOMEM, "out of memory");
	pthread_mutex_init(&l.s->lock, NULL);
	pthread_mutex_init(&l.s->anon_vma_lock, NULL);
	memcg_charge_force(&l.s->mem, kmem_size(sizeof(*l.s)));
	if (load_sections(&l, (const uint8_t *)data + AS_CKPT_HEADER_SIZE) ==
	    0)
		load_verify(&l);
	if (l.err != 0) {
		load_discard(&l);
	} else {
		/* What was kept is not refused; from now on it is charged as
		 * a session made afresh is (as_session_mem_attach() gives it
		 * its parent). */
		l.s->mem.limit =
		    (long)as_session_mem_limit(l.s->limits.ram_bytes);
		*sp = l.s;
	}
	load_free_tables(&l);
	return l.err;
}

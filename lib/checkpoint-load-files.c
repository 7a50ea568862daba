/*
 * checkpoint-load-files.c: the loader's sections of file-backed objects:
 * FILE (inodes with their page cache and holes), OPEN (struct files) and
 * SHM (System V segments), each checked as checkpoint-load.c checks the
 * rest (counts against the bytes left, indices against their tables,
 * every cached frame in use and naming its file).
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"
#include "shm.h"

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
	unsigned long n = ck_get_count(l, 8, 16, "cached pages"), k;
	uint64_t last, index = 0, prev = 0, pfn;

	if (l->err == 0 && l->file_pages[i] != n)
		return BAD(l, "file %u: %lu frames name it, %lu cached", i,
		    l->file_pages[i], n);
	if (l->err != 0 || n == 0)
		return l->err;
	last = ck_le_get(l->p + l->off + (n - 1) * 16, 8);
	if (last >= MAX_CACHE_INDEX || last >= file_nr_pages(f))
		return BAD(l, "file %u caches page %llu, past its end or "
		    "too far", i, (unsigned long long)last);
	for (f->cache_len = 16; f->cache_len <= last; f->cache_len *= 2)
		;
	if ((f->cache = ck_load_calloc(l, f->cache_len, sizeof(*f->cache))) ==
	    NULL)
		return l->err;
	memcg_charge_force(f->memcg, (long)(f->cache_len * sizeof(*f->cache)));
	for (k = 0; k < n && l->err == 0; prev = index, k++) {
		index = ck_get_u64(l);
		pfn = ck_get_u64(l);
		if (l->err == 0 && k > 0 && index <= prev)
			return BAD(l, "file %u's cache out of order", i);
		if (l->err == 0)
			load_cache_entry(l, i, index, pfn);
	}
	return l->err;
}

/* f's holes: ascending, disjoint and apart, inside the file; a shmem
 * object has none. */
static int load_holes(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	unsigned long n = ck_get_count(l, 4, 16, "holes"), k;
	uint64_t first, last, prev = 0;

	if (l->err == 0 && n > 0 && f->shmem_zero)
		return BAD(l, "file %u: holes in a shmem object", i);
	for (k = 0; k < n && l->err == 0; prev = last + 2, k++) {
		first = ck_get_u64(l);
		last = ck_get_u64(l);
		if (l->err == 0 && (first < prev || last < first ||
		    last >= file_nr_pages(f)))
			return BAD(l, "file %u: hole %lu out of order or "
			    "past the end", i, k);
		if (l->err == 0 && file_punch_hole(f, first, last) != 0)
			return ck_fail(l, -ENOMEM, "out of memory");
	}
	return l->err;
}

/* File i (inode): its name, size, references, id, list place, cache,
 * holes. */
static int load_file(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	size_t len = (size_t)ck_get_range(l, 1, 0, sizeof(f->name) - 1,
	    "name length");
	const uint8_t *name = ck_get_bytes(l, len);

	if (name != NULL && memchr(name, '\0', len) != NULL)
		return BAD(l, "file %u's name holds a NUL", i);
	if (name != NULL)
		memcpy(f->name, name, len);
	f->size = ck_get_u64(l);
	f->shmem_zero = ck_get_bool(l, "shmem");
	f->refcount = (int)ck_get_range(l, 4, 1, INT32_MAX, "file refcount");
	f->id = ck_get_range(l, 8, 0, l->s->next_file_id, "file id");
	l->listed[i] = ck_get_bool(l, "listed");
	if (l->err == 0 && l->listed[i] && f->shmem_zero)
		return BAD(l, "file %u: a shmem object on the file list", i);
	if (l->err == 0)
		load_cache(l, i);
	return l->err != 0 ? l->err : load_holes(l, i);
}

/* The FILE section. */
int ck_load_files(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->nfile && l->err == 0; i++)
		load_file(l, i);
	return l->err;
}

/* The struct files, by increasing f_id: each of an inode, held by the
 * VMAs that name it (counted there, checked in check_files()). */
int ck_load_opens(struct ck_load *l)
{
	unsigned long prev = 0;
	struct file *f;
	uint32_t i, file;

	for (i = 0; i < l->nopen && l->err == 0; i++) {
		f = l->opens[i];
		file = ck_get_idx(l, l->nfile, false, "struct file's inode");
		f->f_count = (long)ck_get_range(l, 4, 1, INT32_MAX, "f_count");
		f->f_id = ck_get_range(l, 8, prev + 1, l->s->next_file_id,
		    "struct file id (in order)");
		f->f_mode = (unsigned int)ck_get_range(l, 1, FMODE_READ,
		    FMODE_READ | FMODE_WRITE, "f_mode");
		if (l->err != 0)
			break;
		f->f_inode = l->files[file];
		l->file_opens[file]++;
		prev = f->f_id;
	}
	return l->err;
}

/* One System V segment: name, size, attach count, state, inode. */
static int load_shm_seg(struct ck_load *l, struct shmid_kernel ***tail)
{
	struct shmid_kernel *shp, *o;
	const uint8_t *name;
	uint32_t n, file;
	struct as_file *f;

	n = (uint32_t)ck_get_range(l, 1, 1, TRACE_NAME_MAX - 1,
	    "segment name length");
	name = l->err == 0 ? ck_get_bytes(l, n) : NULL;
	if (l->err != 0)
		return l->err;
	if ((shp = ck_load_calloc(l, 1, sizeof(*shp))) == NULL)
		return l->err;
	memcg_charge_force(&l->s->mem, kmem_size(sizeof(*shp)));
	**tail = shp;		/* load_discard() frees it from here on */
	*tail = &shp->next;
	memcpy(shp->name, name, n);
	if (memchr(shp->name, '\0', n) != NULL)
		return BAD(l, "segment name with a NUL");
	for (o = l->s->shm_segs; o != shp; o = o->next)
		if (strcmp(o->name, shp->name) == 0)
			return BAD(l, "two segments named %s", shp->name);
	shp->shm_segsz = ck_get_range(l, 8, SHMMIN, SHMMAX, "segment size");
	shp->shm_nattch = (long)ck_get_range(l, 8, 0, INT32_MAX,
	    "shm_nattch");
	shp->removed = ck_get_bool(l, "removed");
	shp->destroyed = ck_get_bool(l, "destroyed");
	file = ck_get_idx(l, l->nfile, true, "segment's inode");
	if (l->err != 0)
		return l->err;
	if (shp->destroyed != (file == NONE))
		return BAD(l, "segment %s: destroyed but for its inode",
		    shp->name);
	if (shp->destroyed) {
		if (!shp->removed || shp->shm_nattch != 0)
			return BAD(l, "segment %s: destroyed, not removed or "
			    "attached", shp->name);
		return 0;
	}
	f = l->files[file];
	if (!f->shmem_zero || l->listed[file] || f->shm != NULL ||
	    f->size != shp->shm_segsz)
		return BAD(l, "segment %s: its inode is no segment's own",
		    shp->name);
	if (shp->removed && shp->shm_nattch == 0)
		return BAD(l, "segment %s: removed and unattached", shp->name);
	shp->shm_file = f;
	f->shm = shp;
	return 0;
}

/* The SHM section: the System V segments in creation order. */
int ck_load_shm(struct ck_load *l)
{
	struct shmid_kernel **tail = &l->s->shm_segs;
	uint32_t n, i;

	n = (uint32_t)ck_get_count(l, 4, 23, "segments");
	for (i = 0; i < n && l->err == 0; i++)
		load_shm_seg(l, &tail);
	return l->err;
}

/*
 * checkpoint-files.c: the loader's SWAP and FILE sections (see
 * checkpoint.h): the swap device's slots in use with their bytes and
 * swap-cache frames, then each file's name, size, references, page cache
 * (frames, and a shmem object's swap entries) and holes.  Called from
 * checkpoint-load.c's section table.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"
#include "shmem.h"
#include "swap.h"

/* One slot in use of the SWAP section, after prev. */
static int load_swap_slot(struct ck_load *l, struct swap_info_struct *si,
    uint64_t *prev)
{
	struct as_phys *phys = &l->s->phys;
	uint64_t off = ck_get_range(l, 8, *prev + 1, si->max - 1, "swap slot");
	uint64_t count = ck_get_range(l, 4, 0, SWAP_COUNT_MASK, "swap count");
	uint64_t pfn = ck_get_u64(l);
	bool has_data = ck_get_bool(l, "slot written");
	struct page *page = NULL;

	if (l->err != 0)
		return l->err;
	*prev = off;
	if (swap_grow(phys, si, off) != 0)
		return ck_fail(l, -ENOMEM, "out of memory");
	if (pfn != ~0ULL) {
		if (pfn >= l->next_unused || l->state[pfn] != FS_USED ||
		    (page = pfn_to_page(phys, pfn)) == NULL ||
		    (page->flags & (PG_swapcache | PG_anon)) !=
		    (PG_swapcache | PG_anon) || page->private != 0)
			return BAD(l, "swap slot %llu's cache frame 0x%llx is "
			    "no unclaimed swap-cache page",
			    (unsigned long long)off, (unsigned long long)pfn);
		page->private = off;
		si->cache[off] = page;
	}
	if ((count == 0 && page == NULL) || (count > 0 && !has_data))
		return BAD(l, "swap slot %llu in use but %s",
		    (unsigned long long)off, count == 0 ? "unreferenced" :
		    "never written");
	si->swap_map[off] = (uint32_t)count | (page ? SWAP_HAS_CACHE : 0);
	si->inuse_pages++;
	memcg_charge_force(phys->memcg, (long)(sizeof(uint32_t) +
	    sizeof(struct page *) + sizeof(uint8_t *)));
	if (has_data) {
		if ((si->data[off] = malloc(AS_PAGE_SIZE)) == NULL)
			return ck_fail(l, -ENOMEM, "out of memory");
		memcg_charge_force(phys->memcg, AS_PAGE_SIZE);
		memset(si->data[off], 0, AS_PAGE_SIZE);
		return ck_load_frame_data(l, si->data[off], false);
	}
	return 0;
}

/* The SWAP section: the device (as big as the session's swap size), its
 * slots in use; every swap-cache frame must be claimed by one. */
int ck_load_swap(struct ck_load *l)
{
	struct as_phys *phys = &l->s->phys;
	unsigned long want = l->s->limits.swap_bytes >> AS_PAGE_SHIFT;
	uint64_t max = ck_get_u64(l), next = ck_get_u64(l), n, i, prev = 0;
	struct swap_info_struct *si = NULL;

	if (l->err != 0)
		return l->err;
	if (max != 0 && (want < 2 || max != want || next >= max))
		return BAD(l, "a swap device of %llu slots for a swap of %lu "
		    "pages", (unsigned long long)max, want);
	if (max != 0 && (si = swap_info_get(phys, l->s->limits.swap_bytes)) ==
	    NULL)
		return ck_fail(l, -ENOMEM, "out of memory");
	if (si != NULL)
		si->next = next;
	else if (next != 0)
		return BAD(l, "a swap cursor without a swap device");
	n = ck_get_range(l, 8, 0, max > 0 ? max - 1 : 0, "swap slots in use");
	for (i = 0; i < n && l->err == 0; i++)
		load_swap_slot(l, si, &prev);
	for (i = 0; i < l->npages && l->err == 0; i++) {
		struct page *page = pfn_to_page(phys, l->pfns[i]);

		if (page_test(page, PG_swapcache) && page->private == 0)
			BAD(l, "frame 0x%lx in the swap cache of no slot",
			    l->pfns[i]);
	}
	return l->err;
}

/* A swap entry of shmem file f at index: a slot in use with a count
 * (mm_validate() checks the counts against the entries). */
static int load_cache_swap(struct ck_load *l, uint32_t i, uint64_t index,
    uint64_t off)
{
	struct swap_info_struct *si = l->s->phys.swap;
	struct as_file *f = l->files[i];

	if (!f->shmem_zero || si == NULL || off == 0 || off >= si->cap ||
	    (si->swap_map[off] & SWAP_COUNT_MASK) == 0)
		return BAD(l, "file %u's swap entry at %llu names no slot in "
		    "use", i, (unsigned long long)index);
	f->cache[index] = swp_to_radix_entry(off);
	f->swapped++;
	return 0;
}

/* One cache entry of f: a frame in use that names f at this index, or
 * a shmem swap entry. */
static int load_cache_entry(struct ck_load *l, uint32_t i, uint64_t index,
    uint64_t pfn)
{
	struct as_file *f = l->files[i];
	struct page *page;

	if (pfn & CK_CACHE_SWAP)
		return load_cache_swap(l, i, index, pfn & ~CK_CACHE_SWAP);
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

/* The frames f's cache holds are all that name it. */
static int load_cache_count(struct ck_load *l, uint32_t i, unsigned long n)
{
	if (l->file_pages[i] != n)
		return BAD(l, "file %u: %lu frames name it, %lu cached", i,
		    l->file_pages[i], n);
	return 0;
}

/* f's page cache: (index, pfn) pairs by increasing index, exactly the
 * frames that name f, and shmem swap entries. */
static int load_cache(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	unsigned long n = ck_get_count(l, 8, 16, "cached pages"), k;
	uint64_t last, index = 0, prev = 0, pfn;

	if (l->err != 0 || n == 0)
		return l->err != 0 ? l->err : load_cache_count(l, i, 0);
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
	return l->err != 0 ? l->err : load_cache_count(l, i, n - f->swapped);
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

/* f's disk copies of pages: by index, inside the file, in no hole; a
 * shmem object has none. */
static int load_blocks(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	unsigned long n = ck_get_count(l, 4, 9, "disk pages"), k;
	uint64_t index, next = 0;
	struct page page = { 0 };
	uint8_t *d = malloc(AS_PAGE_SIZE);

	if (d == NULL)
		return ck_fail(l, -ENOMEM, "out of memory");
	if (l->err == 0 && n > 0 && f->shmem_zero)
		BAD(l, "file %u: disk pages of a shmem object", i);
	for (k = 0; k < n && l->err == 0; next = index + 1, k++) {
		index = ck_get_u64(l);
		if (l->err == 0 && (index < next || index >= file_nr_pages(f) ||
		    file_in_hole(f, index)))
			BAD(l, "file %u: disk page %lu out of order, past the "
			    "end or in a hole", i, k);
		memset(d, 0, AS_PAGE_SIZE);	/* runs set only their bytes */
		if (l->err == 0)
			ck_load_frame_data(l, d, false);
		page.index = index;
		page.data = d;
		if (l->err == 0 && file_write_block(f, &page) != 0)
			ck_fail(l, -ENOMEM, "out of memory");
	}
	free(d);
	return l->err;
}

/* File i (inode): its name, size, references, id, list place, cache,
 * holes, the disk's copies of pages. */
static int load_file(struct ck_load *l, uint32_t i)
{
	struct as_file *f = l->files[i];
	size_t len = (size_t)ck_get_range(l, 1, 0, sizeof(f->name) - 1,
	    "name length");
	const uint8_t *name = ck_get_bytes(l, len);
	unsigned int flags;

	if (name != NULL && memchr(name, '\0', len) != NULL)
		return BAD(l, "file %u's name holds a NUL", i);
	if (name != NULL)
		memcpy(f->name, name, len);
	f->size = ck_get_u64(l);
	flags = (unsigned int)ck_get_range(l, 1, 0, 3, "file flags");
	f->shmem_zero = flags & 1;
	f->da_alloc_close = flags & 2;
	f->refcount = (int)ck_get_range(l, 4, 1, INT32_MAX, "file refcount");
	f->id = ck_get_range(l, 8, 0, l->s->next_file_id, "file id");
	l->listed[i] = ck_get_bool(l, "listed");
	if (l->err == 0 && l->listed[i] && f->shmem_zero)
		return BAD(l, "file %u: a shmem object on the file list", i);
	if (l->err == 0)
		load_cache(l, i);
	if (l->err == 0)
		load_holes(l, i);
	return l->err != 0 ? l->err : load_blocks(l, i);
}

/* The FILE section. */
int ck_load_files(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->nfile && l->err == 0; i++)
		load_file(l, i);
	return l->err;
}

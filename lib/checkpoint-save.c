/*
 * checkpoint-save.c: the saver, as_session_save().  It numbers the objects
 * of a quiescent session (mms, files, struct files, anon_vmas, VMAs) in a
 * fixed order with pointer tables, so that equal sessions give equal
 * bytes, then writes the header and the sections in the format
 * checkpoint.h describes, and seals the header with the body's length and
 * CRC-32 last.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"
#include "shmem.h"
#include "swap.h"

/* Append the 17 counters, in struct order. */
static void put_counters(struct ck_save *w, const struct as_counters *c)
{
	const unsigned long *v = (const unsigned long *)c;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		ck_put_u64(w, v[i]);
}

/* qsort() order of struct files: by increasing f_id. */
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
	struct shmid_kernel *shp;
	struct as_file *f;
	struct task *t;
	struct vma *v;
	uint32_t i, k, ord;
	int err = 0;

	for (t = s->tasks; t != NULL && err == 0; t = t->next)
		err = ck_ptab_add(&w->mms, t->mm);
	for (f = s->files; f != NULL && err == 0; f = f->next)
		err = ck_ptab_add(&w->files, f);
	for (i = 0; i < w->mms.n && err == 0; i++) {
		ord = 0;
		for (v = ((struct mm *)w->mms.obj[i])->mm_mt.first;
		    v != NULL && err == 0; v = v->vm_next) {
			err = ck_ptab_add(&w->opens, v->vm_file);
			for (k = 0; k < v->avc_len && err == 0; k++)
				err = ck_ptab_add(&w->avs, v->avc[k]);
			if (err == 0)
				err = ck_ptab_add(&w->avs, v->anon_vma);
			if (err == 0)
				err = ck_ptab_map(&w->vmas, v, ord++);
		}
	}
	if (err == 0)
		ck_ptab_sort(&w->opens, by_f_id);
	for (i = 0; i < w->opens.n && err == 0; i++)
		err = ck_ptab_add(&w->files,
		    file_inode((const struct file *)w->opens.obj[i]));
	for (shp = s->shm_segs; shp != NULL && err == 0; shp = shp->next)
		if (shp->shm_file != NULL)
			err = ck_ptab_add(&w->files, shp->shm_file);
	for (i = 0; i < w->avs.n && err == 0; i++) {	/* ancestors */
		const struct anon_vma *av = w->avs.obj[i];

		if ((err = ck_ptab_add(&w->avs, av->parent)) == 0)
			err = ck_ptab_add(&w->avs, av->root);
	}
	return err;
}

/* The SESS section: limits, kernel parameters, image, ids, counts. */
static void save_session(struct ck_save *w)
{
	const struct as_session *s = w->s;
	const struct as_limits *l = &s->limits;
	uint32_t ntask = 0;
	const struct task *t;

	for (t = s->tasks; t != NULL; t = t->next)
		ntask++;
	ck_sect_begin(w, S_SESS);
	ck_put_u64(w, l->ram_bytes);
	ck_put_u64(w, s->phys.max_frames << AS_PAGE_SHIFT);
	ck_put_u64(w, l->swap_bytes);
	ck_put_u32(w, (uint32_t)l->max_map_count);
	ck_put_u64(w, l->rlimit_stack);
	ck_put_u64(w, l->rlimit_memlock);
	ck_put_u64(w, l->rlimit_as);
	ck_put_u64(w, l->rlimit_data);
	ck_put_u32(w, (uint32_t)l->overcommit_memory);
	ck_put_u8(w, l->cap_ipc_lock);
	ck_put_u8(w, l->zero_page);
	ck_put_u64(w, l->fault_around_bytes);
	ck_put_u8(w, l->share_tables);
	ck_put_u8(w, s->started);
	ck_put_u8(w, strnlen(s->image.name, sizeof(s->image.name)));
	ck_put_bytes(w, s->image.name, strnlen(s->image.name,
	    sizeof(s->image.name)));
	ck_put_u64(w, s->image.text);
	ck_put_u64(w, s->image.data);
	ck_put_u64(w, s->image.bss);
	ck_put_u64(w, s->seed);
	ck_put_u8(w, s->randomize);
	ck_put_u64(w, s->next_file_id);
	ck_put_u64(w, s->next_anon_vma_id);
	ck_put_u32(w, (uint32_t)s->next_pid);
	put_counters(w, &s->counters);
	ck_put_u32(w, w->files.n);
	ck_put_u32(w, w->opens.n);
	ck_put_u32(w, w->avs.n);
	ck_put_u32(w, w->mms.n);
	ck_put_u32(w, ntask);
	ck_sect_end(w);
}

/* Whether the frame's 4096 bytes are all zero. */
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

/* A frame's contents: zero, raw, or runs, whichever is shortest. */
static void save_frame_data(struct ck_save *w, const uint8_t *d)
{
	uint16_t run[MAX_RUNS][2];
	size_t bytes;
	int n, i;

	if (frame_is_zero(d)) {
		ck_put_u8(w, DATA_ZERO);
		return;
	}
	if ((n = frame_runs(d, run, &bytes)) < 0) {
		ck_put_u8(w, DATA_RAW);
		ck_put_bytes(w, d, AS_PAGE_SIZE);
		return;
	}
	ck_put_u8(w, DATA_RUNS);
	ck_put_u16(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		ck_put_u16(w, run[i][0]);
		ck_put_u16(w, run[i][1]);
		ck_put_bytes(w, d + run[i][0], run[i][1]);
	}
}

/* One frame in use: pfn, counts, flags, owners, index, contents. */
static void save_page(struct ck_save *w, const struct page *page)
{
	uint32_t file = ck_ptab_get(&w->files, page->mapping);
	uint32_t av = ck_ptab_get(&w->avs, page->anon_vma);

	/* A page mapped nowhere (in the swap cache) may name an anon_vma
	 * freed since, as Linux's folio->mapping may: saved as none. */
	if ((page->mapping != NULL && file == NONE) ||
	    (page->anon_vma != NULL && av == NONE && page_mapcount(page)))
		w->err = w->err ? w->err : -EINVAL;
	ck_put_u64(w, page->pfn);
	ck_put_u32(w, (uint32_t)page_refcount(page));
	ck_put_u32(w, (uint32_t)page_mapcount(page));
	ck_put_u32(w, page->flags & ~PG_hostshared);	/* where bytes live */
	ck_put_u8(w, page->anon_excl);
	ck_put_u32(w, file);
	ck_put_u32(w, av);
	ck_put_u64(w, page->index);
	save_frame_data(w, page->data);
}

/* The frame of pfn if it is in use, else NULL (never makes a chunk). */
static const struct page *page_in_use(const struct as_phys *p,
    unsigned long pfn)
{
	if (pfn >= p->max_frames || !memmap_made(p, pfn) ||
	    p->memmap[pfn].data == NULL)
		return NULL;
	return &p->memmap[pfn];
}

/* The FRAM section: the allocator, then every frame in use by pfn. */
static void save_frames(struct ck_save *w)
{
	const struct as_phys *p = &w->s->phys;
	unsigned long pfn, i, n = 0;

	for (pfn = 0; pfn < p->next_unused; pfn++)
		n += page_in_use(p, pfn) != NULL;
	ck_sect_begin(w, S_FRAM);
	ck_put_u64(w, p->zero_pfn);
	ck_put_u64(w, p->next_unused);
	ck_put_u64(w, p->nr_used);
	ck_put_u64(w, p->nr_free_stack);
	for (i = 0; i < p->nr_free_stack; i++)
		ck_put_u64(w, p->free[i]);
	ck_put_u64(w, n);
	for (pfn = 0; pfn < p->next_unused && w->err == 0; pfn++)
		if (page_in_use(p, pfn) != NULL)
			save_page(w, page_in_use(p, pfn));
	ck_sect_end(w);
}

/* The SWAP section: the device's size, then every slot in use. */
static void save_swap(struct ck_save *w)
{
	struct swap_info_struct *si = w->s->phys.swap;
	unsigned long off;

	ck_sect_begin(w, S_SWAP);
	ck_put_u64(w, si != NULL ? si->max : 0);
	ck_put_u64(w, si != NULL ? si->next : 0);
	ck_put_u64(w, si != NULL ? si->inuse_pages : 0);
	for (off = 1; si != NULL && off < si->cap; off++) {
		if (si->swap_map[off] == 0)
			continue;
		ck_put_u64(w, off);
		ck_put_u32(w, si->swap_map[off] & SWAP_COUNT_MASK);
		ck_put_u64(w, si->cache[off] != NULL ? si->cache[off]->pfn :
		    ~0ULL);
		ck_put_u8(w, si->data[off] != NULL);
		if (si->data[off] != NULL)
			save_frame_data(w, si->data[off]);
	}
	ck_sect_end(w);
}

/* One file (inode): name, size, references, id, list place, cache,
 * holes, the disk's copies of pages. */
static void save_file(struct ck_save *w, const struct as_file *f)
{
	const struct as_file *g;
	unsigned long i, n = 0;
	bool listed = false;

	for (g = w->s->files; g != NULL && !listed; g = g->next)
		listed = g == f;
	for (i = 0; i < f->cache_len; i++)
		n += f->cache[i] != NULL;
	ck_put_u8(w, strlen(f->name));
	ck_put_bytes(w, f->name, strlen(f->name));
	ck_put_u64(w, f->size);
	ck_put_u8(w, (f->shmem_zero ? 1 : 0) | (f->da_alloc_close ? 2 : 0));
	ck_put_u32(w, (uint32_t)f->refcount);
	ck_put_u64(w, f->id);
	ck_put_u8(w, listed);
	ck_put_u64(w, n);
	for (i = 0; i < f->cache_len; i++) {
		if (f->cache[i] == NULL)
			continue;
		ck_put_u64(w, i);
		if (xa_is_value(f->cache[i]))	/* a shmem swap entry */
			ck_put_u64(w, CK_CACHE_SWAP |
			    radix_to_swp_offset(f->cache[i]));
		else
			ck_put_u64(w, f->cache[i]->pfn);
	}
	ck_put_u32(w, f->nr_holes);
	for (i = 0; i < f->nr_holes; i++) {
		ck_put_u64(w, f->holes[i].first);
		ck_put_u64(w, f->holes[i].last);
	}
	ck_put_u32(w, (uint32_t)f->nr_blocks);
	for (i = 0; i < f->blocks_len; i++) {
		if (f->blocks[i] == NULL)
			continue;
		ck_put_u64(w, i);
		save_frame_data(w, f->blocks[i]);
	}
}

/* The FILE section: the files in table order. */
static void save_files(struct ck_save *w)
{
	uint32_t i;

	ck_sect_begin(w, S_FILE);
	for (i = 0; i < w->files.n; i++)
		save_file(w, w->files.obj[i]);
	ck_sect_end(w);
}

/* The OPEN section: the struct files, by increasing f_id. */
static void save_opens(struct ck_save *w)
{
	const struct file *f;
	uint32_t i;

	ck_sect_begin(w, S_OPEN);
	for (i = 0; i < w->opens.n; i++) {
		f = w->opens.obj[i];
		if (f->f_count < 1 || f->f_count > INT32_MAX)
			w->err = w->err ? w->err : -EINVAL;
		ck_put_u32(w, ck_ptab_get(&w->files, file_inode(f)));
		ck_put_u32(w, (uint32_t)f->f_count);
		ck_put_u64(w, f->f_id);
		ck_put_u8(w, f->f_mode);
	}
	ck_sect_end(w);
}

/* The AVMA section: each anon_vma's id, counts, root and parent. */
static void save_anon_vmas(struct ck_save *w)
{
	uint32_t i;

	ck_sect_begin(w, S_AVMA);
	for (i = 0; i < w->avs.n; i++) {
		const struct anon_vma *av = w->avs.obj[i];

		ck_put_u64(w, av->id);
		ck_put_u32(w, (uint32_t)av->refcount);
		ck_put_u32(w, ck_ptab_get(&w->avs, av->root));
		ck_put_u32(w, ck_ptab_get(&w->avs, av->parent));
		ck_put_u32(w, (uint32_t)av->num_children);
		ck_put_u32(w, (uint32_t)av->num_active_vmas);
		ck_put_u32(w, (uint32_t)av->nr_links);
	}
	ck_sect_end(w);
}

/* The code of v's special name in special_names[], 0 if none. */
static uint32_t special_code(const struct vma *v)
{
	uint32_t i;

	for (i = 1; v->vm_special_name != NULL && i < NSPECIAL; i++)
		if (strcmp(v->vm_special_name, special_names[i]) == 0)
			return i;
	return 0;
}

/* One VMA: bounds, flags, struct file, anon_vma and chain, name. */
static void save_vma(struct ck_save *w, const struct vma *v)
{
	unsigned int i;

	if (v->vm_special_name != NULL && special_code(v) == 0)
		w->err = w->err ? w->err : -EINVAL;	/* a name to add */
	ck_put_u64(w, v->vm_start);
	ck_put_u64(w, v->vm_end);
	ck_put_u64(w, v->vm_flags);
	ck_put_u64(w, v->vm_pgoff);
	ck_put_u64(w, v->vm_page_prot);
	ck_put_u32(w, ck_ptab_get(&w->opens, v->vm_file));
	ck_put_u32(w, ck_ptab_get(&w->avs, v->anon_vma));
	ck_put_u8(w, special_code(v));
	ck_put_u32(w, v->avc_len);
	for (i = 0; i < v->avc_len; i++)
		ck_put_u32(w, ck_ptab_get(&w->avs, v->avc[i]));
}

/* One mm: its layout and counters, then its VMAs in address order. */
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
		ck_put_u64(w, f[i]);
	ck_put_u32(w, (uint32_t)mm->mm_users);
	ck_put_u32(w, (uint32_t)mm->mm_count);
	ck_put_u64(w, mm->vmacache_seqnum);
	ck_put_u64(w, mm->pgd);
	ck_put_u64(w, mm->nr_pgtables);
	ck_put_u32(w, (uint32_t)mm->map_count);
	ck_put_u32(w, (uint32_t)mm->mm_mt.count);
	for (v = mm->mm_mt.first; v != NULL; v = v->vm_next)
		save_vma(w, v);
}

/* The MMS section: the mms in table order. */
static void save_mms(struct ck_save *w)
{
	uint32_t i;

	ck_sect_begin(w, S_MMS);
	for (i = 0; i < w->mms.n; i++)
		save_mm(w, w->mms.obj[i]);
	ck_sect_end(w);
}

/* A cached VMA's ordinal; a stale cache (seqnum behind) is saved empty,
 * as the next lookup would empty it. */
static uint32_t vmacache_ord(struct ck_save *w, const struct task *t, int i)
{
	const struct vma *v = t->vmacache[i];

	if (v == NULL || t->vmacache_seqnum != t->mm->vmacache_seqnum)
		return NONE;
	return ck_ptab_get(&w->vmas, v) != NONE && v->vm_mm == t->mm ?
	    ck_ptab_get(&w->vmas, v) : NONE;
}

/* The TASK section: every task in list order. */
static void save_tasks(struct ck_save *w)
{
	const struct task *t;
	int i;

	ck_sect_begin(w, S_TASK);
	for (t = w->s->tasks; t != NULL; t = t->next) {
		ck_put_u32(w, (uint32_t)t->pid);
		ck_put_u32(w, (uint32_t)t->tgid);
		ck_put_u32(w, ck_ptab_get(&w->mms, t->mm));
		ck_put_u32(w, t->vfork_parent ? (uint32_t)t->vfork_parent->pid : 0);
		ck_put_u8(w, t->vfork_blocked);
		ck_put_u64(w, t->vmacache_seqnum);
		for (i = 0; i < VMACACHE_SIZE; i++)
			ck_put_u32(w, vmacache_ord(w, t, i));
		put_counters(w, &t->counters);
	}
	ck_sect_end(w);
}

/* The header: magic and version; length and CRC come at the end. */
/* The SHM section: the System V segments, destroyed ones as names. */
static void save_shm(struct ck_save *w)
{
	const struct shmid_kernel *shp;
	uint32_t n = 0;

	for (shp = w->s->shm_segs; shp != NULL; shp = shp->next)
		n++;
	ck_sect_begin(w, S_SHM);
	ck_put_u32(w, n);
	for (shp = w->s->shm_segs; shp != NULL; shp = shp->next) {
		ck_put_u8(w, strlen(shp->name));
		ck_put_bytes(w, shp->name, strlen(shp->name));
		ck_put_u64(w, shp->shm_segsz);
		ck_put_u64(w, (uint64_t)shp->shm_nattch);
		ck_put_u8(w, shp->removed);
		ck_put_u8(w, shp->destroyed);
		ck_put_u32(w, shp->shm_file != NULL ?
		    ck_ptab_get(&w->files, shp->shm_file) : NONE);
	}
	ck_sect_end(w);
}

static void save_header(struct ck_save *w)
{
	uint8_t h[AS_CKPT_HEADER_SIZE];

	memset(h, 0, sizeof(h));
	memcpy(h, AS_CKPT_MAGIC, 8);
	ck_le_put(h + 8, AS_CKPT_VERSION, 4);
	ck_put_bytes(w, h, sizeof(h));
}

/* Append the checkpoint of s to out (checkpoint.h). */
int as_session_save(struct as_session *s, struct as_buf *out)
{
	struct ck_save w = { .s = s, .out = out, .base = out->len };

	w.err = save_collect(&w);
	save_header(&w);
	save_session(&w);
	save_frames(&w);
	save_swap(&w);
	save_files(&w);
	save_opens(&w);
	save_anon_vmas(&w);
	save_mms(&w);
	save_tasks(&w);
	save_shm(&w);
	ck_save_lru(&w);
	if (w.err == 0)
		as_checkpoint_reseal(out->data + w.base, out->len - w.base);
	ck_ptab_free(&w.mms);
	ck_ptab_free(&w.files);
	ck_ptab_free(&w.opens);
	ck_ptab_free(&w.avs);
	ck_ptab_free(&w.vmas);
	return w.err;
}

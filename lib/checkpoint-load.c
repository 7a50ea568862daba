/*
 * checkpoint-load.c: the loader, as_session_load() and
 * as_checkpoint_ram().  It checks the header and checksum, then parses
 * the sections in order into a new session (SWAP and FILE in
 * checkpoint-files.c), trusting nothing: each count against the bytes
 * left, each index against its table, each pfn, address and flag against
 * RAM and the format; then it runs the cross-checks of checkpoint-verify.c
 * and, on any failure, frees all it made.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"

/* The 17 counters, in struct order. */
static void get_counters(struct ck_load *l, struct as_counters *c)
{
	unsigned long *v = (unsigned long *)c;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		v[i] = ck_get_u64(l);
}

/* The header: magic, version, length and checksum; sets the body. */
static int load_header(struct ck_load *l, const uint8_t *d, size_t len)
{
	if (len < AS_CKPT_HEADER_SIZE || memcmp(d, AS_CKPT_MAGIC, 8) != 0)
		return ck_fail(l, -EINVAL, "not a checkpoint");
	if (ck_le_get(d + 8, 4) != AS_CKPT_VERSION)
		return ck_fail(l, -EINVAL, "format version %u, not %u%s",
		    (unsigned)ck_le_get(d + 8, 4), AS_CKPT_VERSION,
		    ck_old_version_why((unsigned)ck_le_get(d + 8, 4)));
	if (ck_le_get(d + 12, 4) != 0 || ck_le_get(d + 28, 4) != 0)
		return BAD(l, "reserved header fields not zero");
	if (ck_le_get(d + 16, 8) != len - AS_CKPT_HEADER_SIZE)
		return BAD(l, "body of %zu bytes, the header says %llu",
		    len - AS_CKPT_HEADER_SIZE,
		    (unsigned long long)ck_le_get(d + 16, 8));
	if (ck_le_get(d + 24, 4) != as_crc32(0, d + AS_CKPT_HEADER_SIZE,
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

	l->files = ck_load_calloc(l, l->nfile, sizeof(*l->files));
	l->listed = ck_load_calloc(l, l->nfile, 1);
	l->file_pages = ck_load_calloc(l, l->nfile, sizeof(*l->file_pages));
	l->file_opens = ck_load_calloc(l, l->nfile, sizeof(*l->file_opens));
	l->opens = ck_load_calloc(l, l->nopen, sizeof(*l->opens));
	l->open_vmas = ck_load_calloc(l, l->nopen, sizeof(*l->open_vmas));
	l->avs = ck_load_calloc(l, l->nav, sizeof(*l->avs));
	l->av_root = ck_load_calloc(l, l->nav, sizeof(*l->av_root));
	l->av_parent = ck_load_calloc(l, l->nav, sizeof(*l->av_parent));
	l->av_links = ck_load_calloc(l, l->nav, sizeof(*l->av_links));
	l->vfork_pid = ck_load_calloc(l, l->ntask, sizeof(*l->vfork_pid));
	l->task_mm = ck_load_calloc(l, l->ntask, sizeof(*l->task_mm));
	l->av_active = ck_load_calloc(l, l->nav, sizeof(*l->av_active));
	l->mms = ck_load_calloc(l, l->nmm, sizeof(*l->mms));
	l->vmas = ck_load_calloc(l, l->nmm, sizeof(*l->vmas));
	l->nvma = ck_load_calloc(l, l->nmm, sizeof(*l->nvma));
	l->tasks = ck_load_calloc(l, l->ntask, sizeof(*l->tasks));
	for (i = 0; i < l->nfile && l->err == 0; i++)
		if ((l->files[i] = as_file_alloc("", 0, false, &l->s->mem)) == NULL)
			ck_fail(l, -ENOMEM, "out of memory");
	/* Charged as alloc_file() and anon_vma_alloc() charge them; a load
	 * is not refused by the charge (its limit is set at the end). */
	for (i = 0; i < l->nopen && l->err == 0; i++)
		if ((l->opens[i] = ck_load_calloc(l, 1, sizeof(**l->opens))) !=
		    NULL)
			memcg_charge_force(&l->s->mem,
			    kmem_size(sizeof(**l->opens)));
	for (i = 0; i < l->nav && l->err == 0; i++)
		if ((l->avs[i] = ck_load_calloc(l, 1, sizeof(**l->avs))) != NULL) {
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
		if (k == KP_RAM)
			continue;	/* the RAM size: load_session() */
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
	size_t len = (size_t)ck_get_range(l, 1, 1, sizeof(img->name) - 1,
	    "image name length"), i;
	const uint8_t *name = ck_get_bytes(l, len);
	unsigned long ram = l->s->limits.ram_bytes;

	for (i = 0; name != NULL && i < len; i++)
		if (memchr(IMAGE_CHARS, name[i], sizeof(IMAGE_CHARS) - 1) ==
		    NULL)
			return BAD(l, "image name with byte 0x%02x", name[i]);
	if (name != NULL)
		memcpy(img->name, name, len);
	img->text = ck_get_range(l, 8, 0, ram, "image text");
	img->data = ck_get_range(l, 8, 0, ram - img->text, "image data");
	img->bss = ck_get_range(l, 8, 0, AS_TASK_SIZE, "image bss");
	return l->err;
}

/* The session itself, with its RAM (and the zero page phys_init() makes). */
static int load_session(struct ck_load *l)
{
	struct as_session *s = l->s;
	struct as_limits *lim = &s->limits;

	lim->ram_bytes = ck_get_range(l, 8, 2 * AS_PAGE_SIZE, ~0UL, "RAM size");
	l->ram_max = ck_get_range(l, 8, lim->ram_bytes, ~0UL, "RAM made with");
	if (l->ram_max > AS_CKPT_MAX_RAM)
		return ck_fail(l, -EINVAL, "RAM of %lu bytes, over the %lu loaded",
		    l->ram_max, AS_CKPT_MAX_RAM);
	lim->swap_bytes = ck_get_u64(l);
	lim->max_map_count = (int)ck_get_range(l, 4, 1, INT32_MAX,
	    "max_map_count");	/* kparam_valid() checks it below */
	lim->rlimit_stack = ck_get_u64(l);
	lim->rlimit_memlock = ck_get_u64(l);
	lim->rlimit_as = ck_get_u64(l);
	lim->rlimit_data = ck_get_u64(l);
	lim->overcommit_memory = (int)ck_get_range(l, 4, 0, 2, "overcommit mode");
	lim->cap_ipc_lock = ck_get_bool(l, "cap_ipc_lock");
	lim->zero_page = ck_get_bool(l, "zero_page");
	lim->fault_around_bytes = ck_get_u64(l);
	lim->share_tables = ck_get_bool(l, "share_tables");
	s->started = ck_get_bool(l, "started");
	if (load_kparams(l) != 0 || load_image(l) != 0)
		return l->err;
	s->seed = ck_get_u64(l);
	s->randomize = ck_get_bool(l, "randomize");
	s->next_file_id = ck_get_u64(l);
	s->next_anon_vma_id = ck_get_u64(l);
	s->next_pid = (int)ck_get_range(l, 4, 2, 1U << 30, "next_pid");
	get_counters(l, &s->counters);
	l->nfile = (uint32_t)ck_get_range(l, 4, 0, l->body_len / 31, "files");
	l->nopen = (uint32_t)ck_get_range(l, 4, 0, l->body_len / 16,
	    "struct files");
	l->nav = (uint32_t)ck_get_range(l, 4, 0, l->body_len / 32, "anon_vmas");
	l->nmm = (uint32_t)ck_get_range(l, 4, 0, l->body_len / 64, "mms");
	l->ntask = (uint32_t)ck_get_range(l, 4, 0, l->body_len / 64, "tasks");
	if (l->err == 0 && (l->nmm > l->ntask ||
	    l->ntask > (uint32_t)s->next_pid - 1))
		BAD(l, "%u mms and %u tasks with next_pid %d", l->nmm,
		    l->ntask, s->next_pid);
	if (l->err != 0)
		return l->err;
	l->phys_ready = true;
	if (phys_init(&s->phys, l->ram_max, &s->mem) != 0 ||
	    phys_set_ram(&s->phys, lim->ram_bytes) != 0)
		return ck_fail(l, -ENOMEM, "out of memory for RAM of %lu bytes",
		    l->ram_max);
	return load_alloc_tables(l);
}

/* The free stack, bottom first: frames below next_unused, each once. */
static int load_free(struct ck_load *l)
{
	unsigned long n = ck_get_count(l, 8, 8, "free frames"), i, *pfns;
	uint64_t pfn;

	if ((pfns = ck_load_calloc(l, n, sizeof(*pfns))) == NULL)
		return l->err;
	for (i = 0; i < n && l->err == 0; i++) {
		pfn = ck_get_u64(l);
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
		ck_fail(l, -ENOMEM, "out of memory");
	free(pfns);
	return l->err;
}

/* A frame's contents, encoded as save_frame_data() does. */
int ck_load_frame_data(struct ck_load *l, uint8_t *d, bool zero_page)
{
	unsigned int kind = (unsigned int)ck_get_range(l, 1, DATA_ZERO,
	    zero_page ? DATA_ZERO : DATA_RUNS, "contents encoding");
	unsigned long n, i, off, len, end = 0;
	const uint8_t *b;

	if (kind == DATA_RAW && (b = ck_get_bytes(l, AS_PAGE_SIZE)) != NULL)
		memcpy(d, b, AS_PAGE_SIZE);
	if (kind != DATA_RUNS)
		return l->err;
	n = ck_get_range(l, 2, 1, MAX_RUNS, "runs");
	for (i = 0; i < n && l->err == 0; i++) {
		off = ck_get_u16(l);
		len = ck_get_u16(l);
		if (l->err == 0 && (off < end || len == 0 ||
		    off + len > AS_PAGE_SIZE))
			return BAD(l, "run %lu+%lu of a frame overlaps or "
			    "leaves it", off, len);
		if ((b = ck_get_bytes(l, len)) != NULL)
			memcpy(d + off, b, len);
		end = off + len;
	}
	return l->err;
}

/* One frame in use, after the frame prev (~0UL: the first). */
static int load_page(struct ck_load *l, unsigned long prev)
{
	struct as_phys *phys = &l->s->phys;
	uint64_t pfn = ck_get_u64(l), ref, map, flags, index;
	uint32_t file, av;
	bool excl;
	struct page *page;

	if (l->err == 0 && (pfn >= l->next_unused ||
	    (prev != ~0UL && pfn <= prev) || l->state[pfn] != FS_LOST))
		return BAD(l, "frame 0x%llx out of order, range or free",
		    (unsigned long long)pfn);
	ref = ck_get_range(l, 4, 1, INT32_MAX, "refcount");
	map = ck_get_range(l, 4, 0, INT32_MAX, "mapcount");
	flags = ck_get_range(l, 4, 0, PG_KNOWN, "page flags");
	excl = ck_get_bool(l, "AnonExclusive");
	file = ck_get_idx(l, l->nfile, true, "page's file");
	av = ck_get_idx(l, l->nav, true, "page's anon_vma");
	index = ck_get_u64(l);
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
		return ck_fail(l, -ENOMEM, "out of memory");
	l->state[pfn] = FS_USED;
	l->pfns[l->npages++] = pfn;
	page->counts = map << 32 | ref;
	page->flags = (unsigned int)flags;
	page->anon_excl = excl;
	page->mapping = file != NONE ? l->files[file] : NULL;
	page->anon_vma = av != NONE ? l->avs[av] : NULL;
	page->index = index;
	page->private = 0;		/* set by the SWAP section */
	if (file != NONE)
		l->file_pages[file]++;
	return ck_load_frame_data(l, page->data, pfn == phys->zero_pfn);
}

/* Every chunk of PAGES_PER_CHUNK frames below next_unused was made for a frame it
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

/* The FRAM section: the zero page, the free stack, the frames in use. */
static int load_frames(struct ck_load *l)
{
	struct as_phys *phys = &l->s->phys;
	unsigned long nr_used, n, i;

	if (ck_get_u64(l) != phys->zero_pfn && l->err == 0)
		return BAD(l, "the zero page is not frame 0x%lx",
		    phys->zero_pfn);
	l->next_unused = ck_get_range(l, 8, 1, phys->nr_frames, "next_unused");
	nr_used = ck_get_u64(l);
	if (l->err != 0 || (l->state = ck_load_calloc(l, l->next_unused, 1)) ==
	    NULL || load_free(l) != 0)
		return l->err;
	n = ck_get_count(l, 8, 38, "frames in use");
	if (l->err != 0 || (l->pfns = ck_load_calloc(l, n, sizeof(*l->pfns))) ==
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
		l->tally = ck_load_calloc(l, l->next_unused, sizeof(*l->tally));
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

/* anon_vma i: id, refcount, root, parent and counters. */
static int load_anon_vma(struct ck_load *l, uint32_t i)
{
	struct anon_vma *av = l->avs[i];

	av->id = ck_get_range(l, 8, 1, l->s->next_anon_vma_id, "anon_vma id");
	av->refcount = (int)ck_get_range(l, 4, 1, INT32_MAX, "anon_vma refcount");
	l->av_root[i] = ck_get_idx(l, l->nav, false, "root anon_vma");
	l->av_parent[i] = ck_get_idx(l, l->nav, false, "parent anon_vma");
	av->num_children = (int)ck_get_range(l, 4, 0, INT32_MAX, "num_children");
	av->num_active_vmas = (int)ck_get_range(l, 4, 0, INT32_MAX,
	    "num_active_vmas");
	av->nr_links = (int)ck_get_range(l, 4, 0, INT32_MAX, "nr_links");
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

/* The AVMA section, then the trees it makes. */
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

/* v into av's rb_root at slot i (the links of av loaded so far). */
static int load_rb_link(struct ck_load *l, struct anon_vma *av,
    struct vma *v, unsigned long i)
{
	unsigned int cap = av->rb_cap ? av->rb_cap * 2 : 2;
	struct vma **n;

	if (i < av->rb_cap) {
		av->rb_vmas[i] = v;
		return 0;
	}
	if ((n = realloc(av->rb_vmas, cap * sizeof(*n))) == NULL)
		return ck_fail(l, -ENOMEM, "out of memory");
	memcg_charge_force(&l->s->mem,
	    (long)((cap - av->rb_cap) * sizeof(*n)));
	av->rb_vmas = n;
	av->rb_cap = cap;
	av->rb_vmas[i] = v;
	return 0;
}

/* A VMA's anon_vma chain; its anon_vma must be on it. */
static int load_avc(struct ck_load *l, struct vma *v)
{
	unsigned int n = (unsigned int)ck_get_count(l, 4, 4, "anon_vma chain");
	unsigned int k;
	uint32_t a;
	bool found = v->anon_vma == NULL;

	if (l->err != 0 || n == 0 ||
	    (v->avc = ck_load_calloc(l, n, sizeof(*v->avc))) == NULL)
		goto out;
	v->avc_cap = n;
	memcg_charge_force(&l->s->mem, (long)(n * sizeof(*v->avc)));
	for (k = 0; k < n && l->err == 0; k++) {
		if ((a = ck_get_idx(l, l->nav, false, "chained anon_vma")) ==
		    NONE || l->err != 0)
			break;
		v->avc[v->avc_len++] = l->avs[a];
		if (load_rb_link(l, l->avs[a], v, l->av_links[a]) != 0)
			break;
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
		return ck_fail(l, -ENOMEM, "out of memory");
	v->vm_start = ck_get_u64(l);
	v->vm_end = ck_get_u64(l);
	v->vm_flags = ck_get_u64(l);
	v->vm_pgoff = ck_get_u64(l);
	v->vm_page_prot = ck_get_u64(l);
	file = ck_get_idx(l, l->nopen, true, "VMA's struct file");
	av = ck_get_idx(l, l->nav, true, "VMA's anon_vma");
	special = (uint32_t)ck_get_range(l, 1, 0, NSPECIAL - 1, "special name");
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
	vma_mt_insert(&mm->mm_mt, v);
	vma_link_file(v);	/* i_mmap is derived: rebuilt, not saved */
	l->vmas[m][k] = v;
	return load_avc(l, v);
}

/* An mm's layout, counters and page-table root. */
static int load_mm_fields(struct ck_load *l, struct mm *mm)
{
	unsigned long *f[] = { &mm->task_size, &mm->mmap_base,
	    &mm->start_code, &mm->end_code, &mm->start_data, &mm->end_data,
	    &mm->start_brk, &mm->brk, &mm->start_stack, &mm->total_vm,
	    &mm->locked_vm, &mm->data_vm, &mm->exec_vm, &mm->stack_vm,
	    &mm->def_flags };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = ck_get_u64(l);
	mm->mm_users = (int)ck_get_range(l, 4, 1, INT32_MAX, "mm_users");
	mm->mm_count = (int)ck_get_range(l, 4, 1, INT32_MAX, "mm_count");
	mm->vmacache_seqnum = ck_get_u64(l);
	mm->pgd = ck_get_range(l, 8, 0, l->next_unused - 1, "pgd");
	mm->nr_pgtables = ck_get_u64(l);
	mm->map_count = (int)ck_get_range(l, 4, 0, INT32_MAX, "map_count");
	if (l->err == 0 && mm->task_size != AS_TASK_SIZE)
		return BAD(l, "task_size 0x%lx", mm->task_size);
	for (i = 1; i <= 8 && l->err == 0; i++)	/* the layout */
		if (*f[i] > AS_TASK_SIZE)
			return BAD(l, "layout address 0x%lx", *f[i]);
	return l->err;
}

/* mm m and its VMAs, map_count of them in address order. */
static int load_mm(struct ck_load *l, uint32_t m)
{
	struct mm *mm = mm_alloc_nopgd(l->s);
	unsigned long prev_end = 0;
	uint32_t k;

	if ((l->mms[m] = mm) == NULL)
		return ck_fail(l, -ENOMEM, "out of memory");
	if (load_mm_fields(l, mm) != 0)
		return l->err;
	l->nvma[m] = (uint32_t)ck_get_count(l, 4, 53, "VMAs");
	if (l->err == 0 && l->nvma[m] != (uint32_t)mm->map_count)
		return BAD(l, "map_count %d but %u VMAs", mm->map_count,
		    l->nvma[m]);
	if (l->err != 0 || (l->vmas[m] = ck_load_calloc(l, l->nvma[m],
	    sizeof(**l->vmas))) == NULL)
		return l->err;
	for (k = 0; k < l->nvma[m] && l->err == 0; k++) {
		load_vma(l, m, k, prev_end);
		if (l->err == 0)
			prev_end = l->vmas[m][k]->vm_end;
	}
	return l->err;
}

/* The MMS section. */
static int load_mms(struct ck_load *l)
{
	uint32_t m;

	for (m = 0; m < l->nmm && l->err == 0; m++)
		load_mm(l, m);
	return l->err;
}

/* Task i: pid, tgid, mm, vfork parent, VMA cache, counters. */
static int load_task(struct ck_load *l, uint32_t i)
{
	struct task *t = ck_load_calloc(l, 1, sizeof(*t));
	uint32_t m, ord, last = (uint32_t)l->s->next_pid - 1;
	int k;

	if ((l->tasks[i] = t) == NULL)
		return l->err;
	memcg_charge_force(&l->s->mem, kmem_size(sizeof(*t)));
	t->pid = (int)ck_get_range(l, 4, 1, last, "pid");
	t->tgid = (int)ck_get_range(l, 4, 1, last, "tgid");
	m = ck_get_idx(l, l->nmm, false, "task's mm");
	l->vfork_pid[i] = (int)ck_get_range(l, 4, 0, last, "vfork parent");
	t->vfork_blocked = ck_get_bool(l, "vfork_blocked");
	t->vmacache_seqnum = ck_get_u64(l);
	if (l->err != 0)
		return l->err;
	t->mm = l->mms[m];
	l->task_mm[i] = m;
	for (k = 0; k < VMACACHE_SIZE && l->err == 0; k++) {
		ord = ck_get_idx(l, l->nvma[m], true, "cached VMA");
		if (l->err == 0 && ord != NONE)
			t->vmacache[k] = l->vmas[m][ord];
	}
	get_counters(l, &t->counters);
	return l->err;
}

/* The TASK section. */
static int load_tasks(struct ck_load *l)
{
	uint32_t i;

	for (i = 0; i < l->ntask && l->err == 0; i++)
		load_task(l, i);
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
static int load_shm(struct ck_load *l)
{
	struct shmid_kernel **tail = &l->s->shm_segs;
	uint32_t n, i;

	n = (uint32_t)ck_get_count(l, 4, 23, "segments");
	for (i = 0; i < n && l->err == 0; i++)
		load_shm_seg(l, &tail);
	return l->err;
}

/* The ten sections in order, each parsed to its last byte. */
static int load_sections(struct ck_load *l, const uint8_t *body)
{
	static int (*const parse[NSECT])(struct ck_load *) = {
		load_session, load_frames, ck_load_swap, ck_load_files, load_opens,
		load_anon_vmas, load_mms, load_tasks, load_shm, ck_load_lru
	};
	size_t off = 0, len;
	size_t i;

	for (i = 0; i < NSECT && l->err == 0; i++) {
		l->sect = NULL;
		if (l->body_len - off < 12 ||
		    memcmp(body + off, sect_tags[i], 4) != 0)
			return BAD(l, "section %s missing", sect_tags[i]);
		len = (size_t)ck_le_get(body + off + 4, 8);
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

/* Free a half-made mm: its VMAs, their chains, the mm. */
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
			free(l->files[i]->holes);
			pthread_mutex_destroy(&l->files[i]->lock);
			pthread_mutex_destroy(&l->files[i]->i_mmap_rwsem);
			free(l->files[i]);
		}
	}
	for (i = 0; l->opens != NULL && i < l->nopen; i++)
		free(l->opens[i]);
	for (i = 0; l->avs != NULL && i < l->nav; i++) {
		if (l->avs[i] != NULL)
			free(l->avs[i]->rb_vmas);
		free(l->avs[i]);
	}
	for (i = 0; l->tasks != NULL && i < l->ntask; i++)
		free(l->tasks[i]);
	while (s->shm_segs != NULL) {
		struct shmid_kernel *shp = s->shm_segs;

		s->shm_segs = shp->next;
		free(shp);
	}
	if (l->phys_ready)
		phys_destroy(&s->phys);
	pthread_mutex_destroy(&s->anon_vma_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The RAM size a checkpoint asks for, checked first (checkpoint.h). */
int as_checkpoint_ram(const void *data, size_t len, unsigned long *ram_bytes)
{
	const uint8_t *body = (const uint8_t *)data + AS_CKPT_HEADER_SIZE;
	struct ck_load l = { .why = NULL, .whylen = 0 };

	if (data == NULL || load_header(&l, data, len) != 0)
		return l.err != 0 ? l.err : -EINVAL;
	if (l.body_len < 28 || memcmp(body, sect_tags[0], 4) != 0)
		return -EBADMSG;
	*ram_bytes = (unsigned long)ck_le_get(body + 20, 8);	/* made with */
	return 0;
}

/* Make a session from a checkpoint, or say why not (checkpoint.h). */
int as_session_load(const void *data, size_t len, struct as_session **sp,
    char *why, size_t whylen)
{
	struct ck_load l = { .why = why, .whylen = whylen };

	*sp = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (data == NULL || load_header(&l, data, len) != 0)
		return l.err != 0 ? l.err : ck_fail(&l, -EINVAL, "no data");
	if ((l.s = calloc(1, sizeof(*l.s))) == NULL)
		return ck_fail(&l, -ENOMEM, "out of memory");
	pthread_mutex_init(&l.s->lock, NULL);
	pthread_mutex_init(&l.s->anon_vma_lock, NULL);
	memcg_charge_force(&l.s->mem, kmem_size(sizeof(*l.s)));
	if (load_sections(&l, (const uint8_t *)data + AS_CKPT_HEADER_SIZE) ==
	    0)
		ck_load_verify(&l);
	if (l.err != 0) {
		load_discard(&l);
	} else {
		/* What was kept is not refused; from now on it is charged as
		 * a session made afresh is (as_session_mem_attach() gives it
		 * its parent). */
		l.s->mem.limit = (long)as_session_mem_limit(
		    l.s->phys.max_frames << AS_PAGE_SHIFT);
		host_ksm_loaded(l.s);	/* an idle one costs as a new one */
		*sp = l.s;
	}
	load_free_tables(&l);
	return l.err;
}

/*
 * test_checkpoint-corrupt.c: test_checkpoint's loads that must be
 * refused (test_checkpoint.c's top comment; test_checkpoint.h): every
 * byte changed and every truncation of small checkpoints, changes with
 * the checksum resealed, files that are not checkpoints, specific
 * inconsistencies and kernel parameters out of range.
 */
#include "test_checkpoint.h"

/* A small session that ran the corpus trace name, saved. */
static void small_checkpoint(const char *name, struct as_buf *ck)
{
	const char *srcdir = getenv("srcdir");
	struct as_session_params p;
	struct as_session *s;
	struct as_buf out;
	char path[4096];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/tests/linux-diff/traces/%s.trace",
	    srcdir ? srcdir : ".", name);
	text = read_text(path, &len);
	as_session_params_default(&p);
	p.ram_bytes = 4UL << 20;
	s = session(&p);
	as_buf_init(&out, OUT_MAX);
	as_trace_run(s, text, len, &out);
	save_ok(s, ck);
	as_session_free(s);
	as_buf_free(&out);
	free(text);
}

/* A loaded session works: validate, run a little, save. */
static void exercise(struct as_session *s)
{
	static const char text[] =
	    "mmap 0x200000000000 16K rw- private,anon,fixed\n"
	    "write 0x200000001000 7\nfork\nwrite 0x200000001000 8\n"
	    "switch 1\nread 0x200000001000\nmaps\n";
	struct task *t;
	struct as_buf out;

	for (t = s->tasks; t != NULL; t = t->next)
		assert_null(mm_validate(t->mm));
	as_buf_init(&out, OUT_MAX);
	if (as_task_lookup(s, 1) != NULL)
		as_trace_run(s, text, sizeof(text) - 1, &out);
	as_buf_reset(&out);
	assert_int_equal(as_session_save(s, &out), 0);
	as_buf_free(&out);
	as_session_free(s);
}

/* [*start, *end): the bytes of the FRAM section (mostly contents). */
static void frames_section(const struct as_buf *ck, size_t *start,
    size_t *end)
{
	const uint8_t *d = (const uint8_t *)ck->data;
	size_t off = AS_CKPT_HEADER_SIZE, len;
	int i;

	for (i = 0; off + 12 <= ck->len; i++, off += 12 + len) {
		len = (size_t)d[off + 4] | (size_t)d[off + 5] << 8 |
		    (size_t)d[off + 6] << 16 | (size_t)d[off + 7] << 24;
		if (memcmp(d + off, "FRAM", 4) == 0) {
			*start = off;
			*end = off + 12 + len;
			return;
		}
	}
	fail_msg("no FRAM section");
}

/* Change byte i: the checksum refuses it. */
static void corrupt_byte(const struct as_buf *ck, uint8_t *copy, size_t i)
{
	struct as_session *s;
	char why[256];

	memcpy(copy, ck->data, ck->len);
	copy[i] ^= 0x5a;
	if (as_session_load(copy, ck->len, &s, why, sizeof(why)) == 0)
		fail_msg("byte %zu changed, yet loaded", i);
	assert_null(s);
	assert_true(why[0] != '\0');
}

/*
 * Change byte i and reseal: refused with a reason, or loaded into a
 * session that validates (every eighth one also runs a trace and saves).
 */
static void corrupt_resealed(const struct as_buf *ck, uint8_t *copy,
    size_t i, int *loaded)
{
	struct as_session *s;
	char why[256];
	int err;

	memcpy(copy, ck->data, ck->len);
	copy[i] ^= 0x5a;
	as_checkpoint_reseal(copy, ck->len);
	err = as_session_load(copy, ck->len, &s, why, sizeof(why));
	if (err == 0 && i >= 8 && i < 16)
		fail_msg("version changed, yet loaded");
	if (err == 0 && (*loaded)++ % 8 == 0)
		exercise(s);
	else if (err == 0)
		as_session_free(s);
	else if ((err != -EBADMSG && err != -EINVAL) || s != NULL ||
	    why[0] == '\0')
		fail_msg("byte %zu: %d, %s", i, err, why);
}

/* Every byte; resealed, every byte but within the frames' contents,
 * where one in 13. */
static void corrupt_each_byte(const struct as_buf *ck)
{
	uint8_t *copy = malloc(ck->len);
	size_t i, fs = 0, fe = 0;
	int loaded = 0;

	assert_non_null(copy);
	frames_section(ck, &fs, &fe);
	for (i = 0; i < ck->len; i++) {
		corrupt_byte(ck, copy, i);
		if (i < fs + 64 || i >= fe || i % 13 == 0)
			corrupt_resealed(ck, copy, i, &loaded);
	}
	assert_true(loaded > 0);	/* changed contents do load */
	free(copy);
}

static void truncate_each(const struct as_buf *ck)
{
	struct as_session *s;
	char why[256];
	size_t n;

	for (n = 0; n < ck->len; n++) {
		assert_int_not_equal(as_session_load(ck->data, n, &s, why,
		    sizeof(why)), 0);
		assert_null(s);
		/* with a matching header, the sections are cut short */
		if (n >= AS_CKPT_HEADER_SIZE && n % 7 == 0) {
			uint8_t *copy = malloc(n);

			memcpy(copy, ck->data, n);
			as_checkpoint_reseal(copy, n);
			assert_int_equal(as_session_load(copy, n, &s, why,
			    sizeof(why)), -EBADMSG);
			free(copy);
		}
	}
}

void test_corruption(void **state)
{
	static const char *const names[] = {
		"fork-cow-private-anon", "mmap-file-shared", "thread-shares-mm"
	};
	struct as_buf ck;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		small_checkpoint(names[i], &ck);
		truncate_each(&ck);
		corrupt_each_byte(&ck);
		as_buf_free(&ck);
	}
}

void test_not_a_checkpoint(void **state)
{
	struct as_session *s = (void *)1;
	unsigned long ram;
	struct as_buf ck;
	char why[256], want[64];
	uint8_t *copy;

	(void)state;
	assert_int_equal(as_session_load(NULL, 0, &s, why, sizeof(why)),
	    -EINVAL);
	assert_null(s);
	assert_int_equal(as_session_load("ASPACEC", 7, &s, why, 0), -EINVAL);
	assert_int_equal(as_session_load("hello", 5, &s, why, sizeof(why)),
	    -EINVAL);
	assert_string_equal(why, "not a checkpoint");
	small_checkpoint("mmap-anon-private", &ck);
	assert_int_equal(as_checkpoint_ram(ck.data, ck.len, &ram), 0);
	assert_int_equal(ram, 4UL << 20);
	assert_int_equal(as_checkpoint_ram(ck.data, ck.len - 1, &ram),
	    -EBADMSG);
	assert_int_equal(as_checkpoint_ram("hello", 5, &ram), -EINVAL);
	copy = malloc(ck.len);
	memcpy(copy, ck.data, ck.len);
	copy[8] = AS_CKPT_VERSION + 1;
	as_checkpoint_reseal(copy, ck.len);
	assert_int_equal(as_session_load(copy, ck.len, &s, why, sizeof(why)),
	    -EINVAL);
	assert_non_null(strstr(why, "version"));
	copy[8] = 4;		/* the format before pswpin and pswpout */
	as_checkpoint_reseal(copy, ck.len);
	assert_int_equal(as_session_load(copy, ck.len, &s, why, sizeof(why)),
	    -EINVAL);
	snprintf(want, sizeof(want), "format version 4, not %d",
	    AS_CKPT_VERSION);
	assert_non_null(strstr(why, want));
	assert_non_null(strstr(why, "pswpin"));
	memcpy(copy, ck.data, ck.len);
	copy[AS_CKPT_HEADER_SIZE + 12 + 4] = 0x10;	/* SESS: RAM of 64 GiB+ */
	copy[AS_CKPT_HEADER_SIZE + 12 + 12] = 0x10;	/* and made with it */
	as_checkpoint_reseal(copy, ck.len);
	assert_int_equal(as_session_load(copy, ck.len, &s, why, sizeof(why)),
	    -EINVAL);
	assert_non_null(strstr(why, "RAM"));
	memcpy(copy, ck.data, ck.len);
	copy[ck.len - 1] ^= 1;
	assert_int_equal(as_session_load(copy, ck.len, &s, why, sizeof(why)),
	    -EBADMSG);
	assert_string_equal(why, "checksum mismatch");
	free(copy);
	as_buf_free(&ck);
}

/* A session fit for the inconsistency tests: forked, file-mapped. */
static struct as_session *busy_session(void)
{
	static const char text[] =
	    "file f 16K\n"
	    "mmap 0x200000000000 16K rw- private,anon,fixed\n"
	    "mmap 0x200000010000 16K rw- shared,fixed f 0\n"
	    "write 0x200000001000 7\nread 0x200000010000\nfork\n"
	    "write 0x200000002000 8\n";
	struct as_session *s = session(NULL);
	struct as_buf out;

	as_buf_init(&out, OUT_MAX);
	assert_int_equal(as_trace_run(s, text, sizeof(text) - 1, &out), 0);
	as_buf_free(&out);
	return s;
}

/* Saving s must work and loading must fail with a reason naming what. */
static void refused(struct as_session *s, const char *what)
{
	struct as_session *s2;
	struct as_buf ck;
	char why[256];

	save_ok(s, &ck);
	assert_int_equal(as_session_load(ck.data, ck.len, &s2, why,
	    sizeof(why)), -EBADMSG);
	if (strstr(why, what) == NULL)
		fail_msg("refused for \"%s\", not for %s", why, what);
	as_buf_free(&ck);
}

static struct page *page_at(struct as_session *s, int pid, unsigned long a)
{
	struct mm *mm = as_task_lookup(s, pid)->mm;

	return pfn_to_page(&s->phys, frame_at(mm, a));
}

void test_inconsistent(void **state)
{
	struct as_session *s = busy_session();
	struct task *t1 = as_task_lookup(s, 1), *t2 = as_task_lookup(s, 2);
	struct page *shared = page_at(s, 1, 0x200000001000);
	struct vma *v = find_vma(t1->mm, 0x200000010000);
	pte_t *pte = pte_offset(t1->mm, 0x200000001000), old;

	(void)state;
	get_page(shared);
	refused(s, "refcount");
	put_page(&s->phys, shared);
	page_mapcount_add(shared, 1);
	refused(s, "mapcount");
	page_mapcount_add(shared, -1);
	old = *pte;
	*pte = pfn_pte(s->phys.next_unused, old & ~PTE_PFN_MASK);
	refused(s, "not a page in use");
	*pte = old;
	find_vma(t1->mm, 0x200000000000)->anon_vma->refcount++;
	refused(s, "anon_vma");
	find_vma(t1->mm, 0x200000000000)->anon_vma->refcount--;
	file_inode(v->vm_file)->refcount++;
	refused(s, "refcount");
	file_inode(v->vm_file)->refcount--;
	v->vm_file->f_count++;
	refused(s, "f_count");
	v->vm_file->f_count--;
	t2->mm->mm_users++;
	refused(s, "mm_users");
	t2->mm->mm_users--;
	t1->mm->nr_pgtables++;
	refused(s, "nr_pgtables");
	t1->mm->nr_pgtables--;
	t1->mm->total_vm++;
	refused(s, "total_vm");
	t1->mm->total_vm--;
	v->vm_start -= 0x10000;		/* over the anonymous VMA below */
	refused(s, "out of order");
	v->vm_start += 0x10000;
	t2->pid = 1;
	refused(s, "two tasks");
	t2->pid = 2;
	s->limits.fault_around_bytes = 12288;
	refused(s, "fault_around_bytes");
	s->limits.fault_around_bytes = 65536;
	s->limits.max_map_count = 65531;
	refused(s, "max_map_count");
	s->limits.max_map_count = 65530;
	s->limits.cap_ipc_lock = false;
	refused(s, "cap_ipc_lock");
	s->limits.cap_ipc_lock = true;
	strcpy(s->image.name, "a/b");
	refused(s, "image name");
	s->image.name[0] = '\0';
	refused(s, "image name");
	strcpy(s->image.name, "prog");
	s->image.text = s->limits.ram_bytes + 1;
	refused(s, "image text");
	s->image.text = 8UL << 10;
	exercise(s);
}

/* A byte of SESS (offset off in it) set to v and resealed: refused. */
static void sess_byte_refused(size_t off, uint8_t v, const char *what)
{
	struct as_session *s = session(NULL);
	struct as_buf ck;
	char why[256];

	save_ok(s, &ck);
	as_session_free(s);
	assert_memory_equal(ck.data + AS_CKPT_HEADER_SIZE, "SESS", 4);
	ck.data[AS_CKPT_HEADER_SIZE + 12 + off] = (char)v;
	as_checkpoint_reseal(ck.data, ck.len);
	assert_int_equal(as_session_load(ck.data, ck.len, &s, why,
	    sizeof(why)), -EBADMSG);
	assert_null(s);
	if (strstr(why, what) == NULL)
		fail_msg("refused for \"%s\", not for %s", why, what);
	as_buf_free(&ck);
}

/* Kernel parameters of SESS out of range, by their bytes: cap_ipc_lock
 * at 64, zero_page at 65, fault_around_bytes at 66, share_tables at 74,
 * started at 75; the
 * RAM made with below the RAM at 8 (11: its 0x40 of 1 GiB). */
void test_bad_kernel_bytes(void **state)
{
	(void)state;
	sess_byte_refused(64, 2, "cap_ipc_lock");
	sess_byte_refused(65, 2, "zero_page");
	sess_byte_refused(66, 1, "fault_around_bytes");
	sess_byte_refused(74, 7, "share_tables");
	sess_byte_refused(75, 7, "started");
	sess_byte_refused(26, 1, "max_map_count");	/* 0x1fffa */
	sess_byte_refused(76, 0, "image name");
	sess_byte_refused(11, 0, "RAM made with");	/* 1 GiB: 0 */
}

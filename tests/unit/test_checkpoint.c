/*
 * test_checkpoint.c: sessions saved and loaded (lib/checkpoint.c).
 *
 *  - split runs: every trace of the differential corpus and of the
 *    examples, cut at every line (or at eight places for long ones): run
 *    the first part, save, free the session, load, run the rest.  The
 *    output must be that of an uninterrupted run, and so must the final
 *    checkpoint, byte for byte (same frames, free order, counters...);
 *    saving a loaded session gives the very bytes it was loaded from.
 *  - random traces of gen-trace ($GEN_TRACE, seeds 1 to
 *    $ASPACE_CKPT_SEEDS, default 100), cut in the middle, the same way.
 *  - a randomised session whose exec after the load draws from the seed.
 *  - later frames: a fault after the load gets the frame it would have.
 *  - struct files: two mmaps of one file, adjacent with contiguous
 *    offsets, stay two VMAs through a split and rejoin after a load; the
 *    pieces of one mapping merge back after a load; a fork child shares
 *    its parent's struct files after a load.
 *  - kernel parameters (zero_page off, fault_around_bytes 4096,
 *    rlimit_memlock 64K, rlimit_stack with a re-exec of the image) act
 *    the same after a load, and a load before the start still takes
 *    `kernel` lines.
 *  - corruption: every single-byte change and every truncation of a few
 *    checkpoints is refused; with the checksum made to match again
 *    (as_checkpoint_reseal()), each change (one byte in 13 within the
 *    frames' contents) is refused with a reason, or gives a session that
 *    passes mm_validate(), runs a trace and saves; specific
 *    inconsistencies (a refcount, a mapcount, a PTE, an anon_vma, a
 *    file's references, a struct file's f_count, mm_users, overlapping
 *    VMAs, nr_pgtables, total_vm, two tasks with one pid, a bad kernel
 *    parameter or image) are each refused with a reason.
 * Under ASan every refused load must leave nothing allocated.
 *
 * Here the helpers and the tests of loads that work; the corruption,
 * the inconsistencies and the bad bytes that must be refused:
 * test_checkpoint-corrupt.c (test_checkpoint.h).
 */
#include "test_checkpoint.h"

static void load_ok(const struct as_buf *ck, struct as_session **sp)
{
	char why[256];
	int err = as_session_load(ck->data, ck->len, sp, why, sizeof(why));

	if (err != 0)
		fail_msg("load: %d: %s", err, why);
}

void save_ok(struct as_session *s, struct as_buf *ck)
{
	as_buf_init(ck, OUT_MAX);
	assert_int_equal(as_session_save(s, ck), 0);
}

static void same_bytes(const char *what, const struct as_buf *a,
    const struct as_buf *b)
{
	size_t i;

	if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0)
		return;
	for (i = AS_CKPT_HEADER_SIZE; i < a->len && i < b->len &&
	    a->data[i] == b->data[i]; i++)
		;
	fail_msg("%s: %zu and %zu bytes, first difference at %zu", what,
	    a->len, b->len, i);
}

/* Outputs equal, or the first line that differs. */
static void same_output(const char *name, size_t cut, struct as_buf *a,
    struct as_buf *b)
{
	const char *x = as_buf_str(a), *y = as_buf_str(b);
	size_t i = 0, line = 0;

	if (strcmp(x, y) == 0)
		return;
	for (; x[i] == y[i]; i++)
		if (x[i] == '\n')
			line = i + 1;
	fail_msg("%s cut at byte %zu: output differs:\n  whole: %.80s\n"
	    "  split: %.80s", name, cut, x + line, y + line);
}

struct as_session *session(const struct as_session_params *p)
{
	struct as_session_params dflt;
	struct as_session *s;

	as_session_params_default(&dflt);
	s = as_session_new(p != NULL ? p : &dflt);
	assert_non_null(s);
	return s;
}

/* The whole trace in one run: its output and final checkpoint. */
static void run_whole(const struct as_session_params *p, const char *text,
    size_t len, struct as_buf *out, struct as_buf *ck)
{
	struct as_session *s = session(p);

	as_buf_init(out, OUT_MAX);
	as_trace_run(s, text, len, out);
	save_ok(s, ck);
	as_session_free(s);
}

/* The trace cut at byte cut, with a save and a load in between. */
static void run_split(const struct as_session_params *p, const char *text,
    size_t len, size_t cut, struct as_buf *out, struct as_buf *ck)
{
	struct as_session *s = session(p), *s2;
	struct as_trace_cursor c;
	struct as_buf mid, again;

	as_buf_init(out, OUT_MAX);
	as_trace_cursor_init(&c);
	as_trace_run_part(s, &c, text, cut, out);
	save_ok(s, &mid);
	as_session_free(s);
	load_ok(&mid, &s2);
	save_ok(s2, &again);
	same_bytes("save, load, save", &mid, &again);
	as_trace_run_part(s2, &c, text + cut, len - cut, out);
	save_ok(s2, ck);
	as_session_free(s2);
	as_buf_free(&mid);
	as_buf_free(&again);
}

/* Cut the trace after line boundaries; all of them or MAX_CUTS spread. */
static void check_trace(const struct as_session_params *p, const char *name,
    const char *text, size_t len)
{
	struct as_buf out, ck, out2, ck2;
	size_t cuts[4096], n = 0, i, step;
	const char *nl;

	run_whole(p, text, len, &out, &ck);
	for (nl = text; n < 4096 && (nl = memchr(nl, '\n', len - (size_t)(nl -
	    text))) != NULL; nl++)
		cuts[n++] = (size_t)(nl + 1 - text);
	step = n > MAX_CUTS ? n / MAX_CUTS : 1;
	for (i = step / 2; i < n; i += step) {
		run_split(p, text, len, cuts[i], &out2, &ck2);
		same_output(name, cuts[i], &out, &out2);
		same_bytes(name, &ck, &ck2);
		as_buf_free(&out2);
		as_buf_free(&ck2);
	}
	as_buf_free(&out);
	as_buf_free(&ck);
}

char *read_text(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(TEXT_MAX);

	assert_non_null(f);
	assert_non_null(buf);
	*lenp = fread(buf, 1, TEXT_MAX, f);
	assert_true(*lenp < TEXT_MAX);
	fclose(f);
	return buf;
}

static int is_trace(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 6 && strcmp(e->d_name + n - 6, ".trace") == 0;
}

/* Every trace in srcdir/dir, cut; returns how many. */
static int check_dir(const char *dir)
{
	const char *srcdir = getenv("srcdir");
	struct dirent **ents;
	char path[4096];
	size_t len;
	char *text;
	int n, i;

	snprintf(path, sizeof(path), "%s/%s", srcdir ? srcdir : ".", dir);
	n = scandir(path, &ents, is_trace, alphasort);
	if (n < 0)
		fail_msg("%s: %s", path, strerror(errno));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", srcdir ? srcdir : ".",
		    dir, ents[i]->d_name);
		text = read_text(path, &len);
		check_trace(NULL, ents[i]->d_name, text, len);
		free(text);
		free(ents[i]);
	}
	free(ents);
	return n;
}

static void test_corpus_split(void **state)
{
	(void)state;
	assert_true(check_dir("tests/linux-diff/traces") >= 70);
	assert_true(check_dir("docs/examples") >= 14);
}

/* gen-trace's random traces with tasks, accesses and msync (pages written
 * back to the disk), cut in the middle. */
static void test_random_traces(void **state)
{
	const char *gen = getenv("GEN_TRACE"), *ns = getenv("ASPACE_CKPT_SEEDS");
	int seeds = ns != NULL ? atoi(ns) : 100, seed;
	char cmd[4096], name[64];
	struct as_buf out, ck, out2, ck2;
	const char *mid;
	size_t len;
	char *text = malloc(TEXT_MAX);
	FILE *f;

	(void)state;
	if (gen == NULL) {
		free(text);
		skip();
	}
	assert_non_null(text);
	for (seed = 1; seed <= seeds; seed++) {
		snprintf(cmd, sizeof(cmd), "'%s' -a -t -m %d 150", gen, seed);
		assert_non_null(f = popen(cmd, "r"));
		len = fread(text, 1, TEXT_MAX - 1, f);
		assert_int_equal(pclose(f), 0);
		snprintf(name, sizeof(name), "gen-trace seed %d", seed);
		mid = memchr(text + len / 2, '\n', len - len / 2);
		assert_non_null(mid);
		run_whole(NULL, text, len, &out, &ck);
		run_split(NULL, text, len, (size_t)(mid + 1 - text), &out2,
		    &ck2);
		same_output(name, (size_t)(mid + 1 - text), &out, &out2);
		same_bytes(name, &ck, &ck2);
		as_buf_free(&out);
		as_buf_free(&ck);
		as_buf_free(&out2);
		as_buf_free(&ck2);
	}
	free(text);
}

/* With randomisation, an exec after the load draws what it would have. */
static void test_randomized_exec(void **state)
{
	static const char text[] =
	    "window 0 0x800000000000\n"
	    "exec first 8K 4K 4K\n"
	    "fork\n"
	    "maps\n"
	    "exec second 16K 4K 8K\n"
	    "maps\n"
	    "switch 2\n"
	    "exec third 4K 4K 4K\n"
	    "maps\n";
	struct as_session_params p;

	(void)state;
	as_session_params_default(&p);
	p.randomize = true;
	p.seed = 0x5eed;
	check_trace(&p, "randomized", text, sizeof(text) - 1);
}

/* The frame of the page mapped at addr in mm. */
unsigned long frame_at(struct mm *mm, unsigned long addr)
{
	pte_t e[4];

	pgtable_walk(mm, addr, e);
	return pte_pfn(e[3]);
}

/* After frames were freed, the next faults take them in the same order. */
static void test_later_frames(void **state)
{
	static const char text[] =
	    "mmap 0x200000000000 64K rw- private,anon,fixed\n"
	    "write 0x200000000000 1\nwrite 0x200000003000 2\n"
	    "write 0x200000007000 3\nwrite 0x20000000a000 4\n"
	    "munmap 0x200000003000 4K\nmunmap 0x20000000a000 4K\n"
	    "mmap 0x200000100000 64K rw- private,anon,fixed\n";
	struct as_session *a = session(NULL), *b;
	struct access_result r = { .store = true, .value = 9 };
	struct as_buf out, ck;
	unsigned long addr;

	(void)state;
	as_buf_init(&out, OUT_MAX);
	assert_int_equal(as_trace_run(a, text, sizeof(text) - 1, &out), 0);
	save_ok(a, &ck);
	load_ok(&ck, &b);
	assert_true(b->phys.nr_free_stack >= 2);
	for (addr = 0x200000100000; addr < 0x200000104000; addr += 4096) {
		assert_int_equal(as_access(as_task_lookup(a, 1), addr,
		    AS_WRITE, &r), 0);
		assert_int_equal(as_access(as_task_lookup(b, 1), addr,
		    AS_WRITE, &r), 0);
		assert_int_equal(frame_at(as_task_lookup(a, 1)->mm, addr),
		    frame_at(as_task_lookup(b, 1)->mm, addr));
	}
	as_session_free(a);
	as_session_free(b);
	as_buf_free(&out);
	as_buf_free(&ck);
}

/* The first part of text (up to the line that starts with cut) in a new
 * session, saved, freed and loaded; the rest is left to the caller. */
static struct as_session *load_after(const struct as_session_params *p,
    const char *text, const char *cut, struct as_buf *out)
{
	struct as_session *s = session(p), *s2;
	const char *at = strstr(text, cut);
	struct as_buf ck;

	assert_non_null(at);
	as_buf_init(out, OUT_MAX);
	assert_int_equal(as_trace_run(s, text, (size_t)(at - text), out), 0);
	save_ok(s, &ck);
	as_session_free(s);
	load_ok(&ck, &s2);
	as_buf_free(&ck);
	return s2;
}

static void run_rest(struct as_session *s, const char *text, const char *cut,
    struct as_buf *out)
{
	const char *at = strstr(text, cut);

	as_trace_run(s, at, strlen(at), out);
}

/* The VMAs of pid's mm that overlap [start, end). */
static int vmas_in(struct as_session *s, int pid, unsigned long start,
    unsigned long end)
{
	const struct vma *v;
	int n = 0;

	for (v = as_task_lookup(s, pid)->mm->mm_mt.first; v != NULL;
	    v = v->vm_next)
		n += v->vm_start < end && v->vm_end > start;
	return n;
}

#define A	0x200000000000UL

/* Two mmaps of one file, adjacent, with contiguous offsets: two struct
 * files, so they stay apart through a split and rejoin after a load
 * (writable already: a private mapping made writable by mprotect would
 * keep VM_ACCOUNT and not merge back anyway). */
static void test_struct_files_apart(void **state)
{
	static const char text[] =
	    "file f 32K\n"
	    "mmap 0x200000000000 16K rw- private,fixed f 0\n"
	    "mmap 0x200000004000 16K rw- private,fixed f 16K\n"
	    "maps\n"
	    "mprotect 0x200000002000 16K r--\n"
	    "maps\n"
	    "mprotect 0x200000002000 16K rw-\n"
	    "maps\n";
	struct as_session *s;
	struct vma *v, *w;
	struct as_buf out;

	(void)state;
	check_trace(NULL, "struct files apart", text, sizeof(text) - 1);
	s = load_after(NULL, text, "maps\n", &out);
	v = find_vma(as_task_lookup(s, 1)->mm, A);
	w = find_vma(as_task_lookup(s, 1)->mm, A + 0x4000);
	assert_true(v->vm_file != w->vm_file);
	assert_ptr_equal(file_inode(v->vm_file), file_inode(w->vm_file));
	assert_int_equal(v->vm_file->f_count, 1);
	assert_int_equal(file_inode(v->vm_file)->refcount, 3);
	assert_int_equal(vmas_in(s, 1, A, A + 0x8000), 2);
	run_rest(s, text, "maps\n", &out);
	assert_int_equal(vmas_in(s, 1, A, A + 0x8000), 2);
	as_session_free(s);
	as_buf_free(&out);
}

/* The pieces of one mapping share its struct file: after a load, undoing
 * the mprotect and the mlock that split them merges them again. */
static void test_struct_files_rejoin(void **state)
{
	static const char text[] =
	    "file f 32K\n"
	    "mmap 0x200000000000 32K rw- private,fixed f 0\n"
	    "mprotect 0x200000002000 8K r--\n"
	    "mlock 0x200000006000 4K\n"
	    "maps\n"
	    "mprotect 0x200000002000 8K rw-\n"
	    "munlock 0x200000006000 4K\n"
	    "maps\n";
	struct as_session *s;
	const struct vma *v;
	struct as_buf out;

	(void)state;
	check_trace(NULL, "struct files rejoin", text, sizeof(text) - 1);
	s = load_after(NULL, text, "maps\n", &out);
	assert_int_equal(vmas_in(s, 1, A, A + 0x8000), 5);
	v = find_vma(as_task_lookup(s, 1)->mm, A);
	assert_int_equal(v->vm_file->f_count, 5);
	for (; v->vm_start < A + 0x8000; v = v->vm_next)
		assert_ptr_equal(v->vm_file,
		    find_vma(as_task_lookup(s, 1)->mm, A)->vm_file);
	run_rest(s, text, "maps\n", &out);
	assert_int_equal(vmas_in(s, 1, A, A + 0x8000), 1);
	assert_int_equal(find_vma(as_task_lookup(s, 1)->mm, A)->vm_file->
	    f_count, 1);
	as_session_free(s);
	as_buf_free(&out);
}

/* A fork child shares its parent's struct file, and still does after a
 * load: its pieces merge back, and each exit drops one reference. */
static void test_struct_files_fork(void **state)
{
	static const char text[] =
	    "file f 16K\n"
	    "mmap 0x200000000000 16K rw- private,fixed f 0\n"
	    "mmap 0x200000010000 16K rw- shared,anon,fixed\n"
	    "fork\n"
	    "switch 2\n"
	    "mprotect 0x200000001000 4K r--\n"
	    "mprotect 0x200000011000 4K r--\n"
	    "maps\n"
	    "mprotect 0x200000001000 4K rw-\n"
	    "mprotect 0x200000011000 4K rw-\n"
	    "maps\n"
	    "exit\n"
	    "switch 1\n"
	    "maps\n";
	struct as_session *s;
	struct vma *v1, *v2;
	struct as_buf out;

	(void)state;
	check_trace(NULL, "struct files fork", text, sizeof(text) - 1);
	s = load_after(NULL, text, "switch 2\n", &out);
	v1 = find_vma(as_task_lookup(s, 1)->mm, A);
	v2 = find_vma(as_task_lookup(s, 2)->mm, A);
	assert_ptr_equal(v1->vm_file, v2->vm_file);
	assert_int_equal(v1->vm_file->f_count, 2);
	assert_ptr_equal(find_vma(as_task_lookup(s, 1)->mm, A + 0x10000)->
	    vm_file, find_vma(as_task_lookup(s, 2)->mm, A + 0x10000)->vm_file);
	run_rest(s, text, "switch 2\n", &out);
	assert_null(as_task_lookup(s, 2));
	assert_int_equal(vmas_in(s, 1, A, A + 0x20000), 2);
	assert_int_equal(v1->vm_file->f_count, 1);
	as_session_free(s);
	as_buf_free(&out);
}

/* Kernel parameters set before the start: the same after a load, in
 * values and in what faults and mlock do; a load before the start still
 * takes `kernel` lines (rlimit_stack re-execs the session's image). */
static void test_kernel_params(void **state)
{
	static const char text[] =
	    "kernel zero_page off\n"
	    "kernel fault_around_bytes 4096\n"
	    "kernel rlimit_memlock 64K\n"
	    "file f 64K\n"
	    "kernel rlimit_stack 16M\n"
	    "maps\n"
	    "mmap 0x200000000000 64K r-- private,fixed f 0\n"
	    "mmap 0x200000100000 16K rw- private,anon,fixed\n"
	    "read 0x200000100000\n"
	    "read 0x200000000000\n"
	    "mlock 0x200000100000 16K\n"
	    "mmap 0x200000200000 128K rw- private,anon,fixed\n"
	    "mlock 0x200000200000 128K\n"
	    "kernel swap 1M\n"
	    "maps\n";
	struct as_session_params p;
	struct as_session *s;
	const struct as_limits *l;
	struct as_buf out;
	pte_t e[4];

	(void)state;
	as_session_params_default(&p);
	as_image_default(&p.image, "tool-1.2_x");
	p.image.text = 12UL << 10;
	check_trace(&p, "kernel parameters", text, sizeof(text) - 1);
	s = load_after(&p, text, "kernel rlimit_stack", &out);
	assert_false(s->started);
	assert_string_equal(s->image.name, "tool-1.2_x");
	assert_int_equal(s->image.text, 12UL << 10);
	run_rest(s, text, "kernel rlimit_stack", &out);
	assert_true(s->started);
	assert_int_equal(s->limits.rlimit_stack, 16UL << 20);
	as_session_free(s);
	as_buf_free(&out);

	s = load_after(&p, text, "read ", &out);
	l = &s->limits;
	assert_true(s->started);
	assert_false(l->zero_page);
	assert_int_equal(l->fault_around_bytes, 4096);
	assert_int_equal(l->rlimit_memlock, 64UL << 10);
	assert_false(l->cap_ipc_lock);
	run_rest(s, text, "read ", &out);
	pgtable_walk(as_task_lookup(s, 1)->mm, 0x200000100000, e);
	assert_true(pte_present(e[3]) && pte_pfn(e[3]) != s->phys.zero_pfn);
	pgtable_walk(as_task_lookup(s, 1)->mm, 0x200000001000, e);
	assert_false(pte_present(e[3]));	/* no fault-around */
	assert_int_equal(vmas_in(s, 1, 0x200000200000, 0x200000220000), 1);
	assert_false(find_vma(as_task_lookup(s, 1)->mm, 0x200000200000)->
	    vm_flags & VM_LOCKED);
	assert_int_equal(as_kparam_get(s, KP_SWAP), 0);
	as_session_free(s);
	as_buf_free(&out);
}

/* Usage: test_checkpoint [PATTERN] runs the tests matching PATTERN. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_a_checkpoint),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_later_frames),
		cmocka_unit_test(test_struct_files_apart),
		cmocka_unit_test(test_struct_files_rejoin),
		cmocka_unit_test(test_struct_files_fork),
		cmocka_unit_test(test_kernel_params),
		cmocka_unit_test(test_bad_kernel_bytes),
		cmocka_unit_test(test_randomized_exec),
		cmocka_unit_test(test_corpus_split),
		cmocka_unit_test(test_random_traces),
		cmocka_unit_test(test_corruption),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

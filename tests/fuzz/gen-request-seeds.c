/*
 * gen-request-seeds.c: writes the session-script seeds of fuzz_request
 * (tests/fuzz/request-corpus/script-*), each a sequence of records, a
 * 2-byte big-endian length and a packed Request, run in order on one
 * session (see fuzz_request.c).  Each script walks one stateful path of
 * the daemon: a mapping written, forked and written again, a shared file
 * mapping, mremap and mlock, threads with vfork and exec, traces and
 * sessions, the stack and the last task's exit, the kernel parameters.
 *
 * Usage: gen-request-seeds DIR.  `make request-seeds` rewrites the
 * corpus's scripts; `make check` checks that they are what this writes.
 * Exit status 0, or 1 if a file could not be written.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

/* The simulator's numbers (lib/uapi.h), as a client sends them. */
#define PROT_R		0x1
#define PROT_RW		0x3
#define MAP_SH		0x01
#define MAP_PRIV	0x02
#define MAP_FIX		0x10
#define MAP_ANON	0x20
#define MAP_GROWSDN	0x0100
#define MREMAP_MAYMOVE	1
#define MREMAP_FIXED	2
#define MREMAP_DONTUNMAP 4
#define MADV_WILLNEED	3
#define MADV_DONTNEED	4
#define MADV_DONTFORK	10
#define MADV_PAGEOUT	21
#define MADV_POPULATE_WRITE 23
#define MS_ASYNC	1
#define MS_SYNC		4
#define SHM_RDONLY	010000
#define SHM_REMAP	040000

#define BASE		0x20000000ul	/* free in a new session */
#define BRK_START	0x55555555b000ul /* the default program's break */
#define SEED_MAX	2048
#define ID_LEN		16	/* SESSION_ID_LEN */

static uint8_t seed[SEED_MAX];
static size_t seed_len;
static int cur_task;		/* 0: no task field (task 1) */
static int overflow;

/* Append r as one record. */
static void put(Aspace__Request *r)
{
	size_t len;

	if (cur_task != 0) {
		r->has_task = 1;
		r->task = cur_task;
	}
	len = protobuf_c_message_get_packed_size(&r->base);
	if (seed_len + 2 + len > sizeof(seed) || len > 0xffff) {
		overflow = 1;
		return;
	}
	seed[seed_len++] = (uint8_t)(len >> 8);
	seed[seed_len++] = (uint8_t)len;
	seed_len += protobuf_c_message_pack(&r->base, seed + seed_len);
}

static void task(int t)
{
	cur_task = t;
}

static void mmap_(uint64_t addr, uint64_t len, uint32_t prot,
    uint32_t flags, const char *file, uint64_t off)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;

	m.has_addr = addr != 0;
	m.addr = addr;
	m.has_length = m.has_prot = m.has_flags = 1;
	m.length = len;
	m.prot = prot;
	m.flags = flags;
	m.file = (char *)file;
	m.has_offset = off != 0;
	m.offset = off;
	r.op_case = ASPACE__REQUEST__OP_MMAP;
	r.mmap = &m;
	put(&r);
}

/* munmap, mlock and munlock: an address and a length. */
static void range_op(int op, uint64_t addr, uint64_t len)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MunmapRequest u = ASPACE__MUNMAP_REQUEST__INIT;
	Aspace__MlockRequest l = ASPACE__MLOCK_REQUEST__INIT;
	Aspace__MunlockRequest ul = ASPACE__MUNLOCK_REQUEST__INIT;

	u.has_addr = l.has_addr = ul.has_addr = 1;
	u.addr = l.addr = ul.addr = addr;
	u.has_length = l.has_length = ul.has_length = 1;
	u.length = l.length = ul.length = len;
	r.op_case = op;
	if (op == ASPACE__REQUEST__OP_MUNMAP)
		r.munmap = &u;
	else if (op == ASPACE__REQUEST__OP_MLOCK)
		r.mlock = &l;
	else
		r.munlock = &ul;
	put(&r);
}

static void mprotect_(uint64_t addr, uint64_t len, uint32_t prot)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MprotectRequest m = ASPACE__MPROTECT_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_prot = 1;
	m.addr = addr;
	m.length = len;
	m.prot = prot;
	r.op_case = ASPACE__REQUEST__OP_MPROTECT;
	r.mprotect = &m;
	put(&r);
}

static void mremap_(uint64_t addr, uint64_t old_len, uint64_t new_len,
    uint32_t flags, uint64_t new_addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MremapRequest m = ASPACE__MREMAP_REQUEST__INIT;

	m.has_addr = m.has_old_length = m.has_new_length = m.has_flags = 1;
	m.addr = addr;
	m.old_length = old_len;
	m.new_length = new_len;
	m.flags = flags;
	m.has_new_addr = new_addr != 0;
	m.new_addr = new_addr;
	r.op_case = ASPACE__REQUEST__OP_MREMAP;
	r.mremap = &m;
	put(&r);
}

static void madvise_(uint64_t addr, uint64_t len, int advice)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MadviseRequest m = ASPACE__MADVISE_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_advice = 1;
	m.addr = addr;
	m.length = len;
	m.advice = advice;
	r.op_case = ASPACE__REQUEST__OP_MADVISE;
	r.madvise = &m;
	put(&r);
}

static void brk_(uint64_t addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__BrkRequest b = ASPACE__BRK_REQUEST__INIT;

	b.has_addr = 1;
	b.addr = addr;
	r.op_case = ASPACE__REQUEST__OP_BRK;
	r.brk = &b;
	put(&r);
}

static void access_(uint64_t addr, Aspace__AccessKind kind, uint32_t value)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__AccessRequest a = ASPACE__ACCESS_REQUEST__INIT;

	a.has_addr = a.has_kind = 1;
	a.addr = addr;
	a.kind = kind;
	a.has_value = kind == ASPACE__ACCESS_KIND__ACCESS_WRITE;
	a.value = value;
	r.op_case = ASPACE__REQUEST__OP_ACCESS;
	r.access = &a;
	put(&r);
}

static void read_bytes(uint64_t addr, uint32_t len)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ReadBytesRequest b = ASPACE__READ_BYTES_REQUEST__INIT;

	b.has_addr = b.has_length = 1;
	b.addr = addr;
	b.length = len;
	r.op_case = ASPACE__REQUEST__OP_READ_BYTES;
	r.read_bytes = &b;
	put(&r);
}

static void write_bytes(uint64_t addr, const char *s)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__WriteBytesRequest b = ASPACE__WRITE_BYTES_REQUEST__INIT;

	b.has_addr = b.has_data = 1;
	b.addr = addr;
	b.data.data = (uint8_t *)s;
	b.data.len = strlen(s);
	r.op_case = ASPACE__REQUEST__OP_WRITE_BYTES;
	r.write_bytes = &b;
	put(&r);
}

static void file_create(const char *name, uint64_t size)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__FileCreateRequest f = ASPACE__FILE_CREATE_REQUEST__INIT;

	f.name = (char *)name;
	f.has_size = 1;
	f.size = size;
	r.op_case = ASPACE__REQUEST__OP_FILE_CREATE;
	r.file_create = &f;
	put(&r);
}

static void msync_(uint64_t addr, uint64_t len, uint32_t flags)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MsyncRequest m = ASPACE__MSYNC_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_flags = 1;
	m.addr = addr;
	m.length = len;
	m.flags = flags;
	r.op_case = ASPACE__REQUEST__OP_MSYNC;
	r.msync = &m;
	put(&r);
}

/* shmget NAME SIZE (size 0: absent), shmrm NAME. */
static void shm_name(int op, const char *name, uint64_t size)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ShmgetRequest g = ASPACE__SHMGET_REQUEST__INIT;
	Aspace__ShmrmRequest m = ASPACE__SHMRM_REQUEST__INIT;

	g.name = m.name = (char *)name;
	g.has_size = size != 0;
	g.size = size;
	r.op_case = op;
	if (op == ASPACE__REQUEST__OP_SHMGET)
		r.shmget = &g;
	else
		r.shmrm = &m;
	put(&r);
}

static void shmat_(const char *name, uint64_t addr, uint32_t flags)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ShmatRequest m = ASPACE__SHMAT_REQUEST__INIT;

	m.name = (char *)name;
	m.has_addr = addr != 0;
	m.addr = addr;
	m.has_flags = 1;
	m.flags = flags;
	r.op_case = ASPACE__REQUEST__OP_SHMAT;
	r.shmat = &m;
	put(&r);
}

static void shmdt_(uint64_t addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ShmdtRequest m = ASPACE__SHMDT_REQUEST__INIT;

	m.has_addr = 1;
	m.addr = addr;
	r.op_case = ASPACE__REQUEST__OP_SHMDT;
	r.shmdt = &m;
	put(&r);
}

/* The ops without fields of their own: fork, thread, vfork, exit,
 * proc_status, session_destroy, session_list, kernel, check. */
static void bare(int op)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ForkRequest fo = ASPACE__FORK_REQUEST__INIT;
	Aspace__ThreadRequest th = ASPACE__THREAD_REQUEST__INIT;
	Aspace__VforkRequest vf = ASPACE__VFORK_REQUEST__INIT;
	Aspace__ExitRequest ex = ASPACE__EXIT_REQUEST__INIT;
	Aspace__ProcStatusRequest ps = ASPACE__PROC_STATUS_REQUEST__INIT;
	Aspace__SessionDestroyRequest sd =
	    ASPACE__SESSION_DESTROY_REQUEST__INIT;
	Aspace__SessionListRequest sl = ASPACE__SESSION_LIST_REQUEST__INIT;
	Aspace__KernelRequest kr = ASPACE__KERNEL_REQUEST__INIT;
	Aspace__CheckRequest ck = ASPACE__CHECK_REQUEST__INIT;

	r.op_case = op;
	switch (op) {		/* the oneof is a union: set one member */
	case ASPACE__REQUEST__OP_FORK:
		r.fork = &fo;
		break;
	case ASPACE__REQUEST__OP_THREAD:
		r.thread = &th;
		break;
	case ASPACE__REQUEST__OP_VFORK:
		r.vfork = &vf;
		break;
	case ASPACE__REQUEST__OP_EXIT:
		r.exit = &ex;
		break;
	case ASPACE__REQUEST__OP_PROC_STATUS:
		r.proc_status = &ps;
		break;
	case ASPACE__REQUEST__OP_SESSION_DESTROY:
		r.session_destroy = &sd;
		break;
	case ASPACE__REQUEST__OP_KERNEL:
		r.kernel = &kr;
		break;
	case ASPACE__REQUEST__OP_CHECK:
		r.check = &ck;
		break;
	default:
		r.session_list = &sl;
		break;
	}
	put(&r);
}

/* maps and smaps over [start, start + len), or everything if len is 0. */
static void maps_(int smaps, uint64_t start, uint64_t len)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MapsRequest m = ASPACE__MAPS_REQUEST__INIT;
	Aspace__SmapsRequest s = ASPACE__SMAPS_REQUEST__INIT;
	Aspace__Window w = ASPACE__WINDOW__INIT;

	w.has_start = w.has_length = 1;
	w.start = start;
	w.length = len;
	m.window = s.window = len != 0 ? &w : NULL;
	if (smaps) {
		r.op_case = ASPACE__REQUEST__OP_SMAPS;
		r.smaps = &s;
	} else {
		r.op_case = ASPACE__REQUEST__OP_MAPS;
		r.maps = &m;
	}
	put(&r);
}

static void page_walk(uint64_t addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__PageWalkRequest p = ASPACE__PAGE_WALK_REQUEST__INIT;

	p.has_addr = 1;
	p.addr = addr;
	r.op_case = ASPACE__REQUEST__OP_PAGE_WALK;
	r.page_walk = &p;
	put(&r);
}

/* pages over [start, end) (op 52); web_token (op 51). */
static void pages(uint64_t start, uint64_t end)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__PagesRequest p = ASPACE__PAGES_REQUEST__INIT;

	p.has_start = p.has_end = 1;
	p.start = start;
	p.end = end;
	r.op_case = ASPACE__REQUEST__OP_PAGES;
	r.pages = &p;
	put(&r);
}

static void web_token(const char *trace)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__WebTokenRequest w = ASPACE__WEB_TOKEN_REQUEST__INIT;

	if (trace != NULL) {
		w.has_trace = 1;
		w.trace.data = (uint8_t *)trace;
		w.trace.len = strlen(trace);
	}
	r.op_case = ASPACE__REQUEST__OP_WEB_TOKEN;
	r.web_token = &w;
	put(&r);
}

static void counters(int task_only)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__CountersRequest c = ASPACE__COUNTERS_REQUEST__INIT;

	c.has_task_only = task_only;
	c.task_only = task_only;
	r.op_case = ASPACE__REQUEST__OP_COUNTERS;
	r.counters = &c;
	put(&r);
}

static void exec_(const char *name, uint64_t text, uint64_t data,
    uint64_t bss)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ExecRequest e = ASPACE__EXEC_REQUEST__INIT;
	Aspace__Image img = ASPACE__IMAGE__INIT;

	img.name = (char *)name;
	img.has_text = img.has_data = img.has_bss = 1;
	img.text = text;
	img.data = data;
	img.bss = bss;
	e.image = &img;
	r.op_case = ASPACE__REQUEST__OP_EXEC;
	r.exec = &e;
	put(&r);
}

static void run_trace(const char *text)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__RunTraceRequest t = ASPACE__RUN_TRACE_REQUEST__INIT;

	t.has_text = 1;
	t.text.data = (uint8_t *)text;
	t.text.len = strlen(text);
	r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r.run_trace = &t;
	put(&r);
}

/* A second session (session 0...01 to the fuzz target), laid out at
 * random from rnd. */
static void session_create(const char *label, uint64_t ram, uint64_t rnd)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest c = ASPACE__SESSION_CREATE_REQUEST__INIT;

	c.has_ram_bytes = c.has_seed = c.has_randomize = 1;
	c.ram_bytes = ram;
	c.seed = rnd;
	c.randomize = 1;
	c.label = (char *)label;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &c;
	put(&r);
}

/* Name session k (0...0k) in the next request: see fuzz_request.c. */
static void in_session(Aspace__Request *r, uint8_t *id, int k)
{
	memset(id, 0, ID_LEN);
	id[ID_LEN - 1] = (uint8_t)k;
	r->has_session = 1;
	r->session.data = id;
	r->session.len = ID_LEN;
}

static void session_access(int k, uint64_t addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__AccessRequest a = ASPACE__ACCESS_REQUEST__INIT;
	uint8_t id[ID_LEN];

	in_session(&r, id, k);
	a.has_addr = a.has_kind = 1;
	a.addr = addr;
	a.kind = ASPACE__ACCESS_KIND__ACCESS_READ;
	r.op_case = ASPACE__REQUEST__OP_ACCESS;
	r.access = &a;
	put(&r);
}

/* Anonymous memory written, forked, written again (copy-on-write). */
static void anon_cow_fork(void)
{
	mmap_(BASE, 0x4000, PROT_RW, MAP_PRIV | MAP_ANON | MAP_FIX, NULL, 0);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_WRITE, 0x41);
	access_(BASE + 0x2000, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	write_bytes(BASE + 0x1000, "hello");
	bare(ASPACE__REQUEST__OP_FORK);
	task(2);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_WRITE, 0x42);
	read_bytes(BASE + 0x1000, 8);
	task(1);
	read_bytes(BASE, 4);
	maps_(0, 0, 0);
	maps_(1, BASE, 0x4000);
	bare(ASPACE__REQUEST__OP_PROC_STATUS);
	page_walk(BASE);
	counters(0);
	task(2);
	counters(1);
	bare(ASPACE__REQUEST__OP_EXIT);
	task(0);
}

/* The web view's requests: each page's state (zero page, anonymous,
 * copy on write after fork, locked, a shared file page), a login token. */
static void web_pages(void)
{
	file_create("data", 10000);
	mmap_(BASE, 0x8000, PROT_RW, MAP_PRIV | MAP_ANON | MAP_FIX, NULL, 0);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	access_(BASE + 0x1000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 0x41);
	mmap_(BASE + 0x10000, 0x2000, PROT_RW, MAP_SH | MAP_FIX, "data", 0);
	access_(BASE + 0x10000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 0x42);
	bare(ASPACE__REQUEST__OP_FORK);
	pages(BASE, BASE + 0x20000);
	pages(0, ~0ULL);
	pages(BASE + 0x20000, BASE);
	task(2);
	pages(BASE, BASE + 0x2000);
	task(1);
	web_token(NULL);
	web_token("mmap 0 4K rw- private,anon\n");
}

/* A file mapped shared and private, written, past its end, advised. */
static void file_shared(void)
{
	file_create("data", 10000);
	mmap_(BASE, 0x4000, PROT_RW, MAP_SH | MAP_FIX, "data", 0);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	access_(BASE + 0x1000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 7);
	access_(BASE + 0x3000, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	mmap_(BASE + 0x10000, 0x2000, PROT_R, MAP_PRIV | MAP_FIX, "data",
	    0x1000);
	bare(ASPACE__REQUEST__OP_FORK);
	task(2);
	write_bytes(BASE + 0x1ffe, "xyzw");
	task(0);
	read_bytes(BASE + 0x1ff0, 32);
	read_bytes(BASE + 0x10000, 16);
	madvise_(BASE, 0x4000, MADV_DONTNEED);
	madvise_(BASE + 0x10000, 0x2000, MADV_WILLNEED);
	file_create("data", 100);
	read_bytes(BASE + 0x1000, 16);
	range_op(ASPACE__REQUEST__OP_MUNMAP, BASE, 0x2000);
	maps_(1, 0, 0);
}

/* mlock, mremap (in place, moved, DONTUNMAP), mprotect, brk. */
static void mremap_mlock(void)
{
	mmap_(BASE, 0x2000, PROT_RW, MAP_PRIV | MAP_ANON | MAP_FIX, NULL, 0);
	range_op(ASPACE__REQUEST__OP_MLOCK, BASE, 0x2000);
	mremap_(BASE, 0x2000, 0x8000, MREMAP_MAYMOVE, 0);
	mprotect_(BASE, 0x1000, PROT_R);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_WRITE, 1);
	access_(BASE + 0x1000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 2);
	range_op(ASPACE__REQUEST__OP_MUNLOCK, BASE, 0x8000);
	madvise_(BASE, 0x8000, MADV_DONTFORK);
	mremap_(BASE + 0x1000, 0x1000, 0x1000,
	    MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, BASE + 0x100000);
	read_bytes(BASE + 0x100000, 4);
	brk_(0);
	brk_(BRK_START + 0x3000);
	access_(BRK_START + 0x2000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 3);
	brk_(BRK_START + 0x1000);
	maps_(0, 0, 0);
	bare(ASPACE__REQUEST__OP_PROC_STATUS);
}

/* A thread, a vfork child blocking its parent until exec, exits. */
static void thread_vfork_exec(void)
{
	bare(ASPACE__REQUEST__OP_THREAD);
	task(2);
	mmap_(BASE, 0x1000, PROT_RW, MAP_PRIV | MAP_ANON | MAP_FIX, NULL, 0);
	task(0);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_WRITE, 9);
	bare(ASPACE__REQUEST__OP_VFORK);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	task(3);
	write_bytes(BASE + 8, "child");
	exec_("child", 0x4000, 0x1000, 0x1000);
	maps_(0, 0, 0);
	task(0);
	read_bytes(BASE, 16);
	task(3);
	bare(ASPACE__REQUEST__OP_EXIT);
	task(2);
	bare(ASPACE__REQUEST__OP_EXIT);
	task(0);
	bare(ASPACE__REQUEST__OP_PROC_STATUS);
}

/* A trace in the session, a second session, destroying the first. */
static void trace_sessions(void)
{
	run_trace("mmap 0x20000000 8K rw- private,anon,fixed\n"
	    "write 0x20000000 1\nfork\nswitch 2\nwrite 0x20000000 2\nmaps\n");
	maps_(0, BASE, 0x2000);
	session_create("two", 8ul << 20, 42);
	session_access(1, BASE);
	session_access(0, BASE);
	bare(ASPACE__REQUEST__OP_SESSION_LIST);
	bare(ASPACE__REQUEST__OP_SESSION_DESTROY);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	bare(ASPACE__REQUEST__OP_SESSION_LIST);
}

/* A growsdown mapping grown by an access below it; the last exit. */
static void stack_exit(void)
{
	mmap_(BASE + 0x10000, 0x2000, PROT_RW,
	    MAP_PRIV | MAP_ANON | MAP_GROWSDN, NULL, 0);
	access_(BASE + 0xf000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 5);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	maps_(1, BASE, 0x20000);
	counters(1);
	bare(ASPACE__REQUEST__OP_EXIT);
	access_(BASE + 0x10000, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	bare(ASPACE__REQUEST__OP_FORK);
}

/* A second session made with every kernel parameter set. */
static void session_create_kernel(void)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest c = ASPACE__SESSION_CREATE_REQUEST__INIT;

	c.has_ram_bytes = c.has_zero_page = c.has_swap_bytes = 1;
	c.has_fault_around_bytes = c.has_max_map_count = 1;
	c.has_rlimit_stack = c.has_rlimit_memlock = 1;
	c.ram_bytes = 8ul << 20;
	c.zero_page = 0;
	c.swap_bytes = 1ul << 20;
	c.fault_around_bytes = 4096;
	c.max_map_count = 64;
	c.rlimit_stack = 1ul << 20;
	c.rlimit_memlock = 8192;
	c.label = (char *)"kernel";
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &c;
	put(&r);
}

static void session_kernel(int k)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__KernelRequest q = ASPACE__KERNEL_REQUEST__INIT;
	uint8_t id[ID_LEN];

	in_session(&r, id, k);
	r.op_case = ASPACE__REQUEST__OP_KERNEL;
	r.kernel = &q;
	put(&r);
}

/* A trace's kernel lines, then a task acts (they are fixed); a second
 * session with every parameter, the kernel op in each. */
static void kernel_params(void)
{
	run_trace("kernel zero_page off\nkernel fault_around_bytes 8192\n"
	    "kernel rlimit_memlock 4K\n");
	bare(ASPACE__REQUEST__OP_KERNEL);
	mmap_(BASE, 0x4000, PROT_RW, MAP_PRIV | MAP_ANON | MAP_FIX, NULL, 0);
	access_(BASE, ASPACE__ACCESS_KIND__ACCESS_READ, 0);
	range_op(ASPACE__REQUEST__OP_MLOCK, BASE, 0x4000);
	run_trace("kernel zero_page on\n");
	bare(ASPACE__REQUEST__OP_KERNEL);
	session_create_kernel();
	session_kernel(1);
	session_access(1, BASE);
	session_kernel(1);
}

/* A System V segment attached twice (one read-only), shared with a
 * fork child, removed while attached, detached; a shared file page
 * msynced; the new madvise advices; bad names and sizes. */
static void shm_msync(void)
{
	shm_name(ASPACE__REQUEST__OP_SHMGET, "seg", 0x3000);
	shm_name(ASPACE__REQUEST__OP_SHMGET, "seg", 0x1000);	/* EEXIST */
	shm_name(ASPACE__REQUEST__OP_SHMGET, "bad/name", 0x1000);
	shm_name(ASPACE__REQUEST__OP_SHMGET, "nosize", 0);
	shmat_("seg", BASE, 0);
	shmat_("seg", 0, SHM_RDONLY);
	shmat_("seg", BASE + 1, 0);				/* EINVAL */
	write_bytes(BASE + 0x1ffe, "shm!");
	bare(ASPACE__REQUEST__OP_FORK);
	task(2);
	read_bytes(BASE + 0x1ffe, 4);
	shmat_("seg", BASE, SHM_REMAP);
	task(0);
	shm_name(ASPACE__REQUEST__OP_SHMRM, "seg", 0);
	shmdt_(BASE);
	shmdt_(BASE);						/* EINVAL */
	maps_(0, 0, 0);
	file_create("db", 0x2000);
	mmap_(BASE + 0x100000, 0x2000, PROT_RW, MAP_SH | MAP_FIX, "db", 0);
	access_(BASE + 0x100000, ASPACE__ACCESS_KIND__ACCESS_WRITE, 5);
	msync_(BASE + 0x100000, 0x2000, MS_ASYNC);
	msync_(BASE + 0x100000, 0x2000, MS_SYNC);
	msync_(BASE + 0x100000, 0x4000, MS_SYNC);		/* ENOMEM */
	msync_(BASE + 0x100001, 0x1000, MS_SYNC | MS_ASYNC);	/* EINVAL */
	madvise_(BASE + 0x100000, 0x2000, MADV_POPULATE_WRITE);
	madvise_(BASE + 0x100000, 0x2000, MADV_PAGEOUT);
	maps_(1, BASE + 0x100000, 0x2000);
	task(2);
	bare(ASPACE__REQUEST__OP_EXIT);
	task(0);
	bare(ASPACE__REQUEST__OP_CHECK);
}

static const struct {
	const char	*name;
	void		(*build)(void);
} scripts[] = {
	{ "script-anon-cow-fork", anon_cow_fork },
	{ "script-file-shared", file_shared },
	{ "script-mremap-mlock-brk", mremap_mlock },
	{ "script-thread-vfork-exec", thread_vfork_exec },
	{ "script-trace-sessions", trace_sessions },
	{ "script-stack-exit", stack_exit },
	{ "script-kernel", kernel_params },
	{ "script-shm-msync", shm_msync },
	{ "script-web-pages", web_pages },
};

static int write_seed(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	ok = fwrite(seed, 1, seed_len, f) == seed_len;
	if (fclose(f) != 0 || !ok) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-request-seeds DIR\n");
		return 2;
	}
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		seed_len = 0;
		cur_task = 0;
		scripts[i].build();
		if (overflow) {
			fprintf(stderr, "%s: over %d bytes\n", scripts[i].name,
			    SEED_MAX);
			return 1;
		}
		if (write_seed(argv[1], scripts[i].name) != 0)
			return 1;
	}
	return 0;
}

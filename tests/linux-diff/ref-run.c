/*
 * ref-run.c: the Linux reference runner.  `ref-run TRACEFILE` executes a
 * trace-v1 trace (/work/shared/spec/trace-v1.md) against this machine's
 * real kernel with raw system calls and prints the canonical output, so
 * that the simulator's output for the same trace can be checked line by
 * line.  It shares only the parser (lib/trace_parse.c) with the simulator.
 *
 * Processes.  The main process is the controller: it reads the trace,
 * prints every line of output and runs the commands that concern the run
 * itself (window, file, switch), but never touches the window.  Each task
 * is a real process (task 1, forked at start; every `fork`) or a pthread
 * in a task's process (`thread`), looping in task_loop(): it receives one
 * command at a time over its own AF_UNIX stream socket to the controller,
 * runs it with task_exec() and sends back its status and output text.  A
 * new task's socket end, and the file an mmap names, travel with the
 * command as SCM_RIGHTS.
 *
 * Files: one struct file per mmap line.  For every `mmap ... NAME OFFSET`
 * the controller open()s NAME anew, sends that fd with the command, and
 * both ends close it once the task has called mmap(): the mapping holds
 * the only reference to that struct file.  As the kernel merges VMAs of
 * the same struct file only, two mmap lines never make one VMA even when
 * adjacent with contiguous offsets, while the pieces of one mapping
 * (split by mprotect, mlock, madvise or munmap, moved by mremap) keep
 * their struct file and merge back, and a forked child's VMAs share the
 * parent's.  This is the project's normative rule, which the simulator
 * models too; it is what a program does that opens, maps and closes a
 * file per mapping.  The controller's own fd of each file serves `file`
 * (create, truncate, fill) only.
 *
 * Task IDs are given out by the controller in order from 2; a failed fork
 * or thread uses none.  `exit` ends a thread with pthread_exit, or, when
 * it is the last task of its process, the whole process with _exit; the
 * controller then waits on a pidfd until the process has exited, so its
 * memory is released before the next command, and reaps the zombies it
 * is parent of (it is a child subreaper, so orphaned tasks come to it).
 * After `exit` there is no current task until `switch`: any other command
 * prints `N: ! error: no current task` (window and file too, as the spec
 * says the next command must be a switch).  Memory limits and THP
 * disabling are set in the controller and inherited by every task.
 *
 * Kernel parameters (trace-v2 `kernel NAME VALUE`, only before the first
 * command that is not window, file or kernel, else the simulator's error
 * line).  rlimit_stack and rlimit_memlock are applied: task 1 sets them
 * (soft and hard) when the trace starts, and a finite rlimit_memlock also
 * takes CAP_IPC_LOCK from its capability sets, so every later task
 * inherits both and mlock is limited as for a process that is not root.
 * The others describe the host and are only checked against it (the zero
 * page by a probe, max_map_count and fault_around_bytes from /proc and
 * debugfs, swap 0 from /proc/swaps): `! error: host kernel differs: NAME`
 * if it is not so.  `kernel swap SIZE` with SIZE > 0 makes a swap file of
 * SIZE in the temp directory (which must be on a disk file system, not
 * tmpfs): fallocate (or zeros written where the file system has no
 * fallocate), mode 600, /sbin/mkswap, swapon(2); it is swapped off
 * and removed at exit, on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE too, or
 * when a later `kernel swap` replaces it.  Another active swap area on the host
 * is `! error: host kernel differs: swap` (swap is machine-wide); a host
 * that refuses the swap file prints `! error: unsupported: kernel swap
 * (STEP: ERRNO)`.  While the swap file is on, vm.page-cluster is 0 (no
 * swap readahead, as the simulator models), restored with it; after
 * each pageout the runner waits for the host's writeback to finish, as
 * the simulator writes synchronously.  Needs root (CAP_SYS_ADMIN).  Because swap is
 * machine-wide (a trace without swap would see another's swap file: its
 * pageout would swap), every ref-run holds a lock on REF_RUN_LOCK
 * (/var/tmp/aspace-ref-run.lock, or $ASPACE_REF_RUN_LOCK): shared, and
 * exclusive from a `kernel swap SIZE` on, so runs with swap are
 * serialised against every other run on the host.
 *
 * Signals.  SIGSEGV and SIGBUS are caught by one handler per process that
 * siglongjmps through thread-local state, on a per-thread alternate stack.
 *
 * touch x cannot execute arbitrary bytes, so it models the x86 fault path
 * of an instruction fetch: a non-present fetch is handled as a read fault
 * (the kernel does not check VM_EXEC for a not-present fault: page and
 * fault-around come in, the stack grows, a file page past EOF is SIGBUS),
 * and the refetch then finds the page NX and raises SEGV_ACCERR.  So it
 * does a real guarded read; if that faults, the signal is the answer, else
 * the answer is SEGV_ACCERR unless the VMA now holding ADDR has 'x'.
 * Verified on 6.18 by calling a 0xc3 (ret) byte in rwx, r--, r-x and ---
 * pages, file and anonymous, fresh and present, and below a growsdown VMA.
 *
 * Nothing this program allocates may land in the default window
 * [0x200000000000, 0x300000000000): the kernel places our own mappings
 * top-down from mmap_base (near 0x7f...), far above it, and the sanitizer
 * shadow and heap lie outside it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>
#include <linux/capability.h>

#include "trace_parse.h"

#define DEFAULT_WIN_START	0x200000000000UL
#define DEFAULT_WIN_LEN		0x100000000000UL
#define STACK_LIMIT		(8UL << 20)
#define ALTSTACK_SIZE		(64UL << 10)

struct ref_file {
	char name[TRACE_NAME_MAX];
	int fd;
};

/* A System V segment the trace made: its NAME and its shm id. */
struct ref_shm {
	char name[TRACE_NAME_MAX];
	int id;
};

/* A live task, as the controller knows it. */
struct ctl_task {
	unsigned long id;
	pid_t pid;			/* its process */
	int sock;			/* the controller's end */
};

/* A process with live tasks. */
struct ctl_proc {
	pid_t pid;
	int pidfd;			/* -1 if pidfd_open failed */
	int ntasks;
};

struct runner {
	unsigned long win_start, win_len;
	char tmpdir[PATH_MAX];		/* "" if it could not be made */
	struct ref_file *files;
	size_t nfiles;
	struct ref_shm *shms;
	size_t nshms;
	int own_ipc_ns;			/* unshare(CLONE_NEWIPC) worked */
	int errors;			/* "! error" lines printed */
	struct ctl_task *tasks;
	size_t ntasks;
	struct ctl_proc *procs;
	size_t nprocs;
	unsigned long next_id;
	unsigned long cur;		/* the current task's ID, 0 if none */
	int started;			/* a command but window/file/kernel ran */
	int host_zero_page;		/* 1 yes, 0 no, -1 not yet probed */
	int kp_set[KP_COUNT];		/* kernel rlimit_*: given, to apply */
	unsigned long kp_val[KP_COUNT];
};

/* A command sent to a task. */
struct task_req {
	struct trace_cmd c;
	int line;
	int last;			/* exit: the last task of its process */
	unsigned long win_start, win_len;
};

/* A task's answer, followed by len bytes of output text. */
struct task_reply {
	long status;			/* fork: the child's pid; or -errno */
	int errors;			/* "! error" lines in the text */
	size_t len;
};

/* The runner is global only so that the atexit() cleanup can reach it. */
static struct runner the_runner;
static pid_t controller_pid;

/* In a task thread, the stream its command's output goes to. */
static __thread FILE *task_out;

/* ---- output ---- */

static FILE *out(void)
{
	return task_out ? task_out : stdout;
}

static void out_result(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_result(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(out(), "%d: ", line);
	va_start(ap, fmt);
	vfprintf(out(), fmt, ap);
	va_end(ap);
	fputc('\n', out());
}

static void out_error(struct runner *r, int line, const char *msg,
		      const char *arg)
{
	fprintf(out(), "%d: ! error: %s%s\n", line, msg, arg ? arg : "");
	r->errors++;
}

/* `= 0` for 0, `= -ENAME` for -1 with errno set. */
static void out_status(int line, long ret)
{
	if (ret == -1)
		out_result(line, "= -%s", errno_name(errno));
	else
		out_result(line, "= %ld", ret);
}

/* mmap and mremap: an address, or -ENAME. */
static void out_addr(int line, long ret)
{
	if (ret == -1)
		out_result(line, "= -%s", errno_name(errno));
	else
		out_result(line, "= 0x%lx", (unsigned long)ret);
}

/* ---- files (controller) ---- */

static struct ref_file *find_file(struct runner *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

/* Made once at start, so that every task knows the name to strip. */
static int make_tmpdir(struct runner *r)
{
	const char *base = getenv("ASPACE_REF_TMPDIR");
	char canon[PATH_MAX];

	if (!base || !base[0])
		base = "/var/tmp";
	snprintf(r->tmpdir, sizeof(r->tmpdir), "%s/aspace-ref.XXXXXX", base);
	if (!mkdtemp(r->tmpdir)) {
		r->tmpdir[0] = '\0';
		return -1;
	}
	/* /proc/PID/maps shows canonical paths: match those */
	if (realpath(r->tmpdir, canon))
		snprintf(r->tmpdir, sizeof(r->tmpdir), "%s", canon);
	return 0;
}

/* Truncate fd and fill it with the spec's pattern, 4 KiB per write. */
static int fill_file(int fd, unsigned long size)
{
	unsigned char buf[4096];
	unsigned long off, i, n;

	if (ftruncate(fd, 0) < 0)
		return -1;
	for (off = 0; off < size; off += n) {
		n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (unsigned char)(((off + i) * 7 + 3) & 0xff);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			return -1;
	}
	return fsync(fd);
}

/* Open (creating) NAME in the temp directory and remember its fd. */
static struct ref_file *open_file(struct runner *r, const char *name)
{
	char path[2 * PATH_MAX];
	struct ref_file *f;
	int fd;

	if (!r->tmpdir[0]) {
		errno = ENOENT;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", r->tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	f = realloc(r->files, (r->nfiles + 1) * sizeof(*f));
	if (!f) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	r->files = f;
	f = &r->files[r->nfiles++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->fd = fd;
	return f;
}

static void cmd_file(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ref_file *f = find_file(r, c->name);

	if (!f)
		f = open_file(r, c->name);
	if (!f || fill_file(f->fd, c->len) < 0)
		out_status(line, -1);
	else
		out_status(line, 0);
}

/* The swap file made for `kernel swap SIZE`, "" if none; swapped on if
 * swap_on.  Static storage, for the signal handler. */
static char swap_path[PATH_MAX + 16];
static volatile sig_atomic_t swap_on;

/* The host-wide lock on ref-runs (see the top): -1 if it cannot be had,
 * in which case we run unserialised, as before. */
static int ref_lock_fd = -1;

static void ref_lock(int op)
{
	const char *path = getenv("ASPACE_REF_RUN_LOCK");

	if (ref_lock_fd < 0)
		ref_lock_fd = open(path && *path ? path :
		    "/var/tmp/aspace-ref-run.lock", O_RDWR | O_CREAT |
		    O_CLOEXEC, 0666);
	if (ref_lock_fd >= 0)
		while (flock(ref_lock_fd, op) < 0 && errno == EINTR)
			;
}

/* vm.page-cluster as it was before our swap file ("" if not changed). */
static char page_cluster_saved[16];
static const char page_cluster_path[] = "/proc/sys/vm/page-cluster";

/* Write s to vm.page-cluster: async-signal-safe. */
static void page_cluster_write(const char *s)
{
	int fd = open(page_cluster_path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			(void)0;	/* the warning is the caller's */
		close(fd);
	}
}

/*
 * The simulator reads one page back per swap fault: no swap readahead,
 * whose pages would hold swap slots in the swap cache (and change when
 * the swap counts as full) by a window Linux adapts to its hit rate.
 * So while our swap file is on, vm.page-cluster is 0 (readahead off),
 * then restored.
 */
static void page_cluster_off(void)
{
	int fd = open(page_cluster_path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, page_cluster_saved,
				   sizeof(page_cluster_saved) - 1) : -1;

	if (fd >= 0)
		close(fd);
	page_cluster_saved[n > 0 ? n : 0] = '\0';
	if (n > 0)
		page_cluster_write("0\n");
	else
		fprintf(stderr, "ref-run: warning: cannot read %s\n",
			page_cluster_path);
}

/* Swap off and remove our swap file, vm.page-cluster restored:
 * async-signal-safe (a few syscalls). */
static void swap_remove(void)
{
	if (page_cluster_saved[0]) {
		page_cluster_write(page_cluster_saved);
		page_cluster_saved[0] = '\0';
	}
	if (!swap_path[0])
		return;
	if (swap_on && syscall(SYS_swapoff, swap_path) == 0)
		swap_on = 0;
	unlink(swap_path);
	swap_path[0] = '\0';
}

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE in the controller: no swap
 * file is left behind; then die of the signal as we would have. */
static void swap_signal(int sig)
{
	if (getpid() == controller_pid) {
		swap_remove();
		if (the_runner.tmpdir[0])	/* if no trace file is left */
			rmdir(the_runner.tmpdir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* atexit: the controller removes its files; a task never gets here. */
static void cleanup(void)
{
	struct runner *r = &the_runner;
	char path[2 * PATH_MAX];
	size_t i;

	if (getpid() != controller_pid)
		return;
	swap_remove();
	for (i = 0; i < r->nfiles; i++) {
		close(r->files[i].fd);
		snprintf(path, sizeof(path), "%s/%s", r->tmpdir,
			 r->files[i].name);
		unlink(path);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
	for (i = 0; i < r->nshms && !r->own_ipc_ns; i++)
		shmctl(r->shms[i].id, IPC_RMID, NULL);
	free(r->shms);
	r->shms = NULL;
	r->nshms = 0;
	if (r->tmpdir[0])
		rmdir(r->tmpdir);
}

/* ---- guarded memory accesses (task) ---- */

static __thread sigjmp_buf fault_env;
static __thread volatile sig_atomic_t fault_armed, fault_signo, fault_code;
static __thread void *altstack_mem;	/* ours, if we set one */

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!fault_armed) {
		/* A bug in the runner itself: die of it. */
		signal(sig, SIG_DFL);
		return;
	}
	fault_signo = sig;
	fault_code = si->si_code;
	siglongjmp(fault_env, 1);
}

static void install_fault_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Give this thread an alternate signal stack unless it has one: a
 * sanitizer sets its own per thread and unmaps it at thread exit.
 */
static void ensure_altstack(void)
{
	stack_t ss;

	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
		return;
	altstack_mem = malloc(ALTSTACK_SIZE);
	if (!altstack_mem)
		return;
	ss.ss_sp = altstack_mem;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) < 0) {
		free(altstack_mem);
		altstack_mem = NULL;
	}
}

static void drop_altstack(void)
{
	stack_t ss;

	if (!altstack_mem)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(altstack_mem);
	altstack_mem = NULL;
}

/* A write access that stores nothing: a locked read-modify-write of 0. */
static void touch_write(volatile unsigned char *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("lock orb $0, %0" : "+m"(*p) : : "memory");
#else
	__atomic_fetch_or(p, 0, __ATOMIC_SEQ_CST);
#endif
}

/* kind 'r' loads into *byte, 'w' stores *byte, 't' is touch w. */
static int guarded_access(char kind, unsigned long addr, unsigned char *byte)
{
	volatile unsigned char *p = (volatile unsigned char *)addr;

	if (sigsetjmp(fault_env, 1)) {
		fault_armed = 0;
		return -1;
	}
	fault_armed = 1;
	if (kind == 'r')
		*byte = *p;
	else if (kind == 'w')
		*p = *byte;
	else
		touch_write(p);
	fault_armed = 0;
	return 0;
}

static const char *fault_code_name(int signo, int code)
{
	if (signo == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR";
	if (signo == SIGSEGV && code == SEGV_ACCERR)
		return "SEGV_ACCERR";
	if (signo == SIGBUS && code == BUS_ADRERR)
		return "BUS_ADRERR";
	if (signo == SIGBUS && code == BUS_ADRALN)
		return "BUS_ADRALN";
	if (signo == SIGBUS && code == BUS_OBJERR)
		return "BUS_OBJERR";
	if (code == SI_KERNEL)	/* #GP: a non-canonical address */
		return "SI_KERNEL";
	return "UNKNOWN_CODE";
}

static void out_fault(int line)
{
	out_result(line, "%s %s", fault_signo == SIGBUS ? "SIGBUS" : "SIGSEGV",
		   fault_code_name(fault_signo, fault_code));
}

static int vma_executable(const struct runner *r, unsigned long addr);

/*
 * touch x, modelled on the x86 fault path (see the top comment): a real
 * read faults exactly as a non-present fetch does (MAPERR when unmapped,
 * stack growth below a growsdown VMA, ACCERR on ---, SIGBUS past EOF,
 * the page and its fault-around brought in otherwise; #GP for a
 * non-canonical address); once the page is present, a fetch from a VMA
 * without VM_EXEC hits the NX bit: SEGV_ACCERR.
 */
static void cmd_fetch(const struct runner *r, const struct trace_cmd *c,
		      int line)
{
	unsigned char byte;

	if (guarded_access('r', c->addr, &byte) < 0)
		out_fault(line);
	else if (!vma_executable(r, c->addr))
		out_result(line, "SIGSEGV SEGV_ACCERR");
	else
		out_result(line, "= ok");
}

static void cmd_access(const struct runner *r, const struct trace_cmd *c,
		       int line)
{
	unsigned char byte = (unsigned char)c->byte;
	char kind = c->op == T_READ ? 'r' : c->op == T_WRITE ? 'w' :
		    c->access == 'w' ? 't' : 'r';

	if (c->op == T_TOUCH && c->access == 'x')
		cmd_fetch(r, c, line);
	else if (guarded_access(kind, c->addr, &byte) < 0)
		out_fault(line);
	else if (c->op == T_READ)
		out_result(line, "= 0x%02x", byte);
	else
		out_result(line, "= ok");
}

/* ---- maps and smaps (task) ---- */

/* Read a whole /proc file into a malloc'ed NUL-terminated buffer. */
static char *slurp(const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *nbuf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len - 1 > 0)
			continue;
		nbuf = realloc(buf, cap * 2);
		if (!nbuf)
			goto fail;
		buf = nbuf;
		cap *= 2;
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Split off the next line of a NUL-terminated buffer; NULL at its end. */
static char *next_line(char **cursor)
{
	char *s = *cursor, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = s + strlen(s);
	}
	return s;
}

struct vma_line {
	unsigned long start, end, offset;
	char perms[5];
	char name[PATH_MAX];
};

/* Map a path in our temp directory back to the trace's file NAME. */
static void trace_name(const struct runner *r, const char *path, char *dst,
		       size_t size)
{
	size_t n = strlen(r->tmpdir);

	if (n && strncmp(path, r->tmpdir, n) == 0 && path[n] == '/')
		path += n + 1;
	snprintf(dst, size, "%s", path);
}

/* Parse "start-end perms offset dev inode   name"; 0 if it is one. */
static int parse_vma_line(const struct runner *r, const char *s,
			  struct vma_line *v)
{
	int pos = 0;

	if (sscanf(s, "%lx-%lx %4s %lx %*s %*u%n", &v->start, &v->end,
		   v->perms, &v->offset, &pos) != 4 || pos == 0)
		return -1;
	s += pos;
	while (*s == ' ' || *s == '\t')
		s++;
	trace_name(r, s, v->name, sizeof(v->name));
	return 0;
}

/* Does the VMA holding addr (in this task's mm) have 'x'? */
static int vma_executable(const struct runner *r, unsigned long addr)
{
	char *buf = slurp("/proc/thread-self/maps"), *cur = buf, *s;
	struct vma_line v;
	int x = 0;

	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(r, s, &v) == 0 && v.start <= addr &&
		    addr < v.end) {
			x = v.perms[2] == 'x';
			break;
		}
	}
	free(buf);
	return x;
}

static int in_window(const struct runner *r, const struct vma_line *v)
{
	unsigned long wend = r->win_start + r->win_len;

	if (wend < r->win_start)
		wend = ~0UL;
	return v->start < wend && v->end > r->win_start;
}

static void print_vma(const struct vma_line *v)
{
	char buf[PATH_MAX + 64];

	trace_format_maps_line(buf, sizeof(buf), v->start, v->end, v->perms,
			       v->offset, v->name);
	fprintf(out(), "  %s\n", buf);
}

/* Of the current task: /proc/self would be empty once the leader exits. */
static void cmd_maps(struct runner *r, int line)
{
	char *buf = slurp("/proc/thread-self/maps"), *cur = buf, *s;
	struct vma_line v;

	if (!buf) {
		out_error(r, line, "cannot read /proc/thread-self/maps", NULL);
		return;
	}
	out_result(line, "maps");
	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(r, s, &v) == 0 && in_window(r, &v))
			print_vma(&v);
	}
	free(buf);
}

/* The smaps fields the spec prints, in its order. */
static const char *const smaps_keys[] = {
	"Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean",
	"Private_Dirty", "Anonymous", "Swap", "Locked",
};
#define N_SMAPS_KEYS (sizeof(smaps_keys) / sizeof(smaps_keys[0]))

struct smaps_entry {
	unsigned long kb[N_SMAPS_KEYS];
};

/* "Key:   123 kB": remember the value if Key is one we print. */
static void smaps_field(struct smaps_entry *e, const char *s)
{
	size_t i, n;

	for (i = 0; i < N_SMAPS_KEYS; i++) {
		n = strlen(smaps_keys[i]);
		if (strncmp(s, smaps_keys[i], n) == 0 && s[n] == ':') {
			e->kb[i] = strtoul(s + n + 1, NULL, 10);
			return;
		}
	}
}

/* Print the fields, then VmFlags with single spaces and none trailing. */
static void smaps_finish(const struct smaps_entry *e, char *vmflags)
{
	char *tok, *save;
	size_t i;

	for (i = 0; i < N_SMAPS_KEYS; i++)
		fprintf(out(), "    %s: %lu kB\n", smaps_keys[i], e->kb[i]);
	fprintf(out(), "    VmFlags:");
	for (tok = strtok_r(vmflags, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		fprintf(out(), " %s", tok);
	fputc('\n', out());
}

static void cmd_smaps(struct runner *r, int line)
{
	char *buf = slurp("/proc/thread-self/smaps"), *cur = buf, *s;
	struct smaps_entry e;
	struct vma_line v;
	int showing = 0;

	if (!buf) {
		out_error(r, line, "cannot read /proc/thread-self/smaps", NULL);
		return;
	}
	out_result(line, "smaps");
	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(r, s, &v) == 0) {
			showing = in_window(r, &v);
			memset(&e, 0, sizeof(e));
			if (showing)
				print_vma(&v);
		} else if (showing && strncmp(s, "VmFlags:", 8) == 0) {
			smaps_finish(&e, s + 8);
			showing = 0;
		} else if (showing) {
			smaps_field(&e, s);
		}
	}
	free(buf);
}

/* ---- memory system calls (task) ---- */

/* fd: an open file of the file the mmap names, its own (see the top
 * comment), or -1. */
static void cmd_mmap(const struct trace_cmd *c, int line, int fd)
{
	unsigned long off = c->has_file ? c->offset : 0;

	out_addr(line, syscall(SYS_mmap, c->addr, c->len, c->prot, c->flags,
			       (long)fd, off));
}

static void cmd_mremap(const struct trace_cmd *c, int line)
{
	out_addr(line, syscall(SYS_mremap, c->addr, c->len, c->new_len,
			       c->flags, c->new_addr));
}

/*
 * MADV_PAGEOUT starts writing anonymous pages to swap and returns; a page
 * still under writeback stays in the swap cache, and a fault on it then
 * cannot free its slot (folio_free_swap() refuses a folio under
 * writeback), so whether the page comes back clean or dirty would depend
 * on the disk's speed.  Wait, a second at most, until no page of the host
 * is under writeback (/proc/meminfo's Writeback), as the simulator's
 * pageout writes synchronously.  Then sleep 2 ms, so that work the
 * kernel queued meanwhile runs before the next command.
 */
static void wait_writeback(void)
{
	char *buf, *w;
	long kb;
	int i;

	for (i = 0; i < 1000; i++) {
		buf = slurp("/proc/meminfo");
		w = buf ? strstr(buf, "\nWriteback:") : NULL;
		kb = w ? strtol(w + 11, NULL, 10) : 0;
		free(buf);
		if (kb <= 0)
			break;
		usleep(1000);
	}
	if (i == 1000)
		fprintf(stderr, "ref-run: warning: pages still under "
			"writeback\n");
	/* and let the swap device's reclaim work (queued when pageout
	 * filled it: swap_range_alloc()) run on this CPU */
	usleep(2000);
}

/* munmap, mprotect, madvise, mlock, munlock, msync */
static void cmd_range(const struct trace_cmd *c, int line)
{
	long ret = -1;

	switch (c->op) {
	case T_MUNMAP:
		ret = syscall(SYS_munmap, c->addr, c->len);
		break;
	case T_MPROTECT:
		ret = syscall(SYS_mprotect, c->addr, c->len, c->prot);
		break;
	case T_MADVISE:
		ret = syscall(SYS_madvise, c->addr, c->len, c->advice);
		if (c->advice == MADV_PAGEOUT)
			wait_writeback();
		break;
	case T_MLOCK:
		ret = syscall(SYS_mlock, c->addr, c->len);
		break;
	case T_MSYNC:
		ret = syscall(SYS_msync, c->addr, c->len, c->flags);
		break;
	default:
		ret = syscall(SYS_munlock, c->addr, c->len);
		break;
	}
	out_status(line, ret);
}

/* shmat and shmdt; the controller put the segment's id in c->id. */
static void cmd_shm(const struct trace_cmd *c, int line)
{
	void *p;

	if (c->op == T_SHMDT) {
		out_status(line, shmdt((void *)c->addr));
		return;
	}
	p = shmat((int)(long)c->id, (void *)c->addr, (int)c->flags);
	out_addr(line, p == (void *)-1 ? -1 : (long)p);
}

/* Run one command in this task; fd as for cmd_mmap. */
static void task_exec(struct runner *r, const struct trace_cmd *c, int line,
		      int fd)
{
	switch (c->op) {
	case T_MMAP:
		cmd_mmap(c, line, fd);
		break;
	case T_MREMAP:
		cmd_mremap(c, line);
		break;
	case T_MUNMAP: case T_MPROTECT: case T_MADVISE: case T_MLOCK:
	case T_MUNLOCK: case T_MSYNC:
		cmd_range(c, line);
		break;
	case T_READ: case T_WRITE: case T_TOUCH:
		cmd_access(r, c, line);
		break;
	case T_MAPS:
		cmd_maps(r, line);
		break;
	case T_SMAPS:
		cmd_smaps(r, line);
		break;
	case T_SHMAT: case T_SHMDT:
		cmd_shm(c, line);
		break;
	default:
		out_error(r, line, "unsupported: ", trace_op_name(c->op));
		break;
	}
}

/* ---- the channel between controller and task ---- */

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

static int send_all(int sock, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len) {
		n = send(sock, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* -1 on error or end of file. */
static int recv_all(int sock, void *p, size_t len)
{
	char *s = p;
	ssize_t n;

	while (len) {
		n = recv(sock, s, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send a request, with fd as SCM_RIGHTS unless it is -1. */
static int send_req(int sock, const struct task_req *q, int fd)
{
	struct iovec iov = { (void *)q, sizeof(*q) };
	struct msghdr m;
	union fd_cmsg u;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	return send_all(sock, (const char *)q + n, sizeof(*q) - (size_t)n);
}

/* Receive a request and the fd sent with it (-1 if none). */
static int recv_req(int sock, struct task_req *q, int *fd)
{
	struct iovec iov = { q, sizeof(*q) };
	struct msghdr m;
	union fd_cmsg u;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return recv_all(sock, (char *)q + n, sizeof(*q) - (size_t)n);
}

static int send_reply(int sock, long status, int errors, const char *text,
		      size_t len)
{
	struct task_reply p;

	memset(&p, 0, sizeof(p));
	p.status = status;
	p.errors = errors;
	p.len = len;
	if (send_all(sock, &p, sizeof(p)) < 0)
		return -1;
	return len ? send_all(sock, text, len) : 0;
}

/* The reply and its text (malloc'ed, NULL if none); -1 if the task died. */
static int recv_reply(int sock, struct task_reply *p, char **text)
{
	*text = NULL;
	if (recv_all(sock, p, sizeof(*p)) < 0)
		return -1;
	if (!p->len)
		return 0;
	*text = malloc(p->len);
	if (!*text || recv_all(sock, *text, p->len) < 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

/* ---- tasks ---- */

/*
 * The sockets of this process's tasks, so that a forked child can close
 * those it must not keep.  Only the thread running a command changes it,
 * and an exiting task leaves it before it answers, so no lock is needed.
 */
static int *proc_socks;
static size_t proc_nsocks;

static void register_sock(int sock)
{
	int *n = realloc(proc_socks, (proc_nsocks + 1) * sizeof(*n));

	if (!n)
		return;
	proc_socks = n;
	proc_socks[proc_nsocks++] = sock;
}

static void deregister_sock(int sock)
{
	size_t i;

	for (i = 0; i < proc_nsocks; i++) {
		if (proc_socks[i] == sock) {
			proc_socks[i] = proc_socks[--proc_nsocks];
			return;
		}
	}
}

/* In a new process: its one task talks on sock. */
static void new_process_socks(int sock)
{
	size_t i;

	for (i = 0; i < proc_nsocks; i++)
		close(proc_socks[i]);
	proc_nsocks = 0;
	register_sock(sock);
}

/* Any command but fork, thread, exit: run it and send back its output. */
static void task_command(int sock, const struct task_req *q, int fd)
{
	struct runner tr;
	char *text = NULL;
	size_t len = 0;

	memset(&tr, 0, sizeof(tr));
	memcpy(tr.tmpdir, the_runner.tmpdir, sizeof(tr.tmpdir));
	tr.win_start = q->win_start;
	tr.win_len = q->win_len;
	task_out = open_memstream(&text, &len);
	if (task_out) {
		task_exec(&tr, &q->c, q->line, fd);
		fclose(task_out);
		task_out = NULL;
	}
	if (fd >= 0)
		close(fd);
	send_reply(sock, text ? 0 : -ENOMEM, tr.errors, text, text ? len : 0);
	free(text);
}

/* fork: the child goes on as the task on newfd; returns the socket. */
static int task_fork(int sock, int newfd)
{
	pid_t pid;

	if (newfd < 0) {
		send_reply(sock, -EBADF, 0, NULL, 0);
		return sock;
	}
	pid = fork();
	if (pid == 0) {
		new_process_socks(newfd);
		return newfd;
	}
	close(newfd);
	send_reply(sock, pid < 0 ? -errno : pid, 0, NULL, 0);
	return sock;
}

static void task_loop(int sock) __attribute__((noreturn));

static void *thread_main(void *arg)
{
	task_loop((int)(intptr_t)arg);
}

/* thread: a detached pthread in this process, the task on newfd. */
static void task_thread(int sock, int newfd)
{
	pthread_attr_t attr;
	pthread_t t;
	int err = EBADF;

	if (newfd >= 0) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		register_sock(newfd);
		err = pthread_create(&t, &attr, thread_main,
				     (void *)(intptr_t)newfd);
		pthread_attr_destroy(&attr);
		if (err) {
			deregister_sock(newfd);
			close(newfd);
		}
	}
	send_reply(sock, -err, 0, NULL, 0);
}

/* exit: the last task takes its process with it, any other its thread. */
static void task_exit(int sock, const struct task_req *q)
{
	deregister_sock(sock);
	send_reply(sock, 0, 0, NULL, 0);
	if (q->last)
		_exit(0);
	close(sock);
	drop_altstack();
	pthread_exit(NULL);
}

/* ---- kernel limits (task) ---- */

/*
 * Take CAP_IPC_LOCK out of this thread's effective, permitted and
 * inheritable sets, so that mlock and MAP_LOCKED are held to
 * RLIMIT_MEMLOCK as for a process that is not root.  Capabilities are
 * per thread: task 1 does it before any other task exists, and every
 * thread or process a task makes afterwards inherits its sets.
 */
static long drop_ipc_lock(void)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned i = CAP_TO_INDEX(CAP_IPC_LOCK);
	__u32 m = CAP_TO_MASK(CAP_IPC_LOCK);

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[i].effective &= ~m;
	d[i].permitted &= ~m;
	d[i].inheritable &= ~m;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

/*
 * kernel rlimit_stack / rlimit_memlock VALUE, sent to task 1 when the
 * trace starts: soft and hard limit of its process, inherited by every
 * task forked later (threads share it).  A finite RLIMIT_MEMLOCK also
 * drops CAP_IPC_LOCK; `unlimited` keeps root's limits (setup_limits()).
 */
static long task_limit(const struct trace_cmd *c)
{
	struct rlimit rl;
	int res = c->param == KP_RLIMIT_STACK ? RLIMIT_STACK : RLIMIT_MEMLOCK;

	if (c->param == KP_RLIMIT_MEMLOCK && c->len == KP_UNLIMITED)
		return 0;
	rl.rlim_cur = c->len;
	rl.rlim_max = c->len;
	if (setrlimit(res, &rl) < 0)
		return -errno;
	return res == RLIMIT_MEMLOCK ? drop_ipc_lock() : 0;
}

/* A task: run commands until told to exit or the controller goes away. */
static void task_loop(int sock)
{
	struct task_req q;
	int fd;

	ensure_altstack();
	for (;;) {
		if (recv_req(sock, &q, &fd) < 0)
			_exit(0);
		if (q.c.op == T_FORK)
			sock = task_fork(sock, fd);
		else if (q.c.op == T_THREAD)
			task_thread(sock, fd);
		else if (q.c.op == T_EXIT)
			task_exit(sock, &q);
		else if (q.c.op == T_KERNEL)
			send_reply(sock, task_limit(&q.c), 0, NULL, 0);
		else
			task_command(sock, &q, fd);
	}
}

/* ---- the controller's tasks and processes ---- */

static struct ctl_task *find_task(struct runner *r, unsigned long id)
{
	size_t i;

	for (i = 0; i < r->ntasks; i++)
		if (r->tasks[i].id == id)
			return &r->tasks[i];
	return NULL;
}

static struct ctl_proc *find_proc(struct runner *r, pid_t pid)
{
	size_t i;

	for (i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static int add_proc(struct runner *r, pid_t pid)
{
	struct ctl_proc *p = realloc(r->procs, (r->nprocs + 1) * sizeof(*p));

	if (!p)
		return -1;
	r->procs = p;
	p = &r->procs[r->nprocs++];
	p->pid = pid;
	p->ntasks = 0;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0)
		fprintf(stderr, "ref-run: warning: pidfd_open: %s\n",
			strerror(errno));
	return 0;
}

static int add_task(struct runner *r, unsigned long id, pid_t pid, int sock)
{
	struct ctl_task *t = realloc(r->tasks, (r->ntasks + 1) * sizeof(*t));

	if (!t)
		return -1;
	r->tasks = t;
	t = &r->tasks[r->ntasks++];
	t->id = id;
	t->pid = pid;
	t->sock = sock;
	find_proc(r, pid)->ntasks++;
	return 0;
}

/* Reap every zombie we are parent of (our own or orphans given to us). */
static void reap_zombies(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Wait until the process has exited (its memory released), forget it. */
static void wait_proc(struct runner *r, struct ctl_proc *p)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };

	while (p->pidfd >= 0 && poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	if (p->pidfd >= 0)
		close(p->pidfd);
	reap_zombies();
	*p = r->procs[--r->nprocs];
}

/* The task is gone: close its socket; the process too if it was last. */
static void drop_task(struct runner *r, struct ctl_task *t)
{
	struct ctl_proc *p = find_proc(r, t->pid);

	close(t->sock);
	if (r->cur == t->id)
		r->cur = 0;
	*t = r->tasks[--r->ntasks];
	if (p && --p->ntasks == 0)
		wait_proc(r, p);
}

/* Task 1: a child process running task_loop(). */
static int start_task1(struct runner *r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		new_process_socks(sv[1]);
		task_loop(sv[1]);
	}
	close(sv[1]);
	if (pid < 0 || add_proc(r, pid) < 0 || add_task(r, 1, pid, sv[0]) < 0) {
		close(sv[0]);
		return -1;
	}
	r->next_id = 2;
	r->cur = 1;
	return 0;
}

/* End of the run: every task sees end of file and exits; wait for all. */
static void stop_tasks(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->ntasks; i++)
		close(r->tasks[i].sock);
	r->ntasks = 0;
	while (r->nprocs)
		wait_proc(r, &r->procs[0]);
	free(r->tasks);
	free(r->procs);
	r->tasks = NULL;
	r->procs = NULL;
}

/* ---- the controller's commands ---- */

/* Send c to the current task and get its answer; -1 if the task died. */
static int ask_task(struct runner *r, struct ctl_task *t,
		    const struct trace_cmd *c, int line, int fd, int last,
		    struct task_reply *p, char **text)
{
	struct task_req q;

	*text = NULL;
	memset(&q, 0, sizeof(q));
	q.c = *c;
	q.line = line;
	q.last = last;
	q.win_start = r->win_start;
	q.win_len = r->win_len;
	if (send_req(t->sock, &q, fd) < 0 || recv_reply(t->sock, p, text) < 0) {
		out_error(r, line, "the task died", NULL);
		drop_task(r, t);
		return -1;
	}
	return 0;
}

/*
 * A new open file (struct file) of the trace's file NAME for one mmap
 * line; -1 with errno set if NAME was never made (the mmap then fails
 * with EBADF, as with no file) or cannot be opened.
 */
static int open_for_mmap(struct runner *r, const char *name)
{
	char path[2 * PATH_MAX];

	if (!find_file(r, name)) {
		errno = EBADF;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", r->tmpdir, name);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* A command for the task: print what it printed. */
static void ctl_forward(struct runner *r, const struct trace_cmd *c, int line)
{
	int fd = -1;
	struct task_reply p;
	char *text;
	int died;

	if (c->op == T_MMAP && c->has_file) {
		fd = open_for_mmap(r, c->name);
		if (fd < 0 && errno != EBADF) {
			out_error(r, line, "open: ", strerror(errno));
			return;
		}
	}
	died = ask_task(r, find_task(r, r->cur), c, line, fd, 0, &p, &text);
	if (fd >= 0)
		close(fd);
	if (died < 0)
		return;
	if (p.status < 0) {
		errno = (int)-p.status;
		out_error(r, line, "task: ", errno_name(errno));
	}
	if (text)
		fwrite(text, 1, p.len, stdout);
	r->errors += p.errors;
	free(text);
}

/* ---- System V shared memory (controller) ---- */

/* The id of segment NAME; -1 (which the kernel refuses with EINVAL) if
 * the trace never made it. */
static int shm_id(const struct runner *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nshms; i++)
		if (strcmp(r->shms[i].name, name) == 0)
			return r->shms[i].id;
	return -1;
}

/* shmget NAME SIZE: a new segment in the trace's IPC namespace. */
static void ctl_shmget(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ref_shm *n;
	char msg[TRACE_NAME_MAX + 32];
	size_t i;
	int id;

	for (i = 0; i < r->nshms; i++) {
		if (strcmp(r->shms[i].name, c->name) == 0) {
			snprintf(msg, sizeof(msg), "segment %s already used",
				 c->name);
			out_error(r, line, msg, NULL);
			return;
		}
	}
	id = shmget(IPC_PRIVATE, c->len, IPC_CREAT | 0600);
	if (id < 0) {
		out_status(line, -1);
		return;
	}
	n = realloc(r->shms, (r->nshms + 1) * sizeof(*n));
	if (!n) {
		shmctl(id, IPC_RMID, NULL);
		out_error(r, line, "out of memory", NULL);
		return;
	}
	r->shms = n;
	snprintf(n[r->nshms].name, sizeof(n[r->nshms].name), "%s", c->name);
	n[r->nshms++].id = id;
	out_status(line, 0);
}

/* shmrm NAME: shmctl(IPC_RMID); the name stays used. */
static void ctl_shmrm(struct runner *r, const struct trace_cmd *c, int line)
{
	out_status(line, shmctl(shm_id(r, c->name), IPC_RMID, NULL));
}

/* shmat NAME ...: the task attaches by id (sent in the command's id). */
static void ctl_shmat(struct runner *r, const struct trace_cmd *c, int line)
{
	struct trace_cmd c2 = *c;

	c2.id = (unsigned long)(long)shm_id(r, c->name);
	ctl_forward(r, &c2, line);
}

/* fork and thread: the new task gets the next ID. */
static void ctl_spawn(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ctl_task *t = find_task(r, r->cur);
	pid_t pid = t->pid;
	struct task_reply p;
	char *text;
	int sv[2], died;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		out_error(r, line, "socketpair: ", strerror(errno));
		return;
	}
	died = ask_task(r, t, c, line, sv[1], 0, &p, &text) < 0;
	close(sv[1]);
	free(text);
	if (died || p.status < 0) {
		close(sv[0]);
		if (!died)
			out_result(line, "= -%s", errno_name((int)-p.status));
		return;
	}
	if (c->op == T_FORK)
		pid = (pid_t)p.status;
	if ((c->op == T_FORK && add_proc(r, pid) < 0) ||
	    add_task(r, r->next_id, pid, sv[0]) < 0) {
		close(sv[0]);
		out_error(r, line, "out of memory", NULL);
		return;
	}
	out_result(line, "= %lu", r->next_id++);
}

static void ctl_exit(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ctl_task *t = find_task(r, r->cur);
	struct ctl_proc *p = find_proc(r, t->pid);
	struct task_reply rep;
	char *text;

	if (ask_task(r, t, c, line, -1, p->ntasks == 1, &rep, &text) < 0)
		return;
	free(text);
	drop_task(r, t);
	r->cur = 0;
	out_status(line, 0);
}

static void ctl_switch(struct runner *r, const struct trace_cmd *c, int line)
{
	char msg[64];

	if (!find_task(r, c->id)) {
		snprintf(msg, sizeof(msg), "no task %lu", c->id);
		out_error(r, line, msg, NULL);
		return;
	}
	r->cur = c->id;
	out_status(line, 0);
}

/* ---- kernel parameters (controller) ---- */

/* Is capability cap in this process's effective set? */
static int have_cap(int cap)
{
	char *status = slurp("/proc/self/status"), *s;
	unsigned long long eff = 0;

	s = status ? strstr(status, "\nCapEff:") : NULL;
	if (s)
		eff = strtoull(s + 9, NULL, 16);
	free(status);
	return (eff >> cap) & 1;
}

/* The number a /proc or /sys file starts with; -1 if it cannot be read. */
static long read_num_file(const char *path)
{
	char *buf = slurp(path), *end;
	long v = -1;

	if (buf) {
		v = strtol(buf, &end, 10);
		if (end == buf || v < 0)
			v = -1;
	}
	free(buf);
	return v;
}

/* The PFN /proc/self/pagemap gives for the page at addr; 0 if none shown. */
static unsigned long long pagemap_pfn(unsigned long addr)
{
	unsigned long long e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)(addr / 4096 * sizeof(e))) !=
	    (ssize_t)sizeof(e))
		e = 0;
	close(fd);
	if (!(e >> 63))			/* not present */
		return 0;
	return e & ((1ULL << 55) - 1);	/* 0 without CAP_SYS_ADMIN */
}

/* The Rss (kB) smaps shows for the VMA [start, end); -1 if no such VMA. */
static long smaps_rss(const struct runner *r, unsigned long start,
		      unsigned long end)
{
	char *buf = slurp("/proc/self/smaps"), *cur = buf, *s;
	struct vma_line v;
	long rss = -1;
	int mine = 0;

	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(r, s, &v) == 0)
			mine = v.start == start && v.end == end;
		else if (mine && strncmp(s, "Rss:", 4) == 0)
			rss = strtol(s + 4, NULL, 10);
	}
	free(buf);
	return rss;
}

/*
 * Does this host's kernel map the shared zero page on an anonymous read
 * fault (1), or allocate a page as mm_forbids_zeropage() makes it (0)?
 * -1 if it cannot tell.  Two private anonymous pages are read: the zero
 * page gives both the same PFN in /proc/self/pagemap; where the PFNs are
 * hidden (no CAP_SYS_ADMIN), smaps' Rss tells, as the zero page is no
 * normal page and is not counted.  The kernel places the probe top-down
 * from mmap_base, far above any window.
 */
static int probe_zero_page(const struct runner *r)
{
	const unsigned long pg = 4096;
	volatile unsigned char *p;
	unsigned long long pfn0, pfn1;
	long rss;
	int ret = -1;

	p = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	(void)p[0];
	(void)p[pg];
	pfn0 = pagemap_pfn((unsigned long)p);
	pfn1 = pagemap_pfn((unsigned long)p + pg);
	if (pfn0 && pfn1) {
		ret = pfn0 == pfn1;
	} else {
		rss = smaps_rss(r, (unsigned long)p, (unsigned long)p + 2 * pg);
		if (rss >= 0)
			ret = rss == 0;
	}
	munmap((void *)p, 2 * pg);
	return ret;
}

/* Is a swap area active on this host (a line after /proc/swaps' title)? */
static int host_swap_active(void)
{
	char *buf = slurp("/proc/swaps"), *cur = buf, *s;
	int n = 0;

	while ((s = next_line(&cur)) != NULL)
		if (*s)
			n++;
	free(buf);
	return n > 1;
}

/* Run /sbin/mkswap on path, quietly; 0 or an errno. */
static int run_mkswap(const char *path)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) < 0)
		return errno;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/sbin/mkswap", "mkswap", path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return ENOENT;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EIO;
}

/*
 * Make and enable a swap file of size bytes; 0, or an errno with the step
 * that failed in *step.  The file is removed again on failure.
 */
static int swap_make(struct runner *r, unsigned long size, const char **step)
{
	int fd, err;

	*step = "create";
	if (!r->tmpdir[0])
		return ENOENT;
	snprintf(swap_path, sizeof(swap_path), "%s/swapfile", r->tmpdir);
	fd = open(swap_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		swap_path[0] = '\0';
		return err;
	}
	*step = "fallocate";
	err = fallocate(fd, 0, 0, (off_t)size) < 0 ? errno : 0;
	if (err == EOPNOTSUPP) {	/* as dd would: write the zeros */
		static const char zeros[4096];
		unsigned long off;

		*step = "write";
		for (err = 0, off = 0; off < size && err == 0; off += 4096)
			if (pwrite(fd, zeros, size - off < 4096 ? size - off :
			    4096, (off_t)off) < 0)
				err = errno;
		if (err == 0 && fsync(fd) < 0)
			err = errno;
	}
	if (err == 0 && fchmod(fd, 0600) < 0) {
		*step = "chmod";
		err = errno;
	}
	close(fd);
	if (err == 0) {
		*step = "mkswap";
		err = run_mkswap(swap_path);
	}
	if (err == 0) {
		*step = "swapon";
		if (syscall(SYS_swapon, swap_path, 0) < 0)
			err = errno;
		else
			swap_on = 1;
		if (err == 0)
			page_cluster_off();
	}
	if (err != 0)
		swap_remove();
	return err;
}

/*
 * With the ref-run lock held exclusively no other run has swap on, so an
 * active swap file of a ref-run temp directory is left from a run killed
 * before its cleanup: swap it off and remove it, saying so.
 */
static void swap_reap_stale(void)
{
	char *buf = slurp("/proc/swaps"), *cur = buf, *s, *sp;

	while ((s = next_line(&cur)) != NULL) {
		if ((sp = strchr(s, ' ')) != NULL)
			*sp = '\0';
		if (!strstr(s, "/aspace-ref.") ||
		    strcmp(s + strlen(s) - 9, "/swapfile") != 0)
			continue;
		if (syscall(SYS_swapoff, s) == 0 && unlink(s) == 0)
			fprintf(stderr, "ref-run: removed %s, left by a run "
				"killed before its cleanup\n", s);
	}
	free(buf);
}

/*
 * kernel swap SIZE: 0 needs no active swap on the host; a SIZE makes our
 * swap file (replacing one an earlier line made), which must then be the
 * only swap area.
 */
static void cmd_kernel_swap(struct runner *r, unsigned long size, int line)
{
	const char *step;
	char why[96];
	int err;

	swap_remove();
	if (size > 0) {
		ref_lock(LOCK_EX);
		swap_reap_stale();
	}
	if (host_swap_active()) {
		out_error(r, line, "host kernel differs: ", "swap");
		return;
	}
	if (size == 0) {
		out_status(line, 0);
		return;
	}
	if ((err = swap_make(r, size, &step)) != 0) {
		snprintf(why, sizeof(why), "kernel swap (%s: %s)", step,
			 strerrorname_np(err) ? strerrorname_np(err) : "?");
		out_error(r, line, "unsupported: ", why);
		fprintf(stderr, "ref-run: line %d: swap file %s: %s: %s\n",
			line, r->tmpdir, step, strerror(err));
		return;
	}
	out_status(line, 0);
}

/*
 * kernel NAME VALUE (trace-v2): only before the first command that is not
 * window, file or kernel, as in the simulator.  The rlimits are kept and
 * applied in task 1 when the trace starts (apply_limits()), so the last
 * line for a limit wins; a value above the host's hard limit, which the
 * runner cannot raise without CAP_SYS_RESOURCE, is an error line.  The
 * rest are the host's and only checked: a differing value prints
 * `! error: host kernel differs: NAME`.  Swap is made (cmd_kernel_swap()).
 */
static void cmd_kernel(struct runner *r, const struct trace_cmd *c, int line)
{
	const char *name = kparam_name(c->param);
	struct rlimit rl;
	long host;

	if (r->started) {
		out_error(r, line, "kernel parameters are fixed once the trace "
			  "has started", NULL);
		return;
	}
	switch (c->param) {
	case KP_ZERO_PAGE:
		if (r->host_zero_page < 0)
			r->host_zero_page = probe_zero_page(r);
		if (r->host_zero_page < 0) {
			out_error(r, line, "cannot tell whether the host maps "
				  "the zero page", NULL);
			return;
		}
		host = r->host_zero_page;
		break;
	case KP_SWAP:
		cmd_kernel_swap(r, c->len, line);
		return;
	case KP_FAULT_AROUND_BYTES:
		/*
		 * Without debugfs mounted the knob cannot be read; nothing
		 * else changes it, so the host has the kernel's default,
		 * 65536 (fault_around_pages = 16 in mm/memory.c).
		 */
		host = read_num_file("/sys/kernel/debug/fault_around_bytes");
		if (host < 0)
			host = 65536;
		break;
	case KP_MAX_MAP_COUNT:
		host = read_num_file("/proc/sys/vm/max_map_count");
		break;
	case KP_RLIMIT_STACK:
	case KP_RLIMIT_MEMLOCK:
		if (c->len != KP_UNLIMITED &&
		    getrlimit(c->param == KP_RLIMIT_STACK ? RLIMIT_STACK :
			      RLIMIT_MEMLOCK, &rl) == 0 &&
		    rl.rlim_max != RLIM_INFINITY && c->len > rl.rlim_max &&
		    !have_cap(CAP_SYS_RESOURCE)) {
			out_error(r, line, "unsupported: kernel ", name);
			fprintf(stderr, "ref-run: line %d: %s above the hard "
				"limit, and no CAP_SYS_RESOURCE\n", line, name);
			return;
		}
		r->kp_set[c->param] = 1;
		r->kp_val[c->param] = c->len;
		out_status(line, 0);
		return;
	default:
		out_error(r, line, "unsupported: kernel ", name);
		return;
	}
	if (host != (long)c->len)
		out_error(r, line, "host kernel differs: ", name);
	else
		out_status(line, 0);
}

/* The trace starts: task 1, the only task yet, takes the rlimits given. */
static void apply_limits(struct runner *r, int line)
{
	static const enum kparam lim[] = { KP_RLIMIT_STACK, KP_RLIMIT_MEMLOCK };
	struct ctl_task *t;
	struct trace_cmd c;
	struct task_reply p;
	char *text, msg[96];
	size_t i;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		t = find_task(r, 1);
		if (!r->kp_set[lim[i]] || !t)
			continue;
		memset(&c, 0, sizeof(c));
		c.op = T_KERNEL;
		c.param = lim[i];
		c.len = r->kp_val[lim[i]];
		if (ask_task(r, t, &c, line, -1, 0, &p, &text) < 0)
			continue;
		free(text);
		if (p.status < 0) {
			snprintf(msg, sizeof(msg), "cannot apply kernel %s: %s",
				 kparam_name(lim[i]),
				 errno_name((int)-p.status));
			out_error(r, line, msg, NULL);
		}
	}
}

/* The controller: run one parsed command. */
static void ctl_command(struct runner *r, const struct trace_cmd *c, int line)
{
	if (c->op == T_KERNEL) {
		cmd_kernel(r, c, line);
		return;
	}
	if (c->op != T_WINDOW && c->op != T_FILE && !r->started) {
		r->started = 1;
		apply_limits(r, line);
	}
	if (c->op != T_SWITCH && !r->cur) {
		out_error(r, line, "no current task", NULL);
		return;
	}
	switch (c->op) {
	case T_WINDOW:
		r->win_start = c->addr;
		r->win_len = c->len;
		out_status(line, 0);
		break;
	case T_FILE:
		cmd_file(r, c, line);
		break;
	case T_SWITCH:
		ctl_switch(r, c, line);
		break;
	case T_FORK: case T_THREAD:
		ctl_spawn(r, c, line);
		break;
	case T_EXIT:
		ctl_exit(r, c, line);
		break;
	case T_BRK:
		out_error(r, line, "unsupported: ", trace_op_name(c->op));
		break;
	case T_SHMGET:
		ctl_shmget(r, c, line);
		break;
	case T_SHMRM:
		ctl_shmrm(r, c, line);
		break;
	case T_SHMAT:
		ctl_shmat(r, c, line);
		break;
	default:
		ctl_forward(r, c, line);
		break;
	}
}

static void run_line(struct runner *r, const char *text, size_t len,
		     int line)
{
	struct trace_cmd c;
	char err[256];
	int ret = trace_parse_line(text, len, &c, err, sizeof(err));

	if (ret < 0)
		out_error(r, line, err, NULL);
	else if (ret > 0)
		ctl_command(r, &c, line);
}

/* Limits of a root process: RLIMIT_MEMLOCK unlimited, RLIMIT_STACK 8 MiB. */
static void setup_limits(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0 &&
	    getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		/* no CAP_SYS_RESOURCE: go as far as the hard limit */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
		if (rl.rlim_max != RLIM_INFINITY && !have_cap(CAP_IPC_LOCK))
			fprintf(stderr, "ref-run: warning: RLIMIT_MEMLOCK "
				"is limited and CAP_IPC_LOCK is missing\n");
	}
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != STACK_LIMIT &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= STACK_LIMIT)) {
		rl.rlim_cur = STACK_LIMIT;
		setrlimit(RLIMIT_STACK, &rl);
	}
}

/* Our own memory must not show in the default window: say so if it does. */
static void check_window_clean(void)
{
	struct runner probe;
	char *buf = slurp("/proc/self/maps"), *cur = buf, *s;
	struct vma_line v;

	memset(&probe, 0, sizeof(probe));
	probe.win_start = DEFAULT_WIN_START;
	probe.win_len = DEFAULT_WIN_LEN;
	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(&probe, s, &v) == 0 && in_window(&probe, &v))
			fprintf(stderr, "ref-run: warning: own mapping in the "
				"window: %s\n", s);
	}
	free(buf);
}

/*
 * Every task on one CPU, the one the runner starts on: a page a task
 * faulted in waits in that CPU's LRU batch (folio_batch) until it is
 * drained, and MADV_PAGEOUT from a task on another CPU may then find it
 * not yet on the LRU and keep it.  On one CPU the batch is drained
 * before the next command runs, as the simulator assumes.
 */
static void pin_to_one_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu >= 0 ? cpu : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("ref-run: sched_setaffinity");
}

/* Everything here is inherited by the tasks. */
static void setup_process(void)
{
	pin_to_one_cpu();
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		perror("ref-run: PR_SET_THP_DISABLE");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		perror("ref-run: PR_SET_CHILD_SUBREAPER");
	setup_limits();
	install_fault_handler();
	check_window_clean();
}

/* Run every line of the trace; line numbers are 1-based. */
static void run_trace(struct runner *r, FILE *in)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int line = 0;

	while ((n = getline(&text, &cap, in)) >= 0) {
		line++;
		if (n > 0 && text[n - 1] == '\n')
			n--;
		run_line(r, text, (size_t)n, line);
	}
	free(text);
}

int main(int argc, char **argv)
{
	struct runner *r = &the_runner;
	FILE *in;

	if (argc != 2) {
		fprintf(stderr, "usage: ref-run TRACEFILE\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "ref-run: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	setup_process();
	ref_lock(LOCK_SH);
	r->win_start = DEFAULT_WIN_START;
	r->win_len = DEFAULT_WIN_LEN;
	r->host_zero_page = -1;
	controller_pid = getpid();
	if (make_tmpdir(r) < 0)
		fprintf(stderr, "ref-run: warning: no temp directory: %s\n",
			strerror(errno));
	/* The trace's segments live in an IPC namespace of its own (root);
	 * elsewhere cleanup() removes them. */
	r->own_ipc_ns = unshare(CLONE_NEWIPC) == 0;
	atexit(cleanup);
	signal(SIGINT, swap_signal);
	signal(SIGTERM, swap_signal);
	signal(SIGHUP, swap_signal);
	signal(SIGQUIT, swap_signal);
	signal(SIGPIPE, swap_signal);	/* a reader that stopped early */
	if (start_task1(r) < 0) {
		fprintf(stderr, "ref-run: cannot start task 1: %s\n",
			strerror(errno));
		fclose(in);
		return 2;
	}
	run_trace(r, in);
	fclose(in);
	stop_tasks(r);
	if (fflush(stdout) != 0)
		return 2;
	return r->errors ? 1 : 0;
}

/*
 * ref-run.c: the Linux reference runner.  `ref-run TRACEFILE` executes a
 * trace-v1 trace (/work/shared/spec/trace-v1.md) against this machine's
 * real kernel with raw system calls and prints the canonical output, so
 * that the simulator's output for the same trace can be checked line by
 * line.  It shares only the parser (lib/trace_parse.c) with the simulator.
 *
 * Structure: main() reads lines, the controller (run_line) handles parse
 * errors and commands that concern the whole run (window, file), and
 * task_exec() runs one parsed command in the current task.  Today there is
 * one task, this process; fork/thread/switch/exit are reported as
 * unsupported.  To add them, task_exec() can run in a child process or
 * thread that receives commands over a pipe and writes its output back.
 *
 * Nothing this program allocates may land in the default window
 * [0x200000000000, 0x300000000000): the kernel places our own mappings
 * top-down from mmap_base (near 0x7f...), far above it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "trace_parse.h"

#define DEFAULT_WIN_START	0x200000000000UL
#define DEFAULT_WIN_LEN		0x100000000000UL
#define STACK_LIMIT		(8UL << 20)

struct ref_file {
	char name[TRACE_NAME_MAX];
	int fd;
};

struct runner {
	unsigned long win_start, win_len;
	char tmpdir[PATH_MAX];		/* "" until the first file command */
	struct ref_file *files;
	size_t nfiles;
	int errors;			/* "! error" lines printed */
};

/* The runner is global only so that the atexit() cleanup can reach it. */
static struct runner the_runner;

/* ---- output ---- */

static void out_result(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_result(int line, const char *fmt, ...)
{
	va_list ap;

	printf("%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void out_error(struct runner *r, int line, const char *msg,
		      const char *arg)
{
	printf("%d: ! error: %s%s\n", line, msg, arg ? arg : "");
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

/* ---- files ---- */

static struct ref_file *find_file(struct runner *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

static int make_tmpdir(struct runner *r)
{
	const char *base = getenv("ASPACE_REF_TMPDIR");
	char canon[PATH_MAX];

	if (r->tmpdir[0])
		return 0;
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

	if (make_tmpdir(r) < 0)
		return NULL;
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

static void cleanup(void)
{
	struct runner *r = &the_runner;
	char path[2 * PATH_MAX];
	size_t i;

	for (i = 0; i < r->nfiles; i++) {
		close(r->files[i].fd);
		snprintf(path, sizeof(path), "%s/%s", r->tmpdir,
			 r->files[i].name);
		unlink(path);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
	if (r->tmpdir[0])
		rmdir(r->tmpdir);
}

/* ---- guarded memory accesses ---- */

static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_armed, fault_signo, fault_code;

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
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
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

static void cmd_access(const struct trace_cmd *c, int line)
{
	unsigned char byte = (unsigned char)c->byte;
	char kind = c->op == T_READ ? 'r' : c->op == T_WRITE ? 'w' :
		    c->access == 'w' ? 't' : 'r';

	if (guarded_access(kind, c->addr, &byte) < 0)
		out_fault(line);
	else if (c->op == T_READ)
		out_result(line, "= 0x%02x", byte);
	else
		out_result(line, "= ok");
}

/* ---- maps and smaps ---- */

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
static void trace_name(const struct runner *r, const char *path, char *out,
		       size_t size)
{
	size_t n = strlen(r->tmpdir);

	if (n && strncmp(path, r->tmpdir, n) == 0 && path[n] == '/')
		path += n + 1;
	snprintf(out, size, "%s", path);
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
	printf("  %s\n", buf);
}

static void cmd_maps(struct runner *r, int line)
{
	char *buf = slurp("/proc/self/maps"), *cur = buf, *s;
	struct vma_line v;

	if (!buf) {
		out_error(r, line, "cannot read /proc/self/maps", NULL);
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
		printf("    %s: %lu kB\n", smaps_keys[i], e->kb[i]);
	printf("    VmFlags:");
	for (tok = strtok_r(vmflags, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		printf(" %s", tok);
	putchar('\n');
}

static void cmd_smaps(struct runner *r, int line)
{
	char *buf = slurp("/proc/self/smaps"), *cur = buf, *s;
	struct smaps_entry e;
	struct vma_line v;
	int showing = 0;

	if (!buf) {
		out_error(r, line, "cannot read /proc/self/smaps", NULL);
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

/* ---- memory system calls ---- */

static void cmd_mmap(struct runner *r, const struct trace_cmd *c, int line)
{
	const struct ref_file *f = c->has_file ? find_file(r, c->name) : NULL;
	long fd = f ? f->fd : -1;
	unsigned long off = c->has_file ? c->offset : 0;

	out_addr(line, syscall(SYS_mmap, c->addr, c->len, c->prot, c->flags,
			       fd, off));
}

static void cmd_mremap(const struct trace_cmd *c, int line)
{
	out_addr(line, syscall(SYS_mremap, c->addr, c->len, c->new_len,
			       c->flags, c->new_addr));
}

/* munmap, mprotect, madvise, mlock, munlock */
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
		break;
	case T_MLOCK:
		ret = syscall(SYS_mlock, c->addr, c->len);
		break;
	default:
		ret = syscall(SYS_munlock, c->addr, c->len);
		break;
	}
	out_status(line, ret);
}

/* ---- dispatch ---- */

/* Run one command in the current task (today: this process). */
static void task_exec(struct runner *r, const struct trace_cmd *c, int line)
{
	switch (c->op) {
	case T_MMAP:
		cmd_mmap(r, c, line);
		break;
	case T_MREMAP:
		cmd_mremap(c, line);
		break;
	case T_MUNMAP: case T_MPROTECT: case T_MADVISE: case T_MLOCK:
	case T_MUNLOCK:
		cmd_range(c, line);
		break;
	case T_READ: case T_WRITE: case T_TOUCH:
		cmd_access(c, line);
		break;
	case T_MAPS:
		cmd_maps(r, line);
		break;
	case T_SMAPS:
		cmd_smaps(r, line);
		break;
	default:
		out_error(r, line, "unsupported: ", trace_op_name(c->op));
		break;
	}
}

static int unsupported(const struct trace_cmd *c)
{
	switch (c->op) {
	case T_BRK: case T_FORK: case T_THREAD: case T_SWITCH: case T_EXIT:
		return 1;
	case T_TOUCH:
		return c->access == 'x';
	default:
		return 0;
	}
}

/* The controller: commands about the run itself, then the task's. */
static void run_line(struct runner *r, const char *text, size_t len,
		     int line)
{
	struct trace_cmd c;
	char err[256];
	int ret = trace_parse_line(text, len, &c, err, sizeof(err));

	if (ret < 0) {
		out_error(r, line, err, NULL);
	} else if (ret == 0) {
		return;
	} else if (c.op == T_WINDOW) {
		r->win_start = c.addr;
		r->win_len = c.len;
		out_status(line, 0);
	} else if (c.op == T_FILE) {
		cmd_file(r, &c, line);
	} else if (unsupported(&c)) {
		out_error(r, line, "unsupported: ",
			  c.op == T_TOUCH ? "touch x" : trace_op_name(c.op));
	} else {
		task_exec(r, &c, line);
	}
}

/* CAP_IPC_LOCK lifts RLIMIT_MEMLOCK for mlock just as "unlimited" does. */
static int have_ipc_lock(void)
{
	char *status = slurp("/proc/self/status"), *cap;
	unsigned long long eff = 0;

	cap = status ? strstr(status, "\nCapEff:") : NULL;
	if (cap)
		eff = strtoull(cap + 9, NULL, 16);
	free(status);
	return (eff >> 14) & 1;	/* CAP_IPC_LOCK is capability 14 */
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
		if (rl.rlim_max != RLIM_INFINITY && !have_ipc_lock())
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
	struct runner probe = { DEFAULT_WIN_START, DEFAULT_WIN_LEN, "", NULL,
				0, 0 };
	char *buf = slurp("/proc/self/maps"), *cur = buf, *s;
	struct vma_line v;

	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(&probe, s, &v) == 0 && in_window(&probe, &v))
			fprintf(stderr, "ref-run: warning: own mapping in the "
				"window: %s\n", s);
	}
	free(buf);
}

static void setup_process(void)
{
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		perror("ref-run: PR_SET_THP_DISABLE");
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
	r->win_start = DEFAULT_WIN_START;
	r->win_len = DEFAULT_WIN_LEN;
	atexit(cleanup);
	run_trace(r, in);
	fclose(in);
	if (fflush(stdout) != 0)
		return 2;
	return r->errors ? 1 : 0;
}

/*
 * ref-task.c: the reference runner's task side: the output lines, guarded
 * memory accesses (read, write, touch, on SIGSEGV/SIGBUS), maps and smaps
 * read from /proc/self and shown in the trace's terms, and the memory
 * system calls themselves (task_exec()).
 */
#include "ref-run.h"

/* ---- output ---- */

FILE *out(void)
{
	return task_out ? task_out : stdout;
}

void out_result(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(out(), "%d: ", line);
	va_start(ap, fmt);
	vfprintf(out(), fmt, ap);
	va_end(ap);
	fputc('\n', out());
}

void out_error(struct runner *r, int line, const char *msg,
	       const char *arg)
{
	fprintf(out(), "%d: ! error: %s%s\n", line, msg, arg ? arg : "");
	r->errors++;
}

/* `= 0` for 0, `= -ENAME` for -1 with errno set. */
void out_status(int line, long ret)
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

void install_fault_handler(void)
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
void ensure_altstack(void)
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

void drop_altstack(void)
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
char *slurp(const char *path)
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
char *next_line(char **cursor)
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
int parse_vma_line(const struct runner *r, const char *s,
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

int in_window(const struct runner *r, const struct vma_line *v)
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
void task_exec(struct runner *r, const struct trace_cmd *c, int line,
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


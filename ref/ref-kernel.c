/*
 * ref-kernel.c: the reference runner's files (a temp directory, one fd
 * per file for `file`), the swap file and the cleanup that removes it on
 * every exit, and the `kernel NAME VALUE` lines: limits applied, the
 * others checked against the host (zero page, max_map_count,
 * fault_around_bytes, swap).
 */
#include "ref-run.h"

/* ---- files (controller) ---- */

struct ref_file *find_file(struct runner *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

/* Made once at start, so that every task knows the name to strip. */
int make_tmpdir(struct runner *r)
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

void cmd_file(struct runner *r, const struct trace_cmd *c, int line)
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

void ref_lock(int op)
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
void swap_signal(int sig)
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
void cleanup(void)
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

/* ---- kernel parameters (controller) ---- */

/* Is capability cap in this process's effective set? */
int have_cap(int cap)
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
void cmd_kernel(struct runner *r, const struct trace_cmd *c, int line)
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
	case KP_SHARE_TABLES:	/* the simulator's choice: Linux never shares */
		out_status(line, 0);
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
void apply_limits(struct runner *r, int line)
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

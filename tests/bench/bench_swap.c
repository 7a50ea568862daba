/*
 * bench_swap.c: simulated pageout and swap-in beside the host kernel's,
 * in one process and one run, as ratios (simulator / host): 16 MiB of
 * private anonymous memory written, then MADV_PAGEOUT over it (ns per
 * page written to swap), then a read of each page (ns per swap-in, a
 * major fault where the page is read from the slot).
 *
 * The host needs swap: a swap file made under /var/tmp (fallocate,
 * mkswap, swapon; root), swapped off and removed at exit, on failure and
 * on SIGINT, SIGTERM, SIGHUP and SIGQUIT too.  Swap is machine-wide, so
 * while it is on the host-wide reference lock is held exclusively
 * (/var/tmp/aspace-ref-run.lock, or $ASPACE_REF_RUN_LOCK, as
 * ref/ref-kernel.c takes it).  Without swap the host side is
 * skipped with a "SKIP:" line giving the reason, the simulator's figures
 * are printed all the same, and the exit status is 77.
 *
 * What the host counts is printed beside its figures, from /proc/vmstat:
 * pswpout and pswpin, pages written and read.  Linux writes swap
 * asynchronously and keeps the pages in the swap cache until written:
 * the run is made in a memory cgroup of its own (v1), emptied
 * (memory.force_empty) before the swap-ins, so that they read from the
 * file; the cgroup is removed at the end.  Linux reads ahead
 * (vm.page-cluster), so some swap-ins still find their page in the swap
 * cache (minor faults); the simulator reads every page, one at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fault.h"
#include "mm.h"
#include "session.h"
#include "trace_parse.h"

#define BASE	0x200000000000UL
#define PG	4096UL
#define LEN	(16UL << 20)
#define NPAGES	(LEN / PG)
#define SWAPSZ	(64UL << 20)
#define RUNS	3

struct figures {
	double	 pageout, swapin;	/* ns per page */
	long	 out, in;		/* pages written, read (vmstat) */
};

static char swap_path[64];
static volatile sig_atomic_t swap_on;

/* Swap off and remove the file: async-signal-safe. */
static void swap_remove(void)
{
	if (!swap_path[0])
		return;
	if (swap_on && syscall(SYS_swapoff, swap_path) == 0)
		swap_on = 0;
	unlink(swap_path);
	swap_path[0] = '\0';
}

static void cg_leave(void);

static void on_signal(int sig)
{
	cg_leave();
	swap_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The host-wide lock on reference runs, exclusive: -1 if none. */
static int ref_lock(void)
{
	const char *path = getenv("ASPACE_REF_RUN_LOCK");
	int fd = open(path && *path ? path : "/var/tmp/aspace-ref-run.lock",
	    O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	return fd;
}

static int run_mkswap(const char *path)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) < 0)
		return -errno;
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
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* Make and enable the swap file; 0, or -errno with the step in *step. */
static int swap_make(const char **step)
{
	int fd, err = 0;

	*step = "create";
	strcpy(swap_path, "/var/tmp/aspace-bench-swap.XXXXXX");
	if ((fd = mkstemp(swap_path)) < 0) {
		err = -errno;
		swap_path[0] = '\0';
		return err;
	}
	*step = "fallocate";
	if (fallocate(fd, 0, 0, SWAPSZ) < 0 || fchmod(fd, 0600) < 0)
		err = -errno;
	close(fd);
	if (err == 0) {
		*step = "mkswap";
		err = run_mkswap(swap_path);
	}
	if (err == 0) {
		*step = "swapon";
		if (syscall(SYS_swapon, swap_path, 0) < 0)
			err = -errno;
		else
			swap_on = 1;
	}
	if (err != 0)
		swap_remove();
	return err;
}

/* An active swap area on the host other than ours. */
static bool other_swap(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, "Filename", 8) != 0 &&
		    strstr(line, "aspace-bench-swap") == NULL;
	fclose(f);
	return n > 0;
}

/*
 * A child memory cgroup (v1) of our own, so that the host's swap cache
 * can be emptied between pageout and swap-in: Linux writes pageout's
 * pages asynchronously and keeps them in the swap cache meanwhile, where
 * the swap-ins would find them.  memory.force_empty reclaims the pages
 * charged to the child (those of the 16 MiB, clean once written).
 */
static char cg_dir[512], cg_home[512];

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[600];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Into a new child of our memory cgroup; 0 or -errno (none made). */
static int cg_enter(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], pid[32], *p;

	cg_home[0] = '\0';
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, ":memory:")) != NULL) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(cg_home, sizeof(cg_home),
			    "/sys/fs/cgroup/memory%s", p + 8);
		}
	fclose(f);
	if (!cg_home[0])
		return -ENOENT;
	snprintf(cg_dir, sizeof(cg_dir), "%s/aspace-bench-swap.%d", cg_home,
	    (int)getpid());
	if (mkdir(cg_dir, 0700) < 0) {
		cg_dir[0] = '\0';
		return -errno;
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_file(cg_dir, "cgroup.procs", pid) != 0) {
		rmdir(cg_dir);
		cg_dir[0] = '\0';
		return -EPERM;
	}
	return 0;
}

/* Back home and the child removed: async-signal-safe but snprintf. */
static void cg_leave(void)
{
	char pid[32];

	if (!cg_dir[0])
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	write_file(cg_home, "cgroup.procs", pid);
	rmdir(cg_dir);
	cg_dir[0] = '\0';
}

static void cleanup(void)
{
	cg_leave();
	swap_remove();
}

static long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long v, r = -1;

	if (f == NULL)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (strcmp(key, name) == 0)
			r = v;
	fclose(f);
	return r;
}

static void host_once(struct figures *h)
{
	volatile char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long out0, in0;
	double t0, t1;
	char sink = 0;

	if (p == MAP_FAILED)
		exit(1);
	madvise((void *)p, LEN, MADV_NOHUGEPAGE);	/* 4 KiB pages */
	for (unsigned long o = 0; o < LEN; o += PG)
		p[o] = (char)(o >> 12) | 1;
	out0 = vmstat("pswpout");
	t0 = now_ns();
	if (madvise((void *)p, LEN, MADV_PAGEOUT) != 0)
		exit(1);
	t1 = now_ns();
	h->pageout = (t1 - t0) / NPAGES;
	h->out = vmstat("pswpout") - out0;
	usleep(100000);		/* let the writeback finish */
	if (cg_dir[0])
		write_file(cg_dir, "memory.force_empty", "0");
	in0 = vmstat("pswpin");
	t0 = now_ns();
	for (unsigned long o = 0; o < LEN; o += PG)
		sink += p[o];
	t1 = now_ns();
	h->swapin = (t1 - t0) / NPAGES;
	h->in = vmstat("pswpin") - in0;
	munmap((void *)p, LEN);
	(void)sink;
}

static void sim_once(struct figures *f)
{
	struct as_session_params p;
	struct access_result r = { .store = true, .value = 1 };
	struct as_counters k0, k1;
	struct as_session *s;
	struct task *t;
	double t0, t1;

	as_session_params_default(&p);
	p.ram_bytes = 4 * LEN;
	if ((s = as_session_new(&p)) == NULL ||
	    as_kparam_set(s, KP_SWAP, SWAPSZ) != 0)
		exit(1);
	t = as_task_lookup(s, 1);
	if (sys_mmap(t->mm, BASE, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != BASE)
		exit(1);
	for (unsigned long a = BASE; a < BASE + LEN; a += PG)
		if (as_access(t, a, AS_WRITE, &r) != 0)
			exit(1);
	as_session_counters(s, &k0);
	t0 = now_ns();
	if (sys_madvise(t->mm, BASE, LEN, MADV_PAGEOUT) != 0)
		exit(1);
	t1 = now_ns();
	f->pageout = (t1 - t0) / NPAGES;
	r.store = false;
	t0 = now_ns();
	for (unsigned long a = BASE; a < BASE + LEN; a += PG)
		if (as_access(t, a, AS_READ, &r) != 0)
			exit(1);
	t1 = now_ns();
	f->swapin = (t1 - t0) / NPAGES;
	as_session_counters(s, &k1);
	f->out = (long)(k1.pswpout - k0.pswpout);
	f->in = (long)(k1.pswpin - k0.pswpin);
	as_session_free(s);
}

/* The best of RUNS: neither side pays for first touches of host memory. */
static void best(void (*once)(struct figures *), struct figures *b)
{
	struct figures f;
	int i;

	for (i = 0; i < RUNS; i++) {
		once(&f);
		if (i == 0 || f.pageout < b->pageout) {
			b->pageout = f.pageout;
			b->out = f.out;
		}
		if (i == 0 || f.swapin < b->swapin) {
			b->swapin = f.swapin;
			b->in = f.in;
		}
	}
}

/* The host's figures; 0, or 77 with a SKIP line saying why not. */
static int host_figures(struct figures *h)
{
	const char *step;
	int fd, err;

	if (geteuid() != 0) {
		printf("SKIP: host swap: needs root (swapon)\n");
		return 77;
	}
	fd = ref_lock();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGQUIT, on_signal);
	if ((err = swap_make(&step)) != 0) {
		printf("SKIP: host swap: %s of a swap file under /var/tmp: "
		    "%s\n", step, strerror(-err));
		if (fd >= 0)
			close(fd);
		return 77;
	}
	if (other_swap())
		printf("note: another swap area is active on the host too\n");
	if ((err = cg_enter()) != 0)
		printf("note: no memory cgroup of our own (%s): host swap-ins "
		    "may find their pages in the swap cache\n", strerror(-err));
	best(host_once, h);
	cleanup();
	if (fd >= 0)
		close(fd);	/* the lock goes with it */
	return 0;
}

static void report(const char *what, double sim, long sim_n, double host,
    long host_n, bool have_host)
{
	if (have_host)
		printf("%-28s sim_ns=%.1f host_ns=%.1f ratio_sim/host=%.3f "
		    "(pages: sim %ld, host %ld of %lu)\n", what, sim, host,
		    sim / host, sim_n, host_n, NPAGES);
	else
		printf("%-28s sim_ns=%.1f (pages: sim %ld of %lu)\n", what,
		    sim, sim_n, NPAGES);
}

int main(void)
{
	struct figures sim, host = { 0 };
	int rc;

	best(sim_once, &sim);
	atexit(cleanup);
	rc = host_figures(&host);
	report("pageout, per page (16 MiB)", sim.pageout, sim.out,
	    host.pageout, host.out, rc == 0);
	report("swap-in read, per page", sim.swapin, sim.in, host.swapin,
	    host.in, rc == 0);
	return rc;
}

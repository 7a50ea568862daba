/*
 * bench_fork.c: fork of a task with 0, 64 MiB, 256 MiB and 1 GiB of
 * touched private memory, the first write after it (alone: what a fork
 * that shares its page tables pays there), the copy-on-write write per
 * page after it, and the whole of fork then a write to every page, in the
 * simulator beside the host kernel, in one run, with the ratios
 * simulator / host.  The simulator runs twice: with its page tables
 * shared at fork (`kernel share_tables on`, the default: fork copies no
 * PTE, the first write copies one table) and without (as Linux, and
 * this simulator before tables were shared); the speed-ups of the first
 * over the host and over the second are printed (targets: 100x and
 * 50x at 1 GiB), for one fork (cold: the first after the memory was
 * touched, its struct pages out of the caches) and for the best of
 * several forks and exits in a row (warm), each side alike.  The 1 GiB
 * fork is also set beside the earlier
 * machine's kernel (20.4 ms): this host's faults cost about ten times
 * more, so its ratio alone flatters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "fault.h"
#include "mm.h"
#include "session.h"

#define BASE	0x200000000000UL
#define MIB	(1UL << 20)
#define PG	4096UL

/* Simulator: ns for the fork, and ns per COW write afterwards. */
/* What one run measures, in ns. */
struct forked {
	double	fork, first, cow;	/* cow: per page, after the first */
};

#define EARLIER_FORK_1G_NS	20.4e6	/* the earlier machine's kernel */

static bool share_tables;	/* sim_fork()'s `kernel share_tables` */

/* A session (share: `kernel share_tables`) whose task 1 (in *t) has
 * written every page of len at BASE. */
static struct as_session *touched(unsigned long len, bool share,
    struct task **t)
{
	struct access_result r = { .store = true, .value = 1 };
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	p.ram_bytes = 4UL << 30;
	p.kparam[KP_SHARE_TABLES] = share;
	s = as_session_new(&p);
	*t = as_task_lookup(s, 1);
	if (len && sys_mmap((*t)->mm, BASE, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != BASE)
		exit(1);
	for (unsigned long a = BASE; a < BASE + len; a += PG)
		as_access(*t, a, AS_WRITE, &r);
	return s;
}

static void sim_fork(unsigned long len, struct forked *f)
{
	struct access_result r = { .store = true, .value = 1 };
	struct task *t, *child;
	struct as_session *s = touched(len, share_tables, &t);
	double t0;
	int err;

	t0 = now_ns();
	if ((child = as_clone(s, t, false, &err)) == NULL)
		exit(1);
	f->fork = now_ns() - t0;
	t0 = now_ns();
	if (len)
		as_access(t, BASE, AS_WRITE, &r);
	f->first = now_ns() - t0;
	t0 = now_ns();
	for (unsigned long a = BASE + PG; a < BASE + len; a += PG)
		as_access(t, a, AS_WRITE, &r);
	f->cow = len > PG ? (now_ns() - t0) / (len / PG - 1) : 0;
	as_exit(s, child);
	as_session_free(s);
}

/* Host: the same with fork(2); the child waits until the parent is done. */
static void host_fork(unsigned long len, struct forked *f)
{
	volatile char *m = NULL;
	int pfd[2];
	double t0;
	pid_t pid;
	char c;

	if (len) {
		m = mmap((void *)BASE, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		madvise((void *)m, len, MADV_NOHUGEPAGE);
		for (unsigned long o = 0; o < len; o += PG)
			m[o] = 1;
	}
	if (pipe(pfd) != 0)
		exit(1);
	t0 = now_ns();
	if ((pid = fork()) == 0) {
		close(pfd[1]);
		while (read(pfd[0], &c, 1) < 0)
			;
		_exit(0);
	}
	f->fork = now_ns() - t0;
	t0 = now_ns();
	if (len)
		m[0] = 2;
	f->first = now_ns() - t0;
	t0 = now_ns();
	for (unsigned long o = PG; o < len; o += PG)
		m[o] = 2;
	f->cow = len > PG ? (now_ns() - t0) / (len / PG - 1) : 0;
	close(pfd[1]);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	if (len)
		munmap((void *)m, len);
}

/* The better of two runs of each: neither side pays the hypervisor's
 * first touch of guest memory (the simulator reuses its frame store). */
static void best_of_two(void (*run)(unsigned long, struct forked *),
    unsigned long len, struct forked *f)
{
	struct forked g;

	run(len, f);
	run(len, &g);
	f->fork = g.fork < f->fork ? g.fork : f->fork;
	f->first = g.first < f->first ? g.first : f->first;
	f->cow = g.cow < f->cow ? g.cow : f->cow;
}

/* Fork, then a write to every page: the whole, in microseconds. */
static double whole_us(const struct forked *f, unsigned long len)
{
	return (f->fork + f->first + f->cow * (len > PG ? len / PG - 1 : 0)) /
	    1e3;
}

/* Warm: the best of n forks (each child exiting at once) of a task with
 * len touched, in the simulator (share: `kernel share_tables`), in us. */
static double sim_fork_warm(unsigned long len, bool share, int n)
{
	struct task *t, *c;
	struct as_session *s = touched(len, share, &t);
	double best = 1e30, t0;
	int err;

	for (int i = 0; i < n; i++) {
		t0 = now_ns();
		if ((c = as_clone(s, t, false, &err)) == NULL)
			exit(1);
		best = now_ns() - t0 < best ? now_ns() - t0 : best;
		as_exit(s, c);
	}
	as_session_free(s);
	return best / 1e3;
}

/* The same on the host: fork(2), the child exiting at once. */
static double host_fork_warm(unsigned long len, int n)
{
	volatile char *m = mmap((void *)BASE, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	double best = 1e30, t0;
	pid_t pid;

	madvise((void *)m, len, MADV_NOHUGEPAGE);
	for (unsigned long o = 0; o < len; o += PG)
		m[o] = 1;
	for (int i = 0; i < n; i++) {
		t0 = now_ns();
		if ((pid = fork()) == 0)
			_exit(0);
		best = now_ns() - t0 < best ? now_ns() - t0 : best;
		waitpid(pid, NULL, 0);
	}
	munmap((void *)m, len);
	return best / 1e3;
}

/* The simulator both ways, into *on and *off. */
static void sim_both(unsigned long len, struct forked *on, struct forked *off)
{
	share_tables = false;
	best_of_two(sim_fork, len, off);
	share_tables = true;
	best_of_two(sim_fork, len, on);
}

int main(void)
{
	static const unsigned long mib[] = { 0, 64, 256, 1024 };
	struct forked s, u, h;
	unsigned long len;

	for (size_t i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		len = mib[i] * MIB;
		sim_both(len, &s, &u);
		best_of_two(host_fork, len, &h);
		printf("fork touched=%-4luMiB sim_us=%.1f host_us=%.1f "
		    "ratio_sim/host=%.4f | first write sim_ns=%.0f host_ns=%.0f"
		    " | cow sim_ns=%.1f host_ns=%.1f ratio=%.3f | fork+touch "
		    "all sim_us=%.0f host_us=%.0f ratio=%.3f\n", mib[i],
		    s.fork / 1e3, h.fork / 1e3, s.fork / h.fork, s.first,
		    h.first, s.cow, h.cow, h.cow > 0 ? s.cow / h.cow : 0.0,
		    whole_us(&s, len), whole_us(&h, len),
		    whole_us(&s, len) / whole_us(&h, len));
		printf("fork touched=%-4luMiB unshared sim_us=%.1f | first write "
		    "sim_ns=%.0f | fork+touch all sim_us=%.0f | shared tables: "
		    "fork %.1fx faster than the host's, %.1fx than unshared\n",
		    mib[i], u.fork / 1e3, u.first, whole_us(&u, len),
		    h.fork / s.fork, u.fork / s.fork);
		if (mib[i] == 1024) {
			double wo = sim_fork_warm(len, true, 20);
			double wu = sim_fork_warm(len, false, 5);
			double wh = host_fork_warm(len, 5);

			printf("fork warm touched=1024MiB (best of several) "
			    "sim_us=%.1f unshared_us=%.1f host_us=%.1f | shared "
			    "tables: %.0fx faster than the host's (target 100x), "
			    "%.0fx than unshared (target 50x)\n", wo, wu, wh,
			    wh / wo, wu / wo);
		}
		if (mib[i] == 1024)
			printf("fork touched=1024MiB sim_us=%.1f earlier_machine"
			    "_us=%.1f ratio_sim/earlier=%.4f\n", s.fork / 1e3,
			    EARLIER_FORK_1G_NS / 1e3,
			    s.fork / EARLIER_FORK_1G_NS);
	}
	return 0;
}

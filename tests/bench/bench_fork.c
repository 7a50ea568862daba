/*
 * bench_fork.c: fork of a task with 0, 64 MiB, 256 MiB and 1 GiB of
 * touched private memory, and the first copy-on-write write per page
 * after it, in the simulator beside the host kernel, in one run, with the
 * ratio simulator / host.
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
static void sim_fork(unsigned long len, double *fork_ns, double *cow_ns)
{
	struct as_session_params p;
	struct as_session *s;
	struct access_result r = { .store = true, .value = 1 };
	struct task *t, *child;
	double t0;
	int err;

	as_session_params_default(&p);
	p.ram_bytes = 4UL << 30;
	s = as_session_new(&p);
	t = as_task_lookup(s, 1);
	if (len && sys_mmap(t->mm, BASE, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != BASE)
		exit(1);
	for (unsigned long a = BASE; a < BASE + len; a += PG)
		as_access(t, a, AS_WRITE, &r);
	t0 = now_ns();
	if ((child = as_clone(s, t, false, &err)) == NULL)
		exit(1);
	*fork_ns = now_ns() - t0;
	t0 = now_ns();
	for (unsigned long a = BASE; a < BASE + len; a += PG)
		as_access(t, a, AS_WRITE, &r);
	*cow_ns = len ? (now_ns() - t0) / (len / PG) : 0;
	as_exit(s, child);
	as_session_free(s);
}

/* Host: the same with fork(2); the child waits until the parent is done. */
static void host_fork(unsigned long len, double *fork_ns, double *cow_ns)
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
	*fork_ns = now_ns() - t0;
	t0 = now_ns();
	for (unsigned long o = 0; o < len; o += PG)
		m[o] = 2;
	*cow_ns = len ? (now_ns() - t0) / (len / PG) : 0;
	close(pfd[1]);
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	if (len)
		munmap((void *)m, len);
}

/* The better of two runs of each: neither side pays the hypervisor's
 * first touch of guest memory (the simulator reuses its frame store). */
static void best_of_two(void (*f)(unsigned long, double *, double *),
    unsigned long len, double *a, double *b)
{
	double a2, b2;

	f(len, a, b);
	f(len, &a2, &b2);
	if (a2 < *a)
		*a = a2;
	if (b2 < *b)
		*b = b2;
}

int main(void)
{
	static const unsigned long mib[] = { 0, 64, 256, 1024 };
	double sf, sc, hf, hc;

	for (size_t i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		best_of_two(sim_fork, mib[i] * MIB, &sf, &sc);
		best_of_two(host_fork, mib[i] * MIB, &hf, &hc);
		printf("fork touched=%-4luMiB sim_us=%.1f host_us=%.1f "
		    "ratio_sim/host=%.3f | cow sim_ns=%.1f host_ns=%.1f "
		    "ratio=%.3f\n", mib[i], sf / 1e3, hf / 1e3, sf / hf,
		    sc, hc, hc > 0 ? sc / hc : 0.0);
	}
	return 0;
}

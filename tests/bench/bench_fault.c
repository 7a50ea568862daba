/*
 * bench_fault.c: simulated page faults beside the host kernel's, in one
 * process and one run, as ratios (simulator / host):
 *   - first-touch write faults over 1 GiB of private anonymous memory;
 *   - read faults that map the zero page (1 GiB, read once per page);
 *   - random read faults over 3,000 file-backed VMAs.
 * The simulator holds every page's contents (4 KiB each) as the kernel
 * does; fault-around is on in both.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "mm.h"
#include "session.h"

#define BASE	0x200000000000UL
#define GIB	(1UL << 30)
#define PG	4096UL
#define NVMAS	3000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ULL;

static unsigned long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned long)rng;
}

static struct as_session *new_session(struct task **t)
{
	struct as_session_params p;
	struct as_session *s;

	as_session_params_default(&p);
	p.ram_bytes = 4 * GIB;
	if ((s = as_session_new(&p)) == NULL)
		exit(1);
	*t = as_task_lookup(s, 1);
	return s;
}

/* ns per fault touching every page of [BASE, BASE + len) in the simulator. */
static double sim_touch(unsigned long len, enum as_access kind)
{
	struct task *t;
	struct as_session *s = new_session(&t);
	struct access_result r = { .store = true, .value = 1 };
	double t0, t1;

	if (sys_mmap(t->mm, BASE, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0) != BASE)
		exit(1);
	t0 = now_ns();
	for (unsigned long a = BASE; a < BASE + len; a += PG)
		if (as_access(t, a, kind, &r) != 0)
			exit(1);
	t1 = now_ns();
	as_session_free(s);
	return (t1 - t0) / (len / PG);
}

static double host_touch(unsigned long len, int write)
{
	volatile char *p = mmap((void *)BASE, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	double t0, t1;
	char sink = 0;

	if (p == MAP_FAILED)
		exit(1);
	t0 = now_ns();
	for (unsigned long o = 0; o < len; o += PG) {
		if (write)
			p[o] = 1;
		else
			sink += p[o];
	}
	t1 = now_ns();
	munmap((void *)p, len);
	(void)sink;
	return (t1 - t0) / (len / PG);
}

/* A file of 16 pages on the host (fd) and in the simulator. */
static int host_file(void)
{
	char path[] = "/var/tmp/aspace-bench-XXXXXX", buf[PG * 16];
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		exit(1);
	unlink(path);
	return fd;
}

/* Random read faults over NVMAS private file VMAs of 16 pages each. */
static void vmas_random_reads(double *sim, double *host)
{
	struct task *t;
	struct as_session *s = new_session(&t);
	struct as_file *f;
	struct access_result r = { 0 };
	unsigned long n = NVMAS * 16, i, a;
	unsigned long *order = malloc(n * sizeof(*order));
	volatile char sink = 0;
	int fd = host_file();
	double t0;

	as_file_create(s, "f", 16 * PG);
	f = as_file_lookup(s, "f");
	for (i = 0; i < NVMAS; i++) {
		a = BASE + i * 17 * PG;
		if (sys_mmap(t->mm, a, 16 * PG, PROT_READ, MAP_PRIVATE |
		    MAP_FIXED, f, 1, 0) != a || mmap((void *)a, 16 * PG,
		    PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) != (void *)a)
			exit(1);
	}
	for (i = 0; i < n; i++)
		order[i] = BASE + (i / 16) * 17 * PG + (rnd() % 16) * PG;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		as_access(t, order[i], AS_READ, &r);
	*sim = (now_ns() - t0) / n;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		sink += *(volatile char *)order[i];
	*host = (now_ns() - t0) / n;
	munmap((void *)BASE, NVMAS * 17 * PG);
	as_session_free(s);
	free(order);
	close(fd);
}

static void report(const char *what, double sim, double host)
{
	printf("%-34s sim_ns=%.1f host_ns=%.1f ratio_sim/host=%.3f\n", what,
	    sim, host, sim / host);
}

int main(void)
{
	double sim, host;

	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	report("first-touch write fault (1 GiB)", sim_touch(GIB, AS_WRITE),
	    host_touch(GIB, 1));
	report("zero-page read fault (1 GiB)", sim_touch(GIB, AS_READ),
	    host_touch(GIB, 0));
	vmas_random_reads(&sim, &host);
	report("random read access (3000 VMAs)", sim, host);
	return 0;
}

/*
 * bench_session.c: what an idle session costs and how fast sessions come
 * and go, in the core the daemon runs: the host memory (RSS) of 10,000
 * fresh sessions (each has exec'ed its program image, nothing touched),
 * the frames each uses and how many of them hold a host page shared
 * with every session made alike (host_ksm.c; target: 16 KiB a session),
 * the RSS left once they end; and sessions made and freed per second
 * beside the host kernel's fork, exit and wait of a process per second,
 * in one run.  BENCH_SESSIONS sets the count.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "page.h"
#include "session.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	if (f != NULL)
		fclose(f);
	return v;
}

/* n idle sessions: KiB of RSS each, frames each, RSS left after. */
static void idle(int n)
{
	struct as_session_params p;
	struct as_session **v = calloc((size_t)n, sizeof(*v));
	long r0, r1, r2;
	unsigned long f0 = as_frames_in_use(), k0 = host_ksm_pages_shared();
	int i;

	as_session_params_default(&p);
	r0 = rss_kib();
	for (i = 0; i < n && v != NULL; i++)
		if ((v[i] = as_session_new(&p)) == NULL)
			exit(1);
	r1 = rss_kib();
	printf("idle sessions=%d rss_kib_each=%.1f (target 16) frames_each=%.1f "
	    "host_shared_each=%.1f rss_total_mib=%.1f\n", n,
	    (double)(r1 - r0) / n, (double)(as_frames_in_use() - f0) / n,
	    (double)(host_ksm_pages_shared() - k0) / n, (r1 - r0) / 1024.0);
	for (i = 0; i < n && v != NULL; i++)
		as_session_free(v[i]);
	malloc_trim(0);		/* as aspaced does after sessions end */
	r2 = rss_kib();
	printf("idle ended rss_left_mib=%.1f (of %.1f; the frame pool keeps "
	    "up to 32 MiB)\n", (r2 - r0) / 1024.0, (r1 - r0) / 1024.0);
	free(v);
}

/* Sessions made and freed per second. */
static double sim_rate(int n)
{
	struct as_session_params p;
	double t0 = now_ns();
	int i;

	as_session_params_default(&p);
	for (i = 0; i < n; i++)
		as_session_free(as_session_new(&p));
	return n / ((now_ns() - t0) / 1e9);
}

/* The host's processes forked, exited and waited for per second. */
static double host_rate(int n)
{
	double t0 = now_ns();
	pid_t pid;
	int i;

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			exit(1);
	}
	return n / ((now_ns() - t0) / 1e9);
}

int main(void)
{
	const char *e = getenv("BENCH_SESSIONS");
	int n = e != NULL ? atoi(e) : 10000;
	double sim, host;

	if (n < 1)
		n = 1;
	idle(n);
	sim = sim_rate(n);
	host = host_rate(n / 4 + 1);
	printf("session create+destroy sim_per_s=%.0f host_fork_exit_per_s=%.0f "
	    "ratio=%.2f\n", sim, host, sim / host);
	return 0;
}

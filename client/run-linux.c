/*
 * run-linux.c: aspace run --linux, a trace run on this machine's own
 * kernel by the project's reference runner (ref/, installed as
 * $(pkglibexecdir)/ref-run), whose output is the canonical output of
 * aspace run.  It needs Linux x86-64; elsewhere one line says so.
 *
 * The runner is $ASPACE_REF_RUN if set; else, for an aspace installed in
 * $(bindir) (under DESTDIR or a moved prefix too), the ref-run at the
 * same place relative to it; else ../ref/ref-run beside a build tree's
 * client/aspace; else $(pkglibexecdir)/ref-run.  The trace goes to it as
 * a temporary file (standard input can be read once only, and --compare
 * needs it twice); its output is read back through a pipe.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grade-cli.h"
#include "run-cmp.h"

#define TRACE_MAX	(64UL << 20)	/* largest trace read */
#define OUTPUT_MAX	(256UL << 20)	/* largest output read back */

char *run_read_trace(const char *path, size_t *len)
{
	char *text = grade_read_file(path, TRACE_MAX, len);

	if (text == NULL)
		fprintf(stderr, "aspace: %s: %s\n", path, errno == EFBIG ?
		    "larger than a trace may be" : strerror(errno));
	return text;
}

/* s ends with suffix: the length before it, else -1. */
static long strip_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (m > n || strcmp(s + n - m, suffix) != 0)
		return -1;
	return (long)(n - m);
}

/* The installed runner relative to our own executable's directory. */
static int runner_near_exe(char *buf, size_t size)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	long root;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return -1;
	*slash = '\0';
	if ((root = strip_suffix(exe, ASPACE_BINDIR)) >= 0)	/* installed */
		n = snprintf(buf, size, "%.*s%s/ref-run", (int)root, exe,
		    ASPACE_PKGLIBEXECDIR);
	else		/* a build tree's client/aspace */
		n = snprintf(buf, size, "%s/../ref/ref-run", exe);
	return n < 0 || (size_t)n >= size ? -1 : access(buf, X_OK);
}

static void find_runner(char *buf, size_t size)
{
	const char *env = getenv("ASPACE_REF_RUN");

	if (env != NULL && *env != '\0')
		snprintf(buf, size, "%s", env);
	else if (runner_near_exe(buf, size) != 0)
		snprintf(buf, size, "%s/ref-run", ASPACE_PKGLIBEXECDIR);
}

int run_linux_check(void)
{
	struct utsname u;

	if (uname(&u) != 0 || strcmp(u.sysname, "Linux") != 0 ||
	    strcmp(u.machine, "x86_64") != 0) {
		fprintf(stderr, "aspace: run --linux needs a Linux x86-64 "
		    "host (this is %s %s)\n", u.sysname, u.machine);
		return 2;
	}
	return 0;
}

/* The trace as a temporary file; its path in buf, or -1 after a message. */
static int trace_tmpfile(const char *text, size_t len, char *buf,
			 size_t size)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(buf, size, "%s/aspace-trace.XXXXXX", dir != NULL &&
	    *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(buf)) < 0) {
		fprintf(stderr, "aspace: %s: %s\n", buf, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		fprintf(stderr, "aspace: %s: %s\n", buf, strerror(errno));
		unlink(buf);
		return -1;
	}
	return 0;
}

/* All of fd into res (bounded); -1 if it did not fit or failed. */
static int read_fd(int fd, struct run_result *res)
{
	size_t cap = 65536;
	ssize_t n;
	char *p;

	if ((res->out = malloc(cap + 1)) == NULL)
		return -1;
	while ((n = read(fd, res->out + res->len, cap - res->len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		res->len += (size_t)n;
		if (res->len == cap) {
			if (cap >= OUTPUT_MAX ||
			    (p = realloc(res->out, cap * 2 + 1)) == NULL)
				return -1;
			res->out = p;
			cap *= 2;
		}
	}
	res->out[res->len] = '\0';
	return 0;
}

/* Run the runner on file, its stdout into res; the exit status. */
static int spawn_runner(const char *runner, const char *file,
			struct run_result *res)
{
	int fds[2], st, bad;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(runner, runner, file, (char *)NULL);
		fprintf(stderr, "aspace: cannot run the Linux reference "
		    "runner %s: %s (ASPACE_REF_RUN)\n", runner,
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	bad = read_fd(fds[0], res);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (bad)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void run_linux_capture(const char *path, const char *text, size_t len,
		       struct run_result *res)
{
	char runner[PATH_MAX], file[PATH_MAX];
	int st;

	memset(res, 0, sizeof(*res));
	res->rc = 2;
	if (trace_tmpfile(text, len, file, sizeof(file)) != 0)
		return;
	find_runner(runner, sizeof(runner));
	st = spawn_runner(runner, file, res);
	unlink(file);
	if (st == 0 || st == 1)
		res->rc = st;
	else if (st == 127)
		;	/* the child said why */
	else if (st < 0)
		fprintf(stderr, "aspace: %s: the Linux reference runner: "
		    "%s\n", path, strerror(errno ? errno : EFBIG));
	else
		fprintf(stderr, "aspace: %s: the Linux reference runner "
		    "failed (status %d)\n", path, st);
	if (res->out == NULL)
		res->out = strdup("");
}

/* "! error" lines: the errors count of --json. */
static unsigned long count_errors(const char *out)
{
	unsigned long n = 0;
	const char *p = out;

	while ((p = strstr(p, ": ! error")) != NULL) {
		n++;
		p++;
	}
	return n;
}

int run_linux_one(const char *path, const struct run_print_opts *po,
		  bool json)
{
	struct run_result res;
	size_t len;
	char *text = run_read_trace(path, &len);

	if (text == NULL) {
		if (json)
			run_json_trace(path, 2, NULL, 0, NULL, 0, 0, false,
			    strerror(errno));
		return 2;
	}
	run_linux_capture(path, text, len, &res);
	if (json)
		run_json_trace(path, res.rc, text, len, res.out, res.len,
		    count_errors(res.out), false, NULL);
	else
		run_print(po, text, len, res.out, res.len, NULL);
	free(res.out);
	free(text);
	return res.rc;
}

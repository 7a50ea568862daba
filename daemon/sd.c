/*
 * sd.c: the notify, socket activation and watchdog protocols of systemd
 * (sd.h), without libsystemd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sd.h"

static struct {
	int		 fd;		/* -1: no $NOTIFY_SOCKET */
	struct sockaddr_un sun;
	socklen_t	 len;
	bool		 failing;	/* atomic: the last send failed */
} notifier = { -1, { 0, { 0 } }, 0, false };

/* --- the parsers -------------------------------------------------------------- */

/* A decimal number in [min, max] with nothing around it; -1 if not. */
static long long parse_decimal(const char *s, long long min, long long max)
{
	long long n = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n < min || n > max ? -1 : n;
}

int sdp_parse_notify_socket(const char *s, struct sockaddr_un *sun,
    socklen_t *len)
{
	size_t n;

	if (s == NULL || (s[0] != '/' && s[0] != '@'))
		return strncmp(s != NULL ? s : "", "vsock:", 6) == 0 ?
		    -EAFNOSUPPORT : -EINVAL;
	if ((n = strlen(s)) < 2)
		return -EINVAL;
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (s[0] == '@')
		sun->sun_path[0] = '\0';	/* abstract: no NUL at the end */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (s[0] == '/'));
	return 0;
}

/* Split names (colon-separated) into out's n names; false if they are
 * not exactly n or one is too long. */
static bool parse_names(const char *names, int n, struct sdp_listen *out)
{
	const char *p = names;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		if ((len = strcspn(p, ":")) > SDP_NAME_MAX)
			return false;
		memcpy(out->names[i], p, len);
		out->names[i][len] = '\0';
		p += len;
		if (*p == '\0')
			return i == n - 1;
		p++;
	}
	return false;	/* more names than descriptors */
}

int sdp_parse_listen(const char *pid, const char *fds, const char *names,
    pid_t self, struct sdp_listen *out)
{
	long long p, n;
	int i;

	memset(out, 0, sizeof(*out));
	if (pid == NULL || fds == NULL)
		return 0;
	if ((p = parse_decimal(pid, 1, INT_MAX)) < 0 ||
	    (n = parse_decimal(fds, 0, INT_MAX - SDP_LISTEN_FDS_START)) < 0)
		return -EINVAL;
	if ((pid_t)p != self)
		return 0;	/* meant for another process */
	if (n > SDP_LISTEN_MAX)
		return -EMFILE;
	if (names != NULL && n > 0 && !parse_names(names, (int)n, out)) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		out->fds[i] = SDP_LISTEN_FDS_START + i;
	out->n = (int)n;
	return out->n;
}

long long sdp_parse_watchdog(const char *usec, const char *pid, pid_t self)
{
	long long u, p;

	if (usec == NULL)
		return 0;
	/* At most a day: systemd's WatchdogSec= is far below that. */
	if ((u = parse_decimal(usec, 1, 86400LL * 1000000)) < 0)
		return -EINVAL;
	if (pid == NULL)
		return u;
	if ((p = parse_decimal(pid, 1, INT_MAX)) < 0)
		return -EINVAL;
	return (pid_t)p == self ? u : 0;
}

bool sdp_beats_alive(const uint64_t *beats, int n, uint64_t now,
    uint64_t max_age)
{
	int i;

	for (i = 0; i < n; i++)
		if (beats[i] <= now && now - beats[i] > max_age)
			return false;	/* a beat after now raced us: alive */
	return true;
}

/* --- notifications ------------------------------------------------------------- */

int sdp_notify_open(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	struct timeval tv = { 1, 0 };
	int err;

	if (s == NULL)
		return 0;
	if ((err = sdp_parse_notify_socket(s, &notifier.sun,
	    &notifier.len)) != 0) {
		fprintf(stderr, "aspaced: NOTIFY_SOCKET=%s: %s\n", s,
		    strerror(-err));
		return -1;
	}
	notifier.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notifier.fd < 0) {
		fprintf(stderr, "aspaced: notify socket: %s\n",
		    strerror(errno));
		return -1;
	}
	/* Bounded: a service manager that stopped reading costs us 1 s. */
	(void)setsockopt(notifier.fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv));
	unsetenv("NOTIFY_SOCKET");
	return 1;
}

void sdp_notify_close(void)
{
	if (notifier.fd >= 0)
		close(notifier.fd);
	notifier.fd = -1;
}

bool sdp_notify_enabled(void)
{
	return notifier.fd >= 0;
}

void sdp_notify(const char *fmt, ...)
{
	char msg[SDP_MESSAGE_MAX];
	va_list ap;
	int n;

	if (notifier.fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (sendto(notifier.fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&notifier.sun, notifier.len) == (ssize_t)n) {
		__atomic_store_n(&notifier.failing, false, __ATOMIC_RELAXED);
		return;
	}
	/* Said once per run of failures, not at every STATUS= or ping. */
	if (!__atomic_exchange_n(&notifier.failing, true, __ATOMIC_RELAXED))
		fprintf(stderr, "aspaced: cannot notify the service "
		    "manager: %s\n", strerror(errno));
}

/* --- passed sockets -------------------------------------------------------------- */

int sdp_listen_fds(struct sdp_listen *out)
{
	int n, i;

	n = sdp_parse_listen(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getenv("LISTEN_FDNAMES"), getpid(), out);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n == -EMFILE) {
		fprintf(stderr, "aspaced: LISTEN_FDS: more than %d sockets\n",
		    SDP_LISTEN_MAX);
		return -1;
	}
	if (n < 0) {
		fprintf(stderr, "aspaced: bad LISTEN_PID, LISTEN_FDS or "
		    "LISTEN_FDNAMES\n");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (fcntl(out->fds[i], F_SETFD, FD_CLOEXEC) != 0) {
			fprintf(stderr, "aspaced: LISTEN_FDS: descriptor "
			    "%d: %s\n", out->fds[i], strerror(errno));
			return -1;
		}
	return n;
}

int sdp_socket_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), slen = sizeof(ss);
	int type = 0, listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM)
		return -1;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
	    !listening)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) != 0)
		return -1;
	if (ss.ss_family == AF_UNIX || ss.ss_family == AF_INET ||
	    ss.ss_family == AF_INET6)
		return ss.ss_family;
	return -1;
}

/* --- the watchdog ------------------------------------------------------------------ */

long long sdp_watchdog_usec(void)
{
	long long u = sdp_parse_watchdog(getenv("WATCHDOG_USEC"),
	    getenv("WATCHDOG_PID"), getpid());

	if (u < 0)
		fprintf(stderr, "aspaced: bad WATCHDOG_USEC or WATCHDOG_PID\n");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return u < 0 ? -1 : u;
}

uint64_t sdp_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

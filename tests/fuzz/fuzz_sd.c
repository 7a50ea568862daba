/*
 * fuzz_sd.c: libFuzzer target for the parsers of systemd's variables in
 * daemon/sd.c: $NOTIFY_SOCKET, $LISTEN_PID/$LISTEN_FDS/$LISTEN_FDNAMES
 * and $WATCHDOG_USEC/$WATCHDOG_PID.
 *
 * The input is up to five NUL-separated strings, given in that order to
 * sdp_parse_notify_socket(), sdp_parse_listen() (pid, fds, names; the
 * process is 4242) and sdp_parse_watchdog() (usec, and the pid string
 * again); a missing string is NULL.  Beyond the sanitizers it checks
 * what aspaced relies on: only the documented results, a socket address
 * inside sockaddr_un, descriptors 3, 4, ... up to SDP_LISTEN_MAX with
 * NUL-terminated names, a watchdog of at most a day.  A failed check
 * abort()s.
 *
 * Without libFuzzer, replay.c supplies main().
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sd.h"

#define SELF	4242
#define FIELDS	5

static void check(int ok)
{
	if (!ok)
		abort();
}

static void fuzz_notify(const char *s)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	int r = sdp_parse_notify_socket(s, &sun, &len);

	check(r == 0 || r == -EINVAL || r == -ENAMETOOLONG ||
	    r == -EAFNOSUPPORT);
	if (r != 0)
		return;
	check(sun.sun_family == AF_UNIX);
	check(len > offsetof(struct sockaddr_un, sun_path) + 1 &&
	    len <= sizeof(sun));
	check(s[0] == '@' ? sun.sun_path[0] == '\0' : sun.sun_path[0] == '/');
}

static void fuzz_listen(const char *pid, const char *fds, const char *names)
{
	struct sdp_listen l;
	int r = sdp_parse_listen(pid, fds, names, SELF, &l), i;

	check(r >= 0 || r == -EINVAL || r == -EMFILE);
	if (r < 0) {
		check(l.n == 0);
		return;
	}
	check(r == l.n && l.n <= SDP_LISTEN_MAX);
	for (i = 0; i < l.n; i++) {
		check(l.fds[i] == SDP_LISTEN_FDS_START + i);
		check(memchr(l.names[i], '\0', sizeof(l.names[i])) != NULL);
	}
}

static void fuzz_watchdog(const char *usec, const char *pid)
{
	long long u = sdp_parse_watchdog(usec, pid, SELF);

	check(u == -EINVAL || (u >= 0 && u <= 86400LL * 1000000));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[FIELDS] = { NULL, NULL, NULL, NULL, NULL };
	char *copy = malloc(size + 1), *p;
	int n = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* Fields end at NULs; the last one at the end of the input. */
	for (p = copy; n < FIELDS && p <= copy + size; p += strlen(p) + 1)
		f[n++] = p;
	fuzz_notify(f[0]);
	fuzz_listen(f[1], f[2], f[3]);
	fuzz_watchdog(f[4], f[1]);
	free(copy);
	return 0;
}

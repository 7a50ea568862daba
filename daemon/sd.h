/*
 * sd.h: the systemd protocols aspaced speaks, written from their
 * documentation (sd_notify(3), sd_listen_fds(3), sd_watchdog_enabled(3))
 * rather than by linking libsystemd.  systemd documents all three as
 * stable interfaces: a datagram of "KEY=VALUE" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET; descriptors from 3 up counted by
 * $LISTEN_FDS for the process $LISTEN_PID, named by $LISTEN_FDNAMES; and
 * $WATCHDOG_USEC (for $WATCHDOG_PID).  Doing them here is about 250
 * lines, and a hardened network service then loads one library less
 * (libsystemd pulls in liblz4, libzstd, liblzma, libgcrypt, libcap).
 * The names are sdp_* so that they never clash with libsystemd's.
 *
 * The parsers take the variables' values as strings and are pure (the
 * unit tests and tests/fuzz/fuzz_sd.c call them); sdp_notify_open(),
 * sdp_listen_fds() and sdp_watchdog_usec() read the environment once and
 * unset what they read, so that nothing aspaced runs inherits them.
 */
#ifndef ASPACED_SD_H
#define ASPACED_SD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define SDP_LISTEN_FDS_START	3	/* the first passed descriptor */
#define SDP_LISTEN_MAX		16	/* as many as aspaced has listeners */
#define SDP_NAME_MAX		255	/* FileDescriptorName='s limit */
#define SDP_MESSAGE_MAX		4096	/* one notification */

struct sdp_listen {
	int		 n;			/* descriptors passed */
	int		 fds[SDP_LISTEN_MAX];	/* 3, 4, ... */
	char		 names[SDP_LISTEN_MAX][SDP_NAME_MAX + 1];	/* or "" */
};

/* --- the parsers -------------------------------------------------------------- */

/*
 * $NOTIFY_SOCKET: an absolute path, or "@name" for an abstract socket,
 * into *sun and *len.  0; -EINVAL (empty, relative), -ENAMETOOLONG,
 * -EAFNOSUPPORT (a "vsock:" address, which aspaced does not speak).
 */
int sdp_parse_notify_socket(const char *s, struct sockaddr_un *sun,
    socklen_t *len);

/*
 * $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES (each may be NULL) for
 * process self into *out: the count (0 when the variables are absent or
 * name another process), or -EINVAL (not a number, a name count that
 * does not match), -EMFILE (more than SDP_LISTEN_MAX).
 */
int sdp_parse_listen(const char *pid, const char *fds, const char *names,
    pid_t self, struct sdp_listen *out);

/*
 * $WATCHDOG_USEC and $WATCHDOG_PID (each may be NULL) for process self:
 * the interval in microseconds (0: no watchdog for us), or -EINVAL.
 */
long long sdp_parse_watchdog(const char *usec, const char *pid, pid_t self);

/*
 * The watchdog's rule: true if every one of the n heartbeats (each a
 * loop's last CLOCK_MONOTONIC time in microseconds) is at most max_age
 * old at now.  A stuck loop stops the pings, and systemd restarts us.
 */
bool sdp_beats_alive(const uint64_t *beats, int n, uint64_t now,
    uint64_t max_age);

/* --- the process's own ------------------------------------------------------- */

/* Open $NOTIFY_SOCKET: 1, 0 when not set, -1 (with a message) if bad. */
int sdp_notify_open(void);
void sdp_notify_close(void);
bool sdp_notify_enabled(void);
/*
 * Send one notification, "KEY=VALUE" lines (printf-style), e.g.
 * sdp_notify("READY=1\nSTATUS=%s", s).  Thread-safe; nothing without a
 * socket; a send that fails (systemd gone, a full queue past 1 s) is
 * dropped: the service goes on.
 */
void sdp_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The descriptors systemd passed: their count (0: none), each made
 * close-on-exec; -1 with a message if the variables are bad.
 */
int sdp_listen_fds(struct sdp_listen *out);

/* What passed descriptor fd is: AF_UNIX, AF_INET or AF_INET6 for a
 * listening stream socket; -1 for anything else. */
int sdp_socket_family(int fd);

/* The watchdog interval asked of us in microseconds, 0 for none; -1
 * with a message if the variables are bad. */
long long sdp_watchdog_usec(void);

/* CLOCK_MONOTONIC in microseconds (MONOTONIC_USEC=, heartbeats). */
uint64_t sdp_monotonic_usec(void);

#endif /* ASPACED_SD_H */

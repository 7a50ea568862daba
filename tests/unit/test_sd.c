/*
 * test_sd.c: daemon/sd.c, systemd's protocols without libsystemd: the
 * parsers of $NOTIFY_SOCKET, $LISTEN_* and $WATCHDOG_*, the watchdog's
 * rule over heartbeats, and, in this process, notifications sent to a
 * socket of the test's own (a path and an abstract name), passed
 * descriptors (made close-on-exec, the variables unset) and what kind of
 * socket each is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sd.h"

static void test_notify_socket_parse(void **state)
{
	struct sockaddr_un sun;
	socklen_t len;
	char long_path[200];

	(void)state;
	assert_int_equal(sdp_parse_notify_socket("/run/systemd/notify", &sun,
	    &len), 0);
	assert_int_equal(sun.sun_family, AF_UNIX);
	assert_string_equal(sun.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	/* Abstract: a leading NUL, no NUL at the end. */
	assert_int_equal(sdp_parse_notify_socket("@abc", &sun, &len), 0);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "abc", 3);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 4);
	assert_int_equal(sdp_parse_notify_socket("", &sun, &len), -EINVAL);
	assert_int_equal(sdp_parse_notify_socket("@", &sun, &len), -EINVAL);
	assert_int_equal(sdp_parse_notify_socket("run/notify", &sun, &len),
	    -EINVAL);
	assert_int_equal(sdp_parse_notify_socket(NULL, &sun, &len), -EINVAL);
	assert_int_equal(sdp_parse_notify_socket("vsock:2:999", &sun, &len),
	    -EAFNOSUPPORT);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(sdp_parse_notify_socket(long_path, &sun, &len),
	    -ENAMETOOLONG);
}

static void test_listen_parse(void **state)
{
	struct sdp_listen l;
	char names[600];

	(void)state;
	assert_int_equal(sdp_parse_listen(NULL, NULL, NULL, 7, &l), 0);
	assert_int_equal(sdp_parse_listen("7", NULL, NULL, 7, &l), 0);
	assert_int_equal(sdp_parse_listen("7", "2", "unix:tls", 7, &l), 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.fds[0], 3);
	assert_int_equal(l.fds[1], 4);
	assert_string_equal(l.names[0], "unix");
	assert_string_equal(l.names[1], "tls");
	/* Without names; for another process; none. */
	assert_int_equal(sdp_parse_listen("7", "3", NULL, 7, &l), 3);
	assert_string_equal(l.names[2], "");
	assert_int_equal(sdp_parse_listen("8", "2", NULL, 7, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(sdp_parse_listen("7", "0", NULL, 7, &l), 0);
	/* Names that do not match the count; empty names are names. */
	assert_int_equal(sdp_parse_listen("7", "2", "a", 7, &l), -EINVAL);
	assert_int_equal(l.n, 0);
	assert_int_equal(sdp_parse_listen("7", "2", "a:b:c", 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "2", ":", 7, &l), 2);
	assert_string_equal(l.names[1], "");
	memset(names, 'n', sizeof(names) - 1);
	names[sizeof(names) - 1] = '\0';
	assert_int_equal(sdp_parse_listen("7", "1", names, 7, &l), -EINVAL);
	/* Numbers: decimal digits only, in range. */
	assert_int_equal(sdp_parse_listen("7x", "1", NULL, 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "+1", NULL, 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "-1", NULL, 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "", NULL, 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("0", "1", NULL, 7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "99999999999999999999", NULL,
	    7, &l), -EINVAL);
	assert_int_equal(sdp_parse_listen("7", "16", NULL, 7, &l), 16);
	assert_int_equal(sdp_parse_listen("7", "17", NULL, 7, &l), -EMFILE);
}

static void test_watchdog_parse(void **state)
{
	(void)state;
	assert_int_equal(sdp_parse_watchdog(NULL, NULL, 5), 0);
	assert_int_equal(sdp_parse_watchdog(NULL, "5", 5), 0);
	assert_int_equal(sdp_parse_watchdog("30000000", NULL, 5), 30000000);
	assert_int_equal(sdp_parse_watchdog("30000000", "5", 5), 30000000);
	assert_int_equal(sdp_parse_watchdog("30000000", "6", 5), 0);
	assert_int_equal(sdp_parse_watchdog("0", NULL, 5), -EINVAL);
	assert_int_equal(sdp_parse_watchdog("1s", NULL, 5), -EINVAL);
	assert_int_equal(sdp_parse_watchdog("86400000001", NULL, 5), -EINVAL);
	assert_int_equal(sdp_parse_watchdog("1000", "x", 5), -EINVAL);
}

static void test_beats(void **state)
{
	uint64_t beats[3] = { 1000, 1500, 1900 };

	(void)state;
	assert_true(sdp_beats_alive(beats, 3, 2000, 1000));
	/* The oldest is 1001 old: one stuck loop is enough. */
	assert_false(sdp_beats_alive(beats, 3, 2001, 1000));
	assert_true(sdp_beats_alive(beats + 1, 2, 2001, 1000));
	/* A beat stored after the caller read the clock. */
	assert_true(sdp_beats_alive(beats, 3, 900, 10));
	assert_true(sdp_beats_alive(beats, 0, 1000000, 1));
}

/* A datagram socket bound at name ("@..." abstract). */
static int receiver(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(sdp_parse_notify_socket(name, &sun, &len), 0);
	if (name[0] == '/')
		unlink(name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[SDP_MESSAGE_MAX + 1];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void notify_to(const char *name)
{
	int fd = receiver(name);
	char big[SDP_MESSAGE_MAX + 16];

	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdp_notify_open(), 1);
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_true(sdp_notify_enabled());
	sdp_notify("READY=1\nSTATUS=%d connections", 5);
	expect_datagram(fd, "READY=1\nSTATUS=5 connections");
	/* Over the bound: not sent at all, rather than cut. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sdp_notify("STATUS=%s", big);
	sdp_notify("WATCHDOG=1");
	expect_datagram(fd, "WATCHDOG=1");
	sdp_notify_close();
	assert_false(sdp_notify_enabled());
	sdp_notify("READY=1");	/* nowhere: nothing */
	assert_true(recv(fd, big, sizeof(big), MSG_DONTWAIT) < 0);
	close(fd);
}

static void test_notify(void **state)
{
	char path[64], name[64];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdp_notify_open(), 0);
	assert_false(sdp_notify_enabled());
	setenv("NOTIFY_SOCKET", "relative", 1);
	assert_int_equal(sdp_notify_open(), -1);
	snprintf(path, sizeof(path), "/tmp/test_sd.%d.sock", (int)getpid());
	notify_to(path);
	unlink(path);
	snprintf(name, sizeof(name), "@test_sd.%d", (int)getpid());
	notify_to(name);
}

/* Put a socket of domain and type at descriptor at, listening or not. */
static void socket_at(int at, int domain, int type, bool listening)
{
	int fd = socket(domain, type, 0);

	assert_true(fd >= 0);
	if (domain == AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	} else {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;	/* autobind: abstract */
		assert_int_equal(bind(fd, (struct sockaddr *)&sun,
		    sizeof(sa_family_t)), 0);
	}
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	if (fd != at) {
		assert_int_equal(dup2(fd, at), at);
		close(fd);
	}
}

static void test_listen_fds(void **state)
{
	struct sdp_listen l;
	char pid[16];

	(void)state;
	socket_at(3, AF_UNIX, SOCK_STREAM, true);
	socket_at(4, AF_INET, SOCK_STREAM, true);
	socket_at(5, AF_INET, SOCK_STREAM, false);
	socket_at(6, AF_UNIX, SOCK_DGRAM, false);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "4", 1);
	setenv("LISTEN_FDNAMES", "a:b:c:d", 1);
	assert_int_equal(sdp_listen_fds(&l), 4);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
	assert_string_equal(l.names[3], "d");
	assert_true(fcntl(3, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(6, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sdp_socket_family(3), AF_UNIX);
	assert_int_equal(sdp_socket_family(4), AF_INET);
	assert_int_equal(sdp_socket_family(5), -1);	/* not listening */
	assert_int_equal(sdp_socket_family(6), -1);	/* a datagram one */
	assert_int_equal(sdp_socket_family(0), -1);	/* not a socket */
	close(6);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "4", 1);
	assert_int_equal(sdp_listen_fds(&l), -1);	/* 6 is closed */
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "x", 1);
	assert_int_equal(sdp_listen_fds(&l), -1);
	assert_int_equal(sdp_listen_fds(&l), 0);	/* unset: none */
	close(3);
	close(4);
	close(5);
}

static void test_watchdog_env(void **state)
{
	char pid[16];

	(void)state;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdp_watchdog_usec(), 2000000);
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));
	assert_int_equal(sdp_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "soon", 1);
	assert_int_equal(sdp_watchdog_usec(), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_socket_parse),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_watchdog_parse),
		cmocka_unit_test(test_beats),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_listen_fds),
		cmocka_unit_test(test_watchdog_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

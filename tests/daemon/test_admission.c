/*
 * test_admission.c: aspaced under a connection flood and slow senders
 * (daemon/admission.h, the deadlines of daemon/server-conn-life.c and
 * daemon/server-conn.c), against the built daemon ($ASPACED or argv[1])
 * started per test with a Unix socket, a TLS listener and the metrics on
 * 127.0.0.1 port 0:
 *
 *   handshake_flood: more TCP connections than the whole daemon takes,
 *     from 127.0.0.2, that never begin a handshake; a Unix client and a
 *     TLS client (from 127.0.0.1) are still served within 1 s; once the
 *     flood is closed, aspaced_connections is back to 0 at once;
 *   idle_never_handshaked: the idle timeout frees connections that never
 *     began their handshake while their peers still hold them open;
 *   slowloris_unix, slowloris_tls_handshake, slowloris_tls_frame: a frame
 *     or a handshake sent a byte every 200 ms is closed at its deadline;
 *   per_address: the per-address limits, total and unauthenticated;
 *   reload: a limit from the configuration file changed at SIGHUP;
 *   evict: a full pool of stalled connections takes a TLS client, the
 *     oldest stalled one closed for it;
 *   soak: with ADM_SOAK_SECONDS set (tests/daemon/soak-admission.sh,
 *     make soak), a flood of that many seconds; skipped otherwise.
 *
 * With ADM_OLD_DAEMON set the options this work added are left out, so
 * that the tests can be run against a daemon from before it (they then
 * show its failures).  Loopback only; each test bounded to seconds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "frame.h"
#include "harness.h"

#define TOKEN		"bob-0123456789-secret"
#define FLOOD_MAX	256
#define HTTP_MAX	(256 * 1024)

static const char *daemon_path;
static struct hdaemon certs;	/* the certificates and tokens, once */
static struct hdaemon dmn;
static int tls_port, metrics_port;

/* --- time, sockets ------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A TCP connection to port from src ("127.0.0.2"; NULL: any): its fd,
 * or -1. */
static int tcp_from(const char *src, int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (src != NULL) {
		inet_pton(AF_INET, src, &sin.sin_addr);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			close(fd);
			return -1;
		}
	}
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Did the daemon close fd (EOF or a reset) within ms? */
static bool closed_within(int fd, int ms)
{
	double end = now() + ms / 1000.0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int left;

	while ((left = (int)((end - now()) * 1000)) > 0) {
		if (poll(&p, 1, left) != 1)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
	return false;
}

/* --- the metrics ---------------------------------------------------------- */

/* The value of the sample named key ("name" or "name{l=\"v\"}") in a
 * fresh scrape; -1 if absent or the scrape failed. */
static double metric(const char *key)
{
	static char resp[HTTP_MAX];
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	size_t len = strlen(key), got;
	const char *p;
	int fd;

	if ((fd = tcp_from(NULL, metrics_port)) < 0)
		return -1;
	hset_timeout(fd);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	got = hread_to_end(fd, resp, sizeof(resp));
	close(fd);
	resp[got] = '\0';
	for (p = resp; (p = strstr(p, key)) != NULL; p += len)
		if (p[-1] == '\n' && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

/* Poll key until it is v, up to ms; true if it came to v. */
static bool metric_comes_to(const char *key, double v, int ms)
{
	double end = now() + ms / 1000.0;

	do {
		if (metric(key) == v)
			return true;
		sleep_ms(20);
	} while (now() < end);
	return false;
}

/* --- the daemon ----------------------------------------------------------- */

static bool old_daemon(void)
{
	return getenv("ADM_OLD_DAEMON") != NULL;
}

/* Start aspaced with the options of old (NULL-ended) and, unless
 * ADM_OLD_DAEMON, of added; 0, or -1. */
static int start(const char *const *old, const char *const *added)
{
	struct hspawn how = HSPAWN_INIT;
	const char *argv[64];
	char listen[128];
	int n = 0, p[2];

	if (dmn.pid > 0)	/* a test that failed before its stop() */
		hdaemon_stop(&dmn);
	if (hdaemon_mkdir(&dmn, "adm") != 0)
		return -1;
	snprintf(listen, sizeof(listen), "unix:%s", dmn.sock);
	{
		const char *const base[] = {
			daemon_path, "--listen", listen,
			"--listen", "tls://127.0.0.1:0",
			"--tls-cert", hdaemon_file(&certs, "server.pem"),
			"--tls-key", hdaemon_file(&certs, "server.key"),
			"--tokens", hdaemon_file(&certs, "tokens"),
			"--metrics-listen", "127.0.0.1:0", "--foreground",
			NULL
		};
		while (base[n] != NULL)
			argv[n] = base[n], n++;
	}
	while (old != NULL && *old != NULL && n < 48)
		argv[n++] = *old++;
	while (!old_daemon() && added != NULL && *added != NULL && n < 62)
		argv[n++] = *added++;
	argv[n] = NULL;
	if ((how.err = open(hdaemon_file(&dmn, "log"),
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    pipe2(p, O_CLOEXEC) != 0)
		return -1;
	how.out = p[1];
	dmn.pid = hspawn(argv, &how);
	close(p[1]);
	close(how.err);
	return hdaemon_ports(p[0], &tls_port, &metrics_port);
}

#define OPTS(...)	((const char *const []){ __VA_ARGS__, NULL })

static void stop(void)
{
	assert_int_equal(hdaemon_stop(&dmn), 0);
}

/* --- clients ---------------------------------------------------------------- */

/* A Unix client through its hello: the seconds it took, or -1. */
static double unix_client(struct client *c)
{
	double t0 = now();

	if (!cl_open_unix(c, dmn.sock, 0, true) || !cl_hello(c))
		return -1;
	return now() - t0;
}

/* A TLS client (from 127.0.0.1) through its handshake and hello with the
 * token: the seconds it took, or -1. */
static double tls_client(struct client *c)
{
	SSL_CTX *ctx = htls_ctx(certs.tmpdir, NULL, 0);
	double t0 = now();

	if (ctx == NULL)
		return -1;
	if (cl_open_tls(c, tls_port, ctx, 0) != 1 ||
	    code_of(cl_hello_token(c, TOKEN)) != ASPACE__STATUS__CODE__OK)
		return -1;
	return now() - t0;
}

/* n TCP connections from src that send nothing into fds: how many were
 * made (each one connected; the daemon may close some at once). */
static int flood(int *fds, int n, const char *src)
{
	int i;

	for (i = 0; i < n; i++)
		if ((fds[i] = tcp_from(src, tls_port)) < 0)
			break;
	return i;
}

/* n from 127.0.0.2 to 127.0.0.(addrs + 1), in turn. */
static int flood_many(int *fds, int n, int addrs)
{
	char src[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % addrs);
		if ((fds[i] = tcp_from(src, tls_port)) < 0)
			break;
	}
	return i;
}

static void close_all(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* Whether 127.0.0.2 can be a source address here. */
static bool have_second_address(void)
{
	int fd = tcp_from("127.0.0.2", metrics_port);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A hello frame, for dribbling: its length. */
static size_t hello_frame(uint8_t *buf, size_t size)
{
	Aspace__Request r;
	Aspace__HelloRequest h;
	long n;

	req_hello(&r, &h, NULL);
	r.id = 7;
	n = frame_encode(&r.base, 0, buf, size);
	assert_true(n > FRAME_HEADER_SIZE);
	return (size_t)n;
}

/* --- the tests --------------------------------------------------------------- */

/* The report's figures on stderr. */
static void figure(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "test_admission: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void test_handshake_flood(void **state)
{
	enum { N = 60 };
	struct client u, t;
	int fds[N], n, held;
	double tu, tt;

	(void)state;
	assert_int_equal(start(OPTS("--max-connections", "48"),
	    OPTS("--handshake-timeout", "30")), 0);
	if (!have_second_address()) {
		stop();
		skip();
	}
	n = flood(fds, N, "127.0.0.2");
	assert_int_equal(n, N);
	sleep_ms(300);		/* all accepted (or refused) */
	held = (int)metric("aspaced_connections");
	tu = unix_client(&u);
	tt = tls_client(&t);
	figure("flood of %d from 127.0.0.2: %d held; a Unix client in %.3f s, "
	    "a TLS client in %.3f s", N, held, tu, tt);
	assert_true(tu >= 0 && tu < 1.0);
	assert_true(tt >= 0 && tt < 1.0);
	cl_close(&u);
	cl_close(&t);
	close_all(fds, n);
	/* Every slot back at once (no handshake timeout to wait for). */
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	if (!old_daemon())
		assert_true(metric("aspaced_connections_unauthenticated") == 0);
	stop();
}

static void test_idle_never_handshaked(void **state)
{
	enum { N = 10 };
	int fds[N], i;
	double t0;

	(void)state;
	assert_int_equal(start(OPTS("--idle-timeout", "0.5"),
	    OPTS("--handshake-timeout", "0")), 0);
	assert_int_equal(flood(fds, N, NULL), N);
	assert_true(metric_comes_to("aspaced_connections", N, 2000));
	t0 = now();
	/* Freed by the daemon while the peers still hold them. */
	assert_true(metric_comes_to("aspaced_connections", 0, 3000));
	figure("%d never-handshaked connections freed %.2f s after the "
	    "count (idle timeout 0.5 s)", N, now() - t0);
	for (i = 0; i < N; i++)
		assert_true(closed_within(fds[i], 500));
	close_all(fds, N);
	stop();
}

/* Send len bytes of buf one every 200 ms over c (TLS or not) until the
 * daemon closes: the seconds it took, or -1 if it never did (within 4 s
 * or the frame). */
static double dribble(struct client *c, const uint8_t *buf, size_t len)
{
	double t0 = now();
	size_t i;

	for (i = 0; i < len && now() - t0 < 4.0; i++) {
		if (!cl_write_all(c, buf + i, 1))
			return now() - t0;
		if (closed_within(c->fd, 200))
			return now() - t0;
	}
	return -1;
}

static void test_slowloris_unix(void **state)
{
	struct client c;
	uint8_t buf[256];
	size_t len;
	double t;

	(void)state;
	assert_int_equal(start(OPTS("--idle-timeout", "10"),
	    OPTS("--frame-timeout", "0.6")), 0);
	assert_true(unix_client(&c) >= 0);
	len = hello_frame(buf, sizeof(buf));
	t = dribble(&c, buf, len);
	figure("Unix: a frame a byte every 200 ms closed after %.2f s "
	    "(frame timeout 0.6 s)", t);
	assert_true(t >= 0.4 && t < 1.5);
	cl_close(&c);
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	stop();
}

/* A ClientHello's bytes, from a TLS client on memory BIOs. */
static size_t client_hello(uint8_t *buf, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int n;

	SSL_set_bio(ssl, rb, wb);
	SSL_set_connect_state(ssl);
	(void)SSL_do_handshake(ssl);
	n = BIO_read(wb, buf, (int)size);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return n > 0 ? (size_t)n : 0;
}

static void test_slowloris_tls_handshake(void **state)
{
	struct client c;
	uint8_t buf[4096];
	size_t len;
	double t;

	(void)state;
	assert_int_equal(start(OPTS("--idle-timeout", "10"),
	    OPTS("--handshake-timeout", "0.8")), 0);
	assert_true((len = client_hello(buf, sizeof(buf))) > 100);
	cl_init(&c, 0);
	assert_true((c.fd = tcp_from(NULL, tls_port)) >= 0);
	t = dribble(&c, buf, len);
	figure("TLS: a ClientHello a byte every 200 ms closed after %.2f s "
	    "(handshake timeout 0.8 s)", t);
	assert_true(t >= 0.6 && t < 1.8);
	cl_close(&c);
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	if (!old_daemon())
		assert_true(metric("aspaced_connections_dropped_total"
		    "{reason=\"handshake_timeout\"}") == 1);
	stop();
}

static void test_slowloris_tls_frame(void **state)
{
	struct client c;
	uint8_t buf[256];
	size_t len;
	double t;

	(void)state;
	assert_int_equal(start(OPTS("--idle-timeout", "10"),
	    OPTS("--frame-timeout", "0.6")), 0);
	assert_true(tls_client(&c) >= 0);
	len = hello_frame(buf, sizeof(buf));
	t = dribble(&c, buf, len);	/* a record a byte */
	figure("TLS: a frame a byte every 200 ms closed after %.2f s "
	    "(frame timeout 0.6 s)", t);
	assert_true(t >= 0.4 && t < 1.5);
	cl_close(&c);
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	if (!old_daemon())
		assert_true(metric("aspaced_connections_dropped_total"
		    "{reason=\"frame_timeout\"}") == 1);
	stop();
}

static void test_per_address(void **state)
{
	struct client t[5];
	int raw[3], i;

	(void)state;
	assert_int_equal(start(NULL, OPTS("--max-connections-per-address",
	    "4", "--max-unauth-per-address", "2")), 0);
	/* Two unauthenticated ones held; a third is closed at once. */
	assert_int_equal(flood(raw, 3, NULL), 3);
	assert_false(closed_within(raw[0], 300));
	assert_false(closed_within(raw[1], 10));
	assert_true(closed_within(raw[2], 1000));
	close_all(raw, 3);
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	/* Four authenticated ones; a fifth is closed at once. */
	for (i = 0; i < 4; i++)
		assert_true(tls_client(&t[i]) >= 0);
	cl_init(&t[4], 0);
	assert_true((t[4].fd = tcp_from(NULL, tls_port)) >= 0);
	assert_true(closed_within(t[4].fd, 1000));
	/* The Unix socket has no address: not limited. */
	{
		struct client u;

		assert_true(unix_client(&u) >= 0);
		cl_close(&u);
	}
	for (i = 0; i < 5; i++)
		cl_close(&t[i]);
	if (!old_daemon()) {
		assert_true(metric("aspaced_connections_refused_total"
		    "{reason=\"per_address_unauthenticated\"}") == 1);
		assert_true(metric("aspaced_connections_refused_total"
		    "{reason=\"per_address\"}") == 1);
	}
	stop();
}

/* A full unauthenticated pool of stalled connections (no handshake
 * begun in 1 s) takes a TLS client all the same: the oldest stalled one
 * is closed for it. */
static void test_evict(void **state)
{
	enum { N = 8 };
	struct client t;
	int fds[N], i, closed = 0;
	double tt;

	(void)state;
	if (old_daemon())
		skip();
	assert_int_equal(start(NULL, OPTS("--max-unauth-connections", "8",
	    "--unauth-drop-start", "0", "--max-unauth-per-address", "0",
	    "--handshake-timeout", "30")), 0);
	assert_int_equal(flood(fds, N, NULL), N);
	assert_true(metric_comes_to("aspaced_connections_unauthenticated", N,
	    2000));
	sleep_ms(1200);
	tt = tls_client(&t);
	figure("a full pool of %d stalled: a TLS client in %.3f s", N, tt);
	assert_true(tt >= 0 && tt < 1.0);
	assert_true(metric("aspaced_connections_dropped_total"
	    "{reason=\"evicted\"}") == 1);
	assert_true(metric("aspaced_connections_unauthenticated") == N - 1);
	for (i = 0; i < N; i++)
		closed += closed_within(fds[i], i == 0 ? 300 : 10);
	assert_int_equal(closed, 1);
	cl_close(&t);
	close_all(fds, N);
	assert_true(metric_comes_to("aspaced_connections", 0, 1000));
	stop();
}

/* Open a connection that sends nothing until one is held (not closed
 * within 200 ms), up to ms: its fd, or -1. */
static int held_within(int ms)
{
	double end = now() + ms / 1000.0;
	int fd;

	do {
		if ((fd = tcp_from(NULL, tls_port)) >= 0 &&
		    !closed_within(fd, 200))
			return fd;
		if (fd >= 0)
			close(fd);
	} while (now() < end);
	return -1;
}

/* The limits from the configuration file change at SIGHUP. */
static void test_reload(void **state)
{
	char conf[160];
	int a, b;

	(void)state;
	if (old_daemon())
		skip();
	/* The file lives in the certificates' directory: start() makes
	 * the daemon's. */
	snprintf(conf, sizeof(conf), "%s", hdaemon_file(&certs, "adm.conf"));
	assert_true(hwrite_file(conf, "max-unauth-per-address 1\n"));
	assert_int_equal(start(OPTS("--config", conf), NULL), 0);
	assert_true((a = held_within(1000)) >= 0);
	assert_true((b = tcp_from(NULL, tls_port)) >= 0);
	assert_true(closed_within(b, 1000));
	close(b);
	assert_true(hwrite_file(conf, "max-unauth-per-address 2\n"));
	assert_int_equal(kill(dmn.pid, SIGHUP), 0);
	assert_true((b = held_within(3000)) >= 0);
	close(a);
	close(b);
	unlink(conf);
	stop();
}

/* ADM_SOAK_SECONDS of floods of 256 connections that never handshake,
 * from 127.0.0.2 or from 16 addresses (closed, or every third held past
 * the 2 s handshake deadline), with a Unix and a TLS client timed in
 * each; the connections back to 0 at the end. */
static void test_soak(void **state)
{
	const char *s = getenv("ADM_SOAK_SECONDS");
	int secs = s != NULL ? atoi(s) : 0, fds[FLOOD_MAX], n, round = 0;
	double end, tu, tt, worst_u = 0, worst_t = 0;
	struct client u, t;

	(void)state;
	if (secs <= 0)
		skip();
	if (secs > 600)
		secs = 600;
	assert_int_equal(start(NULL, OPTS("--handshake-timeout", "2",
	    "--frame-timeout", "2")), 0);
	if (!have_second_address()) {
		stop();
		skip();
	}
	end = now() + secs;
	while (now() < end) {
		/* One address, or 16 that fill the pool: clients then get in
		 * by eviction, once the flood is a second old. */
		if (round % 2 == 0)
			n = flood(fds, FLOOD_MAX, "127.0.0.2");
		else
			n = flood_many(fds, FLOOD_MAX, 16);
		sleep_ms(1100);
		tu = unix_client(&u);
		tt = tls_client(&t);
		if (tu < 0 || tt < 0)
			figure("round %d (%d connections): Unix client %.3f s, "
			    "TLS %.3f s; %g unauthenticated", round, n, tu, tt,
			    metric("aspaced_connections_unauthenticated"));
		assert_true(tu >= 0 && tt >= 0);
		worst_u = tu > worst_u ? tu : worst_u;
		worst_t = tt > worst_t ? tt : worst_t;
		cl_close(&u);
		cl_close(&t);
		if (++round % 3 != 0)
			close_all(fds, n);
		else {	/* held past the deadline: freed */
			sleep_ms(2500);
			assert_true(metric("aspaced_connections") == 0);
			close_all(fds, n);
		}
	}
	assert_true(metric_comes_to("aspaced_connections", 0, 3000));
	figure("soak %d s, %d rounds: worst Unix client %.3f s, TLS %.3f s",
	    secs, round, worst_u, worst_t);
	assert_true(worst_u < 1.0 && worst_t < 1.0);
	stop();
}

static int setup(void **state)
{
	*state = &certs;
	if (hdaemon_mkdir(&certs, "admcerts") != 0 ||
	    hcerts(certs.tmpdir) != 0 ||
	    !hwrite_file(hdaemon_file(&certs, "tokens"), TOKEN " bob\n"))
		return -1;
	certs.pid = -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dmn.pid > 0)
		hdaemon_stop(&dmn);
	return hdaemon_stop(&certs);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_flood),
		cmocka_unit_test(test_idle_never_handshaked),
		cmocka_unit_test(test_slowloris_unix),
		cmocka_unit_test(test_slowloris_tls_handshake),
		cmocka_unit_test(test_slowloris_tls_frame),
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_evict),
		cmocka_unit_test(test_soak),
	};

	if ((daemon_path = hdaemon_path(argc, argv, "test_admission")) == NULL)
		return 1;
	if (!hhave_openssl()) {
		fprintf(stderr, "test_admission: SKIP: the openssl command is "
		    "missing (Debian package: openssl)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_systemd.c: aspaced under the systemd protocols, without systemd
 * (daemon/sd.h, daemon/service.h).  It runs the built aspaced ($ASPACED
 * or argv[1]) as systemd would: with its own datagram socket as
 * $NOTIFY_SOCKET, and for socket activation with a Unix socket and a TCP
 * port it bound itself passed as descriptors 3 and 4 ($LISTEN_FDS,
 * $LISTEN_FDNAMES, $LISTEN_PID set in the child before the exec).  It
 * checks:
 *   - socket activation: the passed sockets are served (traces run with
 *     the built aspace, $ASPACE or argv[2], through each print what
 *     aspace run --local prints), the Unix one is not unlinked at the
 *     end; LISTEN_PID of another process is ignored;
 *   - notifications: READY=1 (with STATUS=) only once the sockets
 *     accept; STATUS= when the counts change; RELOADING=1 with a
 *     MONOTONIC_USEC= taken between the test's clock readings around
 *     SIGHUP, then READY=1; STOPPING=1 at SIGTERM; exit status 0;
 *   - the watchdog: WATCHDOG=1 every WATCHDOG_USEC/2, none for another
 *     WATCHDOG_PID; in debug builds a worker stalled on purpose
 *     (SIGUSR2) stops the pings, which come back after;
 *   - SIGHUP under load: clients on long-lived and on fresh TLS
 *     connections run requests while the certificate is replaced by one
 *     from another CA, back and forth, and once by a broken file: no
 *     request fails; afterwards a new connection verifies against the new
 *     CA and not the old; a token added to the token file works after
 *     SIGHUP, and a broken token file keeps the old tokens; a client
 *     certificate from the other CA is refused until the client CA file
 *     names that CA and SIGHUP is sent;
 *   - SIGTERM's drain: a slow run_trace and 300 requests pipelined
 *     behind it, and a slow one over TLS, are all answered after SIGTERM,
 *     new connections are refused meanwhile, and aspaced exits 0;
 *     idle connections do not hold it up; an answer its client does not
 *     read holds it until --drain-timeout, which is said, and then exit 0.
 * Certificates come from tests/daemon/certs.sh (skipped, exit 77,
 * without the openssl command).  Loopback only.
 *
 * Here the tests; the daemon's running and the other helpers:
 * test_systemd-util.c (test_systemd.h).
 */
#include "test_systemd.h"

/* --- socket activation -------------------------------------------------------- */

/* aspace run through url prints what aspace run --local prints. */
static void run_through(const char *url)
{
	char cmd[768], *want, *got;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' run --local '%s'", client_path,
	    tmp_file("small.trace"));
	want = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	snprintf(cmd, sizeof(cmd), "'%s' --connect '%s' --ca '%s' --token '%s' "
	    "run '%s'", client_path, url, tmp_file("ca.pem"), BOB_TOKEN,
	    tmp_file("small.trace"));
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(want);
	free(got);
}

static void test_activation(void **state)
{
	char cert[160], key[160], tok[160], unix_url[200], name[64];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key,
	    "--tokens", tok, NULL };
	const char *env[] = { "LISTEN_FDNAMES=unix:tls", NULL };
	static struct daemon d;	/* reap() may see it after a failure */
	int pass[2], port;
	struct stat sb;

	(void)state;
	snprintf(cert, sizeof(cert), "%s", tmp_file("cur.pem"));
	snprintf(key, sizeof(key), "%s", tmp_file("cur.key"));
	snprintf(tok, sizeof(tok), "%s", tmp_file("tokens"));
	pass[0] = bind_unix(tmp_file("act.sock"));
	pass[1] = bind_tcp(&port);
	/* An abstract notify socket this time. */
	snprintf(name, sizeof(name), "@aspace-test-notify-%d", (int)getpid());
	spawn(&d, args, env, name, pass, 2);
	close(pass[0]);
	close(pass[1]);
	read_listening(&d, 2);
	assert_string_equal(d.unix_path, tmp_file("act.sock"));
	assert_int_equal(d.port, port);
	expect_ready(&d);
	snprintf(unix_url, sizeof(unix_url), "unix:%s", d.unix_path);
	run_through(unix_url);
	run_through(d.url);
	assert_int_equal(stop(&d), 0);
	assert_non_null(notify_expect(&d, "STOPPING", "1", 1000));
	/* systemd's socket: left where it was. */
	assert_int_equal(stat(tmp_file("act.sock"), &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	daemon_free(&d);
}

/* Descriptors for another process are not ours: no listener at all. */
static void test_activation_other_pid(void **state)
{
	char own[200], listen[210];
	const char *args[] = { "--listen", listen, NULL };
	const char *env[] = { "LISTEN_PID=1", NULL };
	static struct daemon d;	/* reap() may see it after a failure */
	int pass[1];

	(void)state;
	snprintf(own, sizeof(own), "%s", tmp_file("own.sock"));
	snprintf(listen, sizeof(listen), "unix:%s", own);
	pass[0] = bind_unix(tmp_file("act2.sock"));
	spawn(&d, args, env, tmp_file("notify"), pass, 1);
	close(pass[0]);
	/* The passed socket is not its: it serves its own --listen. */
	read_listening(&d, 1);
	assert_string_equal(d.unix_path, own);
	assert_int_equal(stop(&d), 0);
	daemon_free(&d);
}

/* --- notifications ------------------------------------------------------------- */

static void test_notify(void **state)
{
	static struct daemon d;	/* reap() may see it after a failure */
	struct asc_client *c;
	struct asc_status st;
	uint8_t sid[ASC_SESSION_ID_LEN];
	unsigned long long mono;
	uint64_t t0, t1;
	struct msg *m;
	char url[200];

	(void)state;
	spawn(&d, own_args(NULL, NULL), NULL, tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	/* READY=1 came after the sockets were bound: they answer now. */
	read_listening(&d, 2);
	snprintf(url, sizeof(url), "unix:%s", d.unix_path);
	assert_non_null(c = connect_hello(url, NULL, NULL));
	assert_int_equal(asc_session_create(c, NULL, sid, &st), 0);
	/* A connection and a session more: said within about a second. */
	m = notify_expect(&d, "STATUS", "1 connections, 1 sessions, 0 "
	    "requests/s", 5000);
	assert_non_null(m);
	/* SIGHUP: RELOADING=1 with our clock's time, then READY=1. */
	t0 = now_usec();
	kill(d.pid, SIGHUP);
	assert_non_null(m = notify_expect(&d, "RELOADING", "1", 10000));
	t1 = now_usec();
	assert_non_null(msg_get(m, "MONOTONIC_USEC"));
	mono = strtoull(msg_get(m, "MONOTONIC_USEC"), NULL, 10);
	assert_true(mono >= t0 && mono <= t1);
	expect_ready(&d);
	/* The connection made before the reload still works. */
	assert_int_equal(asc_session_destroy(c, sid, &st), 0);
	asc_close(c);
	assert_int_equal(stop(&d), 0);
	assert_non_null(m = notify_expect(&d, "STOPPING", "1", 1000));
	assert_non_null(strstr(msg_get(m, "STATUS"), "draining"));
	/* Its own socket: unlinked. */
	assert_int_equal(try_unix(d.unix_path), ENOENT);
	daemon_free(&d);
}

/* --- the watchdog ----------------------------------------------------------------- */

/* How many WATCHDOG=1 came in ms, and the longest gap between two. */
static int count_pings(struct daemon *d, unsigned int ms, uint64_t *gap)
{
	uint64_t end = now_usec() + (uint64_t)ms * 1000, last = now_usec();
	struct msg *m;
	int n = 0;

	*gap = 0;
	while (now_usec() < end) {
		if ((m = notify_expect(d, "WATCHDOG", "1",
		    (int)((end - now_usec()) / 1000) + 1)) == NULL)
			break;
		if (m->t > end)
			break;
		if (m->t - last > *gap)
			*gap = m->t - last;
		last = m->t;
		n++;
	}
	if (end - last > *gap)
		*gap = end - last;
	return n;
}

static void test_watchdog(void **state)
{
	const char *env[] = { "WATCHDOG_USEC=400000", NULL };
	static struct daemon d;	/* reap() may see it after a failure */
	uint64_t gap;
	int n;

	(void)state;
	spawn(&d, own_args(NULL, NULL), env, tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	/* Every 200 ms: some 7 in 1.5 s; a loaded machine may lose some. */
	n = count_pings(&d, 1500, &gap);
	assert_true(n >= 3);
#ifdef ASPACE_DEBUG
	/* A worker stuck for 3 periods (1.2 s, at least 1 s): no ping for
	 * the most of it, then they come back. */
	kill(d.pid, SIGUSR2);
	n = count_pings(&d, 2500, &gap);
	assert_true(gap >= 900000);
	n = count_pings(&d, 1000, &gap);
	assert_true(n >= 2);
#endif
	assert_int_equal(stop(&d), 0);
	daemon_free(&d);
}

static void test_watchdog_other_pid(void **state)
{
	const char *env[] = { "WATCHDOG_USEC=200000", "WATCHDOG_PID=1", NULL };
	static struct daemon d;	/* reap() may see it after a failure */
	uint64_t gap;

	(void)state;
	spawn(&d, own_args(NULL, NULL), env, tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	assert_int_equal(count_pings(&d, 800, &gap), 0);
	assert_int_equal(stop(&d), 0);
	daemon_free(&d);
}

/* --- SIGHUP under load ---------------------------------------------------------- */

struct load {
	pthread_t	 thread;
	const char	*url;
	const char	*ca;
	bool		 fresh;		/* a new connection per request */
	int		*stop;		/* atomic */
	unsigned long	 ok, failed;
	char		 why[300];
};

static void *load_main(void *arg)
{
	struct load *l = arg;
	struct asc_session_info *list;
	struct asc_client *c = NULL;
	struct asc_status st;
	char buf[256];
	size_t n;

	while (!__atomic_load_n(l->stop, __ATOMIC_RELAXED)) {
		if (c == NULL && (c = connect_hello(l->url, l->ca,
		    BOB_TOKEN)) == NULL) {
			l->failed++;
			snprintf(l->why, sizeof(l->why), "connect or hello");
			continue;
		}
		if (asc_session_list(c, &list, &n, &st) == 0) {
			l->ok++;
			free(list);
		} else {
			l->failed++;
			snprintf(l->why, sizeof(l->why), "%s",
			    asc_status_str(&st, buf, sizeof(buf)));
		}
		if (l->fresh) {
			asc_close(c);
			c = NULL;
		}
	}
	if (c != NULL)
		asc_close(c);
	return NULL;
}

/* SIGHUP, and wait for RELOADING=1 then READY=1. */
static void reload(struct daemon *d)
{
	kill(d->pid, SIGHUP);
	assert_non_null(notify_expect(d, "RELOADING", "1", 10000));
	assert_non_null(notify_expect(d, "READY", "1", 10000));
}

static void test_reload_under_load(void **state)
{
	struct load l[4];
	static struct daemon d;	/* reap() may see it after a failure */
	struct asc_client *c;
	char client_ca[160];
	int stop_flag = 0, i;
	unsigned long ok = 0;

	(void)state;
	snprintf(client_ca, sizeof(client_ca), "%s", tmp_file("client-ca.pem"));
	install(tmp_file("ca.pem"), client_ca);
	spawn(&d, own_args("--tls-client-ca", client_ca), NULL,
	    tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	read_listening(&d, 2);
	memset(l, 0, sizeof(l));
	for (i = 0; i < 4; i++) {
		l[i].url = d.url;
		l[i].ca = tmp_file("both.pem");
		l[i].ca = strdup(l[i].ca);
		l[i].fresh = i >= 2;
		l[i].stop = &stop_flag;
		assert_int_equal(pthread_create(&l[i].thread, NULL,
		    load_main, &l[i]), 0);
	}
	sleep_ms(200);
	/* To the other CA's certificate and back, and a broken one. */
	for (i = 0; i < 5; i++) {
		install(tmp_file(i % 2 == 0 ? "server2.pem" : "server.pem"),
		    tmp_file("cur.pem"));
		install(tmp_file(i % 2 == 0 ? "server2.key" : "server.key"),
		    tmp_file("cur.key"));
		reload(&d);
		sleep_ms(150);
		if (i == 2) {
			assert_true(write_file(tmp_file("cur.pem"),
			    "not a certificate\n"));
			reload(&d);
			sleep_ms(150);
		}
	}
	/* cur.pem is broken again for the end: server2's context stays. */
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++) {
		pthread_join(l[i].thread, NULL);
		if (l[i].failed != 0)
			fprintf(stderr, "load %d: %lu failed: %s\n", i,
			    l[i].failed, l[i].why);
		assert_int_equal(l[i].failed, 0);
		assert_true(l[i].ok > 0);
		ok += l[i].ok;
		free((void *)l[i].ca);
	}
	fprintf(stderr, "%lu requests, no failure, across 6 reloads\n", ok);
	/* Now the other CA's: the old CA no longer verifies it. */
	assert_null(connect_hello(d.url, tmp_file("ca.pem"), BOB_TOKEN));
	assert_non_null(c = connect_hello(d.url, tmp_file("other.pem"),
	    BOB_TOKEN));
	asc_close(c);
	/* Tokens: a new one after SIGHUP; a broken file keeps them. */
	assert_null(connect_hello(d.url, tmp_file("other.pem"), CAROL_TOKEN));
	assert_true(write_file(tmp_file("tokens"), BOB_TOKEN " bob\n"
	    CAROL_TOKEN " carol\n"));
	reload(&d);
	assert_non_null(c = connect_hello(d.url, tmp_file("other.pem"),
	    CAROL_TOKEN));
	assert_string_equal(asc_tenant(c), "token:carol");
	asc_close(c);
	assert_true(write_file(tmp_file("tokens"), "short x\n"));
	reload(&d);
	assert_non_null(c = connect_hello(d.url, tmp_file("other.pem"),
	    CAROL_TOKEN));
	asc_close(c);
	/* Client certificates: the client CA file is read again too (with
	 * a good certificate file back in place). */
	install(tmp_file("server2.pem"), tmp_file("cur.pem"));
	assert_string_equal(cert_tenant(d.url, "alice"), "cert:alice");
	assert_null(cert_tenant(d.url, "mallory"));
	install(tmp_file("other.pem"), client_ca);
	reload(&d);
	assert_string_equal(cert_tenant(d.url, "mallory"), "cert:mallory");
	assert_null(cert_tenant(d.url, "alice"));
	assert_int_equal(stop(&d), 0);
	daemon_free(&d);
}

/* --- SIGTERM's drain ------------------------------------------------------------- */

/* A trace that keeps a pool thread busy for a second or more. */
static char *slow_trace(size_t *len)
{
	size_t cap = 400000, n = 0;
	char *t = malloc(cap);
	unsigned long a;
	int i;

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n, "window 0x200000000000 "
	    "0x10000000\n");
	for (i = 0; i < 4000 && cap - n > 200; i++) {
		a = 0x200000000000UL + (unsigned long)(i % 512) * 0x10000;
		n += (size_t)snprintf(t + n, cap - n,
		    "mmap 0x%lx 64K rw- private,anon,fixed\n"
		    "write 0x%lx 0x41\nmunmap 0x%lx 64K\n", a, a + 0x1000, a);
	}
	*len = n;
	return t;
}

/* A trace whose output (about 500 KiB: 400 VMAs, listed 25 times) is
 * more than a socket holds: a client that does not read keeps part of
 * the answer in the daemon, however fast the trace ran. */
static char *big_output_trace(size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *t = malloc(cap);
	int i;

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n, "window 0x200000000000 "
	    "0x10000000\n");
	for (i = 0; i < 400 && cap - n > 100; i++)	/* none merge */
		n += (size_t)snprintf(t + n, cap - n, "mmap 0x%lx 4K %s "
		    "private,anon,fixed\n", 0x200000000000UL +
		    (unsigned long)i * 0x1000, i % 2 ? "r--" : "rw-");
	for (i = 0; i < 25 && cap - n > 10; i++)
		n += (size_t)snprintf(t + n, cap - n, "maps\n");
	*len = n;
	return t;
}

static void send_slow(struct asc_client *c, const char *text, size_t len)
{
	Aspace__Request r;
	Aspace__RunTraceRequest t;
	struct asc_status st;

	asc_run_trace_request(&r, &t, NULL, text, len, NULL);
	assert_int_equal(asc_send(c, &r, &st), 0);
}

static void send_list(struct asc_client *c)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionListRequest l = ASPACE__SESSION_LIST_REQUEST__INIT;
	struct asc_status st;

	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &l;
	assert_int_equal(asc_send(c, &r, &st), 0);
}

/* n responses, each OK, then a clean end of the connection (for TLS, a
 * close_notify: else the client library says "reading from the daemon"). */
static void expect_answers(struct asc_client *c, int n)
{
	struct asc_reply *rp;
	struct asc_status st;
	char buf[256];
	int i;

	for (i = 0; i < n; i++) {
		assert_int_equal(asc_recv(c, &rp, &st), 0);
		if (asc_reply_status(rp, &st) != 0)
			fail_msg("response %d: %s", i,
			    asc_status_str(&st, buf, sizeof(buf)));
		asc_reply_free(rp);
	}
	assert_int_not_equal(asc_recv(c, &rp, &st), 0);
	assert_string_equal(st.message, "the daemon closed the connection");
}

static void test_drain(void **state)
{
	struct asc_client *a, *b;
	static struct daemon d;	/* reap() may see it after a failure */
	char url[200];
	size_t len;
	char *text = slow_trace(&len);
	int i, st;

	(void)state;
	spawn(&d, own_args("--drain-timeout", "120"), NULL,
	    tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	read_listening(&d, 2);
	snprintf(url, sizeof(url), "unix:%s", d.unix_path);
	assert_non_null(a = connect_hello(url, NULL, NULL));
	assert_non_null(b = connect_hello(d.url, tmp_file("ca.pem"),
	    BOB_TOKEN));
	/* A slow request with 300 behind it, all sent before SIGTERM. */
	send_slow(a, text, len);
	for (i = 0; i < 300; i++)
		send_list(a);
	send_slow(b, text, len);
	sleep_ms(100);
	kill(d.pid, SIGTERM);
	assert_non_null(notify_expect(&d, "STOPPING", "1", 10000));
	/* Draining: no new connection, while still at work. */
	assert_int_not_equal(try_unix(d.unix_path), 0);
	assert_int_equal(try_tcp(d.port), ECONNREFUSED);
	assert_int_equal(waitpid(d.pid, &st, WNOHANG), 0);
	/* Every answer comes, then the end. */
	expect_answers(a, 301);
	expect_answers(b, 1);
	asc_close(a);
	asc_close(b);
	assert_int_equal(wait_exit(&d), 0);
	daemon_free(&d);
	free(text);
}

/* Idle connections do not hold the drain up. */
static void test_drain_idle(void **state)
{
	struct asc_client *a, *b;
	static struct daemon d;	/* reap() may see it after a failure */
	char url[200];
	uint64_t t0;

	(void)state;
	spawn(&d, own_args(NULL, NULL), NULL, tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	read_listening(&d, 2);
	snprintf(url, sizeof(url), "unix:%s", d.unix_path);
	assert_non_null(a = connect_hello(url, NULL, NULL));
	assert_non_null(b = connect_hello(d.url, tmp_file("ca.pem"),
	    BOB_TOKEN));
	t0 = now_usec();
	assert_int_equal(stop(&d), 0);
	assert_true(now_usec() - t0 < 5000000);	/* well before 10 s */
	/* Closed cleanly: an end (a close_notify over TLS), not a reset. */
	expect_answers(a, 0);
	expect_answers(b, 0);
	asc_close(a);
	asc_close(b);
	daemon_free(&d);
}

/* An answer that outlasts --drain-timeout (its client reads nothing,
 * and it is more than the socket holds): the drain ends at the timeout,
 * said on stderr, and aspaced still exits 0. */
static void test_drain_timeout(void **state)
{
	struct asc_client *a;
	static struct daemon d;	/* reap() may see it after a failure */
	char url[200], cmd[512];
	size_t len;
	char *text = big_output_trace(&len);

	(void)state;
	spawn(&d, own_args("--drain-timeout", "0.2"), NULL,
	    tmp_file("notify"), NULL, 0);
	expect_ready(&d);
	read_listening(&d, 2);
	snprintf(url, sizeof(url), "unix:%s", d.unix_path);
	assert_non_null(a = connect_hello(url, NULL, NULL));
	send_slow(a, text, len);
	sleep_ms(100);
	assert_int_equal(stop(&d), 0);
	snprintf(cmd, sizeof(cmd), "grep -q 'drain timeout: closing 1 "
	    "connections' '%s'", tmp_file("daemon.log"));
	assert_int_equal(system(cmd), 0);
	asc_close(a);
	daemon_free(&d);
	free(text);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_activation, prepare, reap),
		cmocka_unit_test_setup_teardown(test_activation_other_pid, prepare, reap),
		cmocka_unit_test_setup_teardown(test_notify, prepare, reap),
		cmocka_unit_test_setup_teardown(test_watchdog, prepare, reap),
		cmocka_unit_test_setup_teardown(test_watchdog_other_pid, prepare, reap),
		cmocka_unit_test_setup_teardown(test_reload_under_load, prepare, reap),
		cmocka_unit_test_setup_teardown(test_drain, prepare, reap),
		cmocka_unit_test_setup_teardown(test_drain_idle, prepare, reap),
		cmocka_unit_test_setup_teardown(test_drain_timeout, prepare, reap),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	client_path = argc > 2 ? argv[2] : getenv("ASPACE");
	if (daemon_path == NULL)
		daemon_path = "daemon/aspaced";
	if (client_path == NULL)
		client_path = "client/aspace";
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_systemd: no openssl command: skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}

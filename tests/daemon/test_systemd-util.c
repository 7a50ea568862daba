/*
 * test_systemd-util.c: test_systemd's helpers (test_systemd.h): files
 * and sockets, running aspaced as systemd would (its own notify socket,
 * descriptors passed for socket activation) and reading its
 * notifications, stopping it, clients over TLS, the setup and teardown
 * of the temporary directory with the test certificates.
 */
#include "test_systemd.h"

const char *daemon_path;
const char *client_path;
char tmpdir[64];

const char small_trace[] =
	"mmap 0x200000000000 16K rw- private,anon,fixed\n"
	"write 0x200000000000 0x41\n"
	"fork\n"
	"switch 2\n"
	"write 0x200000001000 0x42\n"
	"read 0x200000000000\n"
	"maps\n";

/* --- helpers ---------------------------------------------------------------- */

char *tmp_file(const char *name)
{
	static char path[8][160];
	static int next;
	char *p = path[next++ % 8];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* Copy from into to through a rename, as an administrator would. */
void install(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.new' && mv '%s.new' '%s'",
	    from, to, to, to);
	assert_int_equal(system(cmd), 0);
}

/* A Unix listening socket at path, or a TCP one on 127.0.0.1 (*port). */
int bind_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

int bind_tcp(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Plain connects: 0, or the errno. */
int try_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		err = errno;
	close(fd);
	return err;
}

int try_tcp(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		err = errno;
	close(fd);
	return err;
}

/* --- the daemon, as systemd runs it ----------------------------------------- */

static struct daemon *live;	/* the one running, for reap() */

/* Our notify socket: a path, or an abstract name ("@..."). */
static int notify_socket(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		unlink(name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

/*
 * Start aspaced with args (NULL-ended) and env ("K=V", NULL-ended), the
 * notify socket notify_name, and the npass descriptors pass[] as 3, 4...
 * with LISTEN_FDS and LISTEN_PID (the child's own, unless env sets one).
 */
void spawn(struct daemon *d, const char *const *args,
    const char *const *env, const char *notify_name, const int *pass,
    int npass)
{
	const char *argv[40];
	int p[2], i, n = 0;
	char num[32];

	memset(d, 0, sizeof(*d));
	live = d;
	d->msgs = calloc(MSG_MAX, sizeof(*d->msgs));
	assert_non_null(d->msgs);
	d->notify = notify_socket(notify_name);
	argv[n++] = daemon_path;
	for (i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if ((d->pid = fork()) == 0) {
		int high[4];

		for (i = 0; i < npass; i++)
			high[i] = fcntl(pass[i], F_DUPFD, 64);
		for (i = 0; i < npass; i++)
			dup2(high[i], 3 + i);
		dup2(p[1], 1);
		if ((i = open(tmp_file("daemon.log"), O_WRONLY | O_CREAT |
		    O_TRUNC, 0600)) >= 0)
			dup2(i, 2);
		setenv("NOTIFY_SOCKET", notify_name, 1);
		if (npass > 0) {
			snprintf(num, sizeof(num), "%d", npass);
			setenv("LISTEN_FDS", num, 1);
			snprintf(num, sizeof(num), "%d", (int)getpid());
			setenv("LISTEN_PID", num, 1);
		}
		for (i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execv(daemon_path, (char *const *)argv);
		_exit(127);
	}
	assert_true(d->pid > 0);
	close(p[1]);
	assert_non_null(d->out = fdopen(p[0], "r"));
}

/* Read stdout's "listening" lines: the Unix path and the TLS port. */
void read_listening(struct daemon *d, int nlines)
{
	char line[256], path[160];
	int i;

	for (i = 0; i < nlines; i++) {
		assert_non_null(fgets(line, sizeof(line), d->out));
		if (sscanf(line, "listening tls://127.0.0.1:%d", &d->port) == 1)
			continue;
		assert_int_equal(sscanf(line, "listening unix:%159s", path), 1);
		snprintf(d->unix_path, sizeof(d->unix_path), "%s", path);
	}
	snprintf(d->url, sizeof(d->url), "tls://127.0.0.1:%d", d->port);
}

/* Take the notifications that came within timeout_ms; false if none. */
static bool notify_recv(struct daemon *d, int timeout_ms)
{
	struct pollfd pfd = { d->notify, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	while (d->nmsgs < MSG_MAX && (n = recv(d->notify,
	    d->msgs[d->nmsgs].text, sizeof(d->msgs[0].text) - 1,
	    MSG_DONTWAIT)) >= 0) {
		d->msgs[d->nmsgs].text[n] = '\0';
		d->msgs[d->nmsgs++].t = now_usec();
	}
	assert_true(d->nmsgs < MSG_MAX);
	return true;
}

/* The value of key in message m ("READY" -> "1"), or NULL. */
const char *msg_get(const struct msg *m, const char *key)
{
	static char val[512];
	const char *p = m->text;
	size_t klen = strlen(key);

	while (*p != '\0') {
		size_t len = strcspn(p, "\n");

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(val, sizeof(val), "%.*s", (int)(len - klen - 1),
			    p + klen + 1);
			return val;
		}
		p += len + (p[len] == '\n');
	}
	return NULL;
}

/* The next notification (from the cursor) with key=value (value NULL:
 * any), waiting up to timeout_ms; NULL if none came. */
struct msg *notify_expect(struct daemon *d, const char *key,
    const char *value, int timeout_ms)
{
	uint64_t end = now_usec() + (uint64_t)timeout_ms * 1000, t;
	const char *v;

	for (;;) {
		for (; d->cursor < d->nmsgs; d->cursor++) {
			v = msg_get(&d->msgs[d->cursor], key);
			if (v != NULL && (value == NULL || strcmp(v, value) == 0))
				return &d->msgs[d->cursor++];
		}
		if ((t = now_usec()) >= end)
			return NULL;
		notify_recv(d, (int)((end - t) / 1000) + 1);
	}
}

/* Its exit status (128 + the signal if killed). */
int wait_exit(struct daemon *d)
{
	int st;

	if (d->pid <= 0 || waitpid(d->pid, &st, 0) != d->pid)
		return -1;
	d->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM, and the exit status. */
int stop(struct daemon *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGTERM);
	return wait_exit(d);
}

void daemon_free(struct daemon *d)
{
	if (d->out != NULL)
		fclose(d->out);
	if (d->notify >= 0)
		close(d->notify);
	free(d->msgs);
	d->out = NULL;
	d->msgs = NULL;
	d->notify = -1;
	live = NULL;
}

/* Before each test: the first certificate, the first token file. */
int prepare(void **state)
{
	(void)state;
	install(tmp_file("server.pem"), tmp_file("cur.pem"));
	install(tmp_file("server.key"), tmp_file("cur.key"));
	return write_file(tmp_file("tokens"), BOB_TOKEN " bob\n") ? 0 : -1;
}

/* After each test: a daemon a failed test left is killed. */
int reap(void **state)
{
	char cmd[256];

	(void)state;
	if (live == NULL)
		return 0;
	snprintf(cmd, sizeof(cmd), "sed 's/^/aspaced log: /' '%s' >&2",
	    tmp_file("daemon.log"));
	if (system(cmd) != 0)
		fprintf(stderr, "no daemon.log\n");
	if (live->pid > 0) {
		kill(live->pid, SIGKILL);
		wait_exit(live);
	}
	daemon_free(live);
	return 0;
}

/* "READY=1" came, with a well-formed STATUS=. */
void expect_ready(struct daemon *d)
{
	struct msg *m = notify_expect(d, "READY", "1", 20000);
	unsigned int conns, sessions;
	double rate;

	assert_non_null(m);
	assert_non_null(msg_get(m, "STATUS"));
	assert_int_equal(sscanf(msg_get(m, "STATUS"),
	    "%u connections, %u sessions, %lf requests/s", &conns, &sessions,
	    &rate), 3);
}

/* A client that said hello: over TLS with ca (token bob), or Unix. */
struct asc_client *connect_hello(const char *url, const char *ca,
    const char *token)
{
	struct asc_tls_opts tls = { ca, NULL, NULL };
	struct asc_status st;
	struct asc_client *c = asc_connect_tls(url, &tls, &st);

	if (c == NULL)
		return NULL;
	if (asc_hello(c, token, &st) != 0) {
		asc_close(c);
		return NULL;
	}
	return c;
}

/* A TLS client with the certificate name.pem; its tenant, or NULL if the
 * handshake or hello failed. */
char *cert_tenant(const char *url, const char *name)
{
	static char tenant[128];
	struct asc_tls_opts tls = { NULL, NULL, NULL };
	struct asc_status st;
	struct asc_client *c;
	char ca[160], cert[160], key[160], file[64];

	snprintf(ca, sizeof(ca), "%s", tmp_file("both.pem"));
	snprintf(file, sizeof(file), "%s.pem", name);
	snprintf(cert, sizeof(cert), "%s", tmp_file(file));
	snprintf(file, sizeof(file), "%s.key", name);
	snprintf(key, sizeof(key), "%s", tmp_file(file));
	tls.ca = ca;
	tls.cert = cert;
	tls.key = key;
	if ((c = asc_connect_tls(url, &tls, &st)) == NULL)
		return NULL;
	if (asc_hello(c, NULL, &st) != 0) {
		asc_close(c);
		return NULL;
	}
	snprintf(tenant, sizeof(tenant), "%s", asc_tenant(c));
	asc_close(c);
	return tenant;
}

/* The standard args of a daemon binding its own sockets. */
const char *const *own_args(const char *extra1, const char *extra2)
{
	static char sock[160], cert[160], key[160], tok[160];
	static const char *args[20];
	int n = 0;

	snprintf(sock, sizeof(sock), "unix:%s", tmp_file("sock"));
	snprintf(cert, sizeof(cert), "%s", tmp_file("cur.pem"));
	snprintf(key, sizeof(key), "%s", tmp_file("cur.key"));
	snprintf(tok, sizeof(tok), "%s", tmp_file("tokens"));
	args[n++] = "--listen";
	args[n++] = sock;
	args[n++] = "--listen";
	args[n++] = "tls://127.0.0.1:0";
	args[n++] = "--tls-cert";
	args[n++] = cert;
	args[n++] = "--tls-key";
	args[n++] = key;
	args[n++] = "--tokens";
	args[n++] = tok;
	args[n++] = "--workers";
	args[n++] = "2";
	if (extra1 != NULL)
		args[n++] = extra1;
	if (extra2 != NULL)
		args[n++] = extra2;
	args[n] = NULL;
	return args;
}

/* --- setup ------------------------------------------------------------------ */

int setup(void **state)
{
	char cmd[2048];
	const char *srcdir = getenv("srcdir");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aspace-systemd.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/daemon/certs.sh' '%s' server2 "
	    "&& cat '%s/ca.pem' '%s/other.pem' >'%s/both.pem'",
	    srcdir != NULL ? srcdir : ".", tmpdir, tmpdir, tmpdir, tmpdir);
	if (system(cmd) != 0 ||
	    !write_file(tmp_file("small.trace"), small_trace))
		return -1;
	return 0;
}

int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * test_client.c: an integration test of libaspace-client and of the
 * aspace command against a real aspaced.  It starts the built daemon
 * (path from $ASPACED or argv[1]) on a Unix socket in a fresh temporary
 * directory and checks: every docs/examples trace run through the daemon
 * by the built client ($ASPACE, with ASPACE_SOCKET set) prints the same
 * bytes and exits with the same status as `aspace run --local`; ten
 * run_trace requests sent before any response is read, matched by id;
 * session create, list and destroy through the library, and the errors
 * of a destroyed session; `--json` output; connection failures (exit
 * status 2, a clear message); and a connection past a daemon's
 * max-connections told why, even when the daemon has closed it before
 * the client's hello went.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* POLLRDHUP */
#endif
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "aspace-client.h"
#include "session.h"
#include "trace.h"
#include "run-cmd.h"

#define OUT_MAX		(16u << 20)
#define NPIPE		10

static const char *daemon_path;
static const char *client_path;
static char examples[4096];
static char tmpdir[64];
static char sock_path[96];
static char sock_url[128];
static pid_t daemon_pid = -1;

/* --- helpers ---------------------------------------------------------------- */

/* A whole file, malloc'ed and NUL-terminated. */
static char *slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL || (buf = malloc(OUT_MAX)) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, OUT_MAX - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return buf;
}

/*
 * Run a shell command made of fmt; its stdout into *out (malloc'ed, *len
 * bytes), its stderr into tmpdir/err.  Returns the exit status (128: it
 * did not exit).
 */
static int run_fmt(char **out, size_t *len, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st, w;

	va_start(ap, fmt);
	w = vsnprintf(cmd, sizeof(cmd) - 128, fmt, ap);
	va_end(ap);
	assert_true(w > 0 && (size_t)w < sizeof(cmd) - 128);
	snprintf(cmd + w, 128, " 2>%s/err", tmpdir);
	*out = run_cmd_cap(cmd, OUT_MAX, len, &st);
	return st;
}

static bool err_has(const char *needle)
{
	char path[128], *err;
	bool found;

	snprintf(path, sizeof(path), "%s/err", tmpdir);
	err = slurp(path, NULL);
	found = err != NULL && strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "stderr lacks '%s': %s\n", needle,
		    err != NULL ? err : "(none)");
	free(err);
	return found;
}

/* The sorted paths of the example traces; their count in *n. */
static char **example_paths(size_t *n)
{
	DIR *d = opendir(examples);
	struct dirent *e;
	char **v = NULL, **nv, *tmp;
	size_t i, j, len;

	assert_non_null(d);
	*n = 0;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".trace") != 0)
			continue;
		nv = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(nv);
		v = nv;
		v[*n] = malloc(strlen(examples) + len + 2);
		assert_non_null(v[*n]);
		sprintf(v[*n], "%s/%s", examples, e->d_name);
		(*n)++;
	}
	closedir(d);
	for (i = 1; i < *n; i++)	/* insertion sort: a few names */
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	return v;
}

static void free_paths(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The embedded core's output for text (malloc'ed). */
static char *local_run(const char *text, size_t len, size_t *outlen)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf b;
	char *out;

	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	as_buf_init(&b, OUT_MAX);
	as_trace_run(s, text, len, &b);
	out = malloc(b.len + 1);
	assert_non_null(out);
	memcpy(out, as_buf_str(&b), b.len + 1);
	*outlen = b.len;
	as_buf_free(&b);
	as_session_free(s);
	return out;
}

static struct asc_client *open_client(void)
{
	struct asc_status st;
	struct asc_client *c = asc_connect(sock_url, &st);

	assert_non_null(c);
	assert_int_equal(asc_hello(c, NULL, &st), 0);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__OK);
	return c;
}

/* --- the daemon ----------------------------------------------------------------- */

static int connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int start_daemon(void **state)
{
	int i, fd;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aspace-client-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
	snprintf(sock_url, sizeof(sock_url), "unix:%s", sock_path);
	if ((daemon_pid = fork()) == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execl(daemon_path, daemon_path, "-s", sock_path, "-w", "2", "-f",
		    (char *)NULL);
		_exit(127);
	}
	/* The client finds the daemon as a user would: ASPACE_SOCKET. */
	unsetenv("ASPACE_URL");
	unsetenv("ASPACE_TOKEN");
	setenv("ASPACE_SOCKET", sock_path, 1);
	for (i = 0; i < 500; i++) {	/* up to 5 s */
		if ((fd = connect_unix(sock_path)) >= 0) {
			close(fd);
			return 0;
		}
		usleep(10000);
	}
	return -1;
}

static int stop_daemon(void **state)
{
	char path[128];
	int st = 0;

	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &st, 0);
	}
	snprintf(path, sizeof(path), "%s/err", tmpdir);
	unlink(path);
	unlink(sock_path);
	rmdir(tmpdir);
	/* A clean stop: exit 0, as test_daemon checks. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* --- the tests ------------------------------------------------------------------- */

/* Each example, alone and all together: daemon == --local, byte for byte. */
static void test_examples(void **state)
{
	char **paths, *remote, *local, all[8192] = "";
	size_t n, i, rlen, llen;
	int rst, lst;

	(void)state;
	assert_non_null(client_path);
	paths = example_paths(&n);
	assert_true(n >= 10);
	for (i = 0; i < n; i++) {
		rst = run_fmt(&remote, &rlen, "%s run %s", client_path,
		    paths[i]);
		lst = run_fmt(&local, &llen, "%s run --local %s", client_path,
		    paths[i]);
		if (rst != lst || rlen != llen ||
		    memcmp(remote, local, rlen) != 0)
			fail_msg("%s: through the daemon: status %d, %zu bytes; "
			    "--local: status %d, %zu bytes", paths[i], rst,
			    rlen, lst, llen);
		assert_true(rst == 0 || rst == 1);
		assert_true(rlen > 0);
		free(remote);
		free(local);
		if (strlen(all) + strlen(paths[i]) + 2 < sizeof(all)) {
			strcat(all, " ");
			strcat(all, paths[i]);
		}
	}
	/* All at once, with a seed: the same again. */
	rst = run_fmt(&remote, &rlen, "%s run --seed 42%s", client_path, all);
	lst = run_fmt(&local, &llen, "%s run --local --seed 42%s", client_path,
	    all);
	assert_int_equal(rst, lst);
	assert_int_equal(rlen, llen);
	assert_memory_equal(remote, local, rlen);
	free(remote);
	free(local);
	free_paths(paths, n);
}

/* Ten run_trace requests in flight, answered and matched by id. */
static void test_pipelining(void **state)
{
	struct asc_client *c = open_client();
	Aspace__Request r[NPIPE];
	Aspace__RunTraceRequest t[NPIPE];
	struct asc_trace_result res;
	struct asc_reply *rp;
	struct asc_status st;
	char **paths, *text[NPIPE], *want;
	size_t n, i, len[NPIPE], wlen;
	uint64_t ids[NPIPE];

	(void)state;
	paths = example_paths(&n);
	assert_true(n >= NPIPE);
	for (i = 0; i < NPIPE; i++) {
		text[i] = slurp(paths[i], &len[i]);
		assert_non_null(text[i]);
		asc_run_trace_request(&r[i], &t[i], NULL, text[i], len[i],
		    NULL);
		r[i].has_id = true;
		r[i].id = ids[i] = 1000 + 37 * i;	/* the client's choice */
		assert_int_equal(asc_send(c, &r[i], &st), 0);
	}
	/* Claim them backwards: the earlier answers wait on the kept list. */
	for (i = NPIPE; i-- > 0;) {
		assert_int_equal(asc_wait(c, ids[i], &rp, &st), 0);
		assert_true(asc_reply_id(rp) == ids[i]);
		assert_int_equal(asc_trace_result_from(rp, &res, &st), 0);
		want = local_run(text[i], len[i], &wlen);
		assert_int_equal(res.len, wlen);
		assert_memory_equal(res.output, want, wlen);
		assert_false(res.truncated);
		free(want);
		asc_trace_result_free(&res);
		asc_reply_free(rp);
	}
	/* Again, now read in arrival order with asc_recv(). */
	for (i = 0; i < NPIPE; i++) {
		r[i].has_id = false;	/* asc_send() picks fresh ids */
		assert_int_equal(asc_send(c, &r[i], &st), 0);
		ids[i] = r[i].id;
	}
	for (i = 0; i < NPIPE; i++) {
		size_t k;

		assert_int_equal(asc_recv(c, &rp, &st), 0);
		for (k = 0; k < NPIPE && ids[k] != asc_reply_id(rp); k++)
			;
		assert_true(k < NPIPE);
		ids[k] = 0;	/* each answered once */
		assert_int_equal(asc_reply_status(rp, &st), 0);
		asc_reply_free(rp);
	}
	for (i = 0; i < NPIPE; i++) {
		assert_true(ids[i] == 0);
		free(text[i]);
	}
	free_paths(paths, n);
	asc_close(c);
}

static bool listed(struct asc_client *c, const uint8_t id[16],
    const char *label)
{
	struct asc_session_info *v;
	struct asc_status st;
	size_t n, i;
	bool found = false;

	assert_int_equal(asc_session_list(c, &v, &n, &st), 0);
	for (i = 0; i < n; i++)
		if (memcmp(v[i].id, id, 16) == 0) {
			found = true;
			assert_string_equal(v[i].label, label);
			assert_int_equal(v[i].tasks, 1);
			assert_true(v[i].ram_bytes > 0);
		}
	free(v);
	return found;
}

/* Sessions through the library; a destroyed one is NO_SUCH_SESSION. */
static void test_sessions(void **state)
{
	Aspace__SessionCreateRequest p = ASPACE__SESSION_CREATE_REQUEST__INIT;
	struct asc_client *c = open_client();
	struct asc_trace_result res;
	struct asc_status st;
	uint8_t a[16], b[16];
	char hex[33], buf[300];
	uint8_t back[16];
	static const char trace[] =
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n"
	    "write 0x200000000000 0x7\n";

	(void)state;
	p.label = (char *)"alpha";
	assert_int_equal(asc_session_create(c, &p, a, &st), 0);
	p.label = (char *)"beta";
	assert_int_equal(asc_session_create(c, &p, b, &st), 0);
	assert_memory_not_equal(a, b, 16);
	assert_true(listed(c, a, "alpha"));
	assert_true(listed(c, b, "beta"));

	/* A trace in a named session: its effects stay there. */
	assert_int_equal(asc_run_trace(c, a, trace, strlen(trace), NULL, &res,
	    &st), 0);
	assert_non_null(strstr(res.output, "1: = 0x200000000000"));
	asc_trace_result_free(&res);
	assert_int_equal(asc_run_trace(c, a, "read 0x200000000000\n", 20, NULL,
	    &res, &st), 0);
	assert_non_null(strstr(res.output, "1: = 0x07"));
	asc_trace_result_free(&res);

	assert_int_equal(asc_session_destroy(c, a, &st), 0);
	assert_false(listed(c, a, "alpha"));
	assert_true(listed(c, b, "beta"));
	assert_int_equal(asc_session_destroy(c, a, &st), -1);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__NO_SUCH_SESSION);
	assert_string_equal(asc_code_name(st.code), "NO_SUCH_SESSION");
	assert_non_null(strstr(asc_status_str(&st, buf, sizeof(buf)),
	    "NO_SUCH_SESSION"));
	assert_int_equal(asc_run_trace(c, a, trace, strlen(trace), NULL, &res,
	    &st), -1);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__NO_SUCH_SESSION);

	/* Ids print as hex and parse back. */
	asc_session_hex(b, hex);
	assert_int_equal(strlen(hex), 32);
	assert_int_equal(asc_session_parse(hex, back), 0);
	assert_memory_equal(back, b, 16);
	assert_int_equal(asc_session_parse("12zz", back), -1);
	assert_int_equal(asc_session_destroy(c, b, &st), 0);
	asc_close(c);
}

/* A request with no op: BAD_REQUEST, as a status, connection kept. */
static void test_error_status(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	struct asc_client *c;
	struct asc_reply *rp;
	struct asc_status st;
	uint8_t id[16];

	(void)state;
	c = asc_connect(sock_url, &st);
	assert_non_null(c);
	/* Before hello: UNAUTHENTICATED. */
	assert_int_equal(asc_session_create(c, NULL, id, &st), -1);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__UNAUTHENTICATED);
	assert_int_equal(asc_hello(c, NULL, &st), 0);
	assert_true(asc_max_body(c) >= 4096);
	assert_int_equal(asc_call(c, &r, &rp, &st), 0);
	assert_int_equal(asc_reply_status(rp, &st), -1);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__BAD_REQUEST);
	asc_reply_free(rp);
	assert_int_equal(asc_session_create(c, NULL, id, &st), 0);
	assert_int_equal(asc_session_destroy(c, id, &st), 0);
	asc_close(c);
}

/* --json: one object per trace, and the session list, with their keys. */
static void test_json(void **state)
{
	char **paths, *out, *o2;
	size_t n, len, len2;
	int rc;

	(void)state;
	assert_non_null(client_path);
	paths = example_paths(&n);
	rc = run_fmt(&out, &len, "%s run --json %s %s", client_path, paths[0],
	    paths[1]);
	assert_int_equal(rc, 0);
	assert_true(len > 2 && out[0] == '{' && out[len - 2] == '}' &&
	    out[len - 1] == '\n');
	assert_non_null(strstr(out, "\"trace\":"));
	assert_non_null(strstr(out, "\"status\":0"));
	assert_non_null(strstr(out, "\"errors\":0"));
	assert_non_null(strstr(out, "\"truncated\":false"));
	assert_non_null(strstr(out, "\"items\":[{\"line\":"));
	assert_non_null(strstr(out, "\"command\":\"mmap "));
	assert_non_null(strstr(out, "\"output\":\"= 0x"));
	assert_non_null(strstr(strchr(out, '\n') + 1, "\"trace\":"));
	/* The same objects from --local. */
	rc = run_fmt(&o2, &len2, "%s run --local --json %s %s", client_path,
	    paths[0], paths[1]);
	assert_int_equal(rc, 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, o2, len);
	free(out);
	free(o2);

	rc = run_fmt(&out, &len, "%s session create --label json-test --json",
	    client_path);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\"session\":\""));
	free(out);
	rc = run_fmt(&out, &len, "%s session list --json", client_path);
	assert_int_equal(rc, 0);
	assert_true(strncmp(out, "{\"sessions\":[", 13) == 0);
	assert_non_null(strstr(out, "\"label\":\"json-test\""));
	assert_non_null(strstr(out, "\"tasks\":1"));
	assert_non_null(strstr(out, "\"ram_bytes\":"));
	assert_non_null(strstr(out, "\"created\":"));
	free(out);
	free_paths(paths, n);
}

/* Session commands: create, list, destroy, destroy again (status 1). */
static void test_session_cli(void **state)
{
	char *id, *out;
	size_t len, idlen;

	(void)state;
	assert_non_null(client_path);
	assert_int_equal(run_fmt(&id, &idlen, "%s session create --label cli",
	    client_path), 0);
	assert_int_equal(idlen, 33);
	id[32] = '\0';
	assert_int_equal(run_fmt(&out, &len, "%s session list", client_path),
	    0);
	assert_non_null(strstr(out, id));
	free(out);
	assert_int_equal(run_fmt(&out, &len, "%s session destroy %s",
	    client_path, id), 0);
	free(out);
	assert_int_equal(run_fmt(&out, &len, "%s session destroy %s",
	    client_path, id), 1);
	assert_true(err_has("NO_SUCH_SESSION"));
	free(out);
	free(id);
}

/* No daemon there: exit 2 and a clear message. */
static void test_connect_fail(void **state)
{
	struct asc_status st;
	char **paths, *out;
	size_t n, len;

	(void)state;
	assert_null(asc_connect("unix:/nonexistent/aspaced.sock", &st));
	assert_int_equal(st.code, ASC_LOCAL);
	assert_int_equal(st.errnum, ENOENT);
	assert_string_equal(st.errname, "ENOENT");
	assert_null(asc_connect("tls://127.0.0.1:1", &st));
	assert_int_equal(st.errnum, ECONNREFUSED);
	assert_non_null(strstr(st.message, "cannot connect to 127.0.0.1"));
	assert_null(asc_connect("gopher://x", &st));
	assert_int_equal(st.code, ASC_LOCAL);

	assert_non_null(client_path);
	paths = example_paths(&n);
	assert_int_equal(run_fmt(&out, &len,
	    "ASPACE_SOCKET=%s/missing.sock %s run %s", tmpdir, client_path,
	    paths[0]), 2);
	assert_int_equal(len, 0);
	assert_true(err_has("cannot connect to unix:"));
	free(out);
	assert_int_equal(run_fmt(&out, &len, "%s run --daemon unix:%s/no %s",
	    client_path, tmpdir, paths[0]), 2);
	assert_true(err_has("cannot connect"));
	free(out);
	assert_int_equal(run_fmt(&out, &len,
	    "ASPACE_SOCKET=%s/missing.sock %s session list", tmpdir,
	    client_path), 2);
	free(out);
	assert_int_equal(run_fmt(&out, &len, "%s run --daemon tls://h %s",
	    client_path, paths[0]), 2);
	assert_true(err_has("want tls://HOST:PORT"));
	free(out);
	free_paths(paths, n);
}

/* A second daemon holding one connection at most: sock2, its pid. */
static pid_t start_one_conn_daemon(const char *sock2)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execl(daemon_path, daemon_path, "-s", sock2, "-w", "1", "-f",
		    "--max-connections", "1", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The one connection, once the daemon has let its readiness probes go. */
static struct asc_client *hold_the_one(const char *url)
{
	struct asc_status st;

	for (int i = 0; i < 500; i++) {	/* up to 10 s */
		struct asc_client *c = asc_connect(url, &st);

		if (c != NULL && asc_hello(c, NULL, &st) == 0)
			return c;
		asc_close(c);
		usleep(20000);
	}
	return NULL;
}

/* Past max-connections the daemon answers QUOTA and closes.  The client
 * must say so even when the close comes before its hello is sent (the
 * send fails with EPIPE, the answer is still there to read); so must
 * the aspace command, whichever comes first. */
static void test_refused_past_max_connections(void **state)
{
	char sock2[128], url2[160], *out;
	struct asc_client *one, *c;
	struct asc_status st;
	struct pollfd p;
	size_t len;
	pid_t pid;
	int status;

	(void)state;
	snprintf(sock2, sizeof(sock2), "%s/sock2", tmpdir);
	snprintf(url2, sizeof(url2), "unix:%s", sock2);
	assert_true((pid = start_one_conn_daemon(sock2)) > 0);
	assert_non_null(one = hold_the_one(url2));
	assert_non_null(c = asc_connect(url2, &st));
	p = (struct pollfd){ .fd = asc_fd(c), .events = POLLRDHUP };
	assert_int_equal(poll(&p, 1, 10000), 1);	/* closed by now */
	assert_int_not_equal(asc_hello(c, NULL, &st), 0);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__QUOTA);
	assert_non_null(strstr(st.message, "too many connections"));
	asc_close(c);
	assert_int_equal(run_fmt(&out, &len, "ASPACE_SOCKET=%s %s session "
	    "list", sock2, client_path), 2);
	free(out);
	assert_true(err_has("too many connections"));
	asc_close(one);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(sock2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_error_status),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_session_cli),
		cmocka_unit_test(test_connect_fail),
		cmocka_unit_test(test_refused_past_max_connections),
	};
	const char *top = getenv("top_srcdir");

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	client_path = argc > 2 ? argv[2] : getenv("ASPACE");
	if (daemon_path == NULL || client_path == NULL) {
		fprintf(stderr, "test_client: set ASPACED and ASPACE, or pass "
		    "their paths\n");
		return 1;
	}
	snprintf(examples, sizeof(examples), "%s/docs/examples",
	    top != NULL ? top : ".");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}

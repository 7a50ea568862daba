/*
 * test_client2.c: libaspace-client over TLS, the per-operation aspace
 * subcommands and aspace shell, against a real aspaced.  It makes a CA,
 * server and client certificates with tests/daemon/certs.sh (skipped,
 * exit 77, without the openssl command), writes a token file, starts the
 * built aspaced ($ASPACED or argv[1]) with a Unix socket and a TLS
 * listener on 127.0.0.1 port 0, and runs the built aspace ($ASPACE or
 * argv[2]) with ASPACE_URL, ASPACE_CA and ASPACE_TOKEN set.  It checks:
 * a trace run over TLS with a client certificate, and with a token,
 * prints what the embedded core prints (aspace run --local); a server
 * certificate from another CA is refused, as is TLS without credentials;
 * each subcommand prints the trace runner's text for its line (without
 * the "N: " number); aspace shell fed a trace on standard input prints
 * exactly what --local prints, line numbers included; --json output.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "aspace-client.h"
#include "session.h"
#include "trace.h"
#include "run-cmd.h"

#define OUT_MAX		(1u << 20)
#define BOB_TOKEN	"bob-0123456789-secret"

static const char *daemon_path;
static const char *client_path;
static char tmpdir[64];
static char url[64];
static pid_t daemon_pid = -1;

/* A trace with tasks, a window, faults, files and errors. */
static const char trace_text[] =
	"# client2\n"
	"mmap 0x200000000000 16K rw- private,anon,fixed\n"
	"write 0x200000000000 0x41\n"
	"read 0x200000000000\n"
	"fork\n"
	"switch 2\n"
	"write 0x200000001000 0x42\n"
	"read 0x200000000000\n"
	"mprotect 0x200000000000 4K r--\n"
	"write 0x200000000000 0x43\n"
	"\n"
	"window 0x200000000000 0x10000\n"
	"maps\n"
	"exit\n"
	"read 0x200000000000\n"
	"switch 1\n"
	"thread\n"
	"file data 8K\n"
	"mmap 0 8K r-- shared data 0\n"
	"munmap 0x200000002000 4K\n"
	"brk 0\n"
	"frob\n"
	"smaps\n";

static char *tmp_file(const char *name)
{
	static char path[4][160];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* The embedded core's output for text. */
static char *run_local(const char *text)
{
	struct as_session_params p;
	struct as_session *s;
	struct as_buf b;
	char *out;

	as_session_params_default(&p);
	s = as_session_new(&p);
	assert_non_null(s);
	as_buf_init(&b, OUT_MAX);
	as_trace_run(s, text, strlen(text), &b);
	out = strndup(b.data != NULL ? b.data : "", b.len);
	assert_non_null(out);
	as_buf_free(&b);
	as_session_free(s);
	return out;
}

/* --- the daemon ------------------------------------------------------------ */

static int start_daemon(void **state)
{
	char cmd[512], line[256], cert[160], key[160], ca[160], tok[160],
	    sock[160];
	const char *srcdir = getenv("srcdir");
	int p[2], port = 0;
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aspace-client2.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/daemon/certs.sh' '%s'",
	    srcdir != NULL ? srcdir : ".", tmpdir);
	if (system(cmd) != 0 || !write_file(tmp_file("tokens"),
	    BOB_TOKEN " bob\n"))
		return -1;
	snprintf(cert, sizeof(cert), "%s", tmp_file("server.pem"));
	snprintf(key, sizeof(key), "%s", tmp_file("server.key"));
	snprintf(ca, sizeof(ca), "%s", tmp_file("ca.pem"));
	snprintf(tok, sizeof(tok), "%s", tmp_file("tokens"));
	snprintf(sock, sizeof(sock), "%s", tmp_file("sock"));
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((daemon_pid = fork()) == 0) {
		dup2(p[1], 1);
		execl(daemon_path, daemon_path, "-s", sock, "-l",
		    "127.0.0.1:0", "-c", cert, "-k", key, "-a", ca, "-t", tok,
		    "-w", "2", "-f", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (daemon_pid < 0 || (f = fdopen(p[0], "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "listening tls://127.0.0.1:%d", &port) == 1)
			break;
	fclose(f);
	if (port <= 0)
		return -1;
	snprintf(url, sizeof(url), "tls://127.0.0.1:%d", port);
	setenv("ASPACE_URL", url, 1);
	setenv("ASPACE_CA", ca, 1);
	setenv("ASPACE_TOKEN", BOB_TOKEN, 1);
	unsetenv("ASPACE_CERT");
	unsetenv("ASPACE_KEY");
	return 0;
}

static int stop_daemon(void **state)
{
	static const char *const files[] = {
		"ca.pem", "ca.key", "other.pem", "other.key", "server.pem",
		"server.key", "alice.pem", "alice.key", "mallory.pem",
		"mallory.key", "tokens", "sock", "trace", "tr1", "tr2"
	};
	size_t i;
	int st;

	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &st, 0);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tmp_file(files[i]));
	rmdir(tmpdir);
	return 0;
}

/* --- the library over TLS ----------------------------------------------------- */

static void run_over(const struct asc_tls_opts *tls, const char *token,
    const char *want_tenant)
{
	struct asc_trace_result res;
	struct asc_status st;
	struct asc_client *c = asc_connect_tls(url, tls, &st);
	char *want = run_local(trace_text);

	assert_non_null(c);
	assert_int_equal(asc_hello(c, token, &st), 0);
	assert_string_equal(asc_tenant(c), want_tenant);
	assert_int_equal(asc_run_trace(c, NULL, trace_text,
	    strlen(trace_text), NULL, &res, &st), 0);
	assert_string_equal(res.output, want);
	assert_int_equal(res.errors, 2);	/* no task; frob */
	asc_trace_result_free(&res);
	asc_close(c);
	free(want);
}

static void test_tls_cert(void **state)
{
	struct asc_tls_opts tls = { NULL, NULL, NULL };
	char ca[160], cert[160], key[160];

	(void)state;
	snprintf(ca, sizeof(ca), "%s", tmp_file("ca.pem"));
	snprintf(cert, sizeof(cert), "%s", tmp_file("alice.pem"));
	snprintf(key, sizeof(key), "%s", tmp_file("alice.key"));
	tls.ca = ca;
	tls.cert = cert;
	tls.key = key;
	run_over(&tls, NULL, "cert:alice");
}

static void test_tls_token(void **state)
{
	struct asc_tls_opts tls = { NULL, NULL, NULL };

	(void)state;
	tls.ca = getenv("ASPACE_CA");
	run_over(&tls, BOB_TOKEN, "token:bob");
}

static void test_tls_refused(void **state)
{
	struct asc_tls_opts tls = { NULL, NULL, NULL };
	struct asc_status st;
	struct asc_client *c;
	char other[160];

	(void)state;
	/* The server's certificate does not verify against another CA. */
	snprintf(other, sizeof(other), "%s", tmp_file("other.pem"));
	tls.ca = other;
	assert_null(asc_connect_tls(url, &tls, &st));
	assert_int_equal(st.code, ASC_LOCAL);
	assert_non_null(strstr(st.message, "certificate"));
	/* A certificate and no key. */
	tls.ca = getenv("ASPACE_CA");
	tls.cert = other;
	assert_null(asc_connect_tls(url, &tls, &st));
	assert_non_null(strstr(st.message, "--key"));
	/* No credentials at all: hello is refused. */
	tls.cert = NULL;
	c = asc_connect_tls(url, &tls, &st);
	assert_non_null(c);
	assert_int_not_equal(asc_hello(c, NULL, &st), 0);
	assert_int_equal(st.code, ASPACE__STATUS__CODE__UNAUTHENTICATED);
	asc_close(c);
	/* The command says so, exit status 2. */
	{
		char cmd[512], *out;
		int rc;

		snprintf(cmd, sizeof(cmd), "'%s' --ca '%s' run - "
		    "</dev/null 2>&1", client_path, other);
		out = run_cmd(cmd, &rc);
		assert_int_equal(rc, 2);
		assert_non_null(strstr(out, "TLS handshake"));
		free(out);
	}
}

/* --- subcommands ----------------------------------------------------------------- */

struct step {
	int		 task;
	const char	*line;		/* the trace line */
	const char	*args;		/* the subcommand's arguments */
};

static const struct step steps[] = {
	{ 1, "mmap 0x200000000000 16K rw- private,anon,fixed",
	  "mmap 0x200000000000 16K rw- private,anon,fixed" },
	{ 1, "write 0x200000000000 0x41", "write 0x200000000000 0x41" },
	{ 1, "read 0x200000000000", "read 0x200000000000" },
	{ 1, "fork", "fork" },
	{ 2, "write 0x200000001000 0x42", "write --task 2 0x200000001000 0x42" },
	{ 2, "touch 0x200000003000 w", "touch 0x200000003000 w" },
	{ 2, "mprotect 0x200000000000 4K r--", "mprotect 0x200000000000 4K r--" },
	{ 2, "write 0x200000000000 0x43", "write 0x200000000000 0x43" },
	{ 2, "madvise 0x200000001000 4K dontneed",
	  "madvise 0x200000001000 4K dontneed" },
	{ 2, "read 0x200000001000", "read 0x200000001000" },
	{ 2, "mlock 0x200000000000 4K", "mlock 0x200000000000 4K" },
	{ 2, "munlock 0x200000000000 4K", "munlock 0x200000000000 4K" },
	{ 2, "mremap 0x200000002000 4K 8K maymove",
	  "mremap 0x200000002000 4K 8K maymove" },
	{ 2, "maps", "maps" },
	{ 2, "smaps", "smaps" },
	{ 2, "exit", "exit" },
	{ 1, "thread", "thread" },
	{ 3, "brk 0", "brk 0" },
	{ 1, "file data 8K", "file data 8K" },
	{ 1, "mmap 0 8K r-- shared data 0", "mmap 0 8K r-- shared data 0" },
	{ 1, "munmap 0x200000000000 4K", "munmap 0x200000000000 4K" },
	{ 1, "vfork", "vfork" },
	{ 1, "read 0x200000001000", "read 0x200000001000" },
	{ 4, "exec prog2", "exec prog2" },
	{ 1, "read 0x200000001000", "read 0x200000001000" },
	{ 4, "maps", "maps" },
};
#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

/* The local output of line n (1-based) of out, without "n: " numbers. */
static char *line_output(const char *out, unsigned long n)
{
	char *res = malloc(strlen(out) + 1), *o = res;
	const char *p, *nl, *colon;
	bool keep = false;
	unsigned long k;

	assert_non_null(res);
	for (p = out; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		if (*p >= '0' && *p <= '9' &&
		    (colon = strstr(p, ": ")) != NULL && colon < nl) {
			k = strtoul(p, NULL, 10);
			keep = k == n;
			if (keep)
				p = colon + 2;
		}
		if (keep) {
			memcpy(o, p, (size_t)(nl - p));
			o += nl - p;
		}
	}
	*o = '\0';
	return res;
}

static void test_subcommands(void **state)
{
	char text[8192] = "", cmd[1024], hex[33], *local, *want, *got;
	struct asc_tls_opts tls = { NULL, NULL, NULL };
	uint8_t sid[ASC_SESSION_ID_LEN];
	unsigned long lines[NSTEPS];
	struct asc_status st;
	struct asc_client *c;
	unsigned long n = 0;
	size_t i;
	int rc, task;

	(void)state;
	/* The same steps as one local trace, a switch before each. */
	for (i = 0; i < NSTEPS; i++) {
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "switch %d\n%s\n", steps[i].task, steps[i].line);
		n += 2;
		lines[i] = n;
	}
	local = run_local(text);
	tls.ca = getenv("ASPACE_CA");
	c = asc_connect_tls(url, &tls, &st);
	assert_non_null(c);
	assert_int_equal(asc_hello(c, BOB_TOKEN, &st), 0);
	assert_int_equal(asc_session_create(c, NULL, sid, &st), 0);
	asc_session_hex(sid, hex);
	for (i = 0; i < NSTEPS; i++) {
		const char *sp = strchr(steps[i].args, ' ');
		size_t oplen = sp ? (size_t)(sp - steps[i].args) :
		    strlen(steps[i].args);

		task = steps[i].task;
		snprintf(cmd, sizeof(cmd), "'%s' %.*s --session %s --task %d%s",
		    client_path, (int)oplen, steps[i].args, hex, task,
		    sp ? sp : "");
		got = run_cmd(cmd, &rc);
		want = line_output(local, lines[i]);
		if (strcmp(got, want) != 0)
			print_error("step %zu: %s\nwant:\n%sgot:\n%s\n", i, cmd,
			    want, got);
		assert_string_equal(got, want);
		assert_int_equal(rc, strstr(want, "! error") ? 1 : 0);
		free(got);
		free(want);
	}
	/* The session's own requests: status, walk, counters. */
	snprintf(cmd, sizeof(cmd), "'%s' status --session %s", client_path,
	    hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "VmSize:"));
	free(got);
	snprintf(cmd, sizeof(cmd), "'%s' walk --session %s 0x200000001000",
	    client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "  pte 0x"));
	free(got);
	snprintf(cmd, sizeof(cmd), "'%s' counters --session %s --json",
	    client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "\"minor_faults\":"));
	free(got);
	/* --json: the result apart, and the text. */
	snprintf(cmd, sizeof(cmd), "'%s' --json read --session %s "
	    "0x200000001000", client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	want = line_output(local, lines[NSTEPS - 2]);
	assert_non_null(strstr(got, "\"command\":\"read\""));
	assert_non_null(strstr(got, "\"result\":\"0x"));
	free(want);
	free(got);
	snprintf(cmd, sizeof(cmd), "'%s' mmap --json --session %s "
	    "0 4K rw- private,anon", client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "\"result\":\"0x7"));
	assert_non_null(strstr(got, "\"errors\":0"));
	free(got);
	/* Errors: a bad line, a missing task, a missing session. */
	snprintf(cmd, sizeof(cmd), "'%s' mmap --session %s 1 2 2>&1",
	    client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(got, "expected"));
	free(got);
	snprintf(cmd, sizeof(cmd), "'%s' maps --session %s --task 99 2>&1",
	    client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(got, "no task 99"));
	free(got);
	assert_int_equal(asc_session_destroy(c, sid, &st), 0);
	snprintf(cmd, sizeof(cmd), "'%s' maps --session %s 2>&1",
	    client_path, hex);
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(got, "NO_SUCH_SESSION"));
	free(got);
	asc_close(c);
	free(local);
}

/* --- the shell ------------------------------------------------------------------- */

static void test_shell(void **state)
{
	char cmd[512], *want, *got;
	int rc;

	(void)state;
	assert_true(write_file(tmp_file("trace"), trace_text));
	want = run_local(trace_text);
	snprintf(cmd, sizeof(cmd), "'%s' shell < '%s'", client_path,
	    tmp_file("trace"));
	got = run_cmd(cmd, &rc);
	assert_string_equal(got, want);
	assert_int_equal(rc, 1);	/* frob */
	free(got);
	/* With a client certificate instead of the token. */
	snprintf(cmd, sizeof(cmd), "ASPACE_TOKEN= '%s' --cert '%s' "
	    "--key '%s' shell < '%s'", client_path, tmp_file("alice.pem"),
	    tmp_file("alice.key"), tmp_file("trace"));
	got = run_cmd(cmd, &rc);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* A clean trace exits 0; an exit leaves no current task. */
	assert_true(write_file(tmp_file("tr1"),
	    "fork\nexit\nmaps\nswitch 1\nswitch 2\nread 0\n"));
	want = run_local("fork\nexit\nmaps\nswitch 1\nswitch 2\nread 0\n");
	snprintf(cmd, sizeof(cmd), "'%s' shell < '%s'", client_path,
	    tmp_file("tr1"));
	got = run_cmd(cmd, &rc);
	assert_string_equal(got, want);
	free(got);
	free(want);
	assert_true(write_file(tmp_file("tr2"), "mmap 0 4K r-- private,anon\n"));
	snprintf(cmd, sizeof(cmd), "'%s' shell < '%s'", client_path,
	    tmp_file("tr2"));
	got = run_cmd(cmd, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "1: = 0x"));
	free(got);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_cert),
		cmocka_unit_test(test_tls_token),
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_subcommands),
		cmocka_unit_test(test_shell),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("ASPACED");
	client_path = argc > 2 ? argv[2] : getenv("ASPACE");
	if (daemon_path == NULL || client_path == NULL) {
		fprintf(stderr, "test_client2: set ASPACED and ASPACE\n");
		return 77;
	}
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_client2: no openssl command: skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}

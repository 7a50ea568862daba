/*
 * aspace.c: the aspace command.
 *
 *   aspace [--connect URL] [--ca FILE] [--cert FILE --key FILE]
 *          [--token T] [--json] COMMAND ...
 *   aspace run [--daemon URL] [--token T] [--seed N] [--json]
 *              [--kernel NAME=VALUE]... [--keep | --session ID [--resume]]
 *              TRACE...
 *   aspace run --local [--seed N] [--kernel NAME=VALUE]... [--json] TRACE...
 *   aspace session create [--label L] [--seed N] [--kernel NAME=VALUE]...
 *                         [--json]
 *   aspace session list [--json]
 *   aspace session destroy ID [--json]
 *   aspace OP --session ID [--task N] [--json] OPERANDS...  (subcmd.c)
 *   aspace check ID [--json]                                 (subcmd.c)
 *   aspace kernel ID [--json]                       (subcmd.c, kernel.c)
 *   aspace shell [--session ID | --kernel NAME=VALUE...]      (shell.c)
 *
 * run runs each trace (a file, or - for standard input) in a fresh
 * simulated session and prints its canonical output: through aspaced
 * (libaspace-client) by default, or with the embedded core with --local;
 * both print the same bytes and exit with the same status.  --kernel
 * NAME=VALUE sets a kernel parameter of a new session as a trace's
 * "kernel NAME VALUE" line would (kernel.c).  The daemon's
 * URL is --connect (or --daemon) URL, else $ASPACE_URL, else
 * unix:$ASPACE_SOCKET, else the socket aspaced makes when not told
 * otherwise (rundir.h): the user's own daemon's, $XDG_RUNTIME_DIR/aspaced
 * /aspaced.sock (or /tmp/aspaced-UID/aspaced.sock), when it exists and
 * the user is not root, else the system's, /run/aspaced/aspaced.sock; a bearer
 * token is --token or $ASPACE_TOKEN.  For tls://HOST:PORT the server is
 * verified against --ca FILE (else $ASPACE_CA, else the system's trust
 * store), and --cert FILE --key FILE (else $ASPACE_CERT, $ASPACE_KEY)
 * give a client certificate.  The global options may come before the
 * command or among its own options.
 *
 * Exit status: 0 ok; 1 a trace had "! error" lines, or the daemon refused
 * a session command (no such session, quota...); 2 a usage error, a file
 * that cannot be read, a failure to reach the daemon, or a run the daemon
 * could not complete; 3 check found the session corrupt (subcmd.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "aspace-client.h"
#include "rundir.h"
#include "session.h"
#include "shell.h"
#include "trace.h"

#define TRACE_MAX	(64UL << 20)	/* largest trace read */
#define OUTPUT_MAX	(256UL << 20)	/* largest output produced */
#define DEFAULT_SOCKET	RUNDIR_SYSTEM "/" RUNDIR_SOCKET


static void usage(FILE *f)
{
	fprintf(f,
	    "usage: aspace [--connect URL] [--ca FILE] [--cert FILE --key FILE]\n"
	    "              [--token T] [--json] COMMAND ...\n"
	    "       aspace run [--daemon URL] [--seed N] [--json]\n"
	    "                  [--kernel NAME=VALUE]...\n"
	    "                  [--keep | --session ID [--resume]] TRACE...\n"
	    "       aspace run --local [--seed N] [--kernel NAME=VALUE]...\n"
	    "                  [--json] TRACE...\n"
	    "       aspace session create [--label L] [--seed N]\n"
	    "                  [--kernel NAME=VALUE]... [--json]\n"
	    "       aspace session list [--json]\n"
	    "       aspace session destroy ID [--json]\n"
	    "       aspace --version\n");
	subcmd_usage(f);
	fprintf(f,
	    "Runs trace-v1 files (or - for standard input) in a simulated\n"
	    "Linux address space and prints the canonical output, through\n"
	    "the aspaced daemon or (--local) the embedded core.  The daemon\n"
	    "is --connect URL (unix:PATH or tls://HOST:PORT), else\n"
	    "$ASPACE_URL, else unix:$ASPACE_SOCKET, else your own aspaced's\n"
	    "default socket if it is there, else unix:" DEFAULT_SOCKET ";\n"
	    "--ca, --cert, --key and --token default to $ASPACE_CA,\n"
	    "$ASPACE_CERT, $ASPACE_KEY, $ASPACE_TOKEN.\n");
}

/* Read a whole file (bounded) into a malloc'ed buffer. */
static char *read_all(const char *path, size_t *lenp)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *p;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > TRACE_MAX + 1 || (p = realloc(buf, cap)) == NULL) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (buf != NULL && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	*lenp = len;
	return buf;
}

/* --- JSON -------------------------------------------------------------------- */

/* s (len bytes) as a JSON string, quotes included. */
void cli_json_str(FILE *f, const char *s, size_t len)
{
	size_t i;

	putc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		switch (ch) {
		case '"':	fputs("\\\"", f); break;
		case '\\':	fputs("\\\\", f); break;
		case '\n':	fputs("\\n", f); break;
		case '\t':	fputs("\\t", f); break;
		case '\r':	fputs("\\r", f); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				fprintf(f, "\\u%04x", ch);
			else
				putc(ch, f);
		}
	}
	putc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
	cli_json_str(f, s, strlen(s));
}

/* One trace's result as a JSON object on a line of its own. */
static void json_trace(const char *path, int status, const char *out,
    size_t len, unsigned long errors, bool truncated, const char *error)
{
	fputs("{\"trace\":", stdout);
	json_cstr(stdout, path);
	printf(",\"status\":%d", status);
	if (error != NULL) {
		fputs(",\"error\":", stdout);
		json_cstr(stdout, error);
	} else {
		printf(",\"errors\":%lu,\"truncated\":%s,\"output\":",
		    errors, truncated ? "true" : "false");
		cli_json_str(stdout, out, len);
	}
	fputs("}\n", stdout);
}

/* A trace that could not be run: a message, and a JSON object too. */
static int trace_fail(const char *path, bool json, const char *msg)
{
	fprintf(stderr, "aspace: %s: %s\n", path, msg);
	if (json)
		json_trace(path, 2, NULL, 0, 0, false, msg);
	return 2;
}

/* Run one trace in a fresh session; 0 ok, 1 trace errors, 2 failure. */
static int run_one(const char *path, const struct as_session_params *p,
    bool json)
{
	struct as_session *s;
	struct as_buf out;
	size_t len;
	char *text = read_all(path, &len);
	int r, rc;

	if (text == NULL)
		return trace_fail(path, json, strerror(errno));
	if ((s = as_session_new(p)) == NULL) {
		fprintf(stderr, "aspace: cannot create a session\n");
		free(text);
		return 2;
	}
	as_buf_init(&out, OUTPUT_MAX);
	r = as_trace_run(s, text, len, &out);
	rc = r < 0 ? 2 : r > 0 ? 1 : 0;
	if (json)
		json_trace(path, rc, as_buf_str(&out), out.len,
		    r > 0 ? (unsigned long)r : 0, r < 0, NULL);
	else
		fwrite(as_buf_str(&out), 1, out.len, stdout);
	if (r < 0)
		fprintf(stderr, "aspace: %s: output larger than %lu bytes\n",
		    path, OUTPUT_MAX);
	as_buf_free(&out);
	as_session_free(s);
	free(text);
	return rc;
}

/* --- the daemon ------------------------------------------------------------- */

/* The socket of the user's own aspaced when it has one, as aspaced makes
 * it by default (conf.c); else the system's. */
static const char *default_url(char *buf, size_t size)
{
	char dir[512];
	int n;

	if (geteuid() != 0 && rundir_user(dir, sizeof(dir)) == 0) {
		n = snprintf(buf, size, "unix:%s/" RUNDIR_SOCKET, dir);
		if (n > 0 && (size_t)n < size && access(buf + 5, F_OK) == 0)
			return buf;
	}
	return "unix:" DEFAULT_SOCKET;
}

/* The daemon's URL: --daemon, $ASPACE_URL, $ASPACE_SOCKET, the default. */
static const char *daemon_url(const struct cli_opts *o, char *buf, size_t size)
{
	const char *env;

	if (o->url != NULL)
		return o->url;
	if ((env = getenv("ASPACE_URL")) != NULL && *env != '\0')
		return env;
	if ((env = getenv("ASPACE_SOCKET")) != NULL && *env != '\0') {
		snprintf(buf, size, "unix:%s", env);
		return buf;
	}
	return default_url(buf, size);
}

/* An option's value: the option, else the environment's (non-empty). */
static const char *opt_env(const char *v, const char *name)
{
	const char *env;

	if (v != NULL)
		return v;
	env = getenv(name);
	return env != NULL && *env != '\0' ? env : NULL;
}

/* Connect and say hello; NULL after a message on stderr. */
struct asc_client *cli_open(const struct cli_opts *o)
{
	struct asc_tls_opts tls;
	struct asc_status st;
	struct asc_client *c;
	const char *token = opt_env(o->token, "ASPACE_TOKEN");
	char buf[4200], msg[512];
	const char *url = daemon_url(o, buf, sizeof(buf));

	tls.ca = opt_env(o->ca, "ASPACE_CA");
	tls.cert = opt_env(o->cert, "ASPACE_CERT");
	tls.key = opt_env(o->key, "ASPACE_KEY");
	if ((c = asc_connect_tls(url, &tls, &st)) == NULL) {
		fprintf(stderr, "aspace: %s\n", asc_status_str(&st, msg,
		    sizeof(msg)));
		if (st.errnum == ENOENT || st.errnum == ECONNREFUSED)
			fprintf(stderr, "aspace: is aspaced running? "
			    "(--daemon URL, ASPACE_SOCKET; "
			    "--local runs without it)\n");
		return NULL;
	}
	if (asc_hello(c, token, &st) != 0) {
		fprintf(stderr, "aspace: %s: hello refused: %s\n", url,
		    asc_status_str(&st, msg, sizeof(msg)));
		asc_close(c);
		return NULL;
	}
	return c;
}

/* Where a trace runs through the daemon: aspace run's options. */
struct run_where {
	uint8_t		 session[ASC_SESSION_ID_LEN];
	bool		 has_session;
	int		 flags;		/* ASC_TRACE_* */
};

/* Run one trace through the daemon; 0 ok, 1 trace errors, 2 failure. */
static int run_remote(struct asc_client *c, const char *path,
    const Aspace__SessionCreateRequest *params, const struct run_where *w,
    bool json)
{
	char hex[33];
	struct asc_trace_result res;
	struct asc_status st;
	char msg[512];
	size_t len;
	char *text = read_all(path, &len);
	int rc;

	if (text == NULL)
		return trace_fail(path, json, strerror(errno));
	if (asc_run_trace_ex(c, w->has_session ? w->session : NULL, text, len,
	    params, w->flags, &res, &st) != 0) {
		free(text);
		if (res.output != NULL && !json)	/* stopped: so far */
			fwrite(res.output, 1, res.len, stdout);
		asc_trace_result_free(&res);
		return trace_fail(path, json,
		    asc_status_str(&st, msg, sizeof(msg)));
	}
	rc = res.truncated ? 2 : res.errors > 0 ? 1 : 0;
	if (json)
		json_trace(path, rc, res.output, res.len, res.errors,
		    res.truncated, NULL);
	else
		fwrite(res.output, 1, res.len, stdout);
	if (res.truncated)
		fprintf(stderr, "aspace: %s: output truncated at the "
		    "daemon's cap\n", path);
	if (res.has_session)
		fprintf(stderr, "aspace: kept session %s\n",
		    asc_session_hex(res.session, hex));
	asc_trace_result_free(&res);
	free(text);
	return rc;
}

/*
 * A common option at argv[*i]: 1 if taken (with its argument), 0 if it
 * is not one, -1 if its argument is missing.
 */
static int common_opt(int argc, char **argv, int *i, struct cli_opts *o)
{
	const char *a = argv[*i];

	if (strcmp(a, "--json") == 0) {
		o->json = true;
		return 1;
	}
	if (strcmp(a, "--daemon") != 0 && strcmp(a, "--connect") != 0 &&
	    strcmp(a, "--token") != 0 && strcmp(a, "--ca") != 0 &&
	    strcmp(a, "--cert") != 0 && strcmp(a, "--key") != 0)
		return 0;
	if (*i + 1 >= argc)
		return -1;
	if (strcmp(a, "--token") == 0)
		o->token = argv[++*i];
	else if (strcmp(a, "--ca") == 0)
		o->ca = argv[++*i];
	else if (strcmp(a, "--cert") == 0)
		o->cert = argv[++*i];
	else if (strcmp(a, "--key") == 0)
		o->key = argv[++*i];
	else
		o->url = argv[++*i];
	return 1;
}

/* Parse a decimal or 0x seed; -1 if it is not a number. */
static int parse_seed(const char *arg, uint64_t *seed)
{
	char *end;

	errno = 0;	/* decimal, or hex with 0x: never octal */
	*seed = strtoull(arg, &end,
	    arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X') ? 16 : 10);
	return errno != 0 || *arg == '\0' || *end != '\0' || *arg == '-' ?
	    -1 : 0;
}

static int cmd_run(int argc, char **argv, struct cli_opts *o)
{
	struct as_session_params p;
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	struct asc_client *c = NULL;
	struct run_where w;
	int i, local = 0, rc = 0, r;
	bool kernel = false;

	as_session_params_default(&p);
	memset(&w, 0, sizeof(w));
	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--local") == 0) {
			local = 1;
		} else if (strcmp(argv[i], "--keep") == 0) {
			w.flags |= ASC_TRACE_KEEP;
		} else if (strcmp(argv[i], "--resume") == 0) {
			w.flags |= ASC_TRACE_RESUME;
		} else if (strcmp(argv[i], "--session") == 0 && i + 1 < argc) {
			if (asc_session_parse(argv[++i], w.session) != 0) {
				fprintf(stderr, "aspace: bad session id '%s'\n",
				    argv[i]);
				return 2;
			}
			w.has_session = true;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			if (parse_seed(argv[++i], &p.seed) != 0) {
				fprintf(stderr, "aspace: bad seed '%s'\n",
				    argv[i]);
				return 2;
			}
			p.randomize = true;
		} else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
			if (cli_kernel_arg(argv[++i], &params, &p) != 0)
				return 2;
			kernel = true;
		} else if (common_opt(argc, argv, &i, o) != 1) {
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (local && (o->url != NULL || w.flags != 0 || w.has_session)) {
		fprintf(stderr, "aspace: --local and --daemon, --keep, "
		    "--session or --resume exclude each other\n");
		return 2;
	}
	if (((w.flags & ASC_TRACE_RESUME) && !w.has_session) ||
	    ((w.flags & ASC_TRACE_KEEP) && w.has_session)) {
		fprintf(stderr, "aspace: --resume needs --session; --keep "
		    "makes a new one\n");
		return 2;
	}
	if (kernel && w.has_session) {
		fprintf(stderr, "aspace: --kernel is for a new session, not "
		    "--session (a trace's kernel lines set a fresh one's)\n");
		return 2;
	}
	if (!local) {
		if (p.randomize) {
			params.has_seed = true;
			params.seed = p.seed;
			params.has_randomize = true;
			params.randomize = true;
		}
		if ((c = cli_open(o)) == NULL)
			return 2;
	}
	for (; i < argc; i++) {
		if (argc - i > 1 || rc != 0)
			fflush(stdout);
		r = local ? run_one(argv[i], &p, o->json) :
		    run_remote(c, argv[i], p.randomize || kernel ? &params :
		    NULL, &w, o->json);
		if (r > rc)
			rc = r;
	}
	asc_close(c);
	return rc;
}

/* A daemon status for a session command: a message, then exit status. */
static int session_fail(const char *what, const struct asc_status *st)
{
	char msg[512];

	fprintf(stderr, "aspace: session %s: %s\n", what,
	    asc_status_str(st, msg, sizeof(msg)));
	return st->code == ASC_LOCAL ? 2 : 1;
}

static int session_create(struct asc_client *c, const struct cli_opts *o,
    Aspace__SessionCreateRequest *params)
{
	uint8_t id[ASC_SESSION_ID_LEN];
	struct asc_status st;
	char hex[33];

	if (asc_session_create(c, params, id, &st) != 0)
		return session_fail("create", &st);
	asc_session_hex(id, hex);
	if (o->json)
		printf("{\"session\":\"%s\",\"task\":1}\n", hex);
	else
		printf("%s\n", hex);
	return 0;
}

static int session_list(struct asc_client *c, const struct cli_opts *o)
{
	struct asc_session_info *v;
	struct asc_status st;
	size_t n, i;
	char hex[33];

	if (asc_session_list(c, &v, &n, &st) != 0)
		return session_fail("list", &st);
	if (o->json)
		fputs("{\"sessions\":[", stdout);
	for (i = 0; i < n; i++) {
		asc_session_hex(v[i].id, hex);
		if (o->json) {
			printf("%s{\"session\":\"%s\",\"label\":",
			    i > 0 ? "," : "", hex);
			json_cstr(stdout, v[i].label);
			printf(",\"tasks\":%u,\"created\":%llu,"
			    "\"ram_bytes\":%llu}", v[i].tasks,
			    (unsigned long long)v[i].created,
			    (unsigned long long)v[i].ram_bytes);
		} else {
			printf("%s\t%u\t%llu\t%llu\t%s\n", hex, v[i].tasks,
			    (unsigned long long)v[i].ram_bytes,
			    (unsigned long long)v[i].created, v[i].label);
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	free(v);
	return 0;
}

static int session_destroy(struct asc_client *c, const struct cli_opts *o,
    const uint8_t id[ASC_SESSION_ID_LEN], const char *hex)
{
	struct asc_status st;

	if (asc_session_destroy(c, id, &st) != 0)
		return session_fail("destroy", &st);
	if (o->json)
		printf("{\"destroyed\":\"%s\"}\n", hex);
	return 0;
}

/* aspace session create|list|destroy ... */
static int cmd_session(int argc, char **argv, struct cli_opts *o)
{
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	uint8_t id[ASC_SESSION_ID_LEN];
	const char *sub, *idarg = NULL;
	struct asc_client *c;
	int i, rc;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	sub = argv[0];
	if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "destroy") != 0) {
		usage(stderr);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (common_opt(argc, argv, &i, o) == 1)
			continue;
		if (strcmp(sub, "create") == 0 && i + 1 < argc &&
		    strcmp(argv[i], "--label") == 0) {
			params.label = argv[++i];
		} else if (strcmp(sub, "create") == 0 && i + 1 < argc &&
		    strcmp(argv[i], "--seed") == 0) {
			if (parse_seed(argv[++i], &params.seed) != 0) {
				fprintf(stderr, "aspace: bad seed '%s'\n",
				    argv[i]);
				return 2;
			}
			params.has_seed = params.has_randomize = true;
			params.randomize = true;
		} else if (strcmp(sub, "create") == 0 && i + 1 < argc &&
		    strcmp(argv[i], "--kernel") == 0) {
			if (cli_kernel_arg(argv[++i], &params, NULL) != 0)
				return 2;
		} else if (strcmp(sub, "destroy") == 0 && idarg == NULL &&
		    argv[i][0] != '-') {
			idarg = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(sub, "destroy") == 0) {
		if (idarg == NULL) {
			usage(stderr);
			return 2;
		}
		if (asc_session_parse(idarg, id) != 0) {
			fprintf(stderr, "aspace: bad session id '%s' "
			    "(want 32 hex digits)\n", idarg);
			return 2;
		}
	}
	if ((c = cli_open(o)) == NULL)
		return 2;
	if (strcmp(sub, "create") == 0)
		rc = session_create(c, o, &params);
	else if (strcmp(sub, "list") == 0)
		rc = session_list(c, o);
	else
		rc = session_destroy(c, o, id, idarg);
	asc_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_opts o = { NULL, NULL, NULL, NULL, NULL, false };
	int i = 1, k;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("aspace %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	while (i < argc && (k = common_opt(argc, argv, &i, &o)) != 0) {
		if (k < 0) {
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (i < argc && strcmp(argv[i], "run") == 0)
		return cmd_run(argc - i - 1, argv + i + 1, &o);
	if (i < argc && strcmp(argv[i], "session") == 0)
		return cmd_session(argc - i - 1, argv + i + 1, &o);
	if (i < argc && (strcmp(argv[i], "shell") == 0 ||
	    subcmd_known(argv[i]))) {
		/* The global options may follow the command too. */
		char **rest = calloc((size_t)argc + 1, sizeof(*rest));
		int n = 0, j, rc;

		if (rest == NULL)
			return 2;
		for (j = i + 1; j < argc; j++) {
			if (strcmp(argv[j], "--json") != 0 &&
			    (k = common_opt(argc, argv, &j, &o)) != 0) {
				if (k < 0) {
					free(rest);
					usage(stderr);
					return 2;
				}
				continue;
			}
			rest[n++] = argv[j];
		}
		rc = strcmp(argv[i], "shell") == 0 ? shell_run(n, rest, &o) :
		    subcmd_run(argv[i], n, rest, &o);
		free(rest);
		return rc;
	}
	usage(stderr);
	return 2;
}

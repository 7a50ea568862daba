/*
 * aspace.c: the aspace command.
 *
 *   aspace [--connect URL] [--ca FILE] [--cert FILE --key FILE]
 *          [--token T] [--json] COMMAND ...
 *   aspace run [--daemon URL] [--token T] [--seed N] [--json]
 *              [--kernel NAME=VALUE]... [--keep | --session ID [--resume]]
 *              TRACE...
 *   aspace run --local [--seed N] [--kernel NAME=VALUE]... [--json] TRACE...
 *   aspace run --linux [--json | --annotate] TRACE...       (run-linux.c)
 *   aspace run --compare [--local] [--seed N] [--kernel NAME=VALUE]...
 *              TRACE...                                    (run-compare.c)
 *   aspace gen [--seed N] [--ops K] [--kinds LIST] ...        (gen-cli.c)
 *   aspace session create [--label L] [--seed N] [--kernel NAME=VALUE]...
 *                         [--json]
 *   aspace session list [--json]
 *   aspace session destroy ID [--json]
 *   aspace OP --session ID [--task N] [--json] OPERANDS...  (subcmd.c)
 *   aspace check ID [--json]                                 (subcmd.c)
 *   aspace kernel ID [--json]                       (subcmd.c, kernel.c)
 *   aspace shell [--session ID | --kernel NAME=VALUE...]      (shell.c)
 *   aspace web [--session ID | TRACE]                           (web.c)
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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "aspace-client.h"
#include "grade-cli.h"
#include "rundir.h"
#include "run-cmp.h"
#include "run-out.h"
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
	    "       aspace run [--daemon URL] [--seed N] [--json | --annotate]\n"
	    "                  [--kernel NAME=VALUE]...\n"
	    "                  [--keep | --session ID [--resume]] TRACE...\n"
	    "       aspace run --local [--seed N] [--kernel NAME=VALUE]...\n"
	    "                  [--json | --annotate] TRACE...\n"
	    "       aspace run --linux [--json | --annotate] TRACE...\n"
	    "       aspace run --compare [--local] [--seed N]\n"
	    "                  [--kernel NAME=VALUE]... TRACE...\n"
	    "       aspace gen [--seed N] [--ops K] [--kinds LIST]\n"
	    "       aspace session create [--label L] [--seed N]\n"
	    "                  [--kernel NAME=VALUE]... [--json]\n"
	    "       aspace session list [--json]\n"
	    "       aspace session destroy ID [--json]\n"
	    "       aspace grade [--local] [--json | --gradescope] TRACE ANSWERS...\n"
	    "       aspace grade --batch [--csv FILE] KEYDIR SUBMISSIONSDIR\n"
	    "       aspace web [--session ID | TRACE]\n"
	    "       aspace --version\n"
	    "       aspace COMMAND --help | help COMMAND\n");
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

/* aspace run --annotate. */
static struct run_print_opts print_opts;

/* A trace that could not be run: a message, and a JSON object too. */
static int trace_fail(const char *path, bool json, const char *msg)
{
	fprintf(stderr, "aspace: %s: %s\n", path, msg);
	if (json)
		run_json_trace(path, 2, NULL, 0, NULL, 0, 0, false, msg);
	return 2;
}

/* --local --explain: each command's path, kept as the daemon sends them. */
static void local_explain(void *arg, unsigned long lineno, const char *text)
{
	struct asc_trace_result *res = arg;
	struct asc_line_explain *v = res->explain;
	size_t n = res->n_explain;

	if (*text == '\0')
		return;
	if ((n & (n - 1)) == 0 &&	/* 0, 1, 2, 4...: grow to twice */
	    (v = realloc(v, (n ? 2 * n : 1) * sizeof(*v))) == NULL)
		return;
	res->explain = v;
	if ((v[n].text = strdup(text)) == NULL)
		return;
	v[n].line = lineno;
	res->n_explain++;
}

/* Run one trace in a fresh session; 0 ok, 1 trace errors, 2 failure. */
static int run_one(const char *path, const struct as_session_params *p,
    bool json)
{
	struct asc_trace_result ex = { 0 };
	struct as_trace_check chk = { 0 };
	struct as_trace_cursor cur;
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
	chk.on_explain = print_opts.explain ? local_explain : NULL;
	chk.on_explain_arg = &ex;
	as_trace_cursor_init(&cur);
	r = as_trace_run_checked(s, &cur, text, len, &out, &chk);
	rc = r < 0 ? 2 : r > 0 ? 1 : 0;
	if (json)
		run_json_trace_ex(path, rc, text, len, as_buf_str(&out),
		    out.len, r > 0 ? (unsigned long)r : 0, r < 0,
		    print_opts.explain ? &ex : NULL);
	else
		run_print(&print_opts, text, len, as_buf_str(&out), out.len,
		    print_opts.explain ? &ex : NULL);
	asc_trace_explain_free(&ex);
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
		if (res.output != NULL && !json)	/* stopped: so far */
			run_print(&print_opts, text, len, res.output, res.len,
			    print_opts.explain ? &res : NULL);
		free(text);
		asc_trace_result_free(&res);
		return trace_fail(path, json,
		    asc_status_str(&st, msg, sizeof(msg)));
	}
	rc = res.truncated ? 2 : res.errors > 0 ? 1 : 0;
	if (json)
		run_json_trace_ex(path, rc, text, len, res.output, res.len,
		    res.errors, res.truncated, print_opts.explain ? &res : NULL);
	else
		run_print(&print_opts, text, len, res.output, res.len,
		    print_opts.explain ? &res : NULL);
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

/* The simulator's output for --compare, from the core or the daemon. */
void run_sim_capture(const struct run_sim *s, const char *path,
    const char *text, size_t len, struct run_result *res)
{
	struct asc_trace_result tr;
	struct asc_status st;
	struct as_session *ss;
	struct as_buf out;
	char msg[512];
	int r;

	memset(res, 0, sizeof(*res));
	res->rc = 2;
	if (!s->local) {
		if (asc_run_trace_ex(s->c, NULL, text, len, s->params, 0, &tr,
		    &st) != 0)
			fprintf(stderr, "aspace: %s: %s\n", path,
			    asc_status_str(&st, msg, sizeof(msg)));
		else if ((res->out = strndup(tr.output ? tr.output : "",
		    tr.len)) != NULL)
			res->rc = tr.truncated ? 2 : tr.errors > 0;
		asc_trace_result_free(&tr);
		return;
	}
	if ((ss = as_session_new(s->p)) == NULL) {
		fprintf(stderr, "aspace: cannot create a session\n");
		return;
	}
	as_buf_init(&out, OUTPUT_MAX);
	r = as_trace_run(ss, text, len, &out);
	if ((res->out = strndup(as_buf_str(&out), out.len)) != NULL)
		res->rc = r < 0 ? 2 : r > 0;
	as_buf_free(&out);
	as_session_free(ss);
}

/* --- options ----------------------------------------------------------------- */

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

#define RUN_USAGE \
	"usage: aspace run [--seed N] [--kernel NAME=VALUE]... [--annotate]\n" \
	"                  [--explain] [--keep | --session ID [--resume]] TRACE...\n" \
	"       aspace run --local [--seed N] [--kernel NAME=VALUE]...\n" \
	"                  [--annotate] [--explain] TRACE...\n" \
	"       aspace run --linux [--annotate] TRACE...\n" \
	"       aspace run --compare [--local] [--seed N] [--kernel NAME=VALUE]...\n" \
	"                  TRACE...\n" \
	"Runs each TRACE (a file, or - for standard input) in a fresh session\n" \
	"through aspaced, or with the core built in (--local), and prints its\n" \
	"output; its options come before the first TRACE.  --annotate puts\n" \
	"each command, as \"# N: LINE\", before its result, and \"==> TRACE <==\"\n" \
	"before each of several traces.  --explain puts \"# why: PATH\" after\n" \
	"each result: the path the command took in the simulated kernel.\n" \
	"--linux runs it on this machine's own kernel instead (Linux x86-64;\n" \
	"the reference runner).  --compare runs both and shows them side by\n" \
	"side, with the first difference: exit status 0 if they agree, 1 if\n" \
	"they differ, 2 on an error.\n" CLI_GLOBAL_USAGE

enum {
	OPT_LOCAL = CLI_OPT_OWN, OPT_KEEP, OPT_RESUME, OPT_SESSION, OPT_SEED,
	OPT_KERNEL, OPT_LABEL, OPT_ANNOTATE, OPT_EXPLAIN, OPT_LINUX,
	OPT_COMPARE
};

static const struct option run_options[] = {
	{ "local",	no_argument, NULL, OPT_LOCAL },
	{ "keep",	no_argument, NULL, OPT_KEEP },
	{ "resume",	no_argument, NULL, OPT_RESUME },
	{ "session",	required_argument, NULL, OPT_SESSION },
	{ "seed",	required_argument, NULL, OPT_SEED },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "annotate",	no_argument, NULL, OPT_ANNOTATE },
	{ "explain",	no_argument, NULL, OPT_EXPLAIN },
	{ "linux",	no_argument, NULL, OPT_LINUX },
	{ "compare",	no_argument, NULL, OPT_COMPARE },
	CLI_GLOBAL_OPTIONS
};

enum run_mode { RUN_SIM, RUN_LINUX, RUN_COMPARE };

/* --linux and --compare against the other options; 0 or exit status. */
static int check_mode(enum run_mode mode, int local, bool kernel,
    const struct run_where *w, const struct cli_opts *o, bool seed)
{
	if (mode == RUN_LINUX && (local || kernel || seed || w->flags ||
	    w->has_session || o->url != NULL))
		return cli_usage_error(RUN_USAGE, "run --linux runs the host "
		    "kernel: no --local, --daemon, --kernel, --seed, --keep, "
		    "--session, --explain");
	if (mode == RUN_COMPARE && (w->flags || w->has_session || o->json ||
	    print_opts.annotate))
		return cli_usage_error(RUN_USAGE, "run --compare makes its own "
		    "table: no --keep, --session, --resume, --json, "
		    "--annotate, --explain");
	return mode == RUN_SIM ? 0 : run_linux_check();
}

/* One TRACE as the mode says: 0 ok, 1 errors (or a difference), 2. */
static int run_mode_one(enum run_mode mode, const struct run_sim *sim,
    const char *path, const struct cli_opts *o)
{
	if (mode == RUN_LINUX)
		return run_linux_one(path, &print_opts, o->json);
	if (mode == RUN_COMPARE)
		return run_compare_one(sim, path);
	return sim->local ? run_one(path, sim->p, o->json) :
	    run_remote(sim->c, path, sim->params, sim->where, o->json);
}

/* aspace run [OPTION]... TRACE... (argv[0] "run") */
static int cmd_run(int argc, char **argv, struct cli_opts *o)
{
	struct as_session_params p;
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	struct asc_client *c = NULL;
	struct run_where w;
	struct run_sim sim;
	enum run_mode mode = RUN_SIM;
	int i, local = 0, rc = 0, r, ch;
	bool kernel = false;

	as_session_params_default(&p);
	memset(&w, 0, sizeof(w));
	memset(&sim, 0, sizeof(sim));
	cli_getopt_start(argv, "run");
	/* "+": the options end at the first TRACE. */
	while ((ch = getopt_long(argc, argv, "+h", run_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		switch (ch) {
		case OPT_LOCAL:
			local = 1;
			break;
		case OPT_KEEP:
			w.flags |= ASC_TRACE_KEEP;
			break;
		case OPT_ANNOTATE:
			print_opts.annotate = true;
			break;
		case OPT_EXPLAIN:
			print_opts.explain = true;
			w.flags |= ASC_TRACE_EXPLAIN;
			break;
		case OPT_LINUX:
		case OPT_COMPARE:
			if (mode != RUN_SIM)
				return cli_usage_error(RUN_USAGE, "--linux and "
				    "--compare exclude each other");
			mode = ch == OPT_LINUX ? RUN_LINUX : RUN_COMPARE;
			break;
		case OPT_RESUME:
			w.flags |= ASC_TRACE_RESUME;
			break;
		case OPT_SESSION:
			if (asc_session_parse(optarg, w.session) != 0)
				return cli_usage_error(RUN_USAGE,
				    "bad session id '%s'", optarg);
			w.has_session = true;
			break;
		case OPT_SEED:
			if (parse_seed(optarg, &p.seed) != 0)
				return cli_usage_error(RUN_USAGE,
				    "bad seed '%s'", optarg);
			p.randomize = true;
			break;
		case OPT_KERNEL:
			if (cli_kernel_arg(optarg, &params, &p) != 0)
				return cli_usage_error(RUN_USAGE, NULL);
			if (sim.nkernel < 16)
				sim.kernel_args[sim.nkernel++] = optarg;
			kernel = true;
			break;
		case 'h':
			fputs(RUN_USAGE, stdout);
			return 0;
		default:
			return cli_bad_option();
		}
	}
	if (optind == argc)
		return cli_usage_error(RUN_USAGE, "run: no TRACE");
	if ((r = check_mode(mode, local, kernel, &w, o, p.randomize)) != 0)
		return r;
	if (local && (o->url != NULL || (w.flags & ~ASC_TRACE_EXPLAIN) != 0 ||
	    w.has_session))
		return cli_usage_error(RUN_USAGE, "--local and --daemon, "
		    "--keep, --session or --resume exclude each other");
	if (((w.flags & ASC_TRACE_RESUME) && !w.has_session) ||
	    ((w.flags & ASC_TRACE_KEEP) && w.has_session))
		return cli_usage_error(RUN_USAGE, "--resume needs --session; "
		    "--keep makes a new one");
	if (kernel && w.has_session)
		return cli_usage_error(RUN_USAGE, "--kernel is for a new "
		    "session, not --session (a trace's kernel lines set a "
		    "fresh one's)");
	if (!local && mode != RUN_LINUX) {
		if (p.randomize) {
			params.has_seed = true;
			params.seed = p.seed;
			params.has_randomize = true;
			params.randomize = true;
		}
		if ((c = cli_open(o)) == NULL)
			return 2;
	}
	sim.local = local;
	sim.p = &p;
	sim.c = c;
	sim.params = p.randomize || kernel ? &params : NULL;
	sim.where = &w;
	for (i = optind; i < argc; i++) {
		if (argc - i > 1 || rc != 0)
			fflush(stdout);
		if ((print_opts.annotate || mode == RUN_COMPARE) && !o->json &&
		    argc - optind > 1)
			printf("%s==> %s <==\n", i > optind ? "\n" : "",
			    argv[i]);
		r = run_mode_one(mode, &sim, argv[i], o);
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
		cli_json_print(json_pack("{s:s,s:i}", "session", hex,
		    "task", 1));
	else
		printf("%s\n", hex);
	return 0;
}

static int session_list(struct asc_client *c, const struct cli_opts *o)
{
	struct asc_session_info *v;
	struct asc_status st;
	json_t *list = json_array();
	size_t n, i;
	char hex[33];

	if (asc_session_list(c, &v, &n, &st) != 0) {
		json_decref(list);
		return session_fail("list", &st);
	}
	for (i = 0; i < n; i++) {
		asc_session_hex(v[i].id, hex);
		if (o->json) {
			cli_json_append(&list, json_pack("{s:s,s:o,s:o,s:o,s:o}",
			    "session", hex, "label", cli_json_cstr(v[i].label),
			    "tasks", cli_json_u64(v[i].tasks),
			    "created", cli_json_u64(v[i].created),
			    "ram_bytes", cli_json_u64(v[i].ram_bytes)));
		} else {
			printf("%s\t%u\t%llu\t%llu\t%s\n", hex, v[i].tasks,
			    (unsigned long long)v[i].ram_bytes,
			    (unsigned long long)v[i].created, v[i].label);
		}
	}
	if (o->json)
		cli_json_print(json_pack("{s:o}", "sessions", list));
	else
		json_decref(list);
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
		cli_json_print(json_pack("{s:s}", "destroyed", hex));
	return 0;
}

#define SESSION_CREATE_SYNOPSIS \
	"usage: aspace session create [--label L] [--seed N]\n" \
	"                             [--kernel NAME=VALUE]...\n"
#define SESSION_LIST_SYNOPSIS	"       aspace session list\n"
#define SESSION_DESTROY_SYNOPSIS "       aspace session destroy ID\n"
#define SESSION_USAGE SESSION_CREATE_SYNOPSIS SESSION_LIST_SYNOPSIS \
	SESSION_DESTROY_SYNOPSIS CLI_GLOBAL_USAGE
#define SESSION_CREATE_USAGE SESSION_CREATE_SYNOPSIS \
	"Makes a session (with its layout randomised by N, and its kernel\n" \
	"parameters) and prints its ID.\n" CLI_GLOBAL_USAGE
#define SESSION_LIST_USAGE "usage: aspace session list\n" \
	"Prints your sessions: ID, tasks, RAM bytes, when made, label.\n" \
	CLI_GLOBAL_USAGE
#define SESSION_DESTROY_USAGE "usage: aspace session destroy ID\n" \
	"Destroys session ID.\n" CLI_GLOBAL_USAGE

static const struct option session_create_options[] = {
	{ "label",	required_argument, NULL, OPT_LABEL },
	{ "seed",	required_argument, NULL, OPT_SEED },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	CLI_GLOBAL_OPTIONS
};
static const struct option global_options[] = { CLI_GLOBAL_OPTIONS };

/* aspace session create|list|destroy ... (argv[0] "session") */
static int cmd_session(int argc, char **argv, struct cli_opts *o)
{
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	uint8_t id[ASC_SESSION_ID_LEN];
	static const char *const names[] = { "create", "list", "destroy" };
	static const char *const usages[] = { SESSION_CREATE_USAGE,
	    SESSION_LIST_USAGE, SESSION_DESTROY_USAGE };
	enum { CREATE, LIST, DESTROY } sub;
	const char *idarg = NULL, *use;
	char name[32];
	struct asc_client *c;
	int rc, ch;

	cli_getopt_start(argv, "session");
	while ((ch = getopt_long(argc, argv, "+h", global_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		if (ch == 'h') {
			fputs(SESSION_USAGE, stdout);
			return 0;
		}
		return cli_bad_option();
	}
	if (optind == argc)
		return cli_usage_error(SESSION_USAGE, "session: create, list "
		    "or destroy?");
	argc -= optind;
	argv += optind;
	for (sub = CREATE; sub <= DESTROY; sub++)
		if (strcmp(argv[0], names[sub]) == 0)
			break;
	if (sub > DESTROY)
		return cli_usage_error("", "session: unknown command '%s' "
		    "(aspace session --help)", argv[0]);
	use = usages[sub];
	snprintf(name, sizeof(name), "session %s", names[sub]);
	cli_getopt_start(argv, name);
	while ((ch = getopt_long(argc, argv, "h", sub == CREATE ?
	    session_create_options : global_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		switch (ch) {
		case OPT_LABEL:
			params.label = optarg;
			break;
		case OPT_SEED:
			if (parse_seed(optarg, &params.seed) != 0)
				return cli_usage_error(use, "bad seed '%s'",
				    optarg);
			params.has_seed = params.has_randomize = true;
			params.randomize = true;
			break;
		case OPT_KERNEL:
			if (cli_kernel_arg(optarg, &params, NULL) != 0)
				return cli_usage_error(use, NULL);
			break;
		case 'h':
			fputs(use, stdout);
			return 0;
		default:
			return cli_bad_option();
		}
	}
	if (sub == DESTROY && optind < argc)
		idarg = argv[optind++];
	if (optind < argc)
		return cli_usage_error(use, "session: unexpected '%s'",
		    argv[optind]);
	if (sub == DESTROY) {
		if (idarg == NULL)
			return cli_usage_error(use, "session destroy: which "
			    "ID?");
		if (asc_session_parse(idarg, id) != 0)
			return cli_usage_error(use, "bad session id '%s' "
			    "(want 32 hex digits)", idarg);
	}
	if ((c = cli_open(o)) == NULL)
		return 2;
	if (sub == CREATE)
		rc = session_create(c, o, &params);
	else if (sub == LIST)
		rc = session_list(c, o);
	else
		rc = session_destroy(c, o, id, idarg);
	asc_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option main_options[] = {
		{ "version",	no_argument, NULL, 'V' },
		CLI_GLOBAL_OPTIONS
	};
	struct cli_opts o = { NULL, NULL, NULL, NULL, NULL, false };
	const char *cmd;
	int ch;

	cli_getopt_start(argv, NULL);
	/* "+": the global options end at the command. */
	while ((ch = getopt_long(argc, argv, "+h", main_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, &o))
			continue;
		switch (ch) {
		case 'V':
			printf("aspace %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option();
		}
	}
	if (optind == argc) {
		fprintf(stderr, "aspace: which command? (aspace --help)\n");
		return 2;
	}
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "help") == 0) {
		/* aspace help [COMMAND]: COMMAND --help */
		if (argc == 1) {
			usage(stdout);
			return 0;
		}
		argv[0] = (char *)"--help";
		cmd = argv[1];
		argv[1] = argv[0];
		argv[0] = (char *)cmd;
		argc = 2;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc, argv, &o);
	if (strcmp(cmd, "session") == 0)
		return cmd_session(argc, argv, &o);
	if (strcmp(cmd, "shell") == 0)
		return shell_run(argc, argv, &o);
	if (strcmp(cmd, "grade") == 0)
		return cmd_grade(argc, argv, &o);
	if (strcmp(cmd, "gen") == 0)
		return cmd_gen(argc, argv, &o);
	if (strcmp(cmd, "web") == 0)
		return cmd_web(argc, argv, &o);
	if (subcmd_known(cmd))
		return subcmd_run(cmd, argc, argv, &o);
	fprintf(stderr, "aspace: unknown command '%s' (aspace --help)\n",
	    cmd);
	return 2;
}

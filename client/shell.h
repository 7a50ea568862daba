/*
 * shell.h: what aspace.c, subcmd.c and shell.c share: the global options,
 * opening the daemon, JSON strings, and running one trace line in a named
 * session as a given task.
 */
#ifndef ASPACE_SHELL_H
#define ASPACE_SHELL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "aspace-client.h"

/* The global options (and their ASPACE_* environment defaults). */
struct cli_opts {
	const char	*url;		/* --connect / --daemon */
	const char	*token;		/* --token */
	const char	*ca;		/* --ca */
	const char	*cert;		/* --cert */
	const char	*key;		/* --key */
	bool		 json;		/* --json */
};

/*
 * Options (aspace.c): every subcommand parses its argv (argv[0] its
 * name) with getopt_long, its own options in a table that ends with
 * CLI_GLOBAL_OPTIONS, so that the global options may come among its own.
 */
enum {
	CLI_OPT_CONNECT = 0x100,	/* --connect, --daemon */
	CLI_OPT_CA, CLI_OPT_CERT, CLI_OPT_KEY, CLI_OPT_TOKEN, CLI_OPT_JSON,
	CLI_OPT_OWN			/* a subcommand's own from here */
};
#define CLI_GLOBAL_OPTIONS						\
	{ "connect",	required_argument, NULL, CLI_OPT_CONNECT },	\
	{ "daemon",	required_argument, NULL, CLI_OPT_CONNECT },	\
	{ "ca",		required_argument, NULL, CLI_OPT_CA },		\
	{ "cert",	required_argument, NULL, CLI_OPT_CERT },	\
	{ "key",	required_argument, NULL, CLI_OPT_KEY },		\
	{ "token",	required_argument, NULL, CLI_OPT_TOKEN },	\
	{ "json",	no_argument, NULL, CLI_OPT_JSON },		\
	{ "help",	no_argument, NULL, 'h' },			\
	{ NULL, 0, NULL, 0 }
/* The last line of each subcommand's usage. */
#define CLI_GLOBAL_USAGE \
	"Global options (aspace --help) may come among these: --connect URL,\n" \
	"--ca FILE, --cert FILE, --key FILE, --token T, --json.\n"

/* Start a getopt_long scan of argv, a subcommand's (argv[0] its name,
 * replaced so that getopt's messages say "aspace NAME: ..."). */
void cli_getopt_start(char **argv, const char *name);
/* getopt_long returned '?': one line naming the wrong option and where
 * the usage is, on stderr; 2, the exit status. (cli-opt.c) */
int cli_bad_option(void);
/* "aspace" or "aspace NAME", the command being scanned. */
const char *cli_prog(void);
/* A getopt_long result c that is a global option, into *o: true. */
bool cli_global_opt(int c, const char *arg, struct cli_opts *o);
/* A usage error: "aspace: MESSAGE" if fmt is not NULL (getopt printed
 * its own), then usage, on stderr; 2, the exit status. */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Connect, say hello; NULL after a message on stderr. (aspace.c) */
struct asc_client *cli_open(const struct cli_opts *o);

/*
 * --json output (cli-json.c, jansson).  Each returns a new reference, or
 * NULL when out of memory (which cli_json_set and cli_json_print take).
 */
/* s (len bytes, any bytes) as a JSON string: each ill-formed piece of
 * UTF-8 becomes U+FFFD. */
json_t *cli_json_strn(const char *s, size_t len);
json_t *cli_json_cstr(const char *s);
/* v as a number up to 2^53 - 1, above as a string of decimal digits. */
json_t *cli_json_u64(uint64_t v);
/* Set obj's key (or append to array) taking value; on failure *obj (or
 * *array) is released and NULL, and the next calls do nothing. */
void cli_json_set(json_t **obj, const char *key, json_t *value);
void cli_json_append(json_t **array, json_t *value);
/* obj as one line on standard output, then released: 0, or -1 (a
 * message if obj is NULL). */
int cli_json_print(json_t *obj);

/* One trace line's result, renumbered as line lineno. */
struct cli_line_result {
	char		*output;	/* malloc'ed, NUL-terminated */
	size_t		 len;
	unsigned	 errors;	/* "! error" lines in output */
	bool		 no_task;	/* the task to switch to is absent */
	char		*explain;	/* with explain: the line's path, or
					 * NULL; malloc'ed */
};

/*
 * Run trace line (no newline) in session sid as task (0: start as
 * task 1 without a switch), after window_line if not NULL, through
 * run_trace; the output of the prefix lines is dropped and the line's
 * own numbered "lineno: " (or with no number at all when lineno is 0).
 * With explain, res->explain is the path the line took (explain.h).
 * 0 with *res filled (free it with cli_line_result_free()), or -1 with
 * *st.
 */
int cli_run_line(struct asc_client *c, const uint8_t *sid,
    unsigned long task, const char *window_line, const char *line,
    unsigned long lineno, bool explain, struct cli_line_result *res,
    struct asc_status *st);
void cli_line_result_free(struct cli_line_result *res);

/* The per-operation subcommands (subcmd.c). */
bool subcmd_known(const char *name);
int subcmd_run(const char *name, int argc, char **argv, struct cli_opts *o);
void subcmd_usage(FILE *f);

/* kernel.c: --kernel NAME=VALUE into r's field (and p's kparam, if p is
 * not NULL): 0, or 2 (usage) after a message on stderr. */
struct as_session_params;
int cli_kernel_arg(const char *arg, Aspace__SessionCreateRequest *r,
    struct as_session_params *p);
/* aspace kernel: the session's parameters as "kernel NAME VALUE" lines
 * (or JSON); the exit status. */
/* aspace web [--session ID | TRACE] (web.c). */
int cmd_web(int argc, char **argv, struct cli_opts *o);
int cli_kernel_show(struct asc_client *c, const uint8_t *sid,
    const struct cli_opts *o);

/* aspace shell [--session ID] (shell.c). */
int shell_run(int argc, char **argv, struct cli_opts *o);

/* aspace gen (gen-cli.c). */
int cmd_gen(int argc, char **argv, struct cli_opts *o);

#endif /* ASPACE_SHELL_H */

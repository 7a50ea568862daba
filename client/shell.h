/*
 * shell.h: what aspace.c, subcmd.c and shell.c share: the global options,
 * opening the daemon, JSON strings, and running one trace line in a named
 * session as a given task.
 */
#ifndef ASPACE_SHELL_H
#define ASPACE_SHELL_H

#include <stdbool.h>
#include <stdio.h>

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

/* Connect, say hello; NULL after a message on stderr. (aspace.c) */
struct asc_client *cli_open(const struct cli_opts *o);
/* s (len bytes) as a JSON string, quotes included. (aspace.c) */
void cli_json_str(FILE *f, const char *s, size_t len);

/* One trace line's result, renumbered as line lineno. */
struct cli_line_result {
	char		*output;	/* malloc'ed, NUL-terminated */
	size_t		 len;
	unsigned	 errors;	/* "! error" lines in output */
	bool		 no_task;	/* the task to switch to is absent */
};

/*
 * Run trace line (no newline) in session sid as task (0: start as
 * task 1 without a switch), after window_line if not NULL, through
 * run_trace; the output of the prefix lines is dropped and the line's
 * own numbered "lineno: " (or with no number at all when lineno is 0).
 * 0 with *res filled (free res->output), or -1 with *st.
 */
int cli_run_line(struct asc_client *c, const uint8_t *sid,
    unsigned long task, const char *window_line, const char *line,
    unsigned long lineno, struct cli_line_result *res,
    struct asc_status *st);

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
int cli_kernel_show(struct asc_client *c, const uint8_t *sid,
    const struct cli_opts *o);

/* aspace shell [--session ID] (shell.c). */
int shell_run(int argc, char **argv, struct cli_opts *o);

#endif /* ASPACE_SHELL_H */

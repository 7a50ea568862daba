/*
 * shell.c: aspace shell [--session ID | --kernel NAME=VALUE...]: an
 * interactive prompt that takes trace-v1 commands, runs each in the
 * session through the daemon as the current task, and prints its result
 * at once.
 *
 * Without --session it makes a fresh session (the daemon's defaults, as
 * "aspace run" uses, but for the kernel parameters --kernel sets, as
 * "aspace session create" does) and destroys it at the end.  Each line is numbered
 * as in a trace (blank and comment lines count), and its output is the
 * trace runner's, "N: " numbers included, so that a trace piped into the
 * shell prints byte for byte what "aspace run --local" prints for it.
 * The shell keeps what a trace run keeps between lines: the current task
 * ("switch N" changes it, "exit" leaves none) and the "window".
 *
 * On a terminal (and with libedit) the prompt has line editing, history
 * (~/.aspace_history) and completion of command names with TAB; "help"
 * lists the commands and "quit" or end of file leaves.  Otherwise lines
 * are read plainly, with no prompt.
 *
 * Exit status: 0; 1 if any line printed "! error"; 2 if the daemon could
 * not be reached or failed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "shell.h"
#include "trace_parse.h"

static const char *const commands[] = {
	"brk", "exec", "exit", "file", "fork", "madvise", "maps", "mlock",
	"kernel", "mmap", "mprotect", "mremap", "msync", "munlock", "munmap",
	"read", "shmat", "shmdt", "shmget", "shmrm", "smaps",
	"switch", "thread", "touch", "vfork", "window", "write",
	"help", "quit", NULL
};

struct shell {
	struct asc_client *c;
	uint8_t		 sid[ASC_SESSION_ID_LEN];
	unsigned long	 task;		/* current task; 0: none */
	char		*window;	/* the last good "window" line */
	unsigned long	 lineno;
	int		 rc;
	bool		 tty;
};

/* Run one line; false if the daemon failed (the shell stops). */
static bool shell_line(struct shell *sh, const char *line, size_t len)
{
	struct cli_line_result r;
	struct trace_cmd cmd;
	struct asc_status st;
	char err[160], msg[512], *text;
	int p;

	sh->lineno++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	p = trace_parse_line(line, len, &cmd, err, sizeof(err));
	if (p == 0)
		return true;
	if (p < 0) {
		printf("%lu: ! error: %s\n", sh->lineno, err);
		sh->rc = 1;
		return true;
	}
	if (cmd.op != T_SWITCH && sh->task == 0) {
		printf("%lu: ! error: no current task\n", sh->lineno);
		sh->rc = 1;
		return true;
	}
	if ((text = strndup(line, len)) == NULL)
		return false;
	/* switch runs alone: as_trace_run() starts as task 1 anyway. */
	if (cli_run_line(sh->c, sh->sid, cmd.op == T_SWITCH ? 0 : sh->task,
	    cmd.op == T_SWITCH ? NULL : sh->window, text, sh->lineno, &r,
	    &st) != 0) {
		fprintf(stderr, "aspace: shell: %s\n",
		    asc_status_str(&st, msg, sizeof(msg)));
		free(text);
		sh->rc = 2;
		return false;
	}
	if (r.no_task) {	/* the current task vanished under us */
		printf("%lu: ! error: no task %lu\n", sh->lineno, sh->task);
		r.errors = 1;
	}
	fwrite(r.output, 1, r.len, stdout);
	fflush(stdout);
	if (r.errors > 0) {
		sh->rc = 1;
	} else if (cmd.op == T_SWITCH) {
		sh->task = cmd.id;
	} else if (cmd.op == T_EXIT) {
		sh->task = 0;
	} else if (cmd.op == T_WINDOW) {
		free(sh->window);
		sh->window = text;
		text = NULL;
	}
	free(text);
	free(r.output);
	return true;
}

static void shell_help(void)
{
	int i;

	printf("trace-v1 commands, run as the current task:\n ");
	for (i = 0; commands[i] != NULL; i++)
		printf(" %s", commands[i]);
	printf("\n");
}

/* true to stop: quit, exit of the shell itself. */
static bool shell_builtin(const char *line)
{
	size_t n;

	line += strspn(line, " \t");
	n = strcspn(line, " \t\r\n");
	if (n == 4 && strncmp(line, "quit", 4) == 0)
		return true;
	if (n == 4 && strncmp(line, "help", 4) == 0) {
		shell_help();
		return false;
	}
	return false;
}

#ifdef HAVE_LIBEDIT
static char prompt_buf[64];

static char *prompt(EditLine *el)
{
	struct shell *sh = NULL;

	el_get(el, EL_CLIENTDATA, &sh);
	if (sh->task != 0)
		snprintf(prompt_buf, sizeof(prompt_buf), "aspace[%lu]> ",
		    sh->task);
	else
		snprintf(prompt_buf, sizeof(prompt_buf), "aspace[-]> ");
	return prompt_buf;
}

/* TAB: complete the command name under the cursor (the first word). */
static unsigned char complete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	const char *start = li->buffer, *match = NULL;
	size_t n = (size_t)(li->cursor - li->buffer), k;
	int i, hits = 0;

	(void)ch;
	while (start < li->cursor && (*start == ' ' || *start == '\t'))
		start++;
	n = (size_t)(li->cursor - start);
	if (memchr(start, ' ', n) != NULL)
		return CC_ERROR;	/* operands: nothing to complete */
	for (i = 0; commands[i] != NULL; i++) {
		if (strncmp(commands[i], start, n) == 0) {
			if (hits++ == 0)
				match = commands[i];
		}
	}
	if (hits == 0)
		return CC_ERROR;
	if (hits == 1) {
		if (el_insertstr(el, match + n) == -1 ||
		    el_insertstr(el, " ") == -1)
			return CC_ERROR;
		return CC_REFRESH;
	}
	/* Several: list them on a line of their own. */
	fputc('\n', stdout);
	for (i = 0; commands[i] != NULL; i++)
		if (strncmp(commands[i], start, n) == 0)
			printf("%s ", commands[i]);
	fputc('\n', stdout);
	/* The longest common prefix. */
	for (k = n; match[k] != '\0'; k++) {
		for (i = 0; commands[i] != NULL; i++)
			if (strncmp(commands[i], start, n) == 0 &&
			    commands[i][k] != match[k])
				break;
		if (commands[i] != NULL)
			break;
	}
	if (k > n) {
		char part[32];

		snprintf(part, sizeof(part), "%.*s", (int)(k - n), match + n);
		el_insertstr(el, part);
	}
	return CC_REDISPLAY;
}

static void shell_edit(struct shell *sh, const char *argv0)
{
	EditLine *el = el_init(argv0, stdin, stdout, stderr);
	History *hist = history_init();
	HistEvent ev;
	const char *line, *home = getenv("HOME");
	char histfile[4096] = "";
	int count;

	if (el == NULL || hist == NULL) {
		if (el != NULL)
			el_end(el);
		if (hist != NULL)
			history_end(hist);
		return;
	}
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	if (home != NULL && *home != '\0') {
		snprintf(histfile, sizeof(histfile), "%s/.aspace_history",
		    home);
		history(hist, &ev, H_LOAD, histfile);
	}
	el_set(el, EL_CLIENTDATA, sh);
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_SIGNAL, 1);
	el_set(el, EL_ADDFN, "aspace-complete", "complete a command",
	    complete);
	el_set(el, EL_BIND, "^I", "aspace-complete", NULL);
	el_source(el, NULL);	/* ~/.editrc */
	while ((line = el_gets(el, &count)) != NULL) {
		if (count > 0 && strspn(line, " \t\r\n") < (size_t)count)
			history(hist, &ev, H_ENTER, line);
		if (shell_builtin(line))
			break;
		if (!shell_line(sh, line, (size_t)count))
			break;
	}
	if (histfile[0] != '\0')
		history(hist, &ev, H_SAVE, histfile);
	history_end(hist);
	el_end(el);
	if (line == NULL)
		fputc('\n', stdout);
}
#endif

static void shell_plain(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	for (;;) {
		if (sh->tty) {
			printf("aspace> ");
			fflush(stdout);
		}
		if ((n = getline(&line, &cap, stdin)) < 0)
			break;
		if (sh->tty && shell_builtin(line))
			break;
		if (!shell_line(sh, line, (size_t)n))
			break;
	}
	free(line);
}

#define SHELL_USAGE \
	"usage: aspace shell [--session ID | --kernel NAME=VALUE...]\n" \
	"Runs trace commands read one per line in session ID (or a fresh one,\n" \
	"destroyed at the end), printing each result at once.\n" \
	CLI_GLOBAL_USAGE

enum { OPT_SESSION = CLI_OPT_OWN, OPT_KERNEL };

static const struct option shell_options[] = {
	{ "session",	required_argument, NULL, OPT_SESSION },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	CLI_GLOBAL_OPTIONS
};

int shell_run(int argc, char **argv, struct cli_opts *o)
{
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	struct shell sh;
	struct asc_status st;
	const char *sarg = NULL;
	bool own = false, kernel = false;
	char msg[512], hex[33];
	int ch;

	memset(&sh, 0, sizeof(sh));
	sh.task = 1;
	/* --json is taken, but the output is trace text anyway. */
	cli_getopt_start(argv, "shell");
	while ((ch = getopt_long(argc, argv, "h", shell_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		switch (ch) {
		case OPT_SESSION:
			sarg = optarg;
			break;
		case OPT_KERNEL:
			if (cli_kernel_arg(optarg, &params, NULL) != 0)
				return cli_usage_error(SHELL_USAGE, NULL);
			kernel = true;
			break;
		case 'h':
			fputs(SHELL_USAGE, stdout);
			return 0;
		default:
			return cli_bad_option();
		}
	}
	if (optind < argc)
		return cli_usage_error(SHELL_USAGE, "shell: unexpected '%s'",
		    argv[optind]);
	if (kernel && sarg != NULL)
		return cli_usage_error(SHELL_USAGE, "shell: --kernel is for a "
		    "new session, not --session");
	if (sarg != NULL && asc_session_parse(sarg, sh.sid) != 0)
		return cli_usage_error(SHELL_USAGE, "shell: bad session id "
		    "'%s' (want 32 hex digits)", sarg);
	if ((sh.c = cli_open(o)) == NULL)
		return 2;
	if (sarg == NULL) {
		if (asc_session_create(sh.c, kernel ? &params : NULL, sh.sid,
		    &st) != 0) {
			fprintf(stderr, "aspace: shell: session create: %s\n",
			    asc_status_str(&st, msg, sizeof(msg)));
			asc_close(sh.c);
			return st.code == ASC_LOCAL ? 2 : 1;
		}
		own = true;
	}
	sh.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (sh.tty)
		fprintf(stderr, "aspace shell: session %s%s; \"help\", "
		    "\"quit\"\n", asc_session_hex(sh.sid, hex),
		    own ? " (destroyed at the end)" : "");
#ifdef HAVE_LIBEDIT
	if (sh.tty)
		shell_edit(&sh, "aspace");
	else
#endif
		shell_plain(&sh);
	if (own && sh.rc != 2 && asc_session_destroy(sh.c, sh.sid, &st) != 0)
		fprintf(stderr, "aspace: shell: session destroy: %s\n",
		    asc_status_str(&st, msg, sizeof(msg)));
	free(sh.window);
	asc_close(sh.c);
	return sh.rc;
}

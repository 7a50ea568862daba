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
 * Besides the trace commands it has its own (shell-help.c lists them):
 * "help" and "help CMD" (CMD's syntax and an example), "walk ADDR",
 * "status", "counters [--task-only]", "check" and "kernel" alone, which
 * print what "aspace NAME" prints (subcmd.c, kernel.c), and "quit".
 *
 * On a terminal (and with libedit) the prompt has line editing, history
 * (~/.aspace_history) and completion of command names with TAB.  Ctrl-C
 * drops the line being typed, and at an empty prompt leaves; "quit",
 * Ctrl-D (end of file), SIGHUP and SIGTERM leave (shell-sig.c).  Otherwise
 * lines are read plainly, with no prompt, and SIGINT leaves too.  Leaving
 * any of these ways destroys the session the shell made, unless --keep
 * (its ID is printed then), and saves the history.
 *
 * Exit status: 0; 1 if any line printed "! error"; 2 if the daemon could
 * not be reached or failed.
 */
#include "config.h"

#include <errno.h>
#include <wchar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "shell.h"
#include "shell-cmds.h"
#include "trace_parse.h"

struct shell {
	struct asc_client *c;
	uint8_t		 sid[ASC_SESSION_ID_LEN];
	unsigned long	 task;		/* current task; 0: none */
	char		*window;	/* the last good "window" line */
	unsigned long	 lineno;
	int		 rc;
	bool		 tty;
	bool		 kernel;	/* --kernel: params for a new one */
	bool		 explain;	/* "explain on": "# why:" after each */
	char		*why;		/* the last command's path, or NULL */
	const struct cli_opts *o;
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
	    cmd.op == T_SWITCH ? NULL : sh->window, text, sh->lineno, true,
	    &r, &st) != 0) {
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
	if (sh->explain && r.explain != NULL)
		printf("# why: %s\n", r.explain);
	fflush(stdout);
	free(sh->why);		/* "why" answers for this line now */
	sh->why = r.explain;
	r.explain = NULL;
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
	cli_line_result_free(&r);
	return true;
}

/* The word at *line (skipping blanks): its length, *line at it. */
static size_t word(const char **line)
{
	*line += strspn(*line, " \t");
	return strcspn(*line, " \t\r\n");
}

static bool is(const char *w, size_t n, const char *name)
{
	return n == strlen(name) && strncmp(w, name, n) == 0;
}

/* walk ADDR, status, counters [--task-only], check: as aspace NAME. */
static void shell_inspect(struct shell *sh, const char *name,
    const char *rest)
{
	bool walk = strcmp(name, "walk") == 0, task_only = false, ok = true;
	unsigned long addr = 0;
	size_t n = word(&rest);
	char *end = NULL;
	int r;

	if (walk) {
		errno = 0;
		if (n > 0)
			addr = strtoul(rest, &end, 0);
		ok = n > 0 && *rest != '-' && errno == 0 && end == rest + n;
		rest += n;
		n = word(&rest);
	} else if (strcmp(name, "counters") == 0 &&
	    is(rest, n, "--task-only")) {
		task_only = true;
		rest += n;
		n = word(&rest);
	}
	if (!ok || n != 0) {
		printf("! error: usage: ");
		shell_help(stdout, name, strlen(name));
		sh->rc = 1;
		return;
	}
	if (sh->task == 0 && strcmp(name, "check") != 0) {
		printf("! error: no current task\n");
		sh->rc = 1;
		return;
	}
	r = subcmd_inspect(sh->c, sh->sid, sh->task, name, addr, task_only,
	    sh->o);
	if (r > sh->rc)
		sh->rc = r;
	fflush(stdout);
}

enum { LINE_TRACE, LINE_DONE, LINE_QUIT };

/* "explain on|off" (alone: which it is) and "why": the last command's
 * path through the simulated kernel. */
static void shell_explain(struct shell *sh, bool why, const char *rest)
{
	size_t n = word(&rest);
	const char *more = rest + n;

	if (why && n == 0) {
		printf("# why: %s\n", sh->why != NULL ? sh->why :
		    "(no command has recorded a path yet)");
	} else if (!why && n == 0) {
		printf("explain is %s\n", sh->explain ? "on" : "off");
	} else if (!why && (is(rest, n, "on") || is(rest, n, "off")) &&
	    word(&more) == 0) {
		sh->explain = is(rest, n, "on");
	} else {
		printf("! error: usage: %s\n", why ? "why" :
		    "explain [on|off]");
		sh->rc = 1;
	}
	fflush(stdout);
}

/* The shell's own commands: help, quit, and the inspections. */
static int shell_builtin(struct shell *sh, const char *line)
{
	static const char *const inspect[] = {
		"walk", "status", "counters", "check", NULL
	};
	size_t n = word(&line), i;
	const char *rest = line + n;

	if (is(line, n, "quit"))
		return LINE_QUIT;
	if (is(line, n, "explain") || is(line, n, "why")) {
		shell_explain(sh, is(line, n, "why"), rest);
		return LINE_DONE;
	}
	if (is(line, n, "help")) {
		n = word(&rest);
		if (shell_help(stdout, rest, n) != 0)
			sh->rc = 1;
		return LINE_DONE;
	}
	if (is(line, n, "kernel") && word(&rest) == 0) {
		/* "kernel" alone: the parameters, as aspace kernel */
		if ((i = (size_t)cli_kernel_show(sh->c, sh->sid, sh->o)) != 0)
			sh->rc = (int)i;
		fflush(stdout);
		return LINE_DONE;
	}
	for (i = 0; inspect[i] != NULL; i++)
		if (is(line, n, inspect[i])) {
			shell_inspect(sh, inspect[i], rest);
			return LINE_DONE;
		}
	return LINE_TRACE;
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

#define CMD(i) shell_command_name((size_t)(i))

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
	for (i = 0; CMD(i) != NULL; i++) {
		if (strncmp(CMD(i), start, n) == 0) {
			if (hits++ == 0)
				match = CMD(i);
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
	for (i = 0; CMD(i) != NULL; i++)
		if (strncmp(CMD(i), start, n) == 0)
			printf("%s ", CMD(i));
	fputc('\n', stdout);
	/* The longest common prefix. */
	for (k = n; match[k] != '\0'; k++) {
		for (i = 0; CMD(i) != NULL; i++)
			if (strncmp(CMD(i), start, n) == 0 &&
			    CMD(i)[k] != match[k])
				break;
		if (CMD(i) != NULL)
			break;
	}
	if (k > n) {
		char part[32];

		snprintf(part, sizeof(part), "%.*s", (int)(k - n), match + n);
		el_insertstr(el, part);
	}
	return CC_REDISPLAY;
}

static bool line_empty;	/* the line was empty when a signal came */

/* Read a character for libedit: wait for input or a signal (then -1, as
 * a read error, with line_empty saying whether the line had any text). */
static int getcfn(EditLine *el, wchar_t *wc)
{
	const LineInfo *li = el_line(el);
	mbstate_t mbs;
	char ch;
	size_t r;
	ssize_t n;

	memset(&mbs, 0, sizeof(mbs));
	for (;;) {
		if (shell_wait_input(STDIN_FILENO) <= 0) {
			line_empty = li->lastchar == li->buffer;
			return -1;
		}
		if ((n = read(STDIN_FILENO, &ch, 1)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return n == 0 ? 0 : -1;
		}
		r = mbrtowc(wc, &ch, 1, &mbs);
		if (r == (size_t)-2)
			continue;	/* more bytes to come */
		if (r == (size_t)-1) {
			memset(&mbs, 0, sizeof(mbs));
			*wc = (unsigned char)ch;
		}
		return 1;
	}
}

/* The line loop of the editor: false to leave. */
static bool edit_line(struct shell *sh, EditLine *el, History *hist)
{
	HistEvent ev;
	const char *line;
	int count, b;

	shell_sigint = 0;	/* a Ctrl-C during a command: dropped */
	/* libedit draws the prompt before it sets the terminal raw: a key
	 * typed as soon as the prompt shows (a Ctrl-D) would reach the
	 * cooked terminal, which turns ^D into an end of file the editor
	 * then reads as ^@.  Raw first, then the prompt. */
	el_set(el, EL_PREP_TERM, 1);
	if ((line = el_gets(el, &count)) == NULL) {
		if (!shell_sigquit)
			fputc('\n', stdout);	/* after the prompt's line */
		if (shell_sigquit || (shell_sigint && line_empty) ||
		    count == 0)
			return false;	/* SIGHUP, Ctrl-C at "", Ctrl-D */
		return shell_sigint;	/* Ctrl-C: the line is dropped */
	}
	if (count > 0 && strspn(line, " \t\r\n") < (size_t)count)
		history(hist, &ev, H_ENTER, line);
	if ((b = shell_builtin(sh, line)) == LINE_QUIT)
		return false;
	return b == LINE_DONE || shell_line(sh, line, (size_t)count);
}

static void shell_edit(struct shell *sh, const char *argv0)
{
	EditLine *el = el_init(argv0, stdin, stdout, stderr);
	History *hist = history_init();
	HistEvent ev;
	const char *home = getenv("HOME");
	char histfile[4096] = "";

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
	el_set(el, EL_SIGNAL, 0);	/* shell-sig.c's */
	el_set(el, EL_GETCFN, getcfn);
	/* the wide call: el_set()'s EL_ADDFN wcsdup()s the strings and
	 * never frees them (LeakSanitizer finds them at exit) */
	el_wset(el, EL_ADDFN, L"aspace-complete", L"complete a command",
	    complete);
	el_set(el, EL_BIND, "^I", "aspace-complete", NULL);
	el_source(el, NULL);	/* ~/.editrc */
	while (edit_line(sh, el, hist))
		;
	if (histfile[0] != '\0')
		history(hist, &ev, H_SAVE, histfile);
	history_end(hist);
	el_end(el);
}
#endif

/* Without the editor: a signal ends the wait for a line, and the shell. */
static void shell_plain(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int b;

	for (;;) {
		if (sh->tty) {
			printf("aspace> ");
			fflush(stdout);
		}
		shell_signals(false);
		n = shell_sigint || shell_sigquit ? -1 :
		    getline(&line, &cap, stdin);
		shell_signals(true);
		if (n < 0 || shell_sigint || shell_sigquit)
			break;
		if ((b = shell_builtin(sh, line)) == LINE_QUIT)
			break;
		if (b == LINE_TRACE && !shell_line(sh, line, (size_t)n))
			break;
	}
	free(line);
}

#define SHELL_USAGE \
	"usage: aspace shell [--session ID | [--keep] [--kernel NAME=VALUE]...]\n" \
	"Runs trace commands read one per line in session ID (or a fresh one,\n" \
	"destroyed at the end unless --keep), printing each result at once;\n" \
	"\"help\" lists the commands, \"help CMD\" shows one.\n" \
	CLI_GLOBAL_USAGE

enum { OPT_SESSION = CLI_OPT_OWN, OPT_KERNEL, OPT_KEEP };

static const struct option shell_options[] = {
	{ "session",	required_argument, NULL, OPT_SESSION },
	{ "keep",	no_argument, NULL, OPT_KEEP },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	CLI_GLOBAL_OPTIONS
};

/* The end: destroy the shell's own session (again through a new
 * connection if this one failed) unless kept. */
static void shell_end(struct shell *sh, bool own, bool keep)
{
	struct asc_status st;
	char msg[512], hex[33];

	asc_session_hex(sh->sid, hex);
	if (own && keep) {
		fprintf(stderr, "aspace: shell: kept session %s\n", hex);
		return;
	}
	if (!own)
		return;
	if (sh->rc == 2) {	/* the connection failed: a new one */
		asc_close(sh->c);
		if ((sh->c = cli_open(sh->o)) == NULL) {
			fprintf(stderr, "aspace: shell: session %s left\n", hex);
			return;
		}
	}
	if (asc_session_destroy(sh->c, sh->sid, &st) != 0)
		fprintf(stderr, "aspace: shell: session destroy: %s\n",
		    asc_status_str(&st, msg, sizeof(msg)));
}

/* Parse the options into sh (and *sarg, *keep, params); 0, or the exit
 * status. */
static int shell_args(int argc, char **argv, struct cli_opts *o,
    struct shell *sh, bool *keep, Aspace__SessionCreateRequest *params)
{
	const char *sarg = NULL;
	int ch;

	/* --json is taken, but the output is trace text anyway. */
	cli_getopt_start(argv, "shell");
	while ((ch = getopt_long(argc, argv, "h", shell_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		switch (ch) {
		case OPT_SESSION:
			sarg = optarg;
			break;
		case OPT_KEEP:
			*keep = true;
			break;
		case OPT_KERNEL:
			if (cli_kernel_arg(optarg, params, NULL) != 0)
				return cli_usage_error(SHELL_USAGE, NULL);
			sh->kernel = true;
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
	if ((sh->kernel || *keep) && sarg != NULL)
		return cli_usage_error(SHELL_USAGE, "shell: --kernel and "
		    "--keep are for a new session, not --session");
	if (sarg != NULL && asc_session_parse(sarg, sh->sid) != 0)
		return cli_usage_error(SHELL_USAGE, "shell: bad session id "
		    "'%s' (want 32 hex digits)", sarg);
	sh->task = sarg != NULL ? 1 : 0;	/* 1: the session given */
	return -1;
}

int shell_run(int argc, char **argv, struct cli_opts *o)
{
	Aspace__SessionCreateRequest params = ASPACE__SESSION_CREATE_REQUEST__INIT;
	struct shell sh;
	struct asc_status st;
	bool own, keep = false;
	char msg[512], hex[33];
	int rc;

	memset(&sh, 0, sizeof(sh));
	sh.o = o;
	if ((rc = shell_args(argc, argv, o, &sh, &keep, &params)) >= 0)
		return rc;
	own = sh.task == 0;
	sh.task = 1;
	if ((sh.c = cli_open(o)) == NULL)
		return 2;
	/* Caught from before the session is made to after it is destroyed. */
	shell_signals(true);
	if (own && asc_session_create(sh.c, sh.kernel ? &params : NULL,
	    sh.sid, &st) != 0) {
		fprintf(stderr, "aspace: shell: session create: %s\n",
		    asc_status_str(&st, msg, sizeof(msg)));
		asc_close(sh.c);
		shell_signals_end();
		return st.code == ASC_LOCAL ? 2 : 1;
	}
	sh.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (sh.tty)
		fprintf(stderr, "aspace shell: session %s%s; \"help\", "
		    "\"quit\"\n", asc_session_hex(sh.sid, hex), !own ? "" :
		    keep ? " (kept at the end)" : " (destroyed at the end)");
#ifdef HAVE_LIBEDIT
	if (sh.tty)
		shell_edit(&sh, "aspace");
	else
#endif
		shell_plain(&sh);
	shell_end(&sh, own, keep);
	shell_signals_end();
	free(sh.window);
	free(sh.why);
	asc_close(sh.c);
	return sh.rc;
}

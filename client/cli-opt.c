/*
 * cli-opt.c: the aspace command's option scanning, shared by its
 * subcommands: getopt_long started afresh for each (its messages named
 * "aspace NAME"), the global options, and usage errors.
 *
 * A wrong option is answered in one line that names it, with a hint
 * where the usage is, and exit status 2:
 *
 *   aspace run: unknown option '--foo' (aspace run --help)
 *   aspace run: option '--seed' needs a value (aspace run --help)
 *
 * getopt's own messages are turned off (opterr 0) so that this line is
 * the only one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shell.h"

static char prog[64];		/* "aspace" or "aspace NAME" */
static char **scan_argv;	/* the argv being scanned */

void cli_getopt_start(char **argv, const char *name)
{
	if (name != NULL)
		snprintf(prog, sizeof(prog), "aspace %s", name);
	else
		snprintf(prog, sizeof(prog), "aspace");
	argv[0] = prog;
	scan_argv = argv;
	optind = 0;	/* glibc: start afresh */
	opterr = 0;	/* cli_bad_option() says it */
}

const char *cli_prog(void)
{
	return prog;
}

int cli_bad_option(void)
{
	const char *arg = optind > 0 && scan_argv != NULL ?
	    scan_argv[optind - 1] : NULL;
	char shortopt[3] = { '-', (char)optopt, '\0' };
	size_t n;

	if (optopt > 0 && optopt < 0x100) {	/* a short option */
		fprintf(stderr, "%s: bad option '%s' (%s --help)\n", prog,
		    shortopt, prog);
		return 2;
	}
	if (arg == NULL)
		arg = "?";
	n = strcspn(arg, "=");
	if (optopt != 0)	/* a known long option without its value */
		fprintf(stderr, "%s: option '%.*s' needs a value (%s --help)\n",
		    prog, (int)n, arg, prog);
	else
		fprintf(stderr, "%s: unknown option '%.*s' (%s --help)\n",
		    prog, (int)n, arg, prog);
	return 2;
}

bool cli_global_opt(int c, const char *arg, struct cli_opts *o)
{
	switch (c) {
	case CLI_OPT_CONNECT:	o->url = arg; break;
	case CLI_OPT_CA:	o->ca = arg; break;
	case CLI_OPT_CERT:	o->cert = arg; break;
	case CLI_OPT_KEY:	o->key = arg; break;
	case CLI_OPT_TOKEN:	o->token = arg; break;
	case CLI_OPT_JSON:	o->json = true; break;
	default:		return false;
	}
	return true;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fputs("aspace: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(usage, stderr);
	return 2;
}

/*
 * aspace.c: the aspace command.  For now one subcommand:
 *
 *   aspace run --local [--seed N] TRACE...
 *
 * runs each trace (a file, or - for standard input) in a fresh simulated
 * session with the embedded core and prints its canonical output.  The
 * daemon-backed form comes with the daemon; until then asking for it is a
 * clear error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "session.h"
#include "trace.h"

#define TRACE_MAX	(64UL << 20)	/* largest trace read */
#define OUTPUT_MAX	(256UL << 20)	/* largest output produced */

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: aspace run --local [--seed N] TRACE...\n"
	    "       aspace --version\n"
	    "Runs trace-v1 files (or - for standard input) in a simulated\n"
	    "Linux address space and prints the canonical output.\n");
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

/* Run one trace in a fresh session; 0 ok, 1 trace errors, 2 failure. */
static int run_one(const char *path, const struct as_session_params *p)
{
	struct as_session *s;
	struct as_buf out;
	size_t len;
	char *text = read_all(path, &len);
	int r;

	if (text == NULL) {
		fprintf(stderr, "aspace: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if ((s = as_session_new(p)) == NULL) {
		fprintf(stderr, "aspace: cannot create a session\n");
		free(text);
		return 2;
	}
	as_buf_init(&out, OUTPUT_MAX);
	r = as_trace_run(s, text, len, &out);
	fwrite(as_buf_str(&out), 1, out.len, stdout);
	if (r < 0)
		fprintf(stderr, "aspace: %s: output larger than %lu bytes\n",
		    path, OUTPUT_MAX);
	as_buf_free(&out);
	as_session_free(s);
	free(text);
	return r < 0 ? 2 : r > 0 ? 1 : 0;
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

static int cmd_run(int argc, char **argv)
{
	struct as_session_params p;
	int i, local = 0, rc = 0, r;

	as_session_params_default(&p);
	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--local") == 0) {
			local = 1;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			if (parse_seed(argv[++i], &p.seed) != 0) {
				fprintf(stderr, "aspace: bad seed '%s'\n",
				    argv[i]);
				return 2;
			}
			p.randomize = true;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!local) {
		fprintf(stderr, "aspace: no daemon support yet; "
		    "use 'aspace run --local'\n");
		return 2;
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (; i < argc; i++) {
		if (argc - i > 1 || rc != 0)
			fflush(stdout);
		r = run_one(argv[i], &p);
		if (r > rc)
			rc = r;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("aspace %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}

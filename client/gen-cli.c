/*
 * gen-cli.c: aspace gen, a random exercise.
 *
 *   aspace gen [--seed N] [--ops K] [--kinds LIST] [--no-zero-page]
 *              [--memlock] [--swap] [--pageout-any]
 *
 * prints a trace made by the project's generator (client/gen-*.c, the one
 * tests/linux-diff/gen-trace runs for run-diff.sh), in the manner of the
 * OSTEP simulators: the seed makes the exercise, `aspace run` on it gives
 * the answers.  The first lines are comments naming the seed and options,
 * so that the same trace can be made again byte for byte; without --seed
 * one is drawn from the system's random source and named there.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "shell.h"

#define GEN_OPS_MAX	10000UL
#define GEN_OPS_DEFAULT	20UL
#define GEN_SEED_SPAN	1000000UL	/* a drawn seed is short to type */

static const char *const kind_names[GEN_NKINDS] = {
	"mmap", "munmap", "mprotect", "mremap", "madvise", "mlock", "access",
	"file", "fork", "msync", "shm", "swap",
};

/* What the exercises have unless --kinds says: no msync, shm, swap. */
#define GEN_DEFAULT_KINDS	((1u << GEN_MSYNC) - 1)

#define GEN_USAGE \
	"usage: aspace gen [--seed N] [--ops K] [--kinds LIST] [--no-zero-page]\n" \
	"                  [--memlock] [--swap] [--pageout-any]\n" \
	"Prints a random trace, an exercise: the same options and seed give\n" \
	"the same trace; aspace run (or run --linux) on it gives the answers.\n" \
	"  --seed N        the exercise (default: drawn, and named in the header)\n" \
	"  --ops K         commands, 1 to 10000 (default 20; the first three\n" \
	"                  are mmaps; a maps or smaps comes every few and last)\n" \
	"  --kinds LIST    comma-separated, of: mmap munmap mprotect mremap\n" \
	"                  madvise mlock (with munlock) access (read, write,\n" \
	"                  touch) file (a file rewritten) fork (fork, thread,\n" \
	"                  switch, exit) msync shm (System V, and sequences that\n" \
	"                  mix it with fork, pageout, msync) swap (kernel swap\n" \
	"                  and pageout then swap-in sequences); default\n" \
	"                  mmap,munmap,mprotect,mremap,madvise,mlock,access,file,fork\n" \
	"  --no-zero-page  the trace begins `kernel zero_page off`\n" \
	"  --memlock       now and then a finite `kernel rlimit_memlock`\n" \
	"  --swap          the same as swap in --kinds\n" \
	"  --pageout-any   with shm: pageout sequences aim at any mapping\n"

const char *gen_kind_name(unsigned kind)
{
	return kind < GEN_NKINDS ? kind_names[kind] : NULL;
}

/* The modes a kind needs (the generator draws it only in them). */
static void kind_mode(unsigned kind, struct gen_opts *o)
{
	switch (kind) {
	case GEN_ACCESS:
	case GEN_FILE:	o->accesses = 1; break;
	case GEN_FORK:	o->tasks = 1; break;
	case GEN_MSYNC:	o->msync = 1; break;
	case GEN_SHM:	o->shm = 1; break;
	case GEN_SWAP:	o->swap = 1; break;
	default:	break;
	}
}

/* The modes from the kinds, afresh: a mode draws kinds only it has. */
static void set_modes(struct gen_opts *o)
{
	unsigned k;

	o->accesses = o->tasks = o->msync = o->shm = o->swap = 0;
	for (k = 0; k < GEN_NKINDS; k++)
		if (o->kinds & 1u << k)
			kind_mode(k, o);
}

/* One word of the list: its kind, or -1. */
static int kind_lookup(const char *w, size_t n)
{
	unsigned k;

	for (k = 0; k < GEN_NKINDS; k++)
		if (strlen(kind_names[k]) == n &&
		    strncmp(kind_names[k], w, n) == 0)
			return (int)k;
	return -1;
}

int gen_kinds_parse(const char *list, struct gen_opts *o, const char **bad)
{
	static char word[64];
	const char *p = list;
	size_t n;
	int k;

	o->kinds = 0;
	for (;;) {
		n = strcspn(p, ",");
		if ((k = kind_lookup(p, n)) < 0) {
			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			*bad = word;
			return -1;
		}
		o->kinds |= 1u << k;
		if (p[n] == '\0') {
			set_modes(o);
			return 0;
		}
		p += n + 1;
	}
}

/* "mmap, munmap, ...": the valid kinds, for an error line. */
static void put_kinds(FILE *f, unsigned kinds, const char *sep)
{
	unsigned k;
	const char *s = "";

	for (k = 0; k < GEN_NKINDS; k++)
		if (kinds & 1u << k) {
			fprintf(f, "%s%s", s, kind_names[k]);
			s = sep;
		}
}

/* A seed from the system's random source (else the clock and pid). */
static unsigned long draw_seed(void)
{
	unsigned long v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (unsigned long)time(NULL) * 2654435761UL ^
		    (unsigned long)getpid();
	return v % GEN_SEED_SPAN;
}

/* A decimal (or 0x) number without sign; -1 if it is not one. */
static int parse_num(const char *arg, unsigned long *v)
{
	char *end;

	if (*arg == '\0' || *arg == '-' || *arg == '+')
		return -1;
	errno = 0;
	*v = strtoul(arg, &end, arg[0] == '0' && (arg[1] == 'x' ||
	    arg[1] == 'X') ? 16 : 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* The header: the command that makes this very trace again. */
static void put_header(unsigned long seed, unsigned long ops,
		       const struct gen_opts *o)
{
	printf("# aspace gen --seed %lu --ops %lu --kinds ", seed, ops);
	put_kinds(stdout, o->kinds, ",");
	printf("%s%s%s\n", o->nozp ? " --no-zero-page" : "",
	    o->memlock ? " --memlock" : "", o->pageout ? " --pageout-any" :
	    "");
	printf("# the answers: aspace run --local FILE (or run --linux, "
	    "run --compare)\n");
}

enum {
	OPT_SEED = CLI_OPT_OWN, OPT_OPS, OPT_KINDS, OPT_NOZP, OPT_MEMLOCK,
	OPT_SWAP, OPT_PAGEOUT
};

static const struct option gen_options[] = {
	{ "seed",		required_argument, NULL, OPT_SEED },
	{ "ops",		required_argument, NULL, OPT_OPS },
	{ "kinds",		required_argument, NULL, OPT_KINDS },
	{ "no-zero-page",	no_argument, NULL, OPT_NOZP },
	{ "memlock",		no_argument, NULL, OPT_MEMLOCK },
	{ "swap",		no_argument, NULL, OPT_SWAP },
	{ "pageout-any",	no_argument, NULL, OPT_PAGEOUT },
	{ "help",		no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* A usage error: "aspace gen: ..." in one line, exit status 2. */
static int gen_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("aspace gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* A bad --kinds: one line naming the word and the valid kinds. */
static int bad_kind(const char *word)
{
	fprintf(stderr, "aspace gen: unknown kind '%s' in --kinds (valid: ",
	    word);
	put_kinds(stderr, GEN_ALL_KINDS, ", ");
	fputs(")\n", stderr);
	return 2;
}

/* What the options say. */
struct gen_args {
	struct gen_opts	o;
	unsigned long	seed, ops;
	int		has_seed;
	int		swap;	/* --swap, whatever --kinds says */
};

/* One option into *a; 0, or an exit status. */
static int gen_opt(int ch, struct gen_args *a)
{
	const char *bad;

	switch (ch) {
	case OPT_SEED:
		if (parse_num(optarg, &a->seed) != 0)
			return gen_fail("bad --seed '%s' (a number, decimal "
			    "or 0x)", optarg);
		a->has_seed = 1;
		return 0;
	case OPT_OPS:
		if (parse_num(optarg, &a->ops) != 0 || a->ops < 1 ||
		    a->ops > GEN_OPS_MAX)
			return gen_fail("bad --ops '%s' (1 to %lu)", optarg,
			    GEN_OPS_MAX);
		return 0;
	case OPT_KINDS:
		return gen_kinds_parse(optarg, &a->o, &bad) ? bad_kind(bad) :
		    0;
	case OPT_NOZP:		a->o.nozp = 1; return 0;
	case OPT_MEMLOCK:	a->o.memlock = 1; return 0;
	case OPT_SWAP:		a->swap = 1; return 0;
	case OPT_PAGEOUT:	a->o.pageout = 1; return 0;
	default:		return cli_bad_option();
	}
}

/* aspace gen [OPTION]... (argv[0] "gen") */
int cmd_gen(int argc, char **argv, struct cli_opts *cli)
{
	struct gen_args a = { .o = { .kinds = GEN_DEFAULT_KINDS },
			      .ops = GEN_OPS_DEFAULT };
	int ch, rc;

	(void)cli;
	cli_getopt_start(argv, "gen");
	while ((ch = getopt_long(argc, argv, "h", gen_options, NULL)) != -1) {
		if (ch == 'h') {
			fputs(GEN_USAGE, stdout);
			return 0;
		}
		if ((rc = gen_opt(ch, &a)) != 0)
			return rc;
	}
	if (optind < argc)
		return gen_fail("unexpected argument '%s' (aspace gen "
		    "--help)", argv[optind]);
	if (a.swap)
		a.o.kinds |= 1u << GEN_SWAP;
	set_modes(&a.o);
	if (!a.has_seed)
		a.seed = draw_seed();
	put_header(a.seed, a.ops, &a.o);
	gen_trace(a.seed, a.ops, &a.o);
	return fflush(stdout) == 0 ? 0 : 2;
}

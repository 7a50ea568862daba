/*
 * grade.c: aspace grade (docs/grading.md): grade a student's answers,
 * written in the trace output format, against what the trace prints,
 * through aspaced's grade op (50) or, with --local, the core built in
 * (lib/grade.c; the two give the same result).  Options, reading the
 * files, grading one TRACE ANSWERS pair; the output is grade-out.c's,
 * --batch grade-batch.c's.
 *
 * Exit status: 0 whatever the score; 2 when grading failed (a file that
 * cannot be read, answers the grader refuses, the daemon's error), after
 * the output of the other pairs.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grade-cli.h"

#define TRACE_FILE_MAX	(16UL << 20)
#define GRADE_OUT_MAX	(64UL << 20)

char *grade_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(max + 2)) == NULL) {
		if (f != stdin)
			fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		free(buf);
		buf = NULL;
		errno = n > max ? EFBIG : EIO;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static char *dup_bytes(ProtobufCBinaryData b)
{
	char *s = malloc(b.len + 1);

	if (s != NULL) {
		if (b.len > 0)
			memcpy(s, b.data, b.len);
		s[b.len] = '\0';
	}
	return s;
}

/* The daemon's GradeResult as lib/grade.h's struct. */
static int from_result(const Aspace__GradeResult *r, struct as_grade *g)
{
	struct as_grade_item *it;
	size_t i;

	memset(g, 0, sizeof(*g));
	if ((g->items = calloc(r->n_items ? r->n_items : 1,
	    sizeof(*g->items))) == NULL)
		return -1;
	for (i = 0; i < r->n_items; i++) {
		it = &g->items[g->n++];
		it->line = r->items[i]->line;
		it->verdict = (enum as_grade_verdict)r->items[i]->verdict;
		it->points = r->items[i]->points;
		it->max_points = r->items[i]->max_points;
		it->command = dup_bytes(r->items[i]->command);
		it->expected = dup_bytes(r->items[i]->expected);
		it->given = dup_bytes(r->items[i]->given);
		it->why = dup_bytes(r->items[i]->why);
		if (it->command == NULL || it->expected == NULL ||
		    it->given == NULL || it->why == NULL)
			return -1;
	}
	g->score = r->score;
	g->max_score = r->max_score;
	g->extra_lines = r->extra_lines;
	return 0;
}

/* Through the daemon: 0, or -1 with err ("answers: ..." if refused). */
static int grade_remote(struct asc_client *c, const struct grade_opts *o,
    const char *trace, size_t tlen, const char *answers, size_t alen,
    struct as_grade *g, char *err, size_t errlen)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__GradeRequest gr = ASPACE__GRADE_REQUEST__INIT;
	const Aspace__Response *resp;
	struct asc_reply *rp = NULL;
	struct asc_status st;
	char msg[512];
	int rc = -1;

	gr.has_trace = gr.has_answers = true;
	gr.trace.data = (uint8_t *)trace;
	gr.trace.len = tlen;
	gr.answers.data = (uint8_t *)answers;
	gr.answers.len = alen;
	if (o->has_params)
		gr.params = (Aspace__SessionCreateRequest *)&o->params;
	r.op_case = ASPACE__REQUEST__OP_GRADE;
	r.grade = &gr;
	if (asc_call(c, &r, &rp, &st) != 0 || asc_reply_status(rp, &st) != 0)
		snprintf(err, errlen, "%s", st.code ==
		    ASPACE__STATUS__CODE__BAD_REQUEST ? st.message :
		    asc_status_str(&st, msg, sizeof(msg)));
	else if ((resp = asc_reply_response(rp))->result_case !=
	    ASPACE__RESPONSE__RESULT_GRADE)
		snprintf(err, errlen, "the daemon's answer holds no grade");
	else if ((rc = from_result(resp->grade, g)) != 0) {
		as_grade_free(g);
		snprintf(err, errlen, "out of memory");
	}
	asc_reply_free(rp);
	return rc;
}

static int grade_local(const struct grade_opts *o, const char *trace,
    size_t tlen, const char *answers, size_t alen, struct as_grade *g,
    char *err, size_t errlen)
{
	struct as_session *s = as_session_new(&o->p);
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "cannot create a session");
		return -1;
	}
	rc = as_grade_run(s, trace, tlen, answers, alen, NULL, GRADE_OUT_MAX,
	    g, err, errlen);
	as_session_free(s);
	return rc;
}

static int grade_text(struct asc_client *c, const struct grade_opts *o,
    const char *trace, size_t tlen, const char *answers, size_t alen,
    struct as_grade *g, char *err, size_t errlen)
{
	return c == NULL ? grade_local(o, trace, tlen, answers, alen, g, err,
	    errlen) : grade_remote(c, o, trace, tlen, answers, alen, g, err,
	    errlen);
}

static void set_error(struct grade_pair *pr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct grade_pair *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pr->error, sizeof(pr->error), fmt, ap);
	va_end(ap);
}

int grade_pair_run(struct asc_client *c, const struct grade_opts *o,
    struct grade_pair *pr)
{
	char *trace, *answers = NULL, msg[sizeof(pr->error)];
	size_t tlen = 0, alen = 0;
	int rc = 2;

	memset(&pr->g, 0, sizeof(pr->g));
	pr->failed = true;
	pr->error[0] = '\0';
	if ((trace = grade_read_file(pr->trace, TRACE_FILE_MAX, &tlen)) == NULL)
		set_error(pr, "%s: %s", pr->trace,
		    strerror(errno));
	else if (pr->answers != NULL && (answers = grade_read_file(pr->answers,
	    AS_GRADE_ANSWERS_MAX, &alen)) == NULL)
		set_error(pr, "%s: %s", pr->answers,
		    errno == EFBIG ? "larger than an answer file may be" :
		    strerror(errno));
	else if (grade_text(c, o, trace, tlen, answers != NULL ? answers : "",
	    alen, &pr->g, msg, sizeof(msg)) == 0)
		rc = 0, pr->failed = false;
	else if (strncmp(msg, "answers: ", 9) == 0 && grade_text(c, o, trace,
	    tlen, "", 0, &pr->g, pr->error, sizeof(pr->error)) == 0) {
		/* Refused answers: every item missing, and why. */
		set_error(pr, "%s: %s", pr->answers,
		    msg + 9);
		rc = 1, pr->failed = false;
	} else
		set_error(pr, "%s: %s", pr->trace,
		    msg);
	free(trace);
	free(answers);
	return rc;
}

void grade_pair_free(struct grade_pair *pr)
{
	if (!pr->failed)
		as_grade_free(&pr->g);
}

#define GRADE_USAGE \
	"usage: aspace grade [--local] [--seed N] [--kernel NAME=VALUE]...\n" \
	"                    [--json | --gradescope [--visibility V]]\n" \
	"                    TRACE ANSWERS [TRACE ANSWERS]...\n" \
	"       aspace grade --batch [--local] [--jobs N] [--csv FILE]\n" \
	"                    KEYDIR SUBMISSIONSDIR\n" \
	"Runs each TRACE (through aspaced, or --local) and grades the\n" \
	"student's ANSWERS (the output of aspace run, predicted) against it:\n" \
	"one item per line that prints, 1 point or the line's \"# points: K\".\n" \
	"--batch grades every student's directory in SUBMISSIONSDIR against\n" \
	"the KEYDIR/NAME.trace files (answers in STUDENT/NAME.out).\n" \
	"Exit status 0 whatever the score, 2 if grading failed.\n" \
	CLI_GLOBAL_USAGE

enum {
	OPT_LOCAL = CLI_OPT_OWN, OPT_SEED, OPT_KERNEL, OPT_GRADESCOPE,
	OPT_VISIBILITY, OPT_BATCH, OPT_CSV, OPT_JOBS
};

static const struct option grade_options[] = {
	{ "local",	no_argument, NULL, OPT_LOCAL },
	{ "seed",	required_argument, NULL, OPT_SEED },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "gradescope",	no_argument, NULL, OPT_GRADESCOPE },
	{ "visibility",	required_argument, NULL, OPT_VISIBILITY },
	{ "batch",	no_argument, NULL, OPT_BATCH },
	{ "csv",	required_argument, NULL, OPT_CSV },
	{ "jobs",	required_argument, NULL, OPT_JOBS },
	CLI_GLOBAL_OPTIONS
};

static bool visibility_ok(const char *v)
{
	return strcmp(v, "visible") == 0 || strcmp(v, "hidden") == 0 ||
	    strcmp(v, "after_due_date") == 0 ||
	    strcmp(v, "after_published") == 0;
}

/* Grade the pairs of argv and print them: the exit status. */
static int grade_pairs(const struct cli_opts *co, const struct grade_opts *o,
    int n, char **argv)
{
	struct grade_pair *prs = calloc((size_t)n, sizeof(*prs));
	struct asc_client *c = NULL;
	int i, rc = 0;

	if (prs == NULL)
		return 2;
	if (!o->local && (c = cli_open(co)) == NULL) {
		free(prs);
		return 2;
	}
	for (i = 0; i < n; i++) {
		prs[i].trace = argv[2 * i];
		prs[i].answers = argv[2 * i + 1];
		if (grade_pair_run(c, o, &prs[i]) != 0) {
			fprintf(stderr, "aspace: grade: %s\n", prs[i].error);
			rc = 2;
		}
	}
	asc_close(c);
	if (grade_print(o, prs, (size_t)n) != 0)
		rc = 2;
	for (i = 0; i < n; i++)
		grade_pair_free(&prs[i]);
	free(prs);
	return rc;
}

/* --seed's value: decimal or 0x hex; -1 if it is no number. */
static int parse_u64(const char *arg, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, arg[0] == '0' && (arg[1] == 'x' ||
	    arg[1] == 'X') ? 16 : 10);
	return errno != 0 || *arg == '\0' || *end != '\0' || *arg == '-' ?
	    -1 : 0;
}

struct grade_args {
	struct grade_opts o;
	bool		 batch;
	const char	*csv;
	int		 jobs;
};

static int grade_opt(struct grade_args *a, int ch, const char *arg)
{
	uint64_t v;

	switch (ch) {
	case OPT_LOCAL:		a->o.local = true; break;
	case OPT_GRADESCOPE:	a->o.format = GF_GRADESCOPE; break;
	case OPT_BATCH:		a->batch = true; break;
	case OPT_CSV:		a->csv = arg; break;
	case OPT_VISIBILITY:
		if (!visibility_ok(arg))
			return cli_usage_error(GRADE_USAGE, "--visibility: "
			    "visible, hidden, after_due_date or "
			    "after_published, not '%s'", arg);
		a->o.visibility = arg;
		break;
	case OPT_JOBS:
		if (parse_u64(arg, &v) != 0 || v < 1 || v > 64)
			return cli_usage_error(GRADE_USAGE, "--jobs: 1 to 64, "
			    "not '%s'", arg);
		a->jobs = (int)v;
		break;
	case OPT_SEED:
		if (parse_u64(arg, &a->o.p.seed) != 0)
			return cli_usage_error(GRADE_USAGE, "bad seed '%s'",
			    arg);
		a->o.p.randomize = true;
		a->o.params.has_seed = a->o.params.has_randomize = true;
		a->o.params.seed = a->o.p.seed;
		a->o.params.randomize = true;
		a->o.has_params = true;
		break;
	case OPT_KERNEL:
		if (cli_kernel_arg(arg, &a->o.params, &a->o.p) != 0)
			return cli_usage_error(GRADE_USAGE, NULL);
		a->o.has_params = true;
		break;
	default:
		return cli_usage_error(GRADE_USAGE, NULL);
	}
	return 0;
}

int cmd_grade(int argc, char **argv, struct cli_opts *co)
{
	struct grade_args a;
	int ch, r, n;

	memset(&a, 0, sizeof(a));
	as_session_params_default(&a.o.p);
	aspace__session_create_request__init(&a.o.params);
	a.jobs = 4;
	cli_getopt_start(argv, "grade");
	while ((ch = getopt_long(argc, argv, "h", grade_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, co))
			continue;
		if (ch == 'h') {
			fputs(GRADE_USAGE, stdout);
			return 0;
		}
		if ((r = grade_opt(&a, ch, optarg)) != 0)
			return r;
	}
	if (co->json && a.o.format == GF_GRADESCOPE)
		return cli_usage_error(GRADE_USAGE, "--json and --gradescope "
		    "exclude each other");
	if (a.o.visibility != NULL && a.o.format != GF_GRADESCOPE)
		return cli_usage_error(GRADE_USAGE, "--visibility is for "
		    "--gradescope");
	if (co->json)
		a.o.format = GF_JSON;
	if (a.o.local && co->url != NULL)
		return cli_usage_error(GRADE_USAGE, "--local and --daemon "
		    "exclude each other");
	a.o.colour = a.o.format == GF_TEXT && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL;
	n = argc - optind;
	if (a.batch) {
		if (n != 2 || a.o.format == GF_GRADESCOPE)
			return cli_usage_error(GRADE_USAGE, "--batch: KEYDIR "
			    "SUBMISSIONSDIR (and no --gradescope)");
		return grade_batch(co, &a.o, argv[optind], argv[optind + 1],
		    a.csv, a.jobs);
	}
	if (a.csv != NULL)
		return cli_usage_error(GRADE_USAGE, "--csv is for --batch");
	if (n == 0 || n % 2 != 0)
		return cli_usage_error(GRADE_USAGE, "grade: TRACE ANSWERS "
		    "pairs needed");
	return grade_pairs(co, &a.o, n / 2, argv + optind);
}

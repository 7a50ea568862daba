/*
 * grade-batch.c: aspace grade --batch KEYDIR SUBMISSIONSDIR
 * (docs/grading.md, "A whole class").  KEYDIR holds the lab, NAME.trace
 * files; SUBMISSIONSDIR one directory per student holding NAME.out, the
 * answers to NAME.trace (a missing file: every item missing).  Each
 * (student, trace) pair is a job; --jobs threads, each with its own
 * connection to aspaced (or the core built in, --local), take jobs in
 * turn.  A progress bar on standard error when it is a terminal; the
 * CSV of scores (--csv FILE, else standard output); then what the class
 * got wrong: the share of students who got each item wrong or left it
 * out, most missed first (--json: one object).
 *
 * Exit status 0 whatever the scores, even for answers the grader
 * refused (0 points, a message on standard error); 2 when a pair could
 * not be graded at all or a directory could not be read.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grade-cli.h"

#define BATCH_NAMES_MAX	100000

struct names {
	char	**v;
	size_t	  n;
};

struct batch {
	const struct grade_opts *o;
	struct names	 traces;	/* NAME (without .trace) */
	struct names	 students;
	struct grade_pair *prs;		/* [student * ntraces + trace] */
	char		**paths;	/* each pair's two paths, owned */
	size_t		 total, next, done;
	bool		 tty;
	pthread_mutex_t	 mu;
};

struct worker {
	struct batch	*b;
	struct asc_client *c;		/* NULL: --local */
	pthread_t	 tid;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/* dir's entries: with suffix, regular files (the name without it); with
 * suffix NULL, directories.  Sorted.  0, or -1 with errno. */
static int list_dir(const char *dir, const char *suffix, struct names *ns)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char path[4096], **v;
	size_t l, sl = suffix != NULL ? strlen(suffix) : 0;

	memset(ns, 0, sizeof(*ns));
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && ns->n < BATCH_NAMES_MAX) {
		l = strlen(e->d_name);
		if (e->d_name[0] == '.' || (suffix != NULL && (l <= sl ||
		    strcmp(e->d_name + l - sl, suffix) != 0)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || (suffix != NULL ?
		    !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode)))
			continue;
		if ((v = realloc(ns->v, (ns->n + 1) * sizeof(*v))) == NULL)
			break;
		ns->v = v;
		if ((v[ns->n] = strndup(e->d_name, l - sl)) == NULL)
			break;
		ns->n++;
	}
	closedir(d);
	if (ns->n > 0)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	return 0;
}

static void progress(struct batch *b)
{
	size_t w = 30, k = b->total ? b->done * w / b->total : w, i;

	if (!b->tty)
		return;
	fputs("\rgrading [", stderr);
	for (i = 0; i < w; i++)
		fputc(i < k ? '#' : '.', stderr);
	fprintf(stderr, "] %zu/%zu", b->done, b->total);
	if (b->done == b->total)
		fputc('\n', stderr);
	fflush(stderr);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->b;
	struct grade_pair *pr;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&b->mu);
		i = b->next < b->total ? b->next++ : b->total;
		pthread_mutex_unlock(&b->mu);
		if (i == b->total)
			break;
		pr = &b->prs[i];
		if (pr->answers != NULL && access(pr->answers, F_OK) != 0 &&
		    errno == ENOENT) {
			pr->answers = NULL;	/* every item missing */
			grade_pair_run(w->c, b->o, pr);
			pr->answers = b->paths[2 * i + 1];
			snprintf(pr->error, sizeof(pr->error), "%s: no such "
			    "file: every item missing", pr->answers);
		} else {
			grade_pair_run(w->c, b->o, pr);
		}
		pthread_mutex_lock(&b->mu);
		b->done++;
		progress(b);
		pthread_mutex_unlock(&b->mu);
	}
	return NULL;
}

/* The jobs' paths: KEYDIR/NAME.trace, SUBDIR/STUDENT/NAME.out. */
static int make_jobs(struct batch *b, const char *keydir, const char *subdir)
{
	size_t s, t, i;
	int n1, n2;

	b->total = b->students.n * b->traces.n;
	b->prs = calloc(b->total ? b->total : 1, sizeof(*b->prs));
	b->paths = calloc(2 * b->total + 1, sizeof(*b->paths));
	if (b->prs == NULL || b->paths == NULL)
		return -1;
	for (s = 0; s < b->students.n; s++)
		for (t = 0; t < b->traces.n; t++) {
			i = s * b->traces.n + t;
			n1 = asprintf(&b->paths[2 * i], "%s/%s.trace", keydir,
			    b->traces.v[t]);
			n2 = asprintf(&b->paths[2 * i + 1], "%s/%s/%s.out",
			    subdir, b->students.v[s], b->traces.v[t]);
			if (n1 < 0 || n2 < 0)
				return -1;
			b->prs[i].trace = b->paths[2 * i];
			b->prs[i].answers = b->paths[2 * i + 1];
		}
	return 0;
}

/* Run the jobs on jobs workers: 0, or 2 if a connection failed. */
static int run_jobs(const struct cli_opts *co, struct batch *b, int jobs)
{
	struct worker *ws = calloc((size_t)jobs, sizeof(*ws));
	int i, n = 0, rc = 0;

	if (ws == NULL)
		return 2;
	if ((size_t)jobs > b->total)
		jobs = b->total > 0 ? (int)b->total : 1;
	for (i = 0; i < jobs; i++) {
		ws[i].b = b;
		if (!b->o->local && (ws[i].c = cli_open(co)) == NULL) {
			rc = 2;
			break;
		}
	}
	for (i = 0; rc == 0 && i < jobs; i++, n++)
		if (pthread_create(&ws[i].tid, NULL, work, &ws[i]) != 0) {
			rc = 2;
			break;
		}
	for (i = 0; i < n; i++)
		pthread_join(ws[i].tid, NULL);
	for (i = 0; i < jobs; i++)
		asc_close(ws[i].c);
	free(ws);
	return rc;
}

static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* student,NAME...,total; then (max), then a row per student (a pair
 * not graded: an empty cell). */
static void write_csv(FILE *f, const struct batch *b)
{
	const struct grade_pair *pr;
	unsigned int total;
	size_t s, t;

	fputs("student", f);
	for (t = 0; t < b->traces.n; t++) {
		fputc(',', f);
		csv_field(f, b->traces.v[t]);
	}
	fputs(",total\n(max)", f);
	for (total = 0, t = 0; t < b->traces.n; t++) {
		pr = &b->prs[t];	/* the first student's: the same key */
		fprintf(f, ",%u", pr->failed ? 0 : pr->g.max_score);
		total += pr->failed ? 0 : pr->g.max_score;
	}
	fprintf(f, ",%u\n", total);
	for (s = 0; s < b->students.n; s++) {
		csv_field(f, b->students.v[s]);
		for (total = 0, t = 0; t < b->traces.n; t++) {
			pr = &b->prs[s * b->traces.n + t];
			if (pr->failed) {
				fputc(',', f);
				continue;
			}
			fprintf(f, ",%u", pr->g.score);
			total += pr->g.score;
		}
		fprintf(f, ",%u\n", total);
	}
}

/* One item of the lab, and how many students got it wrong or left it. */
struct stat_item {
	size_t		 trace;
	const struct as_grade_item *it;	/* the first graded student's */
	unsigned int	 missed, graded;
};

static int cmp_stat(const void *pa, const void *pb)
{
	const struct stat_item *a = pa, *b = pb;
	unsigned long x = (unsigned long)a->missed * (b->graded ? b->graded : 1);
	unsigned long y = (unsigned long)b->missed * (a->graded ? a->graded : 1);

	if (x != y)
		return x < y ? 1 : -1;
	if (a->trace != b->trace)
		return a->trace < b->trace ? -1 : 1;
	return a->it->line < b->it->line ? -1 : a->it->line > b->it->line;
}

/* The items of trace t, counted over the students graded on it. */
static size_t count_trace(const struct batch *b, size_t t,
    struct stat_item *out)
{
	const struct grade_pair *pr, *first = NULL;
	size_t s, k;

	for (s = 0; s < b->students.n && first == NULL; s++)
		if (!b->prs[s * b->traces.n + t].failed)
			first = &b->prs[s * b->traces.n + t];
	if (first == NULL)
		return 0;
	for (k = 0; k < first->g.n; k++) {
		out[k].trace = t;
		out[k].it = &first->g.items[k];
		out[k].missed = out[k].graded = 0;
	}
	for (s = 0; s < b->students.n; s++) {
		pr = &b->prs[s * b->traces.n + t];
		if (pr->failed || pr->g.n != first->g.n)
			continue;
		for (k = 0; k < first->g.n; k++) {
			out[k].graded++;
			out[k].missed += pr->g.items[k].verdict !=
			    AS_GRADE_RIGHT;
		}
	}
	return first->g.n;
}

static void print_stats_text(const struct batch *b, struct stat_item *v,
    size_t n)
{
	size_t i, right = 0;

	printf("What the class got wrong (%zu student%s), most missed "
	    "first:\n", b->students.n, b->students.n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		if (v[i].missed == 0) {
			right++;
			continue;
		}
		printf("  %3u%%  %u/%u  %s line %lu (%u point%s): %.*s\n",
		    v[i].missed * 100 / v[i].graded, v[i].missed, v[i].graded,
		    b->traces.v[v[i].trace], v[i].it->line,
		    v[i].it->max_points, v[i].it->max_points == 1 ? "" : "s",
		    grade_command_len(v[i].it->command), v[i].it->command);
	}
	printf("  %zu item%s everyone got right\n", right,
	    right == 1 ? "" : "s");
}

static void print_stats_json(const struct batch *b, struct stat_item *v,
    size_t n)
{
	json_t *j = json_object(), *items = json_array(), *o;
	size_t i;

	cli_json_set(&j, "students", cli_json_u64(b->students.n));
	for (i = 0; i < n; i++) {
		o = json_object();
		cli_json_set(&o, "trace", cli_json_cstr(b->traces.v[v[i].trace]));
		cli_json_set(&o, "line", cli_json_u64(v[i].it->line));
		cli_json_set(&o, "command", cli_json_cstr(v[i].it->command));
		cli_json_set(&o, "max_points", json_integer(v[i].it->max_points));
		cli_json_set(&o, "wrong", json_integer(v[i].missed));
		cli_json_set(&o, "graded", json_integer(v[i].graded));
		cli_json_set(&o, "percent", json_integer(v[i].graded ?
		    v[i].missed * 100 / v[i].graded : 0));
		cli_json_append(&items, o);
	}
	cli_json_set(&j, "items", items);
	cli_json_print(j);
}

static int print_stats(const struct batch *b)
{
	struct stat_item *v;
	size_t t, n = 0, cap = 0;

	for (t = 0; t < b->total; t++)
		cap += b->prs[t].failed ? 0 : b->prs[t].g.n;
	if ((v = calloc(cap ? cap : 1, sizeof(*v))) == NULL)
		return -1;
	for (t = 0; t < b->traces.n; t++)
		n += count_trace(b, t, v + n);
	qsort(v, n, sizeof(*v), cmp_stat);
	if (b->o->format == GF_JSON)
		print_stats_json(b, v, n);
	else
		print_stats_text(b, v, n);
	free(v);
	return 0;
}

/* Messages for pairs refused or not graded: 2 if one was not graded. */
static int report_errors(const struct batch *b)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < b->total; i++) {
		if (b->prs[i].error[0] == '\0')
			continue;
		fprintf(stderr, "aspace: grade: %s%s\n", b->prs[i].failed ?
		    "not graded: " : "", b->prs[i].error);
		if (b->prs[i].failed)
			rc = 2;
	}
	return rc;
}

static int output(const struct batch *b, const char *csv)
{
	FILE *f = stdout;
	int rc = report_errors(b);

	if (csv != NULL && (f = fopen(csv, "w")) == NULL) {
		fprintf(stderr, "aspace: %s: %s\n", csv, strerror(errno));
		return 2;
	}
	write_csv(f, b);
	if (f != stdout && fclose(f) != 0) {
		fprintf(stderr, "aspace: %s: %s\n", csv, strerror(errno));
		rc = 2;
	}
	if (f == stdout)
		putchar('\n');
	if (print_stats(b) != 0)
		rc = 2;
	return rc;
}

static void batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; b->prs != NULL && i < b->total; i++)
		grade_pair_free(&b->prs[i]);
	for (i = 0; b->paths != NULL && i < 2 * b->total; i++)
		free(b->paths[i]);
	free(b->prs);
	free(b->paths);
	names_free(&b->traces);
	names_free(&b->students);
	pthread_mutex_destroy(&b->mu);
}

int grade_batch(const struct cli_opts *co, const struct grade_opts *o,
    const char *keydir, const char *subdir, const char *csv, int jobs)
{
	struct batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.mu, NULL);
	b.o = o;
	b.tty = isatty(STDERR_FILENO);
	if (list_dir(keydir, ".trace", &b.traces) != 0 ||
	    list_dir(subdir, NULL, &b.students) != 0) {
		fprintf(stderr, "aspace: grade: %s: %s\n", strerror(errno),
		    b.students.v == NULL && b.traces.n > 0 ? subdir : keydir);
		batch_free(&b);
		return 2;
	}
	if (b.traces.n == 0) {
		fprintf(stderr, "aspace: grade: %s: no NAME.trace file\n",
		    keydir);
		batch_free(&b);
		return 2;
	}
	if (make_jobs(&b, keydir, subdir) != 0) {
		fprintf(stderr, "aspace: out of memory\n");
		batch_free(&b);
		return 2;
	}
	progress(&b);
	if ((rc = run_jobs(co, &b, jobs)) == 0)
		rc = output(&b, csv);
	batch_free(&b);
	return rc;
}

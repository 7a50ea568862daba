/*
 * grade-cli.h: what aspace grade's files share (grade.c: the command and
 * grading one pair; grade-out.c: text, JSON and Gradescope output;
 * grade-batch.c: --batch).  docs/grading.md is the user's guide.
 */
#ifndef ASPACE_CLIENT_GRADE_CLI_H
#define ASPACE_CLIENT_GRADE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "session.h"
#include "shell.h"

enum grade_format { GF_TEXT, GF_JSON, GF_GRADESCOPE };

struct grade_opts {
	bool		 local;		/* --local: the core built in */
	struct as_session_params p;	/* --local's session */
	Aspace__SessionCreateRequest params;	/* the daemon's */
	bool		 has_params;
	enum grade_format format;
	const char	*visibility;	/* --visibility, Gradescope's */
	bool		 colour;	/* text on a terminal */
};

/* One TRACE ANSWERS pair, graded. */
struct grade_pair {
	const char	*trace;		/* its path */
	const char	*answers;
	struct as_grade	 g;		/* filled unless failed */
	bool		 failed;	/* no grade at all: error says why */
	char		 error[512];	/* "" or why (answers refused: g
					   holds every item missing) */
};

/* A file of at most max bytes, NUL-terminated; NULL with errno. */
char *grade_read_file(const char *path, size_t max, size_t *len);
/*
 * Grade pr (its paths set) through c (NULL: --local).  0; 1 when the
 * answers were refused (pr->error, every item missing); 2 when grading
 * failed (pr->failed, pr->error).
 */
int grade_pair_run(struct asc_client *c, const struct grade_opts *o,
    struct grade_pair *pr);
void grade_pair_free(struct grade_pair *pr);

/* grade-out.c: the pairs in o's format on standard output. */
int grade_print(const struct grade_opts *o, struct grade_pair *prs,
    size_t n);
/* A trace's name as tests and tables show it: its file name. */
const char *grade_base(const char *path);
/* The bytes of a trace line without its comment and trailing blanks. */
int grade_command_len(const char *cmd);

/* grade-batch.c: aspace grade --batch KEYDIR SUBMISSIONSDIR. */
int grade_batch(const struct cli_opts *co, const struct grade_opts *o,
    const char *keydir, const char *subdir, const char *csv, int jobs);

/* aspace grade (argv[0] "grade"). */
int cmd_grade(int argc, char **argv, struct cli_opts *o);

#endif /* ASPACE_CLIENT_GRADE_CLI_H */

/*
 * grade.h: grading a student's predictions of a trace's output
 * (docs/grading.md).  The trace's output is cut into items, one per line
 * that prints (its "N: ..." line and the indented lines of a maps or
 * smaps block under it); the student's answers, written in the same
 * format, are read leniently but within bounds; each item is right,
 * wrong or missing, worth 1 point or the trace line's "# points: K".
 *
 * Plain C: no sockets, no protobuf.  The daemon (req-grade.c) and the
 * client's --local (client/grade.c) share it.
 */
#ifndef ASPACE_GRADE_H
#define ASPACE_GRADE_H

#include <stddef.h>

#include "session.h"
#include "trace.h"

#define AS_GRADE_ANSWERS_MAX	(4UL << 20)	/* bytes of an answer file */
#define AS_GRADE_LINE_MAX	4096		/* bytes of one answer line */
#define AS_GRADE_POINTS_MAX	1000		/* the largest K */
#define AS_GRADE_LINENO_MAX	100000000UL	/* the largest N of "N:" */

enum as_grade_verdict {
	AS_GRADE_RIGHT = 0,	/* the values of GradeItem.Verdict */
	AS_GRADE_WRONG = 1,
	AS_GRADE_MISSING = 2,
};

struct as_grade_item {
	unsigned long	 line;		/* the trace line, 1-based */
	char		*command;	/* its text, without the newline */
	enum as_grade_verdict verdict;
	unsigned int	 points, max_points;
	char		*expected;	/* the item's lines, each with '\n' */
	char		*given;		/* the student's, "" if missing */
	char		*why;		/* for a wrong or missing item, or "" */
};

struct as_grade {
	struct as_grade_item *items;
	size_t		 n;
	unsigned int	 score, max_score;
	unsigned int	 extra_lines;	/* answer lines that match no item */
};

/* One answer: the "N: ..." line and the indented lines under it. */
struct as_answer {
	unsigned long	 line;
	unsigned int	 nlines;	/* how many lines of the file */
	char		*text;		/* normalized, each line with '\n' */
};

struct as_answers {
	struct as_answer *a;
	size_t		 n;
};

/*
 * Read an answer file: blank lines and lines starting with '#' are
 * skipped, trailing spaces, tabs and '\r' dropped.  Errors (-1, a
 * message naming the file's line in err): a file over
 * AS_GRADE_ANSWERS_MAX, a NUL byte, a line over AS_GRADE_LINE_MAX, a
 * line that is neither "N: ..." nor indented, an indented line before
 * any "N:", N of 0 or over AS_GRADE_LINENO_MAX, N not after the last one.
 */
int as_answers_parse(const char *text, size_t len, struct as_answers *out,
    char *err, size_t errlen);
void as_answers_free(struct as_answers *a);

/*
 * A trace line's "# points: K" (K in 0..AS_GRADE_POINTS_MAX): 1 and *k,
 * 0 when the line has none, -1 when it is malformed.
 */
int as_grade_line_points(const char *line, size_t len, unsigned int *k);

/*
 * Grade answers against a trace's output (what as_trace_run() printed
 * for trace).  why[N] (nwhy entries, NULL: none) holds the fault path of
 * trace line N's access.  0 with g filled, or -1 with a message in err
 * (malformed answers, a malformed "# points:" or one on a line that
 * prints nothing).
 */
int as_grade_compare(const char *trace, size_t tlen, const char *output,
    size_t olen, const char *answers, size_t alen, char *const *why,
    size_t nwhy, struct as_grade *g, char *err, size_t errlen);

/*
 * Run trace in s (fresh) with chk (NULL: none; its note is taken) and
 * grade answers against its output, at most out_max bytes.  0, or -1
 * with err (also when chk stopped the trace: chk->stopped says so).
 */
int as_grade_run(struct as_session *s, const char *trace, size_t tlen,
    const char *answers, size_t alen, struct as_trace_check *chk,
    size_t out_max, struct as_grade *g, char *err, size_t errlen);

void as_grade_free(struct as_grade *g);

/*
 * grade-pages.c: the pages behind vma's smaps figures, a line "RANGE
 * PERMS ..." (show_map_vma()) and one indented line a page, into b; the
 * trace runner notes them at each smaps line for the grader.
 */
struct vma;
void as_grade_smaps_pages(struct as_buf *b, struct vma *vma);

/* "right", "wrong", "missing". */
const char *as_grade_verdict_name(enum as_grade_verdict v);

#endif /* ASPACE_GRADE_H */

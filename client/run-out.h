/*
 * run-out.h: aspace run's --json and --annotate output (run-out.c).
 */
#ifndef ASPACE_RUN_OUT_H
#define ASPACE_RUN_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct run_print_opts {
	bool	annotate;	/* --annotate */
};

/* The items of out (the canonical output of trace text) as a JSON array
 * of {"line","command","output"}; NULL when out of memory. */
json_t *run_items_json(const char *text, size_t tlen, const char *out,
    size_t olen);
/* out with each item preceded by "# N: LINE N OF text". */
void run_annotate(FILE *f, const char *text, size_t tlen, const char *out,
    size_t olen);
/* One trace's result as a JSON object on a line of its own: its items,
 * or error (not NULL: the trace could not be run). */
void run_json_trace(const char *path, int status, const char *text,
    size_t tlen, const char *out, size_t olen, unsigned long errors,
    bool truncated, const char *error);
/* out as text: canonical, or annotated. */
void run_print(const struct run_print_opts *p, const char *text, size_t tlen,
    const char *out, size_t olen);

#endif /* ASPACE_RUN_OUT_H */

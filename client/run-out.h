/*
 * run-out.h: aspace run's --json and --annotate output (run-out.c).
 */
#ifndef ASPACE_RUN_OUT_H
#define ASPACE_RUN_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "aspace-client.h"

struct run_print_opts {
	bool	annotate;	/* --annotate */
	bool	explain;	/* --explain */
};

/* The items of out (the canonical output of trace text) as a JSON array
 * of {"line","command","output"}; NULL when out of memory. */
json_t *run_items_json(const char *text, size_t tlen, const char *out,
    size_t olen);
/* run_items_json() with each item's "explain" from ex, "" if it has none. */
json_t *run_items_json_ex(const char *text, size_t tlen, const char *out,
    size_t olen, const struct asc_trace_result *ex);
/* out with each item preceded by "# N: LINE N OF text". */
void run_annotate(FILE *f, const char *text, size_t tlen, const char *out,
    size_t olen);
/* out with "# N: LINE" before each item when annotate, and "# why: PATH"
 * after each item that ex explains (ex may be NULL). */
void run_annotate_ex(FILE *f, const char *text, size_t tlen, const char *out,
    size_t olen, bool annotate, const struct asc_trace_result *ex);
/* One trace's result as a JSON object on a line of its own: its items,
 * or error (not NULL: the trace could not be run). */
void run_json_trace(const char *path, int status, const char *text,
    size_t tlen, const char *out, size_t olen, unsigned long errors,
    bool truncated, const char *error);
/* run_json_trace() whose items carry their "explain" from ex. */
void run_json_trace_ex(const char *path, int status, const char *text,
    size_t tlen, const char *out, size_t olen, unsigned long errors,
    bool truncated, const struct asc_trace_result *ex);
/* out as text: canonical, or annotated, with ex's explanations (NULL:
 * none). */
void run_print(const struct run_print_opts *p, const char *text, size_t tlen,
    const char *out, size_t olen, const struct asc_trace_result *ex);

#endif /* ASPACE_RUN_OUT_H */

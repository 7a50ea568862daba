/*
 * aspace-client-explain.c: the explanations of a run_trace reply (each
 * command's path through the simulated kernel), kept in the caller's
 * struct asc_trace_result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "aspace-client.h"

int asc_trace_explain_from(struct asc_trace_result *res,
    const Aspace__RunTraceResult *t)
{
	size_t i;

	if (t->n_explain == 0)
		return 0;
	res->explain = calloc(t->n_explain, sizeof(*res->explain));
	if (res->explain == NULL)
		return -1;
	for (i = 0; i < t->n_explain; i++) {
		res->explain[i].line = t->explain[i]->line;
		res->explain[i].text = strdup(t->explain[i]->text != NULL ?
		    t->explain[i]->text : "");
		if (res->explain[i].text == NULL)
			break;
		res->n_explain++;
	}
	return res->n_explain == t->n_explain ? 0 : -1;
}

/* By bisection: the entries come in line order. */
const char *asc_trace_explain(const struct asc_trace_result *res, uint64_t n)
{
	size_t lo = 0, hi = res->n_explain, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (res->explain[mid].line < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < res->n_explain && res->explain[lo].line == n ?
	    res->explain[lo].text : NULL;
}

void asc_trace_explain_free(struct asc_trace_result *res)
{
	size_t i;

	for (i = 0; i < res->n_explain; i++)
		free(res->explain[i].text);
	free(res->explain);
	res->explain = NULL;
	res->n_explain = 0;
}

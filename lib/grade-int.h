/*
 * grade-int.h: what grade.c and grade-why.c share, not for callers.
 */
#ifndef ASPACE_GRADE_INT_H
#define ASPACE_GRADE_INT_H

#include <stdbool.h>
#include <stddef.h>

bool grade_next_line(const char **p, const char *end, const char **s,
    size_t *n);
size_t grade_rstrip(const char *s, size_t n);
int grade_append(char **s, size_t *len, const char *p, size_t n);

/*
 * Why an item is wrong (a malloc'd string, NULL when out of memory): the
 * trace line (cmd, n bytes), the expected and given texts, and what the
 * runner noted at that line (NULL: nothing): the fault path of an
 * access, the pages behind an smaps (grade-pages.c).
 */
char *grade_why(const char *cmd, size_t n, const char *expected,
    const char *given, const char *fault);

#endif /* ASPACE_GRADE_INT_H */

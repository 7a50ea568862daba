/*
 * run-cmd.c: a shell command's standard output and exit status, read
 * through popen(3) (run-cmd.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "run-cmd.h"

char *run_cmd_cap(const char *cmd, size_t cap, size_t *len, int *status)
{
	FILE *f = popen(cmd, "r");
	char *out = malloc(cap);
	size_t n = 0, got;
	int st;

	assert_non_null(f);
	assert_non_null(out);
	while ((got = fread(out + n, 1, cap - 1 - n, f)) > 0)
		n += got;
	out[n] = '\0';
	st = pclose(f);
	if (len != NULL)
		*len = n;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return out;
}

char *run_cmd(const char *cmd, int *status)
{
	return run_cmd_cap(cmd, 1u << 20, NULL, status);
}

/*
 * run-cmd.h: a shell command's standard output and exit status, for the
 * tests that run the built aspace as a person would (test_client,
 * test_client2, test_systemd).
 */
#ifndef ASPACE_TEST_RUN_CMD_H
#define ASPACE_TEST_RUN_CMD_H

#include <stddef.h>

/* cmd's output (malloc'ed, NUL-terminated, up to cap - 1 bytes; its
 * length in *len unless NULL) and its exit status in *status (128 when
 * it did not exit).  A command that cannot start fails the test. */
char *run_cmd_cap(const char *cmd, size_t cap, size_t *len, int *status);
/* run_cmd_cap() with a cap of 1 MiB. */
char *run_cmd(const char *cmd, int *status);

#endif /* ASPACE_TEST_RUN_CMD_H */

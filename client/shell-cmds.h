/*
 * shell-cmds.h: what shell.c takes from shell-help.c (help), subcmd.c
 * (the inspections) and shell-sig.c (signals and reading the terminal).
 */
#ifndef ASPACE_SHELL_CMDS_H
#define ASPACE_SHELL_CMDS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Command i's name (for completion), NULL past the last. */
const char *shell_command_name(size_t i);
/* "help" (len 0) or "help CMD" (cmd, len bytes) on f: 0, or 1 for an
 * unknown CMD. */
int shell_help(FILE *f, const char *cmd, size_t len);

/* subcmd.c: the inspection name (status, walk, counters, check) of
 * session sid as task (walk's ADDR arg, counters' task_only), as aspace
 * NAME prints it; its exit status. */
struct asc_client;
struct cli_opts;
int subcmd_inspect(struct asc_client *c, const uint8_t *sid,
    unsigned long task, const char *name, unsigned long addr,
    bool task_only, const struct cli_opts *o);

/*
 * shell-sig.c: SIGINT, SIGHUP and SIGTERM while the shell runs.  Each
 * sets its flag; the system calls of a command are restarted, so that a
 * request to the daemon is never cut, and reading a line is not.
 */
extern volatile sig_atomic_t shell_sigint, shell_sigquit;
/* Catch the signals (restart: whether reads are restarted); -1 if not. */
int shell_signals(bool restart);
/* Put the signals back as they were. */
void shell_signals_end(void);
/* Wait until fd is readable (1) or a signal is flagged (0); -1 on error. */
int shell_wait_input(int fd);

#endif /* ASPACE_SHELL_CMDS_H */

/*
 * shell-sig.c: aspace shell's signals.  SIGINT sets shell_sigint (the
 * line being edited is dropped; at an empty prompt the shell leaves),
 * SIGHUP and SIGTERM set shell_sigquit (the shell leaves): either way
 * the shell ends through its normal path, which destroys its session
 * (unless --keep) and saves the history.
 *
 * The handlers have SA_RESTART, so that a request to the daemon is never
 * cut in the middle; waiting for input is done with ppoll(), which a
 * signal always interrupts, with the signals blocked outside it so that
 * none is missed between the check of the flags and the wait.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "shell-cmds.h"

volatile sig_atomic_t shell_sigint, shell_sigquit;

static const int sigs[] = { SIGINT, SIGHUP, SIGTERM };
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))
static struct sigaction saved[NSIGS];
static bool caught;

static void on_signal(int sig)
{
	if (sig == SIGINT)
		shell_sigint = 1;
	else
		shell_sigquit = 1;
}

int shell_signals(bool restart)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	for (i = 0; i < NSIGS; i++)
		if (sigaction(sigs[i], &sa, caught ? NULL : &saved[i]) != 0)
			return -1;
	caught = true;
	return 0;
}

void shell_signals_end(void)
{
	size_t i;

	if (!caught)
		return;
	for (i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &saved[i], NULL);
	caught = false;
}

int shell_wait_input(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	sigset_t block, old;
	size_t i;
	int r = 0;

	sigemptyset(&block);
	for (i = 0; i < NSIGS; i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!shell_sigint && !shell_sigquit) {
		r = ppoll(&pfd, 1, NULL, &old);
		if (r > 0 || (r < 0 && errno != EINTR))
			break;
		r = 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r > 0 ? 1 : r;
}

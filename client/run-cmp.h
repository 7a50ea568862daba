/*
 * run-cmp.h: aspace run --linux (run-linux.c: the trace on this machine's
 * own kernel through the reference runner) and --compare (run-compare.c:
 * the simulator and the host side by side).
 */
#ifndef ASPACE_RUN_CMP_H
#define ASPACE_RUN_CMP_H

#include <stdbool.h>
#include <stddef.h>

#include "aspace-client.h"
#include "run-out.h"
#include "session.h"

struct run_where;

/* The simulator as aspace run chose it: built in, or the daemon's. */
struct run_sim {
	bool		 local;
	const struct as_session_params *p;	/* --local's session */
	struct asc_client *c;			/* else the daemon */
	const Aspace__SessionCreateRequest *params;	/* NULL: default */
	const struct run_where *where;		/* aspace run's (aspace.c) */
	const char	*kernel_args[16];	/* --kernel's, for a note */
	int		 nkernel;
};

/* A run's output, malloc'ed and NUL-terminated, and its exit status:
 * 0 ok, 1 "! error" lines, 2 failure (said on stderr). */
struct run_result {
	char	*out;
	size_t	 len;
	int	 rc;
};

/* The simulator on trace text (aspace.c). */
void run_sim_capture(const struct run_sim *s, const char *path,
    const char *text, size_t len, struct run_result *res);

/* 0 if the reference runner can run here, else 2 after a message. */
int run_linux_check(void);
/* The host kernel on trace text, through the reference runner. */
void run_linux_capture(const char *path, const char *text, size_t len,
    struct run_result *res);
/* aspace run --linux PATH: printed as aspace run prints; its status. */
int run_linux_one(const char *path, const struct run_print_opts *po,
    bool json);

/* aspace run --compare PATH: the table, the first difference, notes;
 * 0 identical, 1 different, 2 failure. */
int run_compare_one(const struct run_sim *s, const char *path);

/* The whole trace file (or - for stdin), NUL-terminated; NULL after a
 * message. */
char *run_read_trace(const char *path, size_t *len);

#endif /* ASPACE_RUN_CMP_H */

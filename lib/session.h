/*
 * session.h: one simulated machine: its limits, files, tasks and seed.
 * This is libaspace's public entry point, used by the trace runner, the
 * client and (later) the daemon.
 */
#ifndef ASPACE_SESSION_H
#define ASPACE_SESSION_H

#include "mm_types.h"

struct as_session_params {
	unsigned long	 ram_bytes;	/* 0: 1 GiB */
	unsigned long	 swap_bytes;
	int		 max_map_count;	/* 0: 65530 */
	unsigned long	 rlimit_stack;	/* 0: 8 MiB */
	uint64_t	 seed;
	bool		 randomize;	/* place mmap_base/stack/brk by seed */
};

void as_session_params_default(struct as_session_params *p);
struct as_session *as_session_new(const struct as_session_params *p);
void as_session_free(struct as_session *s);

/* Files: create or truncate-and-rewrite; look up by name. */
int as_file_create(struct as_session *s, const char *name, unsigned long size);
struct as_file *as_file_lookup(struct as_session *s, const char *name);

struct task *as_task_lookup(struct as_session *s, int pid);
/* fork (clone_vm false) or thread (true); NULL with *errp on failure. */
struct task *as_clone(struct as_session *s, struct task *parent,
    bool clone_vm, int *errp);
void as_exit(struct as_session *s, struct task *t);
/* The session's event counters: its own plus every task's. */
void as_session_counters(struct as_session *s, struct as_counters *out);

#endif /* ASPACE_SESSION_H */

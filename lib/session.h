/*
 * session.h: one simulated machine: its limits, files, tasks and seed.
 * This is libaspace's public entry point, used by the trace runner, the
 * client and (later) the daemon.
 */
#ifndef ASPACE_SESSION_H
#define ASPACE_SESSION_H

#include "mm_types.h"
#include "trace_parse.h"

struct as_session_params {
	unsigned long	 ram_bytes;	/* 0: 1 GiB */
	/* The kernel parameters, as a trace's `kernel` lines set them;
	 * as_session_params_default() gives kparam_default()'s. */
	unsigned long	 kparam[KP_COUNT];
	uint64_t	 seed;
	bool		 randomize;	/* place mmap_base/stack/brk by seed */
	struct as_image	 image;		/* task 1's program */
	/* The session's host memory is charged to it as well (the daemon's
	 * tenant and daemon-wide budgets); NULL: none. */
	struct as_memcg	*mem_parent;
};

void as_session_params_default(struct as_session_params *p);
/* A kernel parameter of the machine (its limits). */
unsigned long as_kparam_get(struct as_session *s, enum kparam k);
/*
 * Set one before the session has started (-EBUSY after); rlimit_stack
 * execs task 1's program again, as if the limit had been set before its
 * exec.  Values are as trace_parse_kparam() checks them (-EINVAL else).
 */
int as_kparam_set(struct as_session *s, enum kparam k, unsigned long v);
/* The session starts: from now on its kernel parameters are fixed. */
void as_session_start(struct as_session *s);
struct as_session *as_session_new(const struct as_session_params *p);
void as_session_free(struct as_session *s);
/*
 * The host bytes charged to the session (memcontrol.h), and its limit:
 * its RAM plus the struct pages of that RAM (as_session_mem_limit()).
 */
unsigned long as_session_mem(const struct as_session *s);
unsigned long as_session_mem_limit(unsigned long ram_bytes);
/* Charge a session made without a parent (a loaded checkpoint) to parent
 * from now on, with what it holds already (not refused). */
void as_session_mem_attach(struct as_session *s, struct as_memcg *parent);

/* Files: create or truncate-and-rewrite; look up by name. */
int as_file_create(struct as_session *s, const char *name, unsigned long size);
struct as_file *as_file_lookup(struct as_session *s, const char *name);

struct task *as_task_lookup(struct as_session *s, int pid);
/* fork (clone_vm false) or thread (true); NULL with *errp on failure. */
struct task *as_clone(struct as_session *s, struct task *parent,
    bool clone_vm, int *errp);
void as_exit(struct as_session *s, struct task *t);
/* vfork: a child sharing parent's mm; parent blocked until exec/exit. */
struct task *as_vfork(struct as_session *s, struct task *parent, int *errp);
int as_exec(struct as_session *s, struct task *t, const struct as_image *img);
void as_image_default(struct as_image *img, const char *name);
uint64_t as_session_random(struct as_session *s);
/* The session's event counters: its own plus every task's. */
void as_session_counters(struct as_session *s, struct as_counters *out);
/*
 * mm_validate() over every mm of the session, with no task running
 * meanwhile: 0 with *problem NULL when every invariant holds, or the
 * first one broken; -ENOMEM.  *nmms: the mms checked.
 */
int as_session_validate(struct as_session *s, const char **problem,
    unsigned int *nmms);
/* The calling thread's events, all sessions' (all_vm_events() for one
 * CPU): a running sum the daemon turns into its metrics. */
void as_thread_events(struct as_counters *out);
/* Frames in use in all sessions of the process (the zero pages and page
 * tables too), as the allocators count them. */
unsigned long as_frames_in_use(void);

#endif /* ASPACE_SESSION_H */

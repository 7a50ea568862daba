/*
 * ref-run.h: what the Linux reference runner's files share (ref-main.c:
 * the trace and the controller's dispatch; ref-task.c: what a task does
 * and prints; ref-proc.c: the tasks, their channel and the controller's
 * commands; ref-kernel.c: files, kernel parameters, swap and cleanup).
 */
#ifndef ASPACE_REF_RUN_H
#define ASPACE_REF_RUN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>
#include <linux/capability.h>

#include "trace_parse.h"

#define DEFAULT_WIN_START	0x200000000000UL
#define DEFAULT_WIN_LEN		0x100000000000UL
#define STACK_LIMIT		(8UL << 20)
#define ALTSTACK_SIZE		(64UL << 10)

struct ref_file {
	char name[TRACE_NAME_MAX];
	int fd;
};

/* A System V segment the trace made: its NAME and its shm id. */
struct ref_shm {
	char name[TRACE_NAME_MAX];
	int id;
};

/* A live task, as the controller knows it. */
struct ctl_task {
	unsigned long id;
	pid_t pid;			/* its process */
	int sock;			/* the controller's end */
};

/* A process with live tasks. */
struct ctl_proc {
	pid_t pid;
	int pidfd;			/* -1 if pidfd_open failed */
	int ntasks;
};

struct runner {
	unsigned long win_start, win_len;
	char tmpdir[PATH_MAX];		/* "" if it could not be made */
	struct ref_file *files;
	size_t nfiles;
	struct ref_shm *shms;
	size_t nshms;
	int own_ipc_ns;			/* unshare(CLONE_NEWIPC) worked */
	int errors;			/* "! error" lines printed */
	struct ctl_task *tasks;
	size_t ntasks;
	struct ctl_proc *procs;
	size_t nprocs;
	unsigned long next_id;
	unsigned long cur;		/* the current task's ID, 0 if none */
	int started;			/* a command but window/file/kernel ran */
	int host_zero_page;		/* 1 yes, 0 no, -1 not yet probed */
	int kp_set[KP_COUNT];		/* kernel rlimit_*: given, to apply */
	unsigned long kp_val[KP_COUNT];
};

/* A command sent to a task. */
struct task_req {
	struct trace_cmd c;
	int line;
	int last;			/* exit: the last task of its process */
	unsigned long win_start, win_len;
};

/* A task's answer, followed by len bytes of output text. */
struct task_reply {
	long status;			/* fork: the child's pid; or -errno */
	int errors;			/* "! error" lines in the text */
	size_t len;
};

/* A line of /proc/self/maps, parsed. */
struct vma_line {
	unsigned long start, end, offset;
	char perms[5];
	char name[PATH_MAX];
};

/* The runner is global only so that the atexit() cleanup can reach it. */
extern struct runner the_runner;
extern pid_t controller_pid;
/* In a task thread, the stream its command's output goes to. */
extern __thread FILE *task_out;

/* ref-task.c */
void out_result(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
FILE *out(void);
void out_error(struct runner *r, int line, const char *msg,
	       const char *arg);
void out_status(int line, long ret);
void install_fault_handler(void);
void ensure_altstack(void);
void drop_altstack(void);
char *slurp(const char *path);
char *next_line(char **cursor);
int parse_vma_line(const struct runner *r, const char *s,
		   struct vma_line *v);
int in_window(const struct runner *r, const struct vma_line *v);
void task_exec(struct runner *r, const struct trace_cmd *c, int line,
	       int fd);

/* ref-proc.c */
struct ctl_task *find_task(struct runner *r, unsigned long id);
int start_task1(struct runner *r);
void stop_tasks(struct runner *r);
int ask_task(struct runner *r, struct ctl_task *t,
	     const struct trace_cmd *c, int line, int fd, int last,
	     struct task_reply *p, char **text);
void ctl_forward(struct runner *r, const struct trace_cmd *c, int line);
void ctl_shmget(struct runner *r, const struct trace_cmd *c, int line);
void ctl_shmrm(struct runner *r, const struct trace_cmd *c, int line);
void ctl_shmat(struct runner *r, const struct trace_cmd *c, int line);
void ctl_spawn(struct runner *r, const struct trace_cmd *c, int line);
void ctl_exit(struct runner *r, const struct trace_cmd *c, int line);
void ctl_switch(struct runner *r, const struct trace_cmd *c, int line);

/* ref-kernel.c */
struct ref_file *find_file(struct runner *r, const char *name);
int make_tmpdir(struct runner *r);
void cmd_file(struct runner *r, const struct trace_cmd *c, int line);
void ref_lock(int op);
void swap_signal(int sig);
void cleanup(void);
int have_cap(int cap);
void cmd_kernel(struct runner *r, const struct trace_cmd *c, int line);
void apply_limits(struct runner *r, int line);

/* ref-main.c */
void setup_limits(void);

#endif

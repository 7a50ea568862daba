/*
 * ref-main.c: the Linux reference runner.  `ref-run TRACEFILE` executes a
 * trace-v1 trace (/work/shared/spec/trace-v1.md) against this machine's
 * real kernel with raw system calls and prints the canonical output, so
 * that the simulator's output for the same trace can be checked line by
 * line.  It shares only the parser (lib/trace_parse.c) with the simulator.
 * It is tests/linux-diff/ref-run for run-diff.sh, and installed as
 * $(pkglibexecdir)/ref-run, which `aspace run --linux` and `--compare`
 * run.  This file reads the trace and dispatches its commands; ref-run.h
 * names the others.
 *
 * Processes.  The main process is the controller: it reads the trace,
 * prints every line of output and runs the commands that concern the run
 * itself (window, file, switch), but never touches the window.  Each task
 * is a real process (task 1, forked at start; every `fork`) or a pthread
 * in a task's process (`thread`), looping in task_loop(): it receives one
 * command at a time over its own AF_UNIX stream socket to the controller,
 * runs it with task_exec() and sends back its status and output text.  A
 * new task's socket end, and the file an mmap names, travel with the
 * command as SCM_RIGHTS.
 *
 * Files: one struct file per mmap line.  For every `mmap ... NAME OFFSET`
 * the controller open()s NAME anew, sends that fd with the command, and
 * both ends close it once the task has called mmap(): the mapping holds
 * the only reference to that struct file.  As the kernel merges VMAs of
 * the same struct file only, two mmap lines never make one VMA even when
 * adjacent with contiguous offsets, while the pieces of one mapping
 * (split by mprotect, mlock, madvise or munmap, moved by mremap) keep
 * their struct file and merge back, and a forked child's VMAs share the
 * parent's.  This is the project's normative rule, which the simulator
 * models too; it is what a program does that opens, maps and closes a
 * file per mapping.  The controller's own fd of each file serves `file`
 * (create, truncate, fill) only.
 *
 * Task IDs are given out by the controller in order from 2; a failed fork
 * or thread uses none.  `exit` ends a thread with pthread_exit, or, when
 * it is the last task of its process, the whole process with _exit; the
 * controller then waits on a pidfd until the process has exited, so its
 * memory is released before the next command, and reaps the zombies it
 * is parent of (it is a child subreaper, so orphaned tasks come to it).
 * After `exit` there is no current task until `switch`: any other command
 * prints `N: ! error: no current task` (window and file too, as the spec
 * says the next command must be a switch).  Memory limits and THP
 * disabling are set in the controller and inherited by every task.
 *
 * Kernel parameters (trace-v2 `kernel NAME VALUE`, only before the first
 * command that is not window, file or kernel, else the simulator's error
 * line).  rlimit_stack and rlimit_memlock are applied: task 1 sets them
 * (soft and hard) when the trace starts, and a finite rlimit_memlock also
 * takes CAP_IPC_LOCK from its capability sets, so every later task
 * inherits both and mlock is limited as for a process that is not root.
 * The others describe the host and are only checked against it (the zero
 * page by a probe, max_map_count and fault_around_bytes from /proc and
 * debugfs, swap 0 from /proc/swaps): `! error: host kernel differs: NAME`
 * if it is not so.  `kernel swap SIZE` with SIZE > 0 makes a swap file of
 * SIZE in the temp directory (which must be on a disk file system, not
 * tmpfs): fallocate (or zeros written where the file system has no
 * fallocate), mode 600, /sbin/mkswap, swapon(2); it is swapped off
 * and removed at exit, on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE too, or
 * when a later `kernel swap` replaces it.  Another active swap area on the host
 * is `! error: host kernel differs: swap` (swap is machine-wide); a host
 * that refuses the swap file prints `! error: unsupported: kernel swap
 * (STEP: ERRNO)`.  While the swap file is on, vm.page-cluster is 0 (no
 * swap readahead, as the simulator models), restored with it; after
 * each pageout the runner waits for the host's writeback to finish, as
 * the simulator writes synchronously.  Needs root (CAP_SYS_ADMIN).  Because swap is
 * machine-wide (a trace without swap would see another's swap file: its
 * pageout would swap), every ref-run holds a lock on REF_RUN_LOCK
 * (/var/tmp/aspace-ref-run.lock, or $ASPACE_REF_RUN_LOCK): shared, and
 * exclusive from a `kernel swap SIZE` on, so runs with swap are
 * serialised against every other run on the host.
 *
 * Signals.  SIGSEGV and SIGBUS are caught by one handler per process that
 * siglongjmps through thread-local state, on a per-thread alternate stack.
 *
 * touch x cannot execute arbitrary bytes, so it models the x86 fault path
 * of an instruction fetch: a non-present fetch is handled as a read fault
 * (the kernel does not check VM_EXEC for a not-present fault: page and
 * fault-around come in, the stack grows, a file page past EOF is SIGBUS),
 * and the refetch then finds the page NX and raises SEGV_ACCERR.  So it
 * does a real guarded read; if that faults, the signal is the answer, else
 * the answer is SEGV_ACCERR unless the VMA now holding ADDR has 'x'.
 * Verified on 6.18 by calling a 0xc3 (ret) byte in rwx, r--, r-x and ---
 * pages, file and anonymous, fresh and present, and below a growsdown VMA.
 *
 * Nothing this program allocates may land in the default window
 * [0x200000000000, 0x300000000000): the kernel places our own mappings
 * top-down from mmap_base (near 0x7f...), far above it, and the sanitizer
 * shadow and heap lie outside it too.
 */
#include "ref-run.h"

struct runner the_runner;
pid_t controller_pid;

/* In a task thread, the stream its command's output goes to. */
__thread FILE *task_out;

static void ctl_command(struct runner *r, const struct trace_cmd *c, int line)
{
	if (c->op == T_KERNEL) {
		cmd_kernel(r, c, line);
		return;
	}
	if (c->op != T_WINDOW && c->op != T_FILE && !r->started) {
		r->started = 1;
		apply_limits(r, line);
	}
	if (c->op != T_SWITCH && !r->cur) {
		out_error(r, line, "no current task", NULL);
		return;
	}
	switch (c->op) {
	case T_WINDOW:
		r->win_start = c->addr;
		r->win_len = c->len;
		out_status(line, 0);
		break;
	case T_FILE:
		cmd_file(r, c, line);
		break;
	case T_SWITCH:
		ctl_switch(r, c, line);
		break;
	case T_FORK: case T_THREAD:
		ctl_spawn(r, c, line);
		break;
	case T_EXIT:
		ctl_exit(r, c, line);
		break;
	case T_BRK:
		out_error(r, line, "unsupported: ", trace_op_name(c->op));
		break;
	case T_SHMGET:
		ctl_shmget(r, c, line);
		break;
	case T_SHMRM:
		ctl_shmrm(r, c, line);
		break;
	case T_SHMAT:
		ctl_shmat(r, c, line);
		break;
	default:
		ctl_forward(r, c, line);
		break;
	}
}

static void run_line(struct runner *r, const char *text, size_t len,
		     int line)
{
	struct trace_cmd c;
	char err[256];
	int ret = trace_parse_line(text, len, &c, err, sizeof(err));

	if (ret < 0)
		out_error(r, line, err, NULL);
	else if (ret > 0)
		ctl_command(r, &c, line);
}

/* Limits of a root process: RLIMIT_MEMLOCK unlimited, RLIMIT_STACK 8 MiB. */
void setup_limits(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0 &&
	    getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		/* no CAP_SYS_RESOURCE: go as far as the hard limit */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
		if (rl.rlim_max != RLIM_INFINITY && !have_cap(CAP_IPC_LOCK))
			fprintf(stderr, "ref-run: warning: RLIMIT_MEMLOCK "
				"is limited and CAP_IPC_LOCK is missing\n");
	}
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != STACK_LIMIT &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= STACK_LIMIT)) {
		rl.rlim_cur = STACK_LIMIT;
		setrlimit(RLIMIT_STACK, &rl);
	}
}

/* Our own memory must not show in the default window: say so if it does. */
static void check_window_clean(void)
{
	struct runner probe;
	char *buf = slurp("/proc/self/maps"), *cur = buf, *s;
	struct vma_line v;

	memset(&probe, 0, sizeof(probe));
	probe.win_start = DEFAULT_WIN_START;
	probe.win_len = DEFAULT_WIN_LEN;
	while ((s = next_line(&cur)) != NULL) {
		if (parse_vma_line(&probe, s, &v) == 0 && in_window(&probe, &v))
			fprintf(stderr, "ref-run: warning: own mapping in the "
				"window: %s\n", s);
	}
	free(buf);
}

/*
 * Every task on one CPU, the one the runner starts on: a page a task
 * faulted in waits in that CPU's LRU batch (folio_batch) until it is
 * drained, and MADV_PAGEOUT from a task on another CPU may then find it
 * not yet on the LRU and keep it.  On one CPU the batch is drained
 * before the next command runs, as the simulator assumes.
 */
static void pin_to_one_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu >= 0 ? cpu : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("ref-run: sched_setaffinity");
}

/* Everything here is inherited by the tasks. */
static void setup_process(void)
{
	pin_to_one_cpu();
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		perror("ref-run: PR_SET_THP_DISABLE");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		perror("ref-run: PR_SET_CHILD_SUBREAPER");
	setup_limits();
	install_fault_handler();
	check_window_clean();
}

/* Run every line of the trace; line numbers are 1-based. */
static void run_trace(struct runner *r, FILE *in)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int line = 0;

	while ((n = getline(&text, &cap, in)) >= 0) {
		line++;
		if (n > 0 && text[n - 1] == '\n')
			n--;
		run_line(r, text, (size_t)n, line);
	}
	free(text);
}

int main(int argc, char **argv)
{
	struct runner *r = &the_runner;
	FILE *in;

	if (argc != 2) {
		fprintf(stderr, "usage: ref-run TRACEFILE\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "ref-run: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	setup_process();
	ref_lock(LOCK_SH);
	r->win_start = DEFAULT_WIN_START;
	r->win_len = DEFAULT_WIN_LEN;
	r->host_zero_page = -1;
	controller_pid = getpid();
	if (make_tmpdir(r) < 0)
		fprintf(stderr, "ref-run: warning: no temp directory: %s\n",
			strerror(errno));
	/* The trace's segments live in an IPC namespace of its own (root);
	 * elsewhere cleanup() removes them. */
	r->own_ipc_ns = unshare(CLONE_NEWIPC) == 0;
	atexit(cleanup);
	signal(SIGINT, swap_signal);
	signal(SIGTERM, swap_signal);
	signal(SIGHUP, swap_signal);
	signal(SIGQUIT, swap_signal);
	signal(SIGPIPE, swap_signal);	/* a reader that stopped early */
	if (start_task1(r) < 0) {
		fprintf(stderr, "ref-run: cannot start task 1: %s\n",
			strerror(errno));
		fclose(in);
		return 2;
	}
	run_trace(r, in);
	fclose(in);
	stop_tasks(r);
	if (fflush(stdout) != 0)
		return 2;
	return r->errors ? 1 : 0;
}

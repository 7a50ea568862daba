/*
 * ref-proc.c: the reference runner's tasks: the channel between the
 * controller and each task (one AF_UNIX socket, fds as SCM_RIGHTS), the
 * task loop in each process or thread, the controller's book of tasks
 * and processes, and its commands that concern them (fork, thread, exit,
 * switch, forwarding, System V shared memory).
 */
#include "ref-run.h"

/* ---- the channel between controller and task ---- */

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

static int send_all(int sock, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len) {
		n = send(sock, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* -1 on error or end of file. */
static int recv_all(int sock, void *p, size_t len)
{
	char *s = p;
	ssize_t n;

	while (len) {
		n = recv(sock, s, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send a request, with fd as SCM_RIGHTS unless it is -1. */
static int send_req(int sock, const struct task_req *q, int fd)
{
	struct iovec iov = { (void *)q, sizeof(*q) };
	struct msghdr m;
	union fd_cmsg u;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	return send_all(sock, (const char *)q + n, sizeof(*q) - (size_t)n);
}

/* Receive a request and the fd sent with it (-1 if none). */
static int recv_req(int sock, struct task_req *q, int *fd)
{
	struct iovec iov = { q, sizeof(*q) };
	struct msghdr m;
	union fd_cmsg u;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return recv_all(sock, (char *)q + n, sizeof(*q) - (size_t)n);
}

static int send_reply(int sock, long status, int errors, const char *text,
		      size_t len)
{
	struct task_reply p;

	memset(&p, 0, sizeof(p));
	p.status = status;
	p.errors = errors;
	p.len = len;
	if (send_all(sock, &p, sizeof(p)) < 0)
		return -1;
	return len ? send_all(sock, text, len) : 0;
}

/* The reply and its text (malloc'ed, NULL if none); -1 if the task died. */
static int recv_reply(int sock, struct task_reply *p, char **text)
{
	*text = NULL;
	if (recv_all(sock, p, sizeof(*p)) < 0)
		return -1;
	if (!p->len)
		return 0;
	*text = malloc(p->len);
	if (!*text || recv_all(sock, *text, p->len) < 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

/* ---- tasks ---- */

/*
 * The sockets of this process's tasks, so that a forked child can close
 * those it must not keep.  Only the thread running a command changes it,
 * and an exiting task leaves it before it answers, so no lock is needed.
 */
static int *proc_socks;
static size_t proc_nsocks;

static void register_sock(int sock)
{
	int *n = realloc(proc_socks, (proc_nsocks + 1) * sizeof(*n));

	if (!n)
		return;
	proc_socks = n;
	proc_socks[proc_nsocks++] = sock;
}

static void deregister_sock(int sock)
{
	size_t i;

	for (i = 0; i < proc_nsocks; i++) {
		if (proc_socks[i] == sock) {
			proc_socks[i] = proc_socks[--proc_nsocks];
			return;
		}
	}
}

/* In a new process: its one task talks on sock. */
static void new_process_socks(int sock)
{
	size_t i;

	for (i = 0; i < proc_nsocks; i++)
		close(proc_socks[i]);
	proc_nsocks = 0;
	register_sock(sock);
}

/* Any command but fork, thread, exit: run it and send back its output. */
static void task_command(int sock, const struct task_req *q, int fd)
{
	struct runner tr;
	char *text = NULL;
	size_t len = 0;

	memset(&tr, 0, sizeof(tr));
	memcpy(tr.tmpdir, the_runner.tmpdir, sizeof(tr.tmpdir));
	tr.win_start = q->win_start;
	tr.win_len = q->win_len;
	task_out = open_memstream(&text, &len);
	if (task_out) {
		task_exec(&tr, &q->c, q->line, fd);
		fclose(task_out);
		task_out = NULL;
	}
	if (fd >= 0)
		close(fd);
	send_reply(sock, text ? 0 : -ENOMEM, tr.errors, text, text ? len : 0);
	free(text);
}

/* fork: the child goes on as the task on newfd; returns the socket. */
static int task_fork(int sock, int newfd)
{
	pid_t pid;

	if (newfd < 0) {
		send_reply(sock, -EBADF, 0, NULL, 0);
		return sock;
	}
	pid = fork();
	if (pid == 0) {
		new_process_socks(newfd);
		return newfd;
	}
	close(newfd);
	send_reply(sock, pid < 0 ? -errno : pid, 0, NULL, 0);
	return sock;
}

static void task_loop(int sock) __attribute__((noreturn));

static void *thread_main(void *arg)
{
	task_loop((int)(intptr_t)arg);
}

/* thread: a detached pthread in this process, the task on newfd. */
static void task_thread(int sock, int newfd)
{
	pthread_attr_t attr;
	pthread_t t;
	int err = EBADF;

	if (newfd >= 0) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		register_sock(newfd);
		err = pthread_create(&t, &attr, thread_main,
				     (void *)(intptr_t)newfd);
		pthread_attr_destroy(&attr);
		if (err) {
			deregister_sock(newfd);
			close(newfd);
		}
	}
	send_reply(sock, -err, 0, NULL, 0);
}

/* exit: the last task takes its process with it, any other its thread. */
static void task_exit(int sock, const struct task_req *q)
{
	deregister_sock(sock);
	send_reply(sock, 0, 0, NULL, 0);
	if (q->last)
		_exit(0);
	close(sock);
	drop_altstack();
	pthread_exit(NULL);
}

/* ---- kernel limits (task) ---- */

/*
 * Take CAP_IPC_LOCK out of this thread's effective, permitted and
 * inheritable sets, so that mlock and MAP_LOCKED are held to
 * RLIMIT_MEMLOCK as for a process that is not root.  Capabilities are
 * per thread: task 1 does it before any other task exists, and every
 * thread or process a task makes afterwards inherits its sets.
 */
static long drop_ipc_lock(void)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned i = CAP_TO_INDEX(CAP_IPC_LOCK);
	__u32 m = CAP_TO_MASK(CAP_IPC_LOCK);

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[i].effective &= ~m;
	d[i].permitted &= ~m;
	d[i].inheritable &= ~m;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

/*
 * kernel rlimit_stack / rlimit_memlock VALUE, sent to task 1 when the
 * trace starts: soft and hard limit of its process, inherited by every
 * task forked later (threads share it).  A finite RLIMIT_MEMLOCK also
 * drops CAP_IPC_LOCK; `unlimited` keeps root's limits (setup_limits()).
 */
static long task_limit(const struct trace_cmd *c)
{
	struct rlimit rl;
	int res = c->param == KP_RLIMIT_STACK ? RLIMIT_STACK : RLIMIT_MEMLOCK;

	if (c->param == KP_RLIMIT_MEMLOCK && c->len == KP_UNLIMITED)
		return 0;
	rl.rlim_cur = c->len;
	rl.rlim_max = c->len;
	if (setrlimit(res, &rl) < 0)
		return -errno;
	return res == RLIMIT_MEMLOCK ? drop_ipc_lock() : 0;
}

/* A task: run commands until told to exit or the controller goes away. */
static void task_loop(int sock)
{
	struct task_req q;
	int fd;

	ensure_altstack();
	for (;;) {
		if (recv_req(sock, &q, &fd) < 0)
			_exit(0);
		if (q.c.op == T_FORK)
			sock = task_fork(sock, fd);
		else if (q.c.op == T_THREAD)
			task_thread(sock, fd);
		else if (q.c.op == T_EXIT)
			task_exit(sock, &q);
		else if (q.c.op == T_KERNEL)
			send_reply(sock, task_limit(&q.c), 0, NULL, 0);
		else
			task_command(sock, &q, fd);
	}
}

/* ---- the controller's tasks and processes ---- */

struct ctl_task *find_task(struct runner *r, unsigned long id)
{
	size_t i;

	for (i = 0; i < r->ntasks; i++)
		if (r->tasks[i].id == id)
			return &r->tasks[i];
	return NULL;
}

static struct ctl_proc *find_proc(struct runner *r, pid_t pid)
{
	size_t i;

	for (i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static int add_proc(struct runner *r, pid_t pid)
{
	struct ctl_proc *p = realloc(r->procs, (r->nprocs + 1) * sizeof(*p));

	if (!p)
		return -1;
	r->procs = p;
	p = &r->procs[r->nprocs++];
	p->pid = pid;
	p->ntasks = 0;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0)
		fprintf(stderr, "ref-run: warning: pidfd_open: %s\n",
			strerror(errno));
	return 0;
}

static int add_task(struct runner *r, unsigned long id, pid_t pid, int sock)
{
	struct ctl_task *t = realloc(r->tasks, (r->ntasks + 1) * sizeof(*t));

	if (!t)
		return -1;
	r->tasks = t;
	t = &r->tasks[r->ntasks++];
	t->id = id;
	t->pid = pid;
	t->sock = sock;
	find_proc(r, pid)->ntasks++;
	return 0;
}

/* Reap every zombie we are parent of (our own or orphans given to us). */
static void reap_zombies(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Wait until the process has exited (its memory released), forget it. */
static void wait_proc(struct runner *r, struct ctl_proc *p)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };

	while (p->pidfd >= 0 && poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	if (p->pidfd >= 0)
		close(p->pidfd);
	reap_zombies();
	*p = r->procs[--r->nprocs];
}

/* The task is gone: close its socket; the process too if it was last. */
static void drop_task(struct runner *r, struct ctl_task *t)
{
	struct ctl_proc *p = find_proc(r, t->pid);

	close(t->sock);
	if (r->cur == t->id)
		r->cur = 0;
	*t = r->tasks[--r->ntasks];
	if (p && --p->ntasks == 0)
		wait_proc(r, p);
}

/* Task 1: a child process running task_loop(). */
int start_task1(struct runner *r)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		new_process_socks(sv[1]);
		task_loop(sv[1]);
	}
	close(sv[1]);
	if (pid < 0 || add_proc(r, pid) < 0 || add_task(r, 1, pid, sv[0]) < 0) {
		close(sv[0]);
		return -1;
	}
	r->next_id = 2;
	r->cur = 1;
	return 0;
}

/* End of the run: every task sees end of file and exits; wait for all. */
void stop_tasks(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->ntasks; i++)
		close(r->tasks[i].sock);
	r->ntasks = 0;
	while (r->nprocs)
		wait_proc(r, &r->procs[0]);
	free(r->tasks);
	free(r->procs);
	r->tasks = NULL;
	r->procs = NULL;
}

/* ---- the controller's commands ---- */

/* Send c to the current task and get its answer; -1 if the task died. */
int ask_task(struct runner *r, struct ctl_task *t,
	     const struct trace_cmd *c, int line, int fd, int last,
	     struct task_reply *p, char **text)
{
	struct task_req q;

	*text = NULL;
	memset(&q, 0, sizeof(q));
	q.c = *c;
	q.line = line;
	q.last = last;
	q.win_start = r->win_start;
	q.win_len = r->win_len;
	if (send_req(t->sock, &q, fd) < 0 || recv_reply(t->sock, p, text) < 0) {
		out_error(r, line, "the task died", NULL);
		drop_task(r, t);
		return -1;
	}
	return 0;
}

/*
 * A new open file (struct file) of the trace's file NAME for one mmap
 * line; -1 with errno set if NAME was never made (the mmap then fails
 * with EBADF, as with no file) or cannot be opened.
 */
static int open_for_mmap(struct runner *r, const char *name)
{
	char path[2 * PATH_MAX];

	if (!find_file(r, name)) {
		errno = EBADF;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", r->tmpdir, name);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* A command for the task: print what it printed. */
void ctl_forward(struct runner *r, const struct trace_cmd *c, int line)
{
	int fd = -1;
	struct task_reply p;
	char *text;
	int died;

	if (c->op == T_MMAP && c->has_file) {
		fd = open_for_mmap(r, c->name);
		if (fd < 0 && errno != EBADF) {
			out_error(r, line, "open: ", strerror(errno));
			return;
		}
	}
	died = ask_task(r, find_task(r, r->cur), c, line, fd, 0, &p, &text);
	if (fd >= 0)
		close(fd);
	if (died < 0)
		return;
	if (p.status < 0) {
		errno = (int)-p.status;
		out_error(r, line, "task: ", errno_name(errno));
	}
	if (text)
		fwrite(text, 1, p.len, stdout);
	r->errors += p.errors;
	free(text);
}

/* ---- System V shared memory (controller) ---- */

/* The id of segment NAME; -1 (which the kernel refuses with EINVAL) if
 * the trace never made it. */
static int shm_id(const struct runner *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nshms; i++)
		if (strcmp(r->shms[i].name, name) == 0)
			return r->shms[i].id;
	return -1;
}

/* shmget NAME SIZE: a new segment in the trace's IPC namespace. */
void ctl_shmget(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ref_shm *n;
	char msg[TRACE_NAME_MAX + 32];
	size_t i;
	int id;

	for (i = 0; i < r->nshms; i++) {
		if (strcmp(r->shms[i].name, c->name) == 0) {
			snprintf(msg, sizeof(msg), "segment %s already used",
				 c->name);
			out_error(r, line, msg, NULL);
			return;
		}
	}
	id = shmget(IPC_PRIVATE, c->len, IPC_CREAT | 0600);
	if (id < 0) {
		out_status(line, -1);
		return;
	}
	n = realloc(r->shms, (r->nshms + 1) * sizeof(*n));
	if (!n) {
		shmctl(id, IPC_RMID, NULL);
		out_error(r, line, "out of memory", NULL);
		return;
	}
	r->shms = n;
	snprintf(n[r->nshms].name, sizeof(n[r->nshms].name), "%s", c->name);
	n[r->nshms++].id = id;
	out_status(line, 0);
}

/* shmrm NAME: shmctl(IPC_RMID); the name stays used. */
void ctl_shmrm(struct runner *r, const struct trace_cmd *c, int line)
{
	out_status(line, shmctl(shm_id(r, c->name), IPC_RMID, NULL));
}

/* shmat NAME ...: the task attaches by id (sent in the command's id). */
void ctl_shmat(struct runner *r, const struct trace_cmd *c, int line)
{
	struct trace_cmd c2 = *c;

	c2.id = (unsigned long)(long)shm_id(r, c->name);
	ctl_forward(r, &c2, line);
}

/* fork and thread: the new task gets the next ID. */
void ctl_spawn(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ctl_task *t = find_task(r, r->cur);
	pid_t pid = t->pid;
	struct task_reply p;
	char *text;
	int sv[2], died;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		out_error(r, line, "socketpair: ", strerror(errno));
		return;
	}
	died = ask_task(r, t, c, line, sv[1], 0, &p, &text) < 0;
	close(sv[1]);
	free(text);
	if (died || p.status < 0) {
		close(sv[0]);
		if (!died)
			out_result(line, "= -%s", errno_name((int)-p.status));
		return;
	}
	if (c->op == T_FORK)
		pid = (pid_t)p.status;
	if ((c->op == T_FORK && add_proc(r, pid) < 0) ||
	    add_task(r, r->next_id, pid, sv[0]) < 0) {
		close(sv[0]);
		out_error(r, line, "out of memory", NULL);
		return;
	}
	out_result(line, "= %lu", r->next_id++);
}

void ctl_exit(struct runner *r, const struct trace_cmd *c, int line)
{
	struct ctl_task *t = find_task(r, r->cur);
	struct ctl_proc *p = find_proc(r, t->pid);
	struct task_reply rep;
	char *text;

	if (ask_task(r, t, c, line, -1, p->ntasks == 1, &rep, &text) < 0)
		return;
	free(text);
	drop_task(r, t);
	r->cur = 0;
	out_status(line, 0);
}

void ctl_switch(struct runner *r, const struct trace_cmd *c, int line)
{
	char msg[64];

	if (!find_task(r, c->id)) {
		snprintf(msg, sizeof(msg), "no task %lu", c->id);
		out_error(r, line, msg, NULL);
		return;
	}
	r->cur = c->id;
	out_status(line, 0);
}


/*
 * req.h: requests as table entries, in the manner of tmux's cmd-*.c.
 *
 * Each daemon/req-*.c exports one const struct request_entry: the op it
 * serves (an Aspace__Request__OpCase), the session lock it needs and its
 * handler.  req-table.c collects them; req_dispatch() looks the op up,
 * finds the session and task, takes the locks the mode asks for (order:
 * session-table.c) and calls the handler with a struct req_ctx, in which
 * the handler sets the status and the result of the response.
 */
#ifndef ASPACED_REQ_H
#define ASPACED_REQ_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"
#include "session-table.h"

struct server;
struct access_result;
struct pool;
struct pool_job;

/* Why a request was told to stop (req_ctx.cancel). */
#define REQ_CANCEL_GONE		1	/* its connection is gone */

enum req_lock {
	LOCK_NONE,		/* no session */
	LOCK_SESSION_READ,	/* the session shared, the task's stripe */
	LOCK_SESSION_WRITE	/* the session exclusively */
};

#define REQ_NEEDS_TASK		0x1	/* Request.task must exist */
#define REQ_SESSION_OPTIONAL	0x2	/* no session: LOCK_NONE instead */
#define REQ_STARTS		0x4	/* a task acts: kernel parameters fixed */

/* What a handler sees of its connection. */
struct req_conn {
	uid_t		 tenant;
	bool		 authed;
	unsigned int	 max_body;	/* this connection's body cap */
	/* The session of the last request and its tenant, referenced, so
	 * a run of requests to one session skips the table's lock. */
	struct dsession	*cached;
	uid_t		 cached_tenant;
};

struct req_ctx {
	struct server	*srv;
	struct req_conn	*conn;
	const Aspace__Request *req;
	Aspace__Response *resp;
	Aspace__Status	*status;
	struct frame_arena *out;	/* memory for the response */
	struct as_buf	 buf;		/* big text results (run_trace) */
	struct dsession	*ds;		/* with a session */
	bool		 ds_dead;	/* ds was or became dead */
	struct task	*task;		/* with REQ_NEEDS_TASK */
	/* Time (req-run-trace.c): the pool job running the request (NULL:
	 * on its worker), which may give its slot to a fairer one between
	 * two lines; cancel, REQ_CANCEL_* set atomically by the connection's
	 * worker. */
	struct pool_job	*pj;
	int		 cancel;
	/* The cap on maps and smaps text (0: trace-output-max); the web
	 * listener's is its own (web-api.c). */
	size_t		 text_max;
};

struct request_entry {
	int		 op;		/* Aspace__Request__OpCase */
	enum req_lock	 mode;
	int		 flags;		/* REQ_* */
	void		 (*handler)(struct req_ctx *);
};

/* req-table.c */
const struct request_entry *req_lookup(int op);

/* req.c: run one decoded request (or a decode error) into resp. */
void req_dispatch(struct req_ctx *c);
/* Drop rc's cached session (when the connection goes). */
void req_conn_release(struct server *srv, struct req_conn *rc);
void req_status(struct req_ctx *c, Aspace__Status__Code code,
    const char *msg);
void req_errno(struct req_ctx *c, int err);
/* Answer c's request QUOTA with msg without running it. */
void req_dispatch_refused(struct req_ctx *c, const char *msg);
void *req_alloc(struct req_ctx *c, size_t size);
char *req_strdup(struct req_ctx *c, const char *s, size_t len);
bool req_image_name_ok(const char *name);
/* An mm call's result (an address, or -errno): an AddrResult of it, or
 * NULL after req_errno() (or with the status set if out of memory). */
Aspace__AddrResult *req_addr_result(struct req_ctx *c, unsigned long ret);
/* fork, thread and vfork: make the new task (NULL and *err if it cannot
 * be); a TaskResult of its id, or NULL with the status set.  The result
 * is allocated first: out of memory, no task is made. */
typedef struct task *(*req_task_fn)(struct req_ctx *c, int *err);
Aspace__TaskResult *req_task_result(struct req_ctx *c, req_task_fn make);

/* The tables of the server (server.c) handlers may use. */
struct persist *server_persist(struct server *srv);	/* NULL: none */
struct session_table *server_sessions(struct server *srv);
size_t server_trace_output_max(struct server *srv);
unsigned long server_ram_max(struct server *srv);
unsigned int server_max_sessions(struct server *srv);
/* request-cpu-limit in ms and trace-line-limit (0: none), the pool, and
 * whether every request is to stop (the drain's deadline passed). */
unsigned int server_request_cpu_ms(struct server *srv);
unsigned int server_trace_line_limit(struct server *srv);
struct pool *server_pool(struct server *srv);
bool server_cancelled(struct server *srv);
/* The web listener's logins (NULL: web-listen is off) and its
 * "http://HOST:PORT" as bound. */
struct web_auth *server_web_auth(struct server *srv);
void server_web_address(struct server *srv, char *buf, size_t size);
/* The cap on the host memory charged to all sessions (0: none). */
unsigned long long server_ram_total(struct server *srv);

extern const struct request_entry req_hello_entry;
extern const struct request_entry req_session_create_entry;
extern const struct request_entry req_session_destroy_entry;
extern const struct request_entry req_session_list_entry;
extern const struct request_entry req_run_trace_entry;
extern const struct request_entry req_grade_entry;
extern const struct request_entry req_maps_entry;
extern const struct request_entry req_mmap_entry;
extern const struct request_entry req_munmap_entry;
extern const struct request_entry req_access_entry;
extern const struct request_entry req_fork_entry;
extern const struct request_entry req_exit_entry;
extern const struct request_entry req_mprotect_entry;
extern const struct request_entry req_mremap_entry;
extern const struct request_entry req_madvise_entry;
extern const struct request_entry req_mlock_entry;
extern const struct request_entry req_munlock_entry;
extern const struct request_entry req_brk_entry;
extern const struct request_entry req_read_bytes_entry;
extern const struct request_entry req_write_bytes_entry;
extern const struct request_entry req_thread_entry;
extern const struct request_entry req_vfork_entry;
extern const struct request_entry req_exec_entry;
extern const struct request_entry req_smaps_entry;
extern const struct request_entry req_proc_status_entry;
extern const struct request_entry req_page_walk_entry;
extern const struct request_entry req_counters_entry;
extern const struct request_entry req_file_create_entry;
extern const struct request_entry req_check_entry;
extern const struct request_entry req_kernel_entry;
extern const struct request_entry req_msync_entry;
extern const struct request_entry req_shmget_entry;
extern const struct request_entry req_shmat_entry;
extern const struct request_entry req_shmdt_entry;
extern const struct request_entry req_shmrm_entry;
extern const struct request_entry req_web_token_entry;
extern const struct request_entry req_pages_entry;
extern const struct request_entry req_mt_entry;

/* req-session-create.c: SessionCreateRequest to params (0 or BAD/QUOTA). */
int req_session_params(struct req_ctx *c,
    const Aspace__SessionCreateRequest *r, struct as_session_params *p);

/* req-fault.c: the Fault message of a failed access at addr. */
Aspace__Fault *req_fault(struct req_ctx *c, unsigned long addr,
    const struct access_result *a);

/* req-vma.c, for maps and smaps: fill r (their result) from the VMAs in
 * [lo, hi), with mm read-locked, writing the text to c->buf. */
typedef void (*req_fill_fn)(struct req_ctx *c, void *r, struct mm *mm,
    unsigned long lo, unsigned long hi);
/* The fewest bytes of text one VMA makes ("%08lx-%08lx rwxp %08lx 00:00 0"
 * and a newline): a window of more VMAs than the cap over this is
 * refused before anything is made. */
#define REQ_MAPS_LINE_MIN	40
/* fill over the window w asks for (all if none), c->buf capped at the
 * output limit; the text, or NULL with the status set (too_large, the
 * message when the cap is hit).  item is the fewest bytes of the
 * response's arena one VMA's message takes: a window whose VMAs cannot
 * fit the text cap or the arena is TOO_LARGE at once, before any
 * allocation (not INTERNAL "out of memory" half way). */
const char *req_window_text(struct req_ctx *c, const Aspace__Window *w,
    const char *too_large, req_fill_fn fill, void *r, size_t item);
/* VMA vma as message i of msgs (an array of message pointers), its text
 * appended to c->buf; false to stop (the status set, or c->buf full). */
typedef bool (*req_vma_fn)(struct req_ctx *c, void *msgs, size_t i,
    struct vma *vma);
/* The messages one makes of the VMAs in [lo, hi) (the mm read-locked):
 * an array of pointers, their number in *np once all are made; NULL
 * with the status set if out of memory. */
void *req_vma_msgs(struct req_ctx *c, struct mm *mm, unsigned long lo,
    unsigned long hi, req_vma_fn one, size_t *np);
/* Fill v for vma from its maps line at line (as show_map_vma() printed
 * it). */
void req_vma_msg(struct req_ctx *c, Aspace__Vma *v, const struct vma *vma,
    const char *line);

/*
 * req-run-trace.c: a trace's budgets (trace-line-limit, request-cpu-limit,
 * the client gone, the drain), for run_trace and grade.  init before the
 * run (cur: where it starts); check as the as_trace_check's fn, b its
 * arg; stopped sets the status of a run the check stopped.
 */
struct as_trace_cursor;
struct as_trace_check;
struct trace_budget {
	struct req_ctx	*c;
	unsigned long	 first;		/* lines run before this request */
	unsigned long	 lines;		/* trace-line-limit; 0: none */
	uint64_t	 cpu_limit;	/* ns; 0: none */
	uint64_t	 cpu0;		/* the thread's CPU time at the start */
	uint64_t	 wall_next;	/* no CPU reading before (monotonic) */
};
void trace_budget_init(struct trace_budget *b, struct req_ctx *c,
    const struct as_trace_cursor *cur);
int trace_budget_check(void *arg, unsigned long lineno);
void trace_budget_stopped(struct req_ctx *c, const struct trace_budget *b,
    const struct as_trace_check *chk);

#endif /* ASPACED_REQ_H */

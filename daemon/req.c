/*
 * req.c: running one decoded request (req.h).  req_dispatch() turns the
 * op into a table entry, the session id into a referenced session, the
 * task id into a task, takes the locks the entry's mode asks for (their
 * order is at the top of session-table.c) and calls the handler.  The
 * helpers set the response's status and allocate its parts in the
 * request's output arena.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "mm.h"
#include "persist.h"
#include "req.h"
#include "trace_parse.h"

void req_status(struct req_ctx *c, Aspace__Status__Code code,
    const char *msg)
{
	c->status->code = code;
	c->status->has_code = true;
	if (msg != NULL)
		c->status->message = req_strdup(c, msg, strlen(msg));
	if (code != ASPACE__STATUS__CODE__OK) {
		c->resp->result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
	}
}

/* A negative or positive errno: status ERRNO with its Linux name. */
void req_errno(struct req_ctx *c, int err)
{
	if (err < 0)
		err = -err;
	req_status(c, ASPACE__STATUS__CODE__ERRNO, NULL);
	c->status->errname = req_strdup(c, errno_name(err),
	    strlen(errno_name(err)));
	c->status->has_errnum = true;
	c->status->errnum = err;
}

void req_dispatch_refused(struct req_ctx *c, const char *msg)
{
	c->resp->id = c->req->id;
	c->resp->has_id = c->req->has_id;
	req_status(c, ASPACE__STATUS__CODE__QUOTA, msg);
}

void *req_alloc(struct req_ctx *c, size_t size)
{
	void *p = frame_arena_alloc(c->out, size);

	if (p == NULL) {
		/* The response's budget spent is a response too large, not
		 * the host's memory (which INTERNAL says, to be retried). */
		c->status->code = c->out->nomem ?
		    ASPACE__STATUS__CODE__INTERNAL :
		    ASPACE__STATUS__CODE__TOO_LARGE;
		c->status->has_code = true;
		c->status->message = c->out->nomem ? (char *)"out of memory" :
		    (char *)"response over the daemon's size cap";
		c->resp->result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
	}
	return p;
}

char *req_strdup(struct req_ctx *c, const char *s, size_t len)
{
	char *p = frame_arena_alloc(c->out, len + 1);

	if (p == NULL)
		return (char *)"";
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

Aspace__AddrResult *req_addr_result(struct req_ctx *c, unsigned long ret)
{
	Aspace__AddrResult *r;

	if (IS_ERR_VALUE(ret)) {
		req_errno(c, (int)(long)ret);
		return NULL;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL)
		return NULL;
	aspace__addr_result__init(r);
	r->has_addr = true;
	r->addr = ret;
	return r;
}

Aspace__TaskResult *req_task_result(struct req_ctx *c, req_task_fn make)
{
	Aspace__TaskResult *r = req_alloc(c, sizeof(*r));
	struct task *t;
	int err = 0;

	if (r == NULL)
		return NULL;
	if ((t = make(c, &err)) == NULL) {
		req_errno(c, err);
		return NULL;
	}
	aspace__task_result__init(r);
	r->has_task = true;
	r->task = t->pid;
	return r;
}

/* 1 to 63 of [A-Za-z0-9._-], neither "." nor "..". */
bool req_image_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 63 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* Request.task in the locked session, or NULL with the status set. */
static struct task *find_task(struct req_ctx *c, int pid)
{
	struct task *t = pid > 0 ? as_task_lookup(c->ds->s, pid) : NULL;

	if (t == NULL) {
		req_status(c, ASPACE__STATUS__CODE__NO_SUCH_TASK, "no such task");
		return NULL;
	}
	if (__atomic_load_n(&t->vfork_blocked, __ATOMIC_ACQUIRE)) {
		req_status(c, ASPACE__STATUS__CODE__BLOCKED,
		    "the task waits for its vfork child");
		return NULL;
	}
	return t;
}

static int request_pid(const struct req_ctx *c)
{
	return c->req->has_task ? c->req->task : 1;
}

/* The handler; a task's action starts the session (as_session_start()). */
static void run_handler(struct req_ctx *c, const struct request_entry *e)
{
	if (e->flags & REQ_STARTS)
		as_session_start(c->ds->s);
	e->handler(c);
	if (c->ds->s != NULL)		/* not destroyed */
		flush_delayed_fput(c->ds->s);	/* back to user space */
}

/* The handler of e, the session locked, unless the session is dead or
 * the task it needs is not there. */
static void run_locked(struct req_ctx *c, const struct request_entry *e)
{
	if ((c->ds_dead = c->ds->dead))
		req_status(c, ASPACE__STATUS__CODE__NO_SUCH_SESSION,
		    "no such session");
	else if (!(e->flags & REQ_NEEDS_TASK) ||
	    (c->task = find_task(c, request_pid(c))) != NULL)
		run_handler(c, e);
}

/* Run e with the session locked shared and the task's stripe held. */
static void run_read(struct req_ctx *c, const struct request_entry *e)
{
	pthread_mutex_t *tl = dsession_task_lock(c->ds, request_pid(c));

	pthread_rwlock_rdlock(&c->ds->rw);
	pthread_mutex_lock(tl);
	run_locked(c, e);
	pthread_mutex_unlock(tl);
	pthread_rwlock_unlock(&c->ds->rw);
}

/* Run e with the session locked exclusively. */
static void run_write(struct req_ctx *c, const struct request_entry *e)
{
	pthread_rwlock_wrlock(&c->ds->rw);
	run_locked(c, e);
	c->ds_dead = c->ds_dead || c->ds->dead;
	pthread_rwlock_unlock(&c->ds->rw);
}

void req_conn_release(struct server *srv, struct req_conn *rc)
{
	if (rc->cached != NULL)
		stable_put(server_sessions(srv), rc->cached);
	rc->cached = NULL;
}

/* The session named by id, referenced by the connection's cache. */
static struct dsession *conn_session(struct req_ctx *c, const uint8_t *id)
{
	struct req_conn *rc = c->conn;
	struct dsession *ds;

	if (rc->cached != NULL && rc->cached_tenant == rc->tenant &&
	    memcmp(rc->cached->id, id, SESSION_ID_LEN) == 0)
		return rc->cached;
	ds = stable_get(server_sessions(c->srv), id, SESSION_ID_LEN,
	    rc->tenant);
	if (ds == NULL)
		return NULL;
	req_conn_release(c->srv, rc);
	rc->cached = ds;
	rc->cached_tenant = rc->tenant;
	return ds;
}

static void run_entry(struct req_ctx *c, const struct request_entry *e)
{
	const Aspace__Request *r = c->req;

	if (e->mode == LOCK_NONE ||
	    ((e->flags & REQ_SESSION_OPTIONAL) && !r->has_session)) {
		e->handler(c);
		return;
	}
	if (!r->has_session || r->session.len != SESSION_ID_LEN) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "session: 16 bytes needed");
		return;
	}
	if ((c->ds = conn_session(c, r->session.data)) == NULL) {
		req_status(c, ASPACE__STATUS__CODE__NO_SUCH_SESSION,
		    "no such session");
		return;
	}
	if (e->mode == LOCK_SESSION_READ)
		run_read(c, e);
	else
		run_write(c, e);
	if (c->ds_dead) {	/* destroyed: its file, then the shell */
		if (server_persist(c->srv) != NULL)
			persist_forget(server_persist(c->srv), c->ds);
		req_conn_release(c->srv, c->conn);
	} else
		dsession_touch(c->ds);
	c->ds = NULL;
}

/* The RAM of the session the request would make, or 0 if none. */
static unsigned long new_session_ram(struct server *srv,
    const Aspace__Request *r, int op)
{
	const Aspace__SessionCreateRequest *p = NULL;
	struct as_session_params d;

	if (op == ASPACE__REQUEST__OP_SESSION_CREATE)
		p = r->session_create;
	else if (op == ASPACE__REQUEST__OP_RUN_TRACE && !r->has_session &&
	    r->run_trace->has_keep && r->run_trace->keep)
		p = r->run_trace->params;
	else
		return 0;
	if (p != NULL && p->has_ram_bytes)
		return p->ram_bytes;
	as_session_params_default(&d);	/* req_session_params()'s default */
	return d.ram_bytes < server_ram_max(srv) ? d.ram_bytes :
	    server_ram_max(srv);
}

/*
 * Run e if the session it makes may fit under the daemon's budget: a
 * session's RAM over all of it never can, and none can once the budget
 * is nearly spent.  What the sessions hold is what counts (their charge,
 * lib/memcontrol.h), not their RAM sizes: a session's faults, forks and
 * mmaps fail with VM_FAULT_OOM or -ENOMEM when the budget is spent.
 */
static void run_capped(struct req_ctx *c, const struct request_entry *e,
    unsigned long ram)
{
	unsigned long long cap = server_ram_total(c->srv);
	bool over;

	if (!(over = ram > cap || stable_mem_full(server_sessions(c->srv))))
		run_entry(c, e);
	if (over) {
		metrics_inc(MC_LIMIT_RAM);
		log_abuse(ABUSE_LIMITS, LOG_NOTICE, "a session of %lu bytes "
		    "refused: over --ram-total", ram);
		req_status(c, ASPACE__STATUS__CODE__QUOTA,
		    "the daemon's RAM for all sessions is spent");
	}
}

void req_dispatch(struct req_ctx *c)
{
	const struct request_entry *e;
	int op = frame_request_op(c->req);
	unsigned long ram;

	c->resp->id = c->req->id;
	c->resp->has_id = c->req->has_id;
	req_status(c, ASPACE__STATUS__CODE__OK, NULL);
	if (op == -ENOSYS) {
		req_status(c, ASPACE__STATUS__CODE__UNIMPLEMENTED,
		    "unknown op");
		return;
	}
	if (op < 0) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "a request needs exactly one known op");
		return;
	}
	if (!c->conn->authed && op != ASPACE__REQUEST__OP_HELLO) {
		req_status(c, ASPACE__STATUS__CODE__UNAUTHENTICATED,
		    "hello first");
		return;
	}
	if ((e = req_lookup(op)) == NULL) {
		req_status(c, ASPACE__STATUS__CODE__UNIMPLEMENTED,
		    "op not supported by this daemon");
		return;
	}
	ram = new_session_ram(c->srv, c->req, op);
	if (ram > 0 && server_ram_total(c->srv) > 0)
		run_capped(c, e, ram);
	else
		run_entry(c, e);
}

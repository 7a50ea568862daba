/*
 * req-shm.c: System V shared memory (docs/protocol.md, section 6):
 * shmget, shmat, shmdt and shmrm as lib/shm.c's as_shmget(), as_shmat(),
 * as_shmdt() and as_shmrm(), as the trace's commands of those names, by
 * the request's task.
 *
 * Locks: shmat and shmdt act in the task's mm (lib takes its mmap_lock)
 * and on a segment's attach count under the session's s->lock, so they
 * hold the session shared.  shmrm changes the segment table under
 * s->lock too (look-up and mark in one critical section): shared.
 * shmget does not: as_shmget() looks the NAME up and links the new
 * segment in two separate critical sections, so two shmgets of one NAME
 * at once would both make it; it holds the session exclusively.
 */
#include <stdio.h>

#include "mm.h"
#include "req.h"
#include "shm.h"

/* Segment NAME (field "name" of op), checked as the trace checks it:
 * true, or false with BAD_REQUEST. */
static bool shm_name_ok(struct req_ctx *c, const char *op, const char *name)
{
	char msg[64];

	if (name != NULL && req_image_name_ok(name))
		return true;
	snprintf(msg, sizeof(msg), "%s: name: %s", op,
	    name == NULL ? "needed" : "1-63 of [A-Za-z0-9._-]");
	req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST, msg);
	return false;
}

static void do_shmget_req(struct req_ctx *c)
{
	const Aspace__ShmgetRequest *m = c->req->shmget;
	int err;

	if (!shm_name_ok(c, "shmget", m->name))
		return;
	if (!m->has_size) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "shmget: size needed");
		return;
	}
	/* -EEXIST: a NAME used before (the trace's "segment NAME already
	 * used"), as IPC_CREAT | IPC_EXCL would answer. */
	if ((err = as_shmget(c->ds->s, c->task->mm, m->name, m->size)) != 0)
		req_errno(c, err);
}

static void do_shmat_req(struct req_ctx *c)
{
	const Aspace__ShmatRequest *m = c->req->shmat;
	Aspace__AddrResult *r;
	unsigned long ret;

	if (!shm_name_ok(c, "shmat", m->name))
		return;
	if (!m->has_flags) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "shmat: flags needed");
		return;
	}
	/* Other bits of flags are ignored, as do_shmat() ignores them. */
	ret = as_shmat(c->ds->s, c->task->mm, m->name, m->addr, m->flags);
	if ((r = req_addr_result(c, ret)) == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_SHMAT;
	c->resp->shmat = r;
}

static void do_shmdt_req(struct req_ctx *c)
{
	const Aspace__ShmdtRequest *m = c->req->shmdt;
	int err;

	if (!m->has_addr) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "shmdt: addr needed");
		return;
	}
	if ((err = as_shmdt(c->task->mm, m->addr)) != 0)
		req_errno(c, err);
}

static void do_shmrm_req(struct req_ctx *c)
{
	const Aspace__ShmrmRequest *m = c->req->shmrm;
	int err;

	if (!shm_name_ok(c, "shmrm", m->name))
		return;
	if ((err = as_shmrm(c->ds->s, m->name)) != 0)
		req_errno(c, err);
}

const struct request_entry req_shmget_entry = {
	.op = ASPACE__REQUEST__OP_SHMGET,
	.mode = LOCK_SESSION_WRITE,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_shmget_req,
};

const struct request_entry req_shmat_entry = {
	.op = ASPACE__REQUEST__OP_SHMAT,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_shmat_req,
};

const struct request_entry req_shmdt_entry = {
	.op = ASPACE__REQUEST__OP_SHMDT,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_shmdt_req,
};

const struct request_entry req_shmrm_entry = {
	.op = ASPACE__REQUEST__OP_SHMRM,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK | REQ_STARTS,
	.handler = do_shmrm_req,
};

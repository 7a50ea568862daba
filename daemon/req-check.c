/*
 * req-check.c: check (docs/protocol.md, section 9): the core's own
 * consistency check, as_session_validate() (mm_validate() over every mm
 * of the session: the VMA trees and counters, every PTE in a VMA, every
 * page's mapcount equal to the PTEs of all mms).  It reads page tables
 * and counts without their locks, so the session is held exclusively
 * (WRITE): no task runs meanwhile.  A broken invariant is a daemon bug;
 * it is answered CORRUPT with the invariant as the message.
 */
#include "req.h"

static unsigned int count_tasks(struct as_session *s)
{
	struct task *t;
	unsigned int n = 0;

	pthread_mutex_lock(&s->lock);
	for (t = s->tasks; t != NULL; t = t->next)
		n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void do_check_req(struct req_ctx *c)
{
	Aspace__CheckResult *r = req_alloc(c, sizeof(*r));
	const char *problem = NULL;
	unsigned int nmms = 0;
	int err;

	if (r == NULL)
		return;
	if ((err = as_session_validate(c->ds->s, &problem, &nmms)) != 0) {
		req_status(c, ASPACE__STATUS__CODE__INTERNAL,
		    "check: out of memory");
		return;
	}
	if (problem != NULL) {
		req_status(c, ASPACE__STATUS__CODE__CORRUPT, problem);
		return;
	}
	aspace__check_result__init(r);
	r->has_mms = true;
	r->mms = nmms;
	r->has_tasks = true;
	r->tasks = count_tasks(c->ds->s);
	c->resp->result_case = ASPACE__RESPONSE__RESULT_CHECK;
	c->resp->check = r;
}

const struct request_entry req_check_entry = {
	.op = ASPACE__REQUEST__OP_CHECK,
	.mode = LOCK_SESSION_WRITE,
	.flags = 0,
	.handler = do_check_req,
};

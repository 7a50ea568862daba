/*
 * req-session-list.c: session_list (docs/protocol.md, section 5): the
 * tenant's own sessions, never another's.
 */
#include <string.h>

#include "req.h"

#define LIST_MAX 4096	/* beyond any per-tenant cap one may configure */

static Aspace__SessionInfo *info_msg(struct req_ctx *c,
    const struct dsession_info *in)
{
	Aspace__SessionInfo *m = req_alloc(c, sizeof(*m));
	uint8_t *id = req_alloc(c, SESSION_ID_LEN);

	if (m == NULL || id == NULL)
		return NULL;
	aspace__session_info__init(m);
	memcpy(id, in->id, SESSION_ID_LEN);
	m->has_session = true;
	m->session.data = id;
	m->session.len = SESSION_ID_LEN;
	m->label = req_strdup(c, in->label, strlen(in->label));
	m->has_tasks = true;
	m->tasks = in->tasks;
	m->has_created = true;
	m->created = (uint64_t)in->created;
	m->has_ram_bytes = true;
	m->ram_bytes = in->ram_bytes;
	m->has_charged_bytes = true;
	m->charged_bytes = in->charged_bytes;
	return m;
}

static void do_session_list_req(struct req_ctx *c)
{
	struct session_table *st = server_sessions(c->srv);
	unsigned int max = server_max_sessions(c->srv), n, i;
	Aspace__SessionListResult *r = req_alloc(c, sizeof(*r));
	struct dsession_info *infos;

	if (max > LIST_MAX)
		max = LIST_MAX;
	if (r == NULL || (infos = req_alloc(c, sizeof(*infos) * max)) == NULL)
		return;
	n = stable_list(st, c->conn->tenant, infos, max);
	if (n > max)
		n = max;
	aspace__session_list_result__init(r);
	r->sessions = req_alloc(c, sizeof(*r->sessions) * (n ? n : 1));
	if (r->sessions == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((r->sessions[i] = info_msg(c, &infos[i])) == NULL)
			return;
	r->n_sessions = n;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_SESSION_LIST;
	c->resp->session_list = r;
}

const struct request_entry req_session_list_entry = {
	.op = ASPACE__REQUEST__OP_SESSION_LIST,
	.mode = LOCK_NONE,
	.flags = 0,
	.handler = do_session_list_req,
};

/*
 * aspace-requests.c: libaspace-client's requests (aspace-client.h): hello,
 * the sessions (create, destroy, list), run_trace and its result, and
 * session ids as hex.  Each builds its request, makes the call through
 * the transport (aspace-client.c) and copies what it needs out of the
 * reply before freeing it.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aspace-client.h"
#include "aspace-client-priv.h"
#include "frame.h"

int asc_hello(struct asc_client *c, const char *token, struct asc_status *st)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;
	const Aspace__HelloResult *res;
	struct asc_reply *rp;

	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	h.token = (char *)token;
	h.client = (char *)"libaspace-client/" PACKAGE_VERSION;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	if (asc_priv_call_ok(c, &r, ASPACE__RESPONSE__RESULT_HELLO, &rp,
	    st) != 0)
		return -1;
	res = rp->resp->hello;
	c->max_body = FRAME_MAX_BODY_DEFAULT;
	if (res->limits != NULL && res->limits->has_max_body)
		c->max_body = res->limits->max_body;
	if (res->tenant != NULL)
		snprintf(c->tenant, sizeof(c->tenant), "%s", res->tenant);
	asc_reply_free(rp);
	return 0;
}

static void set_session(Aspace__Request *r, const uint8_t *id)
{
	r->has_session = true;
	r->session.data = (uint8_t *)id;
	r->session.len = ASC_SESSION_ID_LEN;
}

int asc_session_create(struct asc_client *c,
    const Aspace__SessionCreateRequest *params,
    uint8_t id[ASC_SESSION_ID_LEN], struct asc_status *st)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest dflt = ASPACE__SESSION_CREATE_REQUEST__INIT;
	const Aspace__SessionCreateResult *res;
	struct asc_reply *rp;

	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = (Aspace__SessionCreateRequest *)
	    (params != NULL ? params : &dflt);
	if (asc_priv_call_ok(c, &r, ASPACE__RESPONSE__RESULT_SESSION_CREATE, &rp,
	    st) != 0)
		return -1;
	res = rp->resp->session_create;
	if (!res->has_session || res->session.len != ASC_SESSION_ID_LEN) {
		asc_reply_free(rp);
		return asc_priv_fail(st, EPROTO,
		    "a session id of the wrong size");
	}
	memcpy(id, res->session.data, ASC_SESSION_ID_LEN);
	asc_reply_free(rp);
	return 0;
}

int asc_session_destroy(struct asc_client *c,
    const uint8_t id[ASC_SESSION_ID_LEN], struct asc_status *st)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionDestroyRequest d = ASPACE__SESSION_DESTROY_REQUEST__INIT;
	struct asc_reply *rp;

	r.op_case = ASPACE__REQUEST__OP_SESSION_DESTROY;
	r.session_destroy = &d;
	set_session(&r, id);
	if (asc_priv_call_ok(c, &r, 0, &rp, st) != 0)
		return -1;
	asc_reply_free(rp);
	return 0;
}

int asc_session_list(struct asc_client *c, struct asc_session_info **out,
    size_t *n, struct asc_status *st)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionListRequest l = ASPACE__SESSION_LIST_REQUEST__INIT;
	const Aspace__SessionListResult *res;
	struct asc_session_info *v;
	struct asc_reply *rp;
	size_t i;

	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &l;
	if (asc_priv_call_ok(c, &r, ASPACE__RESPONSE__RESULT_SESSION_LIST, &rp,
	    st) != 0)
		return -1;
	res = rp->resp->session_list;
	if ((v = calloc(res->n_sessions + 1, sizeof(*v))) == NULL) {
		asc_reply_free(rp);
		return asc_priv_fail(st, ENOMEM, "out of memory");
	}
	for (i = 0; i < res->n_sessions; i++) {
		const Aspace__SessionInfo *s = res->sessions[i];

		if (s->has_session && s->session.len == ASC_SESSION_ID_LEN)
			memcpy(v[i].id, s->session.data, ASC_SESSION_ID_LEN);
		if (s->label != NULL)
			snprintf(v[i].label, sizeof(v[i].label), "%s",
			    s->label);
		v[i].tasks = s->tasks;
		v[i].created = s->created;
		v[i].ram_bytes = s->ram_bytes;
	}
	*out = v;
	*n = res->n_sessions;
	asc_reply_free(rp);
	return 0;
}

void asc_run_trace_request(Aspace__Request *r, Aspace__RunTraceRequest *t,
    const uint8_t *session, const void *text, size_t len,
    const Aspace__SessionCreateRequest *params)
{
	aspace__request__init(r);
	aspace__run_trace_request__init(t);
	t->has_text = true;
	t->text.data = (uint8_t *)text;
	t->text.len = len;
	t->params = (Aspace__SessionCreateRequest *)params;
	r->op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r->run_trace = t;
	if (session != NULL)
		set_session(r, session);
}

int asc_trace_result_from(const struct asc_reply *rp,
    struct asc_trace_result *res, struct asc_status *st)
{
	const Aspace__RunTraceResult *t;

	int rc;

	memset(res, 0, sizeof(*res));
	rc = asc_reply_status(rp, st);
	/* A trace stopped by a budget or cancelled (QUOTA, CANCELLED)
	 * carries its output so far: kept in res, and -1. */
	if (rc != 0 && rp->resp->result_case !=
	    ASPACE__RESPONSE__RESULT_RUN_TRACE)
		return -1;
	if (rp->resp->result_case != ASPACE__RESPONSE__RESULT_RUN_TRACE)
		return asc_priv_fail(st, EPROTO, "a response without its result");
	t = rp->resp->run_trace;
	if ((res->output = malloc(t->output.len + 1)) == NULL)
		return asc_priv_fail(st, ENOMEM, "out of memory");
	if (t->output.len > 0)
		memcpy(res->output, t->output.data, t->output.len);
	res->output[t->output.len] = '\0';
	res->len = t->output.len;
	res->errors = t->errors;
	res->truncated = t->has_truncated && t->truncated;
	if (asc_trace_explain_from(res, t) != 0)
		return asc_priv_fail(st, ENOMEM, "out of memory");
	if (t->has_session && t->session.len == ASC_SESSION_ID_LEN) {
		memcpy(res->session, t->session.data, ASC_SESSION_ID_LEN);
		res->has_session = 1;
	}
	return rc != 0 ? -1 : 0;
}

int asc_run_trace(struct asc_client *c, const uint8_t *session,
    const void *text, size_t len, const Aspace__SessionCreateRequest *params,
    struct asc_trace_result *res, struct asc_status *st)
{
	return asc_run_trace_ex(c, session, text, len, params, 0, res, st);
}

int asc_run_trace_ex(struct asc_client *c, const uint8_t *session,
    const void *text, size_t len, const Aspace__SessionCreateRequest *params,
    int flags, struct asc_trace_result *res, struct asc_status *st)
{
	Aspace__Request r;
	Aspace__RunTraceRequest t;
	struct asc_reply *rp;
	int rc;

	memset(res, 0, sizeof(*res));
	asc_run_trace_request(&r, &t, session, text, len, params);
	t.has_keep = (flags & ASC_TRACE_KEEP) != 0;
	t.keep = t.has_keep;
	t.has_resume = (flags & ASC_TRACE_RESUME) != 0;
	t.resume = t.has_resume;
	t.has_explain = (flags & ASC_TRACE_EXPLAIN) != 0;
	t.explain = t.has_explain;
	if (asc_call(c, &r, &rp, st) != 0)
		return -1;
	rc = asc_trace_result_from(rp, res, st);
	asc_reply_free(rp);
	return rc;
}

void asc_trace_result_free(struct asc_trace_result *res)
{
	free(res->output);
	res->output = NULL;
	asc_trace_explain_free(res);
}

char *asc_session_hex(const uint8_t id[ASC_SESSION_ID_LEN], char buf[33])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < ASC_SESSION_ID_LEN; i++) {
		buf[2 * i] = hex[id[i] >> 4];
		buf[2 * i + 1] = hex[id[i] & 15];
	}
	buf[32] = '\0';
	return buf;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int asc_session_parse(const char *s, uint8_t id[ASC_SESSION_ID_LEN])
{
	int i, hi, lo;

	if (strlen(s) != 2 * ASC_SESSION_ID_LEN)
		return -1;
	for (i = 0; i < ASC_SESSION_ID_LEN; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			return -1;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * req-web-token.c: web_token (docs/protocol.md section 9, docs/web.md): a
 * one-time login token for the web listener, bound to the caller's
 * tenant and, with Request.session, to that session (which must be the
 * tenant's: the table's lookup checks it before the handler runs).  The
 * URL carries the token in its fragment, which a browser never sends, so
 * that it stays out of logs and Referer headers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "req.h"
#include "web-auth.h"

static void token_failed(struct req_ctx *c, int err)
{
	if (err == -E2BIG)
		req_status(c, ASPACE__STATUS__CODE__TOO_LARGE,
		    "web_token: a trace of at most 256 KiB");
	else if (err == -EDQUOT)
		req_status(c, ASPACE__STATUS__CODE__QUOTA,
		    "web_token: too many traces wait for their login");
	else
		req_status(c, ASPACE__STATUS__CODE__INTERNAL,
		    err == -ENOMEM ? "out of memory" : "no randomness");
}

static void do_web_token_req(struct req_ctx *c)
{
	struct web_auth *wa = server_web_auth(c->srv);
	const Aspace__WebTokenRequest *m = c->req->web_token;
	Aspace__WebTokenResult *r;
	int err;
	char hex[WEB_SECRET_HEX + 1], base[160], url[400], sid[33] = "";
	size_t i;

	if (wa == NULL) {
		req_status(c, ASPACE__STATUS__CODE__UNIMPLEMENTED,
		    "the web listener is off (web-listen)");
		return;
	}
	if ((r = req_alloc(c, sizeof(*r))) == NULL)
		return;
	if ((err = web_auth_token(wa, c->conn->tenant, c->ds != NULL ?
	    c->ds->id : NULL, m->has_trace ? (const char *)m->trace.data :
	    NULL, m->trace.len, hex)) != 0) {
		token_failed(c, err);
		return;
	}
	for (i = 0; c->ds != NULL && i < SESSION_ID_LEN; i++)
		snprintf(sid + 2 * i, 3, "%02x", c->ds->id[i]);
	server_web_address(c->srv, base, sizeof(base));
	snprintf(url, sizeof(url), "%s/#token=%s%s%s", base, hex,
	    sid[0] != '\0' ? "&session=" : "", sid);
	aspace__web_token_result__init(r);
	r->token = req_strdup(c, hex, strlen(hex));
	r->url = req_strdup(c, url, strlen(url));
	r->has_ttl_s = true;
	r->ttl_s = WEB_LOGIN_TTL_S;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_WEB_TOKEN;
	c->resp->web_token = r;
}

const struct request_entry req_web_token_entry = {
	.op = ASPACE__REQUEST__OP_WEB_TOKEN,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_SESSION_OPTIONAL,
	.handler = do_web_token_req,
};

/*
 * req-hello.c: hello (docs/protocol.md, section 4).  On the Unix socket
 * the tenant is the peer's uid, known at accept; on TLS it is the client
 * certificate's subject, or else the owner of the token hello carries
 * (server_authenticate, server.c).  hello checks the protocol version,
 * authenticates, opens the larger body cap and reports the tenant and
 * the limits.  A refused hello is UNAUTHENTICATED and the server closes
 * the connection; a hello on an authenticated connection changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

#include "req.h"
#include "server.h"
#include "tokens.h"

#define ASPACED_SERVER_NAME	"aspaced/" PACKAGE_VERSION

static Aspace__Limits *hello_limits(struct req_ctx *c)
{
	Aspace__Limits *l = req_alloc(c, sizeof(*l));

	if (l == NULL)
		return NULL;
	aspace__limits__init(l);
	l->has_max_body = true;
	l->max_body = c->conn->max_body;
	l->has_max_rw_bytes = true;
	l->max_rw_bytes = FRAME_MAX_RW_BYTES;
	l->has_max_sessions = true;
	l->max_sessions = server_max_sessions(c->srv);
	return l;
}

static void do_hello_req(struct req_ctx *c)
{
	const Aspace__HelloRequest *h = c->req->hello;
	Aspace__HelloResult *r = req_alloc(c, sizeof(*r));
	char tenant[TENANT_NAME_MAX + 1];

	if (r == NULL)
		return;
	aspace__hello_result__init(r);
	r->has_version = true;
	r->version = ASPACE_PROTOCOL_VERSION;
	r->server = (char *)ASPACED_SERVER_NAME;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_HELLO;
	c->resp->hello = r;
	if (!h->has_version || h->version != ASPACE_PROTOCOL_VERSION) {
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "protocol version 1 needed");
		c->resp->result_case = ASPACE__RESPONSE__RESULT_HELLO;
		return;
	}
	if (!c->conn->authed && server_authenticate(c->srv, c->conn, h->token,
	    h->token != NULL ? strlen(h->token) : 0) != 0) {
		req_status(c, ASPACE__STATUS__CODE__UNAUTHENTICATED,
		    h->token != NULL ? "token refused" :
		    "a client certificate or a token is needed");
		c->resp->result_case = ASPACE__RESPONSE__RESULT_HELLO;
		return;
	}
	c->conn->authed = true;
	if (server_tenant_name(c->srv, c->conn, tenant, sizeof(tenant)))
		r->tenant = req_strdup(c, tenant, strlen(tenant));
	r->limits = hello_limits(c);
}

const struct request_entry req_hello_entry = {
	.op = ASPACE__REQUEST__OP_HELLO,
	.mode = LOCK_NONE,
	.flags = 0,
	.handler = do_hello_req,
};

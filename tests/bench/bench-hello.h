/*
 * bench-hello.h: the hello request of the load tools (aspace-bench,
 * aspace-scale): the protocol version, a token for TLS, and the tool's
 * name as the client.
 */
#ifndef ASPACE_BENCH_HELLO_H
#define ASPACE_BENCH_HELLO_H

#include "frame.h"

static inline void bench_hello(Aspace__Request *r, Aspace__HelloRequest *h,
    const char *token, const char *client)
{
	aspace__request__init(r);
	aspace__hello_request__init(h);
	h->has_version = true;
	h->version = ASPACE_PROTOCOL_VERSION;
	h->token = (char *)token;
	h->client = (char *)client;
	r->op_case = ASPACE__REQUEST__OP_HELLO;
	r->hello = h;
	r->has_id = true;
	r->id = 1;
}

#endif /* ASPACE_BENCH_HELLO_H */

/*
 * aspace-client-priv.h: what the two halves of libaspace-client share
 * and its users do not see (not installed): the client and reply
 * structures, and the helpers of aspace-client.c (the transport) that
 * aspace-requests.c (the requests) calls.
 */
#ifndef ASPACE_CLIENT_PRIV_H
#define ASPACE_CLIENT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "aspace-client.h"
#include "frame.h"

struct asc_reply {
	struct asc_reply   *next;	/* on the kept list */
	Aspace__Response   *resp;	/* in arena */
	uint8_t		   *body;
	struct frame_arena  arena;
};

struct asc_client {
	int		  fd;
	SSL_CTX		 *ctx;		/* tls:// only */
	SSL		 *ssl;
	uint64_t	  next_id;
	size_t		  max_body;	/* request body cap */
	struct asc_reply *kept;		/* read, not yet claimed; oldest first */
	char		  tenant[128];
	bool		  broken;	/* an I/O or framing failure: no more */
	bool		  peer_closed;	/* a send found the daemon gone: what
					 * it said last may still be read */
};

/* Not exported by libaspace-client.so: the library's own. */
#define ASC_PRIV	__attribute__((visibility("hidden")))

/* A local failure: errno err (may be 0) and a formatted message; -1. */
ASC_PRIV __attribute__((format(printf, 3, 4)))
int asc_priv_fail(struct asc_status *st, int err, const char *fmt, ...);
/* Call r and check that the response is OK with result case want (0:
 * any); the reply in *out.  0, or -1. */
ASC_PRIV int asc_priv_call_ok(struct asc_client *c, Aspace__Request *r, int want,
    struct asc_reply **out, struct asc_status *st);

#endif /* ASPACE_CLIENT_PRIV_H */

/*
 * aspace-client.h: libaspace-client, a small blocking C client of aspaced
 * (docs/protocol.md).
 *
 *   struct asc_status st;
 *   struct asc_client *c = asc_connect("unix:/run/aspaced/aspaced.sock", &st);
 *   if (c == NULL || asc_hello(c, NULL, &st) != 0)
 *           ... st.code, st.errname, st.message say why ...
 *   asc_run_trace(c, NULL, text, len, NULL, &res, &st);
 *   asc_close(c);
 *
 * Requests are the protocol's own messages (Aspace__Request, from
 * proto/aspace.proto through protobuf-c).  asc_send() sends one with the
 * id the client chose; asc_wait() returns the response with a given id,
 * keeping any others that arrive first for their own asc_wait(), so that
 * several requests may be in flight (pipelining) and answered in any
 * order; asc_recv() returns the next response off the wire, whatever its
 * id.  A response is an asc_reply that the caller frees.
 *
 * Errors: calls return 0 for success and -1 for failure with *st (when
 * st is not NULL) describing it: a status the daemon answered (its code,
 * errno name and number, message), or ASC_LOCAL for a failure on this
 * side (connect, I/O, a malformed frame from the peer, an unsupported
 * URL), with the local errno in errnum and its name in errname.
 *
 * A connection is not thread-safe: use one per thread, or lock around it.
 */
#ifndef ASPACE_CLIENT_H
#define ASPACE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "aspace.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ASC_SESSION_ID_LEN	16
#define ASC_LOCAL		(-1)	/* asc_status.code: a local failure */

struct asc_status {
	int	code;		/* ASPACE__STATUS__CODE__*, or ASC_LOCAL */
	int	errnum;		/* ERRNO: Linux's number; ASC_LOCAL: errno */
	char	errname[32];	/* "ENOMEM"..., or empty */
	char	message[256];	/* for people */
};

struct asc_client;
struct asc_reply;

/* The name of a status code ("OK", "NO_SUCH_SESSION", "LOCAL"...). */
const char *asc_code_name(int code);

/*
 * Format st as "NO_SUCH_SESSION: message" or "ERRNO ENOMEM: message"
 * into buf; returns buf.
 */
char *asc_status_str(const struct asc_status *st, char *buf, size_t size);

/* TLS options for tls:// URLs; any member may be NULL. */
struct asc_tls_opts {
	const char	*ca;	/* PEM CA(s) the server is verified against;
				   NULL: the system's default trust store */
	const char	*cert;	/* PEM client certificate (chain)... */
	const char	*key;	/* ...and its key: both or neither */
};

/*
 * Connect to a URL: "unix:PATH" or "tls://HOST:PORT" ("[V6]:PORT" too).
 * TLS is 1.2 or later; the server's certificate must verify against the
 * CA and name HOST (a DNS name, or an IP address SAN).  NULL on failure.
 * asc_connect() is asc_connect_tls() without options.
 */
struct asc_client *asc_connect(const char *url, struct asc_status *st);
struct asc_client *asc_connect_tls(const char *url,
    const struct asc_tls_opts *tls, struct asc_status *st);
/* Close (a TLS connection with a close_notify first) and free c. */
void asc_close(struct asc_client *c);
/* The connection's socket (for poll()), or -1. */
int asc_fd(const struct asc_client *c);

/*
 * hello: protocol version 1, with a bearer token unless token is NULL.
 * Afterwards asc_max_body() is the daemon's body cap.
 */
int asc_hello(struct asc_client *c, const char *token,
    struct asc_status *st);
/* The largest request body the daemon accepts now. */
size_t asc_max_body(const struct asc_client *c);
/* The tenant hello reported ("" before hello). */
const char *asc_tenant(const struct asc_client *c);

/* --- requests and responses ----------------------------------------------- */

/* A fresh id (1, 2, ...), never one this connection handed out before. */
uint64_t asc_next_id(struct asc_client *c);

/*
 * Send r.  Without r->has_id, an id from asc_next_id() is set in r.
 * Requests over the body cap are refused here (TOO_LARGE) unsent.
 */
int asc_send(struct asc_client *c, Aspace__Request *r, struct asc_status *st);

/*
 * The response to request id: one kept from an earlier read, or read
 * from the wire now (responses to other ids are kept for later).  A
 * frame-level error the daemon answers with id 0 is returned to whoever
 * waits, since it is not known which request it answers.
 * Returns 0 with *out set (free it), whatever the response's status.
 */
int asc_wait(struct asc_client *c, uint64_t id, struct asc_reply **out,
    struct asc_status *st);

/* The next response: a kept one first, else the next off the wire. */
int asc_recv(struct asc_client *c, struct asc_reply **out,
    struct asc_status *st);

/* asc_send() then asc_wait() for its id. */
int asc_call(struct asc_client *c, Aspace__Request *r, struct asc_reply **out,
    struct asc_status *st);

/* The decoded response; it lives as long as the reply. */
const Aspace__Response *asc_reply_response(const struct asc_reply *rp);
uint64_t asc_reply_id(const struct asc_reply *rp);
/* 0 if the response's status is OK, else -1 with *st filled. */
int asc_reply_status(const struct asc_reply *rp, struct asc_status *st);
void asc_reply_free(struct asc_reply *rp);

/* --- conveniences ---------------------------------------------------------- */

/* session_create; params may be NULL (the daemon's defaults). */
int asc_session_create(struct asc_client *c,
    const Aspace__SessionCreateRequest *params,
    uint8_t id[ASC_SESSION_ID_LEN], struct asc_status *st);
int asc_session_destroy(struct asc_client *c,
    const uint8_t id[ASC_SESSION_ID_LEN], struct asc_status *st);

struct asc_session_info {
	uint8_t		id[ASC_SESSION_ID_LEN];
	char		label[65];
	uint32_t	tasks;
	uint64_t	created;	/* seconds since the epoch */
	uint64_t	ram_bytes;
};

/* session_list: *out a malloc'ed array of *n entries (free() it). */
int asc_session_list(struct asc_client *c, struct asc_session_info **out,
    size_t *n, struct asc_status *st);

/* The path one trace line's command took (ASC_TRACE_EXPLAIN). */
struct asc_line_explain {
	uint64_t	 line;		/* the trace line */
	char		*text;		/* steps joined by " -> " */
};

struct asc_trace_result {
	char		*output;	/* malloc'ed, NUL-terminated too */
	size_t		 len;		/* output bytes */
	uint32_t	 errors;	/* "! error" lines */
	int		 truncated;	/* output stopped at the daemon's cap */
	uint8_t		 session[ASC_SESSION_ID_LEN];	/* with keep */
	int		 has_session;
	/* With ASC_TRACE_EXPLAIN: the commands' paths, in line order. */
	struct asc_line_explain *explain;
	size_t		 n_explain;
};

/*
 * run_trace: text in session (NULL: a fresh one made from params, which
 * may be NULL for the defaults).  res->output is to be freed with
 * asc_trace_result_free(), after a failure too: a trace the daemon
 * stopped (QUOTA for a budget, CANCELLED) returns -1 with its output so
 * far in res.
 */
int asc_run_trace(struct asc_client *c, const uint8_t *session,
    const void *text, size_t len, const Aspace__SessionCreateRequest *params,
    struct asc_trace_result *res, struct asc_status *st);
void asc_trace_result_free(struct asc_trace_result *res);
/* The explanation of trace line n in res, or NULL (aspace-client-explain.c). */
const char *asc_trace_explain(const struct asc_trace_result *res, uint64_t n);
/* Copy a run_trace reply's explanations into res: 0, or -1 (no memory). */
int asc_trace_explain_from(struct asc_trace_result *res,
    const Aspace__RunTraceResult *t);
void asc_trace_explain_free(struct asc_trace_result *res);
/* asc_run_trace() with flags: */
#define ASC_TRACE_KEEP		0x1	/* fresh session kept: res->session */
#define ASC_TRACE_RESUME	0x2	/* in session, from its last trace's end */
#define ASC_TRACE_EXPLAIN	0x4	/* record each command's path */
int asc_run_trace_ex(struct asc_client *c, const uint8_t *session,
    const void *text, size_t len, const Aspace__SessionCreateRequest *params,
    int flags, struct asc_trace_result *res, struct asc_status *st);

/* Build (without sending) a run_trace request: r and t are the caller's. */
void asc_run_trace_request(Aspace__Request *r, Aspace__RunTraceRequest *t,
    const uint8_t *session, const void *text, size_t len,
    const Aspace__SessionCreateRequest *params);
/* Fill res from a run_trace reply; -1 with *st if it is not OK (res
 * then holds the output so far of a stopped trace, if any). */
int asc_trace_result_from(const struct asc_reply *rp,
    struct asc_trace_result *res, struct asc_status *st);

/* Session ids as 32 lowercase hex digits (buf of 33) and back (0 or -1). */
char *asc_session_hex(const uint8_t id[ASC_SESSION_ID_LEN], char buf[33]);
int asc_session_parse(const char *hex, uint8_t id[ASC_SESSION_ID_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* ASPACE_CLIENT_H */

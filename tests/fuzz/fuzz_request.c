/*
 * fuzz_request.c: libFuzzer target for aspaced's request handling
 * (daemon/req.c, daemon/req-*.c, daemon/session-table.c), in-process and
 * without sockets.
 *
 * An input is read in one of two ways.  One that begins with the frame
 * magic "ASPC" is a byte stream from one client, read as server.c's
 * conn_frame() and conn_request() read it: frame after frame, each header
 * checked against the pre-authentication cap until a hello succeeds and
 * against the connection's body cap after; each body decoded into a
 * budgeted arena, run by req_dispatch() with a fake connection (struct
 * req_conn) and answered with a Response that is framed with
 * frame_encode() into a buffer, as conn_send() would.  The stream stops
 * at the first bad or incomplete frame, or after a refused hello, as the
 * daemon closes the connection then.
 *
 * Any other input is a session script, where the stateful paths (mmap,
 * then access, then fork, then access again...) are a few bytes away:
 * the target says hello and creates a session (SCRIPT_RAM of RAM) itself,
 * then reads records, each a 2-byte big-endian length and a Request body
 * (a length past the end takes the rest), and runs them in order on the
 * same connection; a request without a session goes to that session.
 * gen-request-seeds.c writes such scripts for the corpus.
 *
 * The functions server.c gives handlers (req.h, server.h) are supplied
 * here: a fresh session table per input with small caps, and a hello
 * that accepts any token (the tenant is 1, or 2 for the token "other",
 * so that tenant isolation is exercised too).
 *
 * Session ids are 128 random bits the fuzzer cannot guess; so a request
 * whose session is 16 bytes of which the first 15 are zero names the
 * session created k-th in this input (k = the last byte, modulo how many
 * there are).  Every session is destroyed at the end of an input.
 *
 * Checks beyond the sanitizers, abort()ing when they fail: every
 * response has a status with a code, echoes the request's id, and frames
 * (its result case set only with a result); the arenas stay in budget.
 * With FUZZ_REQUEST_VERBOSE set in the environment, each request's op and
 * status are printed to stderr (to check what a seed reaches).
 *
 * Without libFuzzer, replay.c supplies main() and runs files through
 * LLVMFuzzerTestOneInput().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "pool.h"
#include "req.h"
#include "server.h"
#include "session-table.h"
#include "tokens.h"

#define MAX_FRAMES	64
#define MAX_BODY	(64u * 1024)		/* after hello */
#define OUT_BUDGET	(4u << 20)		/* as server.c's RESPONSE_ARENA */
#define MAX_SESSIONS	4			/* per tenant */
#define MAX_SESSIONS_ALL 8
#define TRACE_OUT_MAX	(64u * 1024)
#define RAM_MAX		(64ul << 20)
#define KNOWN_MAX	16			/* sessions remembered by index */
#define SCRIPT_RAM	(16ul << 20)
#define SETUP_MAX	64			/* a packed setup request */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct server {
	struct session_table sessions;
};

static struct server fsrv;

struct persist *server_persist(struct server *srv)
{
	(void)srv;
	return NULL;
}

struct session_table *server_sessions(struct server *srv)
{
	return &srv->sessions;
}

size_t server_trace_output_max(struct server *srv)
{
	(void)srv;
	return TRACE_OUT_MAX;
}

unsigned long server_ram_max(struct server *srv)
{
	(void)srv;
	return RAM_MAX;
}

unsigned int server_max_sessions(struct server *srv)
{
	(void)srv;
	return MAX_SESSIONS;
}

int server_authenticate(struct server *srv, struct req_conn *rc,
    const char *token, size_t len)
{
	(void)srv;
	if (token != NULL && len == 0)
		return -EACCES;		/* an empty token is refused */
	rc->tenant = token != NULL && len == 5 &&
	    memcmp(token, "other", 5) == 0 ? 2 : 1;
	return 0;
}

bool server_tenant_name(struct server *srv, const struct req_conn *rc,
    char *buf, size_t size)
{
	(void)srv;
	return snprintf(buf, size, "token:fuzz%u", (unsigned)rc->tenant) <
	    (int)size;
}

/* No daemon-wide RAM cap here: 0 turns it off. */
unsigned long long server_ram_total(struct server *srv)
{
	(void)srv;
	return 0;
}

/* A run_trace's budgets: a second of CPU and 100000 lines, so that no
 * input runs long; no pool, no drain. */
unsigned int server_request_cpu_ms(struct server *srv)
{
	(void)srv;
	return 1000;
}

unsigned int server_trace_line_limit(struct server *srv)
{
	(void)srv;
	return 100000;
}

struct pool *server_pool(struct server *srv)
{
	(void)srv;
	return NULL;
}

bool server_cancelled(struct server *srv)
{
	(void)srv;
	return false;
}

/* No web listener: web_token answers UNIMPLEMENTED. */
struct web_auth *server_web_auth(struct server *srv)
{
	(void)srv;
	return NULL;
}

void server_web_address(struct server *srv, char *buf, size_t size)
{
	(void)srv;
	snprintf(buf, size, "http://none");
}

bool pool_yield(struct pool *p, struct pool_job *j)
{
	(void)p;
	(void)j;
	return false;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_request: check failed: %s\n", what);
		abort();
	}
}

/* The sessions this input created, in order. */
static uint8_t known[KNOWN_MAX][SESSION_ID_LEN];
static unsigned int nknown;

static const uint8_t zero15[SESSION_ID_LEN - 1];
static bool script;		/* this input is a session script */
static int verbose = -1;	/* FUZZ_REQUEST_VERBOSE is set */

/* A session 0...0k stands for the k-th session created; in a script, no
 * session stands for the first. */
static void map_session(Aspace__Request *r)
{
	if (script && !r->has_session && nknown > 0) {
		r->has_session = true;
		r->session.len = SESSION_ID_LEN;
		r->session.data = known[0];
		return;
	}
	if (!r->has_session || r->session.len != SESSION_ID_LEN ||
	    nknown == 0 || memcmp(r->session.data, zero15, sizeof(zero15)))
		return;
	r->session.data = known[r->session.data[SESSION_ID_LEN - 1] % nknown];
}

/* With FUZZ_REQUEST_VERBOSE: the request's task and op, and its status. */
static void say(const Aspace__Request *req, const Aspace__Status *st)
{
	if (verbose == -1)
		verbose = getenv("FUZZ_REQUEST_VERBOSE") != NULL;
	if (!verbose)
		return;
	fprintf(stderr, "fuzz_request: task %d op %d: status %d%s%s%s%s\n",
	    req->has_task ? req->task : 1, (int)req->op_case, (int)st->code,
	    st->errname ? " " : "", st->errname ? st->errname : "",
	    st->message ? ": " : "", st->message ? st->message : "");
}

static void note_session(const Aspace__Response *resp)
{
	const ProtobufCBinaryData *id = NULL;

	if (resp->status->code != ASPACE__STATUS__CODE__OK)
		return;
	if (resp->result_case == ASPACE__RESPONSE__RESULT_SESSION_CREATE &&
	    resp->session_create != NULL &&
	    resp->session_create->has_session)
		id = &resp->session_create->session;
	else if (resp->result_case == ASPACE__RESPONSE__RESULT_RUN_TRACE &&
	    resp->run_trace != NULL && resp->run_trace->has_session)
		id = &resp->run_trace->session;
	if (id == NULL || nknown == KNOWN_MAX)
		return;
	check(id->len == SESSION_ID_LEN, "session id length");
	memcpy(known[nknown++], id->data, SESSION_ID_LEN);
}

/* Frame resp as conn_send() does; the response must pack. */
static void send_response(Aspace__Response *resp)
{
	size_t size = frame_encoded_size(&resp->base);
	uint8_t *buf;
	long n;

	if (size - FRAME_HEADER_SIZE > FRAME_MAX_BODY_LIMIT) {
		resp->result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
		resp->status->code = ASPACE__STATUS__CODE__TOO_LARGE;
		size = frame_encoded_size(&resp->base);
	}
	buf = malloc(size);
	check(buf != NULL, "malloc");
	n = frame_encode(&resp->base, 0, buf, size);
	check(n >= 0 && (size_t)n == size, "response frames");
	free(buf);
}

/* conn_request(): false when the connection would close. */
static bool one_request(struct req_conn *rc, struct frame_arena *in,
    struct frame_arena *out, const uint8_t *body, size_t len)
{
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__Request *req = NULL;
	struct req_ctx x;
	bool was_authed = rc->authed, refused = false;
	int err;

	memset(&x, 0, sizeof(x));
	x.srv = &fsrv;
	x.conn = rc;
	x.resp = &resp;
	x.status = &st;
	x.out = out;
	as_buf_init(&x.buf, 0);
	resp.status = &st;
	err = frame_decode_request(in, body, len, &req);
	check(in->spent <= in->budget, "request budget");
	if (err != 0) {
		check(err == -EBADMSG || err == -ENOBUFS || err == -ENOMEM,
		    "decode result");
		req_status(&x, err == -ENOBUFS ?
		    ASPACE__STATUS__CODE__TOO_LARGE :
		    ASPACE__STATUS__CODE__BAD_REQUEST, "bad body");
	} else {
		map_session(req);
		x.req = req;
		req_dispatch(&x);
		check(resp.status == &st && st.has_code, "a status code");
		check(resp.has_id == req->has_id &&
		    (!req->has_id || resp.id == req->id), "id echoed");
		if (req->op_case == ASPACE__REQUEST__OP_HELLO && !rc->authed &&
		    st.code == ASPACE__STATUS__CODE__UNAUTHENTICATED)
			refused = true;
		note_session(&resp);
		say(req, &st);
	}
	check(out->spent <= out->budget, "response budget");
	send_response(&resp);
	as_buf_free(&x.buf);
	frame_arena_reset(in);
	frame_arena_reset(out);
	if (rc->authed != was_authed) {
		frame_arena_free(in);
		frame_arena_init(in, FRAME_ARENA_BUDGET(rc->max_body));
	}
	return !refused;
}

/* Pack m and run it as the body of a request the target makes itself. */
static void run_packed(struct req_conn *rc, struct frame_arena *in,
    struct frame_arena *out, const Aspace__Request *m)
{
	uint8_t body[SETUP_MAX];
	size_t len = protobuf_c_message_get_packed_size(&m->base);

	check(len <= sizeof(body), "setup request size");
	protobuf_c_message_pack(&m->base, body);
	(void)one_request(rc, in, out, body, len);
}

/* A script's hello and session. */
static void script_setup(struct req_conn *rc, struct frame_arena *in,
    struct frame_arena *out)
{
	Aspace__Request hello = ASPACE__REQUEST__INIT;
	Aspace__Request create = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;
	Aspace__SessionCreateRequest sc = ASPACE__SESSION_CREATE_REQUEST__INIT;

	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	h.token = (char *)"fuzz";
	hello.op_case = ASPACE__REQUEST__OP_HELLO;
	hello.hello = &h;
	sc.has_ram_bytes = true;
	sc.ram_bytes = SCRIPT_RAM;
	create.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	create.session_create = &sc;
	run_packed(rc, in, out, &hello);
	run_packed(rc, in, out, &create);
	check(rc->authed && nknown == 1, "script setup");
}

/* Records of a 2-byte big-endian length and a body, on one session. */
static void run_script(struct req_conn *rc, struct frame_arena *in,
    struct frame_arena *out, const uint8_t *data, size_t size)
{
	size_t off = 0, len;
	int i;

	script_setup(rc, in, out);
	for (i = 0; i < MAX_FRAMES && size - off >= 2; i++) {
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		if (!one_request(rc, in, out, data + off, len))
			break;
		off += len;
	}
}

/* Frames as a client sends them (the daemon's reading of a stream). */
static void run_stream(struct req_conn *rc, struct frame_arena *in,
    struct frame_arena *out, const uint8_t *data, size_t size)
{
	struct frame_header h;
	size_t off = 0;
	int i;

	for (i = 0; i < MAX_FRAMES && off < size; i++) {
		size_t cap = rc->authed ? rc->max_body : FRAME_MAX_BODY_PREAUTH;

		if (frame_parse_header(data + off, size - off, cap, &h) != 0)
			break;
		off += FRAME_HEADER_SIZE;
		if (h.length > size - off)
			break;
		if (!one_request(rc, in, out, data + off, h.length))
			break;
		off += h.length;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_arena in, out;
	struct req_conn rc;

	memset(&rc, 0, sizeof(rc));
	rc.max_body = MAX_BODY;
	nknown = 0;
	script = size < FRAME_MAGIC_LEN ||
	    memcmp(data, FRAME_MAGIC, FRAME_MAGIC_LEN) != 0;
	stable_init(&fsrv.sessions, MAX_SESSIONS_ALL, MAX_SESSIONS);
	frame_arena_init(&in, FRAME_ARENA_BUDGET(FRAME_MAX_BODY_PREAUTH));
	frame_arena_init(&out, OUT_BUDGET);
	if (script)
		run_script(&rc, &in, &out, data, size);
	else
		run_stream(&rc, &in, &out, data, size);
	req_conn_release(&fsrv, &rc);
	frame_arena_free(&in);
	frame_arena_free(&out);
	stable_free(&fsrv.sessions);
	return 0;
}

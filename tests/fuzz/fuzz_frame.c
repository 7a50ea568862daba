/*
 * fuzz_frame.c: libFuzzer target for the aspaced framing (daemon/frame.c).
 *
 * The input is read as a byte stream from a client, as the daemon reads
 * it: frame after frame, each header parsed by frame_parse_header() (the
 * first against the pre-authentication cap, later ones against the
 * default cap, as if the first had authenticated), each whole body
 * decoded as a Request and as a Response into arenas with a 64 KiB
 * budget, reset between frames.  The stream stops at the first bad or
 * incomplete header or body, as a connection would.
 *
 * Beyond the sanitizers, it checks what the daemon relies on: the result
 * codes are the documented ones, an arena never hands out more than its
 * budget, a header rebuilds byte for byte, and a decoded message packs
 * to bytes that decode and pack again to the same bytes.  The hot path's
 * codec (frame-fast.c) must agree with protobuf-c: a body it decodes,
 * protobuf-c decodes to the same values; a response it encodes, to the
 * same bytes.  A failed check
 * abort()s, which the fuzzer reports as a crash.
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

#define BUDGET		(64 * 1024)
#define MAX_FRAMES	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_frame: check failed: %s\n", what);
		abort();
	}
}

/* Pack m, decode the bytes again with d, pack that: the same bytes. */
static void check_repack(const ProtobufCMessage *m,
    const ProtobufCMessageDescriptor *d)
{
	size_t len = protobuf_c_message_get_packed_size(m), len2;
	uint8_t *p = malloc(len + 1), *p2 = NULL;
	ProtobufCMessage *m2 = NULL;
	struct frame_arena a;

	check(p != NULL, "malloc");
	check(protobuf_c_message_pack(m, p) == len, "pack size");
	frame_arena_init(&a, 4 * len + BUDGET);
	check(frame_decode(&a, d, p, len, &m2) == 0, "repacked decodes");
	len2 = protobuf_c_message_get_packed_size(m2);
	check(len2 == len, "repacked size");
	check((p2 = malloc(len2 + 1)) != NULL, "malloc");
	check(protobuf_c_message_pack(m2, p2) == len2, "pack size 2");
	check(memcmp(p, p2, len) == 0, "repacked bytes");
	free(p2);
	free(p);
	frame_arena_free(&a);
}

static bool same_bytes(const ProtobufCBinaryData *a,
    const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

/* What frame_fast_decode() takes, protobuf-c decodes to the same values
 * (r, or NULL when it refused the body). */
static void check_fast_request(const uint8_t *body, size_t len,
    const Aspace__Request *r)
{
	struct frame_fast_req fr;
	const Aspace__AccessRequest *a = &fr.access, *b;

	if (!frame_fast_decode(body, len, &fr))
		return;
	check(r != NULL && r->op_case == ASPACE__REQUEST__OP_ACCESS &&
	    frame_request_op(r) == ASPACE__REQUEST__OP_ACCESS &&
	    fr.req.access == a, "fast: an access protobuf-c decodes");
	b = r->access;
	check(fr.req.has_id == r->has_id && fr.req.id == r->id &&
	    fr.req.has_task == r->has_task && fr.req.task == r->task &&
	    fr.req.has_session == r->has_session &&
	    same_bytes(&fr.req.session, &r->session), "fast: envelope");
	check(a->has_addr == b->has_addr && a->addr == b->addr &&
	    a->has_kind == b->has_kind && a->kind == b->kind &&
	    a->has_value == b->has_value && a->value == b->value &&
	    a->has_explain == b->has_explain && a->explain == b->explain,
	    "fast: access fields");
}

/* What frame_fast_encode() takes, it writes as frame_encode() does. */
static void check_fast_response(const Aspace__Response *r)
{
	struct frame_fast_sizes fs;
	size_t size;
	uint8_t *p, *q;

	if (!frame_fast_size(r, &fs))
		return;
	size = FRAME_HEADER_SIZE + fs.body;
	check(size == frame_encoded_size(&r->base), "fast: size");
	check((p = malloc(size)) != NULL && (q = malloc(size)) != NULL,
	    "malloc");
	check(frame_fast_encode(r, &fs, p, size - 1) == -EMSGSIZE,
	    "fast: cap");
	check(frame_fast_encode(r, &fs, p, size) == (long)size &&
	    frame_encode(&r->base, 0, q, size) == (long)size &&
	    memcmp(p, q, size) == 0, "fast: bytes");
	free(q);
	free(p);
}

static void decode_request(struct frame_arena *a, const uint8_t *body,
    size_t len)
{
	Aspace__Request *r = NULL;
	int err = frame_decode_request(a, body, len, &r), op;

	check(a->spent <= a->budget, "request budget");
	check(err == 0 || err == -EBADMSG || err == -ENOBUFS,
	    "request result");
	check_fast_request(body, len, err == 0 ? r : NULL);
	if (err != 0)
		return;
	op = frame_request_op(r);
	check(op > 0 || op == -ENOSYS || op == -EINVAL, "op result");
	check(op < 0 || op == (int)r->op_case, "op case");
	check_repack(&r->base, &aspace__request__descriptor);
}

static void decode_response(struct frame_arena *a, const uint8_t *body,
    size_t len)
{
	Aspace__Response *r = NULL;
	int err = frame_decode_response(a, body, len, &r);

	check(a->spent <= a->budget, "response budget");
	check(err == 0 || err == -EBADMSG || err == -ENOBUFS,
	    "response result");
	if (err != 0)
		return;
	check_repack(&r->base, &aspace__response__descriptor);
	check_fast_response(r);
}

/*
 * Parse the header at data (avail bytes); 0 with *h, or a value that
 * ends the stream.  Checks the documented results.
 */
static int parse(const uint8_t *data, size_t avail, size_t cap,
    struct frame_header *h)
{
	uint8_t rebuilt[FRAME_HEADER_SIZE];
	int r = frame_parse_header(data, avail, cap, h);

	if (r > 0) {
		check(avail < FRAME_HEADER_SIZE &&
		    (size_t)r == FRAME_HEADER_SIZE - avail, "need more");
		return r;
	}
	check(r == 0 || r == -EPROTO || r == -EMSGSIZE, "header result");
	if (r != 0)
		return r;
	check(h->length <= cap, "header cap");
	check(frame_build_header(rebuilt, h->length, h->flags) == 0, "build");
	check(memcmp(rebuilt, data, FRAME_HEADER_SIZE) == 0, "rebuilt");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_arena req, resp;
	struct frame_header h;
	size_t off = 0, cap = FRAME_MAX_BODY_PREAUTH;
	int i;

	frame_arena_init(&req, BUDGET);
	frame_arena_init(&resp, BUDGET);
	for (i = 0; i < MAX_FRAMES && off < size; i++) {
		if (parse(data + off, size - off, cap, &h) != 0)
			break;
		off += FRAME_HEADER_SIZE;
		if (h.length > size - off)
			break;		/* the rest of the body never came */
		decode_request(&req, data + off, h.length);
		decode_response(&resp, data + off, h.length);
		frame_arena_reset(&req);
		frame_arena_reset(&resp);
		off += h.length;
		cap = FRAME_MAX_BODY_DEFAULT;
	}
	frame_arena_free(&req);
	frame_arena_free(&resp);
	return 0;
}

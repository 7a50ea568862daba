/*
 * frame.h: the aspaced wire framing (docs/protocol.md) and a bounded
 * decoder for the protobuf bodies (proto/aspace.proto).
 *
 * A frame is a fixed 12-byte header and a protobuf body:
 *
 *   offset 0  4 bytes  magic "ASPC"
 *   offset 4  1 byte   framing version, FRAME_VERSION
 *   offset 5  1 byte   flags; none defined yet, all must be 0
 *   offset 6  2 bytes  reserved, 0
 *   offset 8  4 bytes  body length, big-endian
 *
 * The length is checked against a cap before anything is allocated; the
 * caller passes a small cap before authentication and a larger one after.
 * A body is decoded into a per-request arena (struct frame_arena) with a
 * byte budget, used as protobuf-c's allocator: a hostile body cannot make
 * the decoder allocate without bound, and one frame_arena_reset() frees
 * everything a request decoded.  Plain C, no event loop: the daemon, the
 * client library, the tests and the fuzzer share it.
 */
#ifndef ASPACE_FRAME_H
#define ASPACE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "aspace.pb-c.h"

#define FRAME_MAGIC		"ASPC"
#define FRAME_MAGIC_LEN		4
#define FRAME_VERSION		1
#define FRAME_HEADER_SIZE	12
#define FRAME_FLAGS_KNOWN	0x00	/* flag bits a receiver accepts */

/* Protocol version carried by hello (not the framing version). */
#define ASPACE_PROTOCOL_VERSION	1

/* Default caps on a body's length (bytes). */
#define FRAME_MAX_BODY_PREAUTH	4096u		/* before hello succeeds */
#define FRAME_MAX_BODY_DEFAULT	(1u << 20)	/* after, unless configured */
#define FRAME_MAX_BODY_LIMIT	(64u << 20)	/* the most one may configure */
#define FRAME_MAX_RW_BYTES	65536u		/* read_bytes, write_bytes */

/* Request and Response fields numbered from here up are ops/results. */
#define FRAME_FIRST_OP_FIELD	16

/*
 * Decode budgets that fit any body of body_max bytes a well-formed peer
 * sends: the copies of its strings and bytes, the message structs and
 * protobuf-c's scan tables.  A Request holds few fields; a Response may
 * hold thousands of small repeated messages (maps, smaps), each a struct
 * several times the size of its encoding.
 */
#define FRAME_ARENA_BUDGET(body_max)	(2 * (size_t)(body_max) + 16384)
#define FRAME_RESPONSE_BUDGET(body_max)	(8 * (size_t)(body_max) + 65536)

struct frame_header {
	uint8_t		 version;
	uint8_t		 flags;
	uint32_t	 length;	/* body bytes after the header */
};

/*
 * Parse the header at buf (len bytes available, possibly fewer than a
 * header).  Returns 0 with *h filled in; a positive count of header bytes
 * still needed (the bytes present being valid so far); -EPROTO for a bad
 * magic, version, flag or reserved byte; -EMSGSIZE for a length over
 * max_body.
 */
int frame_parse_header(const uint8_t *buf, size_t len, size_t max_body,
    struct frame_header *h);

/* Write a header for body_len bytes; 0, -EMSGSIZE or -EINVAL (flags). */
int frame_build_header(uint8_t buf[FRAME_HEADER_SIZE], size_t body_len,
    uint8_t flags);

/* --- the decode arena -------------------------------------------------- */

struct frame_chunk;

struct frame_arena {
	ProtobufCAllocator  pc;		/* for protobuf-c: alloc, free no-op */
	size_t		    budget;	/* most bytes handed out per reset */
	size_t		    spent;	/* handed out since the last reset */
	bool		    exhausted;	/* an alloc failed on the budget */
	bool		    nomem;	/* an alloc failed in malloc */
	struct frame_chunk *chunks;	/* newest first */
};

void frame_arena_init(struct frame_arena *a, size_t budget);
/* size bytes aligned for any type, or NULL (budget spent or no memory). */
void *frame_arena_alloc(struct frame_arena *a, size_t size);
/* Forget every allocation (keeping one small chunk for the next request). */
void frame_arena_reset(struct frame_arena *a);
/* Release all memory; the arena may be initialised again. */
void frame_arena_free(struct frame_arena *a);

/*
 * Decode a body into the arena.  Returns 0 with *out set, -EBADMSG for a
 * body that is not a valid message, -ENOBUFS when the arena's budget was
 * spent, -ENOMEM when malloc failed.  The message lives until the next
 * frame_arena_reset(); never pass it to *_free_unpacked().
 */
int frame_decode(struct frame_arena *a, const ProtobufCMessageDescriptor *d,
    const uint8_t *body, size_t len, ProtobufCMessage **out);
int frame_decode_request(struct frame_arena *a, const uint8_t *body,
    size_t len, Aspace__Request **out);
int frame_decode_response(struct frame_arena *a, const uint8_t *body,
    size_t len, Aspace__Response **out);

/*
 * The op of a decoded request: its Aspace__Request__OpCase (> 0); or
 * -ENOSYS for an op this build does not know (no op decoded, an unknown
 * field numbered FRAME_FIRST_OP_FIELD or more), to be answered
 * UNIMPLEMENTED; or -EINVAL for a request with no op, or a known op and
 * an unknown one, to be answered BAD_REQUEST.
 */
int frame_request_op(const Aspace__Request *r);

/* --- encoding ------------------------------------------------------------- */

/* Header plus packed body: the bytes frame_encode() writes. */
size_t frame_encoded_size(const ProtobufCMessage *m);
/* Write header and body into buf; the byte count, or -EMSGSIZE if cap is
 * too small or the body too long for the header. */
long frame_encode(const ProtobufCMessage *m, uint8_t flags, uint8_t *buf,
    size_t cap);
/* frame_encode() of a message whose packed size is body already (from
 * frame_encoded_size()), so that it is not walked twice. */
long frame_encode_sized(const ProtobufCMessage *m, size_t body,
    uint8_t flags, uint8_t *buf, size_t cap);

/* --- the hot path (frame-fast.c) ---------------------------------------- */

struct frame_fast_req {
	Aspace__Request		 req;
	Aspace__AccessRequest	 access;
};

/* Decode body as frame_decode_request() would, if it is a plain access
 * request: true with fr filled in (its session points into body); false
 * to leave it to frame_decode_request(). */
bool frame_fast_decode(const uint8_t *body, size_t len,
    struct frame_fast_req *fr);
/* The parts' sizes of a plain access answer; body, its body's bytes. */
struct frame_fast_sizes {
	size_t			 status, access, explain, body;
};

/* Whether frame_fast_encode() takes r (a plain access answer): true
 * with s filled in, so that r is sized once, as frame_encode_sized()
 * spares protobuf-c's second walk. */
bool frame_fast_size(const Aspace__Response *r, struct frame_fast_sizes *s);
/* frame_encode() of r, sized by frame_fast_size(), byte for byte, flags
 * 0; the byte count, or -EMSGSIZE if cap is too small. */
long frame_fast_encode(const Aspace__Response *r,
    const struct frame_fast_sizes *s, uint8_t *buf, size_t cap);

#endif /* ASPACE_FRAME_H */

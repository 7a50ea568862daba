/*
 * frame-fast.c: the wire codec of the hot path (frame.h): an access
 * request decoded, and its answer encoded, without protobuf-c's generic
 * walk over every field of the descriptors.
 *
 * It takes only the plain shapes: a Request whose fields are id, session,
 * task and access, each at most once, its tags and lengths in their
 * shortest form, and an access with only its own four fields; a Response
 * with an id, a status carrying only its code, and an access result with
 * no fault.  Anything else is left to protobuf-c (frame.c), so the fast
 * path can only be slower, never different: fuzz_frame checks on every
 * input that it gives exactly what protobuf-c gives, value for value on
 * decoding and byte for byte on encoding.  The protobuf-c rules it
 * mirrors: a varint is at most 10 bytes, an int32 or enum keeps the low
 * 32 bits, a bool is true when any payload bit is set, an empty bytes
 * field has no data, and fields are packed in field-number order.
 */
#include <errno.h>
#include <string.h>

#include "frame.h"

#define WT_VARINT	0
#define WT_LEN		2

/* Field numbers (proto/aspace.proto). */
#define REQ_ID		1
#define REQ_SESSION	2
#define REQ_TASK	3
#define REQ_ACCESS	28
#define RESP_ID		1
#define RESP_STATUS	2
#define RESP_ACCESS	28

struct fast_in {
	const uint8_t	*p, *end;
};

/* A varint as protobuf-c reads it; *any: a payload bit was set. */
static bool get_varint_long(struct fast_in *in, uint64_t *v, bool *any)
{
	unsigned int i;

	*v = 0;
	*any = false;
	for (i = 0; i < 10 && in->p < in->end; i++) {
		uint8_t b = *in->p++;

		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		*any |= (b & 0x7f) != 0;
		if ((b & 0x80) == 0)
			return true;
	}
	return false;
}

static inline bool get_varint(struct fast_in *in, uint64_t *v, bool *any)
{
	if (in->p < in->end && *in->p < 0x80) {	/* most are one byte */
		*v = *in->p++;
		*any = *v != 0;
		return true;
	}
	return get_varint_long(in, v, any);
}

/* A tag in its shortest form (one byte, or two for fields 16-2047). */
static inline bool get_tag(struct fast_in *in, unsigned int *field,
    unsigned int *wt)
{
	uint64_t v;
	bool any;
	const uint8_t *start = in->p;

	if (in->p < in->end && *in->p >= 8 && *in->p < 0x80) {
		*field = *in->p >> 3;	/* one byte: fields 1-15 */
		*wt = *in->p++ & 7;
		return true;
	}
	if (!get_varint(in, &v, &any) || in->p - start > 2 ||
	    (in->p - start == 2 && v < 128) || (v >> 3) == 0)
		return false;
	*field = (unsigned int)(v >> 3);
	*wt = (unsigned int)(v & 7);
	return true;
}

/* A length prefix of one byte, and that many bytes after it. */
static bool get_len(struct fast_in *in, struct fast_in *sub)
{
	size_t n;

	if (in->p >= in->end || (*in->p & 0x80) != 0)
		return false;
	n = *in->p++;
	if (n > (size_t)(in->end - in->p))
		return false;
	sub->p = in->p;
	sub->end = in->p + n;
	in->p += n;
	return true;
}

/* The AccessRequest in in; false when it is not of the plain shape. */
static bool fast_access(struct fast_in in, Aspace__AccessRequest *a)
{
	unsigned int field, wt, seen = 0;
	uint64_t v;
	bool any;

	while (in.p < in.end) {
		if (!get_tag(&in, &field, &wt) || wt != WT_VARINT ||
		    field < 1 || field > 4 || (seen & (1u << field)) ||
		    !get_varint(&in, &v, &any))
			return false;
		seen |= 1u << field;
		if (field == 1) {
			a->has_addr = true;
			a->addr = v;
		} else if (field == 2) {
			a->has_kind = true;
			a->kind = (Aspace__AccessKind)(int32_t)(uint32_t)v;
		} else if (field == 3) {
			a->has_value = true;
			a->value = (uint32_t)v;
		} else {
			a->has_explain = true;
			a->explain = any;
		}
	}
	return true;
}

/* One field of a Request; false when it is not of the plain shape. */
static bool fast_request_field(struct fast_in *in, unsigned int field,
    unsigned int wt, struct frame_fast_req *fr)
{
	struct fast_in sub;
	uint64_t v;
	bool any;

	if (field == REQ_ID || field == REQ_TASK) {
		if (wt != WT_VARINT || !get_varint(in, &v, &any))
			return false;
		if (field == REQ_ID) {
			fr->req.has_id = true;
			fr->req.id = v;
		} else {
			fr->req.has_task = true;
			fr->req.task = (int32_t)(uint32_t)v;
		}
		return true;
	}
	if ((field != REQ_SESSION && field != REQ_ACCESS) || wt != WT_LEN ||
	    !get_len(in, &sub))
		return false;
	if (field == REQ_SESSION) {
		fr->req.has_session = true;
		fr->req.session.len = (size_t)(sub.end - sub.p);
		fr->req.session.data = sub.end > sub.p ? (uint8_t *)sub.p : NULL;
		return true;
	}
	fr->req.op_case = ASPACE__REQUEST__OP_ACCESS;
	fr->req.access = &fr->access;
	return fast_access(sub, &fr->access);
}

bool frame_fast_decode(const uint8_t *body, size_t len,
    struct frame_fast_req *fr)
{
	static const Aspace__Request req_init = ASPACE__REQUEST__INIT;
	static const Aspace__AccessRequest access_init =
	    ASPACE__ACCESS_REQUEST__INIT;
	struct fast_in in = { body, body + len };
	unsigned int field, wt;
	uint64_t seen = 0;

	fr->req = req_init;
	fr->access = access_init;
	while (in.p < in.end) {
		if (!get_tag(&in, &field, &wt) || field > 63 ||
		    (seen & (1ull << field)) ||
		    !fast_request_field(&in, field, wt, fr))
			return false;
		seen |= 1ull << field;
	}
	return fr->req.op_case == ASPACE__REQUEST__OP_ACCESS;
}

/* --- encoding --------------------------------------------------------------- */

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* An int32 as protobuf-c packs it: a negative one sign-extended. */
static uint64_t int32_wire(int32_t v)
{
	return (uint64_t)(int64_t)v;
}

bool frame_fast_size(const Aspace__Response *r, struct frame_fast_sizes *s)
{
	const Aspace__Status *st = r->status;
	const Aspace__AccessResult *a = r->access;

	if (r->base.n_unknown_fields != 0 || st == NULL ||
	    st->base.n_unknown_fields != 0 || st->errname != NULL ||
	    st->has_errnum || st->message != NULL ||
	    r->result_case != ASPACE__RESPONSE__RESULT_ACCESS || a == NULL ||
	    a->base.n_unknown_fields != 0 || a->fault != NULL)
		return false;
	s->status = st->has_code ? 1 + varint_size(int32_wire(st->code)) : 0;
	s->explain = a->explain != NULL ? strlen(a->explain) : 0;
	s->access = (a->has_value ? 1 + varint_size(a->value) : 0) +
	    (a->explain != NULL ? 1 + varint_size(s->explain) + s->explain :
	    0);
	s->body = (r->has_id ? 1 + varint_size(r->id) : 0) +
	    1 + varint_size(s->status) + s->status +
	    2 + varint_size(s->access) + s->access;
	return true;
}

long frame_fast_encode(const Aspace__Response *r,
    const struct frame_fast_sizes *s, uint8_t *buf, size_t cap)
{
	const Aspace__AccessResult *a = r->access;
	uint8_t *p;
	int err;

	if (cap < FRAME_HEADER_SIZE || s->body > cap - FRAME_HEADER_SIZE)
		return -EMSGSIZE;
	if ((err = frame_build_header(buf, s->body, 0)) != 0)
		return err;
	p = buf + FRAME_HEADER_SIZE;
	if (r->has_id)
		p = put_varint(put_varint(p, RESP_ID << 3 | WT_VARINT), r->id);
	p = put_varint(put_varint(p, RESP_STATUS << 3 | WT_LEN), s->status);
	if (r->status->has_code)
		p = put_varint(put_varint(p, 1 << 3 | WT_VARINT),
		    int32_wire(r->status->code));
	p = put_varint(put_varint(p, RESP_ACCESS << 3 | WT_LEN), s->access);
	if (a->has_value)
		p = put_varint(put_varint(p, 1 << 3 | WT_VARINT), a->value);
	if (a->explain != NULL) {
		p = put_varint(put_varint(p, 3 << 3 | WT_LEN), s->explain);
		memcpy(p, a->explain, s->explain);
		p += s->explain;
	}
	return (long)(p - buf);
}

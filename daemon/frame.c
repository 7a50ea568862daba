/*
 * frame.c: the aspaced frame header, the per-request decode arena and the
 * protobuf-c decoding and encoding of bodies (frame.h, docs/protocol.md).
 *
 * The arena hands out memory from chunks: allocations under
 * ARENA_LARGE bytes are carved from ARENA_CHUNK-byte chunks, larger ones
 * get a chunk of their own.  Every allocation is charged to the budget
 * (rounded up to the alignment) before any memory is taken, and no
 * chunk is made larger than the budget left, so what one request makes
 * the arena malloc() stays within its budget plus the chunk headers.  protobuf-c's free() is a no-op: the
 * whole request goes at once, at frame_arena_reset().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define ARENA_ALIGN	_Alignof(max_align_t)
#define ARENA_CHUNK	8192u	/* bytes of data in a shared chunk */
#define ARENA_LARGE	1024u	/* from here on, a chunk of its own */
#define FRAME_MAX_DEPTH	16	/* nesting of messages in a body */

struct frame_chunk {
	struct frame_chunk *next;
	size_t		    size;	/* bytes in data[] */
	size_t		    used;
	bool		    large;	/* one allocation's own chunk */
	max_align_t	    data[];
};

/* --- the header ------------------------------------------------------------ */

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Are the first len (< a header) bytes a valid start of a header? */
static int check_prefix(const uint8_t *buf, size_t len)
{
	size_t n = len < FRAME_MAGIC_LEN ? len : FRAME_MAGIC_LEN, i;

	if (memcmp(buf, FRAME_MAGIC, n) != 0)
		return -EPROTO;
	if (len > 4 && buf[4] != FRAME_VERSION)
		return -EPROTO;
	if (len > 5 && (buf[5] & ~FRAME_FLAGS_KNOWN) != 0)
		return -EPROTO;
	for (i = 6; i < 8 && i < len; i++)
		if (buf[i] != 0)
			return -EPROTO;
	return 0;
}

int frame_parse_header(const uint8_t *buf, size_t len, size_t max_body,
    struct frame_header *h)
{
	uint32_t length;
	int err;

	if (len == 0)
		return FRAME_HEADER_SIZE;
	if ((err = check_prefix(buf, len)) != 0)
		return err;
	if (len < FRAME_HEADER_SIZE)
		return (int)(FRAME_HEADER_SIZE - len);
	length = load_be32(buf + 8);
	if (length > max_body)
		return -EMSGSIZE;
	h->version = buf[4];
	h->flags = buf[5];
	h->length = length;
	return 0;
}

int frame_build_header(uint8_t buf[FRAME_HEADER_SIZE], size_t body_len,
    uint8_t flags)
{
	if (body_len > UINT32_MAX)
		return -EMSGSIZE;
	if ((flags & ~FRAME_FLAGS_KNOWN) != 0)
		return -EINVAL;
	memcpy(buf, FRAME_MAGIC, FRAME_MAGIC_LEN);
	buf[4] = FRAME_VERSION;
	buf[5] = flags;
	buf[6] = 0;
	buf[7] = 0;
	store_be32(buf + 8, (uint32_t)body_len);
	return 0;
}

/* --- the arena ------------------------------------------------------------- */

static void *arena_pc_alloc(void *data, size_t size)
{
	return frame_arena_alloc(data, size);
}

static void arena_pc_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

void frame_arena_init(struct frame_arena *a, size_t budget)
{
	memset(a, 0, sizeof(*a));
	a->pc.alloc = arena_pc_alloc;
	a->pc.free = arena_pc_free;
	a->pc.allocator_data = a;
	a->budget = budget;
}

/* A chunk with room for size bytes, linked in; NULL if malloc fails. */
static struct frame_chunk *chunk_new(struct frame_arena *a, size_t size)
{
	bool large = size >= ARENA_LARGE;
	size_t cap = large ? size : ARENA_CHUNK;
	struct frame_chunk *c;

	if (cap > a->budget - a->spent)	/* never below size: checked */
		cap = a->budget - a->spent;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->size = cap;
	c->used = 0;
	c->large = large;
	if (large && a->chunks != NULL) {
		/* Behind the head, which keeps its free space. */
		c->next = a->chunks->next;
		a->chunks->next = c;
	} else {
		c->next = a->chunks;
		a->chunks = c;
	}
	return c;
}

void *frame_arena_alloc(struct frame_arena *a, size_t size)
{
	struct frame_chunk *c = a->chunks;
	size_t n;
	void *p;

	if (size > a->budget)
		goto spent;
	n = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;	/* a distinct pointer even for 0 */
	if (n > a->budget - a->spent)
		goto spent;
	if (n >= ARENA_LARGE || c == NULL || c->size - c->used < n) {
		if ((c = chunk_new(a, n)) == NULL) {
			a->nomem = true;
			return NULL;
		}
	}
	p = (unsigned char *)c->data + c->used;
	c->used += n;
	a->spent += n;
	return p;
spent:
	a->exhausted = true;
	return NULL;
}

void frame_arena_reset(struct frame_arena *a)
{
	struct frame_chunk *c = a->chunks, *next, *keep = NULL;

	for (; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL && !c->large) {
			keep = c;
			continue;
		}
		free(c);
	}
	if (keep != NULL) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->chunks = keep;
	a->spent = 0;
	a->exhausted = false;
	a->nomem = false;
}

void frame_arena_free(struct frame_arena *a)
{
	struct frame_chunk *c, *next;

	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->chunks = NULL;
	a->spent = 0;
}

/* --- decoding --------------------------------------------------------------- */

static bool message_valid(const ProtobufCMessage *m, int depth);

/* The messages in field f of m (one, a oneof's if chosen, or repeated). */
static bool field_valid(const ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, int depth)
{
	const uint8_t *base = (const uint8_t *)m;
	ProtobufCMessage *const *sub = (ProtobufCMessage *const *)
	    (base + f->offset);
	size_t n = 1, k;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		n = *(const size_t *)(base + f->quantifier_offset);
		sub = *(ProtobufCMessage *const *const *)(base + f->offset);
	} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    *(const uint32_t *)(base + f->quantifier_offset) != f->id) {
		return true;
	}
	for (k = 0; k < n; k++)
		if (sub[k] != NULL && !message_valid(sub[k], depth + 1))
			return false;
	return true;
}

/*
 * Refuse what protobuf-c 1.4 lets through but protobuf forbids: a field
 * numbered 0, accepted when its tag is written in more than one byte
 * (pack would then write bytes that unpack refuses).  The schema has no
 * recursion, so the depth is small; FRAME_MAX_DEPTH is a backstop.
 */
static bool message_valid(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i;
	size_t j;

	if (depth > FRAME_MAX_DEPTH)
		return false;
	for (j = 0; j < m->n_unknown_fields; j++)
		if (m->unknown_fields[j].tag == 0)
			return false;
	for (i = 0; i < d->n_fields; i++)
		if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE &&
		    !field_valid(m, &d->fields[i], depth))
			return false;
	return true;
}

int frame_decode(struct frame_arena *a, const ProtobufCMessageDescriptor *d,
    const uint8_t *body, size_t len, ProtobufCMessage **out)
{
	static const uint8_t empty[1];
	ProtobufCMessage *m;

	a->exhausted = false;
	a->nomem = false;
	m = protobuf_c_message_unpack(d, &a->pc, len, body ? body : empty);
	if (m != NULL && message_valid(m, 0)) {
		*out = m;
		return 0;
	}
	if (m != NULL)
		return -EBADMSG;
	if (a->exhausted)
		return -ENOBUFS;
	return a->nomem ? -ENOMEM : -EBADMSG;
}

int frame_decode_request(struct frame_arena *a, const uint8_t *body,
    size_t len, Aspace__Request **out)
{
	ProtobufCMessage *m;
	int err = frame_decode(a, &aspace__request__descriptor, body, len, &m);

	if (err == 0)
		*out = (Aspace__Request *)m;
	return err;
}

int frame_decode_response(struct frame_arena *a, const uint8_t *body,
    size_t len, Aspace__Response **out)
{
	ProtobufCMessage *m;
	int err = frame_decode(a, &aspace__response__descriptor, body, len, &m);

	if (err == 0)
		*out = (Aspace__Response *)m;
	return err;
}

int frame_request_op(const Aspace__Request *r)
{
	bool unknown = false;
	size_t i;

	for (i = 0; i < r->base.n_unknown_fields; i++)
		if (r->base.unknown_fields[i].tag >= FRAME_FIRST_OP_FIELD)
			unknown = true;
	if (r->op_case != ASPACE__REQUEST__OP__NOT_SET)
		return unknown ? -EINVAL : (int)r->op_case;
	return unknown ? -ENOSYS : -EINVAL;
}

/* --- encoding --------------------------------------------------------------- */

size_t frame_encoded_size(const ProtobufCMessage *m)
{
	return FRAME_HEADER_SIZE + protobuf_c_message_get_packed_size(m);
}

long frame_encode(const ProtobufCMessage *m, uint8_t flags, uint8_t *buf,
    size_t cap)
{
	return frame_encode_sized(m, protobuf_c_message_get_packed_size(m),
	    flags, buf, cap);
}

long frame_encode_sized(const ProtobufCMessage *m, size_t body,
    uint8_t flags, uint8_t *buf, size_t cap)
{
	int err;

	if (cap < FRAME_HEADER_SIZE || body > cap - FRAME_HEADER_SIZE)
		return -EMSGSIZE;
	if ((err = frame_build_header(buf, body, flags)) != 0)
		return err;
	if (protobuf_c_message_pack(m, buf + FRAME_HEADER_SIZE) != body)
		return -EINVAL;
	return (long)(FRAME_HEADER_SIZE + body);
}

/*
 * web-json.c: JSON writing for the web listener (web-json.h).  Strings
 * are escaped as RFC 8259 asks (quote, backslash, control bytes); bytes
 * of 0x80 and up pass through, so a trace's UTF-8 stays readable.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "web-json.h"

#define JSON_SAFE_MAX	((1ULL << 53) - 1)

void web_json_str(struct as_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	as_buf_put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		as_buf_put(b, s + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\')
			as_buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			as_buf_put(b, "\\n", 2);
		else if (ch == '\t')
			as_buf_put(b, "\\t", 2);
		else
			as_buf_printf(b, "\\u%04x", ch);
	}
	as_buf_put(b, s + run, n - run);
	as_buf_put(b, "\"", 1);
}

void web_json_u64(struct as_buf *b, uint64_t v)
{
	as_buf_printf(b, v > JSON_SAFE_MAX ? "\"%" PRIu64 "\"" : "%" PRIu64, v);
}

void web_json_hex(struct as_buf *b, const uint8_t *p, size_t n)
{
	size_t i;

	as_buf_put(b, "\"", 1);
	for (i = 0; i < n; i++)
		as_buf_printf(b, "%02x", p[i]);
	as_buf_put(b, "\"", 1);
}

static void json_i64(struct as_buf *b, int64_t v)
{
	if (v > (int64_t)JSON_SAFE_MAX || v < -(int64_t)JSON_SAFE_MAX)
		as_buf_printf(b, "\"%" PRId64 "\"", v);
	else
		as_buf_printf(b, "%" PRId64, v);
}

static void json_enum(struct as_buf *b, const ProtobufCEnumDescriptor *d,
    int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	if (ev != NULL)
		web_json_str(b, ev->name, strlen(ev->name));
	else
		as_buf_printf(b, "%d", v);
}

/* One value of field f at p. */
static void json_value(struct as_buf *b, const ProtobufCFieldDescriptor *f,
    const void *p)
{
	const ProtobufCBinaryData *bd;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		as_buf_printf(b, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		as_buf_printf(b, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		json_i64(b, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		web_json_u64(b, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		as_buf_printf(b, "%s", *(const protobuf_c_boolean *)p ?
		    "true" : "false");
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		as_buf_printf(b, "%.9g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		as_buf_printf(b, "%.17g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		json_enum(b, f->descriptor, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		p = *(const char *const *)p;
		web_json_str(b, p != NULL ? p : "", p != NULL ? strlen(p) : 0);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = p;
		if (strcmp(f->name, "session") == 0)
			web_json_hex(b, bd->data, bd->len);
		else
			web_json_str(b, (const char *)bd->data, bd->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		p = *(const ProtobufCMessage *const *)p;
		if (p != NULL)
			web_json_message(b, p);
		else
			as_buf_put(b, "null", 4);
		break;
	}
}

/* The size of one value of f in a repeated field's array. */
static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void json_repeated(struct as_buf *b, const ProtobufCFieldDescriptor *f,
    const char *base)
{
	size_t n = *(const size_t *)(base + f->quantifier_offset), i;
	const char *arr = *(const char *const *)(base + f->offset);

	as_buf_put(b, "[", 1);
	for (i = 0; i < n && !b->overflow; i++) {
		if (i > 0)
			as_buf_put(b, ",", 1);
		json_value(b, f, arr + i * elem_size(f));
	}
	as_buf_put(b, "]", 1);
}

/* Whether f is set in the message at base (proto2: has_ or non-NULL). */
static bool field_set(const ProtobufCFieldDescriptor *f, const char *base)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return true;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(const void *const *)(base + f->offset) != NULL;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
		return *(const protobuf_c_boolean *)(base +
		    f->quantifier_offset);
	return true;
}

void web_json_message(struct as_buf *b, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool first = true;
	unsigned int i;

	as_buf_put(b, "{", 1);
	for (i = 0; i < d->n_fields && !b->overflow; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!field_set(f, base))
			continue;
		as_buf_printf(b, "%s\"%s\":", first ? "" : ",", f->name);
		first = false;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			json_repeated(b, f, base);
		else
			json_value(b, f, base + f->offset);
	}
	as_buf_put(b, "}", 1);
}

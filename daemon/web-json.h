/*
 * web-json.h: JSON for the web listener's /api/ (docs/web.md), written
 * into a bounded as_buf (its overflow flag says the cap was reached).
 * web_json_message() writes any protobuf-c message by its descriptor, so
 * that an endpoint answers exactly the fields the protocol's result has:
 * field names as in proto/aspace.proto, enums by name, 64-bit numbers
 * beyond 2^53 (which a JavaScript number cannot hold) as decimal
 * strings, a session id (bytes "session") as 32 hex digits, other bytes
 * as a string.
 */
#ifndef ASPACED_WEB_JSON_H
#define ASPACED_WEB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"

/* s[0, n) as a JSON string, quotes included. */
void web_json_str(struct as_buf *b, const char *s, size_t n);
/* A JSON number, or a decimal string beyond 2^53. */
void web_json_u64(struct as_buf *b, uint64_t v);
void web_json_hex(struct as_buf *b, const uint8_t *p, size_t n);
void web_json_message(struct as_buf *b, const ProtobufCMessage *m);

#endif /* ASPACED_WEB_JSON_H */

/*
 * walk-bits.h: a page-table entry's bits for aspace walk (walk-bits.c).
 */
#ifndef ASPACE_WALK_BITS_H
#define ASPACE_WALK_BITS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* v as a JSON string "0x..." of hex digits. */
json_t *cli_json_hex(uint64_t v);
/* "  bits present rw ...; frame 0x..." for a present pte, else nothing. */
void walk_bits_print(FILE *f, uint64_t pte);
/* {"present":true,...,"frame":"0x..."} for a present pte, else null. */
json_t *walk_bits_json(uint64_t pte);

#endif /* ASPACE_WALK_BITS_H */

/*
 * crc32.h: the CRC-32 of IEEE 802.3, as zlib's crc32() computes it.
 * Checkpoints seal their body with it (checkpoint-codec.c), and the
 * daemon its persisted files (daemon/persist.c).
 */
#ifndef ASPACE_CRC32_H
#define ASPACE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, as zlib's crc32()): start with crc 0. */
uint32_t as_crc32(uint32_t crc, const void *data, size_t len);

#endif /* ASPACE_CRC32_H */

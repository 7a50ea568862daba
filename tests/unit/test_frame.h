/*
 * test_frame.h: what the pieces of test_frame share (the tests:
 * test_frame.c's top comment): the wire buffer and pack(), and the tests
 * test_frame-codec.c holds.
 */
#ifndef ASPACE_TEST_FRAME_H
#define ASPACE_TEST_FRAME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "frame.h"

#define BUF_MAX		(256 * 1024)

/* test_frame.c */
extern uint8_t wire[BUF_MAX];
/* Pack m as a frame into wire; check the header; the body length. */
size_t pack(const ProtobufCMessage *m);

/* test_frame-codec.c: round trips, the hot path's codec */
void test_round_trip_hello(void **state);
void test_round_trip_session_create(void **state);
void test_round_trip_mmap(void **state);
void test_round_trip_access_and_bytes(void **state);
void test_round_trip_empty_ops(void **state);
void test_round_trip_run_trace(void **state);
void test_round_trip_shm_msync(void **state);
void test_round_trip_response(void **state);
void test_encode_too_small(void **state);
void test_fast_decode(void **state);
void test_fast_decode_declines(void **state);
void test_fast_encode(void **state);

#endif /* ASPACE_TEST_FRAME_H */

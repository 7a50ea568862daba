/*
 * test_frame.c: unit tests of the aspaced framing (daemon/frame.c): the
 * 12-byte header (good headers, each bad field, partial headers, the
 * length caps before and after authentication), the decode arena and its
 * budget, unknown ops, malformed bodies, and round trips of requests and
 * responses through frame_encode() and frame_decode_*().
 *
 * Here the header, arena and decoding tests; the round trips and the hot
 * path's codec (frame-fast.c): test_frame-codec.c (test_frame.h).
 */
#include "test_frame.h"

uint8_t wire[BUF_MAX];

/* A valid header for body_len bytes, checked to build. */
static void good_header(uint8_t h[FRAME_HEADER_SIZE], size_t body_len)
{
	assert_int_equal(frame_build_header(h, body_len, 0), 0);
}

/* --- headers ----------------------------------------------------------------- */

static void test_header_layout(void **state)
{
	static const uint8_t want[FRAME_HEADER_SIZE] = {
		'A', 'S', 'P', 'C', 1, 0, 0, 0, 0x01, 0x02, 0x03, 0x04
	};
	uint8_t h[FRAME_HEADER_SIZE];

	good_header(h, 0x01020304);
	assert_memory_equal(h, want, sizeof(want));
}

static void test_header_good(void **state)
{
	static const size_t lens[] = { 0, 1, 255, 256, 4096, 65536, 1u << 20 };
	struct frame_header fh;
	uint8_t h[FRAME_HEADER_SIZE];
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		good_header(h, lens[i]);
		memset(&fh, 0xaa, sizeof(fh));
		assert_int_equal(frame_parse_header(h, sizeof(h),
		    FRAME_MAX_BODY_DEFAULT, &fh), 0);
		assert_int_equal(fh.version, FRAME_VERSION);
		assert_int_equal(fh.flags, 0);
		assert_int_equal(fh.length, lens[i]);
	}
	/* The largest length the header can carry, with no cap. */
	good_header(h, UINT32_MAX);
	assert_int_equal(frame_parse_header(h, sizeof(h), SIZE_MAX, &fh), 0);
	assert_int_equal(fh.length, UINT32_MAX);
	/* Bytes after the header are the body's business. */
	memcpy(wire, h, sizeof(h));
	memset(wire + sizeof(h), 0xff, 100);
	good_header(wire, 100);
	assert_int_equal(frame_parse_header(wire, sizeof(h) + 100, 100, &fh), 0);
	assert_int_equal(fh.length, 100);
}

/* Flip byte i of a good header to v; expect err. */
static void expect_bad(size_t i, uint8_t v, int err)
{
	struct frame_header fh;
	uint8_t h[FRAME_HEADER_SIZE];

	good_header(h, 10);
	h[i] = v;
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_DEFAULT, &fh), err);
	/* The bad byte is seen as soon as it arrives. */
	assert_int_equal(frame_parse_header(h, i + 1,
	    FRAME_MAX_BODY_DEFAULT, &fh), err);
}

static void test_header_bad_magic(void **state)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	struct frame_header fh;
	size_t i;

	for (i = 0; i < FRAME_MAGIC_LEN; i++) {
		expect_bad(i, 0, -EPROTO);
		expect_bad(i, (uint8_t)(FRAME_MAGIC[i] ^ 0x20), -EPROTO);
	}
	assert_int_equal(frame_parse_header(http, sizeof(http) - 1,
	    FRAME_MAX_BODY_DEFAULT, &fh), -EPROTO);
	assert_int_equal(frame_parse_header(tls, sizeof(tls),
	    FRAME_MAX_BODY_DEFAULT, &fh), -EPROTO);
	assert_int_equal(frame_parse_header(tls, 1,
	    FRAME_MAX_BODY_DEFAULT, &fh), -EPROTO);
}

static void test_header_bad_version(void **state)
{
	expect_bad(4, 0, -EPROTO);
	expect_bad(4, FRAME_VERSION + 1, -EPROTO);
	expect_bad(4, 0xff, -EPROTO);
}

static void test_header_bad_flags(void **state)
{
	unsigned int bit;

	for (bit = 0; bit < 8; bit++)
		if (!(FRAME_FLAGS_KNOWN & (1u << bit)))
			expect_bad(5, (uint8_t)(1u << bit), -EPROTO);
}

static void test_header_bad_reserved(void **state)
{
	expect_bad(6, 1, -EPROTO);
	expect_bad(6, 0x80, -EPROTO);
	expect_bad(7, 1, -EPROTO);
	expect_bad(7, 0xff, -EPROTO);
}

static void test_header_partial(void **state)
{
	struct frame_header fh, untouched;
	uint8_t h[FRAME_HEADER_SIZE];
	size_t len;

	good_header(h, 0xffffffffu);	/* over any cap once complete */
	memset(&untouched, 0x5a, sizeof(untouched));
	for (len = 0; len < FRAME_HEADER_SIZE; len++) {
		fh = untouched;
		assert_int_equal(frame_parse_header(len ? h : NULL, len,
		    FRAME_MAX_BODY_PREAUTH, &fh),
		    (int)(FRAME_HEADER_SIZE - len));
		assert_memory_equal(&fh, &untouched, sizeof(fh));
	}
	assert_int_equal(frame_parse_header(h, len, FRAME_MAX_BODY_PREAUTH,
	    &fh), -EMSGSIZE);
}

static void test_length_caps(void **state)
{
	struct frame_header fh;
	uint8_t h[FRAME_HEADER_SIZE];

	/* Before authentication. */
	good_header(h, FRAME_MAX_BODY_PREAUTH);
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_PREAUTH, &fh), 0);
	good_header(h, FRAME_MAX_BODY_PREAUTH + 1);
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_PREAUTH, &fh), -EMSGSIZE);
	/* After: the same header passes, up to the larger cap. */
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_DEFAULT, &fh), 0);
	assert_int_equal(fh.length, FRAME_MAX_BODY_PREAUTH + 1);
	good_header(h, FRAME_MAX_BODY_DEFAULT);
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_DEFAULT, &fh), 0);
	good_header(h, FRAME_MAX_BODY_DEFAULT + 1);
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_DEFAULT, &fh), -EMSGSIZE);
	/* Refused on the header alone: no body need follow. */
	good_header(h, UINT32_MAX);
	assert_int_equal(frame_parse_header(h, sizeof(h),
	    FRAME_MAX_BODY_LIMIT, &fh), -EMSGSIZE);
	/* A cap of 0 admits only empty bodies. */
	good_header(h, 0);
	assert_int_equal(frame_parse_header(h, sizeof(h), 0, &fh), 0);
	good_header(h, 1);
	assert_int_equal(frame_parse_header(h, sizeof(h), 0, &fh), -EMSGSIZE);
}

static void test_build_header_errors(void **state)
{
	uint8_t h[FRAME_HEADER_SIZE];

	assert_int_equal(frame_build_header(h, (size_t)UINT32_MAX + 1, 0),
	    -EMSGSIZE);
	assert_int_equal(frame_build_header(h, 10, 0x80), -EINVAL);
	assert_int_equal(frame_build_header(h, 10, FRAME_FLAGS_KNOWN), 0);
}

/* --- the arena ------------------------------------------------------------ */

static void test_arena_alloc(void **state)
{
	struct frame_arena a;
	uint8_t *p, *q, *big;

	frame_arena_init(&a, 64 * 1024);
	p = frame_arena_alloc(&a, 1);
	q = frame_arena_alloc(&a, 0);
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
	big = frame_arena_alloc(&a, 40000);
	assert_non_null(big);
	memset(big, 1, 40000);
	/* Small ones still come from the shared chunk after a large one. */
	assert_non_null(frame_arena_alloc(&a, 100));
	assert_false(a.exhausted);
	/* The rest of the budget, then nothing. */
	assert_null(frame_arena_alloc(&a, 30000));
	assert_true(a.exhausted);
	assert_null(frame_arena_alloc(&a, SIZE_MAX));
	assert_null(frame_arena_alloc(&a, SIZE_MAX - 3));
	assert_true(a.spent <= a.budget);
	frame_arena_reset(&a);
	assert_int_equal(a.spent, 0);
	assert_false(a.exhausted);
	/* The whole budget is available again. */
	assert_non_null(frame_arena_alloc(&a, 60000));
	frame_arena_free(&a);
}

static void test_arena_many_small(void **state)
{
	struct frame_arena a;
	size_t n = 0;
	int round;

	frame_arena_init(&a, 100000);
	for (round = 0; round < 3; round++) {
		n = 0;
		while (frame_arena_alloc(&a, 24) != NULL)
			n++;
		assert_int_equal(n, 100000 / 32);
		assert_true(a.exhausted);
		frame_arena_reset(&a);
	}
	frame_arena_free(&a);
	/* Freeing twice, and resetting a freed arena, are harmless. */
	frame_arena_free(&a);
	frame_arena_reset(&a);
}

/* --- decoding -------------------------------------------------------------- */

/* Pack m as a frame into wire; check the header; return the body length. */
size_t pack(const ProtobufCMessage *m)
{
	struct frame_header fh;
	long n = frame_encode(m, 0, wire, sizeof(wire));

	assert_true(n >= FRAME_HEADER_SIZE);
	assert_int_equal((size_t)n, frame_encoded_size(m));
	assert_int_equal(frame_parse_header(wire, (size_t)n, sizeof(wire),
	    &fh), 0);
	assert_int_equal(fh.length + FRAME_HEADER_SIZE, (size_t)n);
	return fh.length;
}

static void test_budget_exhausted_large_trace(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__RunTraceRequest rt = ASPACE__RUN_TRACE_REQUEST__INIT;
	Aspace__Request *out = NULL;
	static uint8_t text[100 * 1024];
	struct frame_arena a;
	size_t len;

	memset(text, 'x', sizeof(text));
	rt.has_text = 1;
	rt.text.data = text;
	rt.text.len = sizeof(text);
	r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r.run_trace = &rt;
	len = pack(&r.base);
	frame_arena_init(&a, 64 * 1024);
	assert_int_equal(frame_decode_request(&a, wire + FRAME_HEADER_SIZE,
	    len, &out), -ENOBUFS);
	assert_true(a.spent <= a.budget);
	frame_arena_free(&a);
	/* The budget meant for such a body decodes it. */
	frame_arena_init(&a, FRAME_ARENA_BUDGET(len));
	assert_int_equal(frame_decode_request(&a, wire + FRAME_HEADER_SIZE,
	    len, &out), 0);
	assert_int_equal(out->op_case, ASPACE__REQUEST__OP_RUN_TRACE);
	assert_int_equal(out->run_trace->text.len, sizeof(text));
	assert_memory_equal(out->run_trace->text.data, text, sizeof(text));
	frame_arena_free(&a);
}

/*
 * A valid message that is small on the wire and large once decoded: many
 * two-byte unknown fields, each kept as a 32-byte record with its data.
 */
static void test_budget_exhausted_unknown_fields(void **state)
{
	Aspace__Request *out = NULL;
	struct frame_arena a;
	size_t i, len = 40000;
	uint8_t *body = wire + FRAME_HEADER_SIZE;

	for (i = 0; i < len; i += 2) {
		body[i] = 15 << 3;	/* field 15, varint: an unknown field */
		body[i + 1] = 0;
	}
	good_header(wire, len);
	frame_arena_init(&a, FRAME_ARENA_BUDGET(len));
	assert_int_equal(frame_decode_request(&a, body, len, &out), -ENOBUFS);
	assert_true(a.exhausted);
	assert_true(a.spent <= a.budget);
	frame_arena_reset(&a);
	/* A few of them decode and are kept. */
	assert_int_equal(frame_decode_request(&a, body, 20, &out), 0);
	assert_int_equal(out->base.n_unknown_fields, 10);
	assert_int_equal(out->op_case, ASPACE__REQUEST__OP__NOT_SET);
	assert_int_equal(frame_request_op(out), -EINVAL);
	frame_arena_free(&a);
}

static void test_bad_bodies(void **state)
{
	static const uint8_t truncated_varint[] = { 0x08, 0xff };
	static const uint8_t truncated_bytes[] = { 0x12, 0x05, 0x01 };
	static const uint8_t bad_wire_type[] = { 0x0f };
	static const uint8_t field_zero[] = { 0x00, 0x00 };
	static const uint8_t bad_submsg[] = { 0x82, 0x01, 0x02, 0x08, 0xff };
	/* Field 0 with an overlong tag, which protobuf-c 1.4 accepts. */
	static const uint8_t field_zero_long[] = { 0x08, 0x01, 0x82, 0x00, 0 };
	static const uint8_t field_zero_nested[] = {
		0x82, 0x01, 0x03, 0x82, 0x00, 0		/* in hello */
	};
	static const uint8_t field_zero_repeated[] = {
		0xa2, 0x02, 0x05, 0x0a, 0x03, 0x80, 0x00, 0	/* maps.vmas */
	};
	static const struct { const uint8_t *p; size_t n; } cases[] = {
		{ truncated_varint, sizeof(truncated_varint) },
		{ truncated_bytes, sizeof(truncated_bytes) },
		{ bad_wire_type, sizeof(bad_wire_type) },
		{ field_zero, sizeof(field_zero) },
		{ bad_submsg, sizeof(bad_submsg) },
		{ field_zero_long, sizeof(field_zero_long) },
		{ field_zero_nested, sizeof(field_zero_nested) },
	};
	Aspace__Request *out = NULL;
	Aspace__Response *rout = NULL;
	struct frame_arena a;
	size_t i;

	frame_arena_init(&a, 65536);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(frame_decode_request(&a, cases[i].p,
		    cases[i].n, &out), -EBADMSG);
		frame_arena_reset(&a);
	}
	/* The same check reaches into repeated messages of a response. */
	assert_int_equal(frame_decode_response(&a, field_zero_repeated,
	    sizeof(field_zero_repeated), &rout), -EBADMSG);
	frame_arena_reset(&a);
	/* An empty body is a valid, empty request: no op. */
	assert_int_equal(frame_decode_request(&a, NULL, 0, &out), 0);
	assert_int_equal(frame_request_op(out), -EINVAL);
	frame_arena_free(&a);
}

/* Request {id = 7, task = 2, field 99 = ""}, optionally with hello. */
static size_t unknown_op_body(uint8_t *b, int with_hello)
{
	size_t n = 0;

	b[n++] = 0x08;			/* id */
	b[n++] = 7;
	b[n++] = 0x18;			/* task */
	b[n++] = 2;
	b[n++] = 0x9a;			/* field 99, bytes: (99 << 3 | 2) */
	b[n++] = 0x06;			/* as a two-byte varint */
	b[n++] = 0;
	if (with_hello) {
		b[n++] = 0x82;		/* field 16 (hello), bytes */
		b[n++] = 0x01;
		b[n++] = 0;
	}
	return n;
}

static void test_unknown_op(void **state)
{
	Aspace__Request *out = NULL;
	struct frame_arena a;
	uint8_t b[32];
	size_t n;

	frame_arena_init(&a, 4096);
	n = unknown_op_body(b, 0);
	assert_int_equal(frame_decode_request(&a, b, n, &out), 0);
	assert_int_equal(out->op_case, ASPACE__REQUEST__OP__NOT_SET);
	assert_true(out->has_id);
	assert_int_equal(out->id, 7);		/* to echo */
	assert_int_equal(out->task, 2);
	assert_int_equal(out->base.n_unknown_fields, 1);
	assert_int_equal(out->base.unknown_fields[0].tag, 99);
	assert_int_equal(frame_request_op(out), -ENOSYS);
	frame_arena_reset(&a);
	/* A known op and an unknown one: which was meant is not clear. */
	n = unknown_op_body(b, 1);
	assert_int_equal(frame_decode_request(&a, b, n, &out), 0);
	assert_int_equal(out->op_case, ASPACE__REQUEST__OP_HELLO);
	assert_int_equal(frame_request_op(out), -EINVAL);
	frame_arena_reset(&a);
	/* An unknown envelope field (under 16) is ignored. */
	b[0] = 5 << 3;
	memcpy(b + 4, "\x82\x01\x00", 3);
	assert_int_equal(frame_decode_request(&a, b, 7, &out), 0);
	assert_int_equal(frame_request_op(out), ASPACE__REQUEST__OP_HELLO);
	frame_arena_free(&a);
}

static int setup_arena(void **state)
{
	static struct frame_arena a;

	frame_arena_init(&a, FRAME_ARENA_BUDGET(FRAME_MAX_BODY_DEFAULT));
	*state = &a;
	return 0;
}

static int teardown_arena(void **state)
{
	frame_arena_free(*state);
	return 0;
}

#define ARENA_TEST(f) \
	cmocka_unit_test_setup_teardown(f, setup_arena, teardown_arena)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_header_good),
		cmocka_unit_test(test_header_bad_magic),
		cmocka_unit_test(test_header_bad_version),
		cmocka_unit_test(test_header_bad_flags),
		cmocka_unit_test(test_header_bad_reserved),
		cmocka_unit_test(test_header_partial),
		cmocka_unit_test(test_length_caps),
		cmocka_unit_test(test_build_header_errors),
		cmocka_unit_test(test_arena_alloc),
		cmocka_unit_test(test_arena_many_small),
		cmocka_unit_test(test_budget_exhausted_large_trace),
		cmocka_unit_test(test_budget_exhausted_unknown_fields),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_unknown_op),
		ARENA_TEST(test_round_trip_hello),
		ARENA_TEST(test_round_trip_session_create),
		ARENA_TEST(test_round_trip_mmap),
		ARENA_TEST(test_round_trip_access_and_bytes),
		ARENA_TEST(test_round_trip_empty_ops),
		ARENA_TEST(test_round_trip_run_trace),
		ARENA_TEST(test_round_trip_response),
		ARENA_TEST(test_round_trip_shm_msync),
		cmocka_unit_test(test_encode_too_small),
		cmocka_unit_test(test_fast_decode),
		cmocka_unit_test(test_fast_decode_declines),
		cmocka_unit_test(test_fast_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

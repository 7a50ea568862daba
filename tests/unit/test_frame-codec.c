/*
 * test_frame-codec.c: test_frame's round trips of requests and responses
 * through frame_encode() and frame_decode_*(), an encode into too small
 * a buffer, and the hot path's codec (daemon/frame-fast.c) against
 * protobuf-c's (test_frame.c's top comment; test_frame.h).
 */
#include "test_frame.h"

/* --- round trips ----------------------------------------------------------- */

/* Encode r, decode it into a, check the envelope; the decoded request. */
static Aspace__Request *round_trip(struct frame_arena *a, Aspace__Request *r,
    int op)
{
	Aspace__Request *out = NULL;
	size_t len = pack(&r->base);

	frame_arena_reset(a);
	assert_int_equal(frame_decode_request(a, wire + FRAME_HEADER_SIZE,
	    len, &out), 0);
	assert_int_equal(frame_request_op(out), op);
	assert_int_equal(out->has_id, r->has_id);
	assert_int_equal(out->id, r->id);
	assert_int_equal(out->has_session, r->has_session);
	if (r->has_session) {
		assert_int_equal(out->session.len, r->session.len);
		assert_memory_equal(out->session.data, r->session.data,
		    r->session.len);
	}
	assert_int_equal(out->task, r->task);
	return out;
}

void test_round_trip_hello(void **state)
{
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;

	h.has_version = 1;
	h.version = ASPACE_PROTOCOL_VERSION;
	h.token = "s3cret-token";
	r.has_id = 1;
	r.id = UINT64_MAX;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_HELLO);
	assert_int_equal(out->hello->version, 1);
	assert_string_equal(out->hello->token, "s3cret-token");
	assert_null(out->hello->client);
}

void test_round_trip_session_create(void **state)
{
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__SessionCreateRequest sc = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Image img = ASPACE__IMAGE__INIT;

	img.name = "busybox";
	img.has_text = img.has_data = img.has_bss = 1;
	img.text = 1 << 20;
	img.data = 8192;
	img.bss = 0;
	sc.has_ram_bytes = sc.has_seed = sc.has_randomize = 1;
	sc.ram_bytes = 64u << 20;
	sc.seed = 0x123456789abcdefULL;
	sc.randomize = 1;
	sc.has_max_map_count = 1;
	sc.max_map_count = 100;
	sc.has_zero_page = sc.has_fault_around_bytes = 1;
	sc.has_rlimit_memlock = 1;
	sc.zero_page = 0;		/* present, and false */
	sc.fault_around_bytes = 4096;
	sc.rlimit_memlock = UINT64_MAX;	/* unlimited */
	sc.image = &img;
	r.has_id = 1;
	r.id = 2;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &sc;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_SESSION_CREATE);
	assert_int_equal(out->session_create->ram_bytes, 64u << 20);
	assert_int_equal(out->session_create->seed, 0x123456789abcdefULL);
	assert_true(out->session_create->randomize);
	assert_false(out->session_create->has_rlimit_stack);
	assert_int_equal(out->session_create->max_map_count, 100);
	assert_true(out->session_create->has_zero_page);
	assert_false(out->session_create->zero_page);
	assert_int_equal(out->session_create->fault_around_bytes, 4096);
	assert_true(out->session_create->rlimit_memlock == UINT64_MAX);
	assert_false(out->session_create->has_swap_bytes);
	assert_string_equal(out->session_create->image->name, "busybox");
	assert_int_equal(out->session_create->image->text, 1 << 20);
	assert_true(out->session_create->image->has_bss);
	assert_int_equal(out->session_create->image->bss, 0);
}

void test_round_trip_mmap(void **state)
{
	static uint8_t sid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	    14, 15, 16 };
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_prot = m.has_flags = 1;
	m.addr = 0x200000000000ULL;
	m.length = 16384;
	m.prot = PROT_READ;
	m.flags = MAP_PRIVATE | MAP_FIXED;
	m.file = "notes.txt";
	m.has_offset = 1;
	m.offset = 4096;
	r.has_id = r.has_session = r.has_task = 1;
	r.id = 3;
	r.session.data = sid;
	r.session.len = sizeof(sid);
	r.task = 3;
	r.op_case = ASPACE__REQUEST__OP_MMAP;
	r.mmap = &m;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_MMAP);
	assert_int_equal(out->mmap->addr, 0x200000000000ULL);
	assert_int_equal(out->mmap->length, 16384);
	assert_int_equal(out->mmap->prot, PROT_READ);
	assert_int_equal(out->mmap->flags, MAP_PRIVATE | MAP_FIXED);
	assert_string_equal(out->mmap->file, "notes.txt");
	assert_int_equal(out->mmap->offset, 4096);
}

void test_round_trip_access_and_bytes(void **state)
{
	static uint8_t data[FRAME_MAX_RW_BYTES];
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__AccessRequest ac = ASPACE__ACCESS_REQUEST__INIT;
	Aspace__WriteBytesRequest wb = ASPACE__WRITE_BYTES_REQUEST__INIT;
	size_t i;

	ac.has_addr = ac.has_kind = ac.has_value = 1;
	ac.addr = 0x7ffffffde000ULL;
	ac.kind = ASPACE__ACCESS_KIND__ACCESS_WRITE;
	ac.value = 0x22;
	r.op_case = ASPACE__REQUEST__OP_ACCESS;
	r.access = &ac;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_ACCESS);
	assert_int_equal(out->access->kind, ASPACE__ACCESS_KIND__ACCESS_WRITE);
	assert_int_equal(out->access->value, 0x22);
	assert_false(out->access->has_explain);
	assert_true(out->access->explain);	/* [default = true] */

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	wb.has_addr = wb.has_data = 1;
	wb.addr = 0x1000;
	wb.data.data = data;
	wb.data.len = sizeof(data);
	r.op_case = ASPACE__REQUEST__OP_WRITE_BYTES;
	r.write_bytes = &wb;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_WRITE_BYTES);
	assert_int_equal(out->write_bytes->data.len, sizeof(data));
	assert_memory_equal(out->write_bytes->data.data, data, sizeof(data));
}

void test_round_trip_empty_ops(void **state)
{
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ForkRequest f = ASPACE__FORK_REQUEST__INIT;
	Aspace__ExitRequest e = ASPACE__EXIT_REQUEST__INIT;
	Aspace__SessionListRequest sl = ASPACE__SESSION_LIST_REQUEST__INIT;

	r.has_task = 1;
	r.task = 1;
	r.op_case = ASPACE__REQUEST__OP_FORK;
	r.fork = &f;
	assert_non_null(round_trip(a, &r, ASPACE__REQUEST__OP_FORK)->fork);
	r.op_case = ASPACE__REQUEST__OP_EXIT;
	r.exit = &e;
	assert_non_null(round_trip(a, &r, ASPACE__REQUEST__OP_EXIT)->exit);
	r.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	r.session_list = &sl;
	assert_non_null(round_trip(a, &r,
	    ASPACE__REQUEST__OP_SESSION_LIST)->session_list);
}

void test_round_trip_run_trace(void **state)
{
	static const char text[] = "window 0x200000000000 0x10000000\n"
	    "mmap 0x200000000000 8K rw- private,anon,fixed\n\0nul\r\n";
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__RunTraceRequest rt = ASPACE__RUN_TRACE_REQUEST__INIT;
	Aspace__SessionCreateRequest p = ASPACE__SESSION_CREATE_REQUEST__INIT;

	p.has_seed = p.has_randomize = 1;
	p.seed = 42;
	p.randomize = 1;
	rt.has_text = 1;
	rt.text.data = (uint8_t *)text;
	rt.text.len = sizeof(text) - 1;		/* with its NUL byte */
	rt.params = &p;
	r.has_id = 1;
	r.id = 1000;
	r.op_case = ASPACE__REQUEST__OP_RUN_TRACE;
	r.run_trace = &rt;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_RUN_TRACE);
	assert_int_equal(out->run_trace->text.len, sizeof(text) - 1);
	assert_memory_equal(out->run_trace->text.data, text, sizeof(text) - 1);
	assert_int_equal(out->run_trace->params->seed, 42);
	assert_false(out->run_trace->has_keep);
}

void test_round_trip_shm_msync(void **state)
{
	struct frame_arena *a = *state;
	Aspace__Request r = ASPACE__REQUEST__INIT, *out;
	Aspace__ShmatRequest at = ASPACE__SHMAT_REQUEST__INIT;
	Aspace__ShmgetRequest g = ASPACE__SHMGET_REQUEST__INIT;
	Aspace__MsyncRequest ms = ASPACE__MSYNC_REQUEST__INIT;
	Aspace__Response resp = ASPACE__RESPONSE__INIT, *rout = NULL;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__AddrResult ar = ASPACE__ADDR_RESULT__INIT;
	size_t len;

	at.name = "seg.0";
	at.has_addr = at.has_flags = 1;
	at.addr = 0x300000000000ULL;
	at.flags = 0x1000 | 0x4000;	/* SHM_RDONLY | SHM_REMAP */
	r.has_task = 1;
	r.task = 2;
	r.op_case = ASPACE__REQUEST__OP_SHMAT;
	r.shmat = &at;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_SHMAT);
	assert_string_equal(out->shmat->name, "seg.0");
	assert_int_equal(out->shmat->addr, 0x300000000000ULL);
	assert_int_equal(out->shmat->flags, 0x5000);
	assert_int_equal(out->task, 2);

	g.name = "seg.0";
	g.has_size = 1;
	g.size = 1ULL << 33;
	r.op_case = ASPACE__REQUEST__OP_SHMGET;
	r.shmget = &g;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_SHMGET);
	assert_string_equal(out->shmget->name, "seg.0");
	assert_int_equal(out->shmget->size, 1ULL << 33);

	/* Presence kept: length absent is not length 0. */
	ms.has_addr = ms.has_flags = 1;
	ms.addr = 0x200000000000ULL;
	ms.flags = 4;
	r.op_case = ASPACE__REQUEST__OP_MSYNC;
	r.msync = &ms;
	out = round_trip(a, &r, ASPACE__REQUEST__OP_MSYNC);
	assert_int_equal(out->msync->flags, 4);
	assert_false(out->msync->has_length);

	/* shmat's answer: result field 47, an AddrResult. */
	ar.has_addr = 1;
	ar.addr = 0x7ffff7ff5000ULL;
	st.has_code = 1;
	st.code = ASPACE__STATUS__CODE__OK;
	resp.status = &st;
	resp.result_case = ASPACE__RESPONSE__RESULT_SHMAT;
	resp.shmat = &ar;
	len = pack(&resp.base);
	frame_arena_reset(a);
	assert_int_equal(frame_decode_response(a, wire + FRAME_HEADER_SIZE, len,
	    &rout), 0);
	assert_int_equal(rout->result_case, ASPACE__RESPONSE__RESULT_SHMAT);
	assert_int_equal(rout->result_case, ASPACE__REQUEST__OP_SHMAT);
	assert_int_equal(rout->shmat->addr, 0x7ffff7ff5000ULL);
}

void test_round_trip_response(void **state)
{
	struct frame_arena *a = *state;
	Aspace__Response r = ASPACE__RESPONSE__INIT, *out = NULL;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__MapsResult mr = ASPACE__MAPS_RESULT__INIT;
	Aspace__Vma v[2] = { ASPACE__VMA__INIT, ASPACE__VMA__INIT };
	Aspace__Vma *vp[2] = { &v[0], &v[1] };
	size_t len;

	v[0].has_start = v[0].has_end = 1;
	v[0].start = 0x200000000000ULL;
	v[0].end = 0x200000004000ULL;
	v[0].perms = "rw-p";
	v[1].has_start = v[1].has_end = 1;
	v[1].start = 0x7ffffffde000ULL;
	v[1].end = 0x7ffffffff000ULL;
	v[1].perms = "rw-p";
	v[1].name = "[stack]";
	mr.n_vmas = 2;
	mr.vmas = vp;
	st.has_code = 1;
	st.code = ASPACE__STATUS__CODE__OK;
	r.has_id = 1;
	r.id = 9;
	r.status = &st;
	r.result_case = ASPACE__RESPONSE__RESULT_MAPS;
	r.maps = &mr;
	len = pack(&r.base);
	frame_arena_reset(a);
	assert_int_equal(frame_decode_response(a, wire + FRAME_HEADER_SIZE, len,
	    &out), 0);
	assert_int_equal(out->id, 9);
	assert_int_equal(out->status->code, ASPACE__STATUS__CODE__OK);
	assert_int_equal(out->result_case, ASPACE__RESPONSE__RESULT_MAPS);
	assert_int_equal(out->maps->n_vmas, 2);
	assert_int_equal(out->maps->vmas[1]->end, 0x7ffffffff000ULL);
	assert_string_equal(out->maps->vmas[1]->name, "[stack]");
	assert_null(out->maps->vmas[0]->name);

	/* An errno answer. */
	st.code = ASPACE__STATUS__CODE__ERRNO;
	st.errname = "ENOMEM";
	st.has_errnum = 1;
	st.errnum = ENOMEM;
	r.result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
	len = pack(&r.base);
	frame_arena_reset(a);
	assert_int_equal(frame_decode_response(a, wire + FRAME_HEADER_SIZE, len,
	    &out), 0);
	assert_int_equal(out->status->code, ASPACE__STATUS__CODE__ERRNO);
	assert_string_equal(out->status->errname, "ENOMEM");
	assert_int_equal(out->status->errnum, 12);
}

void test_encode_too_small(void **state)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	uint8_t small[FRAME_HEADER_SIZE + 1];

	r.has_id = 1;
	r.id = 300;		/* two varint bytes: a 3-byte body */
	assert_int_equal(frame_encoded_size(&r.base), FRAME_HEADER_SIZE + 3);
	assert_int_equal(frame_encode(&r.base, 0, small, sizeof(small)),
	    -EMSGSIZE);
	assert_int_equal(frame_encode(&r.base, 0, small, 4), -EMSGSIZE);
	assert_int_equal(frame_encode(&r.base, 0x40, wire, sizeof(wire)),
	    -EINVAL);
}

/* --- the hot path's codec (frame-fast.c) ------------------------------ */

/* The fast decoder takes r's packed body and agrees with protobuf-c. */
static void expect_fast(const Aspace__Request *r)
{
	size_t len = pack(&r->base);
	struct frame_fast_req fr;

	assert_true(frame_fast_decode(wire + FRAME_HEADER_SIZE, len, &fr));
	assert_int_equal(fr.req.op_case, ASPACE__REQUEST__OP_ACCESS);
	assert_ptr_equal(fr.req.access, &fr.access);
	assert_int_equal(fr.req.has_id, r->has_id);
	assert_int_equal(fr.req.id, r->has_id ? r->id : 0);
	assert_int_equal(fr.req.has_task, r->has_task);
	assert_int_equal(fr.req.task, r->has_task ? r->task : 0);
	assert_int_equal(fr.req.has_session, r->has_session);
	assert_int_equal(fr.req.session.len, r->has_session ?
	    r->session.len : 0);
	if (r->has_session)
		assert_memory_equal(fr.req.session.data, r->session.data,
		    r->session.len);
	assert_int_equal(fr.access.has_addr, r->access->has_addr);
	assert_int_equal(fr.access.addr, r->access->addr);
	assert_int_equal(fr.access.kind, r->access->kind);
	assert_int_equal(fr.access.has_value, r->access->has_value);
	assert_int_equal(fr.access.value, r->access->value);
	assert_int_equal(fr.access.has_explain, r->access->has_explain);
	assert_int_equal(fr.access.explain, r->access->explain);
}

void test_fast_decode(void **state)
{
	static const uint8_t sid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__AccessRequest ac = ASPACE__ACCESS_REQUEST__INIT;

	(void)state;
	r.has_id = r.has_session = r.has_task = 1;
	r.id = ~0ULL;
	r.session.data = (uint8_t *)sid;
	r.session.len = sizeof(sid);
	r.task = -2;			/* ten bytes on the wire */
	r.op_case = ASPACE__REQUEST__OP_ACCESS;
	r.access = &ac;
	expect_fast(&r);		/* an empty access: the defaults */
	ac.has_addr = ac.has_kind = ac.has_value = ac.has_explain = 1;
	ac.addr = 0x7ffffffde123ULL;
	ac.kind = ASPACE__ACCESS_KIND__ACCESS_EXEC;
	ac.value = 0xffffffffu;
	ac.explain = 0;
	expect_fast(&r);
	r.has_id = r.has_session = r.has_task = 0;
	expect_fast(&r);
}

/* Bodies the fast decoder leaves to protobuf-c. */
void test_fast_decode_declines(void **state)
{
	static const uint8_t bodies[][12] = {
		{ 0x08, 0x01, 0x08, 0x02, 0xe2, 0x01, 0x00 },	/* id twice */
		{ 0x08, 0x01, 0xa2, 0x01, 0x00 },	/* mmap, not access */
		{ 0x08, 0x01 },				/* no op */
		{ 0xe2, 0x01, 0x04, 0x08, 0x01, 0x28, 0x01 },	/* field 5 */
		{ 0xe2, 0x01, 0x80, 0x00 },		/* long length */
		{ 0x88, 0x00, 0x01, 0xe2, 0x01, 0x00 },	/* long tag */
		{ 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0xe2, 0x01, 0x00 }, /* fixed64 */
		{ 0xe2, 0x01, 0x05, 0x08 },		/* short */
		{ 0x78, 0x01, 0xe2, 0x01, 0x00 },	/* unknown field 15 */
	};
	static const size_t lens[] = { 7, 5, 2, 7, 4, 6, 12, 4, 5 };
	struct frame_fast_req fr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		assert_false(frame_fast_decode(bodies[i], lens[i], &fr));
}

/* The fast encoder writes r as frame_encode() does, or declines it. */
static void expect_fast_encode(Aspace__Response *r, bool takes)
{
	static uint8_t fast[256];
	struct frame_fast_sizes fs;
	long n;

	assert_int_equal(frame_fast_size(r, &fs), takes);
	if (!takes)
		return;
	n = frame_encode(&r->base, 0, wire, sizeof(wire));
	assert_int_equal(FRAME_HEADER_SIZE + fs.body, (size_t)n);
	assert_int_equal(frame_fast_encode(r, &fs, fast, (size_t)n - 1),
	    -EMSGSIZE);
	assert_int_equal(frame_fast_encode(r, &fs, fast, sizeof(fast)), n);
	assert_memory_equal(fast, wire, (size_t)n);
}

void test_fast_encode(void **state)
{
	Aspace__Response r = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;
	Aspace__AccessResult ar = ASPACE__ACCESS_RESULT__INIT;
	Aspace__Fault f = ASPACE__FAULT__INIT;

	(void)state;
	r.status = &st;
	r.result_case = ASPACE__RESPONSE__RESULT_ACCESS;
	r.access = &ar;
	expect_fast_encode(&r, true);	/* no id, no code, empty result */
	r.has_id = st.has_code = ar.has_value = 1;
	r.id = 1ULL << 63;
	st.code = ASPACE__STATUS__CODE__OK;
	ar.value = 0xab;
	expect_fast_encode(&r, true);
	ar.explain = (char *)"do_anonymous_page: a zeroed frame";
	expect_fast_encode(&r, true);
	st.code = (Aspace__Status__Code)-1;	/* sign-extended */
	expect_fast_encode(&r, true);
	ar.fault = &f;
	expect_fast_encode(&r, false);	/* a fault: protobuf-c's */
	ar.fault = NULL;
	st.message = (char *)"why";
	expect_fast_encode(&r, false);
	st.message = NULL;
	r.access = NULL;
	expect_fast_encode(&r, false);
	r.access = &ar;
	r.result_case = ASPACE__RESPONSE__RESULT__NOT_SET;
	expect_fast_encode(&r, false);
}

/*
 * req-session-create.c: session_create (docs/protocol.md, section 5),
 * and the translation of a SessionCreateRequest into session parameters
 * (its RAM, image and the kernel parameters, each checked as a trace's
 * `kernel` line is) that run_trace shares.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "req.h"

static int bad(struct req_ctx *c, const char *msg)
{
	req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST, msg);
	return -1;
}

static int image_params(struct req_ctx *c, const Aspace__Image *im,
    struct as_image *img)
{
	if (im->name == NULL || !req_image_name_ok(im->name))
		return bad(c, "image.name: 1-63 of [A-Za-z0-9._-]");
	as_image_default(img, im->name);
	if (im->has_text)
		img->text = im->text;
	if (im->has_data)
		img->data = im->data;
	if (im->has_bss)
		img->bss = im->bss;
	return 0;
}

/* One kernel parameter of the request, if present: checked by
 * kparam_valid(), else BAD_REQUEST with msg (the field and its range). */
static int kparam_field(struct req_ctx *c, struct as_session_params *p,
    enum kparam k, bool has, uint64_t v, const char *msg)
{
	if (!has)
		return 0;
	if (!kparam_valid(k, v))
		return bad(c, msg);
	p->kparam[k] = v;
	return 0;
}

/* The seven kernel parameters (trace-v2 `kernel`), each as kparam_valid()
 * has it. */
static int kernel_params(struct req_ctx *c,
    const Aspace__SessionCreateRequest *r, struct as_session_params *p)
{
	if (kparam_field(c, p, KP_ZERO_PAGE, r->has_zero_page,
	    r->zero_page ? 1 : 0, "zero_page: true or false") != 0 ||
	    kparam_field(c, p, KP_SWAP, r->has_swap_bytes, r->swap_bytes,
	    "swap_bytes: at most 1 TiB") != 0 ||
	    kparam_field(c, p, KP_FAULT_AROUND_BYTES,
	    r->has_fault_around_bytes, r->fault_around_bytes,
	    "fault_around_bytes: a power of two from 4096 to 65536") != 0 ||
	    kparam_field(c, p, KP_MAX_MAP_COUNT, r->has_max_map_count,
	    (uint64_t)(int64_t)r->max_map_count,
	    "max_map_count: 1 to 65530") != 0 ||
	    kparam_field(c, p, KP_RLIMIT_STACK, r->has_rlimit_stack,
	    r->rlimit_stack, "rlimit_stack: at most 1 TiB") != 0)
		return -1;
	if (kparam_field(c, p, KP_RAM, r->has_kernel_ram, r->kernel_ram,
	    "kernel_ram: whole pages, at least 64 KiB") != 0 ||
	    kparam_field(c, p, KP_SHARE_TABLES, r->has_share_tables,
	    r->share_tables ? 1 : 0, "share_tables: true or false") != 0)
		return -1;
	return kparam_field(c, p, KP_RLIMIT_MEMLOCK, r->has_rlimit_memlock,
	    r->rlimit_memlock, "rlimit_memlock: at most 1 TiB, or "
	    "18446744073709551615 (2^64-1) for unlimited");
}

/* ram_bytes: at least 1 MiB, at most the daemon's --max-ram (QUOTA). */
static int ram_param(struct req_ctx *c, uint64_t ram,
    struct as_session_params *p)
{
	if (ram < (1UL << 20))
		return bad(c, "ram_bytes: at least 1 MiB");
	if (ram > server_ram_max(c->srv)) {
		metrics_inc(MC_LIMIT_RAM);
		log_abuse(ABUSE_LIMITS, LOG_NOTICE, "a session of %lu "
		    "bytes refused: over --max-ram", ram);
		req_status(c, ASPACE__STATUS__CODE__QUOTA,
		    "ram_bytes over the daemon's limit");
		return -1;
	}
	p->ram_bytes = ram;
	return 0;
}

int req_session_params(struct req_ctx *c,
    const Aspace__SessionCreateRequest *r, struct as_session_params *p)
{
	as_session_params_default(p);
	/* Without ram_bytes: 1 GiB, or --max-ram if less. */
	if (p->ram_bytes > server_ram_max(c->srv))
		p->ram_bytes = server_ram_max(c->srv);
	/* Charged to the tenant, and through it to --ram-total (a session
	 * of the table is charged so by stable_create() as well). */
	p->mem_parent = stable_tenant_mem(server_sessions(c->srv),
	    c->conn->tenant);
	if (r == NULL)
		return 0;
	if (r->has_ram_bytes && ram_param(c, r->ram_bytes, p) != 0)
		return -1;
	if (kernel_params(c, r, p) != 0)
		return -1;
	if (p->kparam[KP_RAM] > p->ram_bytes)
		return bad(c, "kernel_ram: at most ram_bytes");
	p->seed = r->seed;
	p->randomize = r->has_randomize && r->randomize;
	if (r->label != NULL && strlen(r->label) > SESSION_LABEL_MAX)
		return bad(c, "label: at most 64 bytes");
	if (r->image != NULL)
		return image_params(c, r->image, &p->image);
	return 0;
}

/* Answer a stable_create() error. */
static void create_failed(struct req_ctx *c, int err)
{
	if (err == -EDQUOT)
		req_status(c, ASPACE__STATUS__CODE__QUOTA, "session quota");
	else if (err == -EINVAL && stable_mem_full(server_sessions(c->srv)))
		req_status(c, ASPACE__STATUS__CODE__QUOTA,
		    "the daemon's RAM for all sessions is spent");
	else if (err == -EINVAL)
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "the session cannot be made with these parameters");
	else
		req_status(c, ASPACE__STATUS__CODE__INTERNAL,
		    "cannot make a session");
}

static void do_session_create_req(struct req_ctx *c)
{
	const Aspace__SessionCreateRequest *r = c->req->session_create;
	struct session_table *st = server_sessions(c->srv);
	Aspace__SessionCreateResult *res;
	struct as_session_params p;
	struct dsession *ds;
	uint8_t *id;
	int err;

	if (req_session_params(c, r, &p) != 0)
		return;
	if ((res = req_alloc(c, sizeof(*res))) == NULL ||
	    (id = req_alloc(c, SESSION_ID_LEN)) == NULL)
		return;
	if ((err = stable_create(st, c->conn->tenant, &p, r->label, &ds)) != 0) {
		create_failed(c, err);
		return;
	}
	memcpy(id, ds->id, SESSION_ID_LEN);
	stable_put(st, ds);
	aspace__session_create_result__init(res);
	res->has_session = true;
	res->session.data = id;
	res->session.len = SESSION_ID_LEN;
	res->has_task = true;
	res->task = 1;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_SESSION_CREATE;
	c->resp->session_create = res;
}

const struct request_entry req_session_create_entry = {
	.op = ASPACE__REQUEST__OP_SESSION_CREATE,
	.mode = LOCK_NONE,
	.flags = 0,
	.handler = do_session_create_req,
};

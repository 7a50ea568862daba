/*
 * req-session-create.c: session_create (docs/protocol.md, section 5),
 * and the translation of a SessionCreateRequest into session parameters
 * that run_trace shares.
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

int req_session_params(struct req_ctx *c,
    const Aspace__SessionCreateRequest *r, struct as_session_params *p)
{
	as_session_params_default(p);
	if (r == NULL)
		return 0;
	if (r->has_ram_bytes) {
		if (r->ram_bytes < (1UL << 20))
			return bad(c, "ram_bytes: at least 1 MiB");
		if (r->ram_bytes > server_ram_max(c->srv)) {
			metrics_inc(MC_LIMIT_RAM);
			log_abuse(ABUSE_LIMITS, LOG_NOTICE, "a session of %lu "
			    "bytes refused: over --max-ram", r->ram_bytes);
			req_status(c, ASPACE__STATUS__CODE__QUOTA,
			    "ram_bytes over the daemon's limit");
			return -1;
		}
		p->ram_bytes = r->ram_bytes;
	}
	if (r->has_swap_bytes) {
		if (!kparam_valid(KP_SWAP, r->swap_bytes))
			return bad(c, "swap_bytes: at most 1 TiB");
		p->kparam[KP_SWAP] = r->swap_bytes;
	}
	p->seed = r->seed;
	p->randomize = r->has_randomize && r->randomize;
	if (r->has_rlimit_stack) {
		if (!kparam_valid(KP_RLIMIT_STACK, r->rlimit_stack))
			return bad(c, "rlimit_stack: at most 1 TiB");
		p->kparam[KP_RLIMIT_STACK] = r->rlimit_stack;
	}
	if (r->has_max_map_count) {
		if (r->max_map_count <= 0 || r->max_map_count > 65530)
			return bad(c, "max_map_count: 1 to 65530");
		p->kparam[KP_MAX_MAP_COUNT] = (unsigned long)r->max_map_count;
	}
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
	else if (err == -EINVAL)
		req_status(c, ASPACE__STATUS__CODE__BAD_REQUEST,
		    "the session cannot be made with these parameters");
	else
		req_status(c, ASPACE__STATUS__CODE__INTERNAL,
		    "cannot make a session");
}

static void session_create(struct req_ctx *c)
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
	ASPACE__REQUEST__OP_SESSION_CREATE, LOCK_NONE, 0, session_create
};

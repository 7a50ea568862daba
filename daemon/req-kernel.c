/*
 * req-kernel.c: kernel (docs/protocol.md, section 5): the session's six
 * kernel parameters (trace-v2 `kernel NAME VALUE`) in enum kparam's
 * order, and `kernel ram` (a simulator extension) if the session uses
 * less than its RAM, each with its value and that value as a trace writes it, so
 * that a client can print lines to paste into a trace.  They change only
 * under the session's write lock (a run_trace's `kernel` lines), so a
 * read lock is enough here.
 */
#include <stdio.h>
#include <string.h>

#include "req.h"

static Aspace__KernelParam *param_msg(struct req_ctx *c, enum kparam k,
    unsigned long v)
{
	Aspace__KernelParam *m = req_alloc(c, sizeof(*m));
	const char *name = kparam_name(k);
	char text[32];
	int n = kparam_format(text, sizeof(text), k, v);

	if (m == NULL || n < 0 || (size_t)n >= sizeof(text))
		return NULL;
	aspace__kernel_param__init(m);
	m->name = req_strdup(c, name, strlen(name));
	m->has_value = true;
	m->value = v;
	m->text = req_strdup(c, text, (size_t)n);
	return m;
}

static void do_kernel_req(struct req_ctx *c)
{
	Aspace__KernelResult *r = req_alloc(c, sizeof(*r));
	Aspace__KernelParam **v = req_alloc(c, sizeof(*v) * KP_COUNT);
	unsigned long val;
	size_t n = 0;
	int k;

	if (r == NULL || v == NULL)
		return;
	aspace__kernel_result__init(r);
	for (k = 0; k < KP_COUNT; k++) {
		val = as_kparam_get(c->ds->s, (enum kparam)k);
		if (k == KP_RAM && val == 0)
			continue;	/* all of the session's RAM */
		if ((v[n++] = param_msg(c, (enum kparam)k, val)) == NULL) {
			req_status(c, ASPACE__STATUS__CODE__INTERNAL,
			    "kernel: out of memory");
			return;
		}
	}
	r->params = v;
	r->n_params = n;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_KERNEL;
	c->resp->kernel = r;
}

const struct request_entry req_kernel_entry = {
	.op = ASPACE__REQUEST__OP_KERNEL,
	.mode = LOCK_SESSION_READ,
	.flags = 0,
	.handler = do_kernel_req,
};

/*
 * kernel.c: the simulated machine's kernel parameters on the command
 * line (trace-v2 `kernel NAME VALUE`, docs/trace-format.md):
 *
 *   aspace session create --kernel NAME=VALUE ...   (and run, shell)
 *   aspace kernel ID | --session ID [--json]         (subcmd.c)
 *
 * --kernel takes NAME and VALUE exactly as a trace's `kernel` line does
 * (trace_parse_kparam()) and sets the matching SessionCreateRequest field
 * (and, for aspace run --local, the session's parameters).  aspace kernel
 * prints a session's parameters through the kernel op as the trace lines
 * that would make them, "kernel NAME VALUE", ready to paste into a trace.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "session.h"
#include "shell.h"
#include "trace_parse.h"

/* Set the request's field for parameter k. */
static void set_field(Aspace__SessionCreateRequest *r, enum kparam k,
    unsigned long v)
{
	switch (k) {
	case KP_ZERO_PAGE:
		r->has_zero_page = true;
		r->zero_page = v != 0;
		break;
	case KP_SWAP:
		r->has_swap_bytes = true;
		r->swap_bytes = v;
		break;
	case KP_FAULT_AROUND_BYTES:
		r->has_fault_around_bytes = true;
		r->fault_around_bytes = v;
		break;
	case KP_MAX_MAP_COUNT:
		r->has_max_map_count = true;
		r->max_map_count = (int32_t)v;
		break;
	case KP_RLIMIT_STACK:
		r->has_rlimit_stack = true;
		r->rlimit_stack = v;
		break;
	case KP_RLIMIT_MEMLOCK:	/* KP_UNLIMITED is the wire's 2^64-1 */
		r->has_rlimit_memlock = true;
		r->rlimit_memlock = v;
		break;
	case KP_SHARE_TABLES:
		r->has_share_tables = true;
		r->share_tables = v != 0;
		break;
	case KP_RAM:
		r->has_kernel_ram = true;
		r->kernel_ram = v;
		break;
	default:
		break;
	}
}

/* The names trace_parse_kparam() knows, for a message. */
static void print_names(FILE *f)
{
	int k;

	for (k = 0; k < KP_COUNT; k++)
		fprintf(f, "%s%s", k > 0 ? ", " : "", kparam_name(k));
}

int cli_kernel_arg(const char *arg, Aspace__SessionCreateRequest *r,
    struct as_session_params *p)
{
	const char *eq = strchr(arg, '='), *msg;
	unsigned long v;
	enum kparam k;
	char err[160];

	if (eq == NULL || eq == arg) {
		fprintf(stderr, "aspace: --kernel %s: want NAME=VALUE, "
		    "as a trace's \"kernel NAME VALUE\"\n", arg);
		return 2;
	}
	if (trace_parse_kparam(arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1),
	    &k, &v, err, sizeof(err)) != 0) {
		/* "kernel NAME: bad VALUE ..." without its "kernel NAME: " */
		msg = strncmp(err, "kernel ", 7) == 0 && strstr(err, ": ") ?
		    strstr(err, ": ") + 2 : err;
		fprintf(stderr, "aspace: --kernel %s: %s", arg, msg);
		if (strncmp(msg, "unknown", 7) == 0) {
			fputs(" (", stderr);
			print_names(stderr);
			fputc(')', stderr);
		}
		fputc('\n', stderr);
		return 2;
	}
	if (k == KP_RAM && p != NULL && v > p->ram_bytes) {
		fprintf(stderr, "aspace: --kernel %s: more than the session's "
		    "RAM (%lu bytes)\n", arg, p->ram_bytes);
		return 2;
	}
	set_field(r, k, v);
	if (p != NULL)
		p->kparam[k] = v;
	return 0;
}

/* The parameters of the reply, as trace lines or a JSON object. */
static void print_params(const Aspace__KernelResult *res, const char *hex,
    bool json)
{
	const Aspace__KernelParam *m;
	json_t *params = json_array();
	size_t i;

	for (i = 0; i < res->n_params; i++) {
		m = res->params[i];
		if (!json) {
			printf("kernel %s %s\n", m->name, m->text);
			continue;
		}
		/* value: rlimit_memlock unlimited, 2^64 - 1, as a string */
		cli_json_append(&params, json_pack("{s:o,s:o,s:o}", "name",
		    cli_json_cstr(m->name), "value", cli_json_u64(m->value),
		    "text", cli_json_cstr(m->text)));
	}
	if (json)
		cli_json_print(json_pack("{s:s,s:s,s:o}", "command", "kernel",
		    "session", hex, "params", params));
	else
		json_decref(params);
}

static int kernel_fail(const struct asc_status *st)
{
	char msg[512];

	fprintf(stderr, "aspace: kernel: %s\n",
	    asc_status_str(st, msg, sizeof(msg)));
	return st->code == ASC_LOCAL ? 2 : 1;
}

int cli_kernel_show(struct asc_client *c, const uint8_t *sid,
    const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__KernelRequest q = ASPACE__KERNEL_REQUEST__INIT;
	struct asc_reply *rp;
	struct asc_status st;
	char hex[33];

	r.has_session = true;
	r.session.data = (uint8_t *)sid;
	r.session.len = ASC_SESSION_ID_LEN;
	r.op_case = ASPACE__REQUEST__OP_KERNEL;
	r.kernel = &q;
	if (asc_call(c, &r, &rp, &st) != 0)
		return kernel_fail(&st);
	if (asc_reply_status(rp, &st) != 0) {
		asc_reply_free(rp);
		return kernel_fail(&st);
	}
	if (asc_reply_response(rp)->result_case !=
	    ASPACE__RESPONSE__RESULT_KERNEL) {
		asc_reply_free(rp);
		fprintf(stderr, "aspace: kernel: a response without its "
		    "result\n");
		return 2;
	}
	print_params(asc_reply_response(rp)->kernel,
	    asc_session_hex(sid, hex), o->json);
	asc_reply_free(rp);
	return 0;
}

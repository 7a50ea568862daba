/*
 * req-fault.c: the Fault message of an access that ended in a signal (or
 * found no frame), shared by access, read_bytes and write_bytes: the names
 * as the trace prints them (SIGSEGV SEGV_MAPERR...), oom with signal 0.
 */
#include "fault.h"
#include "req.h"

static const char *fault_code_name(const struct access_result *a)
{
	if (a->code == AS_SI_KERNEL)
		return "SI_KERNEL";
	if (a->sig == AS_SIGBUS)
		return "BUS_ADRERR";
	return a->code == AS_SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR";
}

Aspace__Fault *req_fault(struct req_ctx *c, unsigned long addr,
    const struct access_result *a)
{
	Aspace__Fault *f = req_alloc(c, sizeof(*f));

	if (f == NULL)
		return NULL;
	aspace__fault__init(f);
	f->has_addr = true;
	f->addr = addr;
	f->has_signal = true;
	if (a->sig == AS_OOM) {
		f->signal = 0;
		f->has_oom = true;
		f->oom = true;
		return f;
	}
	f->signal = a->sig;
	f->has_code = true;
	f->code = a->code;
	f->signal_name = (char *)(a->sig == AS_SIGBUS ? "SIGBUS" : "SIGSEGV");
	f->code_name = (char *)fault_code_name(a);
	return f;
}

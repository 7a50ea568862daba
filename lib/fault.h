/*
 * fault.h: a task's memory accesses (load, store, instruction fetch) with
 * the signals they raise, as a trace or a client makes them.
 */
#ifndef ASPACE_FAULT_H
#define ASPACE_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "explain.h"
#include "mm_types.h"

enum as_access { AS_READ, AS_WRITE, AS_EXEC };

/* Signals and si_codes with Linux's numbers. */
#define AS_SIGBUS	7
#define AS_SIGSEGV	11
#define AS_OOM		(-1)	/* VM_FAULT_OOM: no frame to be had */
#define AS_SEGV_MAPERR	1
#define AS_SEGV_ACCERR	2
#define AS_BUS_ADRERR	2
#define AS_SI_KERNEL	0x80

struct access_result {
	bool		 store;		/* AS_WRITE stores value */
	uint8_t		 value;		/* byte stored, or byte loaded */
	int		 sig;		/* 0, AS_SIGSEGV, AS_SIGBUS or AS_OOM */
	int		 code;		/* si_code */
	struct as_explain explain;
};

/* Make the access; 0 on success, -1 with r->sig and r->code set. */
int as_access(struct task *t, unsigned long addr, enum as_access kind,
    struct access_result *r);

#endif /* ASPACE_FAULT_H */

/*
 * trace_parse.h: the one parser of trace-v1 command lines (see
 * docs/trace-format.md), shared by the simulator and the Linux
 * reference runner so that both read a trace identically.  Also the small
 * formatting helpers whose output the spec fixes (errno names, maps lines).
 *
 * Plain C11: no I/O, no global state.
 */
#ifndef ASPACE_TRACE_PARSE_H
#define ASPACE_TRACE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "uapi.h"

enum trace_op {
	T_WINDOW, T_FILE, T_MMAP, T_MUNMAP, T_MPROTECT, T_MREMAP, T_MADVISE,
	T_MLOCK, T_MUNLOCK, T_BRK, T_READ, T_WRITE, T_TOUCH, T_FORK, T_THREAD,
	T_SWITCH, T_EXIT, T_MAPS, T_SMAPS,
	T_EXEC, T_VFORK,	/* extensions: the simulator only */
	T_KERNEL,		/* trace-v2 */
	T_MSYNC, T_SHMGET, T_SHMAT, T_SHMDT, T_SHMRM
};

/* The simulated kernel's parameters (trace-v2 `kernel NAME VALUE`). */
enum kparam {
	KP_ZERO_PAGE,		/* 1 on, 0 off (mm_forbids_zeropage()) */
	KP_SWAP,		/* bytes of swap, 0: none */
	KP_FAULT_AROUND_BYTES,	/* a power of two, 4096..65536 */
	KP_MAX_MAP_COUNT,	/* 1..65530 */
	KP_RLIMIT_STACK,	/* bytes */
	KP_RLIMIT_MEMLOCK,	/* bytes, or KP_UNLIMITED */
	KP_RAM,			/* bytes of RAM, 0: the session's (extension) */
	KP_SHARE_TABLES,	/* 1 on, 0 off: fork shares PTE tables (extension) */
	KP_COUNT
};
#define KP_UNLIMITED	(~0UL)
#define KP_RAM_MIN	(64UL << 10)	/* `kernel ram`'s least */

#define TRACE_NAME_MAX 64

struct trace_cmd {
	enum trace_op op;
	unsigned long addr;	/* window START, ADDR of mmap..touch, brk ADDR */
	unsigned long len;	/* window LEN, LEN, mremap OLDLEN, file SIZE,
				   exec TEXT */
	unsigned long new_len;	/* mremap NEWLEN, exec DATA */
	unsigned long new_addr;	/* mremap NEWADDR (0 if absent) */
	int has_new_addr;
	unsigned long prot;	/* PROT_* bits */
	unsigned long flags;	/* mmap: MAP_* bits; mremap: MREMAP_* bits;
				   msync: MS_*; shmat: SHM_* */
	int advice;		/* MADV_* */
	char access;		/* 'r' 'w' 'x' for touch */
	unsigned int byte;	/* write BYTE */
	unsigned long id;	/* switch ID */
	char name[TRACE_NAME_MAX]; /* file NAME, or mmap NAME of a file mapping,
				      or a shm segment's NAME */
	unsigned long offset;	/* mmap OFFSET (bytes), exec BSS */
	int has_file;		/* mmap names a file; exec gives sizes */
	enum kparam param;	/* kernel NAME; its VALUE is in len */
};

/*
 * Parse one line of len bytes (without its newline; a trailing '\r' is
 * ignored).  Returns 1 and fills *cmd for a command, 0 for a blank or
 * comment-only line, -1 on a parse error with a short message in err
 * (no "error:" prefix, no line number).
 */
int trace_parse_line(const char *line, size_t len, struct trace_cmd *cmd,
		     char *err, size_t errlen);

/*
 * One kernel parameter, NAME and VALUE as a trace writes them (also the
 * NAME=VALUE of `aspace session create --kernel`): 0 with *param and
 * *value, or -1 with a message in err.
 */
int trace_parse_kparam(const char *name, size_t nlen, const char *value,
		       size_t vlen, enum kparam *param, unsigned long *value_out,
		       char *err, size_t errlen);
/* Is v a value parameter k may take? */
bool kparam_valid(enum kparam k, unsigned long v);
/* A parameter's name ("zero_page"), NULL past KP_COUNT. */
const char *kparam_name(enum kparam k);
/* Its value as a trace writes it: "off", "64M", "unlimited", "65530". */
int kparam_format(char *buf, size_t size, enum kparam k, unsigned long v);
/* The value of a machine that no `kernel` line changed. */
unsigned long kparam_default(enum kparam k);

/* An ADVICE's word as a trace writes it ("dontneed"), "?" if none. */
const char *trace_advice_name(int advice);

/* The command's name as written in a trace: "mmap", "fork", ... */
const char *trace_op_name(enum trace_op op);

/* Positive errno -> "EINVAL", ...; "EUNKNOWN" for one not in the table. */
const char *errno_name(int err);

/*
 * Format one maps line "START-END PERMS OFFSET NAME" as the spec says, with
 * no trailing space when name is empty (or NULL).  Returns what snprintf
 * returns.
 */
int trace_format_maps_line(char *buf, size_t size, unsigned long start,
			   unsigned long end, const char perms[4],
			   unsigned long offset, const char *name);

#endif /* ASPACE_TRACE_PARSE_H */

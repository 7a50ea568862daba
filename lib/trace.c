/*
 * trace.c: the simulator's trace runner.  Each line is parsed by the
 * shared parser (trace_parse.c) and run as the matching system call of
 * the current task; results are printed exactly as the spec fixes them.
 * Commands whose machinery comes later print "unsupported".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "fault.h"
#include "grade.h"
#include "mm.h"
#include "shm.h"
#include "trace.h"
#include "trace_parse.h"

struct trace_state {
	struct as_session *s;
	struct task	*current;
	struct as_buf	*out;
	struct as_trace_check *chk;	/* NULL: none */
	unsigned long	 win_start, win_end;	/* [start, end) */
	unsigned long	 lineno;
	int		 errors;
};

static void put_error(struct trace_state *ts, const char *msg)
{
	as_buf_printf(ts->out, "%lu: ! error: %s\n", ts->lineno, msg);
	ts->errors++;
}

/* Print "= 0" for 0, "= -ENAME" for a negative errno. */
static void put_status(struct trace_state *ts, long ret)
{
	if (ret < 0)
		as_buf_printf(ts->out, "%lu: = -%s\n", ts->lineno,
		    errno_name((int)-ret));
	else
		as_buf_printf(ts->out, "%lu: = %ld\n", ts->lineno, ret);
}

/* Print an address result, or "= -ENAME" for an encoded errno. */
static void put_addr(struct trace_state *ts, unsigned long ret)
{
	if (IS_ERR_VALUE(ret))
		put_status(ts, (long)ret);
	else
		as_buf_printf(ts->out, "%lu: = 0x%lx\n", ts->lineno, ret);
}

static void do_window(struct trace_state *ts, const struct trace_cmd *c)
{
	ts->win_start = c->addr;
	ts->win_end = c->addr + c->len < c->addr ? ~0UL : c->addr + c->len;
	put_status(ts, 0);
}

static void do_maps(struct trace_state *ts)
{
	struct mm *mm = ts->current->mm;
	struct vma *vma;

	as_buf_printf(ts->out, "%lu: maps\n", ts->lineno);
	mmap_read_lock(mm);
	for (vma = find_vma(mm, ts->win_start);
	    vma != NULL && vma->vm_start < ts->win_end; vma = vma->vm_next)
		show_map_vma(ts->out, "  ", vma);
	mmap_read_unlock(mm);
}

static void do_smaps(struct trace_state *ts)
{
	struct mm *mm = ts->current->mm;
	struct vma *vma;

	struct as_buf pages;
	bool note = ts->chk != NULL && ts->chk->note != NULL;

	as_buf_printf(ts->out, "%lu: smaps\n", ts->lineno);
	as_buf_init(&pages, 1UL << 16);
	mmap_read_lock(mm);
	for (vma = find_vma(mm, ts->win_start);
	    vma != NULL && vma->vm_start < ts->win_end; vma = vma->vm_next) {
		show_smap(ts->out, "  ", vma);
		if (note)
			as_grade_smaps_pages(&pages, vma);
	}
	mmap_read_unlock(mm);
	if (note)
		ts->chk->note(ts->chk->note_arg, ts->lineno, as_buf_str(&pages));
	as_buf_free(&pages);
}

/* Print the signal an access raised, as the spec spells it. */
static void put_signal(struct trace_state *ts, const struct access_result *r)
{
	const char *code = r->code == AS_SI_KERNEL ? "SI_KERNEL" :
	    r->sig == AS_SIGBUS ? "BUS_ADRERR" :
	    r->code == AS_SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR";

	if (r->sig == AS_OOM) {
		put_error(ts, "out of memory: no free frame");
		return;
	}
	as_buf_printf(ts->out, "%lu: %s %s\n", ts->lineno,
	    r->sig == AS_SIGBUS ? "SIGBUS" : "SIGSEGV", code);
}

/* read, write and touch. */
static void do_access(struct trace_state *ts, const struct trace_cmd *c)
{
	struct access_result r = { 0 };
	enum as_access kind = AS_READ;

	if (c->op == T_WRITE || (c->op == T_TOUCH && c->access == 'w'))
		kind = AS_WRITE;
	else if (c->op == T_TOUCH && c->access == 'x')
		kind = AS_EXEC;
	r.store = c->op == T_WRITE;
	r.value = (uint8_t)c->byte;
	r.explain.on = explain_recording();
	if (as_access(ts->current, c->addr, kind, &r) != 0)
		put_signal(ts, &r);
	else if (c->op == T_READ)
		as_buf_printf(ts->out, "%lu: = 0x%02x\n", ts->lineno, r.value);
	else
		as_buf_printf(ts->out, "%lu: = ok\n", ts->lineno);
	if (r.explain.on)
		explain_op("%s", r.explain.len > 0 ? r.explain.text :
		    AS_EXPLAIN_NO_FAULT);
}

static void do_mmap_cmd(struct trace_state *ts, const struct trace_cmd *c)
{
	struct as_file *f = NULL;

	if (c->has_file)
		f = as_file_lookup(ts->s, c->name);
	put_addr(ts, sys_mmap(ts->current->mm, c->addr, c->len, c->prot,
	    c->flags, f, f != NULL, c->offset));
}

static void do_madvise_cmd(struct trace_state *ts, const struct trace_cmd *c)
{
	put_status(ts, sys_madvise(ts->current->mm, c->addr, c->len,
	    c->advice));
}

static void do_switch(struct trace_state *ts, const struct trace_cmd *c)
{
	struct task *t = NULL;
	char msg[64];

	if (c->id <= (unsigned long)ts->s->next_pid)
		t = as_task_lookup(ts->s, (int)c->id);
	if (t == NULL) {
		snprintf(msg, sizeof(msg), "no task %lu", c->id);
		put_error(ts, msg);
		return;
	}
	ts->current = t;
	put_status(ts, 0);
}

/* Commands that change or show the address space. */
static bool run_vm_cmd(struct trace_state *ts, const struct trace_cmd *c)
{
	struct mm *mm = ts->current->mm;

	switch (c->op) {
	case T_MMAP:	 do_mmap_cmd(ts, c); break;
	case T_MUNMAP:	 put_status(ts, sys_munmap(mm, c->addr, c->len)); break;
	case T_MPROTECT:
		put_status(ts, sys_mprotect(mm, c->addr, c->len, c->prot));
		break;
	case T_MREMAP:
		put_addr(ts, sys_mremap(mm, c->addr, c->len, c->new_len,
		    c->flags, c->new_addr));
		break;
	case T_MADVISE:	 do_madvise_cmd(ts, c); break;
	case T_MLOCK:	 put_status(ts, sys_mlock(mm, c->addr, c->len)); break;
	case T_MUNLOCK: put_status(ts, sys_munlock(mm, c->addr, c->len)); break;
	case T_MSYNC:
		put_status(ts, sys_msync(mm, c->addr, c->len, (int)c->flags));
		break;
	case T_BRK:	 put_addr(ts, sys_brk(mm, c->addr)); break;
	case T_MAPS:	 do_maps(ts); break;
	case T_SMAPS:	 do_smaps(ts); break;
	case T_READ: case T_WRITE: case T_TOUCH: do_access(ts, c); break;
	default:	 return false;
	}
	return true;
}

/* System V shared memory: shmget, shmat, shmdt, shmrm (shm.c). */
static bool run_shm_cmd(struct trace_state *ts, const struct trace_cmd *c)
{
	char msg[TRACE_NAME_MAX + 32];
	int err;

	switch (c->op) {
	case T_SHMGET:
		err = as_shmget(ts->s, ts->current->mm, c->name, c->len);
		if (err == -EEXIST) {
			snprintf(msg, sizeof(msg), SHM_NAME_USED_FMT, c->name);
			put_error(ts, msg);
		} else {
			put_status(ts, err);
		}
		break;
	case T_SHMAT:
		put_addr(ts, as_shmat(ts->s, ts->current->mm, c->name, c->addr,
		    c->flags));
		break;
	case T_SHMDT:	put_status(ts, as_shmdt(ts->current->mm, c->addr)); break;
	case T_SHMRM:	put_status(ts, as_shmrm(ts->s, c->name)); break;
	default:	return false;
	}
	return true;
}

/* fork and thread: a new task, "= ID". */
static void do_clone(struct trace_state *ts, bool clone_vm)
{
	int err;
	struct task *t = as_clone(ts->s, ts->current, clone_vm, &err);

	if (t == NULL)
		put_status(ts, err);
	else
		as_buf_printf(ts->out, "%lu: = %d\n", ts->lineno, t->pid);
}

/* vfork: "= ID"; the parent (still current) waits for exec or exit. */
static void do_vfork(struct trace_state *ts)
{
	int err;
	struct task *t = as_vfork(ts->s, ts->current, &err);

	if (t == NULL)
		put_status(ts, err);
	else
		as_buf_printf(ts->out, "%lu: = %d\n", ts->lineno, t->pid);
}

/* exec NAME [TEXT DATA BSS]: the current task runs a new program. */
static void do_exec(struct trace_state *ts, const struct trace_cmd *c)
{
	struct as_image img;

	as_image_default(&img, c->name);
	if (c->has_file) {
		img.text = c->len;
		img.data = c->new_len;
		img.bss = c->offset;
	}
	put_status(ts, as_exec(ts->s, ts->current, &img));
}

static void do_exit(struct trace_state *ts)
{
	as_exit(ts->s, ts->current);
	ts->current = NULL;	/* the next command must be a switch */
	put_status(ts, 0);
}

/* kernel NAME VALUE: a parameter of the machine, before it starts. */
static void do_kernel(struct trace_state *ts, const struct trace_cmd *c)
{
	int err = as_kparam_set(ts->s, c->param, c->len);

	if (err == -EBUSY)
		put_error(ts, "kernel parameters are fixed once the trace has "
		    "started");
	else if (err == -ERANGE)
		put_error(ts, "kernel ram: more than the session's RAM, or "
		    "less than the frames it uses");
	else
		put_status(ts, err);
}

static void run_cmd(struct trace_state *ts, const struct trace_cmd *c)
{
	char msg[64];

	if (c->op == T_KERNEL) {
		do_kernel(ts, c);
		return;
	}
	if (c->op != T_WINDOW && c->op != T_FILE)
		as_session_start(ts->s);
	if (c->op == T_SWITCH) {
		do_switch(ts, c);
		return;
	}
	if (ts->current == NULL) {
		put_error(ts, "no current task");
		return;
	}
	if (__atomic_load_n(&ts->current->vfork_blocked, __ATOMIC_ACQUIRE)) {
		snprintf(msg, sizeof(msg), "task %d is blocked in vfork",
		    ts->current->pid);
		put_error(ts, msg);
		return;
	}
	if (run_vm_cmd(ts, c) || run_shm_cmd(ts, c))
		return;
	switch (c->op) {
	case T_FORK:	do_clone(ts, false); break;
	case T_THREAD:	do_clone(ts, true); break;
	case T_EXIT:	do_exit(ts); break;
	case T_VFORK:	do_vfork(ts); break;
	case T_EXEC:	do_exec(ts, c); break;
	case T_WINDOW:	do_window(ts, c); break;
	case T_FILE:
		put_status(ts, as_file_create(ts->s, c->name, c->len));
		break;
	default:
		snprintf(msg, sizeof(msg), "unsupported: %s",
		    trace_op_name(c->op));
		put_error(ts, msg);
		break;
	}
}

/* Debug builds check every invariant after every command. */
static void trace_validate(struct trace_state *ts)
{
#ifdef ASPACE_DEBUG
	const char *err;

	if (ts->current == NULL)
		return;
	err = mm_validate(ts->current->mm);

	if (err != NULL) {
		fprintf(stderr, "line %lu: mm_validate: %s\n", ts->lineno, err);
		abort();
	}
#else
	(void)ts;
#endif
}

/* run_cmd(), its path recorded for the check's on_explain() if it has one. */
static void run_cmd_explained(struct trace_state *ts,
    const struct trace_cmd *c)
{
	struct as_explain ex = { .on = 1 }, *prev;

	if (ts->chk == NULL || ts->chk->on_explain == NULL) {
		run_cmd(ts, c);
		return;
	}
	prev = explain_begin(&ex);
	run_cmd(ts, c);
	explain_end(prev);
	ts->chk->on_explain(ts->chk->on_explain_arg, ts->lineno, ex.text);
}

static void run_line(struct trace_state *ts, const char *line, size_t len)
{
	struct trace_cmd cmd;
	char err[160];
	int r = trace_parse_line(line, len, &cmd, err, sizeof(err));

	if (r < 0)
		put_error(ts, err);
	else if (r > 0) {
		run_cmd_explained(ts, &cmd);
		flush_delayed_fput(ts->s);	/* back to user space */
	}
	trace_validate(ts);
}

void as_trace_cursor_init(struct as_trace_cursor *c)
{
	memset(c, 0, sizeof(*c));
	c->current = 1;
	c->win_end = ~0UL;
}

int as_trace_run_checked(struct as_session *s, struct as_trace_cursor *c,
    const char *text, size_t len, struct as_buf *out,
    struct as_trace_check *chk)
{
	struct trace_state ts = { .s = s, .out = out, .chk = chk,
	    .win_start = c->win_start,
	    .win_end = c->win_end, .lineno = c->lineno, .errors = c->errors };
	const char *p = text, *end = text != NULL ? text + len : NULL, *nl;

	ts.current = c->current > 0 ? as_task_lookup(s, c->current) : NULL;
	if (chk != NULL) {
		chk->stopped = 0;
		chk->stopped_at = 0;
	}
	while (p < end && !out->overflow) {
		/* The check may look at the current task (the web view's
		 * steps, daemon/web-trace.c). */
		c->current = ts.current != NULL ? ts.current->pid : 0;
		if (chk != NULL && chk->fn != NULL &&
		    (chk->stopped = chk->fn(chk->arg, ts.lineno + 1)) != 0) {
			chk->stopped_at = ts.lineno + 1;
			break;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		ts.lineno++;
		run_line(&ts, p, (size_t)((nl != NULL ? nl : end) - p));
		p = nl != NULL ? nl + 1 : end;
	}
	c->current = ts.current != NULL ? ts.current->pid : 0;
	c->win_start = ts.win_start;
	c->win_end = ts.win_end;
	c->lineno = ts.lineno;
	c->errors = ts.errors;
	return out->overflow ? -1 : ts.errors;
}

int as_trace_run_part(struct as_session *s, struct as_trace_cursor *c,
    const char *text, size_t len, struct as_buf *out)
{
	return as_trace_run_checked(s, c, text, len, out, NULL);
}

int as_trace_run(struct as_session *s, const char *text, size_t len,
    struct as_buf *out)
{
	struct as_trace_cursor c;

	as_trace_cursor_init(&c);
	return as_trace_run_part(s, &c, text, len, out);
}

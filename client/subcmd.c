/*
 * subcmd.c: one aspace subcommand per core operation on a named session
 * and task:
 *
 *   aspace OP --session ID [--task N] [--json] OPERANDS...
 *
 * For the operations that are trace commands (mmap munmap mprotect
 * mremap madvise mlock munlock msync brk read write touch fork thread
 * vfork exec exit maps smaps file shmget shmat shmdt shmrm) the operands are exactly those of the trace
 * line "OP OPERANDS...", checked here by the trace parser
 * (lib/trace_parse.c) and run in the session through run_trace, so that
 * what is printed is the trace runner's own text for that line, without
 * its "N: " line number.  status, walk ADDR, counters [--task-only] and
 * mt use their own requests (proc_status, page_walk, counters, mt).  check, the
 * daemon's consistency check of a whole session, and kernel, its kernel
 * parameters (kernel.c), take no task and their session as an operand
 * too (aspace check ID, as session destroy ID).
 *
 * Exit status: 0 the operation ran (its result may be an errno, printed
 * "= -ENAME"); 1 the trace runner printed "! error" (no current task,
 * a blocked task...) or the daemon refused (no such session or task);
 * 2 a usage error or a failure to reach the daemon; 3 check found the
 * session corrupt (the daemon's CORRUPT, a daemon bug).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"
#include "trace_parse.h"
#include "walk-bits.h"
#include "shell-cmds.h"

#define LINE_MAX_LEN	1024
#define EXIT_CORRUPT	3	/* docs/aspace.1, EXIT STATUS */

static const char *const trace_ops[] = {
	"mmap", "munmap", "mprotect", "mremap", "madvise", "mlock",
	"munlock", "brk", "read", "write", "touch", "fork", "thread",
	"vfork", "exec", "exit", "maps", "smaps", "file", "msync",
	"shmget", "shmat", "shmdt", "shmrm", NULL
};

static const char *const own_ops[] = {
	"status", "walk", "counters", "check", "kernel", "mt", NULL
};

static bool in_list(const char *const *v, const char *name)
{
	for (; *v != NULL; v++)
		if (strcmp(*v, name) == 0)
			return true;
	return false;
}

bool subcmd_known(const char *name)
{
	return in_list(trace_ops, name) || in_list(own_ops, name);
}

void subcmd_usage(FILE *f)
{
	fprintf(f,
	    "       aspace OP --session ID [--task N] [--json] [--explain]\n"
	    "                 OPERANDS...\n"
	    "         OP: mmap munmap mprotect mremap madvise mlock munlock\n"
	    "             msync brk read write touch fork thread vfork exec\n"
	    "             exit maps smaps file shmget shmat shmdt shmrm\n"
	    "             (operands as in a trace line),\n"
	    "             status, walk ADDR, counters [--task-only], mt\n"
	    "       aspace check|kernel ID | --session ID [--json]\n"
	    "       aspace shell [--session ID | --kernel NAME=VALUE...]\n");
}

/* --- running one trace line -------------------------------------------------- */

/* The number "K: " that starts line p, or 0 with *rest unset. */
static unsigned long line_number(const char *p, const char *end,
    const char **rest)
{
	unsigned long k = 0;
	const char *q = p;

	while (q < end && *q >= '0' && *q <= '9')
		k = k * 10 + (unsigned long)(*q++ - '0');
	if (q == p || q + 1 >= end || q[0] != ':' || q[1] != ' ')
		return 0;
	*rest = q + 2;
	return k;
}

static int run_text(struct asc_client *c, const uint8_t *sid,
    const char *text, int flags, struct asc_trace_result *tr,
    struct asc_status *st)
{
	return asc_run_trace_ex(c, sid, text, strlen(text), NULL, flags, tr,
	    st);
}

void cli_line_result_free(struct cli_line_result *res)
{
	free(res->output);
	free(res->explain);
	res->output = res->explain = NULL;
}

/* The path of the line after prefix lines in tr, as res->explain. */
static void line_explain(struct cli_line_result *res,
    const struct asc_trace_result *tr, unsigned long prefix)
{
	const char *why = asc_trace_explain(tr, prefix + 1);

	if (why != NULL)
		res->explain = strdup(why);
}

int cli_run_line(struct asc_client *c, const uint8_t *sid,
    unsigned long task, const char *window_line, const char *line,
    unsigned long lineno, bool explain, struct cli_line_result *res,
    struct asc_status *st)
{
	struct asc_trace_result tr;
	size_t tsize = strlen(line) + (window_line ? strlen(window_line) : 0) +
	    64;
	char *text = malloc(tsize), *o;
	const char *p, *end, *nl, *rest;
	unsigned long prefix = 0, k;
	bool keep = false;

	memset(res, 0, sizeof(*res));
	if (text == NULL) {
		st->code = ASC_LOCAL;
		snprintf(st->message, sizeof(st->message), "out of memory");
		return -1;
	}
	if (task > 1) {
		/* The task must exist, or the line would run as task 1. */
		snprintf(text, tsize, "switch %lu\n", task);
		if (run_text(c, sid, text, 0, &tr, st) != 0) {
			asc_trace_result_free(&tr);
			free(text);
			return -1;
		}
		res->no_task = tr.errors > 0;
		asc_trace_result_free(&tr);
		if (res->no_task) {
			free(text);
			if ((res->output = strdup("")) == NULL)
				return -1;
			return 0;
		}
	}
	text[0] = '\0';
	if (task > 1) {
		snprintf(text, tsize, "switch %lu\n", task);
		prefix++;
	}
	if (window_line != NULL) {
		strcat(text, window_line);
		strcat(text, "\n");
		prefix++;
	}
	strcat(text, line);
	strcat(text, "\n");
	if (run_text(c, sid, text, explain ? ASC_TRACE_EXPLAIN : 0, &tr,
	    st) != 0) {
		asc_trace_result_free(&tr);
		free(text);
		return -1;
	}
	free(text);
	/* Room for every line with a longer number. */
	if ((res->output = malloc(tr.len + 32 * (tr.len / 2 + 1) + 1)) ==
	    NULL) {
		asc_trace_result_free(&tr);
		return -1;
	}
	o = res->output;
	for (p = tr.output, end = tr.output + tr.len; p < end; p = nl) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		k = line_number(p, nl, &rest);
		if (k != 0)
			keep = k == prefix + 1;
		if (!keep)
			continue;
		if (k != 0) {
			if (lineno != 0)
				o += sprintf(o, "%lu: ", lineno);
			if (strncmp(rest, "! error", 7) == 0)
				res->errors++;
			p = rest;
		}
		memcpy(o, p, (size_t)(nl - p));
		o += nl - p;
	}
	*o = '\0';
	res->len = (size_t)(o - res->output);
	line_explain(res, &tr, prefix);
	asc_trace_result_free(&tr);
	return 0;
}

/* --- the subcommands ------------------------------------------------------------ */

struct sub {
	const char	*name;
	const char	*session_arg;
	uint8_t		 sid[ASC_SESSION_ID_LEN];
	unsigned long	 task;
	bool		 task_only;
	bool		 explain;	/* --explain */
	char		 line[LINE_MAX_LEN];
};

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno != 0 || *s == '\0' || *s == '-' || *end != '\0' ? -1 : 0;
}

/* A JSON object with the command, its session and task. */
static json_t *json_head(const struct sub *s)
{
	char hex[33];

	return json_pack("{s:s,s:s,s:o}", "command", s->name, "session",
	    asc_session_hex(s->sid, hex), "task", cli_json_u64(s->task));
}

static int daemon_fail(const char *name, const struct asc_status *st)
{
	char msg[512];

	fprintf(stderr, "aspace: %s: %s\n", name,
	    asc_status_str(st, msg, sizeof(msg)));
	if (st->code == ASPACE__STATUS__CODE__CORRUPT)
		return EXIT_CORRUPT;
	return st->code == ASC_LOCAL ? 2 : 1;
}

static int sub_trace(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o)
{
	struct cli_line_result r;
	struct asc_status st;
	const char *eq;
	json_t *j;
	size_t n;

	if (cli_run_line(c, s->sid, s->task, NULL, s->line, 0, s->explain,
	    &r, &st) != 0)
		return daemon_fail(s->name, &st);
	if (r.no_task) {
		fprintf(stderr, "aspace: %s: no task %lu in the session\n",
		    s->name, s->task);
		cli_line_result_free(&r);
		return 1;
	}
	if (o->json) {
		j = json_head(s);
		cli_json_set(&j, "line", cli_json_cstr(s->line));
		cli_json_set(&j, "errors", cli_json_u64(r.errors));
		if (strncmp(r.output, "= ", 2) == 0) {
			eq = r.output + 2;
			n = strcspn(eq, "\n");
			cli_json_set(&j, "result", cli_json_strn(eq, n));
		}
		cli_json_set(&j, "output", cli_json_strn(r.output, r.len));
		if (s->explain)
			cli_json_set(&j, "explain", cli_json_cstr(
			    r.explain != NULL ? r.explain : ""));
		cli_json_print(j);
	} else {
		fwrite(r.output, 1, r.len, stdout);
		if (r.explain != NULL)
			printf("# why: %s\n", r.explain);
	}
	n = r.errors;
	cli_line_result_free(&r);
	return n > 0 ? 1 : 0;
}

static void set_target(Aspace__Request *r, const struct sub *s)
{
	r->has_session = true;
	r->session.data = (uint8_t *)s->sid;
	r->session.len = ASC_SESSION_ID_LEN;
	r->has_task = s->task != 0;	/* 0: a session-wide op */
	r->task = (int32_t)s->task;
}

static int call(struct asc_client *c, Aspace__Request *r, int want,
    struct asc_reply **rp, const struct sub *s)
{
	struct asc_status st;

	if (asc_call(c, r, rp, &st) != 0)
		return daemon_fail(s->name, &st);
	if (asc_reply_status(*rp, &st) != 0) {
		asc_reply_free(*rp);
		return daemon_fail(s->name, &st);
	}
	if ((int)asc_reply_response(*rp)->result_case != want) {
		asc_reply_free(*rp);
		fprintf(stderr, "aspace: %s: a response without its result\n",
		    s->name);
		return 2;
	}
	return 0;
}

static int sub_status(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__ProcStatusRequest q = ASPACE__PROC_STATUS_REQUEST__INIT;
	const Aspace__ProcStatusResult *res;
	struct asc_reply *rp;
	json_t *j;
	int rc;

	set_target(&r, s);
	r.op_case = ASPACE__REQUEST__OP_PROC_STATUS;
	r.proc_status = &q;
	if ((rc = call(c, &r, ASPACE__RESPONSE__RESULT_PROC_STATUS, &rp, s)))
		return rc;
	res = asc_reply_response(rp)->proc_status;
	if (o->json) {
		j = json_head(s);
#define F(n) cli_json_set(&j, #n, cli_json_u64((uint64_t)res->n))
		F(pid); F(tgid); F(threads); F(vm_peak); F(vm_size);
		F(vm_lck); F(vm_pin); F(vm_hwm); F(vm_rss); F(rss_anon);
		F(rss_file); F(rss_shmem); F(vm_data); F(vm_stk); F(vm_exe);
		F(vm_lib); F(vm_pte); F(vm_swap);
#undef F
		if (res->text != NULL)
			cli_json_set(&j, "text", cli_json_cstr(res->text));
		cli_json_print(j);
	} else if (res->text != NULL) {
		fputs(res->text, stdout);
	}
	asc_reply_free(rp);
	return 0;
}

static int sub_walk(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o, unsigned long addr)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__PageWalkRequest q = ASPACE__PAGE_WALK_REQUEST__INIT;
	const Aspace__PageWalkResult *res;
	struct asc_reply *rp;
	json_t *j;
	int rc;

	set_target(&r, s);
	q.has_addr = true;
	q.addr = addr;
	r.op_case = ASPACE__REQUEST__OP_PAGE_WALK;
	r.page_walk = &q;
	if ((rc = call(c, &r, ASPACE__RESPONSE__RESULT_PAGE_WALK, &rp, s)))
		return rc;
	res = asc_reply_response(rp)->page_walk;
	if (o->json) {
		j = json_head(s);
		cli_json_set(&j, "addr", cli_json_hex(addr));
		cli_json_set(&j, "pgd", cli_json_hex(res->pgd));
		cli_json_set(&j, "pud", cli_json_hex(res->pud));
		cli_json_set(&j, "pmd", cli_json_hex(res->pmd));
		cli_json_set(&j, "pte", cli_json_hex(res->pte));
		cli_json_set(&j, "bits", walk_bits_json(res->pte));
		if (res->swap)
			cli_json_set(&j, "swap", json_pack("{s:o,s:o,s:o,s:b}",
			    "entry", cli_json_hex(res->swap_entry), "type",
			    cli_json_u64(res->swap_type), "offset",
			    cli_json_u64(res->swap_offset), "exclusive",
			    res->swap_exclusive));
		if (res->has_pt_sharers)
			cli_json_set(&j, "pt_sharers",
			    cli_json_u64(res->pt_sharers));
		cli_json_print(j);
	} else {
		printf("walk 0x%lx\n  pgd 0x%016" PRIx64 "\n  pud 0x%016"
		    PRIx64 "\n  pmd 0x%016" PRIx64 "\n  pte 0x%016" PRIx64
		    "\n", addr, res->pgd, res->pud, res->pmd, res->pte);
		walk_bits_print(stdout, res->pte);
		if (res->has_pt_sharers && res->pt_sharers > 1)
			printf("  PTE table shared by %u mms since fork "
			    "(the pmd is read-only; copied on a change)\n",
			    res->pt_sharers);
		if (res->swap)
			printf("  swap entry 0x%" PRIx64 ": type %u offset %"
			    PRIu64 "%s\n", res->swap_entry, res->swap_type,
			    res->swap_offset, res->swap_exclusive ?
			    " exclusive" : "");
	}
	asc_reply_free(rp);
	return 0;
}

static int sub_counters(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__CountersRequest q = ASPACE__COUNTERS_REQUEST__INIT;
	const Aspace__CountersResult *res;
	struct asc_reply *rp;
	json_t *j = NULL;
	int rc;

	set_target(&r, s);
	q.has_task_only = s->task_only;
	q.task_only = s->task_only;
	r.op_case = ASPACE__REQUEST__OP_COUNTERS;
	r.counters = &q;
	if ((rc = call(c, &r, ASPACE__RESPONSE__RESULT_COUNTERS, &rp, s)))
		return rc;
	res = asc_reply_response(rp)->counters;
	if (o->json)
		j = json_head(s);
#define F(n) do {							\
		if (o->json)						\
			cli_json_set(&j, #n, cli_json_u64(res->n));	\
		else							\
			printf("%-20s %" PRIu64 "\n", #n, res->n);	\
	} while (0)
	F(minor_faults); F(zero_page_maps); F(cow_copies); F(wp_reuses);
	F(fault_around_pages); F(stack_expansions); F(sigsegv); F(sigbus);
	F(vmacache_hits); F(vmacache_misses); F(oom);
	F(major_faults); F(pswpin); F(pswpout);
#undef F
	if (o->json)
		cli_json_print(j);
	asc_reply_free(rp);
	return 0;
}

/* mt: the task's maple tree as the daemon draws it (text), or its JSON
 * under "tree". */
static int sub_mt(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__MtRequest q = ASPACE__MT_REQUEST__INIT;
	const Aspace__MtResult *res;
	struct asc_reply *rp;
	json_t *j, *tree;
	int rc;

	set_target(&r, s);
	r.op_case = ASPACE__REQUEST__OP_MT;
	r.mt = &q;
	if ((rc = call(c, &r, ASPACE__RESPONSE__RESULT_MT, &rp, s)))
		return rc;
	res = asc_reply_response(rp)->mt;
	if (o->json) {
		tree = res->json != NULL ? json_loads(res->json, 0, NULL) :
		    NULL;
		if (tree == NULL) {
			asc_reply_free(rp);
			fprintf(stderr, "aspace: mt: bad JSON from the daemon\n");
			return 2;
		}
		j = json_head(s);
		cli_json_set(&j, "tree", tree);
		cli_json_print(j);
	} else if (res->text != NULL) {
		fputs(res->text, stdout);
	}
	asc_reply_free(rp);
	return 0;
}

static int sub_check(struct asc_client *c, const struct sub *s,
    const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__CheckRequest q = ASPACE__CHECK_REQUEST__INIT;
	const Aspace__CheckResult *res;
	struct asc_reply *rp;
	char hex[33];
	int rc;

	set_target(&r, s);
	r.op_case = ASPACE__REQUEST__OP_CHECK;
	r.check = &q;
	if ((rc = call(c, &r, ASPACE__RESPONSE__RESULT_CHECK, &rp, s)))
		return rc;
	res = asc_reply_response(rp)->check;
	if (o->json)
		cli_json_print(json_pack("{s:s,s:s,s:o,s:o}", "command",
		    "check", "session", asc_session_hex(s->sid, hex), "mms",
		    cli_json_u64(res->mms), "tasks", cli_json_u64(res->tasks)));
	else
		printf("ok: %u mm%s, %u task%s checked\n", res->mms,
		    res->mms == 1 ? "" : "s", res->tasks,
		    res->tasks == 1 ? "" : "s");
	asc_reply_free(rp);
	return 0;
}

/* aspace shell's status, walk, counters and check (shell-cmds.h). */
int subcmd_inspect(struct asc_client *c, const uint8_t *sid,
    unsigned long task, const char *name, unsigned long addr,
    bool task_only, const struct cli_opts *o)
{
	struct sub s;

	memset(&s, 0, sizeof(s));
	s.name = name;
	memcpy(s.sid, sid, ASC_SESSION_ID_LEN);
	s.task = strcmp(name, "check") == 0 ? 0 : task;
	s.task_only = task_only;
	if (strcmp(name, "status") == 0)
		return sub_status(c, &s, o);
	if (strcmp(name, "walk") == 0)
		return sub_walk(c, &s, o, addr);
	if (strcmp(name, "counters") == 0)
		return sub_counters(c, &s, o);
	return sub_check(c, &s, o);
}

/* The operands in each operation's usage. */
static const struct {
	const char	*name;
	const char	*operands;
	const char	*what;
} op_usage[] = {
	{ "mmap",	"ADDR LEN PROT FLAGS [NAME OFFSET]",	NULL },
	{ "munmap",	"ADDR LEN",				NULL },
	{ "mprotect",	"ADDR LEN PROT",			NULL },
	{ "mremap",	"ADDR OLDLEN NEWLEN MFLAGS [NEWADDR]",	NULL },
	{ "madvise",	"ADDR LEN ADVICE",			NULL },
	{ "mlock",	"ADDR LEN",				NULL },
	{ "munlock",	"ADDR LEN",				NULL },
	{ "msync",	"ADDR LEN MSFLAGS",			NULL },
	{ "brk",	"ADDR",					NULL },
	{ "read",	"ADDR",					NULL },
	{ "write",	"ADDR BYTE",				NULL },
	{ "touch",	"ADDR r|w|x",				NULL },
	{ "exec",	"NAME [TEXT DATA BSS]",			NULL },
	{ "file",	"NAME SIZE",				NULL },
	{ "shmget",	"NAME SIZE",				NULL },
	{ "shmat",	"NAME ADDR SHMFLAGS",			NULL },
	{ "shmdt",	"ADDR",					NULL },
	{ "shmrm",	"NAME",					NULL },
	{ "status",	"",
	  "Prints task N's /proc/PID/status memory lines.\n" },
	{ "walk",	"ADDR",
	  "Prints task N's page-table entries (pgd, pud, pmd, pte) at ADDR,\n"
	  "and a swap entry in the pte decoded (type, offset).\n" },
	{ "counters",	"[--task-only]",
	  "Prints the session's event counters, or task N's (--task-only).\n" },
	{ "mt",		"",
	  "Prints task N's VMA index, its mm's maple tree: each node's kind,\n"
	  "range, pivots and largest gaps, each leaf slot's range and VMA.\n" },
	{ "check",	NULL,
	  "Runs the daemon's consistency check over the whole session.\n" },
	{ "kernel",	NULL,
	  "Prints the session's kernel parameters as trace lines.\n" },
};

/* name's usage (a trace op's operands are its trace line's). */
static void op_usage_print(FILE *f, const char *name)
{
	const char *operands = "", *what = NULL;
	size_t i;

	for (i = 0; i < sizeof(op_usage) / sizeof(op_usage[0]); i++)
		if (strcmp(op_usage[i].name, name) == 0) {
			operands = op_usage[i].operands;
			what = op_usage[i].what;
		}
	if (operands == NULL)	/* check, kernel: the whole session */
		fprintf(f, "usage: aspace %s ID | --session ID\n", name);
	else
		fprintf(f, "usage: aspace %s --session ID [--task N]%s%s%s\n",
		    name, what == NULL ? " [--explain]" : "",
		    *operands != '\0' ? " " : "", operands);
	if (what != NULL)
		fputs(what, f);
	else
		fprintf(f, "Runs the trace line \"%s%s%s\" in session ID\n"
		    "as task N (default 1) and prints the trace runner's "
		    "result for it;\nwith --explain, then \"# why: PATH\": "
		    "the path it took in the simulated\nkernel.\n", name,
		    *operands != '\0' ? " " : "", operands);
	fputs(CLI_GLOBAL_USAGE, f);
}

static int usage_fail(const char *name, const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "aspace: %s: %s\n", name, msg);
	op_usage_print(stderr, name);
	return 2;
}

enum { OPT_SESSION = CLI_OPT_OWN, OPT_TASK, OPT_TASK_ONLY, OPT_EXPLAIN };

static const struct option op_options[] = {
	{ "session",	required_argument, NULL, OPT_SESSION },
	{ "task",	required_argument, NULL, OPT_TASK },
	{ "task-only",	no_argument, NULL, OPT_TASK_ONLY },
	{ "explain",	no_argument, NULL, OPT_EXPLAIN },
	CLI_GLOBAL_OPTIONS
};

/*
 * A trace op's options apart from its operands, which may begin with
 * '-' (the PROT ---, -w- or --x): an argument is an option only if it is
 * -h, or --NAME or --NAME=VALUE for a NAME of op_options (its VALUE the
 * next argument if it needs one and has no '='); after "--" none is.
 * The options go to opts (opts[0] argv[0]), the operands to operands.
 */
static void split_operands(int argc, char **argv, char **opts, int *nopts,
    char **operands, int *nops)
{
	const struct option *lo;
	size_t n = 0;
	int i;
	bool end = false;

	*nopts = *nops = 0;
	opts[(*nopts)++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!end && strcmp(a, "--") == 0) {
			end = true;
			continue;
		}
		if (!end && strcmp(a, "-h") == 0) {
			opts[(*nopts)++] = argv[i];
			continue;
		}
		for (lo = op_options; !end && lo->name != NULL; lo++) {
			n = strlen(lo->name);
			if (strncmp(a, "--", 2) == 0 &&
			    strncmp(a + 2, lo->name, n) == 0 &&
			    (a[2 + n] == '\0' || a[2 + n] == '='))
				break;
		}
		if (end || lo->name == NULL) {
			operands[(*nops)++] = argv[i];
			continue;
		}
		opts[(*nopts)++] = argv[i];
		if (lo->has_arg == required_argument && a[2 + n] == '\0' &&
		    i + 1 < argc)
			opts[(*nopts)++] = argv[++i];
	}
	opts[*nopts] = NULL;
	operands[*nops] = NULL;
}

/* Parse name's argv (argv[0] name) into *s; 0, or the exit status. */
static int parse_args(const char *name, int argc, char **argv,
    struct cli_opts *o, struct sub *s, const char **walk_addr)
{
	bool whole = s->task == 0;
	char **v = argv, **operands = NULL;
	size_t used = strlen(s->line);
	int n = argc, nops = 0, i, ch;

	if (in_list(trace_ops, name)) {
		v = calloc((size_t)argc + 1, sizeof(*v));
		operands = calloc((size_t)argc + 1, sizeof(*operands));
		if (v == NULL || operands == NULL) {
			free(v);
			free(operands);
			fprintf(stderr, "aspace: out of memory\n");
			return 2;
		}
		split_operands(argc, argv, v, &n, operands, &nops);
	}
	cli_getopt_start(v, name);
	while ((ch = getopt_long(n, v, "h", op_options, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		switch (ch) {
		case OPT_SESSION:
			if (whole && s->session_arg != NULL)
				goto fail_one;
			s->session_arg = optarg;
			break;
		case OPT_TASK:
			if (whole) {
				ch = usage_fail(name, "no --task: it takes the "
				    "whole session");
				goto out;
			}
			if (parse_ulong(optarg, &s->task) != 0 ||
			    s->task == 0 || s->task > INT32_MAX) {
				ch = usage_fail(name, "bad --task");
				goto out;
			}
			break;
		case OPT_TASK_ONLY:
			if (strcmp(name, "counters") != 0) {
				ch = usage_fail(name, "--task-only is for "
				    "counters");
				goto out;
			}
			s->task_only = true;
			break;
		case OPT_EXPLAIN:
			if (!in_list(trace_ops, name)) {
				ch = usage_fail(name, "--explain is for the "
				    "trace operations (read, write, mmap...)");
				goto out;
			}
			s->explain = true;
			break;
		case 'h':
			op_usage_print(stdout, name);
			ch = 0;
			goto out;
		default:
			ch = cli_bad_option();
			goto out;
		}
	}
	if (operands == NULL) {		/* not a trace op */
		operands = calloc((size_t)argc + 1, sizeof(*operands));
		if (operands == NULL) {
			fprintf(stderr, "aspace: out of memory\n");
			ch = 2;
			goto out;
		}
		for (i = optind; i < n; i++)
			operands[nops++] = v[i];
	}
	for (i = 0; i < nops; i++) {
		const char *a = operands[i];

		if (whole) {
			if (s->session_arg != NULL)
				goto fail_one;
			s->session_arg = a;	/* check ID */
		} else if (strcmp(name, "walk") == 0) {
			if (*walk_addr != NULL) {
				ch = usage_fail(name, "one ADDR");
				goto out;
			}
			*walk_addr = a;
		} else if (in_list(trace_ops, name)) {
			if (strpbrk(a, "\n\r#") != NULL || *a == '\0') {
				ch = usage_fail(name, "bad operand");
				goto out;
			}
			used += (size_t)snprintf(s->line + used,
			    used < sizeof(s->line) ? sizeof(s->line) - used : 0,
			    " %s", a);
			if (used >= sizeof(s->line)) {
				ch = usage_fail(name, "operands too long");
				goto out;
			}
		} else {
			ch = usage_fail(name, "unexpected operand");
			goto out;
		}
	}
	ch = -1;
	goto out;
fail_one:
	ch = usage_fail(name, "one session ID");
out:
	if (v != argv)
		free(v);
	free(operands);
	return ch;
}

int subcmd_run(const char *name, int argc, char **argv, struct cli_opts *o)
{
	struct sub s;
	struct trace_cmd cmd;
	struct asc_client *c;
	unsigned long addr = 0;
	char err[160];
	const char *walk_addr = NULL;
	bool whole = strcmp(name, "check") == 0 ||
	    strcmp(name, "kernel") == 0;	/* no task */
	int rc;

	memset(&s, 0, sizeof(s));
	s.name = name;
	s.task = whole ? 0 : 1;
	snprintf(s.line, sizeof(s.line), "%s", name);
	if ((rc = parse_args(name, argc, argv, o, &s, &walk_addr)) >= 0)
		return rc;
	if (s.session_arg == NULL)
		return usage_fail(name, whole ?
		    "a session ID is needed" : "--session ID is needed");
	if (asc_session_parse(s.session_arg, s.sid) != 0)
		return usage_fail(name, "bad session id (want 32 hex digits)");
	if (in_list(trace_ops, name)) {
		rc = trace_parse_line(s.line, strlen(s.line), &cmd, err,
		    sizeof(err));
		if (rc <= 0 || strcmp(trace_op_name(cmd.op), name) != 0)
			return usage_fail(name, rc < 0 ? err : "not a command");
	}
	if (strcmp(name, "walk") == 0 && (walk_addr == NULL ||
	    parse_ulong(walk_addr, &addr) != 0))
		return usage_fail(name, "walk ADDR");
	if ((c = cli_open(o)) == NULL)
		return 2;
	if (strcmp(name, "status") == 0)
		rc = sub_status(c, &s, o);
	else if (strcmp(name, "walk") == 0)
		rc = sub_walk(c, &s, o, addr);
	else if (strcmp(name, "counters") == 0)
		rc = sub_counters(c, &s, o);
	else if (strcmp(name, "check") == 0)
		rc = sub_check(c, &s, o);
	else if (strcmp(name, "mt") == 0)
		rc = sub_mt(c, &s, o);
	else if (strcmp(name, "kernel") == 0)
		rc = cli_kernel_show(c, s.sid, o);
	else
		rc = sub_trace(c, &s, o);
	asc_close(c);
	return rc;
}

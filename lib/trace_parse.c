/*
 * trace_parse.c: the trace line parser (docs/trace-format.md,
 * "Lexical rules" and "Commands") and the output helpers the spec fixes.
 *
 * A line is cut at '#', split into words on spaces and tabs, and the first
 * word selects a command whose handler checks the word count and converts
 * each argument.  Errors are reported as short messages; nothing here does
 * I/O or keeps state between calls.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace_parse.h"

#define MAX_WORDS 8	/* more than any command takes; the rest are counted */

struct word {
	const char *s;
	size_t n;
};

struct words {
	struct word w[MAX_WORDS];
	int count;	/* all words on the line, even those not stored */
};

struct errbuf {
	char *buf;
	size_t size;
};

static int fail(struct errbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->size) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Fail with a message quoting word w: fmt has one %.*s. */
static int fail_word(struct errbuf *e, const char *fmt, const struct word *w)
{
	return fail(e, fmt, (int)w->n, w->s);
}

static int word_is(const struct word *w, const char *s)
{
	return strlen(s) == w->n && memcmp(w->s, s, w->n) == 0;
}

/* Drop the line end and the comment, then split into words. */
static void split_words(const char *line, size_t len, struct words *ws)
{
	const char *hash = memchr(line, '#', len);
	size_t i = 0;

	if (hash)
		len = (size_t)(hash - line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	ws->count = 0;
	while (i < len) {
		size_t start;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (ws->count < MAX_WORDS) {
			ws->w[ws->count].s = line + start;
			ws->w[ws->count].n = i - start;
		}
		ws->count++;
	}
}

/* ---- numbers ---- */

static int digit_value(char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned long suffix_shift(char c)
{
	return c == 'K' ? 10 : c == 'M' ? 20 : c == 'G' ? 30 : 0;
}

/*
 * Decimal or 0x hex; with allow_suffix a final K, M or G multiplies.
 * Syntax is checked before magnitude so "99999999999999999999x" is a bad
 * number, not an out-of-range one.
 */
static int parse_num(const struct word *w, int allow_suffix,
		     unsigned long *out, struct errbuf *e)
{
	const char *s = w->s;
	size_t n = w->n, i;
	unsigned base = 10, shift = 0;
	unsigned long v = 0;

	if (allow_suffix && n && suffix_shift(s[n - 1])) {
		shift = (unsigned)suffix_shift(s[n - 1]);
		n--;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (n == 0)
		return fail_word(e, "bad number '%.*s'", w);
	for (i = 0; i < n; i++)
		if (digit_value(s[i], base) < 0)
			return fail_word(e, "bad number '%.*s'", w);
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)digit_value(s[i], base);

		if (v > (~0UL - d) / base)
			return fail(e, "number out of range");
		v = v * base + d;
	}
	if (shift && v > (~0UL >> shift))
		return fail(e, "number out of range");
	*out = v << shift;
	return 0;
}

static int parse_addr(const struct word *w, unsigned long *out,
		      struct errbuf *e)
{
	return parse_num(w, 0, out, e);
}

static int parse_len(const struct word *w, unsigned long *out,
		     struct errbuf *e)
{
	return parse_num(w, 1, out, e);
}

/* ---- words with a fixed vocabulary ---- */

static int parse_prot(const struct word *w, unsigned long *out,
		      struct errbuf *e)
{
	static const char letters[3] = { 'r', 'w', 'x' };
	static const unsigned long bits[3] = { PROT_READ, PROT_WRITE, PROT_EXEC };
	unsigned long prot = 0;
	int i;

	if (w->n != 3)
		return fail_word(e, "bad PROT '%.*s'", w);
	for (i = 0; i < 3; i++) {
		if (w->s[i] == letters[i])
			prot |= bits[i];
		else if (w->s[i] != '-')
			return fail_word(e, "bad PROT '%.*s'", w);
	}
	*out = prot;
	return 0;
}

struct flag_name {
	const char *name;
	unsigned long bit;
};

static const struct flag_name mmap_flags[] = {
	{ "private", MAP_PRIVATE }, { "shared", MAP_SHARED },
	{ "anon", MAP_ANONYMOUS }, { "fixed", MAP_FIXED },
	{ "fixed_noreplace", MAP_FIXED_NOREPLACE },
	{ "growsdown", MAP_GROWSDOWN }, { "populate", MAP_POPULATE },
	{ "noreserve", MAP_NORESERVE }, { "locked", MAP_LOCKED },
	{ "stack", MAP_STACK },
};

static const struct flag_name mremap_flags[] = {
	{ "maymove", MREMAP_MAYMOVE }, { "fixed", MREMAP_FIXED },
	{ "dontunmap", MREMAP_DONTUNMAP },
};

static const struct flag_name msync_flags[] = {
	{ "sync", MS_SYNC }, { "async", MS_ASYNC },
	{ "invalidate", MS_INVALIDATE },
};

static const struct flag_name shmat_flags[] = {
	{ "rdonly", SHM_RDONLY }, { "exec", SHM_EXEC },
	{ "remap", SHM_REMAP }, { "rnd", SHM_RND },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Find item in table; returns its index or -1. */
static int flag_index(const struct word *item, const struct flag_name *tab,
		      size_t ntab)
{
	size_t i;

	for (i = 0; i < ntab; i++)
		if (word_is(item, tab[i].name))
			return (int)i;
	return -1;
}

/* A comma list of names from tab, each at most once; what says "FLAGS". */
static int parse_flag_list(const struct word *w, const struct flag_name *tab,
			   size_t ntab, const char *what,
			   unsigned long *out, struct errbuf *e)
{
	unsigned seen = 0;
	size_t pos = 0;

	*out = 0;
	while (pos <= w->n) {
		const char *comma = memchr(w->s + pos, ',', w->n - pos);
		size_t end = comma ? (size_t)(comma - w->s) : w->n;
		struct word item = { w->s + pos, end - pos };
		int k = flag_index(&item, tab, ntab);

		if (item.n == 0)
			return fail(e, "bad %s '%.*s'", what, (int)w->n, w->s);
		if (k < 0)
			return fail_word(e, "unknown flag '%.*s'", &item);
		if (seen & (1u << k))
			return fail_word(e, "duplicate flag '%.*s'", &item);
		seen |= 1u << k;
		*out |= tab[k].bit;
		pos = end + 1;
	}
	return 0;
}

static int parse_mmap_flags(const struct word *w, unsigned long *out,
			    struct errbuf *e)
{
	unsigned long f;

	if (parse_flag_list(w, mmap_flags, N_ELEMS(mmap_flags), "FLAGS", &f,
			    e) < 0)
		return -1;
	/* private and shared are distinct bits, so "both" shows as 0x3 */
	if ((f & (MAP_PRIVATE | MAP_SHARED)) != MAP_PRIVATE &&
	    (f & (MAP_PRIVATE | MAP_SHARED)) != MAP_SHARED)
		return fail(e, "FLAGS needs exactly one of private, shared");
	*out = f;
	return 0;
}

/* `-` (no flag) or a comma list of tab's words. */
static int parse_dash_flags(const struct word *w, const struct flag_name *tab,
			    size_t n, const char *what, unsigned long *out,
			    struct errbuf *e)
{
	if (word_is(w, "-")) {
		*out = 0;
		return 0;
	}
	return parse_flag_list(w, tab, n, what, out, e);
}

static int parse_mremap_flags(const struct word *w, unsigned long *out,
			      struct errbuf *e)
{
	return parse_dash_flags(w, mremap_flags, N_ELEMS(mremap_flags),
				"MFLAGS", out, e);
}

static const struct { const char *name; int advice; } advices[] = {
	{ "normal", MADV_NORMAL }, { "random", MADV_RANDOM },
	{ "sequential", MADV_SEQUENTIAL },
	{ "willneed", MADV_WILLNEED }, { "dontneed", MADV_DONTNEED },
	{ "dontfork", MADV_DONTFORK }, { "dofork", MADV_DOFORK },
	{ "dontdump", MADV_DONTDUMP }, { "dodump", MADV_DODUMP },
	/* trace-v2 */
	{ "free", MADV_FREE }, { "cold", MADV_COLD },
	{ "pageout", MADV_PAGEOUT },
	{ "populate_read", MADV_POPULATE_READ },
	{ "populate_write", MADV_POPULATE_WRITE },
	{ "remove", MADV_REMOVE }, { "wipeonfork", MADV_WIPEONFORK },
	{ "keeponfork", MADV_KEEPONFORK },
};

static int parse_advice(const struct word *w, int *out, struct errbuf *e)
{
	size_t i;

	for (i = 0; i < N_ELEMS(advices); i++) {
		if (word_is(w, advices[i].name)) {
			*out = advices[i].advice;
			return 0;
		}
	}
	return fail_word(e, "unknown advice '%.*s'", w);
}

const char *trace_advice_name(int advice)
{
	size_t i;

	for (i = 0; i < N_ELEMS(advices); i++)
		if (advices[i].advice == advice)
			return advices[i].name;
	return "?";
}

static int name_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* NAME: 1..63 characters of [A-Za-z0-9._-], neither "." nor "..". */
static int parse_name(const struct word *w, char *out, struct errbuf *e)
{
	size_t i;

	if (w->n >= TRACE_NAME_MAX || word_is(w, ".") || word_is(w, ".."))
		return fail_word(e, "bad NAME '%.*s'", w);
	for (i = 0; i < w->n; i++)
		if (!name_char_ok(w->s[i]))
			return fail_word(e, "bad NAME '%.*s'", w);
	memcpy(out, w->s, w->n);
	out[w->n] = '\0';
	return 0;
}

/* ---- kernel parameters (trace-v2 `kernel NAME VALUE`) ---- */

static const struct {
	const char *name;
	unsigned long dflt;
	const char *range;	/* the message for a bad VALUE */
} kparams[KP_COUNT] = {
	[KP_ZERO_PAGE] = { "zero_page", 1, "on or off" },
	[KP_SWAP] = { "swap", 0, "a size" },
	[KP_FAULT_AROUND_BYTES] = { "fault_around_bytes", 65536,
	    "a power of two from 4096 to 65536" },
	[KP_MAX_MAP_COUNT] = { "max_map_count", 65530, "1 to 65530" },
	[KP_RLIMIT_STACK] = { "rlimit_stack", 8UL << 20, "a size" },
	[KP_RLIMIT_MEMLOCK] = { "rlimit_memlock", KP_UNLIMITED,
	    "a size or unlimited" },
	[KP_RAM] = { "ram", 0, "a size of whole pages, at least 64K" },
	[KP_SHARE_TABLES] = { "share_tables", 1, "on or off" },
};

bool kparam_valid(enum kparam k, unsigned long v)
{
	switch (k) {
	case KP_ZERO_PAGE: case KP_SHARE_TABLES:
		return v <= 1;
	case KP_RLIMIT_MEMLOCK:
		if (v == KP_UNLIMITED)
			return true;
		/* fall through */
	case KP_SWAP: case KP_RLIMIT_STACK:
		return v <= (1UL << 40);  /* past any machine here */
	case KP_FAULT_AROUND_BYTES:
		return v >= 4096 && v <= 65536 && (v & (v - 1)) == 0;
	case KP_MAX_MAP_COUNT:
		return v >= 1 && v <= 65530;
	case KP_RAM:	/* 0: the session's; at most it (as_kparam_set()) */
		return v == 0 || (v >= KP_RAM_MIN && v <= (1UL << 40) &&
		    (v & (AS_PAGE_SIZE - 1)) == 0);
	default:
		return false;
	}
}

/* VALUE of parameter k; 0, or -1 (with no message) if it is none. */
static int kparam_value(enum kparam k, const struct word *w,
			unsigned long *v, struct errbuf *e)
{
	if (k == KP_ZERO_PAGE || k == KP_SHARE_TABLES) {
		*v = word_is(w, "on");
		return *v || word_is(w, "off") ? 0 : -1;
	}
	if (k == KP_RLIMIT_MEMLOCK && word_is(w, "unlimited"))
		*v = KP_UNLIMITED;
	else if (parse_num(w, k != KP_FAULT_AROUND_BYTES &&
	    k != KP_MAX_MAP_COUNT, v, e) < 0)
		return -1;
	return kparam_valid(k, *v) ? 0 : -1;
}

static int kparam_word(const struct word *nw, const struct word *vw,
		       enum kparam *param, unsigned long *value,
		       struct errbuf *e)
{
	int k;

	for (k = 0; k < KP_COUNT && !word_is(nw, kparams[k].name); k++)
		;
	if (k == KP_COUNT)
		return fail_word(e, "unknown kernel parameter '%.*s'", nw);
	*param = (enum kparam)k;
	if (kparam_value(*param, vw, value, e) < 0)
		return fail(e, "kernel %s: bad VALUE '%.*s' (%s)",
		    kparams[k].name, (int)vw->n, vw->s, kparams[k].range);
	return 0;
}

int trace_parse_kparam(const char *name, size_t nlen, const char *value,
		       size_t vlen, enum kparam *param, unsigned long *value_out,
		       char *err, size_t errlen)
{
	struct errbuf e = { err, errlen };
	struct word nw = { name, nlen }, vw = { value, vlen };

	return kparam_word(&nw, &vw, param, value_out, &e);
}

const char *kparam_name(enum kparam k)
{
	return (unsigned)k < KP_COUNT ? kparams[k].name : NULL;
}

unsigned long kparam_default(enum kparam k)
{
	return (unsigned)k < KP_COUNT ? kparams[k].dflt : 0;
}

int kparam_format(char *buf, size_t size, enum kparam k, unsigned long v)
{
	static const char sfx[] = "KMG";
	int i;

	if (k == KP_ZERO_PAGE || k == KP_SHARE_TABLES)
		return snprintf(buf, size, "%s", v ? "on" : "off");
	if (v == KP_UNLIMITED)
		return snprintf(buf, size, "unlimited");
	if (k == KP_FAULT_AROUND_BYTES || k == KP_MAX_MAP_COUNT || v == 0)
		return snprintf(buf, size, "%lu", v);
	for (i = 2; i >= 0; i--)
		if ((v & ((1UL << (10 * (i + 1))) - 1)) == 0)
			return snprintf(buf, size, "%lu%c",
			    v >> (10 * (i + 1)), sfx[i]);
	return snprintf(buf, size, "%lu", v);
}

/* ---- one handler per command; ws->w[0] is the command word ---- */

struct command {
	const char *name;
	enum trace_op op;
	int (*parse)(const struct words *ws, struct trace_cmd *cmd,
		     struct errbuf *e);
	const char *usage;	/* argument synopsis for count errors */
};

static int parse_window(const struct words *ws, struct trace_cmd *cmd,
			struct errbuf *e)
{
	if (parse_addr(&ws->w[1], &cmd->addr, e) < 0)
		return -1;
	return parse_len(&ws->w[2], &cmd->len, e);
}

static int parse_file(const struct words *ws, struct trace_cmd *cmd,
		      struct errbuf *e)
{
	if (parse_name(&ws->w[1], cmd->name, e) < 0)
		return -1;
	return parse_len(&ws->w[2], &cmd->len, e);
}

/* ADDR LEN, shared by munmap, mlock, munlock and the first two of others. */
static int parse_addr_len(const struct words *ws, struct trace_cmd *cmd,
			  struct errbuf *e)
{
	if (parse_addr(&ws->w[1], &cmd->addr, e) < 0)
		return -1;
	return parse_len(&ws->w[2], &cmd->len, e);
}

static int parse_mmap(const struct words *ws, struct trace_cmd *cmd,
		      struct errbuf *e)
{
	if (parse_addr_len(ws, cmd, e) < 0 ||
	    parse_prot(&ws->w[3], &cmd->prot, e) < 0 ||
	    parse_mmap_flags(&ws->w[4], &cmd->flags, e) < 0)
		return -1;
	cmd->has_file = !(cmd->flags & MAP_ANONYMOUS);
	if (cmd->has_file && ws->count != 7)
		return fail(e, "file mapping needs NAME OFFSET");
	if (!cmd->has_file && ws->count != 5)
		return fail(e, "anonymous mapping takes no NAME OFFSET");
	if (!cmd->has_file)
		return 0;
	if (parse_name(&ws->w[5], cmd->name, e) < 0)
		return -1;
	return parse_len(&ws->w[6], &cmd->offset, e);
}

static int parse_mprotect(const struct words *ws, struct trace_cmd *cmd,
			  struct errbuf *e)
{
	if (parse_addr_len(ws, cmd, e) < 0)
		return -1;
	return parse_prot(&ws->w[3], &cmd->prot, e);
}

static int parse_mremap(const struct words *ws, struct trace_cmd *cmd,
			struct errbuf *e)
{
	if (parse_addr_len(ws, cmd, e) < 0 ||
	    parse_len(&ws->w[3], &cmd->new_len, e) < 0 ||
	    parse_mremap_flags(&ws->w[4], &cmd->flags, e) < 0)
		return -1;
	if (ws->count == 6) {
		cmd->has_new_addr = 1;
		return parse_addr(&ws->w[5], &cmd->new_addr, e);
	}
	if (cmd->flags & MREMAP_FIXED)
		return fail(e, "mremap: fixed needs NEWADDR");
	return 0;
}

static int parse_madvise(const struct words *ws, struct trace_cmd *cmd,
			 struct errbuf *e)
{
	if (parse_addr_len(ws, cmd, e) < 0)
		return -1;
	return parse_advice(&ws->w[3], &cmd->advice, e);
}

/* brk ADDR and read ADDR */
static int parse_one_addr(const struct words *ws, struct trace_cmd *cmd,
			  struct errbuf *e)
{
	return parse_addr(&ws->w[1], &cmd->addr, e);
}

static int parse_write(const struct words *ws, struct trace_cmd *cmd,
		       struct errbuf *e)
{
	unsigned long byte;

	if (parse_addr(&ws->w[1], &cmd->addr, e) < 0 ||
	    parse_num(&ws->w[2], 0, &byte, e) < 0)
		return -1;
	if (byte > 0xff)
		return fail_word(e, "BYTE out of range '%.*s'", &ws->w[2]);
	cmd->byte = (unsigned int)byte;
	return 0;
}

static int parse_touch(const struct words *ws, struct trace_cmd *cmd,
		       struct errbuf *e)
{
	const struct word *a = &ws->w[2];

	if (parse_addr(&ws->w[1], &cmd->addr, e) < 0)
		return -1;
	if (a->n != 1 || (a->s[0] != 'r' && a->s[0] != 'w' && a->s[0] != 'x'))
		return fail_word(e, "bad ACCESS '%.*s'", a);
	cmd->access = a->s[0];
	return 0;
}

static int parse_switch(const struct words *ws, struct trace_cmd *cmd,
			struct errbuf *e)
{
	return parse_num(&ws->w[1], 0, &cmd->id, e);
}

/* exec NAME [TEXT DATA BSS] */
static int parse_exec(const struct words *ws, struct trace_cmd *cmd,
		      struct errbuf *e)
{
	if (parse_name(&ws->w[1], cmd->name, e) < 0)
		return -1;
	if (ws->count == 2)
		return 0;
	if (ws->count != 5)
		return fail(e, "exec: expected NAME [TEXT DATA BSS]");
	cmd->has_file = 1;
	if (parse_len(&ws->w[2], &cmd->len, e) < 0 ||
	    parse_len(&ws->w[3], &cmd->new_len, e) < 0)
		return -1;
	return parse_len(&ws->w[4], &cmd->offset, e);
}

static int parse_kernel(const struct words *ws, struct trace_cmd *cmd,
			struct errbuf *e)
{
	return kparam_word(&ws->w[1], &ws->w[2], &cmd->param, &cmd->len, e);
}

/* msync ADDR LEN MSFLAGS */
static int parse_msync(const struct words *ws, struct trace_cmd *cmd,
		       struct errbuf *e)
{
	if (parse_addr_len(ws, cmd, e) < 0)
		return -1;
	return parse_dash_flags(&ws->w[3], msync_flags, N_ELEMS(msync_flags),
				"MSFLAGS", &cmd->flags, e);
}

/* shmget NAME SIZE; shmrm NAME */
static int parse_shm_name(const struct words *ws, struct trace_cmd *cmd,
			  struct errbuf *e)
{
	if (parse_name(&ws->w[1], cmd->name, e) < 0)
		return -1;
	return ws->count == 3 ? parse_len(&ws->w[2], &cmd->len, e) : 0;
}

/* shmat NAME ADDR SHMFLAGS */
static int parse_shmat(const struct words *ws, struct trace_cmd *cmd,
		       struct errbuf *e)
{
	if (parse_name(&ws->w[1], cmd->name, e) < 0 ||
	    parse_addr(&ws->w[2], &cmd->addr, e) < 0)
		return -1;
	return parse_dash_flags(&ws->w[3], shmat_flags, N_ELEMS(shmat_flags),
				"SHMFLAGS", &cmd->flags, e);
}

static int parse_nothing(const struct words *ws, struct trace_cmd *cmd,
			 struct errbuf *e)
{
	(void)ws;
	(void)cmd;
	(void)e;
	return 0;
}

/*
 * min/max words including the command word.  Listed in enum order so that
 * trace_op_name() can index it.
 */
static const struct {
	struct command c;
	int min, max;
} commands[] = {
	{ { "window", T_WINDOW, parse_window, "START LEN" }, 3, 3 },
	{ { "file", T_FILE, parse_file, "NAME SIZE" }, 3, 3 },
	{ { "mmap", T_MMAP, parse_mmap,
	    "ADDR LEN PROT FLAGS [NAME OFFSET]" }, 5, 7 },
	{ { "munmap", T_MUNMAP, parse_addr_len, "ADDR LEN" }, 3, 3 },
	{ { "mprotect", T_MPROTECT, parse_mprotect, "ADDR LEN PROT" }, 4, 4 },
	{ { "mremap", T_MREMAP, parse_mremap,
	    "ADDR OLDLEN NEWLEN MFLAGS [NEWADDR]" }, 5, 6 },
	{ { "madvise", T_MADVISE, parse_madvise, "ADDR LEN ADVICE" }, 4, 4 },
	{ { "mlock", T_MLOCK, parse_addr_len, "ADDR LEN" }, 3, 3 },
	{ { "munlock", T_MUNLOCK, parse_addr_len, "ADDR LEN" }, 3, 3 },
	{ { "brk", T_BRK, parse_one_addr, "ADDR" }, 2, 2 },
	{ { "read", T_READ, parse_one_addr, "ADDR" }, 2, 2 },
	{ { "write", T_WRITE, parse_write, "ADDR BYTE" }, 3, 3 },
	{ { "touch", T_TOUCH, parse_touch, "ADDR r|w|x" }, 3, 3 },
	{ { "fork", T_FORK, parse_nothing, NULL }, 1, 1 },
	{ { "thread", T_THREAD, parse_nothing, NULL }, 1, 1 },
	{ { "switch", T_SWITCH, parse_switch, "ID" }, 2, 2 },
	{ { "exit", T_EXIT, parse_nothing, NULL }, 1, 1 },
	{ { "maps", T_MAPS, parse_nothing, NULL }, 1, 1 },
	{ { "smaps", T_SMAPS, parse_nothing, NULL }, 1, 1 },
	{ { "exec", T_EXEC, parse_exec, "NAME [TEXT DATA BSS]" }, 2, 5 },
	{ { "vfork", T_VFORK, parse_nothing, NULL }, 1, 1 },
	{ { "kernel", T_KERNEL, parse_kernel, "NAME VALUE" }, 3, 3 },
	{ { "msync", T_MSYNC, parse_msync, "ADDR LEN MSFLAGS" }, 4, 4 },
	{ { "shmget", T_SHMGET, parse_shm_name, "NAME SIZE" }, 3, 3 },
	{ { "shmat", T_SHMAT, parse_shmat, "NAME ADDR SHMFLAGS" }, 4, 4 },
	{ { "shmdt", T_SHMDT, parse_one_addr, "ADDR" }, 2, 2 },
	{ { "shmrm", T_SHMRM, parse_shm_name, "NAME" }, 2, 2 },
};

int trace_parse_line(const char *line, size_t len, struct trace_cmd *cmd,
		     char *err, size_t errlen)
{
	struct errbuf e = { err, errlen };
	struct words ws;
	size_t i;

	if (err && errlen)
		err[0] = '\0';
	split_words(line, len, &ws);
	if (ws.count == 0)
		return 0;
	for (i = 0; i < N_ELEMS(commands); i++) {
		const struct command *c = &commands[i].c;

		if (!word_is(&ws.w[0], c->name))
			continue;
		if (ws.count < commands[i].min || ws.count > commands[i].max)
			return c->usage ?
				fail(&e, "%s: expected %s", c->name, c->usage) :
				fail(&e, "%s: expected no arguments", c->name);
		memset(cmd, 0, sizeof(*cmd));
		cmd->op = c->op;
		return c->parse(&ws, cmd, &e) < 0 ? -1 : 1;
	}
	return fail_word(&e, "unknown command '%.*s'", &ws.w[0]);
}

const char *trace_op_name(enum trace_op op)
{
	if ((size_t)op < N_ELEMS(commands) && commands[op].c.op == op)
		return commands[op].c.name;
	return "?";
}

const char *errno_name(int err)
{
	switch (err) {
#define E(x) case x: return #x
	E(EPERM); E(ENOENT); E(ESRCH); E(EINTR); E(EIO); E(ENXIO);
	E(E2BIG); E(ENOEXEC); E(EBADF); E(ECHILD); E(EAGAIN); E(ENOMEM);
	E(EACCES); E(EFAULT); E(EBUSY); E(EEXIST); E(EXDEV); E(ENODEV);
	E(ENOTDIR); E(EISDIR); E(EINVAL); E(ENFILE); E(EMFILE); E(ENOTTY);
	E(ETXTBSY); E(EFBIG); E(ENOSPC); E(ESPIPE); E(EROFS); E(EMLINK);
	E(EPIPE); E(ERANGE); E(ENAMETOOLONG); E(ENOSYS); E(EOVERFLOW);
	E(EOPNOTSUPP); E(ELOOP); E(EDEADLK); E(ENOLCK); E(ENOTEMPTY);
	E(ECANCELED); E(EHWPOISON);
#undef E
	}
	return "EUNKNOWN";
}

int trace_format_maps_line(char *buf, size_t size, unsigned long start,
			   unsigned long end, const char perms[4],
			   unsigned long offset, const char *name)
{
	if (!name || !name[0])
		return snprintf(buf, size, "%08lx-%08lx %.4s %08lx", start,
				end, perms, offset);
	return snprintf(buf, size, "%08lx-%08lx %.4s %08lx %s", start, end,
			perms, offset, name);
}

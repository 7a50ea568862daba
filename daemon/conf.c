/*
 * conf.c: aspaced's configuration (conf.h).  One table, keywords[],
 * lists every keyword with its type, bounds and field of struct
 * server_config; the file parser, the command line (aspaced.c builds
 * its long options from conf_keyword()), the -T printer and
 * docs/aspaced.conf.5 all follow it.
 *
 * A file is lines of "keyword value": '#' starts a comment at the start
 * of a line or after the value; a value with spaces goes in double
 * quotes, where \" and \\ stand for " and \.  Errors name the file and
 * line: "FILE:LINE: keyword: reason"; from the command line,
 * "--keyword: reason".
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "frame.h"
#include "rundir.h"

enum conf_type {
	CT_LISTEN,	/* unix:PATH or tls://HOST:PORT, repeatable */
	CT_PATH,	/* a file or directory */
	CT_ADDR,	/* HOST:PORT */
	CT_ENUM,	/* one of names[], stored as min + its index */
	CT_COUNT,	/* a plain number */
	CT_SIZE,	/* bytes, K, M, G or T after the number */
	CT_DURATION,	/* milliseconds; ms, s, m, h or d after the number */
};

#define CONF_NONE	0x1	/* "none" leaves it unset (NULL) */

struct keyword {
	const char		*name;
	enum conf_type		 type;
	int			 flags;
	size_t			 off, size;	/* in struct server_config */
	unsigned long long	 min, max;	/* counts, bytes, ms */
	unsigned int		 unit;		/* a bare duration's, in ms */
	const char *const	*names;		/* CT_ENUM */
};

#define FIELD(f)	offsetof(struct server_config, f), \
			sizeof(((struct server_config *)0)->f)
#define SEC		1000ULL
#define DAY		(86400 * SEC)

static const char *const log_levels[] = {
	"error", "warning", "notice", "info", "debug", NULL
};
static const char *const log_targets[] = {
	"auto", "stderr", "syslog", "journal", NULL
};

/* Indices the code needs by name; checked against the table at init. */
enum {
	K_LISTEN, K_TLS_CERT, K_TLS_KEY, K_TLS_CLIENT_CA, K_TOKENS,
	K_RUNTIME_DIR, K_STATE_DIR
};

static const struct keyword keywords[CONF_KEYWORDS] = {
	{ "listen", CT_LISTEN, 0, 0, 0, 0, 0, 0, NULL },
	{ "tls-cert", CT_PATH, CONF_NONE, FIELD(tls_cert), 0, 0, 0, NULL },
	{ "tls-key", CT_PATH, CONF_NONE, FIELD(tls_key), 0, 0, 0, NULL },
	{ "tls-client-ca", CT_PATH, CONF_NONE, FIELD(tls_client_ca),
	    0, 0, 0, NULL },
	{ "tokens", CT_PATH, CONF_NONE, FIELD(token_file), 0, 0, 0, NULL },
	{ "runtime-directory", CT_PATH, 0, FIELD(runtime_dir), 0, 0, 0, NULL },
	{ "state-directory", CT_PATH, CONF_NONE, FIELD(state_dir), 0, 0, 0,
	    NULL },
	{ "checkpoint-interval", CT_DURATION, 0, FIELD(checkpoint_ms),
	    0, 30 * DAY, SEC, NULL },
	{ "metrics-listen", CT_ADDR, CONF_NONE, FIELD(metrics_listen),
	    0, 0, 0, NULL },
	{ "log-level", CT_ENUM, 0, FIELD(log_level), LOG_ERR, LOG_DEBUG, 0,
	    log_levels },
	{ "log-target", CT_ENUM, 0, FIELD(log_target), SERVER_LOG_AUTO,
	    SERVER_LOG_JOURNAL, 0, log_targets },
	{ "workers", CT_COUNT, 0, FIELD(workers), 1, 256, 0, NULL },
	{ "max-connections", CT_COUNT, 0, FIELD(max_conns), 1, 1000000, 0,
	    NULL },
	{ "idle-timeout", CT_DURATION, 0, FIELD(idle_timeout_ms), 0, 30 * DAY,
	    SEC, NULL },
	{ "handshake-timeout", CT_DURATION, 0, FIELD(handshake_timeout_ms),
	    0, DAY, SEC, NULL },
	{ "frame-timeout", CT_DURATION, 0, FIELD(frame_timeout_ms), 0, DAY,
	    SEC, NULL },
	{ "max-unauth-connections", CT_COUNT, 0, FIELD(max_unauth), 1, 1000000,
	    0, NULL },
	{ "unauth-drop-start", CT_COUNT, 0, FIELD(unauth_drop_start), 0,
	    1000000, 0, NULL },
	{ "max-connections-per-address", CT_COUNT, 0,
	    FIELD(max_conns_per_addr), 0, 1000000, 0, NULL },
	{ "max-unauth-per-address", CT_COUNT, 0, FIELD(max_unauth_per_addr),
	    0, 1000000, 0, NULL },
	{ "drain-timeout", CT_DURATION, 0, FIELD(drain_timeout_ms), 0,
	    DAY, SEC, NULL },
	{ "max-inflight", CT_COUNT, 0, FIELD(max_inflight), 1, 65536, 0,
	    NULL },
	{ "max-body", CT_SIZE, 0, FIELD(max_body), FRAME_MAX_BODY_PREAUTH,
	    FRAME_MAX_BODY_LIMIT, 0, NULL },
	{ "max-sessions", CT_COUNT, 0, FIELD(max_sessions), 1, 1000000, 0,
	    NULL },
	{ "max-sessions-total", CT_COUNT, 0, FIELD(max_sessions_total),
	    1, 1000000, 0, NULL },
	{ "max-ram", CT_SIZE, 0, FIELD(ram_max), 1ULL << 20, 1ULL << 46, 0,
	    NULL },
	{ "ram-total", CT_SIZE, 0, FIELD(ram_total), 0, 1ULL << 50, 0, NULL },
	{ "pool-threads", CT_COUNT, 0, FIELD(pool_threads), 0, 256, 0, NULL },
	{ "accept-backoff", CT_DURATION, 0, FIELD(accept_backoff_ms),
	    1, 60 * SEC, 1, NULL },
	{ "request-cpu-limit", CT_DURATION, 0, FIELD(request_cpu_ms),
	    0, DAY, SEC, NULL },
	{ "trace-line-limit", CT_COUNT, 0, FIELD(trace_line_limit),
	    0, 1000000000, 0, NULL },
	{ "pool-tenant-jobs", CT_COUNT, 0, FIELD(pool_tenant_jobs),
	    0, 65536, 0, NULL },
};

/* --- messages and strings --------------------------------------------------- */

/* Put "where: keyword: message" in c->err; -1. */
static int __attribute__((format(printf, 4, 5)))
fail(struct conf *c, const struct conf_origin *o, const char *kw,
    const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (o != NULL && o->file != NULL)
		n = (size_t)snprintf(c->err, sizeof(c->err), "%s:%d: ",
		    o->file, o->line);
	if (kw != NULL && n < sizeof(c->err))
		n += (size_t)snprintf(c->err + n, sizeof(c->err) - n, "%s%s%s: ",
		    o != NULL && o->file == NULL && o->line == 0 ? "--" : "",
		    kw, o != NULL && o->line < 0 ? " (default)" : "");
	if (n < sizeof(c->err)) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, sizeof(c->err) - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A copy of s owned by c, freed by conf_free(); NULL if out of memory. */
static char *keep(struct conf *c, const char *s)
{
	char **more, *p;
	size_t cap;

	if (c->nowned == c->capowned) {
		cap = c->capowned ? 2 * c->capowned : 32;
		if ((more = realloc(c->owned, cap * sizeof(*more))) == NULL)
			return NULL;
		c->owned = more;
		c->capowned = cap;
	}
	if ((p = strdup(s)) != NULL)
		c->owned[c->nowned++] = p;
	return p;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_control(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* A value that reads back without quotes. */
static bool is_plain(const char *s)
{
	if (*s == '\0' || *s == '#')
		return false;
	for (; *s != '\0'; s++)
		if (is_space(*s) || *s == '"' || *s == '\\' || *s == '\'')
			return false;
	return true;
}

/* The length of value v printed by print_value(), quotes and escapes
 * included. */
static size_t printed_len(const char *v)
{
	size_t n = strlen(v);

	if (is_plain(v))
		return n;
	for (; *v != '\0'; v++)
		n += *v == '"' || *v == '\\';
	return n + 2;
}

/* --- numbers ---------------------------------------------------------------- */

static const struct unit {
	const char		*suffix;
	unsigned long long	 mul;
} sizes[] = {
	{ "T", 1ULL << 40 }, { "G", 1ULL << 30 }, { "M", 1ULL << 20 },
	{ "K", 1ULL << 10 }, { "", 1 }, { NULL, 0 }
}, durations[] = {
	{ "d", DAY }, { "h", 3600 * SEC }, { "m", 60 * SEC }, { "s", SEC },
	{ "ms", 1 }, { NULL, 0 }
};

/* Leading decimal digits of *sp into *n; the count, or -1 on overflow. */
static int digits(const char **sp, unsigned long long *n)
{
	const char *s = *sp;
	int count = 0;

	for (*n = 0; *s >= '0' && *s <= '9'; s++, count++) {
		if (*n > (ULLONG_MAX - 9) / 10)
			return -1;
		*n = *n * 10 + (unsigned long long)(*s - '0');
	}
	*sp = s;
	return count;
}

/* The multiplier of suffix s in table u (case-blind for sizes); 0 if
 * none matches. */
static unsigned long long find_unit(const struct unit *u, const char *s,
    bool fold)
{
	for (; u->suffix != NULL; u++)
		if ((fold ? strcasecmp(u->suffix, s) : strcmp(u->suffix, s)) == 0)
			return u->mul;
	return 0;
}

/* n in the largest unit of u that divides it: "64M", "5m", "300ms". */
static void format_unit(const struct unit *u, unsigned long long n,
    char *buf, size_t size)
{
	for (; n != 0 && u->suffix != NULL; u++)
		if (n % u->mul == 0)
			break;
	if (n == 0 || u->suffix == NULL)
		snprintf(buf, size, "%llu", n);
	else
		snprintf(buf, size, "%llu%s", n / u->mul, u->suffix);
}

static void format_num(const struct keyword *k, unsigned long long n,
    char *buf, size_t size)
{
	if (k->type == CT_SIZE)
		format_unit(sizes, n, buf, size);
	else if (k->type == CT_DURATION)
		format_unit(durations, n, buf, size);
	else
		snprintf(buf, size, "%llu", n);
}

/*
 * s as k's number into *n: 0, 1 if it is not a number of k's kind, 2 if
 * too big to hold.  A duration may have a fraction ("0.3", "1.5s") down
 * to whole milliseconds.
 */
static int scan_num(const struct keyword *k, const char *s,
    unsigned long long *n)
{
	unsigned long long mul = 1, frac = 0, scale = 1;
	int nd, nf = 0;

	if ((nd = digits(&s, n)) < 0)
		return 2;
	if (k->type == CT_DURATION && *s == '.') {
		s++;
		if ((nf = digits(&s, &frac)) <= 0 || nf > 9)
			return 1;
		while (nf-- > 0)
			scale *= 10;
	}
	if (nd == 0)
		return 1;
	if (k->type == CT_SIZE && *s != '\0' &&
	    (mul = find_unit(sizes, s, true)) == 0)
		return 1;
	if (k->type == CT_DURATION)
		mul = *s == '\0' ? k->unit : find_unit(durations, s, false);
	if (mul == 0 || (k->type == CT_COUNT && *s != '\0') ||
	    (frac != 0 && frac * mul % scale != 0))
		return 1;
	if (*n > (ULLONG_MAX - frac * mul / scale) / mul)
		return 2;
	*n = *n * mul + frac * mul / scale;
	return 0;
}

static const char *const kind_of[] = {
	[CT_COUNT] = "a number",
	[CT_SIZE] = "a size (a number of bytes, K, M, G or T)",
	[CT_DURATION] = "a duration (a number, ms, s, m, h or d)",
};

static int set_num(struct conf *c, const struct conf_origin *o,
    const struct keyword *k, const char *s)
{
	char lim[32];
	unsigned long long n;
	char *p = (char *)&c->srv + k->off;
	uint32_t v32;
	uint64_t v64;
	int r = scan_num(k, s, &n);

	if (r == 1)
		return fail(c, o, k->name, "'%s' is not %s", s, kind_of[k->type]);
	if (r == 2 || n > k->max) {
		format_num(k, k->max, lim, sizeof(lim));
		return fail(c, o, k->name, "%s is over the limit %s", s, lim);
	}
	if (n < k->min) {
		format_num(k, k->min, lim, sizeof(lim));
		return fail(c, o, k->name, "%s is under the minimum %s", s, lim);
	}
	if (k->size == sizeof(v32)) {
		v32 = (uint32_t)n;
		memcpy(p, &v32, sizeof(v32));
	} else {
		v64 = n;
		memcpy(p, &v64, sizeof(v64));
	}
	return 0;
}

static unsigned long long get_num(const struct conf *c,
    const struct keyword *k)
{
	const char *p = (const char *)&c->srv + k->off;
	uint32_t v32;
	uint64_t v64;

	if (k->size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	memcpy(&v64, p, sizeof(v64));
	return v64;
}

/* --- strings, addresses, names ---------------------------------------------- */

static const char *get_str(const struct conf *c, const struct keyword *k)
{
	const char *s;

	memcpy(&s, (const char *)&c->srv + k->off, sizeof(s));
	return s;
}

static int set_str(struct conf *c, const struct conf_origin *o,
    const struct keyword *k, const char *s)
{
	const char *p = NULL;

	if ((k->flags & CONF_NONE) == 0 || strcmp(s, "none") != 0)
		if ((p = keep(c, s)) == NULL)
			return fail(c, o, k->name, "out of memory");
	memcpy((char *)&c->srv + k->off, &p, sizeof(p));
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT", a port from 0 to 65535, as server.c reads
 * it. */
static bool is_hostport(const char *s)
{
	const char *end, *port;
	unsigned long long n;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return false;
		port = end + 2;
		s++;
	} else {
		if ((end = strchr(s, ':')) == NULL || strchr(end + 1, ':'))
			return false;
		port = end + 1;
	}
	if (end == s || (size_t)(end - s) >= 256)
		return false;
	s = port;
	return digits(&s, &n) > 0 && *s == '\0' && n <= 65535 &&
	    s - port <= 5;
}

static int set_addr(struct conf *c, const struct conf_origin *o,
    const struct keyword *k, const char *s)
{
	if (strcmp(s, "none") != 0 && !is_hostport(s))
		return fail(c, o, k->name, "'%s' is not HOST:PORT (a port "
		    "from 0 to 65535) or none", s);
	return set_str(c, o, k, s);
}

static int set_enum(struct conf *c, const struct conf_origin *o,
    const struct keyword *k, const char *s)
{
	char list[128];
	int i, v;
	size_t n = 0;

	for (i = 0; k->names[i] != NULL; i++)
		if (strcmp(k->names[i], s) == 0) {
			v = (int)k->min + i;
			memcpy((char *)&c->srv + k->off, &v, sizeof(v));
			return 0;
		}
	list[0] = '\0';
	for (i = 0; k->names[i] != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i ? ", " : "", k->names[i]);
	return fail(c, o, k->name, "'%s' is not one of %s", s, list);
}

static const char *get_enum(const struct conf *c, const struct keyword *k)
{
	int v;

	memcpy(&v, (const char *)&c->srv + k->off, sizeof(v));
	return k->names[v - (int)k->min];
}

/* --- listeners -------------------------------------------------------------- */

static bool is_tls(const char *url)
{
	return strncmp(url, "tls://", 6) == 0;
}

static int count_kind(const struct conf *c, bool tls)
{
	int i, n = 0;

	for (i = 0; i < c->nlisten; i++)
		n += is_tls(c->listen[i]) == tls;
	return n;
}

static int check_listen(struct conf *c, const struct conf_origin *o,
    const char *url)
{
	struct sockaddr_un sa;
	const char *kw = keywords[K_LISTEN].name;

	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] == '\0')
			return fail(c, o, kw, "unix: needs a path");
		if (strlen(url + 5) >= sizeof(sa.sun_path))
			return fail(c, o, kw, "the socket path is longer than "
			    "%zu bytes", sizeof(sa.sun_path) - 1);
	} else if (!is_tls(url))
		return fail(c, o, kw, "'%s' is not unix:PATH or "
		    "tls://HOST:PORT", url);
	else if (!is_hostport(url + 6))
		return fail(c, o, kw, "'%s' is not tls://HOST:PORT (a port "
		    "from 0 to 65535)", url);
	if (count_kind(c, is_tls(url)) >= SERVER_LISTEN_MAX)
		return fail(c, o, kw, "at most %d %s listeners",
		    SERVER_LISTEN_MAX, is_tls(url) ? "tls://" : "unix:");
	return 0;
}

/* Another listener; the command line's replace the file's. */
static int add_listen(struct conf *c, const struct conf_origin *o,
    const char *url)
{
	bool cmdline = o->file == NULL && o->line == 0;
	struct conf_origin *last = &c->from[K_LISTEN];

	if (cmdline && !(last->file == NULL && last->line == 0))
		c->nlisten = 0;
	if (check_listen(c, o, url) != 0)
		return -1;
	if ((c->listen[c->nlisten] = keep(c, url)) == NULL)
		return fail(c, o, keywords[K_LISTEN].name, "out of memory");
	c->listen_from[c->nlisten++] = *o;
	return 0;
}

/* c->listen into the server's fields, by kind. */
static void fill_listeners(struct conf *c)
{
	struct server_config *s = &c->srv;
	int i, nu = 0, nt = 0;
	const char *url;

	s->unix_path = s->tls_listen = NULL;
	memset(s->unix_more, 0, sizeof(s->unix_more));
	memset(s->tls_more, 0, sizeof(s->tls_more));
	for (i = 0; i < c->nlisten; i++) {
		url = c->listen[i];
		if (is_tls(url) && nt++ == 0)
			s->tls_listen = url + 6;
		else if (is_tls(url))
			s->tls_more[nt - 2] = url + 6;
		else if (nu++ == 0)
			s->unix_path = url + 5;
		else
			s->unix_more[nu - 2] = url + 5;
	}
}

/* --- setting a keyword ------------------------------------------------------ */

static int set_value(struct conf *c, int i, const char *v,
    const struct conf_origin *o)
{
	const struct keyword *k = &keywords[i];
	const char *s;
	int r;

	for (s = v; *s != '\0'; s++)
		if (is_control((unsigned char)*s))
			return fail(c, o, k->name, "a control character in the "
			    "value");
	if (*v == '\0')
		return fail(c, o, k->name, "an empty value");
	/* So that conf_print()'s line reads back. */
	if (strlen(k->name) + 1 + printed_len(v) > CONF_LINE_MAX)
		return fail(c, o, k->name, "a value too long for a line of "
		    "%d bytes", CONF_LINE_MAX);
	switch (k->type) {
	case CT_LISTEN:		r = add_listen(c, o, v); break;
	case CT_PATH:		r = set_str(c, o, k, v); break;
	case CT_ADDR:		r = set_addr(c, o, k, v); break;
	case CT_ENUM:		r = set_enum(c, o, k, v); break;
	default:		r = set_num(c, o, k, v); break;
	}
	if (r == 0)
		c->from[i] = *o;
	return r;
}

int conf_set_option(struct conf *c, int i, const char *value)
{
	static const struct conf_origin cmdline = { NULL, 0 };

	if (i < 0 || i >= CONF_KEYWORDS)
		return fail(c, NULL, NULL, "no keyword %d", i);
	return set_value(c, i, value, &cmdline);
}

const char *conf_keyword(int i)
{
	return i >= 0 && i < CONF_KEYWORDS ? keywords[i].name : NULL;
}

int conf_find(const char *name)
{
	int i;

	for (i = 0; i < CONF_KEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return i;
	return -1;
}

void conf_keyword_arg(int i, char *buf, size_t size)
{
	static const char *const args[] = {
		[CT_LISTEN] = "unix:PATH|tls://HOST:PORT", [CT_PATH] = "PATH",
		[CT_ADDR] = "HOST:PORT|none", [CT_COUNT] = "N",
		[CT_SIZE] = "BYTES", [CT_DURATION] = "TIME",
	};
	const struct keyword *k = &keywords[i];
	size_t n = 0;
	int j;

	if (k->type != CT_ENUM) {
		snprintf(buf, size, "%s%s", args[k->type],
		    k->flags & CONF_NONE && k->type == CT_PATH ? "|none" : "");
		return;
	}
	buf[0] = '\0';
	for (j = 0; k->names[j] != NULL && n < size; j++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", j ? "|" : "",
		    k->names[j]);
}

/* --- the file --------------------------------------------------------------- */

/* The quoted value at s (after its '"') into val; past the closing quote,
 * or NULL after fail(). */
static const char *unquote(struct conf *c, const struct conf_origin *o,
    const char *kw, const char *s, char *val)
{
	for (; *s != '"'; s++) {
		if (*s == '\0') {
			fail(c, o, kw, "no closing quote");
			return NULL;
		}
		if (*s == '\\' && s[1] != '"' && s[1] != '\\') {
			fail(c, o, kw, "\\ in quotes must be \\\" or \\\\");
			return NULL;
		}
		if (*s == '\\')
			s++;
		*val++ = *s;
	}
	*val = '\0';
	return s + 1;
}

/* An unquoted value at s into val; past it, or NULL after fail(). */
static const char *plain(struct conf *c, const struct conf_origin *o,
    const char *kw, const char *s, char *val)
{
	for (; *s != '\0' && !is_space(*s); s++) {
		if (*s == '"') {
			fail(c, o, kw, "a quote inside an unquoted value");
			return NULL;
		}
		*val++ = *s;
	}
	*val = '\0';
	return s;
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* The keyword at *sp; its index, or -1 after fail(). */
static int parse_keyword(struct conf *c, const struct conf_origin *o,
    const char **sp)
{
	char kw[CONF_LINE_MAX + 1];
	const char *s = *sp;
	size_t n = 0;
	int i;

	while (*s != '\0' && !is_space(*s))
		kw[n++] = *s++;
	kw[n] = '\0';
	*sp = s;
	if ((i = conf_find(kw)) < 0)
		return fail(c, o, NULL, "unknown keyword '%s'", kw);
	if (keywords[i].type != CT_LISTEN && c->from[i].file != NULL)
		return fail(c, o, kw, "given twice (first on line %d)",
		    c->from[i].line);
	return i;
}

/* One line, NUL-terminated, without its newline. */
static int parse_line(struct conf *c, const struct conf_origin *o,
    char *line)
{
	char val[CONF_LINE_MAX + 1];
	const char *s, *kw;
	size_t n = strlen(line);
	int i;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	for (s = line; *s != '\0'; s++)
		if (is_control((unsigned char)*s) && *s != '\t')
			return fail(c, o, NULL, "a control character");
	s = skip_space(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if ((i = parse_keyword(c, o, &s)) < 0)
		return -1;
	kw = keywords[i].name;
	s = skip_space(s);
	if (*s == '\0' || *s == '#')
		return fail(c, o, kw, "no value");
	s = *s == '"' ? unquote(c, o, kw, s + 1, val) : plain(c, o, kw, s, val);
	if (s == NULL)
		return -1;
	s = skip_space(s);
	if (*s != '\0' && *s != '#')
		return fail(c, o, kw, "more than one value (quote a value "
		    "with spaces)");
	return set_value(c, i, val, o);
}

int conf_parse_buffer(struct conf *c, const char *file, const char *buf,
    size_t len)
{
	char line[CONF_LINE_MAX + 1];
	struct conf_origin o = { NULL, 0 };
	const char *eol;
	size_t off, n;

	if ((o.file = keep(c, file)) == NULL)
		return fail(c, NULL, NULL, "%s: out of memory", file);
	if (len > CONF_FILE_MAX)
		return fail(c, NULL, NULL, "%s: larger than %u bytes", file,
		    CONF_FILE_MAX);
	for (off = 0; off < len; off += n + 1) {
		o.line++;
		eol = memchr(buf + off, '\n', len - off);
		n = eol != NULL ? (size_t)(eol - (buf + off)) : len - off;
		if (n > CONF_LINE_MAX)
			return fail(c, &o, NULL, "a line longer than %d bytes",
			    CONF_LINE_MAX);
		if (memchr(buf + off, '\0', n) != NULL)
			return fail(c, &o, NULL, "a NUL byte");
		memcpy(line, buf + off, n);
		line[n] = '\0';
		if (parse_line(c, &o, line) != 0)
			return -1;
	}
	return 0;
}

/* Read fd, a regular file, whole into a malloc'd buffer; NULL with errno
 * (EFBIG past CONF_FILE_MAX). */
static char *read_all(int fd, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	ssize_t n;

	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL)
		return NULL;
	while ((n = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) > 0)
		if ((len += (size_t)n) > CONF_FILE_MAX)
			break;
	if (n < 0 || len > CONF_FILE_MAX) {
		if (n >= 0)
			errno = EFBIG;
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}

int conf_parse_file(struct conf *c, const char *path, bool must_exist)
{
	char *buf;
	size_t len;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(c, NULL, NULL, "%s: %s", path, strerror(errno));
	}
	/* A directory fails in read(), with EISDIR. */
	buf = read_all(fd, &len);
	r = errno;
	close(fd);
	if (buf == NULL && r == EFBIG)
		return fail(c, NULL, NULL, "%s: larger than %u bytes", path,
		    CONF_FILE_MAX);
	if (buf == NULL)
		return fail(c, NULL, NULL, "%s: %s", path, strerror(r));
	r = conf_parse_buffer(c, path, buf, len);
	free(buf);
	return r;
}

/* --- defaults that depend on the environment --------------------------------- */

/* $name when an absolute path (the first of a list, for systemd's
 * ':'-separated ones) into buf; false if none. */
static bool env_dir(const char *name, bool list, char *buf, size_t size)
{
	const char *v = getenv(name);
	size_t n;

	if (v == NULL || v[0] != '/')
		return false;
	n = list ? strcspn(v, ":") : strlen(v);
	if (n >= size)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

static void default_runtime_dir(char *buf, size_t size)
{
	if (env_dir("RUNTIME_DIRECTORY", true, buf, size))
		return;
	if (geteuid() == 0)
		snprintf(buf, size, "%s", RUNDIR_SYSTEM);
	else if (rundir_user(buf, size) != 0)
		snprintf(buf, size, "/tmp/aspaced-%lu",
		    (unsigned long)geteuid());
}

/* The XDG base directory spec's state home, else the working
 * directory's aspaced-state. */
static void default_state_dir(char *buf, size_t size)
{
	char dir[CONF_LINE_MAX / 2];

	if (env_dir("STATE_DIRECTORY", true, buf, size))
		return;
	if (geteuid() == 0)
		snprintf(buf, size, "/var/lib/aspaced");
	else if (env_dir("XDG_STATE_HOME", false, dir, sizeof(dir)))
		snprintf(buf, size, "%s/aspaced", dir);
	else if (env_dir("HOME", false, dir, sizeof(dir)))
		snprintf(buf, size, "%s/.local/state/aspaced", dir);
	else if (getcwd(dir, sizeof(dir)) != NULL && dir[0] == '/')
		snprintf(buf, size, "%s/aspaced-state", dir);
	else
		snprintf(buf, size, "aspaced-state");
}

/* The directories, then the default listener in the runtime one. */
static int finish_defaults(struct conf *c)
{
	static const struct conf_origin dflt = { NULL, -1 };
	char dir[CONF_LINE_MAX + 1], url[CONF_LINE_MAX + 16];
	struct sockaddr_un sa;

	if (c->srv.runtime_dir == NULL) {
		default_runtime_dir(dir, sizeof(dir));
		if (set_value(c, K_RUNTIME_DIR, dir, &dflt) != 0)
			return -1;
	}
	if (c->srv.state_dir == NULL && c->from[K_STATE_DIR].line == -1) {
		default_state_dir(dir, sizeof(dir));
		if (set_value(c, K_STATE_DIR, dir, &dflt) != 0)
			return -1;
	}
	if (c->nlisten > 0)
		return 0;
	snprintf(url, sizeof(url), "unix:%s/%s", c->srv.runtime_dir,
	    RUNDIR_SOCKET);
	if (strlen(url + 5) >= sizeof(sa.sun_path))
		return fail(c, &c->from[K_RUNTIME_DIR],
		    keywords[K_RUNTIME_DIR].name, "too long for the socket "
		    "%s (at most %zu bytes)", url + 5, sizeof(sa.sun_path) - 1);
	c->listen_defaulted = true;
	return add_listen(c, &dflt, url);
}

int conf_finish(struct conf *c)
{
	static const int tls_only[] = { K_TLS_CERT, K_TLS_KEY,
	    K_TLS_CLIENT_CA };
	size_t i;
	int j;

	if (finish_defaults(c) != 0)
		return -1;
	fill_listeners(c);
	if (c->srv.tls_listen != NULL && (c->srv.tls_cert == NULL ||
	    c->srv.tls_key == NULL)) {
		for (j = 0; !is_tls(c->listen[j]); j++)
			;
		return fail(c, &c->listen_from[j], keywords[K_LISTEN].name,
		    "a tls:// listener needs tls-cert and tls-key");
	}
	for (i = 0; i < sizeof(tls_only) / sizeof(tls_only[0]); i++)
		if (c->srv.tls_listen == NULL && !c->activated &&
		    get_str(c, &keywords[tls_only[i]]) != NULL)
			return fail(c, &c->from[tls_only[i]],
			    keywords[tls_only[i]].name,
			    "needs a tls:// listener");
	return 0;
}

/* --- printing ----------------------------------------------------------------- */

static void print_value(FILE *f, const char *name, const char *v)
{
	if (is_plain(v)) {
		fprintf(f, "%s %s\n", name, v);
		return;
	}
	fprintf(f, "%s \"", name);
	for (; *v != '\0'; v++)
		fprintf(f, *v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
	fputs("\"\n", f);
}

void conf_print(const struct conf *c, FILE *f)
{
	const struct keyword *k;
	const char *s;
	char num[32];
	int i;

	for (k = keywords; k < keywords + CONF_KEYWORDS; k++) {
		switch (k->type) {
		case CT_LISTEN:
			for (i = 0; i < c->nlisten; i++)
				print_value(f, k->name, c->listen[i]);
			break;
		case CT_PATH:
		case CT_ADDR:
			s = get_str(c, k);
			print_value(f, k->name, s != NULL ? s : "none");
			break;
		case CT_ENUM:
			print_value(f, k->name, get_enum(c, k));
			break;
		default:
			format_num(k, get_num(c, k), num, sizeof(num));
			print_value(f, k->name, num);
		}
	}
}

/* --- the runtime directory ---------------------------------------------------- */

int conf_make_runtime_dir(struct conf *c)
{
	const char *dir = c->srv.runtime_dir, *kw = keywords[K_RUNTIME_DIR].name;
	const struct conf_origin *o = &c->from[K_RUNTIME_DIR];
	struct stat st;

	if (!c->listen_defaulted)
		return 0;
	/* Others may reach root's socket; a user's stays the user's. */
	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) != 0 && errno != EEXIST)
		return fail(c, o, kw, "cannot make %s: %s", dir,
		    strerror(errno));
	if (lstat(dir, &st) != 0)
		return fail(c, o, kw, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(c, o, kw, "%s is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return fail(c, o, kw, "%s belongs to uid %lu or others may "
		    "write to it", dir, (unsigned long)st.st_uid);
	return 0;
}

/* --- the default of ram-total -------------------------------------------------- */

/* The first number of the line of file path that starts with key, or 0. */
static unsigned long long read_number(const char *path, const char *key)
{
	char line[256];
	unsigned long long v = 0;
	size_t k = strlen(key);
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, k) == 0) {
			v = strtoull(line + k, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The memory the daemon may use: MemTotal, or the memory.max of its
 * cgroup (v2) when one is set and lower.  0 if neither can be read.
 */
static unsigned long long host_memory(void)
{
	unsigned long long mem = read_number("/proc/meminfo", "MemTotal:") <<
	    10, max;
	char line[512], path[600];
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max",
		    line + 3);
		/* "max" reads as 0: no limit. */
		if ((max = read_number(path, "")) > 0 && (mem == 0 || max < mem))
			mem = max;
		break;
	}
	if (f != NULL)
		fclose(f);
	return mem;
}

/*
 * ram-total's default: half the host's memory (host_memory()), in whole
 * MiB; the other half is left to the host, the chunk pool, malloc's own
 * overhead and the frames a session has freed but whose chunk it still
 * uses.  64 GiB if the host's memory cannot be read.
 */
unsigned long long conf_ram_total_default(void)
{
	unsigned long long mem = host_memory();

	if (mem == 0)
		return 64ULL << 30;
	return mem / 2 >> 20 << 20;
}

/* --- life ----------------------------------------------------------------------- */

void conf_init(struct conf *c)
{
	static const struct conf_origin dflt = { NULL, -1 };
	const struct keyword *k;
	int i;

	memset(c, 0, sizeof(*c));
	server_config_default(&c->srv);
	c->srv.ram_total = conf_ram_total_default();
	c->srv.log_level = LOG_NOTICE;
	c->srv.log_target = SERVER_LOG_AUTO;
	c->srv.checkpoint_ms = 60 * SEC;
	for (i = 0; i < CONF_KEYWORDS; i++) {
		k = &keywords[i];
		c->from[i] = dflt;
		assert(k->name != NULL);
		assert(k->type == CT_LISTEN || k->size == sizeof(uint32_t) ||
		    k->size == sizeof(uint64_t));
		assert(k->size != sizeof(uint32_t) || k->max <= UINT32_MAX);
	}
	assert(strcmp(keywords[K_TLS_CERT].name, "tls-cert") == 0 &&
	    strcmp(keywords[K_TLS_KEY].name, "tls-key") == 0 &&
	    strcmp(keywords[K_TLS_CLIENT_CA].name, "tls-client-ca") == 0 &&
	    strcmp(keywords[K_RUNTIME_DIR].name, "runtime-directory") == 0 &&
	    strcmp(keywords[K_STATE_DIR].name, "state-directory") == 0);
}

void conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	c->owned = NULL;
	c->nowned = c->capowned = 0;
}

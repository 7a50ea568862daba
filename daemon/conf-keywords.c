/*
 * conf-keywords.c: aspaced's keywords (conf.h, conf-int.h).  One table,
 * conf_keywords[], lists every keyword with its type, bounds and field
 * of struct server_config; the file parser (conf.c), the command line
 * (aspaced.c builds its long options from conf_keyword()), the -T
 * printer (conf_print(), here) and docs/aspaced.conf.5 all follow it.
 * Here too is what each type of value means: its parser, checked
 * against the keyword's bounds (conf_set_value()), and its printed form.
 */
#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <syslog.h>

#include "conf-int.h"
#include "frame.h"

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

const struct keyword conf_keywords[CONF_KEYWORDS] = {
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
	{ "web-listen", CT_ADDR, CONF_NONE, FIELD(web_listen), 0, 0, 0, NULL },
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

int conf_fail(struct conf *c, const struct conf_origin *o, const char *kw,
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
char *conf_keep(struct conf *c, const char *s)
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
		return conf_fail(c, o, k->name, "'%s' is not %s", s,
		    kind_of[k->type]);
	if (r == 2 || n > k->max) {
		format_num(k, k->max, lim, sizeof(lim));
		return conf_fail(c, o, k->name, "%s is over the limit %s", s,
		    lim);
	}
	if (n < k->min) {
		format_num(k, k->min, lim, sizeof(lim));
		return conf_fail(c, o, k->name, "%s is under the minimum %s",
		    s, lim);
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

const char *conf_get_str(const struct conf *c, const struct keyword *k)
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
		if ((p = conf_keep(c, s)) == NULL)
			return conf_fail(c, o, k->name, "out of memory");
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
		return conf_fail(c, o, k->name, "'%s' is not HOST:PORT (a port "
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
	return conf_fail(c, o, k->name, "'%s' is not one of %s", s, list);
}

static const char *get_enum(const struct conf *c, const struct keyword *k)
{
	int v;

	memcpy(&v, (const char *)&c->srv + k->off, sizeof(v));
	return k->names[v - (int)k->min];
}

/* --- listeners -------------------------------------------------------------- */

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
	const char *kw = conf_keywords[K_LISTEN].name;

	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] == '\0')
			return conf_fail(c, o, kw, "unix: needs a path");
		if (strlen(url + 5) >= sizeof(sa.sun_path))
			return conf_fail(c, o, kw, "the socket path is longer "
			    "than %zu bytes", sizeof(sa.sun_path) - 1);
	} else if (!is_tls(url))
		return conf_fail(c, o, kw, "'%s' is not unix:PATH or "
		    "tls://HOST:PORT", url);
	else if (!is_hostport(url + 6))
		return conf_fail(c, o, kw, "'%s' is not tls://HOST:PORT (a "
		    "port from 0 to 65535)", url);
	if (count_kind(c, is_tls(url)) >= SERVER_LISTEN_MAX)
		return conf_fail(c, o, kw, "at most %d %s listeners",
		    SERVER_LISTEN_MAX, is_tls(url) ? "tls://" : "unix:");
	return 0;
}

/* Another listener; the command line's replace the file's. */
int conf_add_listen(struct conf *c, const struct conf_origin *o,
    const char *url)
{
	bool cmdline = o->file == NULL && o->line == 0;
	struct conf_origin *last = &c->from[K_LISTEN];

	if (cmdline && !(last->file == NULL && last->line == 0))
		c->nlisten = 0;
	if (check_listen(c, o, url) != 0)
		return -1;
	if ((c->listen[c->nlisten] = conf_keep(c, url)) == NULL)
		return conf_fail(c, o, conf_keywords[K_LISTEN].name,
		    "out of memory");
	c->listen_from[c->nlisten++] = *o;
	return 0;
}

/* c->listen into the server's fields, by kind. */
void conf_fill_listeners(struct conf *c)
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

int conf_set_value(struct conf *c, int i, const char *v,
    const struct conf_origin *o)
{
	const struct keyword *k = &conf_keywords[i];
	const char *s;
	int r;

	for (s = v; *s != '\0'; s++)
		if (is_control((unsigned char)*s))
			return conf_fail(c, o, k->name,
			    "a control character in the value");
	if (*v == '\0')
		return conf_fail(c, o, k->name, "an empty value");
	/* So that conf_print()'s line reads back. */
	if (strlen(k->name) + 1 + printed_len(v) > CONF_LINE_MAX)
		return conf_fail(c, o, k->name, "a value too long for a line "
		    "of %d bytes", CONF_LINE_MAX);
	switch (k->type) {
	case CT_LISTEN:		r = conf_add_listen(c, o, v); break;
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
		return conf_fail(c, NULL, NULL, "no keyword %d", i);
	return conf_set_value(c, i, value, &cmdline);
}

const char *conf_keyword(int i)
{
	return i >= 0 && i < CONF_KEYWORDS ? conf_keywords[i].name : NULL;
}

int conf_find(const char *name)
{
	int i;

	for (i = 0; i < CONF_KEYWORDS; i++)
		if (strcmp(conf_keywords[i].name, name) == 0)
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
	const struct keyword *k = &conf_keywords[i];
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

	for (k = conf_keywords; k < conf_keywords + CONF_KEYWORDS; k++) {
		switch (k->type) {
		case CT_LISTEN:
			for (i = 0; i < c->nlisten; i++)
				print_value(f, k->name, c->listen[i]);
			break;
		case CT_PATH:
		case CT_ADDR:
			s = conf_get_str(c, k);
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
		k = &conf_keywords[i];
		c->from[i] = dflt;
		assert(k->name != NULL);
		assert(k->type == CT_LISTEN || k->size == sizeof(uint32_t) ||
		    k->size == sizeof(uint64_t));
		assert(k->size != sizeof(uint32_t) || k->max <= UINT32_MAX);
	}
	assert(strcmp(conf_keywords[K_TLS_CERT].name, "tls-cert") == 0 &&
	    strcmp(conf_keywords[K_TLS_KEY].name, "tls-key") == 0 &&
	    strcmp(conf_keywords[K_TLS_CLIENT_CA].name, "tls-client-ca") == 0 &&
	    strcmp(conf_keywords[K_RUNTIME_DIR].name,
	    "runtime-directory") == 0 &&
	    strcmp(conf_keywords[K_STATE_DIR].name, "state-directory") == 0);
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

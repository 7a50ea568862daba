/*
 * web-api.c: the web listener's routes (web-api.h, docs/web.md).
 *
 * Every /api/ request but login needs the cookie login gave; it names a
 * tenant, and a session id of another tenant is the same 404 as one that
 * never was (the table's lookup takes the tenant).  GET never changes
 * anything.  A POST must carry X-Aspace-CSRF (a cross-site page cannot
 * send a custom header without a CORS preflight, which is never
 * answered) and, if the browser says where it comes from
 * (Sec-Fetch-Site), come from our own origin.  The cookie is HttpOnly
 * and SameSite=Strict besides.
 *
 * The data endpoints build the protocol's own Request and run it through
 * req_dispatch(), as a connection authenticated as the tenant would, and
 * answer the Response as JSON (web-json.h): the page sees exactly what
 * the protocol gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crc32.h"
#include "mm.h"
#include "req.h"
#include "tokens.h"
#include "web-api.h"
#include "web-assets.h"
#include "web-auth.h"
#include "web-json.h"

#define WEB_ARENA	(64u << 20)	/* one answer's protobuf parts */
#define WEB_TEXT_MAX	(16u << 20)	/* maps and smaps text */

static const char security_headers[] =
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\nCache-Control: no-store\r\n";

static void set_status(struct web_reply *r, const char *status,
    const char *type)
{
	r->status = status;
	r->type = type;
}

void web_error(struct web_reply *r, const char *status, const char *code,
    const char *msg)
{
	set_status(r, status, "application/json");
	as_buf_reset(&r->body);
	as_buf_printf(&r->body, "{\"code\":\"%s\",\"message\":", code);
	web_json_str(&r->body, msg, strlen(msg));
	as_buf_put(&r->body, "}", 1);
}

/* --- requests and their parameters --------------------------------------- */

/* The value of name in the query, or NULL; vals are never decoded (ours
 * are numbers and hex). */
static const char *query_get(const char *q, const char *name, char *buf,
    size_t size)
{
	size_t n = strlen(name), len;
	const char *p = q, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '&');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=' &&
		    len - n - 1 < size) {
			memcpy(buf, p + n + 1, len - n - 1);
			buf[len - n - 1] = '\0';
			return buf;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	return NULL;
}

/* A number parameter (decimal or 0x hex): 1 found, 0 absent, -1 bad. */
static int query_u64(const char *q, const char *name, uint64_t *v)
{
	char buf[32], *end;
	const char *s = query_get(q, name, buf, sizeof(buf));

	if (s == NULL)
		return 0;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return *s != '\0' && *s != '-' && *end == '\0' && errno == 0 ? 1 : -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 32 lower-case hex digits into a session id: 0 or -1. */
static int parse_sid(const char *s, size_t n, uint8_t id[SESSION_ID_LEN])
{
	size_t i;

	if (n != 2 * SESSION_ID_LEN)
		return -1;
	for (i = 0; i < SESSION_ID_LEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Our cookie's value in the Cookie header, or "". */
static void cookie_value(const char *hdr, char *out, size_t size)
{
	size_t n = strlen(WEB_COOKIE_NAME), len;
	const char *p = hdr, *e;

	out[0] = '\0';
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		e = strchr(p, ';');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len > n && strncmp(p, WEB_COOKIE_NAME, n) == 0 &&
		    p[n] == '=' && len - n - 1 < size) {
			memcpy(out, p + n + 1, len - n - 1);
			out[len - n - 1] = '\0';
			return;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
}

/* --- the protocol's requests, as JSON ------------------------------------ */

static const char *http_of_code(Aspace__Status__Code code)
{
	switch (code) {
	case ASPACE__STATUS__CODE__OK:
		return "200 OK";
	case ASPACE__STATUS__CODE__NO_SUCH_SESSION:
	case ASPACE__STATUS__CODE__NO_SUCH_TASK:
		return "404 Not Found";
	case ASPACE__STATUS__CODE__BAD_REQUEST:
	case ASPACE__STATUS__CODE__ERRNO:
		return "400 Bad Request";
	case ASPACE__STATUS__CODE__TOO_LARGE:
		return "413 Content Too Large";
	case ASPACE__STATUS__CODE__QUOTA:
	case ASPACE__STATUS__CODE__BLOCKED:
		return "429 Too Many Requests";
	case ASPACE__STATUS__CODE__UNIMPLEMENTED:
		return "501 Not Implemented";
	default:
		return "500 Internal Server Error";
	}
}

/* Run req as tenant; its Response as JSON into r. */
static void dispatch(struct server *srv, uid_t tenant, Aspace__Request *req,
    struct web_reply *r)
{
	Aspace__Response resp = ASPACE__RESPONSE__INIT;
	Aspace__Status st = ASPACE__STATUS__INIT;
	struct req_conn rc = { .tenant = tenant, .authed = true,
	    .max_body = WEB_BODY_MAX, .cached_tenant = TENANT_NONE };
	struct frame_arena out;
	struct req_ctx x;

	memset(&x, 0, sizeof(x));
	frame_arena_init(&out, WEB_ARENA);
	x.srv = srv;
	x.conn = &rc;
	x.req = req;
	x.resp = &resp;
	x.status = &st;
	x.out = &out;
	x.text_max = WEB_TEXT_MAX;
	as_buf_init(&x.buf, 0);
	resp.status = &st;
	req_dispatch(&x);
	req_conn_release(srv, &rc);
	set_status(r, http_of_code(st.code), "application/json");
	web_json_message(&r->body, &resp.base);
	as_buf_free(&x.buf);
	frame_arena_free(&out);
	if (r->body.overflow)
		web_error(r, "413 Content Too Large", "TOO_LARGE",
		    "the answer is over the web listener's cap");
}

/* The parts of one session's request (web_session_req()). */
struct sreq {
	Aspace__Request req;
	Aspace__Window win;
	union {
		Aspace__MapsRequest maps;
		Aspace__SmapsRequest smaps;
		Aspace__PageWalkRequest walk;
		Aspace__PagesRequest pages;
		Aspace__CountersRequest cnt;
		Aspace__ProcStatusRequest ps;
		Aspace__KernelRequest kern;
		Aspace__MtRequest mt;
	} u;
};

/* maps and smaps: the window [start, end) of the query, as the trace's
 * window; NULL for none, or (bad set) a bad one. */
static Aspace__Window *window_of(struct sreq *r, const char *q, int *bad)
{
	uint64_t lo = 0, hi = 0;
	int n = query_u64(q, "start", &lo) + query_u64(q, "end", &hi);

	*bad |= n == 1 || n < 0 || (n == 2 && hi <= lo);
	aspace__window__init(&r->win);
	r->win.has_start = r->win.has_length = true;
	r->win.start = lo;
	r->win.length = hi - lo;
	return n == 2 ? &r->win : NULL;
}

/* The reports: maps, smaps, walk, pages; false if what is none. */
static bool report_req(struct sreq *r, const char *what, const char *q,
    int *bad)
{
	if (strcmp(what, "maps") == 0) {
		aspace__maps_request__init(&r->u.maps);
		r->u.maps.window = window_of(r, q, bad);
		r->req.op_case = ASPACE__REQUEST__OP_MAPS;
		r->req.maps = &r->u.maps;
	} else if (strcmp(what, "smaps") == 0) {
		aspace__smaps_request__init(&r->u.smaps);
		r->u.smaps.window = window_of(r, q, bad);
		r->req.op_case = ASPACE__REQUEST__OP_SMAPS;
		r->req.smaps = &r->u.smaps;
	} else if (strcmp(what, "walk") == 0) {
		aspace__page_walk_request__init(&r->u.walk);
		*bad |= query_u64(q, "addr", &r->u.walk.addr) != 1;
		r->u.walk.has_addr = true;
		r->req.op_case = ASPACE__REQUEST__OP_PAGE_WALK;
		r->req.page_walk = &r->u.walk;
	} else if (strcmp(what, "pages") == 0) {
		aspace__pages_request__init(&r->u.pages);
		*bad |= query_u64(q, "start", &r->u.pages.start) != 1 ||
		    query_u64(q, "end", &r->u.pages.end) != 1;
		r->u.pages.has_start = r->u.pages.has_end = true;
		r->req.op_case = ASPACE__REQUEST__OP_PAGES;
		r->req.pages = &r->u.pages;
	} else
		return false;
	return true;
}

/* The figures: counters, status, kernel, mt; false if what is none. */
static bool figures_req(struct sreq *r, const char *what, const char *q)
{
	uint64_t v;

	if (strcmp(what, "counters") == 0) {
		aspace__counters_request__init(&r->u.cnt);
		r->u.cnt.has_task_only = query_u64(q, "task_only", &v) == 1 &&
		    v != 0;
		r->u.cnt.task_only = r->u.cnt.has_task_only;
		r->req.op_case = ASPACE__REQUEST__OP_COUNTERS;
		r->req.counters = &r->u.cnt;
	} else if (strcmp(what, "status") == 0) {
		aspace__proc_status_request__init(&r->u.ps);
		r->req.op_case = ASPACE__REQUEST__OP_PROC_STATUS;
		r->req.proc_status = &r->u.ps;
	} else if (strcmp(what, "kernel") == 0) {
		aspace__kernel_request__init(&r->u.kern);
		r->req.op_case = ASPACE__REQUEST__OP_KERNEL;
		r->req.kernel = &r->u.kern;
	} else if (strcmp(what, "mt") == 0) {	/* the maple tree */
		aspace__mt_request__init(&r->u.mt);
		r->req.op_case = ASPACE__REQUEST__OP_MT;
		r->req.mt = &r->u.mt;
	} else
		return false;
	return true;
}

/* One session's endpoint: what names the op; q the query. */
static void session_op(struct server *srv, uid_t tenant,
    const uint8_t *sid, const char *what, const char *q,
    struct web_reply *r)
{
	struct sreq sr;
	uint64_t task = 1;
	int bad;

	aspace__request__init(&sr.req);
	bad = query_u64(q, "task", &task) < 0 || task == 0 || task > INT32_MAX;
	sr.req.has_session = sr.req.has_task = true;
	sr.req.session.data = (uint8_t *)sid;
	sr.req.session.len = SESSION_ID_LEN;
	sr.req.task = (int32_t)task;
	if (!report_req(&sr, what, q, &bad) && !figures_req(&sr, what, q))
		web_error(r, "404 Not Found", "NOT_FOUND", "no such endpoint");
	else if (bad)
		web_error(r, "400 Bad Request", "BAD_REQUEST",
		    "task, addr, start, end: numbers (0x for hex)");
	else
		dispatch(srv, tenant, &sr.req, r);
}

static void sessions(struct server *srv, uid_t tenant, struct web_reply *r)
{
	Aspace__Request req = ASPACE__REQUEST__INIT;
	Aspace__SessionListRequest sl = ASPACE__SESSION_LIST_REQUEST__INIT;

	req.op_case = ASPACE__REQUEST__OP_SESSION_LIST;
	req.session_list = &sl;
	dispatch(srv, tenant, &req, r);
}

/* The session's tasks: pid, tgid, its mm as a small number, blocked. */
static void tasks_json(struct as_session *s, struct as_buf *b)
{
	const struct mm *mms[256];
	unsigned int nmm = 0, i;
	struct task *t;

	as_buf_put(b, "{\"tasks\":[", 10);
	pthread_mutex_lock(&s->lock);
	for (t = s->tasks; t != NULL && !b->overflow; t = t->next) {
		for (i = 0; i < nmm && mms[i] != t->mm; i++)
			;
		if (i == nmm && nmm < 256)
			mms[nmm++] = t->mm;
		as_buf_printf(b, "%s{\"pid\":%d,\"tgid\":%d,\"mm\":%u,"
		    "\"blocked\":%s}", t == s->tasks ? "" : ",", t->pid,
		    t->tgid, i + 1, t->vfork_blocked ? "true" : "false");
	}
	pthread_mutex_unlock(&s->lock);
	as_buf_put(b, "]}", 2);
}

static void tasks(struct server *srv, uid_t tenant, const uint8_t *sid,
    struct web_reply *r)
{
	struct session_table *st = server_sessions(srv);
	struct dsession *ds = stable_get(st, sid, SESSION_ID_LEN, tenant);

	if (ds == NULL) {
		web_error(r, "404 Not Found", "NO_SUCH_SESSION",
		    "no such session");
		return;
	}
	pthread_rwlock_rdlock(&ds->rw);
	if (ds->dead)
		web_error(r, "404 Not Found", "NO_SUCH_SESSION",
		    "no such session");
	else {
		set_status(r, "200 OK", "application/json");
		tasks_json(ds->s, &r->body);
	}
	pthread_rwlock_unlock(&ds->rw);
	stable_put(st, ds);
}

/* --- login, and the routes ------------------------------------------------ */

static bool post_allowed(const struct http_head *h, struct web_reply *r)
{
	if (!h->csrf || (h->fetch_site[0] != '\0' &&
	    strcmp(h->fetch_site, "same-origin") != 0 &&
	    strcmp(h->fetch_site, "none") != 0)) {
		web_error(r, "403 Forbidden", "FORBIDDEN",
		    "a POST needs X-Aspace-CSRF from this origin");
		return false;
	}
	return true;
}

static void login(struct server *srv, const char *body, size_t len,
    struct web_reply *r)
{
	char tok[WEB_SECRET_HEX + 1];
	struct web_secret s;

	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	if (len != WEB_SECRET_HEX) {
		web_error(r, "400 Bad Request", "BAD_REQUEST",
		    "the body is the login token");
		return;
	}
	memcpy(tok, body, len);
	tok[len] = '\0';
	if (web_auth_login(server_web_auth(srv), tok, &s) != 0) {
		web_error(r, "403 Forbidden", "FORBIDDEN",
		    "unknown, used or expired login token");
		return;
	}
	snprintf(r->extra, sizeof(r->extra), "Set-Cookie: %s=%s; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d\r\n", WEB_COOKIE_NAME,
	    s.hex, WEB_COOKIE_TTL_S);
	set_status(r, "200 OK", "application/json");
	as_buf_put(&r->body, "{\"session\":", 11);
	if (s.has_session)
		web_json_hex(&r->body, s.session, SESSION_ID_LEN);
	else
		as_buf_put(&r->body, "null", 4);
	as_buf_put(&r->body, ",\"trace\":", 9);
	if (s.trace != NULL)
		web_json_str(&r->body, s.trace, s.trace_len);
	else
		as_buf_put(&r->body, "null", 4);
	as_buf_put(&r->body, "}", 1);
	free(s.trace);
	OPENSSL_cleanse(&s, sizeof(s));
}

/* /api/session/ID/WHAT */
static void session_route(struct server *srv, uid_t tenant,
    const char *rest, const char *q, struct web_reply *r)
{
	const char *slash = strchr(rest, '/');
	uint8_t sid[SESSION_ID_LEN];

	if (slash == NULL || parse_sid(rest, (size_t)(slash - rest), sid) != 0)
		web_error(r, "404 Not Found", "NO_SUCH_SESSION",
		    "no such session");
	else if (strcmp(slash + 1, "tasks") == 0)
		tasks(srv, tenant, sid, r);
	else
		session_op(srv, tenant, sid, slash + 1, q, r);
}

static void api_get(struct server *srv, uid_t tenant,
    const struct http_head *h, struct web_reply *r)
{
	static const char pre[] = "/api/session/";

	if (strcmp(h->path, "/api/sessions") == 0)
		sessions(srv, tenant, r);
	else if (strncmp(h->path, pre, sizeof(pre) - 1) == 0)
		session_route(srv, tenant, h->path + sizeof(pre) - 1,
		    h->query, r);
	else
		web_error(r, "404 Not Found", "NOT_FOUND", "no such endpoint");
}

/* A GET's answer is named by its bytes (ETag: CRC-32 and length); asked
 * again with that name (If-None-Match), it is 304 with no body, so a page
 * polling a session of 65,000 VMAs fetches megabytes only on a change. */
static void etag(const struct http_head *h, struct web_reply *r)
{
	char tag[24];
	size_t n = strlen(r->extra);

	if (strcmp(r->status, "200 OK") != 0 || r->body.overflow)
		return;
	snprintf(tag, sizeof(tag), "\"%08x-%zx\"",
	    as_crc32(0, r->body.data, r->body.len), r->body.len);
	snprintf(r->extra + n, sizeof(r->extra) - n, "ETag: %s\r\n", tag);
	if (strcmp(h->if_none_match, tag) != 0)
		return;
	r->status = "304 Not Modified";
	r->body.len = 0;
}

static void api(struct server *srv, const struct http_head *h,
    const char *body, size_t len, struct web_reply *r)
{
	bool post = strcmp(h->method, "POST") == 0;
	char cookie[WEB_SECRET_HEX + 2];
	struct web_secret s;

	if (!post && strcmp(h->method, "GET") != 0) {
		web_error(r, "405 Method Not Allowed", "METHOD",
		    "GET or POST only");
		snprintf(r->extra, sizeof(r->extra), "Allow: GET, POST\r\n");
		return;
	}
	if (post && !post_allowed(h, r))
		return;
	if (post && strcmp(h->path, "/api/login") == 0) {
		login(srv, body, len, r);
		return;
	}
	cookie_value(h->cookie, cookie, sizeof(cookie));
	if (web_auth_cookie(server_web_auth(srv), cookie, &s) != 0) {
		web_error(r, "401 Unauthorized", "UNAUTHENTICATED",
		    "log in: aspace web prints a login URL");
		return;
	}
	if (!post) {
		api_get(srv, s.tenant, h, r);
		etag(h, r);
	}
	else if (strcmp(h->path, "/api/trace") == 0)
		web_trace_answer(srv, s.tenant, body, len, r);
	else if (strcmp(h->path, "/api/logout") == 0) {
		web_auth_logout(server_web_auth(srv), cookie);
		set_status(r, "200 OK", "application/json");
		as_buf_printf(&r->body, "{}");
		snprintf(r->extra, sizeof(r->extra), "Set-Cookie: %s=; "
		    "Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n",
		    WEB_COOKIE_NAME);
	} else
		web_error(r, "404 Not Found", "NOT_FOUND", "no such endpoint");
}

/* The page's files (web-assets.h, made from daemon/web/). */
static void asset(const struct http_head *h, struct web_reply *r)
{
	const char *path = strcmp(h->path, "/") == 0 ? "/index.html" : h->path;
	size_t i;

	for (i = 0; i < sizeof(web_assets) / sizeof(web_assets[0]); i++)
		if (strcmp(web_assets[i].path, path) == 0) {
			set_status(r, "200 OK", web_assets[i].type);
			r->fixed = web_assets[i].data;
			r->fixed_len = web_assets[i].len;
			return;
		}
	web_error(r, "404 Not Found", "NOT_FOUND", "no such file");
}

void web_api_answer(struct server *srv, const struct http_head *h,
    const char *body, size_t len, struct web_reply *r)
{
	memset(r, 0, sizeof(*r));
	as_buf_init(&r->body, WEB_REPLY_MAX);
	if (strncmp(h->path, "/api/", 5) == 0)
		api(srv, h, body, len, r);
	else if (strcmp(h->method, "GET") != 0 &&
	    strcmp(h->method, "HEAD") != 0) {
		web_error(r, "405 Method Not Allowed", "METHOD", "GET only");
		snprintf(r->extra, sizeof(r->extra), "Allow: GET, HEAD\r\n");
	} else
		asset(h, r);
	if (strlen(r->extra) + sizeof(security_headers) < sizeof(r->extra))
		strcat(r->extra, security_headers);
}

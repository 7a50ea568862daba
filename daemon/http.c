/*
 * http.c: parsing an HTTP/1.x request head (http.h).  The request line
 * must be METHOD SP TARGET SP HTTP/1.D; each header line a token, a
 * colon and a value of visible characters, spaces and tabs (obs-text
 * allowed); folded lines, bare CRs and other control bytes are refused.
 * Only the values the web listener reads are kept (http.h); a kept one
 * given twice is refused rather than guessed at.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of the line [p, e) without its CR. */
static const char *strip_cr(const char *p, const char *e)
{
	return e > p && e[-1] == '\r' ? e - 1 : e;
}

/* The query [q, e) (after its '?', up to any '#') into h. */
static void set_query(struct http_head *h, const char *q, const char *e)
{
	const char *f;

	for (f = q; f < e && *f != '#'; f++)
		;
	if ((size_t)(f - q) > HTTP_QUERY_MAX) {
		h->query_long = true;
		return;
	}
	memcpy(h->query, q, (size_t)(f - q));
	h->query[f - q] = '\0';
}

/* The target's path (before '?' or '#') and query into h. */
static void set_path(struct http_head *h, const char *t, const char *e)
{
	const char *q;

	if (*t != '/')
		return;		/* "*" or absolute-form: no path of ours */
	for (q = t; q < e && *q != '?' && *q != '#'; q++)
		;
	if ((size_t)(q - t) > HTTP_PATH_MAX) {
		h->path_long = true;
		return;
	}
	memcpy(h->path, t, (size_t)(q - t));
	h->path[q - t] = '\0';
	if (q < e && *q == '?')
		set_query(h, q + 1, e);
}

static bool request_line(const char *p, const char *e, struct http_head *h)
{
	const char *q, *t;

	e = strip_cr(p, e);
	for (q = p; q < e && is_tchar((unsigned char)*q); q++)
		;
	if (q == p || q - p > HTTP_METHOD_MAX || q == e || *q != ' ')
		return false;
	memcpy(h->method, p, (size_t)(q - p));
	h->method[q - p] = '\0';
	for (t = ++q; q < e && *q > 0x20 && *q < 0x7f; q++)
		;
	if (q == t || q == e || *q != ' ')
		return false;
	set_path(h, t, q);
	q++;
	if (e - q != 8 || memcmp(q, "HTTP/1.", 7) != 0 || q[7] < '0' ||
	    q[7] > '9')
		return false;
	h->minor = q[7] - '0';
	return true;
}

/* A kept value [v, e) into dst[size]: once, and fitting. */
static bool keep(char *dst, size_t size, const char *v, const char *e)
{
	if (dst[0] != '\0' || (size_t)(e - v) >= size || v == e)
		return false;
	memcpy(dst, v, (size_t)(e - v));
	dst[e - v] = '\0';
	return true;
}

static bool content_length(struct http_head *h, const char *v, const char *e)
{
	char num[16];
	const char *q;

	if (h->content_length >= 0 || e - v < 1 || e - v > 15)
		return false;
	for (q = v; q < e; q++)
		if (*q < '0' || *q > '9')
			return false;
	memcpy(num, v, (size_t)(e - v));
	num[e - v] = '\0';
	h->content_length = strtoll(num, NULL, 10);
	return true;
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* The header name [p, p + n) with the value [v, e), trimmed: kept if ours. */
static bool header_keep(struct http_head *h, const char *p, size_t n,
    const char *v, const char *e)
{
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (name_is(p, n, "cookie"))
		return keep(h->cookie, sizeof(h->cookie), v, e);
	if (name_is(p, n, "origin"))
		return keep(h->origin, sizeof(h->origin), v, e);
	if (name_is(p, n, "sec-fetch-site"))
		return keep(h->fetch_site, sizeof(h->fetch_site), v, e);
	if (name_is(p, n, "if-none-match")) {
		/* not ours when longer (a list): only the answer is whole */
		if ((size_t)(e - v) > HTTP_ETAG_MAX)
			return true;
		return keep(h->if_none_match, sizeof(h->if_none_match), v, e);
	}
	if (name_is(p, n, "content-length"))
		return content_length(h, v, e);
	if (name_is(p, n, "x-aspace-csrf"))
		h->csrf = true;
	else if (name_is(p, n, "transfer-encoding"))
		h->chunked = true;
	return true;
}

static bool header_line(struct http_head *h, const char *p, const char *e)
{
	const char *q, *v;

	e = strip_cr(p, e);
	for (q = p; q < e && is_tchar((unsigned char)*q); q++)
		;
	if (q == p || q == e || *q != ':')
		return false;
	for (v = ++q; q < e; q++)
		if (*q != '\t' && ((unsigned char)*q < 0x20 || *q == 0x7f))
			return false;
	return header_keep(h, p, (size_t)(v - 1 - p), v, e);
}

int http_parse_head(const char *buf, size_t len, struct http_head *h)
{
	size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *p = buf, *end = buf + lim, *e;
	bool first = true;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	while ((e = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (first) {
			if (!request_line(p, e, h))
				return HTTP_HEAD_BAD;
			first = false;
		} else if (strip_cr(p, e) == p) {
			h->len = (size_t)(e + 1 - buf);
			return HTTP_HEAD_OK;
		} else if (!header_line(h, p, e))
			return HTTP_HEAD_BAD;
		p = e + 1;
	}
	return len >= HTTP_HEAD_MAX ? HTTP_HEAD_TOO_LONG : HTTP_HEAD_MORE;
}

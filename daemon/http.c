/*
 * http.c: parsing an HTTP/1.x request head (http.h).  The request line
 * must be METHOD SP TARGET SP HTTP/1.D; each header line a token, a
 * colon and a value of visible characters, spaces and tabs (obs-text
 * allowed); folded lines, bare CRs and other control bytes are refused.
 * Header values are not kept: the metrics listener needs none.
 */
#include <string.h>

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

/* The target's path (before '?' or '#') into h. */
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

static bool header_line(const char *p, const char *e)
{
	const char *q;

	e = strip_cr(p, e);
	for (q = p; q < e && is_tchar((unsigned char)*q); q++)
		;
	if (q == p || q == e || *q != ':')
		return false;
	for (q++; q < e; q++)
		if (*q != '\t' && ((unsigned char)*q < 0x20 || *q == 0x7f))
			return false;
	return true;
}

int http_parse_head(const char *buf, size_t len, struct http_head *h)
{
	size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *p = buf, *end = buf + lim, *e;
	bool first = true;

	memset(h, 0, sizeof(*h));
	while ((e = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (first) {
			if (!request_line(p, e, h))
				return HTTP_HEAD_BAD;
			first = false;
		} else if (strip_cr(p, e) == p) {
			h->len = (size_t)(e + 1 - buf);
			return HTTP_HEAD_OK;
		} else if (!header_line(p, e))
			return HTTP_HEAD_BAD;
		p = e + 1;
	}
	return len >= HTTP_HEAD_MAX ? HTTP_HEAD_TOO_LONG : HTTP_HEAD_MORE;
}

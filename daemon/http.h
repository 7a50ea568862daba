/*
 * http.h: the request head of HTTP/1.x (RFC 9112), as much of it as the
 * metrics and web listeners need: the request line checked and split
 * (path and query), the header lines checked for form, and the few the
 * web listener reads kept (Cookie, Content-Length, Origin,
 * Sec-Fetch-Site, X-Aspace-CSRF); the rest skipped.  Bounded: a head is
 * at most HTTP_HEAD_MAX bytes, each kept value at most its field.
 * Fuzzed by tests/fuzz/fuzz_http.c.
 */
#ifndef ASPACED_HTTP_H
#define ASPACED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX		4096	/* request line and headers */
#define HTTP_METHOD_MAX		16
#define HTTP_PATH_MAX		255	/* longer paths are nobody's */
#define HTTP_QUERY_MAX		255
#define HTTP_COOKIE_MAX		511
#define HTTP_ORIGIN_MAX		255
#define HTTP_SITE_MAX		31
#define HTTP_ETAG_MAX		31	/* If-None-Match kept (ours are 19) */

struct http_head {
	char	 method[HTTP_METHOD_MAX + 1];
	char	 path[HTTP_PATH_MAX + 1];	/* the target before any '?' */
	bool	 path_long;	/* over HTTP_PATH_MAX: path is empty */
	char	 query[HTTP_QUERY_MAX + 1];	/* after '?', before '#' */
	bool	 query_long;	/* over HTTP_QUERY_MAX: query is empty */
	int	 minor;		/* HTTP/1.minor */
	/* Kept headers ("" when absent; a longer value is refused). */
	char	 cookie[HTTP_COOKIE_MAX + 1];
	char	 origin[HTTP_ORIGIN_MAX + 1];
	char	 fetch_site[HTTP_SITE_MAX + 1];	/* Sec-Fetch-Site */
	char	 if_none_match[HTTP_ETAG_MAX + 1];	/* "" if longer */
	bool	 csrf;		/* X-Aspace-CSRF was sent */
	long long content_length;	/* -1: none */
	bool	 chunked;	/* a Transfer-Encoding was sent */
	size_t	 len;		/* bytes of the head, blank line included */
};

#define HTTP_HEAD_OK		0
#define HTTP_HEAD_MORE		1	/* incomplete: read on */
#define HTTP_HEAD_BAD		(-1)	/* malformed: 400 */
#define HTTP_HEAD_TOO_LONG	(-2)	/* over HTTP_HEAD_MAX: 431 */

/*
 * Parse the head at the start of buf[0, len): HTTP_HEAD_OK with h filled
 * once the blank line that ends it is in, HTTP_HEAD_MORE before, or an
 * error as soon as what is in shows one.  Lines end in CRLF or LF.  A
 * kept header given twice, over its field, or a Content-Length that is
 * not 1 to 15 digits, is HTTP_HEAD_BAD.
 */
int http_parse_head(const char *buf, size_t len, struct http_head *h);

#endif /* ASPACED_HTTP_H */

/*
 * http.h: the request head of HTTP/1.x (RFC 9112), as much of it as the
 * metrics listener needs: the request line checked and split, the header
 * lines checked for form and skipped.  Bounded: a head is at most
 * HTTP_HEAD_MAX bytes.  Fuzzed by tests/fuzz/fuzz_http.c.
 */
#ifndef ASPACED_HTTP_H
#define ASPACED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX		4096	/* request line and headers */
#define HTTP_METHOD_MAX		16
#define HTTP_PATH_MAX		255	/* longer paths are nobody's */

struct http_head {
	char	 method[HTTP_METHOD_MAX + 1];
	char	 path[HTTP_PATH_MAX + 1];	/* the target before any '?' */
	bool	 path_long;	/* over HTTP_PATH_MAX: path is empty */
	int	 minor;		/* HTTP/1.minor */
	size_t	 len;		/* bytes of the head, blank line included */
};

#define HTTP_HEAD_OK		0
#define HTTP_HEAD_MORE		1	/* incomplete: read on */
#define HTTP_HEAD_BAD		(-1)	/* malformed: 400 */
#define HTTP_HEAD_TOO_LONG	(-2)	/* over HTTP_HEAD_MAX: 431 */

/*
 * Parse the head at the start of buf[0, len): HTTP_HEAD_OK with h filled
 * once the blank line that ends it is in, HTTP_HEAD_MORE before, or an
 * error as soon as what is in shows one.  Lines end in CRLF or LF.
 */
int http_parse_head(const char *buf, size_t len, struct http_head *h);

#endif /* ASPACED_HTTP_H */

/*
 * fuzz_http.c: libFuzzer target for the metrics listener's request-head
 * parser (daemon/http.c).
 *
 * The input is what a client sends.  Beyond the sanitizers it checks
 * what metrics-http.c relies on: the result is one of the four
 * documented; a whole head lies within the input and HTTP_HEAD_MAX and
 * ends its last line; the method is 1 to HTTP_METHOD_MAX token bytes;
 * the path is empty or starts with '/', holds no '?' or '#' and fits;
 * the query and the kept headers fit; a Content-Length is -1 or 15 digits;
 * HTTP_HEAD_TOO_LONG only comes with HTTP_HEAD_MAX bytes in, MORE only
 * with fewer; the head alone parses to the same, and any shorter prefix
 * of it asks for more.  A failed check abort()s.
 *
 * Without libFuzzer, replay.c supplies main() and runs files through
 * LLVMFuzzerTestOneInput().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http: check failed: %s\n", what);
		abort();
	}
}

static void check_fields(const struct http_head *h)
{
	size_t m = strnlen(h->method, sizeof(h->method));
	size_t p = strnlen(h->path, sizeof(h->path));

	check(m >= 1 && m <= HTTP_METHOD_MAX, "method length");
	check(strspn(h->method, "!#$%&'*+-.^_`|~0123456789"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == m,
	    "method is a token");
	check(p <= HTTP_PATH_MAX, "path length");
	check(p == 0 || h->path[0] == '/', "path starts with /");
	check(strpbrk(h->path, "?#") == NULL, "path has no query");
	check(!h->path_long || p == 0, "a long path is empty");
	check(h->minor >= 0 && h->minor <= 9, "minor version");
	check(strnlen(h->query, sizeof(h->query)) <= HTTP_QUERY_MAX &&
	    strchr(h->query, '#') == NULL, "query fits, no fragment");
	check(strnlen(h->cookie, sizeof(h->cookie)) <= HTTP_COOKIE_MAX &&
	    strnlen(h->origin, sizeof(h->origin)) <= HTTP_ORIGIN_MAX &&
	    strnlen(h->fetch_site, sizeof(h->fetch_site)) <= HTTP_SITE_MAX,
	    "kept headers fit");
	check(h->content_length >= -1 && h->content_length < 1000000000000000LL,
	    "content length");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_head h, again;
	int r = http_parse_head(buf, size, &h);
	size_t cut;

	check(r == HTTP_HEAD_OK || r == HTTP_HEAD_MORE || r == HTTP_HEAD_BAD ||
	    r == HTTP_HEAD_TOO_LONG, "result");
	check(r != HTTP_HEAD_TOO_LONG || size >= HTTP_HEAD_MAX, "too long");
	check(r != HTTP_HEAD_MORE || size < HTTP_HEAD_MAX, "more");
	if (r != HTTP_HEAD_OK)
		return 0;
	check(h.len > 0 && h.len <= size && h.len <= HTTP_HEAD_MAX,
	    "head length");
	check(buf[h.len - 1] == '\n', "head ends a line");
	check_fields(&h);
	check(http_parse_head(buf, h.len, &again) == HTTP_HEAD_OK &&
	    memcmp(&h, &again, sizeof(h)) == 0, "the head alone");
	for (cut = h.len - 1; cut > 0; cut = cut > 64 ? cut / 2 : cut - 1)
		check(http_parse_head(buf, cut, &again) == HTTP_HEAD_MORE,
		    "a prefix asks for more");
	return 0;
}

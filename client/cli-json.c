/*
 * cli-json.c: the aspace command's --json output, through jansson.
 *
 * Two rules (docs/aspace.1, JSON):
 *
 * - Strings are UTF-8.  Text from a trace (its output, a file name, an
 *   error message quoting a bad word) may hold any bytes: each maximal
 *   ill-formed subsequence of UTF-8 is replaced by U+FFFD, as Unicode's
 *   "best practice" (Unicode 15, section 3.9) and Python's
 *   bytes.decode("utf-8", "replace") do, so that the JSON is valid and a
 *   consumer can tell that bytes were replaced.  Well-formed UTF-8 is
 *   kept as it is.
 * - An integer up to 2^53 - 1 is a JSON number; a larger one (an
 *   unlimited rlimit, 2^64 - 1; a page-table entry with its NX bit) is a
 *   string of its decimal digits, which a consumer that reads numbers as
 *   doubles would otherwise round.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

#define JSON_SAFE_MAX	((1ULL << 53) - 1)	/* the largest exact double */

/* The length of the well-formed UTF-8 sequence at s (n bytes left), or
 * 0 with *bad the length of its maximal ill-formed prefix (at least 1). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else {
		*bad = 1;	/* 80..c1, f5..ff: never a first byte */
		return 0;
	}
	/* Unicode's Table 3-7: the second byte's range after some leads. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;	/* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;	/* nothing above U+10FFFF */
	for (i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

json_t *cli_json_strn(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, bad = 0, o = 0;
	char *fixed;
	json_t *j;

	while (i < len && (k = utf8_seq(p + i, len - i, &bad)) != 0)
		i += k;
	if (i == len)
		return json_stringn_nocheck(s, len);
	/* At most 3 bytes (U+FFFD) for each byte of s. */
	if (len > (SIZE_MAX - 1) / 3 || (fixed = malloc(3 * len + 1)) == NULL)
		return NULL;
	memcpy(fixed, s, i);
	o = i;
	while (i < len) {
		if ((k = utf8_seq(p + i, len - i, &bad)) != 0) {
			memcpy(fixed + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i += bad;
		}
	}
	j = json_stringn_nocheck(fixed, o);
	free(fixed);
	return j;
}

json_t *cli_json_cstr(const char *s)
{
	return cli_json_strn(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

json_t *cli_json_u64(uint64_t v)
{
	char buf[24];

	if (v <= JSON_SAFE_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

void cli_json_set(json_t **obj, const char *key, json_t *value)
{
	if (json_object_set_new(*obj, key, value) != 0) {
		json_decref(*obj);
		*obj = NULL;
	}
}

void cli_json_append(json_t **array, json_t *value)
{
	if (json_array_append_new(*array, value) != 0) {
		json_decref(*array);
		*array = NULL;
	}
}

int cli_json_print(json_t *obj)
{
	int r = -1;

	if (obj != NULL && json_dumpf(obj, stdout,
	    JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
	    putchar('\n') != EOF)
		r = 0;
	if (obj == NULL)
		fprintf(stderr, "aspace: cannot make the JSON output: "
		    "out of memory\n");
	json_decref(obj);
	return r;
}

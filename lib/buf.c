/*
 * buf.c: the bounded output buffer of buf.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void as_buf_init(struct as_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void as_buf_free(struct as_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void as_buf_reset(struct as_buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus a NUL; -1 when over the cap or OOM. */
static int as_buf_reserve(struct as_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n) {
		b->overflow = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(b->data, ncap)) == NULL) {
		b->overflow = 1;
		return -1;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int as_buf_put(struct as_buf *b, const char *s, size_t n)
{
	if (as_buf_reserve(b, n) != 0)
		return -1;
	if (n > 0)	/* s may be NULL then (an empty body) */
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int as_buf_printf(struct as_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return as_buf_put(b, small, (size_t)n);
	if (as_buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *as_buf_str(struct as_buf *b)
{
	return b->data != NULL ? b->data : "";
}

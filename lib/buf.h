/*
 * buf.h: a growable, bounded output buffer (in the manner of OpenSSH's
 * sshbuf): every append checks the cap, and a failed append leaves the
 * buffer unchanged and marks it so the caller can report one error.
 */
#ifndef ASPACE_BUF_H
#define ASPACE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct as_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* hard limit on len */
	int	 overflow;	/* an append did not fit */
};

void as_buf_init(struct as_buf *b, size_t max);
void as_buf_free(struct as_buf *b);
void as_buf_reset(struct as_buf *b);
int as_buf_put(struct as_buf *b, const char *s, size_t n);
int as_buf_printf(struct as_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminated view of the contents (always valid after init). */
const char *as_buf_str(struct as_buf *b);

#endif /* ASPACE_BUF_H */

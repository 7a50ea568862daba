/*
 * conf-int.h: what the two halves of aspaced's configuration share,
 * private to them: conf-keywords.c (the table of keywords, each type's
 * values, conf_print() and conf_init()) and conf.c (the file, the
 * defaults that depend on the environment and conf_finish()).
 */
#ifndef ASPACED_CONF_INT_H
#define ASPACED_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "conf.h"

enum conf_type {
	CT_LISTEN,	/* unix:PATH or tls://HOST:PORT, repeatable */
	CT_PATH,	/* a file or directory */
	CT_ADDR,	/* HOST:PORT */
	CT_ENUM,	/* one of names[], stored as min + its index */
	CT_COUNT,	/* a plain number */
	CT_SIZE,	/* bytes, K, M, G or T after the number */
	CT_DURATION,	/* milliseconds; ms, s, m, h or d after the number */
};

#define CONF_NONE	0x1	/* "none" leaves it unset (NULL) */

struct keyword {
	const char		*name;
	enum conf_type		 type;
	int			 flags;
	size_t			 off, size;	/* in struct server_config */
	unsigned long long	 min, max;	/* counts, bytes, ms */
	unsigned int		 unit;		/* a bare duration's, in ms */
	const char *const	*names;		/* CT_ENUM */
};

/* Indices the code needs by name; checked against the table at init. */
enum {
	K_LISTEN, K_TLS_CERT, K_TLS_KEY, K_TLS_CLIENT_CA, K_TOKENS,
	K_RUNTIME_DIR, K_STATE_DIR
};

extern const struct keyword conf_keywords[CONF_KEYWORDS];

/* Put "where: keyword: message" in c->err; -1. */
int __attribute__((format(printf, 4, 5)))
conf_fail(struct conf *c, const struct conf_origin *o, const char *kw,
    const char *fmt, ...);
/* A copy of s owned by c, freed by conf_free(); NULL if out of memory. */
char *conf_keep(struct conf *c, const char *s);
/* Keyword i to v, from o; 0, or -1 after conf_fail(). */
int conf_set_value(struct conf *c, int i, const char *v,
    const struct conf_origin *o);
/* Another listener; the command line's replace the file's. */
int conf_add_listen(struct conf *c, const struct conf_origin *o,
    const char *url);
/* c->listen into the server's fields, by kind. */
void conf_fill_listeners(struct conf *c);
/* A CT_PATH or CT_ADDR keyword's value; NULL if none. */
const char *conf_get_str(const struct conf *c, const struct keyword *k);

static inline bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static inline bool is_control(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

static inline bool is_tls(const char *url)
{
	return strncmp(url, "tls://", 6) == 0;
}

#endif /* ASPACED_CONF_INT_H */

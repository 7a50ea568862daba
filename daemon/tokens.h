/*
 * tokens.h: who a client is.
 *
 * Tenants are strings: "uid:N" (a Unix-socket peer), "cert:CN" (a TLS
 * client certificate), "token:NAME" (a bearer token).  The session table
 * (session-table.h) and struct req_conn keep a tenant as a uid_t-sized
 * number: the tenant's index in a struct tenants, which interns each
 * name once and gives it back by number.  Numbers are never reused while
 * the daemon runs, so two different names never compare equal.
 *
 * The token file has one "TOKEN TENANT" per line; blank lines and lines
 * starting with '#' are ignored.  Tokens are kept as SHA-256 digests and
 * compared in constant time.
 */
#ifndef ASPACED_TOKENS_H
#define ASPACED_TOKENS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TENANT_NAME_MAX		80	/* "cert:" + a 64-byte CN, with room */
#define TENANT_NONE		((uid_t)-1)	/* never a tenant's number */
#define TENANTS_MAX		(1u << 20)	/* distinct names per run */
#define TOKEN_MIN		8	/* bytes of a token, at least */
#define TOKEN_MAX		256
#define TOKEN_TENANT_MAX	64

/* --- the tenant names ---------------------------------------------------- */

struct tenant_name;

struct tenants {
	pthread_mutex_t	 lock;
	char		**names;	/* by number */
	unsigned int	 count, cap;
	struct tenant_name **hash;	/* by name */
	unsigned int	 nbuckets;
};

void tenants_init(struct tenants *t);
void tenants_free(struct tenants *t);
/* The number of name (made on first use); TENANT_NONE if out of room. */
uid_t tenants_intern(struct tenants *t, const char *name);
/* Copy tenant's name into buf; false if there is no such tenant. */
bool tenants_name(struct tenants *t, uid_t tenant, char *buf, size_t size);

/* --- the token file ------------------------------------------------------- */

struct token {
	uint8_t		 digest[32];	/* SHA-256 of the token */
	char		 tenant[TOKEN_TENANT_MAX + 1];
};

struct token_table {
	struct token	*tokens;
	size_t		 count;
};

/*
 * Load path into tt (empty if path is NULL).  A line that is not
 * "TOKEN TENANT" (a token of TOKEN_MIN..TOKEN_MAX printable bytes, a
 * tenant of 1..TOKEN_TENANT_MAX bytes of [A-Za-z0-9._@-]), or a token
 * given twice, stops the load: "path:line: reason" on stderr and -1.
 */
int tokens_load(struct token_table *tt, const char *path);
void tokens_free(struct token_table *tt);
/* The tenant (without "token:") token belongs to, or NULL. */
const char *tokens_lookup(const struct token_table *tt, const char *token,
    size_t len);

#endif /* ASPACED_TOKENS_H */

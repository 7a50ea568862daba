/*
 * web-auth.h: who a web page is (docs/web.md).  As Jupyter does it: a
 * client already authenticated on the protocol asks for a one-time login
 * token (req-web-token.c); the page trades it, once and within
 * WEB_LOGIN_TTL_S, for a cookie bound to the same tenant (and session,
 * if the token named one).  Tokens and cookies are 32 random bytes as
 * 64 hex digits, kept in memory only (a daemon restart logs every page
 * out), compared in constant time, bounded in number (the oldest go
 * first).  One mutex: the protocol's workers make tokens, the listener
 * thread trades and checks them.
 */
#ifndef ASPACED_WEB_AUTH_H
#define ASPACED_WEB_AUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define WEB_SECRET_HEX		64
#define WEB_LOGIN_TTL_S		120	/* a login token's life */
#define WEB_COOKIE_TTL_S	(12 * 3600)	/* a cookie's, from its login */
#define WEB_LOGINS_MAX		256	/* outstanding login tokens */
#define WEB_COOKIES_MAX		1024
#define WEB_TOKEN_TRACE_MAX	(256u << 10)	/* a trace a token carries */
#define WEB_TOKEN_TRACES_MAX	(16u << 20)	/* all tokens' traces */

struct web_secret {
	char		 hex[WEB_SECRET_HEX + 1];	/* "" when free */
	uid_t		 tenant;
	uint8_t		 session[16];	/* the session the login named */
	bool		 has_session;
	time_t		 expires;
	char		*trace;		/* a login's trace (malloc), or NULL */
	size_t		 trace_len;
};

struct web_auth {
	pthread_mutex_t	 lock;
	struct web_secret logins[WEB_LOGINS_MAX];
	struct web_secret cookies[WEB_COOKIES_MAX];
	size_t		 trace_bytes;	/* held by logins */
};

void web_auth_init(struct web_auth *wa);
void web_auth_destroy(struct web_auth *wa);
/* A new login token for tenant (session NULL: none; trace NULL: none)
 * into hex: 0, -E2BIG (trace over its cap), -EDQUOT (the tokens' traces
 * over theirs), -ENOMEM or -EIO (no randomness). */
int web_auth_token(struct web_auth *wa, uid_t tenant, const uint8_t *session,
    const char *trace, size_t trace_len, char hex[WEB_SECRET_HEX + 1]);
/* Trade login token tok for a new cookie: 0 with *out its secret (and
 * the token's trace, which the caller frees), or -ENOENT (unknown, used
 * or expired) or -EIO. */
int web_auth_login(struct web_auth *wa, const char *tok,
    struct web_secret *out);
/* The cookie's secret: 0 with *out filled, or -ENOENT. */
int web_auth_cookie(struct web_auth *wa, const char *cookie,
    struct web_secret *out);
/* Forget cookie (logout): 0 or -ENOENT. */
int web_auth_logout(struct web_auth *wa, const char *cookie);

#endif /* ASPACED_WEB_AUTH_H */

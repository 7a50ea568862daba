/*
 * web-auth.c: login tokens and cookies of the web view (web-auth.h).
 * Two fixed tables; a new secret takes a free or expired slot, else the
 * one that expires first.  Lookups scan the table in constant time per
 * slot (CRYPTO_memcmp), which at these sizes costs microseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "web-auth.h"

void web_auth_init(struct web_auth *wa)
{
	memset(wa, 0, sizeof(*wa));
	pthread_mutex_init(&wa->lock, NULL);
}

static void clear(struct web_auth *wa, struct web_secret *s)
{
	if (s->trace != NULL) {
		wa->trace_bytes -= s->trace_len;
		free(s->trace);
	}
	OPENSSL_cleanse(s, sizeof(*s));
}

void web_auth_destroy(struct web_auth *wa)
{
	size_t i;

	for (i = 0; i < WEB_LOGINS_MAX; i++)
		clear(wa, &wa->logins[i]);
	OPENSSL_cleanse(wa->logins, sizeof(wa->logins));
	OPENSSL_cleanse(wa->cookies, sizeof(wa->cookies));
	pthread_mutex_destroy(&wa->lock);
}

static int new_secret(char hex[WEB_SECRET_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t raw[WEB_SECRET_HEX / 2];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	for (i = 0; i < sizeof(raw); i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[WEB_SECRET_HEX] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* The slot a new secret takes: a free or expired one, else the oldest. */
static struct web_secret *slot(struct web_secret *t, size_t n, time_t now)
{
	struct web_secret *best = &t[0];
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].hex[0] == '\0' || t[i].expires <= now)
			return &t[i];
		if (t[i].expires < best->expires)
			best = &t[i];
	}
	return best;
}

/* The live slot holding hex, or NULL; every slot is compared. */
static struct web_secret *find(struct web_secret *t, size_t n,
    const char *hex, time_t now)
{
	struct web_secret *hit = NULL;
	size_t i;

	if (strlen(hex) != WEB_SECRET_HEX)
		return NULL;
	for (i = 0; i < n; i++)
		if (t[i].hex[0] != '\0' &&
		    CRYPTO_memcmp(t[i].hex, hex, WEB_SECRET_HEX) == 0)
			hit = &t[i];
	return hit != NULL && hit->expires > now ? hit : NULL;
}

/* A copy of trace, or NULL (none, or -ENOMEM in *err). */
static char *trace_copy(const char *trace, size_t len, int *err)
{
	char *p;

	if (trace == NULL)
		return NULL;
	if ((p = malloc(len + 1)) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(p, trace, len);
	p[len] = '\0';
	return p;
}

int web_auth_token(struct web_auth *wa, uid_t tenant, const uint8_t *session,
    const char *trace, size_t trace_len, char hex[WEB_SECRET_HEX + 1])
{
	time_t now = time(NULL);
	struct web_secret *s;
	char *copy;
	int err = 0;

	if (trace != NULL && trace_len > WEB_TOKEN_TRACE_MAX)
		return -E2BIG;
	if (new_secret(hex) != 0)
		return -EIO;
	if ((copy = trace_copy(trace, trace_len, &err)) == NULL && err != 0)
		return err;
	pthread_mutex_lock(&wa->lock);
	s = slot(wa->logins, WEB_LOGINS_MAX, now);
	clear(wa, s);
	if (copy != NULL && wa->trace_bytes + trace_len >
	    WEB_TOKEN_TRACES_MAX) {
		pthread_mutex_unlock(&wa->lock);
		free(copy);
		return -EDQUOT;
	}
	s->trace = copy;
	s->trace_len = copy != NULL ? trace_len : 0;
	wa->trace_bytes += s->trace_len;
	memcpy(s->hex, hex, sizeof(s->hex));
	s->tenant = tenant;
	s->expires = now + WEB_LOGIN_TTL_S;
	if ((s->has_session = session != NULL))
		memcpy(s->session, session, sizeof(s->session));
	pthread_mutex_unlock(&wa->lock);
	return 0;
}

int web_auth_login(struct web_auth *wa, const char *tok,
    struct web_secret *out)
{
	time_t now = time(NULL);
	struct web_secret *s, *c;
	int err = -ENOENT;

	pthread_mutex_lock(&wa->lock);
	if ((s = find(wa->logins, WEB_LOGINS_MAX, tok, now)) != NULL) {
		*out = *s;
		wa->trace_bytes -= s->trace_len;
		s->trace = NULL;	/* out's now */
		clear(wa, s);		/* once */
		err = new_secret(out->hex);
		out->expires = now + WEB_COOKIE_TTL_S;
		if (err == 0) {
			c = slot(wa->cookies, WEB_COOKIES_MAX, now);
			*c = *out;
			c->trace = NULL;
			c->trace_len = 0;
		}
	}
	pthread_mutex_unlock(&wa->lock);
	return err;
}

int web_auth_cookie(struct web_auth *wa, const char *cookie,
    struct web_secret *out)
{
	struct web_secret *s;

	pthread_mutex_lock(&wa->lock);
	if ((s = find(wa->cookies, WEB_COOKIES_MAX, cookie, time(NULL))) !=
	    NULL)
		*out = *s;
	pthread_mutex_unlock(&wa->lock);
	return s != NULL ? 0 : -ENOENT;
}

int web_auth_logout(struct web_auth *wa, const char *cookie)
{
	struct web_secret *s;

	pthread_mutex_lock(&wa->lock);
	if ((s = find(wa->cookies, WEB_COOKIES_MAX, cookie, time(NULL))) !=
	    NULL)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&wa->lock);
	return s != NULL ? 0 : -ENOENT;
}

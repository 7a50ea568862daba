/*
 * tokens.c: tenant names and the token file (tokens.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "tokens.h"

/* --- the tenant names ---------------------------------------------------- */

struct tenant_name {
	uid_t		 id;
	uint32_t	 hash;
	struct tenant_name *next;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void tenants_init(struct tenants *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void tenants_free(struct tenants *t)
{
	struct tenant_name *n, *next;
	unsigned int i;

	for (i = 0; i < t->nbuckets; i++)
		for (n = t->hash[i]; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	for (i = 0; i < t->count; i++)
		free(t->names[i]);
	free(t->hash);
	free(t->names);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

/* Double the buckets (the table is locked); false if out of memory. */
static bool tenants_rehash(struct tenants *t)
{
	unsigned int nb = t->nbuckets ? 2 * t->nbuckets : 64, i;
	struct tenant_name **h = calloc(nb, sizeof(*h)), *n, *next;

	if (h == NULL)
		return false;
	for (i = 0; i < t->nbuckets; i++)
		for (n = t->hash[i]; n != NULL; n = next) {
			next = n->next;
			n->next = h[n->hash & (nb - 1)];
			h[n->hash & (nb - 1)] = n;
		}
	free(t->hash);
	t->hash = h;
	t->nbuckets = nb;
	return true;
}

static uid_t tenants_add(struct tenants *t, const char *name, uint32_t hash)
{
	struct tenant_name *n;
	char **names;

	if (t->count >= TENANTS_MAX)
		return TENANT_NONE;
	if (t->count >= t->nbuckets && !tenants_rehash(t))
		return TENANT_NONE;
	if (t->count == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 64;

		if ((names = realloc(t->names, cap * sizeof(*names))) == NULL)
			return TENANT_NONE;
		t->names = names;
		t->cap = cap;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return TENANT_NONE;
	if ((t->names[t->count] = strdup(name)) == NULL) {
		free(n);
		return TENANT_NONE;
	}
	n->id = (uid_t)t->count++;
	n->hash = hash;
	n->next = t->hash[hash & (t->nbuckets - 1)];
	t->hash[hash & (t->nbuckets - 1)] = n;
	return n->id;
}

uid_t tenants_intern(struct tenants *t, const char *name)
{
	uint32_t hash = name_hash(name);
	struct tenant_name *n = NULL;
	uid_t id;

	if (strlen(name) > TENANT_NAME_MAX)
		return TENANT_NONE;
	pthread_mutex_lock(&t->lock);
	if (t->nbuckets > 0)
		for (n = t->hash[hash & (t->nbuckets - 1)]; n != NULL;
		    n = n->next)
			if (n->hash == hash && strcmp(t->names[n->id], name) == 0)
				break;
	id = n != NULL ? n->id : tenants_add(t, name, hash);
	pthread_mutex_unlock(&t->lock);
	return id;
}

bool tenants_name(struct tenants *t, uid_t tenant, char *buf, size_t size)
{
	bool ok;

	pthread_mutex_lock(&t->lock);
	ok = tenant < t->count;
	if (ok)
		snprintf(buf, size, "%s", t->names[tenant]);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* --- the token file ------------------------------------------------------- */

static bool digest(const char *s, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

static bool tenant_char_ok(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '_' || ch == '@' || ch == '-';
}

static bool token_char_ok(int ch)
{
	return ch > ' ' && ch < 0x7f;
}

/* Split line into token and tenant and check them; NULL, or why not. */
static const char *parse_line(char *line, char **token, char **tenant)
{
	char *p = line;
	size_t i;

	while (*p == ' ' || *p == '\t')
		p++;
	*token = strsep(&p, " \t");
	while (p != NULL && (*p == ' ' || *p == '\t'))
		p++;
	if (p == NULL || *p == '\0')
		return "a token needs a tenant: TOKEN TENANT";
	*tenant = strsep(&p, " \t");
	while (p != NULL && (*p == ' ' || *p == '\t'))
		p++;
	if (p != NULL && *p != '\0')
		return "more than two fields: TOKEN TENANT";
	if (strlen(*token) < TOKEN_MIN)
		return "token shorter than 8 bytes";
	if (strlen(*token) > TOKEN_MAX)
		return "token longer than 256 bytes";
	for (i = 0; (*token)[i] != '\0'; i++)
		if (!token_char_ok((uint8_t)(*token)[i]))
			return "token has a byte that is not printable ASCII";
	if (strlen(*tenant) > TOKEN_TENANT_MAX)
		return "tenant longer than 64 bytes";
	for (i = 0; (*tenant)[i] != '\0'; i++)
		if (!tenant_char_ok((uint8_t)(*tenant)[i]))
			return "tenant may only have letters, digits and ._@-";
	return NULL;
}

static const char *add_token(struct token_table *tt, size_t *cap,
    const char *token, const char *tenant)
{
	struct token *t;
	size_t i;

	if (tt->count == *cap) {
		size_t n = *cap ? 2 * *cap : 16;

		if ((t = realloc(tt->tokens, n * sizeof(*t))) == NULL)
			return "out of memory";
		tt->tokens = t;
		*cap = n;
	}
	t = &tt->tokens[tt->count];
	if (!digest(token, strlen(token), t->digest))
		return "cannot hash the token";
	for (i = 0; i < tt->count; i++)
		if (memcmp(tt->tokens[i].digest, t->digest, 32) == 0)
			return "token given twice";
	snprintf(t->tenant, sizeof(t->tenant), "%s", tenant);
	tt->count++;
	return NULL;
}

int tokens_load(struct token_table *tt, const char *path)
{
	char *line = NULL, *token, *tenant;
	const char *why = NULL;
	size_t n = 0, cap = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;

	memset(tt, 0, sizeof(*tt));
	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL) {
		log_msg(LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (why == NULL && (len = getline(&line, &n, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((size_t)len != strlen(line))
			why = "a NUL byte in the line";
		else if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		else if ((why = parse_line(line, &token, &tenant)) == NULL)
			why = add_token(tt, &cap, token, tenant);
	}
	if (why == NULL && ferror(f))
		why = "read error";
	if (line != NULL)
		OPENSSL_cleanse(line, n);
	free(line);
	fclose(f);
	if (why != NULL) {
		log_msg(LOG_ERR, "%s:%lu: %s", path, lineno, why);
		tokens_free(tt);
		return -1;
	}
	return 0;
}

void tokens_free(struct token_table *tt)
{
	if (tt->tokens != NULL)
		OPENSSL_cleanse(tt->tokens, tt->count * sizeof(*tt->tokens));
	free(tt->tokens);
	memset(tt, 0, sizeof(*tt));
}

const char *tokens_lookup(const struct token_table *tt, const char *token,
    size_t len)
{
	uint8_t d[32];
	const char *found = NULL;
	size_t i;

	if (len < TOKEN_MIN || len > TOKEN_MAX || !digest(token, len, d))
		return NULL;
	/* Every entry is compared, each in constant time. */
	for (i = 0; i < tt->count; i++)
		if (CRYPTO_memcmp(tt->tokens[i].digest, d, 32) == 0)
			found = tt->tokens[i].tenant;
	return found;
}

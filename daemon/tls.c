/*
 * tls.c: the server's TLS context and client certificates (tls.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "tls.h"

#define CN_MAX	64	/* ub-common-name */

/* One line of OpenSSL's error queue, logged. */
static int log_ssl_error(const char *str, size_t len, void *arg)
{
	(void)arg;
	if (len > 0 && str[len - 1] == '\n')
		len--;
	log_msg(LOG_ERR, "  %.*s", (int)len, str);
	return 1;
}

static SSL_CTX *ctx_fail(SSL_CTX *ctx, const char *what, const char *file)
{
	log_msg(LOG_ERR, "%s %s:", what, file);
	ERR_print_errors_cb(log_ssl_error, NULL);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key,
    const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *names;

	if (ctx == NULL)
		return ctx_fail(NULL, "cannot make a TLS context", "");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return ctx_fail(ctx, "cannot require TLS 1.2", "");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return ctx_fail(ctx, "cannot load the certificate", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return ctx_fail(ctx, "cannot load the key", key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ctx_fail(ctx, "the key does not match", cert);
	if (client_ca == NULL)
		return ctx;
	if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
		return ctx_fail(ctx, "cannot load the client CA", client_ca);
	if ((names = SSL_load_client_CA_file(client_ca)) == NULL)
		return ctx_fail(ctx, "no CA names in", client_ca);
	SSL_CTX_set_client_CA_list(ctx, names);
	/* Ask for a certificate; one given must verify; none is allowed. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
}

bool tls_peer_tenant(SSL *ssl, char *buf, size_t size)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	X509_NAME *subj;
	X509_NAME_ENTRY *e;
	ASN1_STRING *s;
	unsigned char *cn = NULL;
	int i, len;
	bool ok;

	if (x == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    (subj = X509_get_subject_name(x)) == NULL)
		return false;
	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0)
		return false;		/* none, or more than one */
	if ((e = X509_NAME_get_entry(subj, i)) == NULL ||
	    (s = X509_NAME_ENTRY_get_data(e)) == NULL ||
	    (len = ASN1_STRING_to_UTF8(&cn, s)) <= 0)
		return false;
	ok = len <= CN_MAX && (size_t)len == strlen((char *)cn);
	for (i = 0; ok && i < len; i++)
		ok = cn[i] >= 0x20 && cn[i] < 0x7f;
	if (ok)
		ok = snprintf(buf, size, "cert:%s", (char *)cn) < (int)size;
	OPENSSL_free(cn);
	return ok;
}

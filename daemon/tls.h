/*
 * tls.h: aspaced's TLS (OpenSSL 3): the server context and the tenant a
 * client certificate names.
 *
 * TLS 1.2 or later only.  With a client CA, the server asks for a client
 * certificate; one presented must verify against that CA (or the
 * handshake fails), and its subject's common name names the tenant
 * "cert:CN".  A client without a certificate authenticates with a
 * bearer token in hello (tokens.h).
 */
#ifndef ASPACED_TLS_H
#define ASPACED_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* The server's context; NULL with OpenSSL's reasons on stderr. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key,
    const char *client_ca);

/*
 * "cert:CN" of ssl's verified peer certificate into buf: true, or false
 * if there is none (no certificate, not verified, no single printable
 * common name of 1..64 bytes).
 */
bool tls_peer_tenant(SSL *ssl, char *buf, size_t size);

#endif /* ASPACED_TLS_H */

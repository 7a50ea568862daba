/*
 * aspace-client.c: libaspace-client (aspace-client.h), a blocking client
 * of aspaced built on the daemon's own framing code (daemon/frame.h):
 * frame_encode() for requests, frame_parse_header() and
 * frame_decode_response() for responses.
 *
 * Each response read is an asc_reply owning its own decode arena, with a
 * budget proportional to its body (FRAME_RESPONSE_BUDGET), so that a
 * reply may outlive the next read: responses that arrive before the one
 * a caller waits for are kept on a list, in arrival order, for their own
 * asc_wait() or asc_recv().
 *
 * This file is the transport: connecting (Unix sockets, TLS), the wire,
 * replies and statuses.  The requests built on it (hello, sessions,
 * traces) are in aspace-requests.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "aspace-client.h"
#include "aspace-client-priv.h"
#include "frame.h"

/* The largest response body accepted: the most a daemon may configure. */
#define ASC_RESPONSE_CAP	FRAME_MAX_BODY_LIMIT

static const char *const code_names[] = {
	"OK", "ERRNO", "UNIMPLEMENTED", "BLOCKED", "NO_SUCH_SESSION",
	"NO_SUCH_TASK", "BAD_REQUEST", "TOO_LARGE", "UNAUTHENTICATED",
	"QUOTA", "INTERNAL", "CORRUPT", "CANCELLED",
};

const char *asc_code_name(int code)
{
	if (code == ASC_LOCAL)
		return "LOCAL";
	if (code >= 0 && (size_t)code < sizeof(code_names) / sizeof(code_names[0]))
		return code_names[code];
	return "UNKNOWN";
}

char *asc_status_str(const struct asc_status *st, char *buf, size_t size)
{
	if (st->code == ASC_LOCAL)
		snprintf(buf, size, "%s", st->message);
	else if (st->errname[0] != '\0')
		snprintf(buf, size, "%s %s%s%s", asc_code_name(st->code),
		    st->errname, st->message[0] ? ": " : "", st->message);
	else
		snprintf(buf, size, "%s%s%s", asc_code_name(st->code),
		    st->message[0] ? ": " : "", st->message);
	return buf;
}

/* The names of the errnos a local failure may carry. */
static const char *errno_name(int err)
{
	switch (err) {
	case ENOENT:		return "ENOENT";
	case EACCES:		return "EACCES";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case ECONNRESET:	return "ECONNRESET";
	case ENAMETOOLONG:	return "ENAMETOOLONG";
	case ENOTSOCK:		return "ENOTSOCK";
	case EPIPE:		return "EPIPE";
	case EPROTO:		return "EPROTO";
	case EPROTONOSUPPORT:	return "EPROTONOSUPPORT";
	case EMSGSIZE:		return "EMSGSIZE";
	case EBADMSG:		return "EBADMSG";
	case ENOBUFS:		return "ENOBUFS";
	case ENOMEM:		return "ENOMEM";
	case EINVAL:		return "EINVAL";
	case EHOSTUNREACH:	return "EHOSTUNREACH";
	case ETIMEDOUT:		return "ETIMEDOUT";
	case EADDRNOTAVAIL:	return "EADDRNOTAVAIL";
	default:		return "";
	}
}

int asc_priv_fail(struct asc_status *st, int err, const char *fmt, ...)
{
	va_list ap;

	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		st->code = ASC_LOCAL;
		st->errnum = err;
		snprintf(st->errname, sizeof(st->errname), "%s",
		    errno_name(err));
		va_start(ap, fmt);
		vsnprintf(st->message, sizeof(st->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void status_ok(struct asc_status *st)
{
	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		st->code = ASPACE__STATUS__CODE__OK;
	}
}

/* --- connecting ------------------------------------------------------------- */

static int connect_unix(const char *path, struct asc_status *st)
{
	struct sockaddr_un sun;
	int fd, err;

	if (*path == '\0')
		return asc_priv_fail(st, EINVAL, "unix: URL without a path");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return asc_priv_fail(st, ENAMETOOLONG,
		    "cannot connect to unix:%s: %s", path,
		    strerror(ENAMETOOLONG));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return asc_priv_fail(st, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		err = errno;
		close(fd);
		return asc_priv_fail(st, err, "cannot connect to unix:%s: %s",
		    path, strerror(err));
	}
	return fd;
}

/* The first OpenSSL error queued, as text (the queue is cleared). */
static const char *ssl_errstr(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, size, "TLS failure");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

/*
 * Split "HOST:PORT" or "[V6]:PORT" into host and port; -1 if it is not
 * of that form.
 */
static int split_hostport(const char *s, char *host, size_t hsize,
    char *port, size_t psize)
{
	const char *colon;
	size_t hl;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hsize || colon[1] == '\0' ||
	    strlen(colon + 1) >= psize ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

static int connect_tcp(const char *host, const char *port,
    struct asc_status *st)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err = ECONNREFUSED, gai, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return asc_priv_fail(st, EHOSTUNREACH, "cannot resolve %s: %s",
		    host, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return asc_priv_fail(st, err, "cannot connect to %s port %s: %s",
		    host, port, strerror(err));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The TLS client context: TLS 1.2+, the server verified against ca. */
static SSL_CTX *client_ctx(const struct asc_tls_opts *o,
    struct asc_status *st)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char eb[200];

	if (ctx == NULL) {
		asc_priv_fail(st, ENOMEM, "cannot make a TLS context: %s",
		    ssl_errstr(eb, sizeof(eb)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o != NULL && o->ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
			asc_priv_fail(st, EINVAL, "cannot load the CA %s: %s",
			    o->ca, ssl_errstr(eb, sizeof(eb)));
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		goto fail;
	}
	if (o != NULL && (o->cert != NULL) != (o->key != NULL)) {
		asc_priv_fail(st, EINVAL, "a client certificate needs both "
		    "--cert and --key");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (o != NULL && o->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, o->key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			asc_priv_fail(st, EINVAL, "cannot load the client "
			    "certificate %s and key %s: %s", o->cert, o->key,
			    ssl_errstr(eb, sizeof(eb)));
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
fail:
	asc_priv_fail(st, EPROTO, "cannot set up TLS: %s",
	    ssl_errstr(eb, sizeof(eb)));
	SSL_CTX_free(ctx);
	return NULL;
}

/* The TLS handshake on c->fd, checking the server's name or address. */
static int tls_start(struct asc_client *c, const char *host,
    const struct asc_tls_opts *o, struct asc_status *st)
{
	struct in6_addr a6;
	char eb[200];
	long vr;
	bool is_ip = inet_pton(AF_INET, host, &a6) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;

	(void)o;
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return asc_priv_fail(st, ENOMEM, "cannot set up TLS: %s",
		    ssl_errstr(eb, sizeof(eb)));
	if (is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    host) != 1)
			return asc_priv_fail(st, EINVAL, "bad address %s", host);
	} else if (SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    SSL_set1_host(c->ssl, host) != 1) {
		return asc_priv_fail(st, EINVAL, "bad host name %s", host);
	}
	if (SSL_connect(c->ssl) != 1) {
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK)
			asc_priv_fail(st, EPROTO, "TLS handshake with %s failed: "
			    "server certificate: %s", host,
			    X509_verify_cert_error_string(vr));
		else
			asc_priv_fail(st, EPROTO, "TLS handshake with %s failed: "
			    "%s", host, ssl_errstr(eb, sizeof(eb)));
		SSL_free(c->ssl);	/* no close_notify after a failure */
		c->ssl = NULL;
		return -1;
	}
	return 0;
}

struct asc_client *asc_connect(const char *url, struct asc_status *st)
{
	return asc_connect_tls(url, NULL, st);
}

struct asc_client *asc_connect_tls(const char *url,
    const struct asc_tls_opts *tls, struct asc_status *st)
{
	struct asc_client *c;
	char host[256], port[16];
	SSL_CTX *ctx = NULL;
	int fd;

	if (url == NULL) {
		asc_priv_fail(st, EINVAL, "no URL");
		return NULL;
	}
	if (strncmp(url, "unix:", 5) == 0) {
		if ((fd = connect_unix(url + 5, st)) < 0)
			return NULL;
	} else if (strncmp(url, "tls://", 6) == 0) {
		if (split_hostport(url + 6, host, sizeof(host), port,
		    sizeof(port)) != 0) {
			asc_priv_fail(st, EINVAL, "%s: want tls://HOST:PORT", url);
			return NULL;
		}
		/* Bad CA or certificate files fail before connecting. */
		if ((ctx = client_ctx(tls, st)) == NULL)
			return NULL;
		if ((fd = connect_tcp(host, port, st)) < 0) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else {
		asc_priv_fail(st, EPROTONOSUPPORT,
		    "%s: unknown URL scheme (want unix:PATH or tls://HOST:PORT)",
		    url);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		SSL_CTX_free(ctx);
		asc_priv_fail(st, ENOMEM, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->ctx = ctx;
	c->next_id = 1;
	c->max_body = FRAME_MAX_BODY_PREAUTH;
	if (ctx != NULL && tls_start(c, host, tls, st) != 0) {
		asc_close(c);
		return NULL;
	}
	status_ok(st);
	return c;
}

void asc_close(struct asc_client *c)
{
	struct asc_reply *rp;

	if (c == NULL)
		return;
	while ((rp = c->kept) != NULL) {
		c->kept = rp->next;
		asc_reply_free(rp);
	}
	if (c->ssl != NULL) {
		/* A clean close: our close_notify, unless the link failed. */
		if (!c->broken)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int asc_fd(const struct asc_client *c)
{
	return c != NULL ? c->fd : -1;
}

size_t asc_max_body(const struct asc_client *c)
{
	return c->max_body;
}

const char *asc_tenant(const struct asc_client *c)
{
	return c->tenant;
}

uint64_t asc_next_id(struct asc_client *c)
{
	return c->next_id++;
}

/* --- the wire ----------------------------------------------------------------- */

static int write_all(struct asc_client *c, const uint8_t *p, size_t len,
    struct asc_status *st)
{
	ssize_t n;

	while (len > 0) {
		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, p,
			    len > INT_MAX ? INT_MAX : (int)len);

			if (k <= 0) {
				c->broken = true;
				ERR_clear_error();
				return asc_priv_fail(st, EPIPE,
				    "sending to the daemon: TLS write failed");
			}
			n = k;
			p += n;
			len -= (size_t)n;
			continue;
		}
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			c->peer_closed = true;	/* read on: see asc_call() */
			return asc_priv_fail(st, errno,
			    "sending to the daemon: %s", strerror(errno));
		}
		if (n <= 0) {
			c->broken = true;
			return asc_priv_fail(st, n < 0 ? errno : EPIPE,
			    "sending to the daemon: %s",
			    strerror(n < 0 ? errno : EPIPE));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 1 read, 0 EOF before any byte, -1 error (errno) or EOF midway (EPIPE). */
static int read_all(struct asc_client *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (c->ssl != NULL) {
			size_t want = len - got;
			int k = SSL_read(c->ssl, p + got,
			    want > INT_MAX ? INT_MAX : (int)want);

			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);

				ERR_clear_error();
				if (e == SSL_ERROR_ZERO_RETURN) {
					n = 0;	/* close_notify: a clean EOF */
				} else {
					errno = e == SSL_ERROR_SYSCALL &&
					    errno != 0 ? errno : ECONNRESET;
					return -1;
				}
			} else {
				n = k;
			}
		} else {
			n = read(c->fd, p + got, len - got);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

int asc_send(struct asc_client *c, Aspace__Request *r, struct asc_status *st)
{
	size_t size;
	uint8_t *buf;
	int rc;

	if (c->broken || c->peer_closed)
		return asc_priv_fail(st, EPIPE, "the connection has failed");
	if (!r->has_id) {
		r->has_id = true;
		r->id = asc_next_id(c);
	}
	size = frame_encoded_size(&r->base);
	if (size - FRAME_HEADER_SIZE > c->max_body) {
		if (st != NULL) {
			memset(st, 0, sizeof(*st));
			st->code = ASPACE__STATUS__CODE__TOO_LARGE;
			snprintf(st->message, sizeof(st->message),
			    "request of %zu bytes over the daemon's cap of %zu",
			    size - FRAME_HEADER_SIZE, c->max_body);
		}
		return -1;
	}
	if ((buf = malloc(size)) == NULL)
		return asc_priv_fail(st, ENOMEM, "out of memory");
	if (frame_encode(&r->base, 0, buf, size) != (long)size) {
		free(buf);
		return asc_priv_fail(st, EMSGSIZE, "cannot encode the request");
	}
	rc = write_all(c, buf, size, st);
	free(buf);
	if (rc == 0)
		status_ok(st);
	return rc;
}

/* Read one response frame off the wire. */
static int read_reply(struct asc_client *c, struct asc_reply **out,
    struct asc_status *st)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	struct frame_header h;
	struct asc_reply *rp;
	int n, err;

	if (c->broken)
		return asc_priv_fail(st, EPIPE, "the connection has failed");
	if ((n = read_all(c, hdr, sizeof(hdr))) != 1) {
		c->broken = true;
		if (n == 0)
			return asc_priv_fail(st, ECONNRESET,
			    "the daemon closed the connection");
		return asc_priv_fail(st, errno, "reading from the daemon: %s",
		    strerror(errno));
	}
	if ((err = frame_parse_header(hdr, sizeof(hdr), ASC_RESPONSE_CAP,
	    &h)) != 0) {
		c->broken = true;
		return asc_priv_fail(st, EPROTO, "bad frame from the daemon: %s",
		    err == -EMSGSIZE ? "response too large" : "bad header");
	}
	if ((rp = calloc(1, sizeof(*rp))) == NULL ||
	    (rp->body = malloc(h.length ? h.length : 1)) == NULL) {
		free(rp);
		c->broken = true;	/* the body is still unread */
		return asc_priv_fail(st, ENOMEM, "out of memory");
	}
	frame_arena_init(&rp->arena, FRAME_RESPONSE_BUDGET(h.length));
	if (h.length > 0 && read_all(c, rp->body, h.length) != 1) {
		err = errno;
		c->broken = true;
		asc_reply_free(rp);
		return asc_priv_fail(st, err, "reading from the daemon: %s",
		    strerror(err));
	}
	if ((err = frame_decode_response(&rp->arena, rp->body, h.length,
	    &rp->resp)) != 0) {
		asc_reply_free(rp);
		return asc_priv_fail(st, -err,
		    "cannot decode the daemon's response: %s", strerror(-err));
	}
	*out = rp;
	return 0;
}

int asc_wait(struct asc_client *c, uint64_t id, struct asc_reply **out,
    struct asc_status *st)
{
	struct asc_reply **pp, *rp;

	for (pp = &c->kept; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->resp->id == id) {
			rp = *pp;
			*pp = rp->next;
			rp->next = NULL;
			*out = rp;
			status_ok(st);
			return 0;
		}
	}
	for (;;) {
		if (read_reply(c, &rp, st) != 0)
			return -1;
		if (rp->resp->id == id || rp->resp->id == 0) {
			*out = rp;
			status_ok(st);
			return 0;
		}
		*pp = rp;	/* keep it, at the end of the list */
		pp = &rp->next;
	}
}

int asc_recv(struct asc_client *c, struct asc_reply **out,
    struct asc_status *st)
{
	struct asc_reply *rp = c->kept;

	if (rp != NULL) {
		c->kept = rp->next;
		rp->next = NULL;
		*out = rp;
		status_ok(st);
		return 0;
	}
	if (read_reply(c, out, st) != 0)
		return -1;
	status_ok(st);
	return 0;
}

int asc_call(struct asc_client *c, Aspace__Request *r, struct asc_reply **out,
    struct asc_status *st)
{
	if (asc_send(c, r, st) == 0)
		return asc_wait(c, r->id, out, st);
	/* The daemon may have answered before it closed (a connection past
	 * max-connections is told QUOTA, then closed): that answer, if it is
	 * there, says more than the failed send. */
	if (!c->peer_closed || asc_wait(c, r->id, out, NULL) != 0)
		return -1;
	status_ok(st);
	return 0;
}

const Aspace__Response *asc_reply_response(const struct asc_reply *rp)
{
	return rp->resp;
}

uint64_t asc_reply_id(const struct asc_reply *rp)
{
	return rp->resp->id;
}

int asc_reply_status(const struct asc_reply *rp, struct asc_status *st)
{
	const Aspace__Status *s = rp->resp->status;
	int code;

	if (s == NULL)
		return asc_priv_fail(st, EPROTO, "a response without a status");
	code = s->has_code ? (int)s->code : ASPACE__STATUS__CODE__OK;
	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		st->code = code;
		st->errnum = s->has_errnum ? s->errnum : 0;
		if (s->errname != NULL)
			snprintf(st->errname, sizeof(st->errname), "%s",
			    s->errname);
		if (s->message != NULL)
			snprintf(st->message, sizeof(st->message), "%s",
			    s->message);
	}
	return code == ASPACE__STATUS__CODE__OK ? 0 : -1;
}

void asc_reply_free(struct asc_reply *rp)
{
	if (rp == NULL)
		return;
	frame_arena_free(&rp->arena);
	free(rp->body);
	free(rp);
}

int asc_priv_call_ok(struct asc_client *c, Aspace__Request *r, int want,
    struct asc_reply **out, struct asc_status *st)
{
	struct asc_reply *rp;

	if (asc_call(c, r, &rp, st) != 0)
		return -1;
	if (asc_reply_status(rp, st) != 0) {
		asc_reply_free(rp);
		return -1;
	}
	if (want != 0 && (int)rp->resp->result_case != want) {
		asc_reply_free(rp);
		return asc_priv_fail(st, EPROTO, "a response without its result");
	}
	*out = rp;
	return 0;
}

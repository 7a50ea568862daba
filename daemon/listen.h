/*
 * listen.h: aspaced's TCP listeners (the TLS listeners of server.c, the
 * metrics endpoint of metrics-http.c): a "HOST:PORT" spec split, bound
 * on the first of its addresses that takes it, and the bound address
 * read back (port 0 picks a free port).
 */
#ifndef ASPACED_LISTEN_H
#define ASPACED_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/listener.h>

/* "HOST:PORT" or "[V6]:PORT" into host and *port (within spec); 0 or -1. */
int listen_split(const char *spec, char *host, size_t hsize,
    const char **port);
/* A listener on host:port calling cb(arg), backlog deep; NULL when no
 * address binds, logged as what's ("metrics", "tls") failure on spec. */
struct evconnlistener *listen_tcp(struct event_base *base, const char *what,
    const char *spec, const char *host, const char *port, int backlog,
    evconnlistener_cb cb, void *arg);
/* l's bound address as "SCHEME://HOST:PORT" ("[V6]" bracketed); false,
 * buf untouched, if it cannot be read. */
bool listen_address(struct evconnlistener *l, const char *scheme, char *buf,
    size_t size);

#endif /* ASPACED_LISTEN_H */

/*
 * listen.c: aspaced's TCP listeners (listen.h), shared by the TLS
 * listeners and the metrics endpoint.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"

int listen_split(const char *spec, char *host, size_t hsize,
    const char **port)
{
	const char *start = spec, *end;

	if (spec[0] == '[') {
		start = spec + 1;
		if ((end = strchr(start, ']')) == NULL || end[1] != ':')
			return -1;
		*port = end + 2;
	} else {
		if ((end = strchr(spec, ':')) == NULL ||
		    strchr(end + 1, ':') != NULL)
			return -1;	/* a bare IPv6 address needs brackets */
		*port = end + 1;
	}
	if (end == start || (size_t)(end - start) >= hsize || **port == '\0')
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return 0;
}

struct evconnlistener *listen_tcp(struct event_base *base, const char *what,
    const char *spec, const char *host, const char *port, int backlog,
    evconnlistener_cb cb, void *arg)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct evconnlistener *l = NULL;
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_msg(LOG_ERR, "%s: %s: %s", what, spec, gai_strerror(err));
		return NULL;
	}
	for (ai = res; ai != NULL && l == NULL; ai = ai->ai_next)
		l = evconnlistener_new_bind(base, cb, arg,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
		    LEV_OPT_REUSEABLE, backlog, ai->ai_addr,
		    (int)ai->ai_addrlen);
	err = errno;
	freeaddrinfo(res);
	if (l == NULL)
		log_msg(LOG_ERR, "%s: cannot listen on %s: %s", what, spec,
		    strerror(err));
	return l;
}

bool listen_address(struct evconnlistener *l, const char *scheme, char *buf,
    size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
	    &len) != 0 || getnameinfo((struct sockaddr *)&ss, len, host,
	    sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return false;
	snprintf(buf, size, ss.ss_family == AF_INET6 ? "%s://[%s]:%s" :
	    "%s://%s:%s", scheme, host, port);
	return true;
}

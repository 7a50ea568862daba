/*
 * server.h: aspaced's event loops.  One listener thread (the caller of
 * server_run(), with its own event_base) accepts on the Unix socket and
 * hands each connection to a worker thread, round robin, through the
 * worker's notification pipe (memcached's thread.c model).  Each worker
 * has its own event_base and runs its connections with bufferevents:
 * frames are read with frame.c, decoded in a budgeted arena, run by
 * req_dispatch() and answered with a framed Response.
 */
#ifndef ASPACED_SERVER_H
#define ASPACED_SERVER_H

#include <stddef.h>

struct server_config {
	const char	*unix_path;		/* unix: listener */
	int		 workers;		/* worker threads */
	unsigned int	 max_body;		/* body cap after hello */
	unsigned int	 max_sessions;		/* per tenant */
	unsigned int	 max_sessions_total;	/* the whole daemon */
	size_t		 trace_output_max;	/* run_trace, maps text */
	unsigned long	 ram_max;		/* per session's ram_bytes */
};

struct server;

void server_config_default(struct server_config *cfg);
/* Bind the listener and start the workers; NULL with a message on stderr. */
struct server *server_new(const struct server_config *cfg);
/* Serve until SIGINT or SIGTERM; 0, or -1 on a failure of the loop. */
int server_run(struct server *srv);
/* Stop accepting, close every connection, join the workers, free all. */
void server_free(struct server *srv);

#endif /* ASPACED_SERVER_H */

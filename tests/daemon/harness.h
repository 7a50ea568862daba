/*
 * harness.h: what the daemon integration tests share: starting the built
 * aspaced on a Unix socket in a fresh temporary directory and stopping
 * it (a clean exit or a failure), and a tiny framed client on top of
 * daemon/frame.h (one per connection; a thread may own one).
 *
 * Nothing here asserts: calls return NULL, false or -1 and the tests
 * decide, so that worker threads, which must not use cmocka's asserts,
 * can use it too.
 */
#ifndef ASPACE_TEST_HARNESS_H
#define ASPACE_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"

#define HARNESS_RESP_CAP	(4u << 20)	/* largest response body */

/* --- the daemon ----------------------------------------------------------- */

struct hdaemon {
	char		 tmpdir[64];
	char		 sock[96];	/* tmpdir/sock */
	pid_t		 pid;
};

/*
 * Start path with "-s SOCK -f" and the extra arguments (NULL-ended), in a
 * fresh directory /tmp/aspaced-TAG.XXXXXX; wait up to 5 s for the socket
 * to accept.  0, or -1 (the daemon killed).
 */
int hdaemon_start(struct hdaemon *d, const char *path, const char *tag,
    const char *const *args);
/* SIGTERM, wait, clean up; 0 if the daemon exited with status 0. */
int hdaemon_stop(struct hdaemon *d);

/* --- the client ----------------------------------------------------------- */

struct client {
	int		 fd;
	struct frame_arena a;		/* the last response */
	uint64_t	 next_id;
	uint8_t		 sid[16];	/* the session cl_op names */
};

int hconnect_unix(const char *path);
/* Connect to path (no hello yet); false if it could not. */
bool cl_connect(struct client *c, const char *path);
void cl_close(struct client *c);
/* hello with protocol version 1; true if answered OK. */
bool cl_hello(struct client *c);
/* A new session (ram_bytes 0: the default) into c->sid; true if OK. */
bool cl_session_new(struct client *c, uint64_t ram_bytes);

/* Send r with the next id (returned in *id); false on a write error. */
bool cl_send(struct client *c, Aspace__Request *r, uint64_t *id);
/* The next response, valid until the next cl_recv; NULL on EOF or a
 * bad frame. */
Aspace__Response *cl_recv(struct client *c);
/* Send r and read its answer; NULL unless the id matches. */
Aspace__Response *cl_call(struct client *c, Aspace__Request *r);
/* r set for op msg (any op message) as task (0: absent) in c->sid. */
void cl_request(struct client *c, Aspace__Request *r, int task,
    Aspace__Request__OpCase opc, void *msg);
/* cl_request + cl_call. */
Aspace__Response *cl_op(struct client *c, int task,
    Aspace__Request__OpCase opc, void *msg);

/* The status code, -1 for no response, -2 for one without a status. */
int code_of(const Aspace__Response *r);
/* ERRNO with this name and number. */
bool is_errno(const Aspace__Response *r, const char *name, int num);

#endif /* ASPACE_TEST_HARNESS_H */

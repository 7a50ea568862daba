/*
 * rundir.h: where aspaced's socket is when nobody says: the runtime
 * directory of the system's daemon (run by root) or of a user's own.
 * aspaced (conf.c) listens there by default and aspace (client/aspace.c)
 * connects there by default, so that both follow the same rule.
 */
#ifndef ASPACED_RUNDIR_H
#define ASPACED_RUNDIR_H

#include <stddef.h>

#define RUNDIR_SYSTEM	"/run/aspaced"		/* root's daemon */
#define RUNDIR_SOCKET	"aspaced.sock"		/* the socket in it */

/* A user's runtime directory: $XDG_RUNTIME_DIR/aspaced when that is an
 * absolute path, else /tmp/aspaced-UID; 0, or -1 if it does not fit. */
int rundir_user(char *buf, size_t size);

#endif /* ASPACED_RUNDIR_H */

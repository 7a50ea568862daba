/*
 * rundir.c: a user's runtime directory for aspaced (rundir.h), shared by
 * the daemon's defaults and the client's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rundir.h"

int rundir_user(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	/* The XDG spec says to ignore a relative path. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/aspaced", xdg);
	else
		n = snprintf(buf, size, "/tmp/aspaced-%lu",
		    (unsigned long)geteuid());
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

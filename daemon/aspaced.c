/*
 * aspaced.c: the aspace daemon's main: options, then the server
 * (server.h) until SIGINT or SIGTERM, then a clean stop.  This first
 * slice listens on a Unix socket only and stays in the foreground.
 *
 *   aspaced -s PATH [-w WORKERS] [-f]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <event2/event.h>

#include "server.h"

static void usage(void)
{
	fprintf(stderr, "usage: aspaced -s PATH [-w WORKERS] [-f]\n");
	exit(2);
}

static int parse_workers(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 1 || n > 256)
		usage();
	return (int)n;
}

static void parse_args(int argc, char **argv, struct server_config *cfg)
{
	int ch;

	while ((ch = getopt(argc, argv, "fs:w:")) != -1) {
		switch (ch) {
		case 'f':	break;	/* the only mode for now */
		case 's':	cfg->unix_path = optarg; break;
		case 'w':	cfg->workers = parse_workers(optarg); break;
		default:	usage();
		}
	}
	if (optind != argc || cfg->unix_path == NULL)
		usage();
}

int main(int argc, char **argv)
{
	struct server_config cfg;
	struct server *srv;
	int rc;

	server_config_default(&cfg);
	parse_args(argc, argv, &cfg);
	if ((srv = server_new(&cfg)) == NULL)
		return 1;
	printf("listening unix:%s\n", cfg.unix_path);
	fflush(stdout);
	rc = server_run(srv);
	server_free(srv);
	libevent_global_shutdown();
	OPENSSL_cleanup();
	return rc == 0 ? 0 : 1;
}

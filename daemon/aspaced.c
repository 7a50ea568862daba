/*
 * aspaced.c: the aspace daemon's main: options, then the server
 * (server.h) until SIGINT or SIGTERM, then a clean stop.  It stays in
 * the foreground.
 *
 *   aspaced [-s PATH] [-l HOST:PORT -c CERT -k KEY [-a CA]] [-t TOKENS]
 *           [-w WORKERS] [-f]
 *
 * -s listens on a Unix socket, -l on TCP with TLS only (port 0 picks a
 * free port); at least one is needed.  -c and -k are the server's PEM
 * certificate chain and key; -a a CA whose client certificates are
 * asked for and, when presented, must verify (the subject's CN is the
 * tenant); -t a token file ("TOKEN TENANT" lines, '#' comments) for TLS
 * clients without a certificate.  Each bound address is printed on
 * stdout: "listening unix:PATH", "listening tls://HOST:PORT".
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <event2/event.h>

#include "server.h"

static void usage(void)
{
	fprintf(stderr, "usage: aspaced [-s PATH] "
	    "[-l HOST:PORT -c CERT -k KEY [-a CA]] [-t TOKENS]\n"
	    "               [-w WORKERS] [-f]\n");
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

	while ((ch = getopt(argc, argv, "a:c:fk:l:s:t:w:")) != -1) {
		switch (ch) {
		case 'a':	cfg->tls_client_ca = optarg; break;
		case 'c':	cfg->tls_cert = optarg; break;
		case 'f':	break;	/* the only mode for now */
		case 'k':	cfg->tls_key = optarg; break;
		case 'l':	cfg->tls_listen = optarg; break;
		case 's':	cfg->unix_path = optarg; break;
		case 't':	cfg->token_file = optarg; break;
		case 'w':	cfg->workers = parse_workers(optarg); break;
		default:	usage();
		}
	}
	if (optind != argc ||
	    (cfg->unix_path == NULL && cfg->tls_listen == NULL))
		usage();
	if (cfg->tls_listen != NULL &&
	    (cfg->tls_cert == NULL || cfg->tls_key == NULL)) {
		fprintf(stderr, "aspaced: -l needs -c CERT and -k KEY\n");
		exit(2);
	}
	if (cfg->tls_listen == NULL && (cfg->tls_cert != NULL ||
	    cfg->tls_key != NULL || cfg->tls_client_ca != NULL)) {
		fprintf(stderr, "aspaced: -c, -k and -a need -l HOST:PORT\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct server_config cfg;
	struct server *srv;
	char addr[128];
	int rc;

	server_config_default(&cfg);
	parse_args(argc, argv, &cfg);
	if ((srv = server_new(&cfg)) == NULL)
		return 1;
	if (cfg.unix_path != NULL)
		printf("listening unix:%s\n", cfg.unix_path);
	if (server_tls_address(srv, addr, sizeof(addr)))
		printf("listening %s\n", addr);
	fflush(stdout);
	rc = server_run(srv);
	server_free(srv);
	libevent_global_shutdown();
	OPENSSL_cleanup();
	return rc == 0 ? 0 : 1;
}

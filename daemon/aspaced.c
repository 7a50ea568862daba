/*
 * aspaced.c: the aspace daemon's main: options, then the server
 * (server.h) until SIGINT or SIGTERM, then a clean stop.  It stays in
 * the foreground.
 *
 *   aspaced --listen tls://ADDR:PORT --listen unix:PATH
 *           --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]
 *           [--tokens FILE] [--config FILE] [--foreground] [limits]
 *
 * --listen may repeat (up to 8 of each kind); TCP listeners speak TLS
 * only (port 0 picks a free port) and need --tls-cert and --tls-key;
 * --tls-client-ca asks for client certificates and, when presented,
 * verifies them (the subject's CN is the tenant); --tokens names a token
 * file ("TOKEN TENANT" lines, '#' comments) for TLS clients without a
 * certificate.  Each bound address is printed on stdout: "listening
 * unix:PATH", "listening tls://HOST:PORT".  The short options of old
 * stay as aliases: -s PATH, -l HOST:PORT, -c, -k, -a, -t, -w, -f.
 *
 * Limits (all enforced, see server.h): --workers N, --max-connections N,
 * --idle-timeout SECONDS (0: none), --max-inflight N (responses not yet
 * written per connection), --ram-total BYTES (all sessions' RAM, K/M/G
 * suffixes, 0: none), --max-ram BYTES (one session's), --max-sessions N
 * (per tenant), --max-sessions-total N, --max-body BYTES,
 * --pool-threads N (long requests; 0 runs them on the workers),
 * --accept-backoff MS, --drain-timeout SECONDS (SIGTERM's).  A bad
 * option exits 2 with a message.
 *
 * Under systemd (service.h, systemd/): it says READY=1, STATUS=,
 * RELOADING=1 and STOPPING=1 on $NOTIFY_SOCKET and pings the watchdog;
 * sockets passed by socket activation ($LISTEN_FDS) replace every
 * --listen (a Unix one is a Unix listener, a TCP one a TLS listener).
 * SIGHUP parses the options again and reloads the certificates, the
 * token file and the limits (server_reload()); SIGTERM and SIGINT drain
 * the connections, then exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <event2/event.h>

#include "frame.h"
#include "sd.h"
#include "server.h"

static void usage(void)
{
	fprintf(stderr,
	    "usage: aspaced --listen tls://ADDR:PORT|unix:PATH ...\n"
	    "               [--tls-cert FILE --tls-key FILE] "
	    "[--tls-client-ca FILE]\n"
	    "               [--tokens FILE] [--config FILE] [--foreground]\n"
	    "               [--workers N] [--max-connections N] "
	    "[--idle-timeout SECONDS]\n"
	    "               [--max-inflight N] [--ram-total BYTES] "
	    "[--max-ram BYTES]\n"
	    "               [--max-sessions N] [--max-sessions-total N] "
	    "[--max-body BYTES]\n"
	    "               [--pool-threads N] [--accept-backoff MS] "
	    "[--drain-timeout SECONDS]\n");
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad(const char *fmt, ...)
{
	va_list ap;

	fputs("aspaced: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* An unsigned number in [min, max] with an optional K, M or G suffix. */
static unsigned long long parse_num(const char *opt, const char *s,
    unsigned long long min, unsigned long long max, bool suffix)
{
	unsigned long long n, mul = 1;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (suffix && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K':	mul = 1ULL << 10; end++; break;
		case 'm': case 'M':	mul = 1ULL << 20; end++; break;
		case 'g': case 'G':	mul = 1ULL << 30; end++; break;
		}
	}
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 ||
	    n > max / mul || n * mul < min || n * mul > max)
		bad("%s: not a number in [%llu, %llu]: %s", opt, min, max, s);
	return n * mul;
}

static void add_listen(struct server_config *cfg, const char *url, bool tls)
{
	const char **first = tls ? &cfg->tls_listen : &cfg->unix_path;
	const char **more = tls ? cfg->tls_more : cfg->unix_more;
	int i;

	if (*url == '\0')
		bad("--listen: empty address");
	if (*first == NULL) {
		*first = url;
		return;
	}
	for (i = 0; i < SERVER_LISTEN_MAX - 1; i++)
		if (more[i] == NULL) {
			more[i] = url;
			return;
		}
	bad("--listen: at most %d of each kind", SERVER_LISTEN_MAX);
}

static void parse_listen(struct server_config *cfg, const char *url)
{
	if (strncmp(url, "unix:", 5) == 0)
		add_listen(cfg, url + 5, false);
	else if (strncmp(url, "tls://", 6) == 0)
		add_listen(cfg, url + 6, true);
	else
		bad("--listen: tls://ADDR:PORT or unix:PATH, not %s", url);
}

enum {
	OPT_LISTEN = 256, OPT_CONFIG, OPT_MAX_CONNS, OPT_IDLE, OPT_INFLIGHT,
	OPT_RAM_TOTAL, OPT_MAX_RAM, OPT_MAX_SESSIONS, OPT_MAX_SESSIONS_TOTAL,
	OPT_MAX_BODY, OPT_POOL, OPT_BACKOFF, OPT_HELP, OPT_DRAIN
};

static const struct option longopts[] = {
	{ "listen",		required_argument, NULL, OPT_LISTEN },
	{ "tls-cert",		required_argument, NULL, 'c' },
	{ "tls-key",		required_argument, NULL, 'k' },
	{ "tls-client-ca",	required_argument, NULL, 'a' },
	{ "tokens",		required_argument, NULL, 't' },
	{ "config",		required_argument, NULL, OPT_CONFIG },
	{ "foreground",		no_argument,	   NULL, 'f' },
	{ "workers",		required_argument, NULL, 'w' },
	{ "max-connections",	required_argument, NULL, OPT_MAX_CONNS },
	{ "idle-timeout",	required_argument, NULL, OPT_IDLE },
	{ "max-inflight",	required_argument, NULL, OPT_INFLIGHT },
	{ "ram-total",		required_argument, NULL, OPT_RAM_TOTAL },
	{ "max-ram",		required_argument, NULL, OPT_MAX_RAM },
	{ "max-sessions",	required_argument, NULL, OPT_MAX_SESSIONS },
	{ "max-sessions-total",	required_argument, NULL,
	    OPT_MAX_SESSIONS_TOTAL },
	{ "max-body",		required_argument, NULL, OPT_MAX_BODY },
	{ "pool-threads",	required_argument, NULL, OPT_POOL },
	{ "accept-backoff",	required_argument, NULL, OPT_BACKOFF },
	{ "drain-timeout",	required_argument, NULL, OPT_DRAIN },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Seconds, a fraction allowed, into milliseconds (--idle-timeout...). */
static unsigned int parse_seconds(const char *opt, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(d >= 0) ||
	    d > 86400.0 * 365)
		bad("%s: seconds (0 for none), not %s", opt, s);
	return (unsigned int)(d * 1000 + 0.5);
}

static void parse_args(int argc, char **argv, struct server_config *cfg)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "a:c:fk:l:s:t:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':	cfg->tls_client_ca = optarg; break;
		case 'c':	cfg->tls_cert = optarg; break;
		case 'f':	break;	/* the only mode for now */
		case 'k':	cfg->tls_key = optarg; break;
		case 'l':	add_listen(cfg, optarg, true); break;
		case 's':	add_listen(cfg, optarg, false); break;
		case 't':	cfg->token_file = optarg; break;
		case 'w':
			cfg->workers = (int)parse_num("--workers", optarg, 1,
			    256, false);
			break;
		case OPT_LISTEN:	parse_listen(cfg, optarg); break;
		case OPT_CONFIG:
			bad("--config %s: configuration files are not "
			    "supported yet", optarg);
		case OPT_MAX_CONNS:
			cfg->max_conns = (unsigned int)parse_num(
			    "--max-connections", optarg, 1, 1000000, false);
			break;
		case OPT_IDLE:
			cfg->idle_timeout_ms = parse_seconds("--idle-timeout",
			    optarg);
			break;
		case OPT_INFLIGHT:
			cfg->max_inflight = (unsigned int)parse_num(
			    "--max-inflight", optarg, 1, 65536, false);
			break;
		case OPT_RAM_TOTAL:
			cfg->ram_total = parse_num("--ram-total", optarg, 0,
			    1ULL << 50, true);
			break;
		case OPT_MAX_RAM:
			cfg->ram_max = (unsigned long)parse_num("--max-ram",
			    optarg, 1ULL << 20, 1ULL << 46, true);
			break;
		case OPT_MAX_SESSIONS:
			cfg->max_sessions = (unsigned int)parse_num(
			    "--max-sessions", optarg, 1, 1000000, false);
			break;
		case OPT_MAX_SESSIONS_TOTAL:
			cfg->max_sessions_total = (unsigned int)parse_num(
			    "--max-sessions-total", optarg, 1, 1000000, false);
			break;
		case OPT_MAX_BODY:
			cfg->max_body = (unsigned int)parse_num("--max-body",
			    optarg, FRAME_MAX_BODY_PREAUTH,
			    FRAME_MAX_BODY_LIMIT, true);
			break;
		case OPT_POOL:
			cfg->pool_threads = (int)parse_num("--pool-threads",
			    optarg, 0, 256, false);
			break;
		case OPT_BACKOFF:
			cfg->accept_backoff_ms = (unsigned int)parse_num(
			    "--accept-backoff", optarg, 1, 60000, false);
			break;
		case OPT_DRAIN:
			cfg->drain_timeout_ms = parse_seconds(
			    "--drain-timeout", optarg);
			break;
		default:	usage();
		}
	}
	if (optind != argc)
		bad("unexpected argument: %s", argv[optind]);
	if (cfg->unix_path == NULL && cfg->tls_listen == NULL &&
	    cfg->nlisten_fds == 0)
		bad("--listen tls://ADDR:PORT or unix:PATH needed");
	if (cfg->tls_listen != NULL &&
	    (cfg->tls_cert == NULL || cfg->tls_key == NULL))
		bad("a tls:// listener needs --tls-cert FILE and --tls-key FILE");
	if (cfg->nlisten_fds > 0 &&
	    (cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		bad("--tls-cert FILE and --tls-key FILE go together");
	if (cfg->nlisten_fds == 0 && cfg->tls_listen == NULL &&
	    (cfg->tls_cert != NULL ||
	    cfg->tls_key != NULL || cfg->tls_client_ca != NULL))
		bad("--tls-cert, --tls-key and --tls-client-ca need a "
		    "tls:// listener");
}

/* What the configuration is made from, again at each SIGHUP. */
struct args {
	int		 argc;
	char		**argv;
	struct sdp_listen passed;	/* socket activation's */
};

static void config_load(struct server_config *cfg, struct args *a)
{
	server_config_default(cfg);
	cfg->listen_fds = a->passed.fds;
	cfg->nlisten_fds = a->passed.n;
	optind = 0;	/* glibc: start over */
	parse_args(a->argc, a->argv, cfg);
}

/*
 * SIGHUP: the options again, so that the files they name are read anew.
 * They parsed at the start, so they parse now (bad() cannot exit); the
 * configuration file, read here too once there is one, must report its
 * errors and keep the running configuration instead.
 */
static void reload_cb(struct server *srv, void *arg)
{
	struct server_config cfg;

	config_load(&cfg, arg);
	if (server_reload(srv, &cfg) == 0)
		fprintf(stderr, "aspaced: reloaded\n");
}

int main(int argc, char **argv)
{
	struct server_config cfg;
	struct server *srv;
	struct args a;
	char addr[160];
	int rc, i;

	a.argc = argc;
	a.argv = argv;
	if (sdp_listen_fds(&a.passed) < 0)
		return 1;
	(void)sdp_notify_open();	/* a bad one is said, and ignored */
	config_load(&cfg, &a);
	if (a.passed.n > 0 && (cfg.unix_path != NULL || cfg.tls_listen != NULL))
		fprintf(stderr, "aspaced: serving the %d sockets systemd "
		    "passed instead of --listen\n", a.passed.n);
	if ((srv = server_new(&cfg)) == NULL)
		return 1;
	server_set_reload(srv, reload_cb, &a);
	for (i = 0; server_address(srv, i, addr, sizeof(addr)); i++)
		printf("listening %s\n", addr);
	fflush(stdout);
	rc = server_run(srv);
	server_free(srv);
	sdp_notify_close();
	libevent_global_shutdown();
	OPENSSL_cleanup();
	return rc == 0 ? 0 : 1;
}

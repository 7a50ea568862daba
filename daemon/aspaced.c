/*
 * aspaced.c: the aspace daemon's main: the configuration (conf.h: the
 * file, then the command line over it), then the server (server.h)
 * until SIGINT or SIGTERM, then a clean stop.  It stays in the
 * foreground.
 *
 *   aspaced [-T] [--config FILE] [--KEYWORD VALUE]...
 *
 * Every keyword of aspaced.conf(5) is also a long option, from the same
 * table; --listen may repeat, and the command line's replace the
 * file's.  --config names the file (default SYSCONFDIR/aspaced.conf,
 * which may be missing); -T (--test-config) prints the configuration in
 * effect, in the file's form, and exits.  Each bound address is printed
 * on stdout: "listening unix:PATH", "listening tls://HOST:PORT".  The
 * short options of old stay as aliases: -s PATH (--listen unix:PATH),
 * -l HOST:PORT (--listen tls://HOST:PORT), -c, -k, -a, -t, -w, and -f
 * (--foreground, the only mode).  A configuration error exits 2 with
 * its file and line; a failure to start, 1.
 *
 * Under systemd (service.h, systemd/): it says READY=1, STATUS=,
 * RELOADING=1 and STOPPING=1 on $NOTIFY_SOCKET and pings the watchdog;
 * sockets passed by socket activation ($LISTEN_FDS) replace every
 * listener (a Unix one is a Unix listener, a TCP one a TLS listener).
 * SIGHUP reads the file and the options again and reloads the
 * certificates, the token file and the limits (server_reload()); a bad
 * file keeps the running configuration.  SIGTERM and SIGINT drain the
 * connections, save the sessions, then exit 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <event2/event.h>

#include "config.h"
#include "conf.h"
#include "log.h"
#include "sd.h"
#include "server.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define CONF_DEFAULT	SYSCONFDIR "/aspaced.conf"

enum { OPT_CONFIG = 256, OPT_FOREGROUND, OPT_HELP, OPT_VERSION, OPT_KEYWORD };

/* What the command line asked for, applied after the file. */
struct args {
	const char	*config;	/* --config, or NULL */
	bool		 test;		/* -T */
	int		 n;
	struct arg {
		int		 kw;
		const char	*prefix;	/* -s and -l: "unix:", "tls://" */
		const char	*value;
	}		*v;		/* argc of them at most */
};

/* The old short options: keyword and a prefix for the value. */
static const struct alias {
	int		 ch;
	const char	*kw, *prefix;
} aliases[] = {
	{ 's', "listen", "unix:" }, { 'l', "listen", "tls://" },
	{ 'c', "tls-cert", "" }, { 'k', "tls-key", "" },
	{ 'a', "tls-client-ca", "" }, { 't', "tokens", "" },
	{ 'w', "workers", "" }, { 0, NULL, NULL }
};

static void usage(FILE *f)
{
	char arg[128];
	int i;

	fprintf(f, "usage: aspaced [-T] [--config FILE] [--KEYWORD VALUE]..."
	    "\nThe file is " CONF_DEFAULT " unless --config says; its "
	    "keywords (aspaced.conf(5)),\nalso long options, are:\n");
	for (i = 0; conf_keyword(i) != NULL; i++) {
		conf_keyword_arg(i, arg, sizeof(arg));
		fprintf(f, "  --%s %s\n", conf_keyword(i), arg);
	}
}

/* A wrong option: one line that names it (getopt's messages are off). */
static void __attribute__((noreturn)) bad_usage(char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (optopt > 0 && optopt < 256)
		fprintf(stderr, "aspaced: bad option '-%c' (aspaced --help)\n",
		    optopt);
	else
		fprintf(stderr, "aspaced: %s option '%.*s' (aspaced --help)\n",
		    optopt != 0 ? "no value for the" : "unknown",
		    (int)strcspn(arg, "="), arg);
	exit(2);
}

/* The long options: every keyword, then the command line's own. */
static struct option *long_options(void)
{
	static struct option opts[CONF_KEYWORDS + 6];
	static const struct option own[] = {
		{ "config",	 required_argument, NULL, OPT_CONFIG },
		{ "test-config", no_argument,	    NULL, 'T' },
		{ "foreground",	 no_argument,	    NULL, OPT_FOREGROUND },
		{ "help",	 no_argument,	    NULL, OPT_HELP },
		{ "version",	 no_argument,	    NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int i;

	for (i = 0; conf_keyword(i) != NULL; i++) {
		opts[i].name = conf_keyword(i);
		opts[i].has_arg = required_argument;
		opts[i].flag = NULL;
		opts[i].val = OPT_KEYWORD + i;
	}
	memcpy(opts + i, own, sizeof(own));
	return opts;
}

static void add_arg(struct args *a, int kw, const char *prefix,
    const char *value)
{
	a->v[a->n].kw = kw;
	a->v[a->n].prefix = prefix;
	a->v[a->n++].value = value;
}

static void parse_args(int argc, char **argv, struct args *a)
{
	const struct option *opts = long_options();
	const struct alias *al;
	int ch;

	if ((a->v = calloc((size_t)argc, sizeof(*a->v))) == NULL)
		exit(1);
	opterr = 0;	/* bad_usage() says it */
	while ((ch = getopt_long(argc, argv, "a:c:fk:l:s:t:w:T", opts,
	    NULL)) != -1) {
		for (al = aliases; al->ch != 0 && al->ch != ch; al++)
			;
		if (al->ch != 0)
			add_arg(a, conf_find(al->kw), al->prefix, optarg);
		else if (ch >= OPT_KEYWORD)
			add_arg(a, ch - OPT_KEYWORD, "", optarg);
		else if (ch == OPT_CONFIG)
			a->config = optarg;
		else if (ch == 'T')
			a->test = true;
		else if (ch == OPT_HELP) {
			usage(stdout);
			exit(0);
		} else if (ch == OPT_VERSION) {
			printf("aspaced %s\n", PACKAGE_VERSION);
			exit(0);
		} else if (ch != 'f' && ch != OPT_FOREGROUND)
			bad_usage(argv);
	}
	if (optind != argc) {
		fprintf(stderr, "aspaced: unexpected argument: %s\n",
		    argv[optind]);
		exit(2);
	}
}

/* The file, then the command line, then the defaults; 0 or -1 with
 * c->err. */
static int configure(struct conf *c, const struct args *a)
{
	char buf[CONF_LINE_MAX + 16];
	int i;

	if (conf_parse_file(c, a->config != NULL ? a->config : CONF_DEFAULT,
	    a->config != NULL) != 0)
		return -1;
	for (i = 0; i < a->n; i++) {
		snprintf(buf, sizeof(buf), "%s%.*s", a->v[i].prefix,
		    CONF_LINE_MAX + 1, a->v[i].value);
		if (conf_set_option(c, a->v[i].kw, buf) != 0)
			return -1;
	}
	return conf_finish(c);
}

/* What the configuration is made from, again at each SIGHUP. */
struct source {
	const struct args *args;
	struct sdp_listen passed;	/* socket activation's */
};

/* The configuration of src into c; 0, or -1 with c->err. */
static int load(struct conf *c, const struct source *src)
{
	conf_init(c);
	c->activated = src->passed.n > 0;
	if (configure(c, src->args) != 0)
		return -1;
	c->srv.listen_fds = src->passed.fds;
	c->srv.nlisten_fds = src->passed.n;
	return 0;
}

/*
 * Room for max-connections descriptors and FD_SPARE more (listeners,
 * the state directory, the pool's files): the soft RLIMIT_NOFILE raised
 * toward the hard one, as a daemon started from a shell has 1024; a
 * warning when the hard one is short (then accept() backs off at the
 * limit: admin-guide.md, "Sizing").
 */
#define FD_SPARE	256
static void raise_nofile(unsigned int max_conns)
{
	rlim_t want = (rlim_t)max_conns + FD_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
	    rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE,
	    &rl) != 0)
		return;
	if (rl.rlim_cur < want)
		log_msg(LOG_WARNING, "max-connections %u: only %llu file "
		    "descriptors (raise LimitNOFILE, or ulimit -n)", max_conns,
		    (unsigned long long)rl.rlim_cur);
}

/* SIGHUP: the file and the options again; a bad one changes nothing. */
static void reload_cb(struct server *srv, void *arg)
{
	struct conf c;

	if (load(&c, arg) != 0)
		log_msg(LOG_ERR, "reload refused: %s", c.err);
	else if (server_reload(srv, &c.srv) == 0) {
		raise_nofile(c.srv.max_conns);
		log_msg(LOG_NOTICE, "reloaded");
	}
	conf_free(&c);
}

static int serve(const struct server_config *cfg, struct source *src)
{
	struct server *srv;
	char addr[160];
	int rc, i;

	log_init(cfg->log_target, cfg->log_level);
	raise_nofile(cfg->max_conns);
	if (src->passed.n > 0)
		log_msg(LOG_NOTICE, "serving the %d sockets systemd passed",
		    src->passed.n);
	if ((srv = server_new(cfg)) == NULL)
		return 1;
	server_set_reload(srv, reload_cb, src);
	for (i = 0; server_address(srv, i, addr, sizeof(addr)); i++)
		printf("listening %s\n", addr);
	if (server_metrics_address(srv, addr, sizeof(addr)))
		printf("metrics %s\n", addr);
	if (server_web_listen_address(srv, addr, sizeof(addr)))
		printf("web %s\n", addr);
	fflush(stdout);
	rc = server_run(srv);
	server_free(srv);
	sdp_notify_close();
	libevent_global_shutdown();
	OPENSSL_cleanup();
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct args a = { NULL, false, 0, NULL };
	struct source src = { .args = &a };
	struct conf c;
	int rc = 2;

	parse_args(argc, argv, &a);
	if (sdp_listen_fds(&src.passed) < 0)
		return 1;
	if (load(&c, &src) != 0)
		fprintf(stderr, "aspaced: %s\n", c.err);
	else if (a.test) {
		conf_print(&c, stdout);
		rc = 0;
	} else if (conf_make_runtime_dir(&c) != 0) {
		fprintf(stderr, "aspaced: %s\n", c.err);
		rc = 1;
	} else {
		(void)sdp_notify_open();	/* a bad one is said, and ignored */
		rc = serve(&c.srv, &src);
	}
	conf_free(&c);
	free(a.v);
	return rc;
}

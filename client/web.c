/*
 * web.c: aspace web [--session ID | TRACE] (docs/web.md): asks the daemon
 * for a one-time login token of its web listener, as the tenant this
 * connection authenticates as, and prints the URL that logs a browser in
 * (the token in the URL's fragment, which the browser never sends).
 * With --session the page opens that session; with TRACE the page has
 * the daemon run the trace step by step in a new session of the tenant.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade-cli.h"
#include "shell.h"

#define WEB_TRACE_FILE_MAX	(256u << 10)	/* the daemon's cap */

#define WEB_USAGE \
	"usage: aspace web [--session ID | TRACE]\n" \
	"Prints a URL that logs a browser into the daemon's web view (once,\n" \
	"within two minutes), as the tenant this connection is; with\n" \
	"--session the page opens that session, with TRACE (a file, or -)\n" \
	"it runs the trace line by line in a new session.\n" \
	CLI_GLOBAL_USAGE

static int web_fail(const struct asc_status *st)
{
	char msg[512];

	fprintf(stderr, "aspace: web: %s\n",
	    asc_status_str(st, msg, sizeof(msg)));
	return st->code == ASC_LOCAL ? 2 : 1;
}

/* Ask for the token; print its URL. */
static int web_token(struct asc_client *c, const uint8_t *sid,
    const char *trace, size_t len, const struct cli_opts *o)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__WebTokenRequest q = ASPACE__WEB_TOKEN_REQUEST__INIT;
	const Aspace__WebTokenResult *res;
	struct asc_reply *rp;
	struct asc_status st;

	r.op_case = ASPACE__REQUEST__OP_WEB_TOKEN;
	r.web_token = &q;
	if ((r.has_session = sid != NULL)) {
		r.session.data = (uint8_t *)sid;
		r.session.len = ASC_SESSION_ID_LEN;
	}
	if ((q.has_trace = trace != NULL)) {
		q.trace.data = (uint8_t *)trace;
		q.trace.len = len;
	}
	if (asc_call(c, &r, &rp, &st) != 0)
		return web_fail(&st);
	if (asc_reply_status(rp, &st) != 0) {
		asc_reply_free(rp);
		return web_fail(&st);
	}
	res = asc_reply_response(rp)->web_token;
	if (res == NULL || res->url == NULL) {
		asc_reply_free(rp);
		fprintf(stderr, "aspace: web: a response without its result\n");
		return 2;
	}
	if (o->json)
		printf("{\"url\":\"%s\",\"ttl_s\":%u}\n", res->url, res->ttl_s);
	else
		printf("%s\n", res->url);
	asc_reply_free(rp);
	return 0;
}

int cmd_web(int argc, char **argv, struct cli_opts *o)
{
	static const struct option opts[] = {
		{ "session",	required_argument, NULL, CLI_OPT_OWN },
		CLI_GLOBAL_OPTIONS
	};
	uint8_t id[ASC_SESSION_ID_LEN];
	const char *idarg = NULL;
	char *trace = NULL;
	struct asc_client *c;
	size_t len = 0;
	int ch, rc;

	cli_getopt_start(argv, "web");
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_global_opt(ch, optarg, o))
			continue;
		if (ch == 'h') {
			fputs(WEB_USAGE, stdout);
			return 0;
		}
		if (ch != CLI_OPT_OWN)
			return cli_bad_option();
		idarg = optarg;
	}
	if (argc - optind > 1 || (idarg != NULL && optind < argc))
		return cli_usage_error(WEB_USAGE, "web: --session ID or one "
		    "TRACE");
	if (idarg != NULL && asc_session_parse(idarg, id) != 0)
		return cli_usage_error(WEB_USAGE, "bad session id '%s' (want "
		    "32 hex digits)", idarg);
	if (optind < argc && (trace = grade_read_file(argv[optind],
	    WEB_TRACE_FILE_MAX, &len)) == NULL) {
		fprintf(stderr, "aspace: web: %s: %s\n", argv[optind],
		    strerror(errno));
		return 2;
	}
	if ((c = cli_open(o)) == NULL) {
		free(trace);
		return 2;
	}
	rc = web_token(c, idarg != NULL ? id : NULL, trace, len, o);
	asc_close(c);
	free(trace);
	return rc;
}

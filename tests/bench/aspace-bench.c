/*
 * aspace-bench: a load generator for aspaced in the manner of
 * redis-benchmark.
 *
 *   aspace-bench [--unix PATH | --host H --port P --tls --ca FILE
 *                [--cert FILE --key FILE] [--token T]] [-c CLIENTS]
 *                [-n REQUESTS] [-P DEPTH] [--sessions S] [--mix R:W:M]
 *                [--rate R] [--rbuf BYTES] [-q]
 *   aspace-bench --self-check
 *
 * Each client is a thread with its own connection (a Unix socket, or TCP
 * with TLS through OpenSSL), which says hello and then runs its share of
 * the -n requests keeping up to -P of them in flight.  Before the clock
 * starts, one setup connection creates S sessions (the daemon caps
 * sessions per tenant, so clients share them: client i uses session
 * i % S) and maps a 1 MiB read-write region in each; the requests are a
 * mix, by weight, of access READ and access WRITE at a page of that
 * region and of mmap MAP_FIXED / munmap of one page of a scratch area
 * (a pair counts as two requests).
 *
 * Latency is from a request's send to its response, in a histogram of
 * 32 sub-buckets per power of two (3 % precision).  With --rate R, the
 * clients send R requests/s in all on a fixed schedule and the latency
 * of each is measured from its scheduled send time, so that time spent
 * waiting behind a slow response (or the pipeline window) is counted.
 *
 * It is meant to cost the daemon it shares the machine with little CPU:
 * TLS reads ahead (one read() per batch of responses), responses are
 * peeked at rather than decoded, and the requests are encoded by hand
 * (checked against protobuf-c at startup; --self-check does only that).
 * --rbuf sets the read buffer's size (tests use a small one).
 *
 * Output: a summary, and one line "RESULT requests=N errors=E secs=S
 * rps=X p50_us=.. p99_us=.. p999_us=.. max_us=.." for scripts.  The
 * exit status is 1 if a request failed.
 *
 * Here the options and main; the histogram, connections and the setup
 * of sessions: aspace-bench-conn.c; the hot requests and the clients'
 * loops: aspace-bench-load.c (aspace-bench.h).
 */
#include "aspace-bench.h"

struct bench_opt opt = {
	.host = "127.0.0.1", .clients = 50, .depth = 1, .requests = 100000,
	.threads = 1, .rbuf = RBUF_SIZE,
	.w_read = 1
};

SSL_CTX *ssl_ctx;

struct sess *sessions;

pthread_barrier_t start_barrier;
uint64_t start_ns;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "aspace-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* --- main ----------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: aspace-bench [--unix PATH | --host H --port P [--tls --ca FILE\n"
"           [--cert FILE --key FILE]]] [--token T] [-c CLIENTS] [-n REQUESTS]\n"
"           [-P DEPTH] [--threads T] [--sessions S] [--mix READ:WRITE:MMAP]\n"
"           [--rate R] [--rbuf BYTES] [-q]\n"
"       aspace-bench --self-check\n");
	exit(2);
}

static void parse_mix(const char *s)
{
	if (sscanf(s, "%u:%u:%u", &opt.w_read, &opt.w_write, &opt.w_mmap) !=
	    3 || opt.w_read + opt.w_write + opt.w_mmap == 0)
		die("--mix READ:WRITE:MMAP weights, not %s", s);
}

static void tls_setup(void)
{
	ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (ssl_ctx == NULL)
		die("%s", "SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_read_ahead(ssl_ctx, 1);	/* one read() per record batch */
	if (opt.ca != NULL ?
	    SSL_CTX_load_verify_locations(ssl_ctx, opt.ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(ssl_ctx) != 1)
		die("cannot load CA %s", opt.ca != NULL ? opt.ca : "defaults");
	if (opt.cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ssl_ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ssl_ctx, opt.key != NULL ? opt.key :
	    opt.cert, SSL_FILETYPE_PEM) != 1))
		die("cannot load client certificate %s", opt.cert);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "unix", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "tls", no_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "token", required_argument, NULL, 'T' },
		{ "sessions", required_argument, NULL, 's' },
		{ "mix", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 'j' },
		{ "rbuf", required_argument, NULL, 'b' },
		{ "self-check", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct client *cl;
	struct loop *lp;
	struct hist all;
	struct conn setup;
	char err[256];
	uint64_t end = 0;
	long errors = 0;
	double secs;
	int ch, i;

	while ((ch = getopt_long(argc, argv, "c:n:P:q", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': opt.clients = atoi(optarg); break;
		case 'n': opt.requests = atol(optarg); break;
		case 'P': opt.depth = atoi(optarg); break;
		case 'q': opt.quiet = true; break;
		case 'u': opt.unix_path = optarg; break;
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = optarg; break;
		case 't': opt.tls = true; break;
		case 'A': opt.ca = optarg; break;
		case 'C': opt.cert = optarg; break;
		case 'K': opt.key = optarg; break;
		case 'T': opt.token = optarg; break;
		case 's': opt.sessions = atoi(optarg); break;
		case 'm': parse_mix(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'j': opt.threads = atoi(optarg); break;
		case 'b': opt.rbuf = (size_t)atol(optarg); break;
		case 'S': opt.self_check = true; break;
		default: usage();
		}
	}
	if (!hot_check())
		exit(1);
	if (opt.self_check) {
		printf("self-check: the hand encoder matches protobuf-c\n");
		exit(0);
	}
	if (optind != argc || opt.clients < 1 || opt.depth < 1 ||
	    opt.requests < opt.clients || opt.sessions < 0 || opt.rate < 0 ||
	    opt.threads < 1 || opt.threads > opt.clients ||
	    opt.rbuf < RBUF_MIN || opt.rbuf > RBUF_MAX ||
	    (opt.unix_path == NULL && opt.port == NULL) ||
	    (opt.unix_path != NULL && opt.tls))
		usage();
	if (opt.sessions == 0)
		opt.sessions = opt.clients < 8 ? opt.clients : 8;
	if (opt.tls)
		tls_setup();
	sessions = calloc((size_t)opt.sessions, sizeof(*sessions));
	cl = calloc((size_t)opt.clients, sizeof(*cl));
	if (sessions == NULL || cl == NULL)
		die("%s", "out of memory");
	if (conn_open(&setup, err, sizeof(err)) != 0 ||
	    hello(&setup, err, sizeof(err)) != 0 ||
	    setup_sessions(&setup, err, sizeof(err)) != 0)
		die("setup: %s", err);

	lp = calloc((size_t)opt.threads, sizeof(*lp));
	if (lp == NULL)
		die("%s", "out of memory");
	start_loops(lp, cl);
	memset(&all, 0, sizeof(all));
	for (i = 0; i < opt.threads; i++) {
		pthread_join(lp[i].th, NULL);
		close(lp[i].ep);
	}
	for (i = 0; i < opt.clients; i++) {
		hist_merge(&all, &cl[i].h);
		errors += cl[i].errors;
		if (cl[i].end_ns > end)
			end = cl[i].end_ns;
		if (cl[i].err[0] != '\0' && !opt.quiet)
			fprintf(stderr, "aspace-bench: client %d: %s\n", i,
			    cl[i].err);
		conn_close(&cl[i].c);
		free(cl[i].sent_at);
	}
	destroy_sessions(&setup);
	conn_close(&setup);
	secs = end > start_ns ? (double)(end - start_ns) / 1e9 : 1e-9;
	if (!opt.quiet) {
		printf("====== aspaced access %u:%u:%u (read:write:mmap) ======\n",
		    opt.w_read, opt.w_write, opt.w_mmap);
		printf("  %ld requests completed in %.2f seconds\n",
		    (long)all.n, secs);
		printf("  %d parallel clients, pipeline %d, %s, %d sessions\n",
		    opt.clients, opt.depth, opt.unix_path != NULL ? "unix" :
		    opt.tls ? "TLS" : "TCP", opt.sessions);
		if (opt.rate > 0)
			printf("  fixed rate %.0f requests/s (latency from the "
			    "scheduled send)\n", opt.rate);
		printf("  latency (us): p50 %.1f  p99 %.1f  p99.9 %.1f  "
		    "max %.1f\n", hist_pct(&all, 50) / 1e3,
		    hist_pct(&all, 99) / 1e3, hist_pct(&all, 99.9) / 1e3,
		    all.max / 1e3);
		printf("  throughput: %.2f requests per second\n",
		    (double)all.n / secs);
		if (errors > 0)
			printf("  errors: %ld\n", errors);
	}
	printf("RESULT requests=%" PRIu64 " errors=%ld secs=%.3f rps=%.1f "
	    "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n", all.n,
	    errors, secs, (double)all.n / secs, hist_pct(&all, 50) / 1e3,
	    hist_pct(&all, 99) / 1e3, hist_pct(&all, 99.9) / 1e3,
	    all.max / 1e3);
	free(cl);
	free(lp);
	free(sessions);
	if (ssl_ctx != NULL)
		SSL_CTX_free(ssl_ctx);
	return errors > 0 ? 1 : 0;
}

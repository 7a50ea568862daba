/*
 * aspace-bench.h: what the pieces of aspace-bench share (the tool:
 * aspace-bench.c's top comment): its options, a session, a latency
 * histogram, a connection, a client and a thread's loop of clients, and
 * the functions of aspace-bench-conn.c and aspace-bench-load.c.
 */
#ifndef ASPACE_BENCH_H
#define ASPACE_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "frame.h"

#define REGION_LEN	(1ul << 20)
#define SCRATCH_PAGES	64
#define PAGE		4096ul
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	(64 * HIST_SUB)
#define RBUF_SIZE	(256 * 1024)	/* --rbuf: the default, the bounds */
#define RBUF_MIN	1024
#define RBUF_MAX	(64u << 20)
#define WBUF_SIZE	(64 * 1024)

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define PROT_RW		3
#define MAP_PRIVATE_	0x02
#define MAP_FIXED_	0x10
#define MAP_ANON_	0x20

/* The command line's options (aspace-bench.c's top comment). */
struct bench_opt {
	const char	*unix_path, *host, *port, *ca, *cert, *key, *token;
	bool		 tls, quiet, self_check;
	int		 clients, depth, sessions, threads;
	long		 requests;
	size_t		 rbuf;
	double		 rate;
	unsigned int	 w_read, w_write, w_mmap;
};

struct sess {
	uint8_t		 id[16];
	uint64_t	 region, scratch;
};

struct hist {
	uint64_t	 count[HIST_BUCKETS];
	uint64_t	 n, max;
};

struct conn {
	int		 fd;
	SSL		*ssl;
	uint8_t		*rbuf;
	size_t		 rlen, rsize;
	uint8_t		 wbuf[WBUF_SIZE];
	size_t		 wlen, woff;
	struct frame_arena arena;
	size_t		 consumed;	/* by the last conn_next() */
};

struct client {
	int		 idx;
	long		 nreq, nsent, ndone;
	struct conn	 c;
	uint64_t	*sent_at;	/* by request number */
	uint64_t	 rnd, interval, phase;
	bool		 want_out, done;
	struct hist	 h;
	long		 errors;
	uint64_t	 end_ns;
	char		 err[256];
};

/*
 * The clients of one thread: an epoll loop over their non-blocking
 * connections, as redis-benchmark runs its clients in one event loop.
 */
struct loop {
	pthread_t	 th;
	int		 ep;
	struct client	*first;
	int		 n;
};

extern struct bench_opt opt;
extern SSL_CTX *ssl_ctx;
extern struct sess *sessions;		/* opt.sessions of them */
extern pthread_barrier_t start_barrier;
extern uint64_t start_ns;

/* aspace-bench.c */
uint64_t now_ns(void);
/* Say what went wrong and exit 2. */
__attribute__((noreturn))
void die(const char *fmt, const char *arg);

/* aspace-bench-conn.c: the histogram, connections, the setup */
void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *to, const struct hist *from);
uint64_t hist_pct(const struct hist *h, double pct);
int conn_open(struct conn *c, char *err, size_t errsz);
void conn_close(struct conn *c);
int conn_flush(struct conn *c);
Aspace__Response *conn_next(struct conn *c, bool *need);
void conn_consume(struct conn *c);
const char *code_of(const Aspace__Response *resp);
int hello(struct conn *c, char *err, size_t errsz);
int setup_sessions(struct conn *c, char *err, size_t errsz);
void destroy_sessions(struct conn *c);

/* aspace-bench-load.c: the hot requests, the load */
bool hot_check(void);
void start_loops(struct loop *lp, struct client *cl);

#endif /* ASPACE_BENCH_H */

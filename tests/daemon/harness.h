/*
 * harness.h: what the daemon integration tests share: a fresh temporary
 * directory for the built aspaced, starting it (waiting for its Unix
 * socket, or reading its "listening ..." lines for the ports it bound),
 * running it to its end for its messages, stopping it (a clean exit or a
 * failure), the test certificates; and a tiny framed client on top of
 * daemon/frame.h over a Unix socket, plain TCP or TLS (one per
 * connection; a thread may own one).
 *
 * Nothing here asserts: calls return NULL, false or -1 and the tests
 * decide, so that worker threads, which must not use cmocka's asserts,
 * can use it too.
 */
#ifndef ASPACE_TEST_HARNESS_H
#define ASPACE_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "frame.h"

#define HARNESS_RESP_CAP	(4u << 20)	/* largest response body */
#define HARNESS_TIMEOUT		10		/* s, a socket's, when set */

/* --- the daemon ----------------------------------------------------------- */

struct hdaemon {
	char		 tmpdir[64];
	char		 sock[96];	/* tmpdir/sock */
	pid_t		 pid;		/* -1: none (stopped) */
};

/* How a child is run: -1 or 0 keep what the test has. */
struct hspawn {
	int		 out;		/* dup'ed to its stdout */
	int		 err;		/* dup'ed to its stderr */
	rlim_t		 nofile;	/* its RLIMIT_NOFILE */
	unsigned int	 alarm;		/* SIGALRM after so many seconds */
};
#define HSPAWN_INIT	{ -1, -1, 0, 0 }

/* The daemon's path: argv[1] or $ASPACED; NULL (said on stderr). */
const char *hdaemon_path(int argc, char **argv, const char *test);
/*
 * A fresh directory /tmp/aspaced-TAG.XXXXXX, mode 0755 (a child under
 * another uid reaches the socket), and d->sock in it.  0, or -1.
 */
int hdaemon_mkdir(struct hdaemon *d, const char *tag);
/* name's path in d's directory: one of 8 static buffers, reused. */
const char *hdaemon_file(const struct hdaemon *d, const char *name);
/* Fork and exec argv (NULL-ended, argv[0] the path) as how says (NULL:
 * as the test is); the pid, or -1. */
pid_t hspawn(const char *const *argv, const struct hspawn *how);
/* hspawn argv as d's daemon; wait up to 5 s for d->sock to accept.
 * 0, or -1 (the daemon stopped). */
int hdaemon_exec(struct hdaemon *d, const char *const *argv,
    const struct hspawn *how);
/*
 * hdaemon_mkdir, then path with "-s SOCK -f" and the extra arguments
 * (NULL-ended) by hdaemon_exec.  0, or -1 (the daemon stopped).
 */
int hdaemon_start(struct hdaemon *d, const char *path, const char *tag,
    const char *const *args);
/*
 * Read the daemon's stdout (fd, closed here) up to the lines naming the
 * ports asked for, "listening tls://127.0.0.1:PORT" into *tls and
 * "metrics http://127.0.0.1:PORT" into *metrics (NULL: not asked).
 * 0 if every one was read, else -1.
 */
int hdaemon_ports(int fd, int *tls, int *metrics);
/* SIGTERM, wait, remove the directory and its files; 0 if the daemon
 * exited with status 0 (or was stopped before) and all is gone. */
int hdaemon_stop(struct hdaemon *d);
/* A cmocka group teardown: hdaemon_stop of the struct hdaemon in *state
 * (which the group's setup sets). */
int hdaemon_teardown(void **state);

/* --- running to the end, files -------------------------------------------- */

#define HRUN_STDOUT	1
#define HRUN_STDERR	2

/*
 * Run argv (NULL-ended) with its streams (HRUN_*) into buf (NUL-ended,
 * the rest dropped), alarm as in struct hspawn: its exit status, -1 if a
 * signal ended it, -2 if it could not be run.
 */
int hrun(const char *const *argv, int streams, unsigned int alarm,
    char *buf, size_t size);
/* Read fd to its end (at most size - 1 bytes) into buf; the length. */
size_t hread_to_end(int fd, char *buf, size_t size);
bool hwrite_file(const char *path, const char *text);
/* Whether the openssl command is there. */
bool hhave_openssl(void);
/* tests/daemon/certs.sh ($srcdir's) into dir: 0, or not. */
int hcerts(const char *dir);

/* --- the client ----------------------------------------------------------- */

struct client {
	int		 fd;
	SSL_CTX		*ctx;		/* TLS: freed by cl_close */
	SSL		*ssl;		/* NULL: plain */
	struct frame_arena a;		/* the last response */
	uint32_t	 cap;		/* largest response body */
	uint64_t	 next_id;
	uint8_t		 sid[16];	/* the session cl_op names */
	unsigned long	 ops;		/* requests cl_op, cl_op_in sent */
};

int hconnect_unix(const char *path);
/* 127.0.0.1:port, with HARNESS_TIMEOUT to send and to receive. */
int hconnect_tcp(int port);
void hset_timeout(int fd);

/* c without a connection, for responses up to cap (0: HARNESS_RESP_CAP). */
void cl_init(struct client *c, uint32_t cap);
/* cl_init, then connect to path (no hello yet), with HARNESS_TIMEOUT
 * if timeout; false if it could not. */
bool cl_open_unix(struct client *c, const char *path, uint32_t cap,
    bool timeout);
/* cl_open_unix with the defaults. */
bool cl_connect(struct client *c, const char *path);
/*
 * A TLS client context trusting dir/ca.pem; cert names a key pair
 * dir/CERT.pem, dir/CERT.key (NULL: none); version, if not 0, is the only
 * TLS version it offers (at security level 0).  NULL on any failure.
 */
SSL_CTX *htls_ctx(const char *dir, const char *cert, int version);
/*
 * cl_init, then TLS over hconnect_tcp(port) with ctx (c's from here on),
 * the server named localhost: SSL_connect's result (1: done), or -1
 * with c->ssl NULL if the connection or its SSL could not be made.
 */
int cl_open_tls(struct client *c, int port, SSL_CTX *ctx, uint32_t cap);
void cl_close(struct client *c);

/* Write or read all len bytes (TLS or plain); false on an error or EOF. */
bool cl_write_all(struct client *c, const void *buf, size_t len);
bool cl_read_all(struct client *c, void *buf, size_t len);

/* Send r as it is (its id the caller's); false on a write error. */
bool cl_send_as_is(struct client *c, Aspace__Request *r);
/* Send r with the next id (returned in *id if id); false on an error. */
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
/* cl_call of op msg in session id (NULL: none) as task (0: absent). */
Aspace__Response *cl_op_in(struct client *c, uint8_t *id, int task,
    Aspace__Request__OpCase opc, void *msg);

/* --- requests ------------------------------------------------------------- */

/* r (initialised here) a hello of this protocol's version in h, with
 * token (NULL: none). */
void req_hello(Aspace__Request *r, Aspace__HelloRequest *h,
    const char *token);
/* r in session id (16 bytes), as task (0: absent). */
void req_session(Aspace__Request *r, uint8_t *id, int task);
/* r (initialised here) for op msg (any op message) in session id (NULL:
 * none) as task (0: absent). */
void req_op(Aspace__Request *r, uint8_t *id, int task,
    Aspace__Request__OpCase opc, void *msg);
/* hello with token (NULL: none); the response. */
Aspace__Response *cl_hello_token(struct client *c, const char *token);
/* hello without a token; true if answered OK. */
bool cl_hello(struct client *c);
/*
 * session_create (ram_bytes 0: the default): its status code (-2 if OK
 * without a 16-byte id); the id into id when OK.
 */
int cl_session_create(struct client *c, uint64_t ram_bytes, uint8_t *id);
/* A new session into c->sid; true if OK. */
bool cl_session_new(struct client *c, uint64_t ram_bytes);
/* session_destroy of id: its status code. */
int cl_session_destroy(struct client *c, uint8_t *id);
/* A private anonymous read-write mapping of len bytes in session id:
 * its address, 0 on any failure. */
uint64_t cl_mmap_anon(struct client *c, uint8_t *id, uint64_t len);

/* --- one builder per op (sent by cl_op_in: in session id, NULL: none,
 * as task, 0: absent); the response ------------------------------------ */

/* c and its own session (c->sid), as the rq_* take them. */
#define OWN(c)	(c), ((c)->sid)

/* A window of [start, start + len) (initialised here). */
void req_window(Aspace__Window *w, uint64_t start, uint64_t len);
/* r and t (initialised here) a run_trace of text (params: NULL, none),
 * without a session. */
void req_run_trace(Aspace__Request *r, Aspace__RunTraceRequest *t,
    const char *text, Aspace__SessionCreateRequest *params);
Aspace__Response *rq_run_trace(struct client *c, uint8_t *id, int task,
    const char *text, Aspace__SessionCreateRequest *params);
Aspace__Response *rq_mmap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
    const char *file);
Aspace__Response *rq_munmap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len);
Aspace__Response *rq_mprotect(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, uint32_t prot);
Aspace__Response *rq_madvise(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, int advice);
/* flags 0: absent; new_addr only with MREMAP_FIXED (2) in flags. */
Aspace__Response *rq_mremap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t old_len, uint64_t new_len, uint32_t flags,
    uint64_t new_addr);
/* mlock (lock) or munlock of [addr, addr + len). */
Aspace__Response *rq_mlock(struct client *c, uint8_t *id, int task,
    bool lock, uint64_t addr, uint64_t len);
/* brk to addr (has false: no addr, the break asked). */
Aspace__Response *rq_brk(struct client *c, uint8_t *id, int task, bool has,
    uint64_t addr);
Aspace__Response *rq_read(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint32_t len);
Aspace__Response *rq_write(struct client *c, uint8_t *id, int task,
    uint64_t addr, const void *data, size_t len);
/* One access of kind, with value (-1: none). */
Aspace__Response *rq_access(struct client *c, uint8_t *id, int task,
    uint64_t addr, Aspace__AccessKind kind, int value);
/* An op with an empty message: fork, thread, vfork, exit, check,
 * proc_status, session_destroy, session_list. */
Aspace__Response *rq_simple(struct client *c, uint8_t *id, int task,
    Aspace__Request__OpCase opc);
/* exec of the image name (NULL: no image). */
Aspace__Response *rq_exec(struct client *c, uint8_t *id, int task,
    const char *name);
/* maps or smaps of [start, start + len), all if len is 0. */
Aspace__Response *rq_maps(struct client *c, uint8_t *id, int task,
    uint64_t start, uint64_t len);
Aspace__Response *rq_smaps(struct client *c, uint8_t *id, int task,
    uint64_t start, uint64_t len);
Aspace__Response *rq_walk(struct client *c, uint8_t *id, int task,
    uint64_t addr);
/* counters (task_only false: absent). */
Aspace__Response *rq_counters(struct client *c, uint8_t *id, int task,
    bool task_only);
Aspace__Response *rq_file(struct client *c, uint8_t *id, int task,
    const char *name, uint64_t size);

/* The status code, -1 for no response, -2 for one without a status. */
int code_of(const Aspace__Response *r);
/* ERRNO with this name and number. */
bool is_errno(const Aspace__Response *r, const char *name, int num);

#endif /* ASPACE_TEST_HARNESS_H */

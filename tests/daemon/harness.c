/*
 * harness.c: the daemon, its directory and the framed client the
 * integration tests share (harness.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>

#include "config.h"
#include "harness.h"

#define MAX_ARGS	40
#define NFILES		8	/* hdaemon_file's buffers */

/* --- the daemon ----------------------------------------------------------- */

const char *hdaemon_path(int argc, char **argv, const char *test)
{
	const char *path = argc > 1 ? argv[1] : getenv("ASPACED");

	if (path == NULL)
		fprintf(stderr, "%s: set ASPACED or pass the path\n", test);
	return path;
}

int hdaemon_mkdir(struct hdaemon *d, const char *tag)
{
	d->pid = -1;
	snprintf(d->tmpdir, sizeof(d->tmpdir), "/tmp/aspaced-%s.XXXXXX", tag);
	if (mkdtemp(d->tmpdir) == NULL || chmod(d->tmpdir, 0755) != 0) {
		d->tmpdir[0] = '\0';
		return -1;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->tmpdir);
	return 0;
}

const char *hdaemon_file(const struct hdaemon *d, const char *name)
{
	static char path[NFILES][160];
	static int next;
	char *p = path[next++ % NFILES];

	snprintf(p, sizeof(path[0]), "%s/%s", d->tmpdir, name);
	return p;
}

/* In the child: what how asks for. */
static void spawn_setup(const struct hspawn *how)
{
	struct rlimit rl = { how->nofile, how->nofile };

	if (how->nofile > 0)
		setrlimit(RLIMIT_NOFILE, &rl);
	if (how->out >= 0)
		dup2(how->out, 1);
	if (how->err >= 0)
		dup2(how->err, 2);
	if (how->alarm > 0)
		alarm(how->alarm);
}

pid_t hspawn(const char *const *argv, const struct hspawn *how)
{
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	if (how != NULL)
		spawn_setup(how);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* Whether the daemon's socket accepts, trying for up to 5 s. */
static bool wait_ready(const char *sock)
{
	int i, fd;

	for (i = 0; i < 500; i++) {
		if ((fd = hconnect_unix(sock)) >= 0) {
			close(fd);
			return true;
		}
		usleep(10000);
	}
	return false;
}

int hdaemon_exec(struct hdaemon *d, const char *const *argv,
    const struct hspawn *how)
{
	if ((d->pid = hspawn(argv, how)) > 0 && wait_ready(d->sock))
		return 0;
	hdaemon_stop(d);
	return -1;
}

int hdaemon_start(struct hdaemon *d, const char *path, const char *tag,
    const char *const *args)
{
	const char *argv[MAX_ARGS];
	int n = 0;

	if (hdaemon_mkdir(d, tag) != 0)
		return -1;
	argv[n++] = path;
	argv[n++] = "-s";
	argv[n++] = d->sock;
	argv[n++] = "-f";
	while (args != NULL && *args != NULL && n < MAX_ARGS - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	return hdaemon_exec(d, argv, NULL);
}

int hdaemon_ports(int fd, int *tls, int *metrics)
{
	FILE *f = fdopen(fd, "r");
	char line[256];

	if (tls != NULL)
		*tls = 0;
	if (metrics != NULL)
		*metrics = 0;
	if (f == NULL) {
		close(fd);
		return -1;
	}
	while (((tls != NULL && *tls <= 0) ||
	    (metrics != NULL && *metrics <= 0)) &&
	    fgets(line, sizeof(line), f) != NULL) {
		if (tls != NULL)
			sscanf(line, "listening tls://127.0.0.1:%d", tls);
		if (metrics != NULL)
			sscanf(line, "metrics http://127.0.0.1:%d", metrics);
	}
	fclose(f);
	return (tls == NULL || *tls > 0) &&
	    (metrics == NULL || *metrics > 0) ? 0 : -1;
}

/* Remove dir and the files in it (the tests make no subdirectories). */
static int remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[320];

	while (dp != NULL && (e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (dp != NULL)
		closedir(dp);
	return rmdir(dir);
}

int hdaemon_stop(struct hdaemon *d)
{
	int st = 0, gone = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, &st, 0);
		d->pid = -1;
	}
	if (d->tmpdir[0] != '\0')
		gone = remove_dir(d->tmpdir);
	d->tmpdir[0] = '\0';
	/* A clean exit: no sanitizer report, no crash. */
	return gone == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int hdaemon_teardown(void **state)
{
	return hdaemon_stop(*state);
}

/* --- running to the end, files -------------------------------------------- */

int hrun(const char *const *argv, int streams, unsigned int alarm,
    char *buf, size_t size)
{
	struct hspawn how = HSPAWN_INIT;
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -2;
	how.out = streams & HRUN_STDOUT ? p[1] : -1;
	how.err = streams & HRUN_STDERR ? p[1] : -1;
	how.alarm = alarm;
	pid = hspawn(argv, &how);
	close(p[1]);
	hread_to_end(p[0], buf, size);
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

size_t hread_to_end(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

bool hwrite_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

bool hhave_openssl(void)
{
	return system("command -v openssl >/dev/null 2>&1") == 0;
}

int hcerts(const char *dir)
{
	const char *srcdir = getenv("srcdir");
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sh '%s/tests/daemon/certs.sh' '%s'",
	    srcdir != NULL ? srcdir : ".", dir);
	return system(cmd);
}

/* --- connections ---------------------------------------------------------- */

/* A stream socket of family connected to sa: its fd, or -1. */
static int connect_to(int family, const void *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, sa, len) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int hconnect_unix(const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	return connect_to(AF_UNIX, &sun, sizeof(sun));
}

int hconnect_tcp(int port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = connect_to(AF_INET, &sin, sizeof(sin))) >= 0)
		hset_timeout(fd);
	return fd;
}

void hset_timeout(int fd)
{
	struct timeval tv = { HARNESS_TIMEOUT, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* --- the client ----------------------------------------------------------- */

void cl_init(struct client *c, uint32_t cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cap = cap != 0 ? cap : HARNESS_RESP_CAP;
	c->next_id = 1;
	frame_arena_init(&c->a, FRAME_RESPONSE_BUDGET(c->cap));
}

bool cl_open_unix(struct client *c, const char *path, uint32_t cap,
    bool timeout)
{
	cl_init(c, cap);
	if ((c->fd = hconnect_unix(path)) < 0)
		return false;
	if (timeout)
		hset_timeout(c->fd);
	return true;
}

bool cl_connect(struct client *c, const char *path)
{
	return cl_open_unix(c, path, 0, false);
}

/* The key pair dir/CERT.pem, dir/CERT.key; true if loaded. */
static bool use_cert(SSL_CTX *ctx, const char *dir, const char *cert)
{
	char pem[160], key[160];

	snprintf(pem, sizeof(pem), "%s/%s.pem", dir, cert);
	snprintf(key, sizeof(key), "%s/%s.key", dir, cert);
	return SSL_CTX_use_certificate_chain_file(ctx, pem) == 1 &&
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
}

/* Let ctx offer only version, old ones too: the server must say no. */
static bool tls_only(SSL_CTX *ctx, int version)
{
	SSL_CTX_set_security_level(ctx, 0);
	return SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") == 1 &&
	    SSL_CTX_set_min_proto_version(ctx, version) == 1 &&
	    SSL_CTX_set_max_proto_version(ctx, version) == 1;
}

SSL_CTX *htls_ctx(const char *dir, const char *cert, int version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char ca[160];

	if (ctx == NULL)
		return NULL;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    (cert != NULL && !use_cert(ctx, dir, cert)) ||
	    (version != 0 && !tls_only(ctx, version))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int cl_open_tls(struct client *c, int port, SSL_CTX *ctx, uint32_t cap)
{
	cl_init(c, cap);
	c->ctx = ctx;
	if ((c->fd = hconnect_tcp(port)) < 0)
		return -1;
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set1_host(c->ssl, "localhost") != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	SSL_set_fd(c->ssl, c->fd);
	return SSL_connect(c->ssl);
}

void cl_close(struct client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	frame_arena_free(&c->a);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
	ERR_clear_error();
}

bool cl_write_all(struct client *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if (c->ssl != NULL)
			n = SSL_write(c->ssl, p, (int)len);
		else if ((n = write(c->fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool cl_read_all(struct client *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (c->ssl != NULL)
			n = SSL_read(c->ssl, p + got, (int)(len - got));
		else if ((n = read(c->fd, p + got, len - got)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

bool cl_send_as_is(struct client *c, Aspace__Request *r)
{
	size_t size = frame_encoded_size(&r->base);
	uint8_t *buf = malloc(size);
	bool ok;

	ok = buf != NULL && frame_encode(&r->base, 0, buf, size) ==
	    (long)size && cl_write_all(c, buf, size);
	free(buf);
	return ok;
}

bool cl_send(struct client *c, Aspace__Request *r, uint64_t *id)
{
	r->has_id = true;
	r->id = c->next_id++;
	if (id != NULL)
		*id = r->id;
	return cl_send_as_is(c, r);
}

Aspace__Response *cl_recv(struct client *c)
{
	uint8_t hdr[FRAME_HEADER_SIZE], *body;
	struct frame_header h;
	Aspace__Response *resp = NULL;

	frame_arena_reset(&c->a);
	if (!cl_read_all(c, hdr, sizeof(hdr)) ||
	    frame_parse_header(hdr, sizeof(hdr), c->cap, &h) != 0)
		return NULL;
	if ((body = malloc(h.length + 1)) == NULL)
		return NULL;
	if (h.length == 0 || cl_read_all(c, body, h.length))
		frame_decode_response(&c->a, body, h.length, &resp);
	free(body);
	return resp;
}

Aspace__Response *cl_call(struct client *c, Aspace__Request *r)
{
	Aspace__Response *resp;
	uint64_t id;

	if (!cl_send(c, r, &id) || (resp = cl_recv(c)) == NULL)
		return NULL;
	return resp->has_id && resp->id == id ? resp : NULL;
}

void cl_request(struct client *c, Aspace__Request *r, int task,
    Aspace__Request__OpCase opc, void *msg)
{
	req_op(r, c->sid, task, opc, msg);
}

Aspace__Response *cl_op(struct client *c, int task,
    Aspace__Request__OpCase opc, void *msg)
{
	Aspace__Request r;

	c->ops++;
	cl_request(c, &r, task, opc, msg);
	return cl_call(c, &r);
}

Aspace__Response *cl_op_in(struct client *c, uint8_t *id, int task,
    Aspace__Request__OpCase opc, void *msg)
{
	Aspace__Request r;

	c->ops++;
	req_op(&r, id, task, opc, msg);
	return cl_call(c, &r);
}

/* --- requests ------------------------------------------------------------- */

void req_hello(Aspace__Request *r, Aspace__HelloRequest *h,
    const char *token)
{
	aspace__request__init(r);
	aspace__hello_request__init(h);
	h->has_version = true;
	h->version = ASPACE_PROTOCOL_VERSION;
	h->token = (char *)token;
	r->op_case = ASPACE__REQUEST__OP_HELLO;
	r->hello = h;
}

void req_session(Aspace__Request *r, uint8_t *id, int task)
{
	r->has_session = true;
	r->session.data = id;
	r->session.len = 16;
	if (task > 0) {
		r->has_task = true;
		r->task = task;
	}
}

void req_op(Aspace__Request *r, uint8_t *id, int task,
    Aspace__Request__OpCase opc, void *msg)
{
	aspace__request__init(r);
	r->op_case = opc;
	r->hello = msg;		/* the op union: every member a pointer */
	if (id != NULL)
		req_session(r, id, task);
}

Aspace__Response *cl_hello_token(struct client *c, const char *token)
{
	Aspace__Request r;
	Aspace__HelloRequest h;

	req_hello(&r, &h, token);
	return cl_call(c, &r);
}

bool cl_hello(struct client *c)
{
	return code_of(cl_hello_token(c, NULL)) == ASPACE__STATUS__CODE__OK;
}

int cl_session_create(struct client *c, uint64_t ram_bytes, uint8_t *id)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	s.has_ram_bytes = ram_bytes != 0;
	s.ram_bytes = ram_bytes;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(c, &r);
	if (code_of(resp) != ASPACE__STATUS__CODE__OK)
		return code_of(resp);
	if (resp->session_create == NULL ||
	    resp->session_create->session.len != 16)
		return -2;
	memcpy(id, resp->session_create->session.data, 16);
	return ASPACE__STATUS__CODE__OK;
}

bool cl_session_new(struct client *c, uint64_t ram_bytes)
{
	return cl_session_create(c, ram_bytes, c->sid) ==
	    ASPACE__STATUS__CODE__OK;
}

int cl_session_destroy(struct client *c, uint8_t *id)
{
	Aspace__SessionDestroyRequest d = ASPACE__SESSION_DESTROY_REQUEST__INIT;

	return code_of(cl_op_in(c, id, 0, ASPACE__REQUEST__OP_SESSION_DESTROY,
	    &d));
}

uint64_t cl_mmap_anon(struct client *c, uint8_t *id, uint64_t len)
{
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;
	Aspace__Response *resp;

	m.has_length = m.has_prot = m.has_flags = true;
	m.length = len;
	m.prot = 0x3;		/* PROT_READ | PROT_WRITE */
	m.flags = 0x22;		/* MAP_PRIVATE | MAP_ANONYMOUS */
	resp = cl_op_in(c, id, 0, ASPACE__REQUEST__OP_MMAP, &m);
	if (code_of(resp) != ASPACE__STATUS__CODE__OK || resp->mmap == NULL)
		return 0;
	return resp->mmap->addr;
}

/* --- one builder per op -------------------------------------------------- */

void req_window(Aspace__Window *w, uint64_t start, uint64_t len)
{
	aspace__window__init(w);
	w->has_start = w->has_length = true;
	w->start = start;
	w->length = len;
}

void req_run_trace(Aspace__Request *r, Aspace__RunTraceRequest *t,
    const char *text, Aspace__SessionCreateRequest *params)
{
	aspace__run_trace_request__init(t);
	t->has_text = true;
	t->text.data = (uint8_t *)text;
	t->text.len = strlen(text);
	t->params = params;
	req_op(r, NULL, 0, ASPACE__REQUEST__OP_RUN_TRACE, t);
}

Aspace__Response *rq_run_trace(struct client *c, uint8_t *id, int task,
    const char *text, Aspace__SessionCreateRequest *params)
{
	Aspace__Request r;
	Aspace__RunTraceRequest t;

	req_run_trace(&r, &t, text, params);
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_RUN_TRACE, &t);
}

Aspace__Response *rq_mmap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
    const char *file)
{
	Aspace__MmapRequest m = ASPACE__MMAP_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_prot = m.has_flags = true;
	m.addr = addr;
	m.length = len;
	m.prot = prot;
	m.flags = flags;
	m.file = (char *)file;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MMAP, &m);
}

Aspace__Response *rq_munmap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len)
{
	Aspace__MunmapRequest m = ASPACE__MUNMAP_REQUEST__INIT;

	m.has_addr = m.has_length = true;
	m.addr = addr;
	m.length = len;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MUNMAP, &m);
}

Aspace__Response *rq_mprotect(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, uint32_t prot)
{
	Aspace__MprotectRequest m = ASPACE__MPROTECT_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_prot = true;
	m.addr = addr;
	m.length = len;
	m.prot = prot;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MPROTECT, &m);
}

Aspace__Response *rq_madvise(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t len, int advice)
{
	Aspace__MadviseRequest m = ASPACE__MADVISE_REQUEST__INIT;

	m.has_addr = m.has_length = m.has_advice = true;
	m.addr = addr;
	m.length = len;
	m.advice = advice;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MADVISE, &m);
}

Aspace__Response *rq_mremap(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint64_t old_len, uint64_t new_len, uint32_t flags,
    uint64_t new_addr)
{
	Aspace__MremapRequest m = ASPACE__MREMAP_REQUEST__INIT;

	m.has_addr = m.has_old_length = m.has_new_length = true;
	m.addr = addr;
	m.old_length = old_len;
	m.new_length = new_len;
	m.has_flags = flags != 0;
	m.flags = flags;
	m.has_new_addr = (flags & 0x2) != 0;	/* MREMAP_FIXED */
	m.new_addr = new_addr;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MREMAP, &m);
}

Aspace__Response *rq_mlock(struct client *c, uint8_t *id, int task,
    bool lock, uint64_t addr, uint64_t len)
{
	Aspace__MlockRequest m = ASPACE__MLOCK_REQUEST__INIT;
	Aspace__MunlockRequest u = ASPACE__MUNLOCK_REQUEST__INIT;

	m.has_addr = m.has_length = u.has_addr = u.has_length = true;
	m.addr = u.addr = addr;
	m.length = u.length = len;
	return lock ? cl_op_in(c, id, task, ASPACE__REQUEST__OP_MLOCK, &m) :
	    cl_op_in(c, id, task, ASPACE__REQUEST__OP_MUNLOCK, &u);
}

Aspace__Response *rq_brk(struct client *c, uint8_t *id, int task, bool has,
    uint64_t addr)
{
	Aspace__BrkRequest m = ASPACE__BRK_REQUEST__INIT;

	m.has_addr = has;
	m.addr = addr;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_BRK, &m);
}

Aspace__Response *rq_read(struct client *c, uint8_t *id, int task,
    uint64_t addr, uint32_t len)
{
	Aspace__ReadBytesRequest m = ASPACE__READ_BYTES_REQUEST__INIT;

	m.has_addr = m.has_length = true;
	m.addr = addr;
	m.length = len;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_READ_BYTES, &m);
}

Aspace__Response *rq_write(struct client *c, uint8_t *id, int task,
    uint64_t addr, const void *data, size_t len)
{
	Aspace__WriteBytesRequest m = ASPACE__WRITE_BYTES_REQUEST__INIT;

	m.has_addr = m.has_data = true;
	m.addr = addr;
	m.data.data = (uint8_t *)data;
	m.data.len = len;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_WRITE_BYTES, &m);
}

Aspace__Response *rq_access(struct client *c, uint8_t *id, int task,
    uint64_t addr, Aspace__AccessKind kind, int value)
{
	Aspace__AccessRequest m = ASPACE__ACCESS_REQUEST__INIT;

	m.has_addr = m.has_kind = true;
	m.addr = addr;
	m.kind = kind;
	m.has_value = value >= 0;
	m.value = value >= 0 ? (uint32_t)value : 0;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_ACCESS, &m);
}

Aspace__Response *rq_simple(struct client *c, uint8_t *id, int task,
    Aspace__Request__OpCase opc)
{
	Aspace__ForkRequest empty = ASPACE__FORK_REQUEST__INIT;

	return cl_op_in(c, id, task, opc, &empty);
}

Aspace__Response *rq_exec(struct client *c, uint8_t *id, int task,
    const char *name)
{
	Aspace__ExecRequest m = ASPACE__EXEC_REQUEST__INIT;
	Aspace__Image im = ASPACE__IMAGE__INIT;

	im.name = (char *)name;
	m.image = name != NULL ? &im : NULL;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_EXEC, &m);
}

Aspace__Response *rq_maps(struct client *c, uint8_t *id, int task,
    uint64_t start, uint64_t len)
{
	Aspace__MapsRequest m = ASPACE__MAPS_REQUEST__INIT;
	Aspace__Window w;

	req_window(&w, start, len);
	m.window = len != 0 ? &w : NULL;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_MAPS, &m);
}

Aspace__Response *rq_smaps(struct client *c, uint8_t *id, int task,
    uint64_t start, uint64_t len)
{
	Aspace__SmapsRequest m = ASPACE__SMAPS_REQUEST__INIT;
	Aspace__Window w;

	req_window(&w, start, len);
	m.window = len != 0 ? &w : NULL;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_SMAPS, &m);
}

Aspace__Response *rq_walk(struct client *c, uint8_t *id, int task,
    uint64_t addr)
{
	Aspace__PageWalkRequest m = ASPACE__PAGE_WALK_REQUEST__INIT;

	m.has_addr = true;
	m.addr = addr;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_PAGE_WALK, &m);
}

Aspace__Response *rq_counters(struct client *c, uint8_t *id, int task,
    bool task_only)
{
	Aspace__CountersRequest m = ASPACE__COUNTERS_REQUEST__INIT;

	m.has_task_only = task_only;
	m.task_only = task_only;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_COUNTERS, &m);
}

Aspace__Response *rq_file(struct client *c, uint8_t *id, int task,
    const char *name, uint64_t size)
{
	Aspace__FileCreateRequest m = ASPACE__FILE_CREATE_REQUEST__INIT;

	m.name = (char *)name;
	m.has_size = true;
	m.size = size;
	return cl_op_in(c, id, task, ASPACE__REQUEST__OP_FILE_CREATE, &m);
}

int code_of(const Aspace__Response *r)
{
	return r == NULL ? -1 : r->status == NULL ? -2 : (int)r->status->code;
}

bool is_errno(const Aspace__Response *r, const char *name, int num)
{
	return code_of(r) == ASPACE__STATUS__CODE__ERRNO &&
	    r->status->errname != NULL &&
	    strcmp(r->status->errname, name) == 0 &&
	    r->status->has_errnum && r->status->errnum == num;
}

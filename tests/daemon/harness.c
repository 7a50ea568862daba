/*
 * harness.c: the daemon and the framed client the integration tests
 * share (harness.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

#define MAX_ARGS	32

/* --- the daemon ----------------------------------------------------------- */

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

int hdaemon_start(struct hdaemon *d, const char *path, const char *tag,
    const char *const *args)
{
	const char *argv[MAX_ARGS];
	int n = 0;

	d->pid = -1;
	snprintf(d->tmpdir, sizeof(d->tmpdir), "/tmp/aspaced-%s.XXXXXX", tag);
	if (mkdtemp(d->tmpdir) == NULL)
		return -1;
	snprintf(d->sock, sizeof(d->sock), "%s/sock", d->tmpdir);
	argv[n++] = path;
	argv[n++] = "-s";
	argv[n++] = d->sock;
	argv[n++] = "-f";
	while (args != NULL && *args != NULL && n < MAX_ARGS - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	if ((d->pid = fork()) == 0) {
		execv(path, (char *const *)argv);
		_exit(127);
	}
	if (d->pid > 0 && wait_ready(d->sock))
		return 0;
	hdaemon_stop(d);
	return -1;
}

int hdaemon_stop(struct hdaemon *d)
{
	int st = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, &st, 0);
		d->pid = -1;
	}
	unlink(d->sock);
	rmdir(d->tmpdir);
	/* A clean exit: no sanitizer report, no crash. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* --- the client ----------------------------------------------------------- */

int hconnect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

bool cl_connect(struct client *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	frame_arena_init(&c->a, FRAME_RESPONSE_BUDGET(HARNESS_RESP_CAP));
	c->next_id = 1;
	return (c->fd = hconnect_unix(path)) >= 0;
}

void cl_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	frame_arena_free(&c->a);
}

bool cl_send(struct client *c, Aspace__Request *r, uint64_t *id)
{
	size_t size;
	uint8_t *buf;
	bool ok;

	r->has_id = true;
	r->id = c->next_id++;
	if (id != NULL)
		*id = r->id;
	size = frame_encoded_size(&r->base);
	buf = malloc(size);
	ok = buf != NULL && frame_encode(&r->base, 0, buf, size) ==
	    (long)size && write_all(c->fd, buf, size);
	free(buf);
	return ok;
}

Aspace__Response *cl_recv(struct client *c)
{
	uint8_t hdr[FRAME_HEADER_SIZE], *body;
	struct frame_header h;
	Aspace__Response *resp = NULL;

	frame_arena_reset(&c->a);
	if (!read_all(c->fd, hdr, sizeof(hdr)) ||
	    frame_parse_header(hdr, sizeof(hdr), HARNESS_RESP_CAP, &h) != 0)
		return NULL;
	if ((body = malloc(h.length + 1)) == NULL)
		return NULL;
	if (h.length == 0 || read_all(c->fd, body, h.length))
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
	aspace__request__init(r);
	r->op_case = opc;
	r->hello = msg;		/* the op union: every member a pointer */
	r->has_session = true;
	r->session.data = c->sid;
	r->session.len = sizeof(c->sid);
	if (task > 0) {
		r->has_task = true;
		r->task = task;
	}
}

Aspace__Response *cl_op(struct client *c, int task,
    Aspace__Request__OpCase opc, void *msg)
{
	Aspace__Request r;

	cl_request(c, &r, task, opc, msg);
	return cl_call(c, &r);
}

bool cl_hello(struct client *c)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__HelloRequest h = ASPACE__HELLO_REQUEST__INIT;

	h.has_version = true;
	h.version = ASPACE_PROTOCOL_VERSION;
	r.op_case = ASPACE__REQUEST__OP_HELLO;
	r.hello = &h;
	return code_of(cl_call(c, &r)) == ASPACE__STATUS__CODE__OK;
}

bool cl_session_new(struct client *c, uint64_t ram_bytes)
{
	Aspace__Request r = ASPACE__REQUEST__INIT;
	Aspace__SessionCreateRequest s = ASPACE__SESSION_CREATE_REQUEST__INIT;
	Aspace__Response *resp;

	s.has_ram_bytes = ram_bytes != 0;
	s.ram_bytes = ram_bytes;
	r.op_case = ASPACE__REQUEST__OP_SESSION_CREATE;
	r.session_create = &s;
	resp = cl_call(c, &r);
	if (code_of(resp) != ASPACE__STATUS__CODE__OK ||
	    resp->session_create == NULL ||
	    resp->session_create->session.len != sizeof(c->sid))
		return false;
	memcpy(c->sid, resp->session_create->session.data, sizeof(c->sid));
	return true;
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

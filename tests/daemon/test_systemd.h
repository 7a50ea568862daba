/*
 * test_systemd.h: what test_systemd.c's tests share with their helpers
 * in test_systemd-util.c: the daemon as systemd would run it (its
 * notifications kept as they come), the temporary directory, and the
 * helpers for files, sockets, the daemon's life and its clients.
 */
#ifndef ASPACE_TEST_SYSTEMD_H
#define ASPACE_TEST_SYSTEMD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "aspace-client.h"
#include "run-cmd.h"

#define BOB_TOKEN	"bob-0123456789-secret"
#define CAROL_TOKEN	"carol-0123456789-secret"
#define MSG_MAX		1024		/* notifications kept */
#define OUT_MAX		(1u << 20)

struct msg {
	char		 text[512];
	uint64_t	 t;		/* received, now_usec() */
};

struct daemon {
	pid_t		 pid;
	int		 notify;	/* our end of $NOTIFY_SOCKET */
	FILE		*out;		/* its stdout */
	char		 unix_path[160];
	int		 port;		/* its TLS port */
	char		 url[64];	/* tls://127.0.0.1:PORT */
	struct msg	*msgs;
	int		 nmsgs, cursor;
};

extern const char *daemon_path;		/* aspaced */
extern const char *client_path;		/* aspace */
extern char tmpdir[64];
extern const char small_trace[];

char *tmp_file(const char *name);
uint64_t now_usec(void);
void sleep_ms(unsigned int ms);
bool write_file(const char *path, const char *text);
void install(const char *from, const char *to);
int bind_unix(const char *path);
int bind_tcp(int *port);
int try_unix(const char *path);
int try_tcp(int port);
void spawn(struct daemon *d, const char *const *args,
    const char *const *env, const char *notify_name, const int *pass,
    int npass);
void read_listening(struct daemon *d, int nlines);
const char *msg_get(const struct msg *m, const char *key);
struct msg *notify_expect(struct daemon *d, const char *key,
    const char *value, int timeout_ms);
int wait_exit(struct daemon *d);
int stop(struct daemon *d);
void daemon_free(struct daemon *d);
int prepare(void **state);
int reap(void **state);
void expect_ready(struct daemon *d);
struct asc_client *connect_hello(const char *url, const char *ca,
    const char *token);
char *cert_tenant(const char *url, const char *name);
const char *const *own_args(const char *extra1, const char *extra2);
int setup(void **state);
int teardown(void **state);

#endif /* ASPACE_TEST_SYSTEMD_H */

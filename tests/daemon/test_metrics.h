/*
 * test_metrics.h: what the pieces of test_metrics share (the tests:
 * test_metrics.c's top comment): a scrape's samples, and the HTTP
 * requests and the exposition's parser and checks in
 * test_metrics-expo.c.
 */
#ifndef ASPACE_TEST_METRICS_H
#define ASPACE_TEST_METRICS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ssl.h>

#include "frame.h"
#include "harness.h"

#define RESP_CAP	(1u << 20)
#define BOB_TOKEN	"bob-0123456789-secret"
#define MAX_SAMPLES	1024
#define HTTP_MAX	(1u << 20)
#define PAGE		4096ul
#define SESSION_RAM	(16ul << 20)
#define MAX_CONNS	4
#define HTTP_CONNS	8	/* METRICS_HTTP_CONNS */
#define ABUSE_BURST	10	/* LOG_ABUSE_BURST */

struct sample {
	char		 key[200];	/* name{labels} as printed */
	double		 v;
};

struct expo {
	struct sample	 s[MAX_SAMPLES];
	int		 n;
};

#define D(a, b, key)	(val(b, key) - val(a, key))

/* test_metrics.c */
extern int metrics_port;

/* test_metrics-expo.c: HTTP to the metrics port, the exposition */
/* GET and the like to the metrics port: the bytes read into out, or -1. */
long http(const char *req, char *out, size_t size);
int http_status(const char *resp);
const char *http_body(const char *resp);
double val(const struct expo *e, const char *key);
double req(const struct expo *e, const char *op, const char *status);
double sum(const struct expo *e, const char *prefix,
    const char *suffix);
/* GET /metrics: 200, the format's content type, a well-formed body. */
void scrape(struct expo *e);
/* Scrape until the connections gauge is n. */
void wait_connections(struct expo *e, double n);

#endif /* ASPACE_TEST_METRICS_H */

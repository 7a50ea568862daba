/*
 * test_daemon_ops.h: what the pieces of test_daemon_ops share (the test:
 * test_daemon_ops.c's top comment): the helpers of test_daemon_ops.c and
 * the tests test_daemon_ops-report.c and test_daemon_ops-shm.c hold.
 */
#ifndef ASPACE_TEST_DAEMON_OPS_H
#define ASPACE_TEST_DAEMON_OPS_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fault.h"
#include "frame.h"
#include "harness.h"
#include "mm.h"
#include "pgtable.h"
#include "session.h"
#include "trace.h"

#define BASE		0x200000000000UL
#define PROT_RW		0x3
#define MAP_PA		0x22		/* MAP_PRIVATE | MAP_ANONYMOUS */
#define MAP_PAF		0x32		/* ... | MAP_FIXED */

/* test_daemon_ops.c */
/* Connect, hello and a fresh session with default parameters. */
void cl_open(struct client *c);
int do_clone(struct client *c, int task, Aspace__Request__OpCase opc);
Aspace__ProcStatusResult *status_of(struct client *c, int task);

/* test_daemon_ops-report.c */
void test_proc_status(void **state);
void test_page_walk(void **state);
void test_counters(void **state);
void test_file_create(void **state);
void check_ok(struct client *c, uint32_t mms, uint32_t tasks);
void test_check(void **state);

/* test_daemon_ops-shm.c */
void test_msync(void **state);
void test_shm(void **state);

#endif /* ASPACE_TEST_DAEMON_OPS_H */

/*
 * test_checkpoint.h: what the pieces of test_checkpoint share (the tests:
 * test_checkpoint.c's top comment): its helpers for sessions, saving and
 * frames, and the tests test_checkpoint-corrupt.c holds.
 */
#ifndef ASPACE_TEST_CHECKPOINT_H
#define ASPACE_TEST_CHECKPOINT_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "checkpoint.h"
#include "fault.h"
#include "mm.h"
#include "pgtable.h"
#include "trace.h"

#define OUT_MAX		(64UL << 20)
#define TEXT_MAX	(1UL << 20)
#define MAX_CUTS	8	/* cut points of a long trace */

/* test_checkpoint.c */
/* Save s into ck, which must work. */
void save_ok(struct as_session *s, struct as_buf *ck);
struct as_session *session(const struct as_session_params *p);
char *read_text(const char *path, size_t *lenp);
unsigned long frame_at(struct mm *mm, unsigned long addr);

/* test_checkpoint-corrupt.c: loads that must be refused */
void test_corruption(void **state);
void test_not_a_checkpoint(void **state);
void test_inconsistent(void **state);
void test_bad_kernel_bytes(void **state);

#endif /* ASPACE_TEST_CHECKPOINT_H */

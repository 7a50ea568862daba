/*
 * fuzz_checkpoint.c: libFuzzer target for the checkpoint loader,
 * as_session_load() (lib/checkpoint.c).
 *
 * Each input is loaded twice: as it is, and with the header's length and
 * checksum made to match it (as_checkpoint_reseal()), since a mutation
 * would hardly ever keep the checksum right and the section parsers and
 * cross-checks behind it are what needs fuzzing.  Sessions of over 1 GiB
 * of RAM are skipped (as_checkpoint_ram()): the loader may use memory in
 * proportion, as a running session would.  A refused load must say why,
 * with -EBADMSG, -EINVAL or -ENOMEM, and hand out no session.  A session
 * that loads must pass mm_validate() for every task's mm, run a short
 * trace (checked after every line in debug builds), and save; its
 * checkpoint must load and save again to the same bytes.  Everything is
 * freed before returning, so leaks show up under LeakSanitizer.  A failed
 * check abort()s, which the fuzzer reports as a crash.
 *
 * Seeds: tests/fuzz/checkpoint-corpus, real checkpoints made by
 * tests/fuzz/make-checkpoint-corpus.  Without libFuzzer, replay.c supplies
 * main() and runs files through LLVMFuzzerTestOneInput().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "mm.h"
#include "trace.h"

#define OUT_MAX		(1UL << 20)
#define CKPT_MAX	(256UL << 20)
#define RAM_MAX		(1UL << 30)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_checkpoint: check failed: %s\n", what);
		abort();
	}
}

/* Save s into b (emptied first); 0 or the error. */
static int save(struct as_session *s, struct as_buf *b)
{
	as_buf_reset(b);
	return as_session_save(s, b);
}

/* A loaded session: valid, usable, and stable through save and load. */
static void exercise(struct as_session *s)
{
	static const char text[] =
	    "mmap 0x200000000000 16K rw- private,anon,fixed\n"
	    "write 0x200000001000 7\nfork\nwrite 0x200000001000 8\n"
	    "switch 1\nread 0x200000001000\nmaps\n";
	struct as_session *s2;
	struct as_buf out, a, b;
	struct task *t;
	char why[256];

	for (t = s->tasks; t != NULL; t = t->next)
		check(mm_validate(t->mm) == NULL, "mm_validate after load");
	as_buf_init(&a, CKPT_MAX);
	as_buf_init(&b, CKPT_MAX);
	check(save(s, &a) == 0, "save of a loaded session");
	check(as_session_load(a.data, a.len, &s2, why, sizeof(why)) == 0,
	    "load of a saved session");
	check(save(s2, &b) == 0 && a.len == b.len &&
	    memcmp(a.data, b.data, a.len) == 0, "save, load, save");
	as_session_free(s2);
	as_buf_init(&out, OUT_MAX);
	if (as_task_lookup(s, 1) != NULL)
		(void)as_trace_run(s, text, sizeof(text) - 1, &out);
	check(save(s, &a) == 0, "save after a trace");
	as_buf_free(&out);
	as_buf_free(&a);
	as_buf_free(&b);
	as_session_free(s);
}

static void load(const uint8_t *data, size_t size)
{
	struct as_session *s = (struct as_session *)&s;
	unsigned long ram;
	char why[256];
	int err;

	/* The loader's memory grows with the RAM: stay under the fuzzer's
	 * limit, as the daemon stays under its own. */
	if (as_checkpoint_ram(data, size, &ram) == 0 && ram > RAM_MAX)
		return;
	err = as_session_load(data, size, &s, why, sizeof(why));

	if (err == 0) {
		check(s != NULL, "a session on success");
		exercise(s);
		return;
	}
	check(s == NULL, "no session on error");
	check(err == -EBADMSG || err == -EINVAL || err == -ENOMEM,
	    "a documented error");
	check(why[0] != '\0', "a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	load(data, size);
	if (size < AS_CKPT_HEADER_SIZE || (copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	as_checkpoint_reseal(copy, size);
	load(copy, size);
	free(copy);
	return 0;
}

/*
 * make-checkpoint-corpus.c: the seeds of fuzz_checkpoint, real checkpoints.
 *
 * Usage: make-checkpoint-corpus OUTDIR [-l LINES] TRACE...
 * Runs each trace in a fresh session with 4 MiB of RAM (small seeds),
 * only its first LINES lines after -l (so that a seed may catch a state
 * in the middle, a parent blocked in vfork say), and writes the
 * checkpoint to OUTDIR/NAME.ckpt, NAME being the trace's file name
 * without its directory and ".trace" (with "-LINES" after -l).  Not part
 * of `make check`: `make tests/fuzz/make-checkpoint-corpus` builds it,
 * and the corpus must be made again when the format changes:
 *
 *   T=tests/linux-diff/traces; E=docs/examples
 *   make-checkpoint-corpus tests/fuzz/checkpoint-corpus \
 *       $T/fork-cow-private-anon.trace $T/mmap-file-shared.trace \
 *       $T/thread-shares-mm.trace $T/multi-task-mix-2.trace \
 *       $T/mremap-dontunmap.trace tests/fuzz/checkpoint-kernel.trace \
 *       $E/20-sysv-shm.trace $T/swap-fork.trace \
 *       $E/23-memory-pressure.trace $T/madvise-remove-file.trace \
 *       $T/swap-shmem-fork.trace tests/fuzz/checkpoint-shared-tables.trace \
 *       $T/file-written-back-page-leaves-cache-on-pageout.trace \
 *       -l 36 $E/14-vfork-exec.trace
 *
 * (checkpoint-kernel.trace sets kernel parameters and maps one file
 * twice, so that the seeds hold struct files shared and not shared;
 * 20-sysv-shm.trace leaves System V segments attached and removed;
 * swap-fork.trace leaves swap entries and swap-cache pages;
 * 23-memory-pressure.trace a small RAM (`kernel ram`) after reclaim, with
 * pages on all four LRU lists; checkpoint-shared-tables.trace PTE
 * tables fork shared by three mms;
 * file-written-back-page-leaves-cache-on-pageout.trace pages msync wrote
 * to the disk, with other bytes than `file` wrote.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "trace.h"

#define TEXT_MAX	(1UL << 20)

/* The first nlines lines of text (all when 0): their length. */
static size_t first_lines(const char *text, size_t len, long nlines)
{
	size_t i;

	for (i = 0; i < len && nlines > 0; i++)
		if (text[i] == '\n' && --nlines == 0)
			return i + 1;
	return len;
}

static int make_one(const char *outdir, const char *path, long nlines)
{
	static char text[TEXT_MAX];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct as_session_params p;
	struct as_session *s;
	struct as_buf out, ck;
	char name[4096];
	size_t len;
	FILE *f;
	int ok, n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	as_session_params_default(&p);
	p.ram_bytes = 4UL << 20;
	if ((s = as_session_new(&p)) == NULL)
		return -1;
	as_buf_init(&out, 1UL << 24);
	as_buf_init(&ck, 1UL << 26);
	as_trace_run(s, text, first_lines(text, len, nlines), &out);
	ok = as_session_save(s, &ck) == 0;
	n = snprintf(name, sizeof(name), "%s/%.*s", outdir,
	    (int)(strlen(base) - (strstr(base, ".trace") ? 6 : 0)), base);
	if (nlines > 0 && n > 0 && (size_t)n < sizeof(name))
		n += snprintf(name + n, sizeof(name) - (size_t)n, "-%ld",
		    nlines);
	if (n > 0 && (size_t)n < sizeof(name))
		snprintf(name + n, sizeof(name) - (size_t)n, ".ckpt");
	if (ok && (f = fopen(name, "wb")) != NULL) {
		ok = fwrite(ck.data, 1, ck.len, f) == ck.len;
		ok &= fclose(f) == 0;
	} else
		ok = 0;
	as_buf_free(&out);
	as_buf_free(&ck);
	as_session_free(s);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	long nlines = 0;
	int i, bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: make-checkpoint-corpus OUTDIR "
		    "[-l LINES] TRACE...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
			nlines = strtol(argv[++i], NULL, 10);
			continue;
		}
		if (make_one(argv[1], argv[i], nlines) != 0) {
			fprintf(stderr, "make-checkpoint-corpus: %s failed\n",
			    argv[i]);
			bad = 1;
		}
	}
	return bad;
}

/*
 * gen-trace.c: random trace generator for the Linux differential test.
 * `gen-trace [-a] [-t] [-z] [-l] [-m] [-s] [-p] [-w] SEED [NCMDS]` prints a trace that is a
 * pure function of its arguments: a window, a few files, then NCMDS
 * (default 40)
 * memory commands whose addresses cluster in a small region at the
 * window's start, so that VMAs really merge, split and collide, with a
 * `maps` every few commands and always last.  With -a, read, write and
 * touch are mixed in too (they fault pages in, which changes what merges),
 * files are rewritten now and then, and the dumps are often `smaps`.
 * With -t, fork, thread, switch and exit are mixed in as well (one task
 * always stays alive).  With -z the trace begins `kernel zero_page off`
 * (a kernel without the zero page: run-diff.sh compares those live only
 * on such a host).  With -l a trace now and then begins with a finite
 * `kernel rlimit_memlock SIZE`, so that mlock and MAP_LOCKED fail as for
 * a process that is not root.  With -m, msync is mixed in (mostly `sync`,
 * so that with -a it writes back pages that shared writes dirtied, which
 * the next smaps shows clean).
 *
 * With -s, System V shared memory is mixed in: shmget of a few segments
 * (4K to 64K, each NAME used once), shmat at explicit addresses in the
 * window (adjacent to a recent mapping, overlapping one with or without
 * `remap`, in a free place; now and then `rdonly`, `exec`, or an
 * unaligned address with or without `rnd`), reads and writes in
 * attachments, shmdt (of attachments, their insides, unaligned or random
 * addresses), shmrm (sometimes while attached, then the detaches) and
 * partial munmap and mprotect of attachments.  -s also adds short
 * sequences where these commands meet the others: a write then a fork
 * with reads and writes from both tasks, pageout (or cold, free) then
 * fork, pageout then accesses of the same pages (those two only on
 * attachments, unless -p), and shared writes then `msync sync` and an
 * smaps.  A fixed move by mremap of the same length that may meet an
 * attachment is one page (see gen_mremap() in client/gen-cmds.c).  With
 * -p (and -s) the pageout sequences aim at any recent mapping too, and
 * pageout, cold and free come in them even with several tasks alive
 * (without -p, only cold and populate_* then).  (A page another task
 * faulted in may still sit in that CPU's LRU batch, which pageout cannot
 * isolate, so the host keeps it now and then: ref-run runs every task on
 * one CPU, where that never happens.)
 *
 * With -w the trace begins with `kernel swap SIZE` (48K to 1M: small
 * devices fill, so vm_swap_full() and running out of slots come into
 * play) and a swap cluster is mixed in: a fixed private anonymous mapping
 * is written here and there, paged out whole or in part, perhaps forked
 * (the swap entries then shared), and read and written again from the
 * tasks, each access a major fault or a swap-cache hit as do_swap_page()
 * decides; the ordinary madvise commands page out too.  Half the swap
 * clusters are of shmem instead: pages of a shared anonymous mapping or
 * an attachment (now and then a private mapping) written, paged out, then
 * read back or written, a hole punched with remove, a fork with accesses
 * from both tasks, or the mapping dropped (munmap, shmdt, shmrm).
 *
 * File mappings often go right next to an earlier fixed mapping of the
 * same file, below or above it, with the file offsets continuing its own
 * and the same protection and flags: two mmap lines are two open files
 * (struct file), so Linux never merges them, while pieces of one mapping
 * do merge back (see ref/ref-main.c).
 *
 * Every address stays inside the window.  A non-fixed mmap or a mremap
 * that may move can still be placed outside it by Linux; run-diff.sh cuts
 * the trace before such a line.
 *
 * The generator itself is client/gen-*.c, shared with `aspace gen`; this
 * is its command line, whose output for given arguments never changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* The header line that names the arguments, as gen-trace always has. */
static void put_header(const struct gen_opts *o, unsigned long seed,
		       unsigned long ncmds)
{
	printf("# gen-trace %s%s%s%s%s%s%s%s%lu %lu\n", o->accesses ? "-a " : "",
	    o->tasks ? "-t " : "", o->nozp ? "-z " : "",
	    o->memlock ? "-l " : "", o->msync ? "-m " : "",
	    o->shm ? "-s " : "", o->pageout ? "-p " : "",
	    o->swap ? "-w " : "", seed, ncmds);
}

/* One option word into *o; 0 if it is none of them. */
static int set_flag(struct gen_opts *o, const char *arg)
{
	static const char flags[] = "atzlmspw";
	int *const field[] = { &o->accesses, &o->tasks, &o->nozp,
			       &o->memlock, &o->msync, &o->shm, &o->pageout,
			       &o->swap };
	const char *p;

	if (arg[0] != '-' || arg[1] == '\0' || arg[2] != '\0' ||
	    (p = strchr(flags, arg[1])) == NULL)
		return 0;
	*field[p - flags] = 1;
	return 1;
}

int main(int argc, char **argv)
{
	struct gen_opts o = { .kinds = GEN_ALL_KINDS };
	unsigned long seed, ncmds = 40;
	char *end;

	for (; argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0'; argc--,
	    argv++)
		if (!set_flag(&o, argv[1]))
			argc = 0;	/* unknown option */
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen-trace [-a] [-t] [-z] [-l] [-m] [-s] [-p] [-w] SEED [NCMDS]\n");
		return 2;
	}
	seed = strtoul(argv[1], &end, 0);
	if (*end || (argc == 3 && (ncmds = strtoul(argv[2], &end, 0), *end))) {
		fprintf(stderr, "gen-trace: bad number\n");
		return 2;
	}
	put_header(&o, seed, ncmds);
	gen_trace(seed, ncmds, &o);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * gen.h: the random trace generator, shared by `aspace gen` (an exercise
 * for a student) and tests/linux-diff/gen-trace (run-diff.sh's traces).
 * A trace is a pure function of the seed, the number of commands and
 * these options; it is printed on stdout.
 */
#ifndef ASPACE_GEN_H
#define ASPACE_GEN_H

/* The kinds of command the generator chooses among (--kinds). */
enum gen_kind {
	GEN_MMAP, GEN_MUNMAP, GEN_MPROTECT, GEN_MREMAP, GEN_MADVISE,
	GEN_MLOCK, GEN_ACCESS, GEN_FILE, GEN_FORK, GEN_MSYNC, GEN_SHM,
	GEN_SWAP, GEN_NKINDS
};
#define GEN_ALL_KINDS	((1u << GEN_NKINDS) - 1)

struct gen_opts {
	int accesses;	/* -a: read, write, touch, file rewrites, smaps */
	int tasks;	/* -t: fork, thread, switch, exit */
	int nozp;	/* -z: kernel zero_page off */
	int memlock;	/* -l: now and then a finite rlimit_memlock */
	int msync;	/* -m: msync */
	int shm;	/* -s: System V shared memory and its clusters */
	int pageout;	/* -p: page advices then accesses anywhere */
	int swap;	/* -w: kernel swap SIZE and the swap clusters */
	unsigned kinds;	/* 1 << enum gen_kind: the commands allowed */
};

/* Print the trace (after whatever header the caller printed). */
void gen_trace(unsigned long seed, unsigned long ncmds,
	       const struct gen_opts *o);

/* The name of a kind ("mmap"), NULL past the last (gen-cli.c). */
const char *gen_kind_name(unsigned kind);

/*
 * Parse a comma-separated list of kind names into o->kinds and set the
 * modes they need in *o afresh (gen-cli.c).  0, or -1 with *bad the
 * first unknown word (static storage).
 */
int gen_kinds_parse(const char *list, struct gen_opts *o, const char **bad);

#endif

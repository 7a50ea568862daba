/*
 * replay.c: main() for the fuzz target when it is not linked with libFuzzer.
 *
 * Usage: fuzz_trace PATH...
 * Runs LLVMFuzzerTestOneInput() over every file named, and over every
 * regular file directly inside each directory named (sorted by name, so
 * runs are reproducible).  Prints one line per input to stderr with -v.
 * Exit status: 0 when every input ran, 1 when a file could not be read,
 * 2 on a usage error.  A crash in the target ends the process as it would
 * under the fuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose;

/* Read all of path into a malloc'd buffer (NULL on error). */
static uint8_t *read_file(const char *path, size_t *sizep)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	int err = 0;

	if (f == NULL)
		return NULL;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				err = 1;
				break;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (err || ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*sizep = len;
	return buf;
}

/* Run one file; 0 on success, -1 if it could not be read. */
static int run_file(const char *path)
{
	size_t size = 0;
	uint8_t *data = read_file(path, &size);

	if (data == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the names in dir into a sorted array; returns the count or -1. */
static int list_dir(const char *dir, char ***namesp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **nn;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(e->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), by_name);
	*namesp = names;
	return n;
}

/* Run every regular file in dir; returns the number that failed. */
static int run_dir(const char *dir)
{
	char **names = NULL, path[4096];
	struct stat st;
	int n = list_dir(dir, &names), i, bad = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path) != 0)
			bad++;
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, bad = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: fuzz_trace [-v] FILE|DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			bad += run_dir(argv[i]);
		else if (run_file(argv[i]) != 0)
			bad++;
	}
	return bad ? 1 : 0;
}

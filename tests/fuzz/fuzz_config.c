/*
 * fuzz_config.c: libFuzzer target for aspaced's configuration parser
 * (daemon/conf.c).
 *
 * The input is read as an aspaced.conf named "fuzz.conf".  Beyond the
 * sanitizers it checks what aspaced -T and the error messages promise:
 * an error names the file and a line the input has; a configuration
 * that reads prints (conf_print()) to text that reads again, without
 * error, to the same text.  A failed check abort()s, which the fuzzer
 * reports as a crash.
 *
 * Without libFuzzer, replay.c supplies main() and runs files through
 * LLVMFuzzerTestOneInput().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define NAME	"fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *detail)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: check failed: %s: %s\n", what,
		    detail);
		abort();
	}
}

/* Lines in data, the last one even without its newline. */
static long count_lines(const uint8_t *data, size_t size)
{
	long n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size > 0 && data[size - 1] != '\n');
}

/* An error names fuzz.conf and one of its lines, or is about a default
 * (the environment's directories) or the whole file's size. */
static void check_error(const struct conf *c, const uint8_t *data,
    size_t size)
{
	const char *e = c->err;
	char *end;
	long line;

	if (strstr(e, "(default)") != NULL)
		return;
	check(strncmp(e, NAME ":", strlen(NAME ":")) == 0, "error names "
	    "the file", e);
	if (size > CONF_FILE_MAX)
		return;
	line = strtol(e + strlen(NAME ":"), &end, 10);
	check(*end == ':' && line >= 1 && line <= count_lines(data, size),
	    "error names a line of the file", e);
}

/* c printed into a malloc'd string. */
static char *print(const struct conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	check(f != NULL, "open_memstream", "");
	conf_print(c, f);
	check(fclose(f) == 0, "fclose", "");
	return buf;
}

/* The printed configuration reads again to the same text. */
static void check_round_trip(const char *text, size_t len)
{
	struct conf c;
	char *again;
	size_t len2;

	conf_init(&c);
	check(conf_parse_buffer(&c, NAME, text, len) == 0, "-T output reads",
	    c.err);
	check(conf_finish(&c) == 0, "-T output checks", c.err);
	again = print(&c, &len2);
	check(len2 == len && memcmp(again, text, len) == 0,
	    "-T output reads to the same", again);
	free(again);
	conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char *text;
	size_t len;

	conf_init(&c);
	if (conf_parse_buffer(&c, NAME, (const char *)data, size) != 0 ||
	    conf_finish(&c) != 0) {
		check_error(&c, data, size);
		conf_free(&c);
		return 0;
	}
	text = print(&c, &len);
	check_round_trip(text, len);
	free(text);
	conf_free(&c);
	return 0;
}

/*
 * fuzz_trace.c: libFuzzer target running its input as a trace-v1 text.
 *
 * Each input gets a fresh session (default limits but RAM_BYTES of RAM:
 * with the default 1 GiB a single `file` or `mlock` line fills a gigabyte
 * of frames, seconds under the sanitizers) and an output buffer capped at
 * OUT_MAX bytes; everything is freed before returning, so leaks show up
 * under LeakSanitizer.  Built with --enable-debug (ASPACE_DEBUG)
 * the trace runner calls mm_validate() after every line and aborts on an
 * inconsistent mm, which the fuzzer reports as a crash.
 *
 * An input whose first line is "# max_map_count N" (1 <= N <= 65530) runs
 * with that limit instead, so that the map-count paths can be reached with
 * short inputs.  The line is a comment to the trace parser.
 *
 * Without libFuzzer, replay.c supplies main() and runs files through
 * LLVMFuzzerTestOneInput().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "session.h"
#include "trace.h"

#define OUT_MAX		(1UL << 20)
#define RAM_BYTES	(16UL << 20)
#define MMC_PREFIX	"# max_map_count "

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The N of a leading "# max_map_count N" line, or 0 if there is none. */
static int leading_max_map_count(const char *text, size_t len)
{
	size_t plen = strlen(MMC_PREFIX), i;
	long n = 0;

	if (len <= plen || memcmp(text, MMC_PREFIX, plen) != 0)
		return 0;
	for (i = plen; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
		n = n * 10 + (text[i] - '0');
		if (n > AS_DEFAULT_MAX_MAP_COUNT)
			return 0;
	}
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct as_session_params p;
	struct as_session *s;
	struct as_buf out;

	as_session_params_default(&p);
	p.ram_bytes = RAM_BYTES;
	p.kparam[KP_MAX_MAP_COUNT] = (unsigned long)leading_max_map_count(text,
	    size);
	if (p.kparam[KP_MAX_MAP_COUNT] == 0)
		p.kparam[KP_MAX_MAP_COUNT] = AS_DEFAULT_MAX_MAP_COUNT;
	if ((s = as_session_new(&p)) == NULL)
		return 0;
	as_buf_init(&out, OUT_MAX);
	(void)as_trace_run(s, text, size, &out);
	as_buf_free(&out);
	as_session_free(s);
	return 0;
}

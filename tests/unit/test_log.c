/*
 * test_log.c: daemon/log.c.  Each test points fd 2 at a pipe and reads
 * back what was written: the journal's "<N>" prefixes and plain
 * "aspaced: " lines, the level filter, control bytes made '?', a long
 * message cut; $JOURNAL_STREAM matched against stderr's device and inode
 * (and the auto target following it); the names of levels and targets;
 * the rate limiter at given times (burst, window, the suppressed count
 * reported once, a busy limiter suppressing); and log_abuse() letting
 * LOG_ABUSE_BURST messages of a kind through.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static int saved_stderr = -1;
static int pipe_rd = -1;

/* fd 2 into a fresh non-blocking pipe. */
static int capture(void **state)
{
	int p[2];

	(void)state;
	if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0)
		return -1;
	saved_stderr = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	pipe_rd = p[0];
	unsetenv("JOURNAL_STREAM");
	return 0;
}

static int restore(void **state)
{
	(void)state;
	dup2(saved_stderr, 2);
	close(saved_stderr);
	close(pipe_rd);
	return 0;
}

/* What was written since the last call (NUL-terminated, static). */
static const char *captured(void)
{
	static char buf[8192];
	ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("warning"), LOG_WARNING);
	assert_int_equal(log_level_parse("notice"), LOG_NOTICE);
	assert_int_equal(log_level_parse("info"), LOG_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("warn"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_int_equal(log_target_parse("auto"), LOG_TARGET_AUTO);
	assert_int_equal(log_target_parse("stderr"), LOG_TARGET_STDERR);
	assert_int_equal(log_target_parse("syslog"), LOG_TARGET_SYSLOG);
	assert_int_equal(log_target_parse("journal"), LOG_TARGET_JOURNAL);
	assert_int_equal(log_target_parse("file"), -1);
}

static void test_journal_lines(void **state)
{
	(void)state;
	log_init(LOG_TARGET_JOURNAL, LOG_INFO);
	log_msg(LOG_WARNING, "disk %s", "full");
	assert_string_equal(captured(), "<4>disk full\n");
	log_msg(LOG_ERR, "a\nb\x7f" "c");
	log_msg(LOG_INFO, "i");
	log_msg(LOG_DEBUG, "not written");
	assert_string_equal(captured(), "<3>a?b?c\n<6>i\n");
	log_set_level(LOG_DEBUG);
	log_msg(LOG_DEBUG, "now written");
	assert_string_equal(captured(), "<7>now written\n");
	log_set_level(LOG_ERR);
	log_msg(LOG_WARNING, "filtered");
	assert_false(log_enabled(LOG_WARNING));
	assert_true(log_enabled(LOG_ERR));
	assert_string_equal(captured(), "");
}

static void test_stderr_lines(void **state)
{
	char big[3 * LOG_LINE_MAX];
	const char *got;

	(void)state;
	log_init(LOG_TARGET_STDERR, LOG_NOTICE);
	log_msg(LOG_NOTICE, "cannot listen on %s", "/x");
	log_msg(LOG_INFO, "filtered");
	assert_string_equal(captured(), "aspaced: cannot listen on /x\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(LOG_ERR, "%s", big);
	got = captured();
	assert_int_equal(strlen(got), strlen("aspaced: ") + LOG_LINE_MAX);
	assert_memory_equal(got + strlen(got) - 5, "x...\n", 5);
}

static void test_journal_stream(void **state)
{
	struct stat st;
	char v[64];

	(void)state;
	assert_int_equal(fstat(2, &st), 0);
	assert_false(log_is_journal_stream(2));
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_true(log_is_journal_stream(2));
	log_init(LOG_TARGET_AUTO, LOG_INFO);
	log_msg(LOG_NOTICE, "to the journal");
	assert_string_equal(captured(), "<5>to the journal\n");
	/* Another stream (a child's stderr redirected elsewhere). */
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(log_is_journal_stream(2));
	log_init(LOG_TARGET_AUTO, LOG_INFO);
	log_msg(LOG_NOTICE, "plain");
	assert_string_equal(captured(), "aspaced: plain\n");
	setenv("JOURNAL_STREAM", "12:", 1);
	assert_false(log_is_journal_stream(2));
	setenv("JOURNAL_STREAM", "1:2:3", 1);
	assert_false(log_is_journal_stream(2));
	unsetenv("JOURNAL_STREAM");
}

static void test_ratelimit(void **state)
{
	struct ratelimit rs;
	unsigned long missed;
	int i;

	(void)state;
	ratelimit_init(&rs, 1000, 3);
	for (i = 0; i < 3; i++) {
		assert_true(ratelimit_check(&rs, 100 + (uint64_t)i, &missed));
		assert_int_equal(missed, 0);
	}
	assert_false(ratelimit_check(&rs, 200, &missed));
	assert_false(ratelimit_check(&rs, 1099, &missed));
	/* Busy (another thread in it): suppressed, not waited for. */
	pthread_mutex_lock(&rs.lock);
	assert_false(ratelimit_check(&rs, 5000, &missed));
	pthread_mutex_unlock(&rs.lock);
	/* A new window: through, with the three suppressed reported once. */
	assert_true(ratelimit_check(&rs, 1100, &missed));
	assert_int_equal(missed, 3);
	assert_true(ratelimit_check(&rs, 1101, &missed));
	assert_int_equal(missed, 0);
	assert_true(ratelimit_check(&rs, 2099, &missed));
	assert_false(ratelimit_check(&rs, 2099, &missed));
	assert_true(ratelimit_check(&rs, 2100, &missed));
	assert_int_equal(missed, 1);
	pthread_mutex_destroy(&rs.lock);
}

static void test_abuse(void **state)
{
	const char *got;
	int i;

	(void)state;
	log_init(LOG_TARGET_JOURNAL, LOG_INFO);
	for (i = 0; i < 3 * LOG_ABUSE_BURST; i++)
		log_abuse(ABUSE_AUTH, LOG_WARNING, "hello refused %d", i);
	log_abuse(ABUSE_TLS, LOG_NOTICE, "another kind");
	log_abuse(ABUSE_LIMITS, LOG_DEBUG, "below the level");
	got = captured();
	assert_int_equal(count_lines(got, "<4>hello refused "),
	    LOG_ABUSE_BURST);
	assert_non_null(strstr(got, "<4>hello refused 0\n"));
	assert_null(strstr(got, "hello refused 10\n"));
	assert_non_null(strstr(got, "<5>another kind\n"));
	assert_null(strstr(got, "below the level"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_journal_lines, capture,
		    restore),
		cmocka_unit_test_setup_teardown(test_stderr_lines, capture,
		    restore),
		cmocka_unit_test_setup_teardown(test_journal_stream, capture,
		    restore),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test_setup_teardown(test_abuse, capture, restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

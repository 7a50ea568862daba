/*
 * log.c: aspaced's diagnostics (log.h): the journal's "<N>" lines, plain
 * stderr lines or syslog(3), a level, and the rate limiters of
 * log_abuse().
 *
 * The target and level are set at start-up; the level is read and
 * written atomically so that a reload may change it while workers log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_target = LOG_TARGET_STDERR;
static int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"
};

static const char *const target_names[] = {
	[LOG_TARGET_AUTO] = "auto", [LOG_TARGET_STDERR] = "stderr",
	[LOG_TARGET_SYSLOG] = "syslog", [LOG_TARGET_JOURNAL] = "journal"
};

static const char *const abuse_names[ABUSE_KINDS] = {
	[ABUSE_CONNECTIONS] = "refused connections",
	[ABUSE_TLS] = "TLS failures", [ABUSE_AUTH] = "authentication failures",
	[ABUSE_LIMITS] = "limits hit", [ABUSE_PROTOCOL] = "protocol errors",
	[ABUSE_HTTP] = "metrics refusals"
};

static struct ratelimit abuse_rs[ABUSE_KINDS];
static pthread_once_t abuse_once = PTHREAD_ONCE_INIT;

int log_level_parse(const char *s)
{
	int i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int log_target_parse(const char *s)
{
	int i;

	for (i = LOG_TARGET_AUTO; i <= LOG_TARGET_JOURNAL; i++)
		if (strcmp(s, target_names[i]) == 0)
			return i;
	return -1;
}

bool log_is_journal_stream(int fd)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (e == NULL || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    e[n] != '\0' || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void log_init(int target, int level)
{
	if (target == LOG_TARGET_AUTO)
		target = log_is_journal_stream(STDERR_FILENO) ?
		    LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	if (target == LOG_TARGET_SYSLOG)
		openlog("aspaced", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_target = target;
	log_set_level(level);
}

void log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

bool log_enabled(int level)
{
	return level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* The line's text: control bytes made '?', a cut one ending "...". */
static size_t log_format(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);
	size_t len, i;

	if (n < 0)
		n = snprintf(buf, size, "(unformattable message)");
	len = (size_t)n < size ? (size_t)n : size - 1;
	if ((size_t)n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return len;
}

/* One write of the whole line; a short one is finished, EINTR retried. */
static void log_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(STDERR_FILENO, buf, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 16], text[LOG_LINE_MAX];
	int n;

	log_format(text, sizeof(text), fmt, ap);
	switch (log_target) {
	case LOG_TARGET_SYSLOG:
		syslog(level, "%s", text);
		return;
	case LOG_TARGET_JOURNAL:
		n = snprintf(line, sizeof(line), "<%d>%s\n", level, text);
		break;
	default:
		n = snprintf(line, sizeof(line), "aspaced: %s\n", text);
		break;
	}
	if (n > 0)
		log_write(line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* --- rate limits ------------------------------------------------------------ */

void ratelimit_init(struct ratelimit *rs, uint64_t interval_ms,
    unsigned int burst)
{
	memset(rs, 0, sizeof(*rs));
	pthread_mutex_init(&rs->lock, NULL);
	rs->interval_ms = interval_ms;
	rs->burst = burst;
}

bool ratelimit_check(struct ratelimit *rs, uint64_t now_ms,
    unsigned long *missed)
{
	bool ok;

	*missed = 0;
	if (pthread_mutex_trylock(&rs->lock) != 0) {
		__atomic_add_fetch(&rs->missed, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (!rs->started || now_ms - rs->begin >= rs->interval_ms) {
		rs->started = true;
		rs->begin = now_ms;
		rs->printed = 0;
	}
	if ((ok = rs->printed < rs->burst)) {
		rs->printed++;
		*missed = __atomic_exchange_n(&rs->missed, 0, __ATOMIC_RELAXED);
	} else
		__atomic_add_fetch(&rs->missed, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&rs->lock);
	return ok;
}

static void abuse_init(void)
{
	int i;

	for (i = 0; i < ABUSE_KINDS; i++)
		ratelimit_init(&abuse_rs[i], LOG_ABUSE_INTERVAL_MS,
		    LOG_ABUSE_BURST);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void log_abuse(enum log_abuse kind, int level, const char *fmt, ...)
{
	unsigned long missed;
	va_list ap;

	if (!log_enabled(level) || kind < 0 || kind >= ABUSE_KINDS)
		return;
	pthread_once(&abuse_once, abuse_init);
	if (!ratelimit_check(&abuse_rs[kind], now_ms(), &missed))
		return;
	if (missed > 0)
		log_msg(level, "%lu messages suppressed (%s)", missed,
		    abuse_names[kind]);
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/*
 * log.h: aspaced's diagnostics.  One call, log_msg(), at a syslog(3)
 * priority; log_init() picks where they go and the least urgent level
 * written:
 *
 *   journal  stderr, one line each, prefixed "<N>" with the priority
 *            (sd-daemon(3)), for systemd: the default when $JOURNAL_STREAM
 *            names our stderr;
 *   stderr   "aspaced: message" lines, the default otherwise;
 *   syslog   syslog(3), facility LOG_DAEMON.
 *
 * Each message is written with one write(2) (or one syslog call), so the
 * lines of threads never mix.  Bytes below 0x20 and 0x7f are written as
 * '?': a peer's text cannot forge a line.
 *
 * log_abuse() is for what peers cause (refused connections, failed
 * handshakes and tokens, limits hit): at most LOG_ABUSE_BURST messages of
 * a kind per LOG_ABUSE_INTERVAL_MS, then one "N messages suppressed" line
 * with the next message let through.
 */
#ifndef ASPACED_LOG_H
#define ASPACED_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Targets: the values of server.h's SERVER_LOG_*. */
#define LOG_TARGET_AUTO		0	/* the journal, else stderr */
#define LOG_TARGET_STDERR	1
#define LOG_TARGET_SYSLOG	2
#define LOG_TARGET_JOURNAL	3

#define LOG_LINE_MAX		1024	/* longer messages are cut */
#define LOG_ABUSE_INTERVAL_MS	5000
#define LOG_ABUSE_BURST		10

enum log_abuse {
	ABUSE_CONNECTIONS,	/* over --max-connections */
	ABUSE_TLS,		/* TLS handshakes that failed */
	ABUSE_AUTH,		/* tokens refused */
	ABUSE_LIMITS,		/* body cap, idle timeout, session quotas */
	ABUSE_PROTOCOL,		/* bad frames and bodies */
	ABUSE_HTTP,		/* the metrics listener's refusals */
	ABUSE_KINDS
};

/* Where messages go (LOG_TARGET_*) and the least urgent written (LOG_ERR
 * to LOG_DEBUG).  Before any call, stderr and LOG_INFO. */
void log_init(int target, int level);
/* Log nothing below level from now on (a reload may call it). */
void log_set_level(int level);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_abuse(enum log_abuse kind, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "error", "warning", "notice", "info", "debug": a LOG_*, or -1. */
int log_level_parse(const char *s);
/* "auto", "stderr", "syslog", "journal": a LOG_TARGET_*, or -1. */
int log_target_parse(const char *s);
/* Is fd the stream $JOURNAL_STREAM ("DEV:INODE") names? */
bool log_is_journal_stream(int fd);

/*
 * The rate limiter (lib/ratelimit.c's ___ratelimit()): at most burst
 * passes per interval_ms.  A caller that finds it busy is suppressed
 * rather than made to wait.
 */
struct ratelimit {
	pthread_mutex_t	 lock;
	uint64_t	 interval_ms;
	unsigned int	 burst;
	uint64_t	 begin;		/* the window's start, ms */
	bool		 started;	/* begin is set */
	unsigned int	 printed;	/* passes in this window */
	unsigned long	 missed;	/* suppressed since the last report */
};

void ratelimit_init(struct ratelimit *rs, uint64_t interval_ms,
    unsigned int burst);
/*
 * May a message go out at now_ms?  When it may and messages were
 * suppressed since the last one let through, *missed gets their number
 * (else 0), for the caller to report.
 */
bool ratelimit_check(struct ratelimit *rs, uint64_t now_ms,
    unsigned long *missed);

#endif /* ASPACED_LOG_H */

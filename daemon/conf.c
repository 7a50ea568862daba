/*
 * conf.c: aspaced's configuration (conf.h): reading aspaced.conf, the
 * defaults that depend on the environment (the directories, the default
 * listener, ram-total), the checks that span keywords (conf_finish())
 * and the runtime directory.  The keywords, their values and the -T
 * printer are conf-keywords.c's.
 *
 * A file is lines of "keyword value": '#' starts a comment at the start
 * of a line or after the value; a value with spaces goes in double
 * quotes, where \" and \\ stand for " and \.  Errors name the file and
 * line: "FILE:LINE: keyword: reason"; from the command line,
 * "--keyword: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf-int.h"
#include "rundir.h"

/* --- the file --------------------------------------------------------------- */

/* The quoted value at s (after its '"') into val; past the closing quote,
 * or NULL after conf_fail(). */
static const char *unquote(struct conf *c, const struct conf_origin *o,
    const char *kw, const char *s, char *val)
{
	for (; *s != '"'; s++) {
		if (*s == '\0') {
			conf_fail(c, o, kw, "no closing quote");
			return NULL;
		}
		if (*s == '\\' && s[1] != '"' && s[1] != '\\') {
			conf_fail(c, o, kw,
			    "\\ in quotes must be \\\" or \\\\");
			return NULL;
		}
		if (*s == '\\')
			s++;
		*val++ = *s;
	}
	*val = '\0';
	return s + 1;
}

/* An unquoted value at s into val; past it, or NULL after conf_fail(). */
static const char *plain(struct conf *c, const struct conf_origin *o,
    const char *kw, const char *s, char *val)
{
	for (; *s != '\0' && !is_space(*s); s++) {
		if (*s == '"') {
			conf_fail(c, o, kw, "a quote inside an unquoted value");
			return NULL;
		}
		*val++ = *s;
	}
	*val = '\0';
	return s;
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* The keyword at *sp; its index, or -1 after conf_fail(). */
static int parse_keyword(struct conf *c, const struct conf_origin *o,
    const char **sp)
{
	char kw[CONF_LINE_MAX + 1];
	const char *s = *sp;
	size_t n = 0;
	int i;

	while (*s != '\0' && !is_space(*s))
		kw[n++] = *s++;
	kw[n] = '\0';
	*sp = s;
	if ((i = conf_find(kw)) < 0)
		return conf_fail(c, o, NULL, "unknown keyword '%s'", kw);
	if (conf_keywords[i].type != CT_LISTEN && c->from[i].file != NULL)
		return conf_fail(c, o, kw, "given twice (first on line %d)",
		    c->from[i].line);
	return i;
}

/* One line, NUL-terminated, without its newline. */
static int parse_line(struct conf *c, const struct conf_origin *o,
    char *line)
{
	char val[CONF_LINE_MAX + 1];
	const char *s, *kw;
	size_t n = strlen(line);
	int i;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	for (s = line; *s != '\0'; s++)
		if (is_control((unsigned char)*s) && *s != '\t')
			return conf_fail(c, o, NULL, "a control character");
	s = skip_space(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if ((i = parse_keyword(c, o, &s)) < 0)
		return -1;
	kw = conf_keywords[i].name;
	s = skip_space(s);
	if (*s == '\0' || *s == '#')
		return conf_fail(c, o, kw, "no value");
	s = *s == '"' ? unquote(c, o, kw, s + 1, val) : plain(c, o, kw, s, val);
	if (s == NULL)
		return -1;
	s = skip_space(s);
	if (*s != '\0' && *s != '#')
		return conf_fail(c, o, kw, "more than one value (quote a value "
		    "with spaces)");
	return conf_set_value(c, i, val, o);
}

int conf_parse_buffer(struct conf *c, const char *file, const char *buf,
    size_t len)
{
	char line[CONF_LINE_MAX + 1];
	struct conf_origin o = { NULL, 0 };
	const char *eol;
	size_t off, n;

	if ((o.file = conf_keep(c, file)) == NULL)
		return conf_fail(c, NULL, NULL, "%s: out of memory", file);
	if (len > CONF_FILE_MAX)
		return conf_fail(c, NULL, NULL, "%s: larger than %u bytes",
		    file, CONF_FILE_MAX);
	for (off = 0; off < len; off += n + 1) {
		o.line++;
		eol = memchr(buf + off, '\n', len - off);
		n = eol != NULL ? (size_t)(eol - (buf + off)) : len - off;
		if (n > CONF_LINE_MAX)
			return conf_fail(c, &o, NULL,
			    "a line longer than %d bytes", CONF_LINE_MAX);
		if (memchr(buf + off, '\0', n) != NULL)
			return conf_fail(c, &o, NULL, "a NUL byte");
		memcpy(line, buf + off, n);
		line[n] = '\0';
		if (parse_line(c, &o, line) != 0)
			return -1;
	}
	return 0;
}

/* Read fd, a regular file, whole into a malloc'd buffer; NULL with errno
 * (EFBIG past CONF_FILE_MAX). */
static char *read_all(int fd, size_t *lenp)
{
	char *buf;
	size_t len = 0;
	ssize_t n;

	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL)
		return NULL;
	while ((n = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) > 0)
		if ((len += (size_t)n) > CONF_FILE_MAX)
			break;
	if (n < 0 || len > CONF_FILE_MAX) {
		if (n >= 0)
			errno = EFBIG;
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}

int conf_parse_file(struct conf *c, const char *path, bool must_exist)
{
	char *buf;
	size_t len;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return conf_fail(c, NULL, NULL, "%s: %s", path,
		    strerror(errno));
	}
	/* A directory fails in read(), with EISDIR. */
	buf = read_all(fd, &len);
	r = errno;
	close(fd);
	if (buf == NULL && r == EFBIG)
		return conf_fail(c, NULL, NULL, "%s: larger than %u bytes",
		    path, CONF_FILE_MAX);
	if (buf == NULL)
		return conf_fail(c, NULL, NULL, "%s: %s", path, strerror(r));
	r = conf_parse_buffer(c, path, buf, len);
	free(buf);
	return r;
}

/* --- defaults that depend on the environment --------------------------------- */

/* $name when an absolute path (the first of a list, for systemd's
 * ':'-separated ones) into buf; false if none. */
static bool env_dir(const char *name, bool list, char *buf, size_t size)
{
	const char *v = getenv(name);
	size_t n;

	if (v == NULL || v[0] != '/')
		return false;
	n = list ? strcspn(v, ":") : strlen(v);
	if (n >= size)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

static void default_runtime_dir(char *buf, size_t size)
{
	if (env_dir("RUNTIME_DIRECTORY", true, buf, size))
		return;
	if (geteuid() == 0)
		snprintf(buf, size, "%s", RUNDIR_SYSTEM);
	else if (rundir_user(buf, size) != 0)
		snprintf(buf, size, "/tmp/aspaced-%lu",
		    (unsigned long)geteuid());
}

/* The XDG base directory spec's state home, else the working
 * directory's aspaced-state. */
static void default_state_dir(char *buf, size_t size)
{
	char dir[CONF_LINE_MAX / 2];

	if (env_dir("STATE_DIRECTORY", true, buf, size))
		return;
	if (geteuid() == 0)
		snprintf(buf, size, "/var/lib/aspaced");
	else if (env_dir("XDG_STATE_HOME", false, dir, sizeof(dir)))
		snprintf(buf, size, "%s/aspaced", dir);
	else if (env_dir("HOME", false, dir, sizeof(dir)))
		snprintf(buf, size, "%s/.local/state/aspaced", dir);
	else if (getcwd(dir, sizeof(dir)) != NULL && dir[0] == '/')
		snprintf(buf, size, "%s/aspaced-state", dir);
	else
		snprintf(buf, size, "aspaced-state");
}

/* The directories, then the default listener in the runtime one. */
static int finish_defaults(struct conf *c)
{
	static const struct conf_origin dflt = { NULL, -1 };
	char dir[CONF_LINE_MAX + 1], url[CONF_LINE_MAX + 16];
	struct sockaddr_un sa;

	if (c->srv.runtime_dir == NULL) {
		default_runtime_dir(dir, sizeof(dir));
		if (conf_set_value(c, K_RUNTIME_DIR, dir, &dflt) != 0)
			return -1;
	}
	if (c->srv.state_dir == NULL && c->from[K_STATE_DIR].line == -1) {
		default_state_dir(dir, sizeof(dir));
		if (conf_set_value(c, K_STATE_DIR, dir, &dflt) != 0)
			return -1;
	}
	if (c->nlisten > 0)
		return 0;
	snprintf(url, sizeof(url), "unix:%s/%s", c->srv.runtime_dir,
	    RUNDIR_SOCKET);
	if (strlen(url + 5) >= sizeof(sa.sun_path))
		return conf_fail(c, &c->from[K_RUNTIME_DIR],
		    conf_keywords[K_RUNTIME_DIR].name, "too long for the "
		    "socket %s (at most %zu bytes)", url + 5,
		    sizeof(sa.sun_path) - 1);
	c->listen_defaulted = true;
	return conf_add_listen(c, &dflt, url);
}

int conf_finish(struct conf *c)
{
	static const int tls_only[] = { K_TLS_CERT, K_TLS_KEY,
	    K_TLS_CLIENT_CA };
	size_t i;
	int j;

	if (finish_defaults(c) != 0)
		return -1;
	conf_fill_listeners(c);
	if (c->srv.tls_listen != NULL && (c->srv.tls_cert == NULL ||
	    c->srv.tls_key == NULL)) {
		for (j = 0; !is_tls(c->listen[j]); j++)
			;
		return conf_fail(c, &c->listen_from[j],
		    conf_keywords[K_LISTEN].name,
		    "a tls:// listener needs tls-cert and tls-key");
	}
	for (i = 0; i < sizeof(tls_only) / sizeof(tls_only[0]); i++)
		if (c->srv.tls_listen == NULL && !c->activated &&
		    conf_get_str(c, &conf_keywords[tls_only[i]]) != NULL)
			return conf_fail(c, &c->from[tls_only[i]],
			    conf_keywords[tls_only[i]].name,
			    "needs a tls:// listener");
	return 0;
}
/* --- the runtime directory ---------------------------------------------------- */

int conf_make_runtime_dir(struct conf *c)
{
	const char *dir = c->srv.runtime_dir;
	const char *kw = conf_keywords[K_RUNTIME_DIR].name;
	const struct conf_origin *o = &c->from[K_RUNTIME_DIR];
	struct stat st;

	if (!c->listen_defaulted)
		return 0;
	/* Others may reach root's socket; a user's stays the user's. */
	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) != 0 && errno != EEXIST)
		return conf_fail(c, o, kw, "cannot make %s: %s", dir,
		    strerror(errno));
	if (lstat(dir, &st) != 0)
		return conf_fail(c, o, kw, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return conf_fail(c, o, kw, "%s is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return conf_fail(c, o, kw, "%s belongs to uid %lu or others "
		    "may write to it", dir, (unsigned long)st.st_uid);
	return 0;
}

/* --- the default of ram-total -------------------------------------------------- */

/* The first number of the line of file path that starts with key, or 0. */
static unsigned long long read_number(const char *path, const char *key)
{
	char line[256];
	unsigned long long v = 0;
	size_t k = strlen(key);
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, k) == 0) {
			v = strtoull(line + k, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The memory the daemon may use: MemTotal, or the memory.max of its
 * cgroup (v2) when one is set and lower.  0 if neither can be read.
 */
static unsigned long long host_memory(void)
{
	unsigned long long mem = read_number("/proc/meminfo", "MemTotal:") <<
	    10, max;
	char line[512], path[600];
	FILE *f = fopen("/proc/self/cgroup", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max",
		    line + 3);
		/* "max" reads as 0: no limit. */
		if ((max = read_number(path, "")) > 0 && (mem == 0 || max < mem))
			mem = max;
		break;
	}
	if (f != NULL)
		fclose(f);
	return mem;
}

/*
 * ram-total's default: half the host's memory (host_memory()), in whole
 * MiB; the other half is left to the host, the chunk pool, malloc's own
 * overhead and the frames a session has freed but whose chunk it still
 * uses.  64 GiB if the host's memory cannot be read.
 */
unsigned long long conf_ram_total_default(void)
{
	unsigned long long mem = host_memory();

	if (mem == 0)
		return 64ULL << 30;
	return mem / 2 >> 20 << 20;
}

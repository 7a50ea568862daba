/*
 * conf.h: aspaced's configuration: one table of keywords
 * (conf-keywords.c), read by conf.c from aspaced.conf ("keyword value"
 * lines) and from the command line, where every keyword is also a long
 * option of the same name.  The result is a struct server_config,
 * printed back by conf_print() in a form that reads in again to the
 * same configuration (aspaced -T).
 *
 * The file is named "conf" rather than "config" so as not to hide the
 * build's own config.h from the files of this directory.
 */
#ifndef ASPACED_CONF_H
#define ASPACED_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "server.h"

#define CONF_LINE_MAX	1024		/* bytes in a line, newline aside */
#define CONF_FILE_MAX	(1u << 20)	/* bytes in a file */
#define CONF_ERR_MAX	512
#define CONF_KEYWORDS	33		/* entries of the table */
#define CONF_LISTEN_MAX	(2 * SERVER_LISTEN_MAX)

/* Where a keyword's value came from: a file's line, or the command line
 * (file NULL, line 0); line -1 for the built-in default. */
struct conf_origin {
	const char	*file;
	int		 line;
};

struct conf {
	struct server_config srv;		/* the result */
	char		 err[CONF_ERR_MAX];	/* why the last call failed */
	/* Private to conf.c and conf-keywords.c. */
	struct conf_origin from[CONF_KEYWORDS];
	char		*listen[CONF_LISTEN_MAX];	/* in order given */
	struct conf_origin listen_from[CONF_LISTEN_MAX];
	int		 nlisten;
	bool		 listen_defaulted;	/* set by conf_finish() */
	bool		 activated;	/* sockets passed: TLS needs no tls:// */
	char		**owned;		/* strings to free */
	size_t		 nowned, capowned;
};

/* Defaults; no file read yet. */
void conf_init(struct conf *c);
/* ram-total's default: half of MemTotal or of the cgroup's memory.max. */
unsigned long long conf_ram_total_default(void);
void conf_free(struct conf *c);

/* The i-th keyword's name (the table's order), NULL past the last; the
 * index of a name, or -1; keyword i's argument for a usage message
 * ("N", "BYTES", "error|warning|..."). */
const char *conf_keyword(int i);
int conf_find(const char *name);
void conf_keyword_arg(int i, char *buf, size_t size);

/* Read a configuration file's text, len bytes named file in messages.
 * 0, or -1 with c->err ("FILE:LINE: reason"): it then stops at the
 * first error. */
int conf_parse_buffer(struct conf *c, const char *file, const char *buf,
    size_t len);
/* Read path; a missing file is an error only when must_exist. */
int conf_parse_file(struct conf *c, const char *path, bool must_exist);
/* Set keyword i from the command line (overrides the file); 0 or -1. */
int conf_set_option(struct conf *c, int i, const char *value);
/* After the file and the options: the defaults that depend on the
 * environment (directories, the default listener) and the checks that
 * span keywords; 0 or -1 with c->err. */
int conf_finish(struct conf *c);
/* Every keyword, one "keyword value" line each, in the table's order. */
void conf_print(const struct conf *c, FILE *f);
/* Make the runtime directory if aspaced listens on its default socket
 * there; 0 or -1 with c->err. */
int conf_make_runtime_dir(struct conf *c);

#endif /* ASPACED_CONF_H */

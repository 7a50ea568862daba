/*
 * explain.c: recording the path an operation took (explain.h): the
 * steps' text, and the thread's current record.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "mm.h"

_Thread_local struct as_explain *explain_current;

/* Mark a record cut short: its last characters become "...". */
static void explain_truncate(struct as_explain *ex)
{
	ex->len = sizeof(ex->text) - 1;
	memcpy(ex->text + ex->len - 3, "...", 4);
}

void explain_add(struct as_explain *ex, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ex->len >= sizeof(ex->text) - 1)
		return;
	if (ex->len > 0)
		ex->len += (size_t)snprintf(ex->text + ex->len,
		    sizeof(ex->text) - ex->len, " -> ");
	if (ex->len >= sizeof(ex->text) - 1) {
		explain_truncate(ex);
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(ex->text + ex->len, sizeof(ex->text) - ex->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		ex->len += (size_t)n;
	if (ex->len >= sizeof(ex->text) - 1)
		explain_truncate(ex);
}

struct as_explain *explain_begin(struct as_explain *ex)
{
	struct as_explain *prev = explain_current;

	ex->len = 0;
	ex->text[0] = '\0';
	explain_current = ex;
	return prev;
}

struct as_explain *explain_pause(void)
{
	struct as_explain *prev = explain_current;

	explain_current = NULL;
	return prev;
}

void explain_end(struct as_explain *prev)
{
	explain_current = prev;
}

const char *explain_vm_flags(char *buf, size_t size, unsigned long flags)
{
	size_t len = 0;
	unsigned int i;

	snprintf(buf, size, "none");
	for (i = 0; i < 32 && len + 4 < size; i++) {
		if (!(flags & (1UL << i)) || vm_flag_mnemonic(i)[0] == '\0')
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    len > 0 ? " " : "", vm_flag_mnemonic(i));
	}
	return buf;
}

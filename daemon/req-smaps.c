/*
 * req-smaps.c: smaps (docs/protocol.md, section 9): the task's VMAs as
 * /proc/PID/smaps has them, optionally only those meeting a window.  The
 * text is show_smap()'s, as the trace's smaps prints it without the
 * "N: smaps" line and the first level of indentation; each Smap message
 * is read back from that VMA's block, so the two always agree.  Under
 * the mm's mmap_lock (read).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "req.h"

/* The field of s named key ("Rss"...), or NULL. */
static uint64_t *smap_field(Aspace__Smap *s, const char *key, size_t len)
{
	static const struct {
		const char	*key;
		size_t		 off, has;
	} f[] = {
#define F(k, m) { k, offsetof(Aspace__Smap, m), offsetof(Aspace__Smap, has_##m) }
		F("Rss", rss), F("Pss", pss),
		F("Shared_Clean", shared_clean), F("Shared_Dirty", shared_dirty),
		F("Private_Clean", private_clean),
		F("Private_Dirty", private_dirty),
		F("Anonymous", anonymous), F("Swap", swap), F("Locked", locked),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strlen(f[i].key) == len && memcmp(f[i].key, key, len) == 0) {
			*(protobuf_c_boolean *)((char *)s + f[i].has) = 1;
			return (uint64_t *)((char *)s + f[i].off);
		}
	return NULL;
}

/* One "  Key: N kB" or "  VmFlags: ..." line of the block into s. */
static void smap_line(struct req_ctx *c, Aspace__Smap *s, const char *line,
    const char *nl)
{
	const char *colon;
	uint64_t *field;

	while (line < nl && *line == ' ')
		line++;
	if ((colon = memchr(line, ':', (size_t)(nl - line))) == NULL)
		return;
	if ((size_t)(colon - line) == 7 && memcmp(line, "VmFlags", 7) == 0) {
		colon += colon + 1 < nl && colon[1] == ' ' ? 2 : 1;
		s->vm_flags = req_strdup(c, colon, (size_t)(nl - colon));
	} else if ((field = smap_field(s, line, (size_t)(colon - line))) !=
	    NULL)
		*field = strtoull(colon + 1, NULL, 10);
}

/* The Smap of the block show_smap() wrote at text. */
static Aspace__Smap *smap_msg(struct req_ctx *c, const struct vma *vma,
    const char *text)
{
	Aspace__Smap *s = req_alloc(c, sizeof(*s));
	const char *nl;

	if (s == NULL)
		return NULL;
	aspace__smap__init(s);
	if ((s->vma = req_alloc(c, sizeof(*s->vma))) == NULL)
		return NULL;
	req_vma_msg(c, s->vma, vma, text);
	for (text = strchr(text, '\n') + 1;
	    *text != '\0' && (nl = strchr(text, '\n')) != NULL; text = nl + 1)
		smap_line(c, s, text, nl);
	return s;
}


/* VMA vma as the i-th Smap, after its block in c->buf. */
static bool smaps_vma(struct req_ctx *c, void *msgs, size_t i,
    struct vma *vma)
{
	Aspace__Smap **s = msgs;
	size_t at = c->buf.len;

	show_smap(&c->buf, "", vma);
	if (c->buf.overflow)
		return false;
	return (s[i] = smap_msg(c, vma, as_buf_str(&c->buf) + at)) != NULL;
}

/* Walk the window's VMAs into r and c->buf; the mm is read-locked. */
static void fill_smaps(struct req_ctx *c, void *result, struct mm *mm,
    unsigned long lo, unsigned long hi)
{
	Aspace__SmapsResult *r = result;

	r->smaps = req_vma_msgs(c, mm, lo, hi, smaps_vma, &r->n_smaps);
}

static void do_smaps_req(struct req_ctx *c)
{
	Aspace__SmapsResult *r = req_alloc(c, sizeof(*r));

	if (r == NULL)
		return;
	aspace__smaps_result__init(r);
	r->text = (char *)req_window_text(c, c->req->smaps->window,
	    "smaps over the output cap", fill_smaps, r,
	    sizeof(Aspace__Smap) + sizeof(Aspace__Vma) + 3 * 16);
	if (r->text == NULL)
		return;
	c->resp->result_case = ASPACE__RESPONSE__RESULT_SMAPS;
	c->resp->smaps = r;
}

const struct request_entry req_smaps_entry = {
	.op = ASPACE__REQUEST__OP_SMAPS,
	.mode = LOCK_SESSION_READ,
	.flags = REQ_NEEDS_TASK,
	.handler = do_smaps_req,
};

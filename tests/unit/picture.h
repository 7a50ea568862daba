/*
 * picture.h: one-line ASCII pictures of an mm's VMAs, for the unit tests.
 *
 * A picture shows the pages of a window [start, start + npages pages), one
 * character per page: a letter per VMA ('A' for the first VMA met in the
 * window, 'B' for the next, ...) and '.' for a page no VMA maps.  So
 *
 *	|AA|B.|CC|   or   "AAB.CC"
 *
 * is two pages of one VMA, one page of a second, a hole, then two pages of
 * a third.  Expected pictures may contain '|' and ' ' for readability; they
 * are ignored when comparing.
 *
 * assert_picture(mm, start, npages, "AAB.CC") and
 * assert_perms(mm, start, npages, "rw-p r--p rw-p") (the maps permissions
 * of each VMA meeting the window, in order) fail the running cmocka test
 * with both strings printed.  Include after <cmocka.h> and "mm.h".
 */
#ifndef ASPACE_TEST_PICTURE_H
#define ASPACE_TEST_PICTURE_H

#include <stdio.h>
#include <string.h>

#define PICTURE_MAX	256	/* pages, and characters of a perms list */

static inline char picture_letter(int n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";

	return n < (int)sizeof(set) - 1 ? set[n] : '#';
}

/* picture_render(): the picture of the window into out[npages + 1]. */
static inline void picture_render(struct mm *mm, unsigned long start,
    unsigned long npages, char *out)
{
	struct vma *v = find_vma(mm, start), *cur = NULL;
	unsigned long i, addr;
	int n = -1;

	for (i = 0; i < npages; i++) {
		addr = start + i * AS_PAGE_SIZE;
		while (v != NULL && v->vm_end <= addr)
			v = v->vm_next;
		if (v == NULL || v->vm_start > addr) {
			out[i] = '.';
			continue;
		}
		if (v != cur) {
			cur = v;
			n++;
		}
		out[i] = picture_letter(n);
	}
	out[npages] = '\0';
}

/* picture_perms(): "rw-p r--p" for the VMAs meeting the window. */
static inline void picture_perms(struct mm *mm, unsigned long start,
    unsigned long npages, char *out, size_t size)
{
	unsigned long end = start + npages * AS_PAGE_SIZE;
	struct vma *v;
	size_t len = 0;

	out[0] = '\0';
	for (v = find_vma(mm, start); v != NULL && v->vm_start < end;
	    v = v->vm_next) {
		if (len + 6 > size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s%c%c%c%c",
		    len ? " " : "",
		    v->vm_flags & VM_READ ? 'r' : '-',
		    v->vm_flags & VM_WRITE ? 'w' : '-',
		    v->vm_flags & VM_EXEC ? 'x' : '-',
		    v->vm_flags & VM_MAYSHARE ? 's' : 'p');
	}
}

/* picture_strip(): expect without the '|' and ' ' that only decorate. */
static inline void picture_strip(const char *expect, char *out, size_t size)
{
	size_t n = 0;

	for (; *expect != '\0' && n + 1 < size; expect++)
		if (*expect != '|' && *expect != ' ')
			out[n++] = *expect;
	out[n] = '\0';
}

static inline void picture_assert_at(struct mm *mm, unsigned long start,
    unsigned long npages, const char *expect, const char *file, int line)
{
	char got[PICTURE_MAX + 1], want[PICTURE_MAX + 1];

	if (npages > PICTURE_MAX)
		npages = PICTURE_MAX;
	picture_render(mm, start, npages, got);
	picture_strip(expect, want, sizeof(want));
	if (strcmp(got, want) != 0) {
		print_error("picture at %#lx:\n  expected \"%s\"\n  got      "
		    "\"%s\"\n", start, want, got);
		_fail(file, line);
	}
}

static inline void picture_perms_assert_at(struct mm *mm,
    unsigned long start, unsigned long npages, const char *expect,
    const char *file, int line)
{
	char got[PICTURE_MAX * 5 + 1];

	picture_perms(mm, start, npages, got, sizeof(got));
	if (strcmp(got, expect) != 0) {
		print_error("perms at %#lx:\n  expected \"%s\"\n  got      "
		    "\"%s\"\n", start, expect, got);
		_fail(file, line);
	}
}

#define assert_picture(mm, start, npages, expect) \
	picture_assert_at((mm), (start), (npages), (expect), __FILE__, __LINE__)
#define assert_perms(mm, start, npages, expect) \
	picture_perms_assert_at((mm), (start), (npages), (expect), \
	    __FILE__, __LINE__)

#endif /* ASPACE_TEST_PICTURE_H */

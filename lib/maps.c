/*
 * maps.c: the text of /proc/PID/maps and smaps' VmFlags line
 * (fs/proc/task_mmu.c: show_map_vma(), show_smap_vma_flags()).
 */
#include "buf.h"
#include "mm.h"
#include "trace_parse.h"

/* The VMA's name as /proc/PID/maps prints it. */
static const char *vma_name(const struct vma *vma)
{
	const struct mm *mm = vma->vm_mm;

	if (vma->vm_file != NULL)
		return vma->vm_file->name;
	if (vma->vm_start < mm->brk && vma->vm_end > mm->start_brk)
		return "[heap]";	/* vma_is_initial_heap() */
	if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
		return "[stack]";
	return "";
}

/* show_map_vma(): one maps line, after indent, with a newline. */
void show_map_vma(struct as_buf *b, const char *indent, struct vma *vma)
{
	char perms[4], line[256];
	unsigned long off = 0;

	perms[0] = vma->vm_flags & VM_READ ? 'r' : '-';
	perms[1] = vma->vm_flags & VM_WRITE ? 'w' : '-';
	perms[2] = vma->vm_flags & VM_EXEC ? 'x' : '-';
	perms[3] = vma->vm_flags & VM_MAYSHARE ? 's' : 'p';
	if (vma->vm_file != NULL)
		off = vma->vm_pgoff << AS_PAGE_SHIFT;
	trace_format_maps_line(line, sizeof(line), vma->vm_start, vma->vm_end,
	    perms, off, vma_name(vma));
	as_buf_printf(b, "%s%s\n", indent, line);
}

/* The two-letter codes of VmFlags, by bit number. */
static const char mnemonics[32][3] = {
	"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms",
	"gd", "um", "pf", "",   "uw", "lo", "io", "sr",
	"rr", "dc", "de", "lf", "ac", "nr", "ht", "sf",
	"ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg",
};

/* show_smap_vma_flags(): "VmFlags: rd wr mr mw me ac". */
void show_smap_vma_flags(struct as_buf *b, const char *indent,
    const struct vma *vma)
{
	unsigned int i;

	as_buf_printf(b, "%sVmFlags:", indent);
	for (i = 0; i < 32; i++)
		if ((vma->vm_flags & (1UL << i)) && mnemonics[i][0] != '\0')
			as_buf_printf(b, " %s", mnemonics[i]);
	as_buf_put(b, "\n", 1);
}

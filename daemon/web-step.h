/*
 * web-step.h: what the web stepper (web-trace.c) records of the session
 * after each line of a trace, to tell the page what the line changed
 * (docs/web.md): a snapshot of the current task's VMAs (their maps
 * lines) and of its pages (the state pages answers, web-step.c), and,
 * between two snapshots, the VMAs added, split, merged, grown, shrunk,
 * changed or removed and the PTEs whose page changed, as JSON.  Each is
 * bounded; a cap reached is said in the step ("*_omitted").
 */
#ifndef ASPACED_WEB_STEP_H
#define ASPACED_WEB_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mm.h"
#include "aspace.pb-c.h"
#include "pgtable.h"

/* The caps: VMAs and pages a snapshot keeps, VMA changes a step tells,
 * maps lines a change names (a side), PTE changes a step tells (a whole
 * record, "ptes_full": up to WEB_STEP_PAGES). */
#define WEB_STEP_VMAS		(1u << 17)
#define WEB_STEP_PAGES		(1u << 16)
#define WEB_STEP_CHANGES	64
#define WEB_STEP_LINES		8
#define WEB_STEP_PTES		4096

/* A VMA: its range, vm_flags, and its maps line in the text. */
struct step_vma {
	unsigned long	 start, end, flags;
	size_t		 off, len;
};

/* A page: its state as one letter (web-step.c), its frame. */
struct step_page {
	unsigned long	 addr;
	uint64_t	 pfn;
	char		 state;
};

/* A snapshot of task's VMAs (their maps lines in text) and pages; vcap
 * and pcap are the arrays' room, *_over say a cap was reached. */
struct step_snap {
	int		 task;
	struct as_buf	 text;
	struct step_vma	*vmas;
	size_t		 nvmas, vcap;
	bool		 vmas_over;
	struct step_page *pages;
	size_t		 npages, pcap;
	bool		 pages_over;
};

void step_snap_init(struct step_snap *s);
void step_snap_free(struct step_snap *s);
/* Task pid's VMAs and pages into s (the session locked exclusively). */
void step_snap_take(struct step_snap *s, struct as_session *sess, int pid);
/* ,"changes":[...] from a to b (with "changes_omitted" past the cap). */
void step_changes_json(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b);
/* ,"ptes":[[addr, state, pfn]...] from a to b, or all of b's pages with
 * "ptes_full"; false if over a cap (said by "ptes_omitted", the next
 * step then whole). */
bool step_ptes_json(struct as_buf *j, const struct step_snap *a,
    const struct step_snap *b, bool full);
/* ,"counters":[...], the session's, in step_counter_names' order. */
void step_counters_json(struct as_buf *j, struct as_session *sess);
/* ,"counter_names":[...] */
void step_counter_names_json(struct as_buf *j);

/* req-pages.c: the page at addr of vma as the pages request answers it
 * (page_table_lock held); false if its mapcount needs the session's
 * tables unshared first (pte_seen()). */
bool pages_pte_state(Aspace__Page *p, struct vma *vma, unsigned long addr);
/* req-pages.c: a page of a shmem VMA without a PTE whose object holds its
 * swap entry (the mm read-locked, page_table_lock not held). */
bool pages_shmem_swapped(const struct vma *vma, unsigned long addr);

#endif /* ASPACED_WEB_STEP_H */

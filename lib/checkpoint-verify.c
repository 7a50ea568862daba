/*
 * checkpoint-verify.c: the loader's cross-checks, run once every section
 * is parsed: each mm's page tables form a tree of its own, frames'
 * refcounts and mapcounts equal their holders, anon_vmas' counts equal
 * their links and children, struct files' and inodes' references equal
 * their holders, pids are unique and vfork parents real, mm_users right;
 * then the session's lists are linked and mm_validate()'s two halves run.
 * ck_load_verify() is the entry point.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint-int.h"
#include "swap.h"

/* Claim a page-table frame for one place in one tree. */
static int claim_table(struct ck_load *l, unsigned long pfn)
{
	if (pfn >= l->next_unused || l->state[pfn] != FS_USED ||
	    !page_test(pfn_to_page(&l->s->phys, pfn), PG_pgtable))
		return BAD(l, "a page table at frame 0x%lx, which is no free "
		    "page-table frame", pfn);
	l->state[pfn] = FS_TABLE;
	return 0;
}

/* A leaf PTE of mm at addr: a frame in use (or the zero page), in a VMA. */
static int check_leaf(struct ck_load *l, struct mm *mm, unsigned long addr,
    pte_t pte)
{
	struct as_phys *phys = &l->s->phys;
	unsigned long pfn = pte_pfn(pte);

	if (is_swap_pte(pte)) {		/* counted by mm_validate() */
		struct swap_info_struct *si = phys->swap;
		unsigned long off = pte_swp_offset(pte);

		if (si == NULL || off == 0 || off >= si->cap || pte !=
		    swp_entry_to_pte(off, (pte & _PAGE_SWP_EXCLUSIVE) != 0) ||
		    vma_lookup(mm, addr) == NULL)
			return BAD(l, "swap PTE 0x%llx at 0x%lx names no slot "
			    "or is in no VMA", (unsigned long long)pte, addr);
		return 0;
	}
	if ((pte & ~PTE_KNOWN) != 0 || !pte_present(pte) ||
	    vma_lookup(mm, addr) == NULL)
		return BAD(l, "PTE 0x%llx at 0x%lx is not a present PTE in a "
		    "VMA", (unsigned long long)pte, addr);
	if (pte & _PAGE_SPECIAL) {
		if (pfn != phys->zero_pfn)
			return BAD(l, "special PTE at 0x%lx maps frame 0x%lx",
			    addr, pfn);
		return 0;
	}
	if (pfn >= l->next_unused || l->state[pfn] == FS_FREE ||
	    l->state[pfn] == FS_LOST || page_test(pfn_to_page(phys, pfn),
	    PG_pgtable | PG_reserved) || l->tally[pfn] >= INT32_MAX)
		return BAD(l, "PTE at 0x%lx maps frame 0x%lx, not a page in "
		    "use", addr, pfn);
	l->tally[pfn]++;
	return 0;
}

/* A shared PMD entry naming a PTE table already walked from another
 * mm's (pt_share.c): counted, not walked again. */
static bool shared_pmd(struct ck_load *l, pte_t pmd)
{
	unsigned long pfn = pte_pfn(pmd);

	if (!pmd_shared(pmd) || pfn >= l->next_unused ||
	    l->state[pfn] != FS_TABLE || l->tally[pfn] == 0 ||
	    (pmd & ~PTE_PFN_MASK & ~(pte_t)_PAGE_PT_OLD) !=
	    (_PAGE_TABLE & ~_PAGE_RW))
		return false;
	l->tally[pfn]++;
	l->s->phys.nr_shared_pmds++;
	return true;
}

/* Check the table at pfn (level 0: the pgd) and the tables below it. */
static int walk_table(struct ck_load *l, struct mm *mm, unsigned long pfn,
    int level, unsigned long base, unsigned long *ntables)
{
	static const int shift[4] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT,
	    AS_PAGE_SHIFT };
	const pte_t *t = (const pte_t *)pfn_to_page(&l->s->phys, pfn)->data;
	unsigned long i, addr, child;

	for (i = 0; i < PTRS_PER_TABLE && l->err == 0; i++) {
		if (t[i] == 0)
			continue;
		addr = base + (i << shift[level]);
		if (level == 3) {
			check_leaf(l, mm, addr, t[i]);
			continue;
		}
		child = pte_pfn(t[i]);
		if (level == 2 && shared_pmd(l, t[i])) {
			(*ntables)++;	/* a PTE table fork shared, seen */
			continue;
		}
		if (t[i] != pfn_pte(child, _PAGE_TABLE) && (level != 2 ||
		    !pmd_shared(t[i]) || (t[i] & ~PTE_PFN_MASK &
		    ~(pte_t)_PAGE_PT_OLD) != (_PAGE_TABLE & ~_PAGE_RW)))
			return BAD(l, "table entry 0x%llx at 0x%lx",
			    (unsigned long long)t[i], addr);
		if (level == 2) {
			l->tally[child]++;	/* the PMD entries naming it */
			l->s->phys.nr_shared_pmds += pmd_shared(t[i]);
		}
		if (claim_table(l, child) == 0) {
			(*ntables)++;
			walk_table(l, mm, child, level + 1, addr, ntables);
		}
	}
	return l->err;
}

/* Every mm's page tables: one tree of its own, nr_pgtables tables below
 * the pgd; then every page-table frame belongs to one. */
static int check_page_tables(struct ck_load *l)
{
	unsigned long n, i;
	uint32_t m;

	for (m = 0; m < l->nmm && l->err == 0; m++) {
		n = 0;
		if (claim_table(l, l->mms[m]->pgd) == 0 &&
		    walk_table(l, l->mms[m], l->mms[m]->pgd, 0, 0, &n) == 0 &&
		    n != l->mms[m]->nr_pgtables)
			return BAD(l, "mm %u: nr_pgtables %lu, %lu tables", m,
			    l->mms[m]->nr_pgtables, n);
	}
	for (i = 0; i < l->npages && l->err == 0; i++)
		if (page_test(pfn_to_page(&l->s->phys, l->pfns[i]),
		    PG_pgtable) && l->state[l->pfns[i]] != FS_TABLE)
			return BAD(l, "page-table frame 0x%lx in no tree",
			    l->pfns[i]);
	return l->err;
}

/* Each frame's counts are its holders': PTEs, the page cache, a table. */
static int check_page_counts(struct ck_load *l)
{
	struct as_phys *phys = &l->s->phys;
	const struct page *page;
	unsigned long i, pfn;
	int held;

	for (i = 0; i < l->npages; i++) {
		pfn = l->pfns[i];
		page = pfn_to_page(phys, pfn);
		if (pfn == phys->zero_pfn)
			continue;
		if (page_test(page, PG_pgtable)) {	/* its PMD entries */
			held = l->tally[pfn] > 0 ? (int)l->tally[pfn] : 1;
			if (page_refcount(page) != held)
				return BAD(l, "page table 0x%lx: refcount %d, "
				    "%d PMD entries", pfn, page_refcount(page),
				    held);
			phys->nr_reserved += (unsigned long)held - 1;
			continue;
		}
		held = (int)l->tally[pfn] + (page->mapping != NULL);
		if (page_mapcount(page) != (int)l->tally[pfn] ||
		    page_refcount(page) != held)
			return BAD(l, "frame 0x%lx: refcount %d mapcount %d, "
			    "but %d PTEs and %d holders", pfn,
			    page_refcount(page), page_mapcount(page),
			    (int)l->tally[pfn], held);
	}
	/* pt_reserve()'s charge for each share past the first */
	if (memcg_try_charge(phys->memcg, (long)(phys->nr_reserved *
	    AS_PAGE_SIZE)) != 0) {
		phys->nr_reserved = 0;
		return ck_fail(l, -ENOMEM, "no memory for the shared page "
		    "tables' frames");
	}
	return 0;
}

/* anon_vma counters: links and active VMAs counted, references held by
 * links and by children (their parent, and a root that is not it). */
static int check_anon_vma_counts(struct ck_load *l)
{
	unsigned long *refs = ck_load_calloc(l, l->nav, sizeof(*refs));
	unsigned long *kids = ck_load_calloc(l, l->nav, sizeof(*kids));
	uint32_t i, p, r;

	for (i = 0; i < l->nav && l->err == 0; i++) {
		p = l->av_parent[i];
		r = l->av_root[i];
		refs[i] += l->av_links[i];
		kids[i] += r == i;	/* a root's self-parent link */
		if (p != i) {
			refs[p]++;
			kids[p] += l->av_links[i] > 0;
		}
		if (r != i && r != p)
			refs[r]++;
	}
	for (i = 0; i < l->nav && l->err == 0; i++) {
		const struct anon_vma *av = l->avs[i];

		if ((unsigned long)av->nr_links != l->av_links[i] ||
		    (unsigned long)av->num_active_vmas != l->av_active[i] ||
		    (unsigned long)av->refcount != refs[i] ||
		    (unsigned long)av->num_children != kids[i])
			BAD(l, "anon_vma %u: counts differ from its links", i);
	}
	free(refs);
	free(kids);
	return l->err;
}

/* qsort() order of files: by name. */
static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct as_file *const *)a)->name,
	    (*(struct as_file *const *)b)->name);
}

/* References: a struct file's its VMAs', an inode's the list's and its
 * struct files'; listed names unique. */
static int check_files(struct ck_load *l)
{
	struct as_file **sorted = ck_load_calloc(l, l->nfile, sizeof(*sorted));
	unsigned long refs;
	uint32_t i, n = 0;

	for (i = 0; i < l->nopen && l->err == 0; i++)
		if ((unsigned long)l->opens[i]->f_count != l->open_vmas[i])
			BAD(l, "struct file %u: f_count %ld, %lu VMAs", i,
			    l->opens[i]->f_count, l->open_vmas[i]);
	for (i = 0; i < l->nfile && l->err == 0; i++) {
		/* A live segment holds its inode too. */
		refs = l->listed[i] + l->file_opens[i] +
		    (l->files[i]->shm != NULL);
		if ((unsigned long)l->files[i]->refcount != refs)
			BAD(l, "file %u: refcount %d, %lu references", i,
			    l->files[i]->refcount, refs);
		if (l->listed[i])
			sorted[n++] = l->files[i];
	}
	if (l->err == 0)
		qsort(sorted, n, sizeof(*sorted), by_name);
	for (i = 1; i < n && l->err == 0; i++)
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			BAD(l, "two files named %s", sorted[i]->name);
	free(sorted);
	return l->err;
}

/* qsort() and bsearch() order of tasks: by pid. */
static int by_pid(const void *a, const void *b)
{
	int x = (*(struct task *const *)a)->pid;
	int y = (*(struct task *const *)b)->pid;

	return (x > y) - (x < y);
}

/* The task of pid in sorted (by pid), or NULL. */
static struct task *find_pid(struct task **sorted, uint32_t n, int pid)
{
	struct task key = { .pid = pid }, *kp = &key, **t;

	t = bsearch(&kp, sorted, n, sizeof(*sorted), by_pid);
	return t != NULL ? *t : NULL;
}

/* pids unique, vfork parents alive and blocked, mm_users right. */
static int check_tasks(struct ck_load *l)
{
	struct task **sorted = ck_load_calloc(l, l->ntask, sizeof(*sorted));
	unsigned long *users = ck_load_calloc(l, l->nmm, sizeof(*users));
	struct task *p;
	uint32_t i, m;

	for (i = 0; i < l->ntask && l->err == 0; i++)
		sorted[i] = l->tasks[i];
	if (l->err == 0)
		qsort(sorted, l->ntask, sizeof(*sorted), by_pid);
	for (i = 1; i < l->ntask && l->err == 0; i++)
		if (sorted[i - 1]->pid == sorted[i]->pid)
			BAD(l, "two tasks with pid %d", sorted[i]->pid);
	for (i = 0; i < l->ntask && l->err == 0; i++) {
		users[l->task_mm[i]]++;
		if (l->vfork_pid[i] == 0)
			continue;
		p = find_pid(sorted, l->ntask, l->vfork_pid[i]);
		if (p == NULL || p == l->tasks[i] || !p->vfork_blocked)
			BAD(l, "task %d's vfork parent %d", l->tasks[i]->pid,
			    l->vfork_pid[i]);
		l->tasks[i]->vfork_parent = p;
	}
	for (m = 0; m < l->nmm && l->err == 0; m++)
		if ((unsigned long)l->mms[m]->mm_users != users[m])
			BAD(l, "mm %u: mm_users %d, %lu tasks", m,
			    l->mms[m]->mm_users, users[m]);
	free(sorted);
	free(users);
	return l->err;
}

/* Put the objects in the session's lists, in the checkpoint's order. */
static void link_session(struct ck_load *l)
{
	struct as_file **fp = &l->s->files;
	uint32_t i;

	for (i = 0; i < l->ntask; i++)
		l->tasks[i]->next = i + 1 < l->ntask ? l->tasks[i + 1] : NULL;
	l->s->tasks = l->ntask > 0 ? l->tasks[0] : NULL;
	for (i = 0; i < l->nfile; i++) {
		if (l->listed[i]) {
			*fp = l->files[i];
			fp = &l->files[i]->next;
		}
	}
	*fp = NULL;
}

/* Every cross-check, the last being mm_validate()'s own. */
int ck_load_verify(struct ck_load *l)
{
	const char *err;
	uint32_t m;

	if (check_page_tables(l) || check_page_counts(l) ||
	    check_anon_vma_counts(l) || check_files(l) || check_tasks(l))
		return l->err;
	link_session(l);
	for (m = 0; m < l->nmm; m++)
		if ((err = mm_validate_vmas(l->mms[m])) != NULL)
			return BAD(l, "mm %u: %s", m, err);
	if (l->ntask > 0 && (err = session_validate_ptes(l->s)) != NULL)
		return BAD(l, "%s", err);
	return 0;
}

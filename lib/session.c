/*
 * session.c: a simulated machine and the first task's address space.
 *
 * Until programs are loaded (exec), task 1 gets the layout the kernel
 * gives a small process: mmap_base below the stack gap, a [stack] VMA at
 * the top of the address space, and an empty heap at start_brk.  With
 * randomisation off these are Linux's non-randomised addresses; with it
 * on they move by amounts drawn from the session's seed, within Linux's
 * ranges (docs/trace-format.md, "Layout").
 */
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "session.h"

#define STACK_INITIAL	(132UL << 10)	/* args page + 128 KiB expansion */
#define ELF_ET_DYN_BASE	0x555555554000UL
#define PROGRAM_BRK_OFF	0x5000UL	/* a small program's end of bss */

void as_session_params_default(struct as_session_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ram_bytes = 1UL << 30;
	p->max_map_count = AS_DEFAULT_MAX_MAP_COUNT;
	p->rlimit_stack = 8UL << 20;
}

/* splitmix64: the session's deterministic random source. */
static uint64_t session_random(struct as_session *s)
{
	uint64_t z = (s->seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* setup_stack(): the initial [stack] VMA, as setup_arg_pages() leaves it. */
static int setup_stack(struct mm *mm, unsigned long stack_top)
{
	struct vma *vma = vm_area_alloc(mm);

	if (vma == NULL)
		return -ENOMEM;
	vma->vm_end = stack_top;
	vma->vm_start = stack_top - STACK_INITIAL;
	vma->vm_flags = VM_DATA_DEFAULT_FLAGS | VM_GROWSDOWN | VM_ACCOUNT;
	vma->vm_pgoff = vma->vm_start >> AS_PAGE_SHIFT;
	vma_set_page_prot(vma);
	vma_link(mm, vma);
	vm_stat_account(mm, vma->vm_flags, vma_pages(vma));
	mm->start_stack = stack_top - 0x100;
	return 0;
}

/* arch_pick_mmap_layout() plus the stack and heap of a fresh program. */
static int mm_init_layout(struct as_session *s, struct mm *mm)
{
	unsigned long rnd_mmap = 0, rnd_stack = 0, rnd_brk = 0, rnd_base = 0;

	if (s->randomize) {
		rnd_mmap = (session_random(s) & ((1UL << 28) - 1)) << 12;
		rnd_stack = (session_random(s) & 0x3fffffUL) << 12;
		rnd_brk = (session_random(s) & 0x1fffUL) << 12;
		rnd_base = (session_random(s) & ((1UL << 28) - 1)) << 12;
	}
	mm->mmap_base = mmap_base_for(s, rnd_mmap);
	mm->start_brk = mm->brk =
	    ELF_ET_DYN_BASE + rnd_base + PROGRAM_BRK_OFF + rnd_brk;
	mm->start_data = mm->end_data = mm->start_brk;
	return setup_stack(mm, AS_TASK_SIZE - rnd_stack);
}

struct as_session *as_session_new(const struct as_session_params *p)
{
	struct as_session *s = calloc(1, sizeof(*s));
	struct task *t = calloc(1, sizeof(*t));

	if (s == NULL || t == NULL)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->anon_vma_lock, NULL);
	s->limits.ram_bytes = p->ram_bytes ? p->ram_bytes : 1UL << 30;
	s->limits.swap_bytes = p->swap_bytes;
	s->limits.max_map_count = p->max_map_count ? p->max_map_count :
	    AS_DEFAULT_MAX_MAP_COUNT;
	s->limits.rlimit_stack = p->rlimit_stack ? p->rlimit_stack : 8UL << 20;
	s->limits.rlimit_memlock = AS_RLIM_INFINITY;
	s->limits.rlimit_as = AS_RLIM_INFINITY;
	s->limits.rlimit_data = AS_RLIM_INFINITY;
	s->limits.cap_ipc_lock = true;
	s->seed = p->seed;
	s->randomize = p->randomize;
	if (phys_init(&s->phys, s->limits.ram_bytes) != 0)
		goto fail;
	t->pid = t->tgid = 1;
	s->next_pid = 2;
	s->tasks = t;
	if ((t->mm = mm_alloc(s)) == NULL || mm_init_layout(s, t->mm) != 0)
		goto fail;
	return s;
fail:
	as_session_free(s);
	if (s == NULL)
		free(t);
	return NULL;
}

void as_session_free(struct as_session *s)
{
	struct task *t, *tn;
	struct as_file *f, *fn;

	if (s == NULL)
		return;
	for (t = s->tasks; t != NULL; t = tn) {
		tn = t->next;
		mmput(t->mm);
		free(t);
	}
	for (f = s->files; f != NULL; f = fn) {
		fn = f->next;
		fput(s, f);
	}
	phys_destroy(&s->phys);
	pthread_mutex_destroy(&s->anon_vma_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct as_file *as_file_lookup(struct as_session *s, const char *name)
{
	struct as_file *f;

	pthread_mutex_lock(&s->lock);
	for (f = s->files; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	pthread_mutex_unlock(&s->lock);
	return f;
}

/* as_file_create(): a new file, or truncate-and-rewrite an existing one. */
int as_file_create(struct as_session *s, const char *name, unsigned long size)
{
	struct as_file *f = as_file_lookup(s, name);

	if (strlen(name) >= sizeof(f->name))
		return -ENAMETOOLONG;
	if (f != NULL) {
		/* O_TRUNC then write: every mapped page goes, even private
		 * copies, and the new contents fill the cache again. */
		unmap_mapping_range(s, f);
		return filemap_write(&s->phys, f, size);
	}
	if ((f = as_file_alloc(name, 0, false)) == NULL)
		return -ENOMEM;
	if (filemap_write(&s->phys, f, size) != 0) {
		fput(s, f);
		return -ENOSPC;
	}
	pthread_mutex_lock(&s->lock);
	f->id = __atomic_add_fetch(&s->next_file_id, 1, __ATOMIC_RELAXED);
	f->next = s->files;
	s->files = f;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct task *as_task_lookup(struct as_session *s, int pid)
{
	struct task *t;

	pthread_mutex_lock(&s->lock);
	for (t = s->tasks; t != NULL && t->pid != pid; t = t->next)
		;
	pthread_mutex_unlock(&s->lock);
	return t;
}

void as_session_counters(struct as_session *s, struct as_counters *out)
{
	const size_t n = sizeof(*out) / sizeof(unsigned long);
	struct task *t;
	size_t i;

	pthread_mutex_lock(&s->lock);
	*out = s->counters;
	for (t = s->tasks; t != NULL; t = t->next)
		for (i = 0; i < n; i++)
			((unsigned long *)out)[i] +=
			    ((const unsigned long *)&t->counters)[i];
	pthread_mutex_unlock(&s->lock);
}

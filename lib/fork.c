/*
 * fork.c: new tasks and the end of tasks (kernel/fork.c, kernel/exit.c).
 *
 * A thread (CLONE_VM) shares its creator's mm.  A forked process gets a
 * copy: dup_mmap() copies every VMA but those marked dontfork, gives each
 * copy an anon_vma of its own chained to the parent's (anon_vma_fork), and
 * copy_page_range() copies the PTEs of the VMAs that have anonymous pages,
 * write-protecting private writable ones on both sides so the first write
 * copies.  Locks: the parent's mmap_lock, then the new child's (the only
 * place two mms' locks are held); session->lock for the task list.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "mm.h"
#include "session.h"

/* vma_link() for a copy whose slot __mt_dup() made: the copy takes it. */
static void vma_link_dup(struct mm *mm, struct vma *vma)
{
	vma_mt_bulk_store(&mm->mm_mt, vma);
	vma_link_file(vma);
	mm->map_count++;
	mm->vmacache_seqnum++;
}

/* dup_mmap_vma(): the child's copy of one parent VMA, linked into mm. */
static int dup_mmap_vma(struct mm *mm, struct mm *oldmm, struct vma *mpnt)
{
	struct vma *tmp;
	int err;

	if ((mpnt->vm_flags & VM_ACCOUNT) &&
	    security_vm_enough_memory_mm(oldmm, vma_pages(mpnt)))
		return -ENOMEM;
	if ((tmp = vm_area_copy(mpnt, mm)) == NULL)
		return -ENOMEM;
	if (!(tmp->vm_flags & VM_WIPEONFORK) &&
	    (err = anon_vma_fork(tmp, mpnt)) != 0) {
		vm_area_free(tmp);
		return err;
	}
	tmp->vm_flags &= ~VM_LOCKED_MASK;	/* mlock is not inherited */
	vma_link_dup(mm, tmp);
	if (tmp->vm_flags & VM_WIPEONFORK) {
		explain_op("dup_mmap: 0x%lx-0x%lx empty in the child "
		    "(MADV_WIPEONFORK)", tmp->vm_start, tmp->vm_end);
		return 0;
	}
	return copy_page_range(tmp, mpnt);
}

/* After a failed copy of mpnt: the parent's VMAs __mt_dup() left in the
 * child's tree, from mpnt (unless its copy took its slot) up, go. */
static void dup_mmap_unwind(struct mm *mm, struct vma *mpnt)
{
	struct vma *at = mtree_load(&mm->mm_mt, mpnt->vm_start);

	vma_mt_clear(&mm->mm_mt, at == mpnt ? mpnt->vm_start : mpnt->vm_end,
	    0);
}

/* dup_mmap(): copy oldmm's VMAs and PTEs into the new mm. */
static int dup_mmap(struct mm *mm, struct mm *oldmm)
{
	struct vma *mpnt;
	int err = 0;

	mm->total_vm = oldmm->total_vm;
	mm->data_vm = oldmm->data_vm;
	mm->exec_vm = oldmm->exec_vm;
	mm->stack_vm = oldmm->stack_vm;
	/* the child's tree is the parent's, node for node (__mt_dup) */
	if ((err = vma_mt_dup(&oldmm->mm_mt, &mm->mm_mt)) != 0)
		return err;
	for (mpnt = oldmm->mm_mt.first; mpnt != NULL && err == 0;
	    mpnt = mpnt->vm_next) {
		if (mpnt->vm_flags & VM_DONTCOPY) {
			vma_mt_clear(&mm->mm_mt, mpnt->vm_start, mpnt->vm_end);
			vm_stat_account(mm, mpnt->vm_flags,
			    -(long)vma_pages(mpnt));
			explain_op("dup_mmap: 0x%lx-0x%lx not copied "
			    "(MADV_DONTFORK)", mpnt->vm_start, mpnt->vm_end);
		} else if ((err = dup_mmap_vma(mm, oldmm, mpnt)) != 0) {
			dup_mmap_unwind(mm, mpnt);
		}
	}
	explain_op("dup_mmap: %d VMAs copied; those without anonymous pages "
	    "(no anon_vma) share nothing: the child faults them afresh",
	    mm->map_count);
	return err;
}

/* dup_mm(): a new mm with oldmm's layout and a copy of its contents,
 * the layout read under oldmm's mmap_lock (brk moves under it). */
static struct mm *dup_mm(struct mm *oldmm, int *errp)
{
	struct mm *mm = mm_alloc(oldmm->session);

	*errp = -ENOMEM;
	if (mm == NULL)
		return NULL;
	mmap_write_lock(oldmm);
	mmap_write_lock(mm);
	mm->mmap_base = oldmm->mmap_base;
	mm->start_code = oldmm->start_code;
	mm->end_code = oldmm->end_code;
	mm->start_data = oldmm->start_data;
	mm->end_data = oldmm->end_data;
	mm->start_brk = oldmm->start_brk;
	mm->brk = oldmm->brk;
	mm->start_stack = oldmm->start_stack;
	mm->def_flags = oldmm->def_flags;
	*errp = dup_mmap(mm, oldmm);
	mmap_write_unlock(mm);
	mmap_write_unlock(oldmm);
	if (*errp != 0) {
		mmput(mm);
		return NULL;
	}
	return mm;
}

/*
 * Append t to the session's tasks with the next id.  Its thread group
 * (group's, or its own) and its vfork parent, blocked from now on, are
 * set first: other threads may find t by its id as soon as it is listed.
 */
static void attach_task(struct as_session *s, struct task *t,
    const struct task *group, struct task *vfork_parent)
{
	struct task **pp;

	pthread_mutex_lock(&s->lock);
	t->pid = s->next_pid++;
	t->tgid = group != NULL ? group->tgid : t->pid;
	t->vfork_parent = vfork_parent;
	if (vfork_parent != NULL)
		__atomic_store_n(&vfork_parent->vfork_blocked, true,
		    __ATOMIC_RELEASE);
	for (pp = &s->tasks; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = t;
	pthread_mutex_unlock(&s->lock);
}

/* copy_process(): a task sharing parent's mm (clone_vm) or with a copy;
 * a thread of parent's group unless vfork. */
static struct task *copy_process(struct as_session *s, struct task *parent,
    bool clone_vm, bool vfork, int *errp)
{
	struct task *t;

	*errp = -ENOMEM;
	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*t))) != 0)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*t)));
		return NULL;
	}
	if (clone_vm) {
		t->mm = parent->mm;
		__atomic_add_fetch(&t->mm->mm_users, 1, __ATOMIC_RELAXED);
	} else if ((t->mm = dup_mm(parent->mm, errp)) == NULL) {
		memcg_uncharge(&s->mem, kmem_size(sizeof(*t)));
		free(t);
		return NULL;
	}
	attach_task(s, t, clone_vm && !vfork ? parent : NULL,
	    vfork ? parent : NULL);
	*errp = 0;
	return t;
}

/*
 * as_clone(): fork (clone_vm false) or make a thread (true) of parent.
 * Returns the new task, or NULL with *errp set; a failed clone uses no id.
 */
struct task *as_clone(struct as_session *s, struct task *parent, bool clone_vm,
    int *errp)
{
	return copy_process(s, parent, clone_vm, false, errp);
}

/* as_vfork(): clone(CLONE_VM | CLONE_VFORK): a process of its own on
 * parent's mm, parent blocked until it execs or exits. */
struct task *as_vfork(struct as_session *s, struct task *parent, int *errp)
{
	return copy_process(s, parent, true, true, errp);
}

/*
 * as_exit(): the task ends; its mm goes with its last user.  The task's
 * counters stay with the session.
 */
void as_exit(struct as_session *s, struct task *t)
{
	const size_t n = sizeof(t->counters) / sizeof(unsigned long);
	struct task **pp, *u;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->tasks; *pp != NULL && *pp != t; pp = &(*pp)->next)
		;
	if (*pp == t)
		*pp = t->next;
	for (i = 0; i < n; i++)
		__atomic_add_fetch(&((unsigned long *)&s->counters)[i],
		    ((unsigned long *)&t->counters)[i], __ATOMIC_RELAXED);
	for (u = s->tasks; u != NULL; u = u->next)
		if (u->vfork_parent == t)	/* it waits for nobody now */
			u->vfork_parent = NULL;
	if (t->vfork_parent != NULL)	/* mm_release(): wake the parent */
		__atomic_store_n(&t->vfork_parent->vfork_blocked, false,
		    __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	mmput(t->mm);
	memcg_uncharge(&s->mem, kmem_size(sizeof(*t)));
	free(t);
}

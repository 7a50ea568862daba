/*
 * session.c: a simulated machine: its limits, RAM, files and tasks.  Task
 * 1 starts by exec'ing the session's program image (exec.c), so a fresh
 * session looks like a small real process; its layout is Linux's
 * non-randomised one unless the session randomises by its seed
 * (docs/trace-format.md, "Layout").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "session.h"
#include "shm.h"

void as_session_params_default(struct as_session_params *p)
{
	int k;

	memset(p, 0, sizeof(*p));
	p->ram_bytes = 1UL << 30;
	for (k = 0; k < KP_COUNT; k++)
		p->kparam[k] = kparam_default((enum kparam)k);
	as_image_default(&p->image, "prog");
}

/* Where each kernel parameter lives in the machine's limits.  A finite
 * RLIMIT_MEMLOCK also takes CAP_IPC_LOCK away (root ignores the limit). */
static void limits_set(struct as_limits *l, enum kparam k, unsigned long v)
{
	switch (k) {
	case KP_ZERO_PAGE:	   l->zero_page = v != 0; break;
	case KP_SHARE_TABLES:	   l->share_tables = v != 0; break;
	case KP_SWAP:		   l->swap_bytes = v; break;
	case KP_FAULT_AROUND_BYTES: l->fault_around_bytes = v; break;
	case KP_MAX_MAP_COUNT:	   l->max_map_count = (int)v; break;
	case KP_RLIMIT_STACK:	   l->rlimit_stack = v; break;
	case KP_RLIMIT_MEMLOCK:
		l->rlimit_memlock = v == KP_UNLIMITED ? AS_RLIM_INFINITY : v;
		l->cap_ipc_lock = v == KP_UNLIMITED;
		break;
	default:
		break;
	}
}

unsigned long as_kparam_get(struct as_session *s, enum kparam k)
{
	const struct as_limits *l = &s->limits;

	switch (k) {
	case KP_ZERO_PAGE:	   return l->zero_page;
	case KP_SHARE_TABLES:	   return l->share_tables;
	case KP_SWAP:		   return l->swap_bytes;
	case KP_FAULT_AROUND_BYTES: return l->fault_around_bytes;
	case KP_MAX_MAP_COUNT:	   return (unsigned long)l->max_map_count;
	case KP_RLIMIT_STACK:	   return l->rlimit_stack;
	case KP_RLIMIT_MEMLOCK:
		return l->cap_ipc_lock ? KP_UNLIMITED : l->rlimit_memlock;
	case KP_RAM:		/* 0: all the session was made with */
		return s->phys.nr_frames == s->phys.max_frames ? 0 :
		    l->ram_bytes;
	default:		   return 0;
	}
}

/* `kernel ram SIZE`: the machine's RAM from now on, no more than the
 * session was made with and no less than the frames it has handed out
 * (-ERANGE); 0 gives it all back. */
static int kparam_set_ram(struct as_session *s, unsigned long v)
{
	if (v == 0)
		v = s->phys.max_frames << AS_PAGE_SHIFT;
	if (phys_set_ram(&s->phys, v) != 0)
		return -ERANGE;
	s->limits.ram_bytes = v;
	return 0;
}

int as_kparam_set(struct as_session *s, enum kparam k, unsigned long v)
{
	struct task *t = as_task_lookup(s, 1);

	if (!kparam_valid(k, v))
		return -EINVAL;
	if (__atomic_load_n(&s->started, __ATOMIC_ACQUIRE) || t == NULL)
		return -EBUSY;
	if (k == KP_RAM)
		return kparam_set_ram(s, v);
	if (k == KP_RLIMIT_STACK && v != s->limits.rlimit_stack) {
		limits_set(&s->limits, k, v);
		return as_exec(s, t, &s->image);	/* setup_arg_pages() again */
	}
	limits_set(&s->limits, k, v);
	return 0;
}

void as_session_start(struct as_session *s)
{
	/* Read first: the daemon's hot path calls this on every access. */
	if (!__atomic_load_n(&s->started, __ATOMIC_RELAXED))
		__atomic_store_n(&s->started, true, __ATOMIC_RELEASE);
}

/* A small program: 8 KiB of text, 4 KiB of data, 8 KiB of bss. */
void as_image_default(struct as_image *img, const char *name)
{
	memset(img, 0, sizeof(*img));
	snprintf(img->name, sizeof(img->name), "%s", name);
	img->text = 8UL << 10;
	img->data = 4UL << 10;
	img->bss = 8UL << 10;
}

unsigned long as_session_mem_limit(unsigned long ram_bytes)
{
	return ram_bytes + phys_meta_bytes(ram_bytes);
}

unsigned long as_session_mem(const struct as_session *s)
{
	long u = memcg_usage(&s->mem);

	return u > 0 ? (unsigned long)u : 0;
}

void as_session_mem_attach(struct as_session *s, struct as_memcg *parent)
{
	s->mem.parent = parent;
	memcg_charge_force(parent, memcg_usage(&s->mem));
}

struct as_session *as_session_new(const struct as_session_params *p)
{
	struct as_session *s = calloc(1, sizeof(*s));
	struct task *t = calloc(1, sizeof(*t));
	struct as_image dflt;
	int k;

	as_image_default(&dflt, "prog");
	if (s == NULL || t == NULL)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->anon_vma_lock, NULL);
	s->limits.ram_bytes = p->ram_bytes ? p->ram_bytes : 1UL << 30;
	/* The session and task 1 are the first charges; a parent already
	 * spent refuses the session. */
	s->mem.parent = p->mem_parent;
	s->mem.limit = (long)as_session_mem_limit(s->limits.ram_bytes);
	if (memcg_try_charge(&s->mem, kmem_size(sizeof(*s)) +
	    kmem_size(sizeof(*t))) != 0) {
		s->mem.parent = NULL;	/* nothing went up */
		goto fail;
	}
	for (k = 0; k < KP_COUNT; k++) {
		if (!kparam_valid((enum kparam)k, p->kparam[k]))
			goto fail;
		limits_set(&s->limits, (enum kparam)k, p->kparam[k]);
	}
	s->limits.rlimit_as = AS_RLIM_INFINITY;
	s->limits.rlimit_data = AS_RLIM_INFINITY;
	s->image = p->image.name[0] ? p->image : dflt;
	s->seed = p->seed;
	s->randomize = p->randomize;
	if (phys_init(&s->phys, s->limits.ram_bytes, &s->mem) != 0)
		goto fail;
	if (p->kparam[KP_RAM] != 0 && kparam_set_ram(s, p->kparam[KP_RAM]))
		goto fail;	/* more than the session's RAM */
	t->pid = t->tgid = 1;
	s->next_pid = 2;
	s->tasks = t;
	if (as_exec(s, t, &s->image) != 0)
		goto fail;
	host_ksm_session(s, p);	/* the bytes every such session holds */
	return s;
fail:
	if (s == NULL || s->tasks == NULL)
		free(t);
	as_session_free(s);
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
		memcg_uncharge(&s->mem, kmem_size(sizeof(*t)));
		free(t);
	}
	shm_exit_ns(s);
	for (f = s->files; f != NULL; f = fn) {
		fn = f->next;
		iput(s, f);
	}
	phys_destroy(&s->phys);
	pthread_mutex_destroy(&s->anon_vma_lock);
	pthread_mutex_destroy(&s->lock);
	/* What is left is the session itself (and anything a failed
	 * as_session_new() or load charged): the parents get it all back. */
	memcg_uncharge(&s->mem, memcg_usage(&s->mem));
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

/* ext4_truncate() to size 0 sets EXT4_STATE_DA_ALLOC_CLOSE. */
static void file_set_da_alloc_close(struct as_file *f)
{
	pthread_mutex_lock(&f->lock);
	f->da_alloc_close = true;
	pthread_mutex_unlock(&f->lock);
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
		filemap_write(&s->phys, f, 0);	/* i_size 0 first */
		unmap_mapping_range(s, f);
		file_set_da_alloc_close(f);
		return filemap_write(&s->phys, f, size);
	}
	if ((f = as_file_alloc(name, 0, false, &s->mem)) == NULL)
		return -ENOMEM;
	file_set_da_alloc_close(f);
	if (filemap_write(&s->phys, f, size) != 0) {
		iput(s, f);
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

__thread struct as_counters vm_event_states;

void as_thread_events(struct as_counters *out)
{
	*out = vm_event_states;
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

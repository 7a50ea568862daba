/*
 * session.c: a simulated machine: its limits, RAM, files and tasks.  Task
 * 1 starts by exec'ing the session's program image (exec.c), so a fresh
 * session looks like a small real process; its layout is Linux's
 * non-randomised one unless the session randomises by its seed
 * (docs/trace-format.md, "Layout").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "session.h"

void as_session_params_default(struct as_session_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ram_bytes = 1UL << 30;
	p->max_map_count = AS_DEFAULT_MAX_MAP_COUNT;
	p->rlimit_stack = 8UL << 20;
	as_image_default(&p->image, "prog");
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

struct as_session *as_session_new(const struct as_session_params *p)
{
	struct as_session *s = calloc(1, sizeof(*s));
	struct task *t = calloc(1, sizeof(*t));
	struct as_image dflt;

	as_image_default(&dflt, "prog");
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
	if (as_exec(s, t, p->image.name[0] ? &p->image : &dflt) != 0)
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
		filemap_write(&s->phys, f, 0);	/* i_size 0 first */
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

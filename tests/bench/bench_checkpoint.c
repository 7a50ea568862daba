/*
 * bench_checkpoint.c: the size of a checkpoint and the time to save and
 * load it (lib/checkpoint-save.c, checkpoint-load.c), for a session with 256 MiB of touched
 * memory in 1024 VMAs (64 pages each, a page apart so none merge):
 *
 *   sparse  every page written once (one byte), as a fault-heavy trace
 *           leaves memory: contents cost a few bytes a page;
 *   dense   every page then filled with random bytes (straight into the
 *           frames): contents are stored raw;
 *   pair    the dense session forked: two mms, one set of shared frames.
 *
 * Run once, by hand or by `make bench`; not part of `make check`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "checkpoint.h"
#include "fault.h"
#include "mm.h"
#include "pgtable.h"

#define BASE	0x200000000000UL
#define NVMAS	1024
#define VMA_PG	64
#define PG	4096UL

/* 1024 VMAs of 256 KiB, each page written once. */
static struct as_session *touched_session(void)
{
	struct as_session_params p;
	struct as_session *s;
	struct task *t;
	struct access_result r = { .store = true };
	unsigned long v, i, a;

	as_session_params_default(&p);
	if ((s = as_session_new(&p)) == NULL)
		return NULL;
	t = as_task_lookup(s, 1);
	for (v = 0; v < NVMAS; v++) {
		a = BASE + v * (VMA_PG + 1) * PG;
		if (IS_ERR_VALUE(sys_mmap(t->mm, a, VMA_PG * PG,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED, NULL, 0, 0)))
			return NULL;
		for (i = 0; i < VMA_PG; i++) {
			r.value = (uint8_t)(1 + (v + i) % 255);
			if (as_access(t, a + i * PG, AS_WRITE, &r) != 0)
				return NULL;
		}
	}
	return s;
}

/* Fill every touched frame with random bytes. */
static void make_dense(struct as_session *s)
{
	struct mm *mm = as_task_lookup(s, 1)->mm;
	unsigned long v, i, k, a;
	uint64_t *d;
	pte_t e[4];

	for (v = 0; v < NVMAS; v++) {
		for (i = 0; i < VMA_PG; i++) {
			a = BASE + (v * (VMA_PG + 1) + i) * PG;
			pgtable_walk(mm, a, e);
			d = (uint64_t *)pfn_to_page(&s->phys,
			    pte_pfn(e[3]))->data;
			for (k = 0; k < PG / 8; k++)
				d[k] = rnd();
		}
	}
}

/* Save, load, save again; print the figures. */
static int measure(const char *what, struct as_session *s)
{
	struct as_session *s2;
	struct as_buf ck, again;
	double t0, t1, t2;
	char why[256];
	int err;

	as_buf_init(&ck, 4UL << 30);
	as_buf_init(&again, 4UL << 30);
	t0 = now_ns();
	err = as_session_save(s, &ck);
	t1 = now_ns();
	if (err == 0)
		err = as_session_load(ck.data, ck.len, &s2, why, sizeof(why));
	t2 = now_ns();
	if (err != 0) {
		fprintf(stderr, "bench_checkpoint: %s: %d %s\n", what, err,
		    why);
		return 1;
	}
	printf("%-7s checkpoint %8.1f MiB  save %7.1f ms  load %7.1f ms "
	    "(%lu frames in use)\n", what, ck.len / 1048576.0,
	    (t1 - t0) / 1e6, (t2 - t1) / 1e6, s->phys.nr_used);
	err = as_session_save(s2, &again) != 0 || again.len != ck.len ||
	    memcmp(again.data, ck.data, ck.len) != 0;
	if (err)
		fprintf(stderr, "bench_checkpoint: %s: saved again, differs\n",
		    what);
	as_session_free(s2);
	as_buf_free(&ck);
	as_buf_free(&again);
	return err;
}

int main(void)
{
	struct as_session *s = touched_session();
	int err, bad = 0;

	if (s == NULL) {
		fprintf(stderr, "bench_checkpoint: setup failed\n");
		return 1;
	}
	bad |= measure("sparse", s);
	make_dense(s);
	bad |= measure("dense", s);
	if (as_clone(s, as_task_lookup(s, 1), false, &err) == NULL) {
		fprintf(stderr, "bench_checkpoint: fork: %d\n", err);
		return 1;
	}
	bad |= measure("pair", s);
	as_session_free(s);
	return bad;
}

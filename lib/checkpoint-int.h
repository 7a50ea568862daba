/*
 * checkpoint-int.h: what the checkpoint's files share and nothing else
 * sees: the format's constants and tables, the saver's state (struct
 * ck_save, with its pointer tables) and the loader's (struct ck_load),
 * and the functions one file lends another: the codec's
 * (checkpoint-codec.c) and the cross-checks' entry (checkpoint-verify.c).
 * The format itself is described in checkpoint.h.
 */
#ifndef ASPACE_CHECKPOINT_INT_H
#define ASPACE_CHECKPOINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "mm.h"
#include "pgtable.h"
#include "shm.h"

#define NONE		0xffffffffU
#define NCOUNTERS	(sizeof(struct as_counters) / sizeof(unsigned long))
#define PG_KNOWN	(PG_locked | PG_referenced | PG_uptodate | PG_dirty | \
			 PG_lru | PG_anon | PG_swapbacked | PG_reserved | \
			 PG_pgtable | PG_mlocked | PG_swapcache | PG_active | \
			 PG_reclaim)
#define PTE_KNOWN	(PTE_PFN_MASK | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | \
			 _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PROTNONE | \
			 _PAGE_SPECIAL | _PAGE_NX)
#define MAX_CACHE_INDEX	(1UL << 24)	/* page-cache slots a file may need */
#define MAX_RUNS	1024		/* runs of one frame's contents */
#define IMAGE_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789._-"

enum { DATA_ZERO, DATA_RAW, DATA_RUNS };

_Static_assert(NCOUNTERS == 17, "the format has 17 counters");

enum { S_SESS, S_FRAM, S_SWAP, S_FILE, S_OPEN, S_AVMA, S_MMS, S_TASK, S_SHM,
    S_LRU };
extern const char *const sect_tags[S_LRU + 1];	/* checkpoint-codec.c */
/* What an older format version lacks, for the loader's message ("":
 * nothing to say). */
const char *ck_old_version_why(unsigned int version);
#define NSECT	(sizeof(sect_tags) / sizeof(sect_tags[0]))

extern const char *const special_names[4];	/* checkpoint-codec.c */
#define NSPECIAL	(sizeof(special_names) / sizeof(special_names[0]))

/* An object -> index table (checkpoint-codec.c). */
struct ptab {
	const void	**obj;		/* by index */
	uint32_t	 n, cap;
	const void	**key;		/* open addressing, hcap slots */
	uint32_t	*val;
	size_t		 hcap;
};

/* The saver's state (checkpoint-save.c). */
struct ck_save {
	struct as_session *s;
	struct as_buf	*out;
	size_t		 base;		/* the checkpoint's offset in out */
	size_t		 sect;		/* the open section's length field */
	int		 err;
	struct ptab	 mms, files, opens, avs;	/* opens: struct files */
	struct ptab	 vmas;		/* VMA -> ordinal in its mm */
};

/* The loader's state (checkpoint-load.c, checkpoint-verify.c). */
struct ck_load {
	const uint8_t	*p;		/* the section being read */
	size_t		 len, off;
	const char	*sect;		/* its tag, for messages */
	int		 err;
	char		*why;
	size_t		 whylen;
	size_t		 body_len;
	struct as_session *s;
	uint32_t	 nfile, nopen, nav, nmm, ntask;
	struct as_file	**files;
	uint8_t		*listed;	/* per file: on the session's list */
	unsigned long	*file_pages;	/* per file: frames naming it */
	unsigned long	*file_opens;	/* per file: struct files of it */
	struct file	**opens;
	unsigned long	*open_vmas;	/* per struct file: VMAs holding it */
	struct anon_vma	**avs;
	uint32_t	*av_root, *av_parent;	/* their indices */
	unsigned long	*av_links, *av_active;	/* counted from the VMAs */
	int		*vfork_pid;	/* per task: its vfork parent's pid */
	uint32_t	*task_mm;	/* per task: its mm's index */
	bool		 phys_ready;
	unsigned long	 ram_max;	/* RAM the session was made with */
	struct mm	**mms;
	struct vma	***vmas;	/* per mm: its VMAs in order */
	uint32_t	*nvma;
	struct task	**tasks;
	unsigned long	 next_unused;
	uint8_t		*state;		/* per pfn below next_unused: FS_* */
	uint32_t	*tally;		/* per pfn: PTEs mapping it */
	unsigned long	*pfns;		/* the frames in use, in order */
	unsigned long	 npages;
};

enum { FS_LOST, FS_FREE, FS_USED, FS_TABLE };	/* FS_TABLE: claimed */

/* --- checkpoint-codec.c --------------------------------------------------- */

void ck_le_put(uint8_t *p, uint64_t v, int n);
uint64_t ck_le_get(const uint8_t *p, int n);

uint32_t ck_ptab_get(const struct ptab *t, const void *p);
int ck_ptab_add(struct ptab *t, const void *p);
int ck_ptab_map(struct ptab *t, const void *p, uint32_t v);
void ck_ptab_sort(struct ptab *t, int (*cmp)(const void *, const void *));
void ck_ptab_free(struct ptab *t);

void ck_put_bytes(struct ck_save *w, const void *p, size_t n);
void ck_put_u8(struct ck_save *w, uint64_t v);
void ck_put_u16(struct ck_save *w, uint64_t v);
void ck_put_u32(struct ck_save *w, uint64_t v);
void ck_put_u64(struct ck_save *w, uint64_t v);
void ck_sect_begin(struct ck_save *w, int i);
void ck_sect_end(struct ck_save *w);

/* Record the first error with its reason; returns it. */
int ck_fail(struct ck_load *l, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define BAD(l, ...)	ck_fail((l), -EBADMSG, __VA_ARGS__)

uint64_t ck_get_u16(struct ck_load *l);
uint64_t ck_get_u64(struct ck_load *l);
const uint8_t *ck_get_bytes(struct ck_load *l, size_t n);
uint64_t ck_get_range(struct ck_load *l, int n, uint64_t lo, uint64_t hi,
    const char *what);
bool ck_get_bool(struct ck_load *l, const char *what);
uint64_t ck_get_count(struct ck_load *l, int n, size_t min,
    const char *what);
uint32_t ck_get_idx(struct ck_load *l, uint32_t n, bool none_ok,
    const char *what);
void *ck_load_calloc(struct ck_load *l, size_t n, size_t size);
/* A frame's contents as its encoding byte says (checkpoint-load.c). */
int ck_load_frame_data(struct ck_load *l, uint8_t *d, bool zero_page);

/* --- checkpoint-files.c --------------------------------------------------- */

/* The SWAP section; the FILE section. */
int ck_load_swap(struct ck_load *l);
int ck_load_files(struct ck_load *l);

/* --- checkpoint-lru.c ----------------------------------------------------- */

void ck_save_lru(struct ck_save *w);
int ck_load_lru(struct ck_load *l);


/* --- checkpoint-verify.c -------------------------------------------------- */

/* Every cross-check, the last being mm_validate()'s own. */
int ck_load_verify(struct ck_load *l);

#endif /* ASPACE_CHECKPOINT_INT_H */

/*
 * exec.c: replacing a task's address space with a program image
 * (fs/exec.c, fs/binfmt_elf.c, arch/x86/entry/vdso).
 *
 * The image is a small position-independent program, named as the trace
 * names it: a header page (r--), its text (r-x), a read-only data page
 * (r--) and its data (rw-), all private mappings of a program file; then
 * its bss (anonymous rw-), an empty heap at start_brk, [vvar],
 * [vvar_vclock] and [vdso] below mmap_base, and a [stack] whose top page
 * holds the program name, its arguments and its environment.  With
 * randomisation on, the load address, mmap_base, stack top and brk move by
 * amounts drawn from the session's seed, in Linux's ranges; a given seed
 * always gives the same layout.
 */
#include <string.h>

#include "mm.h"
#include "page.h"
#include "pgtable.h"
#include "session.h"

#define ELF_ET_DYN_BASE	0x555555554000UL
#define STACK_EXPAND	(128UL << 10)	/* setup_arg_pages()' headroom */
#define PG		AS_PAGE_SIZE

struct layout {
	unsigned long	 rnd_mmap, rnd_stack, rnd_brk, rnd_base;
};

/* splitmix64 over the session's seed. */
uint64_t as_session_random(struct as_session *s)
{
	uint64_t z = __atomic_add_fetch(&s->seed, 0x9e3779b97f4a7c15ULL,
	    __ATOMIC_RELAXED);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The random offsets (models arch_mmap_rnd(), randomize_stack_top() and
 * arch_randomize_brk()); all zero without randomisation. */
static void pick_layout(struct as_session *s, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	if (!s->randomize)
		return;
	l->rnd_mmap = (as_session_random(s) & ((1UL << 28) - 1)) << 12;
	l->rnd_stack = (as_session_random(s) & 0x3fffffUL) << 12;
	l->rnd_brk = (as_session_random(s) & 0x1fffUL) << 12;
	l->rnd_base = (as_session_random(s) & ((1UL << 28) - 1)) << 12;
}

/* A special mapping ([vvar], [vdso]...) of npages at addr. */
static int install_special_mapping(struct mm *mm, unsigned long addr,
    unsigned long npages, unsigned long flags, const char *name)
{
	struct vma *vma = vm_area_alloc(mm);

	if (vma == NULL)
		return -ENOMEM;
	vma->vm_start = addr;
	vma->vm_end = addr + npages * PG;
	vma->vm_flags = flags | VM_DONTEXPAND;
	vma->vm_pgoff = addr >> AS_PAGE_SHIFT;
	vma->vm_special_name = name;
	vma_set_page_prot(vma);
	vma_link(mm, vma);
	vm_stat_account(mm, vma->vm_flags, (long)npages);
	return 0;
}

/* map_vdso(): [vvar] (4 pages), [vvar_vclock] (2), [vdso] (2) together. */
static int map_vdso(struct mm *mm)
{
	unsigned long addr = get_unmapped_area(mm, NULL, 0, 8 * PG, 0, 0);
	const unsigned long vvar = VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP |
	    VM_DONTDUMP;
	int err;

	if (IS_ERR_VALUE(addr))
		return (int)addr;
	if ((err = install_special_mapping(mm, addr, 4, vvar, "[vvar]")) ||
	    (err = install_special_mapping(mm, addr + 4 * PG, 2, vvar,
	    "[vvar_vclock]")))
		return err;
	return install_special_mapping(mm, addr + 6 * PG, 2, VM_READ |
	    VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, "[vdso]");
}

/* models setup_arg_pages(): the [stack] VMA below stack_top. */
static int setup_stack(struct mm *mm, unsigned long stack_top)
{
	struct vma *vma = vm_area_alloc(mm);

	if (vma == NULL)
		return -ENOMEM;
	vma->vm_end = stack_top;
	vma->vm_start = stack_top - PG - STACK_EXPAND;
	vma->vm_flags = VM_DATA_DEFAULT_FLAGS | VM_GROWSDOWN | VM_ACCOUNT;
	vma->vm_pgoff = vma->vm_start >> AS_PAGE_SHIFT;
	vma_set_page_prot(vma);
	vma_link(mm, vma);
	vm_stat_account(mm, vma->vm_flags, (long)vma_pages(vma));
	return 0;
}

/* Copy bytes into the new mm, faulting its pages in (models
 * copy_strings()). */
static int put_user_bytes(struct mm *mm, unsigned long addr,
    const void *src, size_t len)
{
	const uint8_t *p = src;
	struct vma *vma;
	struct page *page;
	pte_t *pte;
	size_t n;

	while (len > 0) {
		if ((vma = vma_lookup(mm, addr)) == NULL ||
		    handle_mm_fault(vma, addr, FAULT_FLAG_WRITE, NULL, NULL))
			return -EFAULT;
		n = PG - (addr & (PG - 1));
		n = n < len ? n : len;
		pte = pte_offset(mm, addr);
		page = pfn_to_page(&mm->session->phys, pte_pfn(*pte));
		if (page_make_writable(page) != 0)
			return -EFAULT;
		memcpy(page->data + (addr & (PG - 1)), p, n);
		addr += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* models create_elf_tables(): strings, then argv/envp pointers, then argc. */
static int write_args(struct mm *mm, unsigned long top, const char *name)
{
	static const char *const envp[] = { "HOME=/", "PATH=/usr/bin:/bin" };
	unsigned long sp = top - sizeof(unsigned long), ptrs[4], argc = 1;
	size_t i;
	int err = 0;

	sp -= strlen(name) + 1;		/* the file name, highest */
	err |= put_user_bytes(mm, sp, name, strlen(name) + 1);
	for (i = 0; i < 2; i++) {
		sp -= strlen(envp[i]) + 1;
		ptrs[2 + i] = sp;
		err |= put_user_bytes(mm, sp, envp[i], strlen(envp[i]) + 1);
	}
	sp -= strlen(name) + 1;		/* argv[0] */
	ptrs[0] = sp;
	err |= put_user_bytes(mm, sp, name, strlen(name) + 1);
	ptrs[1] = 0;			/* argv's NULL; envp's follows */
	sp = (sp - 6 * sizeof(unsigned long)) & ~15UL;
	err |= put_user_bytes(mm, sp, &argc, sizeof(argc));
	err |= put_user_bytes(mm, sp + 8, ptrs, sizeof(ptrs));
	err |= put_user_bytes(mm, sp + 40, &ptrs[1], sizeof(ptrs[1]));
	mm->start_stack = sp;
	return err ? -EFAULT : 0;
}

/* elf_map() of one segment of the program file (one open file: the
 * segments are pieces of one struct file, as bprm->file's are). */
static int elf_map(struct mm *mm, struct file *f, unsigned long addr,
    unsigned long len, unsigned long prot, unsigned long off)
{
	unsigned long r = vm_mmap(mm, f, addr, len, prot,
	    MAP_PRIVATE | MAP_FIXED, off);

	return IS_ERR_VALUE(r) ? (int)r : 0;
}

/* models load_elf_binary()'s mappings: header, text, rodata, data, bss. */
static int load_segments(struct mm *mm, const struct as_image *img,
    unsigned long base, struct file *f)
{
	unsigned long text = AS_PAGE_ALIGN(img->text), data =
	    AS_PAGE_ALIGN(img->data), bss = AS_PAGE_ALIGN(img->bss);
	unsigned long a = base, bss_at;
	int err;

	if ((err = elf_map(mm, f, a, PG, PROT_READ, 0)) ||
	    (text && (err = elf_map(mm, f, a + PG, text,
	    PROT_READ | PROT_EXEC, PG))) ||
	    (err = elf_map(mm, f, a + PG + text, PG, PROT_READ, PG + text)) ||
	    (data && (err = elf_map(mm, f, a + 2 * PG + text, data,
	    PROT_READ | PROT_WRITE, 2 * PG + text))))
		return err;
	mm->start_code = a + PG;
	mm->end_code = a + PG + text;
	mm->start_data = a + 2 * PG + text;
	mm->end_data = mm->start_data + data;
	bss_at = mm->end_data;
	if (bss > 0 && IS_ERR_VALUE(sys_mmap(mm, bss_at, bss, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0, 0)))
		return -ENOMEM;
	mm->start_brk = mm->brk = bss_at + bss;
	return 0;
}

/* The new mm of an exec, or NULL with *errp. */
static struct mm *exec_mmap(struct as_session *s, const struct as_image *img,
    int *errp)
{
	struct mm *mm = mm_alloc(s);
	struct as_file *inode;
	struct file *f = NULL;
	struct layout l;
	unsigned long size = 2 * PG + AS_PAGE_ALIGN(img->text) +
	    AS_PAGE_ALIGN(img->data);

	*errp = -ENOMEM;
	if (mm == NULL)
		return NULL;
	pick_layout(s, &l);
	mm->mmap_base = mmap_base_for(s, l.rnd_mmap);
	if ((inode = as_file_alloc(img->name, 0, false, &s->mem)) != NULL) {
		*errp = filemap_write(&s->phys, inode, size);
		if (*errp == 0 && (f = alloc_file(s, inode)) == NULL)
			*errp = -ENOMEM;
		if (*errp == 0)
			*errp = load_segments(mm, img,
			    ELF_ET_DYN_BASE + l.rnd_base, f);
		if (f != NULL)
			fput(s, f);	/* the mappings hold it now */
		iput(s, inode);
	}
	if (*errp == 0) {
		/* Randomised, brk leaves a page after the bss first. */
		if (s->randomize)
			mm->start_brk = mm->brk = mm->brk + PG + l.rnd_brk;
		*errp = map_vdso(mm);
	}
	if (*errp == -ENOSPC)
		*errp = -ENOMEM;	/* no memory for the program's pages */
	if (*errp == 0 && (*errp = setup_stack(mm, AS_TASK_SIZE -
	    l.rnd_stack)) == 0)
		*errp = write_args(mm, AS_TASK_SIZE - l.rnd_stack, img->name);
	if (*errp != 0) {
		mmput(mm);
		return NULL;
	}
	return mm;
}

/* One other task of t's thread group, or NULL. */
static struct task *other_thread(struct as_session *s, struct task *t)
{
	struct task *u;

	pthread_mutex_lock(&s->lock);
	for (u = s->tasks; u != NULL; u = u->next)
		if (u != t && u->tgid == t->tgid && u->mm == t->mm)
			break;
	pthread_mutex_unlock(&s->lock);
	return u;
}

/* de_thread(): the other tasks of the exec'ing task's thread group go,
 * and it takes the group leader's id. */
static void de_thread(struct as_session *s, struct task *t)
{
	struct task *u;

	while ((u = other_thread(s, t)) != NULL)
		as_exit(s, u);
	pthread_mutex_lock(&s->lock);
	t->pid = t->tgid;
	pthread_mutex_unlock(&s->lock);
}

/*
 * as_exec(): task t runs a new program: a fresh mm replaces its own (or
 * the one it borrowed from a vfork parent, which is then released).
 */
int as_exec(struct as_session *s, struct task *t, const struct as_image *img)
{
	struct mm *old = t->mm, *mm;
	int err;

	if ((mm = exec_mmap(s, img, &err)) == NULL)
		return err;
	if (old != NULL)
		de_thread(s, t);
	t->mm = mm;
	memset(t->vmacache, 0, sizeof(t->vmacache));
	pthread_mutex_lock(&s->lock);
	if (t->vfork_parent != NULL) {
		__atomic_store_n(&t->vfork_parent->vfork_blocked, false,
		    __ATOMIC_RELEASE);
		t->vfork_parent = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	mmput(old);
	return 0;
}

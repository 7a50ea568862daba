/*
 * shell-help.c: aspace shell's "help" and "help CMD": each command's
 * syntax, what it does in a line, and an example, as docs/trace-format.md
 * (section 4, and 9 for the extensions) and docs/aspace.1 describe them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "shell-cmds.h"

static const struct shell_help {
	const char	*name;
	const char	*syntax;
	const char	*what;
	const char	*example;
} help[] = {
	{ "mmap", "mmap ADDR LEN PROT FLAGS [NAME OFFSET]",
	  "map LEN bytes (PROT rwx or -, FLAGS private|shared,anon,fixed,...)",
	  "mmap 0x200000000000 8K rw- private,anon,fixed" },
	{ "munmap", "munmap ADDR LEN", "unmap a range",
	  "munmap 0x200000000000 4K" },
	{ "mprotect", "mprotect ADDR LEN PROT", "change a range's protection",
	  "mprotect 0x200000000000 4K r--" },
	{ "mremap", "mremap ADDR OLDLEN NEWLEN MFLAGS [NEWADDR]",
	  "grow, shrink or move a mapping (MFLAGS 0, maymove, fixed, ...)",
	  "mremap 0x200000000000 8K 16K maymove" },
	{ "madvise", "madvise ADDR LEN ADVICE",
	  "advise on a range (dontneed, pageout, willneed, ...)",
	  "madvise 0x200000000000 4K dontneed" },
	{ "mlock", "mlock ADDR LEN", "lock a range in memory",
	  "mlock 0x200000000000 4K" },
	{ "munlock", "munlock ADDR LEN", "unlock a range",
	  "munlock 0x200000000000 4K" },
	{ "msync", "msync ADDR LEN MSFLAGS",
	  "write a shared file mapping back (sync, async, invalidate)",
	  "msync 0x200000000000 4K sync" },
	{ "brk", "brk ADDR", "move the program break (0: ask where it is)",
	  "brk 0" },
	{ "read", "read ADDR", "read a byte: its value, or the signal",
	  "read 0x200000000000" },
	{ "write", "write ADDR BYTE", "write a byte",
	  "write 0x200000000000 0x41" },
	{ "touch", "touch ADDR r|w|x", "access a byte without a value",
	  "touch 0x200000000000 w" },
	{ "file", "file NAME SIZE", "make a file that mmap can map",
	  "file data 16K" },
	{ "exec", "exec NAME [TEXT DATA BSS]",
	  "replace the task's program (an extension)", "exec prog" },
	{ "fork", "fork", "make a child process: its task ID", "fork" },
	{ "vfork", "vfork", "make a child sharing the memory (an extension)",
	  "vfork" },
	{ "thread", "thread", "make a thread of the current process",
	  "thread" },
	{ "switch", "switch ID", "make task ID the current one", "switch 2" },
	{ "exit", "exit", "end the current task (none is current then)",
	  "exit" },
	{ "maps", "maps", "print /proc/PID/maps", "maps" },
	{ "smaps", "smaps", "print /proc/PID/smaps", "smaps" },
	{ "window", "window START LEN",
	  "show only the mappings in [START, START+LEN) in maps and smaps",
	  "window 0x200000000000 0x1000000" },
	{ "kernel", "kernel [NAME VALUE]",
	  "set a kernel parameter (before any other command); alone: show "
	  "them", "kernel zero_page off" },
	{ "shmget", "shmget NAME SIZE", "make a System V segment",
	  "shmget seg 8K" },
	{ "shmat", "shmat NAME ADDR SHMFLAGS",
	  "attach a segment (SHMFLAGS - or rdonly,exec,remap,rnd)",
	  "shmat seg 0 -" },
	{ "shmdt", "shmdt ADDR", "detach a segment", "shmdt 0x7ffff7ff0000" },
	{ "shmrm", "shmrm NAME", "remove a segment (IPC_RMID)",
	  "shmrm seg" },
	/* The shell's own: not trace commands. */
	{ "walk", "walk ADDR",
	  "the page-table entries at ADDR, the pte's bits decoded",
	  "walk 0x200000000000" },
	{ "status", "status", "the current task's /proc/PID/status memory "
	  "lines", "status" },
	{ "counters", "counters [--task-only]",
	  "the session's event counters (or the current task's)",
	  "counters" },
	{ "check", "check", "the daemon's consistency check of the session",
	  "check" },
	{ "explain", "explain [on|off]",
	  "print each command's path in the kernel after its result",
	  "explain on" },
	{ "why", "why", "the last command's path: faults, placements, "
	  "merges and splits with their rules", "why" },
	{ "help", "help [CMD]", "the commands, or CMD's syntax and an example",
	  "help mmap" },
	{ "quit", "quit", "leave (as Ctrl-D does)", "quit" },
};
#define NHELP (sizeof(help) / sizeof(help[0]))

const char *shell_command_name(size_t i)
{
	return i < NHELP ? help[i].name : NULL;
}

/* help: the commands, in two groups; help CMD: CMD's. */
int shell_help(FILE *f, const char *cmd, size_t len)
{
	size_t i, col;

	if (len == 0) {
		fputs("trace commands, run as the current task (help CMD for "
		    "one):\n ", f);
		for (i = 0, col = 1; i < NHELP; i++) {
			if (strcmp(help[i].name, "walk") == 0) {
				fputs("\nthe shell's own:\n ", f);
				col = 1;
			} else if (col + strlen(help[i].name) > 72) {
				fputs("\n ", f);
				col = 1;
			}
			col += (size_t)fprintf(f, " %s", help[i].name);
		}
		fputs("\nCtrl-C drops the line; quit or Ctrl-D leaves.\n", f);
		return 0;
	}
	for (i = 0; i < NHELP; i++)
		if (strlen(help[i].name) == len &&
		    strncmp(help[i].name, cmd, len) == 0) {
			fprintf(f, "%s\n  %s\n  example: %s\n", help[i].syntax,
			    help[i].what, help[i].example);
			return 0;
		}
	fprintf(f, "help: no command '%.*s' (help lists them)\n", (int)len,
	    cmd);
	return 1;
}

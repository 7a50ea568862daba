/*
 * walk-bits.c: aspace walk's decoding of a page-table entry's bits, as
 * text and as JSON (where every 64-bit word is a string of hex digits,
 * "0x..." as the text prints it, which no consumer reading numbers as
 * doubles can round).
 *
 * A present entry (or a PROT_NONE one, present to the kernel) shows its
 * flags, present rw user accessed dirty protnone special nx, and its
 * frame number; an entry that is neither and not zero is a swap entry,
 * which subcmd.c decodes from the daemon's fields; zero is none.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "pgtable.h"
#include "shell.h"
#include "walk-bits.h"

static const struct {
	uint64_t	 bit;
	const char	*name;
} pte_bits[] = {
	{ _PAGE_PRESENT, "present" }, { _PAGE_RW, "rw" },
	{ _PAGE_USER, "user" }, { _PAGE_ACCESSED, "accessed" },
	{ _PAGE_DIRTY, "dirty" }, { _PAGE_PROTNONE, "protnone" },
	{ _PAGE_SPECIAL, "special" }, { _PAGE_NX, "nx" },
};
#define NBITS (sizeof(pte_bits) / sizeof(pte_bits[0]))

static bool mapped(uint64_t pte)
{
	return (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0;
}

json_t *cli_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

void walk_bits_print(FILE *f, uint64_t pte)
{
	size_t i;

	if (!mapped(pte))
		return;
	fputs("  bits", f);
	for (i = 0; i < NBITS; i++)
		if (pte & pte_bits[i].bit)
			fprintf(f, " %s", pte_bits[i].name);
	fprintf(f, "; frame 0x%" PRIx64 "\n",
	    (uint64_t)((pte & PTE_PFN_MASK) >> 12));
}

json_t *walk_bits_json(uint64_t pte)
{
	json_t *j;
	size_t i;

	if (!mapped(pte))
		return json_null();
	j = json_object();
	for (i = 0; i < NBITS; i++)
		cli_json_set(&j, pte_bits[i].name,
		    json_boolean((pte & pte_bits[i].bit) != 0));
	cli_json_set(&j, "frame",
	    cli_json_hex((uint64_t)((pte & PTE_PFN_MASK) >> 12)));
	return j;
}

/*
 * maple_tree-dump.c: the maple tree drawn as text or JSON (Linux's
 * mt_dump()), for `aspace mt` and for tests.
 */
#include <limits.h>

#include "maple-int.h"

static const char *const mt_type_name[] = {
	[maple_dense] = "dense",
	[maple_leaf_64] = "leaf_64",
	[maple_range_64] = "range_64",
	[maple_arange_64] = "arange_64",
};

/* How entries are named and where the dump goes. */
struct mt_dump_ctx {
	FILE *out;
	bool json;
	mt_entry_name_t name;
};

/* models mt_dump_entry(): one leaf slot. */
static void mt_dump_slot(const struct mt_dump_ctx *d, int depth,
    unsigned long lo, unsigned long hi, const void *entry, bool first)
{
	char buf[128] = "";

	if (entry != NULL)
		d->name(entry, buf, sizeof(buf));
	if (d->json) {
		fprintf(d->out, "%s{\"min\":\"%#lx\",\"max\":\"%#lx\","
		    "\"entry\":", first ? "" : ",", lo, hi);
		if (entry == NULL)
			fprintf(d->out, "null}");
		else
			fprintf(d->out, "\"%s\"}", buf);
		return;
	}
	fprintf(d->out, "%*s%#lx-%#lx %s\n", 2 * depth, "", lo, hi,
	    entry != NULL ? buf : "(free)");
}

static void mt_dump_node(const struct mt_dump_ctx *d, struct maple_enode *e,
    unsigned long min, unsigned long max, int depth);

/* The slots of a node: leaf ranges, or children with their gaps. */
static void mt_dump_slots(const struct mt_dump_ctx *d, struct maple_enode *e,
    unsigned long min, unsigned long max, int depth)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);
	unsigned long lo = min;

	for (unsigned char i = 0; i < end; i++) {
		unsigned long hi = mas_safe_pivot(n, type, i, end, max);

		if (ma_is_leaf(type)) {
			mt_dump_slot(d, depth + 1, lo, hi,
			    ma_slots(n, type)[i], i == 0);
		} else {
			if (d->json && i > 0)
				fputc(',', d->out);
			mt_dump_node(d, ma_slots(n, type)[i], lo, hi,
			    depth + 1);
		}
		lo = hi + 1;
	}
}

/* models mt_dump_node(): a node's header, then its slots. */
static void mt_dump_node(const struct mt_dump_ctx *d, struct maple_enode *e,
    unsigned long min, unsigned long max, int depth)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);

	if (d->json) {
		fprintf(d->out, "{\"type\":\"%s\",\"min\":\"%#lx\","
		    "\"max\":\"%#lx\",\"end\":%u,\"gap\":\"%#lx\","
		    "\"pivots\":[", mt_type_name[type], min, max, end,
		    ma_max_gap(e, min, max));
		for (unsigned char i = 0; i + 1 < end; i++)
			fprintf(d->out, "%s\"%#lx\"", i ? "," : "",
			    ma_pivots(n, type)[i]);
		fprintf(d->out, "],\"%s\":[", ma_is_leaf(type) ? "slots" :
		    "children");
		mt_dump_slots(d, e, min, max, depth);
		fprintf(d->out, "]}");
		return;
	}
	fprintf(d->out, "%*s%s %#lx-%#lx: %u slots, largest gap %#lx\n",
	    2 * depth, "", mt_type_name[type], min, max, end,
	    ma_max_gap(e, min, max));
	if (!ma_is_leaf(type)) {
		fprintf(d->out, "%*s pivots:", 2 * depth, "");
		for (unsigned char i = 0; i + 1 < end; i++)
			fprintf(d->out, " %#lx", ma_pivots(n, type)[i]);
		fputc('\n', d->out);
	}
	if (type == maple_arange_64) {
		fprintf(d->out, "%*s gaps:", 2 * depth, "");
		for (unsigned char i = 0; i < end; i++)
			fprintf(d->out, " %#lx", n->ma64.gap[i]);
		fputc('\n', d->out);
	}
	mt_dump_slots(d, e, min, max, depth);
}

/* Name an entry by its address (the default). */
static void mt_entry_address(const void *entry, char *buf, size_t len)
{
	snprintf(buf, len, "%p", entry);
}

/* mt_dump(). */
void mt_dump(const struct maple_tree *mt, FILE *out, bool json,
    mt_entry_name_t name)
{
	struct mt_dump_ctx d = { out, json, name ? name : mt_entry_address };

	if (json)
		fprintf(out, "{\"height\":%u,\"nodes\":%lu,\"node_bytes\":%d,"
		    "\"root\":", mt->ma_height, mt->ma_nodes, MAPLE_NODE_SIZE);
	else
		fprintf(out, "maple tree: height %u, %lu nodes of %d bytes\n",
		    mt->ma_height, mt->ma_nodes, MAPLE_NODE_SIZE);
	if (mt->ma_root == NULL)
		fprintf(out, json ? "null" : "(empty)\n");
	else
		mt_dump_node(&d, mt->ma_root, 0, ULONG_MAX, 0);
	if (json)
		fprintf(out, "}\n");
}

/* The bit of the cache line of n that p lies in. */
static unsigned int mt_line(const struct maple_node *n, const void *p)
{
	return 1u << (((const char *)p - (const char *)n) / 64);
}

/* The cache lines of a node a lookup reads (a bit each): where the data
 * ends, the pivots compared up to the one that stops it, the slot. */
static unsigned int mt_route_lines(struct maple_node *n, enum maple_type type,
    unsigned char end, unsigned char i)
{
	unsigned int lines = mt_line(n, &ma_slots(n, type)[i]);

	if (type == maple_arange_64) {
		lines |= mt_line(n, &n->ma64.meta);
	} else {
		lines |= mt_line(n, &n->mr64.pivot[MAPLE_RANGE64_SLOTS - 2]);
		if (end < MAPLE_RANGE64_SLOTS)
			lines |= mt_line(n, &n->mr64.meta);
	}
	for (unsigned char k = 0; k <= i && k + 1 < end; k++)
		lines |= mt_line(n, &ma_pivots(n, type)[k]);
	return lines;
}

/* For benchmarks: the slot a lookup of index takes at each level (into
 * off[]) and the cache lines it reads there (a bit each, into lines[]);
 * returns the levels (MAPLE_HEIGHT_MAX at most). */
unsigned int mt_lookup_route(const struct maple_tree *mt, unsigned long index,
    unsigned char *off, unsigned char *lines)
{
	struct maple_enode *e = mt->ma_root;
	unsigned int l = 0;

	while (e != NULL) {
		struct maple_node *n = mte_to_node(e);
		enum maple_type type = mte_node_type(e);
		unsigned char end = ma_data_end(n, type), i = 0;

		while (i + 1 < end && ma_pivots(n, type)[i] < index)
			i++;
		lines[l] = (unsigned char)mt_route_lines(n, type, end, i);
		off[l++] = i;
		if (ma_is_leaf(type))
			break;
		e = ma_slots(n, type)[i];
	}
	return l;
}

/* For benchmarks: a route followed with no comparison, reading the same
 * cache lines a level (independent loads) and then the slot: what the
 * walk waits for memory, without its work. */
void *mt_follow_route(const struct maple_tree *mt, const unsigned char *off,
    const unsigned char *lines, unsigned int levels, unsigned long *sum)
{
	struct maple_enode *e = mt->ma_root;
	void *entry = NULL;

	for (unsigned int l = 0; l < levels; l++) {
		const volatile unsigned long *w =
		    (const volatile unsigned long *)mte_to_node(e);

		for (unsigned int b = 0; b < 4; b++)
			if (lines[l] & (1u << b))
				*sum += w[b * 8];
		entry = ma_slots(mte_to_node(e), mte_node_type(e))[off[l]];
		e = entry;
	}
	return entry;
}

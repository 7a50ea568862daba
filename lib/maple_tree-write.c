/*
 * maple_tree-write.c: stores into the maple tree: a node's new contents
 * assembled in a big node, then written back, split, or rebalanced with a
 * sibling, the change carried up to the root (Linux's mas_wr_*,
 * mas_split(), mas_rebalance(); see maple_tree.c's comment for where ours
 * is simpler).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maple-int.h"

/* A child as a parent's big node takes it. */
struct mt_child {
	struct maple_enode *e;
	unsigned long min, max;
};

/* A node that cannot fail: the write preallocated it. */
static struct maple_node *mt_take_node(struct maple_tree *mt)
{
	struct maple_node *n = mt_alloc_node(mt);

	if (n == NULL)
		abort();	/* mt_prealloc() was not called */
	return n;
}

/* Append a slot to a big node. */
static void mab_append(struct maple_big_node *b, unsigned long last,
    void *entry, unsigned long gap)
{
	b->pivot[b->end] = last;
	b->slot[b->end] = entry;
	b->gap[b->end] = gap;
	b->end++;
}

/* Append a leaf range, a NULL joining a NULL before it. */
static void mab_push(struct maple_big_node *b, unsigned long last,
    void *entry)
{
	if (entry == NULL && b->end > 0 && b->slot[b->end - 1] == NULL)
		b->pivot[b->end - 1] = last;
	else
		mab_append(b, last, entry, 0);
}

/* models mas_mab_cp(): append a node's slots to a big node. */
static void mas_mab_cp(struct maple_enode *e, unsigned long max,
    struct maple_big_node *b)
{
	struct maple_node *n = mte_to_node(e);
	enum maple_type type = mte_node_type(e);
	unsigned char end = ma_data_end(n, type);

	for (unsigned char i = 0; i < end; i++) {
		unsigned long last = mas_safe_pivot(n, type, i, end, max);

		if (ma_is_leaf(type))
			mab_push(b, last, ma_slots(n, type)[i]);
		else
			mab_append(b, last, ma_slots(n, type)[i],
			    type == maple_arange_64 ? n->ma64.gap[i] : 0);
	}
}

/* models mab_mas_cp(): write big node slots [from, to) into a node. */
static void mab_mas_cp(const struct maple_big_node *b, unsigned char from,
    unsigned char to, struct maple_node *n, enum maple_type type)
{
	unsigned long *pivots = ma_pivots(n, type);
	void **slots = ma_slots(n, type);
	unsigned char cnt = (unsigned char)(to - from), ns = mt_slots[type];

	memcpy(slots, &b->slot[from], cnt * sizeof(void *));
	memset(&slots[cnt], 0, (ns - cnt) * sizeof(void *));
	memcpy(pivots, &b->pivot[from], (cnt - 1) * sizeof(long));
	memset(&pivots[cnt - 1], 0, (ns - cnt) * sizeof(long));
	if (type == maple_arange_64) {
		n->ma64.meta.gap = 0;
		memcpy(n->ma64.gap, &b->gap[from], cnt * sizeof(long));
		memset(&n->ma64.gap[cnt], 0, (ns - cnt) * sizeof(long));
		for (unsigned char i = 1; i < cnt; i++)
			if (n->ma64.gap[i] > n->ma64.gap[n->ma64.meta.gap])
				n->ma64.meta.gap = i;
		n->ma64.meta.end = (unsigned char)(cnt - 1);
	} else if (cnt < MAPLE_RANGE64_SLOTS) {
		n->mr64.meta.end = (unsigned char)(cnt - 1);
	}
	if (!ma_is_leaf(type))
		for (unsigned char i = 0; i < cnt; i++)
			ma_set_parent(mte_to_node(slots[i]), n, i);
}

/* models mas_update_gap(): the gaps on the path above level l, up to the
 * first that does not change (nothing above it changes then). */
static void mas_update_gaps(struct mt_path *p, int l)
{
	for (; l > 0; l--) {
		struct maple_node *pn = mte_to_node(p->n[l - 1]);
		unsigned char off = p->off[l - 1];
		unsigned long gap;

		if (mte_node_type(p->n[l - 1]) != maple_arange_64)
			return;
		gap = ma_max_gap(p->n[l], p->min[l], p->max[l]);
		if (pn->ma64.gap[off] == gap)
			return;
		pn->ma64.gap[off] = gap;
		if (pn->ma64.gap[off] > pn->ma64.gap[pn->ma64.meta.gap])
			pn->ma64.meta.gap = off;
		else if (pn->ma64.meta.gap == off)
			for (unsigned char i = 0; i <= pn->ma64.meta.end; i++)
				if (pn->ma64.gap[i] > pn->ma64.gap[off])
					pn->ma64.meta.gap = off = i;
	}
}

/* Where to cut a big node in two: the middle, never after a NULL in a
 * leaf (as mab_no_null_split()). */
static unsigned char mab_calc_split(const struct maple_big_node *b,
    enum maple_type type)
{
	unsigned char split = b->end / 2;

	if (ma_is_leaf(type) && b->slot[split - 1] == NULL)
		split++;
	return split;
}

static bool mas_commit(struct maple_tree *mt, struct mt_path *p, int l,
    struct maple_big_node *b);

/* A parent's contents with children [off, off + nold) replaced by new. */
static void mas_parent_replace(struct mt_path *p, int pl, unsigned char off,
    unsigned char nold, const struct mt_child *new, unsigned char nnew,
    struct maple_big_node *pb)
{
	struct maple_node *pn = mte_to_node(p->n[pl]);
	enum maple_type ptype = mte_node_type(p->n[pl]);
	unsigned char end = ma_data_end(pn, ptype), i;

	pb->end = 0;
	for (i = 0; i < end; i++) {
		if (i == off) {
			for (unsigned char k = 0; k < nnew; k++)
				mab_append(pb, new[k].max, new[k].e,
				    ma_max_gap(new[k].e, new[k].min,
				    new[k].max));
			i += nold - 1;
			continue;
		}
		mab_append(pb, mas_safe_pivot(pn, ptype, i, end, p->max[pl]),
		    ma_slots(pn, ptype)[i], ptype == maple_arange_64 ?
		    pn->ma64.gap[i] : 0);
	}
}

/* models mas_new_root(): a root over two nodes. */
static void mas_new_root(struct maple_tree *mt, const struct mt_child *c)
{
	struct maple_node *n = mt_take_node(mt);
	enum maple_type type = mt_inner_type(mt);
	struct maple_big_node b;

	b.end = 0;
	for (int i = 0; i < 2; i++)
		mab_append(&b, c[i].max, c[i].e,
		    ma_max_gap(c[i].e, c[i].min, c[i].max));
	mab_mas_cp(&b, 0, 2, n, type);
	n->parent = (struct maple_pnode *)((uintptr_t)mt | MAPLE_ROOT_NODE);
	mt->ma_root = mt_mk_node(n, type);
	mt->ma_height++;
}

/* The node at level l (new contents b) and its sibling at parent slot
 * so, in address order in c; ch[] names the two nodes, the lower first,
 * and *lo the lower one's parent slot. */
static void mab_join_sibling(struct mt_path *p, int l,
    const struct maple_big_node *b, unsigned char so,
    struct maple_big_node *c, struct mt_child ch[2], unsigned char *lo)
{
	struct maple_node *pn = mte_to_node(p->n[l - 1]);
	enum maple_type ptype = mte_node_type(p->n[l - 1]);
	enum maple_type type = mte_node_type(p->n[l]);
	unsigned char pend = ma_data_end(pn, ptype), off = p->off[l - 1];
	unsigned long smax = mas_safe_pivot(pn, ptype, so, pend, p->max[l - 1]);
	struct maple_enode *sib = ma_slots(pn, ptype)[so];

	c->end = 0;
	if (so < off)
		mas_mab_cp(sib, smax, c);
	for (unsigned char i = 0; i < b->end; i++) {
		if (ma_is_leaf(type))
			mab_push(c, b->pivot[i], b->slot[i]);
		else
			mab_append(c, b->pivot[i], b->slot[i], b->gap[i]);
	}
	if (so > off)
		mas_mab_cp(sib, smax, c);
	*lo = off < so ? off : so;
	ch[0].e = *lo == off ? p->n[l] : sib;
	ch[1].e = *lo == off ? sib : p->n[l];
	ch[0].min = *lo == off ? p->min[l] : so > 0 ?
	    ma_pivots(pn, ptype)[so - 1] + 1 : p->min[l - 1];
	ch[1].max = c->pivot[c->end - 1];
}

/* Two siblings' joined contents cut at split back into the two nodes. */
static void mab_cut_two(const struct maple_big_node *c, unsigned char split,
    enum maple_type type, struct mt_child ch[2])
{
	mab_mas_cp(c, 0, split, mte_to_node(ch[0].e), type);
	mab_mas_cp(c, split, c->end, mte_to_node(ch[1].e), type);
	ch[0].max = c->pivot[split - 1];
	ch[1].min = ch[0].max + 1;
}

/* models mas_push_data(): before a split, a sibling with room (left
 * first, then right) takes the overflow and ends one slot short of full,
 * as the kernel's split of slots - 2 leaves it; the parent only moves the
 * pivot between them, so nothing above splits.  Appends then fill leaves
 * instead of leaving them half empty.  false: no sibling there with room. */
static bool mas_push_data(struct maple_tree *mt, struct mt_path *p, int l,
    const struct maple_big_node *b, bool left)
{
	struct maple_node *pn = mte_to_node(p->n[l - 1]);
	enum maple_type ptype = mte_node_type(p->n[l - 1]);
	enum maple_type type = mte_node_type(p->n[l]);
	unsigned char off = p->off[l - 1], so, lo, split;
	unsigned int space = 2u * mt_slots[type] - 2;
	struct maple_big_node c, pb;
	struct mt_child ch[2];
	struct maple_enode *sib;

	if (left ? off == 0 : off + 1 >= ma_data_end(pn, ptype))
		return false;
	so = left ? off - 1 : off + 1;
	sib = ma_slots(pn, ptype)[so];
	if (ma_is_leaf(type))
		space--;
	if (p->max[l] == ULONG_MAX)
		space--;
	if (b->end + ma_data_end(mte_to_node(sib), type) >= space)
		return false;
	mab_join_sibling(p, l, b, so, &c, ch, &lo);
	split = (unsigned char)(left ? mt_slots[type] - 1u :
	    c.end - (mt_slots[type] - 1u));
	if (ma_is_leaf(type) && c.slot[split - 1] == NULL)
		split++;
	mab_cut_two(&c, split, type, ch);
	mas_parent_replace(p, l - 1, lo, 2, ch, 2, &pb);
	mas_commit(mt, p, l - 1, &pb);
	return true;
}

/* mas_split(): a big node too large for one node goes partly into a
 * sibling, or becomes two. */
static void mas_split(struct maple_tree *mt, struct mt_path *p, int l,
    struct maple_big_node *b)
{
	enum maple_type type = mte_node_type(p->n[l]);
	unsigned char split = mab_calc_split(b, type);
	struct maple_node *right;
	struct mt_child c[2];
	struct maple_big_node pb;

	if (l > 0 && (mas_push_data(mt, p, l, b, true) ||
	    mas_push_data(mt, p, l, b, false)))
		return;
	right = mt_take_node(mt);
	c[0] = (struct mt_child){ p->n[l], p->min[l], b->pivot[split - 1] };
	c[1] = (struct mt_child){ mt_mk_node(right, type),
	    b->pivot[split - 1] + 1, p->max[l] };
	mab_mas_cp(b, 0, split, mte_to_node(p->n[l]), type);
	mab_mas_cp(b, split, b->end, right, type);
	if (l == 0) {
		mas_new_root(mt, c);
		return;
	}
	mas_parent_replace(p, l - 1, p->off[l - 1], 1, c, 2, &pb);
	mas_commit(mt, p, l - 1, &pb);
}

/* mas_rebalance(): a node under half full joins a sibling; the two are
 * one node, or two again cut in the middle. */
static void mas_rebalance(struct maple_tree *mt, struct mt_path *p, int l,
    struct maple_big_node *b)
{
	unsigned char off = p->off[l - 1], lo;
	unsigned char so = off > 0 ? off - 1 : off + 1;
	enum maple_type type = mte_node_type(p->n[l]);
	struct maple_big_node c, pb;
	struct mt_child ch[2];

	mab_join_sibling(p, l, b, so, &c, ch, &lo);
	if (c.end <= mt_slots[type]) {
		mab_mas_cp(&c, 0, c.end, mte_to_node(ch[0].e), type);
		mt_free_node(mt, mte_to_node(ch[1].e));
		ch[0].max = ch[1].max;
		mas_parent_replace(p, l - 1, lo, 2, ch, 1, &pb);
	} else {
		mab_cut_two(&c, mab_calc_split(&c, type), type, ch);
		mas_parent_replace(p, l - 1, lo, 2, ch, 2, &pb);
	}
	mas_commit(mt, p, l - 1, &pb);
}

/* A root left with one child, or a leaf root holding only NULL, goes. */
static bool mas_shrink_root(struct maple_tree *mt, struct maple_enode *e,
    const struct maple_big_node *b)
{
	if (b->end != 1)
		return false;
	if (ma_is_leaf(mte_node_type(e))) {
		if (b->slot[0] != NULL)
			return false;
		mt->ma_root = NULL;
		mt->ma_height = 0;
	} else {
		mt->ma_root = b->slot[0];
		mte_to_node(b->slot[0])->parent = (struct maple_pnode *)
		    ((uintptr_t)mt | MAPLE_ROOT_NODE);
		mt->ma_height--;
	}
	mt_free_node(mt, mte_to_node(e));
	return true;
}

/* The new contents of the node at level l: written in place (true), split,
 * or rebalanced (mas_wr_bnode()'s choice). */
static bool mas_commit(struct maple_tree *mt, struct mt_path *p, int l,
    struct maple_big_node *b)
{
	enum maple_type type = mte_node_type(p->n[l]);

	if (b->end > mt_slots[type]) {
		mas_split(mt, p, l, b);
		return false;
	}
	if (l > 0 && b->end < mt_min_slots[type]) {
		mas_rebalance(mt, p, l, b);
		return false;
	}
	if (l == 0 && mas_shrink_root(mt, p->n[0], b))
		return false;
	mab_mas_cp(b, 0, b->end, mte_to_node(p->n[l]), type);
	mas_update_gaps(p, l);
	return true;
}

static int mas_wr_leaf(struct maple_tree *mt, struct mt_path *p,
    unsigned long s, unsigned long e, void *entry);

/* A leaf other than the last may not end in NULL: its last range
 * [q, at] moves to the start of the next leaf, whose first range grows
 * down to q (or which gains [q, at] as a new first slot). */
static void mt_move_trailing_null(struct maple_tree *mt, unsigned long at)
{
	struct mt_path pa, pr;
	struct maple_big_node b;
	struct maple_node *n, *lca;
	enum maple_type type;
	unsigned long q;
	unsigned char end;
	void *rfirst;
	int k = 0, j;

	b.end = 0;
	mt_walk_path(mt, at, &pa);
	n = mte_to_node(pa.n[pa.leaf]);
	type = mte_node_type(pa.n[pa.leaf]);
	end = ma_data_end(n, type);
	if (at == ULONG_MAX || pa.max[pa.leaf] != at ||
	    ma_slots(n, type)[end - 1] != NULL)
		return;
	q = end > 1 ? ma_pivots(n, type)[end - 2] + 1 : pa.min[pa.leaf];
	mt_walk_path(mt, at + 1, &pr);
	rfirst = ma_slots(mte_to_node(pr.n[pr.leaf]),
	    mte_node_type(pr.n[pr.leaf]))[0];
	while (k < pa.leaf && pa.n[k + 1] == pr.n[k + 1])
		k++;
	lca = mte_to_node(pa.n[k]);
	ma_pivots(lca, mte_node_type(pa.n[k]))[pa.off[k]] = q - 1;
	for (j = k + 1; j <= pa.leaf; j++)
		pa.max[j] = q - 1;
	mas_mab_cp(pa.n[pa.leaf], at, &b);
	b.end--;
	b.pivot[b.end - 1] = q - 1;
	mas_commit(mt, &pa, pa.leaf, &b);
	mt_walk_path(mt, q, &pr);
	if (rfirst != NULL)
		mas_wr_leaf(mt, &pr, q, at, NULL);
	else
		mas_update_gaps(&pr, pr.leaf);
}

/* The leaf's slots after last (last + 1 < end) into a big node: the
 * first joins a NULL before it, the rest are copied. */
static void mab_cp_suffix(struct maple_big_node *b, struct maple_node *n,
    enum maple_type type, unsigned char last, unsigned char end,
    unsigned long max)
{
	unsigned long *pv = ma_pivots(n, type);
	void **sl = ma_slots(n, type);
	unsigned char r = (unsigned char)(end - last - 2);

	mab_push(b, last + 2 < end ? pv[last + 1] : max, sl[last + 1]);
	if (r == 0)
		return;
	memcpy(&b->slot[b->end], &sl[last + 2], r * sizeof(void *));
	memcpy(&b->pivot[b->end], &pv[last + 2], (r - 1) * sizeof(long));
	b->pivot[b->end + r - 1] = max;
	b->end += r;
}

/* The slots a store in place rewrites: from the slot before the range's
 * first to the one after its last, with the store's pieces between. */
struct mt_wr_mid {
	unsigned long pivot[5];
	void *slot[5];
	unsigned int end;
	unsigned char from, to;		/* the leaf's slots [from, to) */
	int at;				/* the stored range's place in it */
};

/* Push a range onto mid, a NULL joining a NULL before it (mab_push()). */
static void mt_mid_push(struct mt_wr_mid *m, unsigned long last, void *entry)
{
	if (entry == NULL && m->end > 0 && m->slot[m->end - 1] == NULL) {
		m->pivot[m->end - 1] = last;
		return;
	}
	m->pivot[m->end] = last;
	m->slot[m->end++] = entry;
}

/* The new slots of [from, to) for storing [s, e] over slots first..last
 * (ranges [lo .. hi]). */
static void mt_mid_build(struct mt_wr_mid *m, struct maple_node *n,
    unsigned char end, unsigned long max, unsigned char first,
    unsigned char last, unsigned long lo, unsigned long hi,
    unsigned long s, unsigned long e, void *entry)
{
	unsigned long *pv = n->mr64.pivot;

	m->end = 0;
	m->from = first > 0 ? first - 1 : first;
	m->to = last + 1 < end ? last + 2 : last + 1;
	if (first > 0)
		mt_mid_push(m, pv[first - 1], n->mr64.slot[first - 1]);
	if (lo < s)
		mt_mid_push(m, s - 1, n->mr64.slot[first]);
	mt_mid_push(m, e, entry);
	m->at = (int)m->end - 1;
	if (e < hi)
		mt_mid_push(m, hi, n->mr64.slot[last]);
	if (last + 1 < end)
		mt_mid_push(m, last + 2 < end ? pv[last + 1] : max,
		    n->mr64.slot[last + 1]);
}

/* models mas_wr_slot_store()/mas_wr_append(): a store that leaves the
 * leaf neither over- nor under-full (nor ending in NULL) is written into
 * it in place, its later slots moved along.  Returns the slot the range
 * took, or -1 (nothing done) for the big-node path. */
static int mas_wr_leaf_fast(struct mt_path *p, unsigned char first,
    unsigned char last, unsigned long lo, unsigned long hi,
    unsigned long s, unsigned long e, void *entry)
{
	struct maple_node *n = mte_to_node(p->n[p->leaf]);
	unsigned char end = ma_data_end(n, maple_leaf_64), i;
	unsigned long max = p->max[p->leaf], *pv = n->mr64.pivot;
	void **sl = n->mr64.slot;
	struct mt_wr_mid m;
	unsigned int cnt;

	if (mte_node_type(p->n[p->leaf]) != maple_leaf_64)
		return -1;
	mt_mid_build(&m, n, end, max, first, last, lo, hi, s, e, entry);
	cnt = m.from + m.end + (end - m.to);
	if (cnt > MAPLE_RANGE64_SLOTS ||
	    (p->leaf > 0 && cnt < mt_min_slots[maple_leaf_64]) ||
	    (cnt == 1 && m.slot[0] == NULL) ||
	    (max != ULONG_MAX && (m.to < end ? sl[end - 1] :
	    m.slot[m.end - 1]) == NULL))
		return -1;
	/* the slots after mid move to start at from + m.end */
	memmove(&sl[m.from + m.end], &sl[m.to], (end - m.to) * sizeof(void *));
	if (m.to < end)
		memmove(&pv[m.from + m.end], &pv[m.to],
		    (end - 1 - m.to) * sizeof(long));
	for (i = 0; i < m.end; i++) {
		sl[m.from + i] = m.slot[i];
		if (m.from + i + 1u < cnt)
			pv[m.from + i] = m.pivot[i];
	}
	for (i = (unsigned char)cnt; i < end; i++)
		sl[i] = NULL;
	for (i = (unsigned char)(cnt - 1); i < end - 1; i++)
		pv[i] = 0;
	if (cnt < MAPLE_RANGE64_SLOTS)
		n->mr64.meta.end = (unsigned char)(cnt - 1);
	mas_update_gaps(p, p->leaf);
	return m.from + m.at;
}

/* models mas_wr_node_store(): store [s, e] (inside the leaf p ends at)
 * in a big node made from the leaf (slots before and after copied whole),
 * then commit it.  Returns the slot the range took when the leaf was
 * written in place, else -1. */
static int mas_wr_leaf(struct maple_tree *mt, struct mt_path *p,
    unsigned long s, unsigned long e, void *entry)
{
	struct maple_node *n = mte_to_node(p->n[p->leaf]);
	enum maple_type type = mte_node_type(p->n[p->leaf]);
	unsigned char end = ma_data_end(n, type), first = p->off[p->leaf];
	unsigned long *pv = ma_pivots(n, type), max = p->max[p->leaf];
	unsigned char last = first;
	unsigned long lo, hi;
	struct maple_big_node b;
	int at;

	while (last + 1 < end && pv[last] < e)
		last++;
	lo = first > 0 ? pv[first - 1] + 1 : p->min[p->leaf];
	hi = last + 1 < end ? pv[last] : max;
	if ((at = mas_wr_leaf_fast(p, first, last, lo, hi, s, e, entry)) >= 0)
		return at;
	memcpy(b.slot, ma_slots(n, type), first * sizeof(void *));
	memcpy(b.pivot, pv, first * sizeof(long));
	b.end = first;
	if (lo < s)
		mab_push(&b, s - 1, ma_slots(n, type)[first]);
	mab_push(&b, e, entry);
	at = b.end - 1;
	if (e < hi)
		mab_push(&b, hi, ma_slots(n, type)[last]);
	if (last + 1 < end)
		mab_cp_suffix(&b, n, type, last, end, max);
	if (!mas_commit(mt, p, p->leaf, &b))
		at = -1;
	if (b.slot[b.end - 1] == NULL && max != ULONG_MAX) {
		mt_move_trailing_null(mt, max);
		at = -1;
	}
	return at;
}

/* models mas_root_expand(): the first entry of an empty tree. */
static int mas_root_expand(struct maple_tree *mt, unsigned long s,
    unsigned long e, void *entry)
{
	struct maple_node *n;
	struct maple_big_node b;

	if (entry == NULL)
		return 0;
	if ((n = mt_alloc_node(mt)) == NULL)
		return -ENOMEM;
	b.end = 0;
	if (s > 0)
		mab_push(&b, s - 1, NULL);
	mab_push(&b, e, entry);
	if (e < ULONG_MAX)
		mab_push(&b, ULONG_MAX, NULL);
	mab_mas_cp(&b, 0, b.end, n, maple_leaf_64);
	n->parent = (struct maple_pnode *)((uintptr_t)mt | MAPLE_ROOT_NODE);
	mt->ma_root = mt_mk_node(n, maple_leaf_64);
	mt->ma_height = 1;
	return 0;
}

/* models mas_wr_spanning_store(): NULL into every leaf [s, e] crosses. */
static int mas_wr_spanning_null(struct maple_tree *mt, unsigned long s,
    unsigned long e)
{
	struct mt_path p;

	while (mt->ma_root != NULL) {
		unsigned long hi;

		if (mt_prealloc(mt, mt_write_nodes(mt)) != 0)
			return -ENOMEM;
		mt_walk_path(mt, s, &p);
		hi = e < p.max[p.leaf] ? e : p.max[p.leaf];
		mas_wr_leaf(mt, &p, s, hi, NULL);
		if (hi == e)
			break;
		s = hi + 1;
	}
	return 0;
}

/* After a store: the state on the slot written when the leaf stayed where
 * it was (as the kernel's mas is after mas_store()), else to walk again. */
static void mas_wr_leaf_at(struct ma_state *mas, const struct mt_path *p,
    int at)
{
	if (at < 0)
		return;
	mas->node = p->n[p->leaf];
	mas->min = p->min[p->leaf];
	mas->max = p->max[p->leaf];
	mas_set_slot(mas, (unsigned char)at);
}

/* mas_store_gfp(): entry over [index, last]; 0, -EINVAL or -ENOMEM.  A
 * state still on the leaf the range falls in (__mas_set_range() after a
 * walk) writes from there. */
int mas_store_gfp(struct ma_state *mas, void *entry, gfp_t gfp)
{
	struct maple_tree *mt = mas->tree;
	unsigned long s = mas->index, e = mas->last;
	bool on_leaf = mas_wr_on_leaf(mas);
	struct mt_path p;
	int err;

	(void)gfp;
	mas->status = ma_start;
	if (s > e)
		return -EINVAL;
	if (mt->ma_root == NULL)
		return mas_root_expand(mt, s, e, entry);
	if (mt_prealloc(mt, mt_write_nodes(mt)) != 0)
		return -ENOMEM;
	mas_wr_path(mas, on_leaf, &p);
	if (e > p.max[p.leaf]) {
		if ((err = mas_wr_spanning_null(mt, s, e)) != 0 ||
		    entry == NULL)
			return err;
		if (mt->ma_root == NULL)
			return mas_root_expand(mt, s, e, entry);
		if (mt_prealloc(mt, mt_write_nodes(mt)) != 0)
			return -ENOMEM;
		mt_walk_path(mt, s, &p);
	}
	mas_wr_leaf_at(mas, &p, mas_wr_leaf(mt, &p, s, e, entry));
	return 0;
}

/* mas_erase(): the entry at index and its whole range go, in one walk
 * (none when the state is still on index's leaf); the state is left on
 * that range (to walk again).  NULL when there was none, or no node to be
 * had. */
void *mas_erase(struct ma_state *mas)
{
	struct maple_tree *mt = mas->tree;
	struct maple_node *n;
	enum maple_type type;
	struct mt_path p;
	unsigned char i, end;
	bool on_leaf;
	void *entry;

	mas->last = mas->index;
	on_leaf = mas_wr_on_leaf(mas);
	mas->status = ma_start;
	if (mt->ma_root == NULL || mt_prealloc(mt, mt_write_nodes(mt)) != 0)
		return NULL;
	mas_wr_path(mas, on_leaf, &p);
	n = mte_to_node(p.n[p.leaf]);
	type = mte_node_type(p.n[p.leaf]);
	end = ma_data_end(n, type);
	i = p.off[p.leaf];
	if ((entry = ma_slots(n, type)[i]) == NULL)
		return NULL;
	mas->index = i > 0 ? ma_pivots(n, type)[i - 1] + 1 : p.min[p.leaf];
	mas->last = mas_safe_pivot(n, type, i, end, p.max[p.leaf]);
	mas_wr_leaf(mt, &p, mas->index, mas->last, NULL);
	return entry;
}

/* mtree_store_range(). */
int mtree_store_range(struct maple_tree *mt, unsigned long first,
    unsigned long last, void *entry, gfp_t gfp)
{
	MA_STATE(mas, mt, first, last);

	return mas_store_gfp(&mas, entry, gfp);
}

/* mtree_erase(). */
void *mtree_erase(struct maple_tree *mt, unsigned long index)
{
	MA_STATE(mas, mt, index, index);

	return mas_erase(&mas);
}

/* Replace the entry of index's slot, its range unchanged. */
void mas_replace_entry(struct maple_tree *mt, unsigned long index,
    void *entry)
{
	MA_STATE(mas, mt, index, index);

	mas_walk(&mas);
	if (mas.status == ma_active)
		ma_slots(mte_to_node(mas.node), mte_node_type(mas.node))
		    [mas.offset] = entry;
}

/*
 * vma_tree.c: the VMA index, an augmented red-black tree keyed by vm_start.
 *
 * Every node carries rb_subtree_gap, the largest gap(v) in its subtree,
 * where gap(v) = vm_start_gap(v) - vm_end_gap(v->vm_prev) (0 for the first
 * VMA's predecessor), clamped at 0.  The design is that of Linux's mm/mmap.c
 * before the maple tree (v6.1); the code is our own.
 *
 * Keeping the augmentation right:
 *  - a rotation only moves nodes: the node that rises inherits the subtree
 *    value of the node it replaces, the one that sinks is recomputed;
 *  - a gap(v) depends on v->vm_prev, so inserting or erasing a VMA changes
 *    the gap of its successor as well as the maxima above it.  Every change
 *    recomputes the whole path from each touched node to the root
 *    (O(log n)), never stopping early, so several changes may be fixed in
 *    any order.
 *
 * The gap searches follow unmapped_area{,_topdown}(): look for a gap that
 * holds length + align_mask bytes inside [low_limit, high_limit), pruning
 * subtrees whose rb_subtree_gap is too small or whose addresses are out of
 * range, then align inside the gap found.  Both are O(log n).  Unlike
 * Linux, the address bounds use the neighbours' vm_end rather than
 * vm_start_gap(), which is not monotonic: a stack guard gap reaching below
 * the previous VMA never hides a lower gap.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "vma_tree.h"

#define NO_ADDR ((unsigned long)-ENOMEM)

static bool is_red(const struct vma *n)
{
	return n && n->rb_red;
}

/* dir 0 is the left child, 1 the right one. */
static struct vma **child(struct vma *n, int dir)
{
	return dir ? &n->rb_right : &n->rb_left;
}

static unsigned long gap_start(const struct vma *v)
{
	return v->vm_prev ? vm_end_gap(v->vm_prev) : 0;
}

static unsigned long gap_size(const struct vma *v)
{
	unsigned long start = gap_start(v), end = vm_start_gap(v);

	return end > start ? end - start : 0;
}

static unsigned long subtree_gap(const struct vma *n)
{
	unsigned long max = gap_size(n);

	if (n->rb_left && n->rb_left->rb_subtree_gap > max)
		max = n->rb_left->rb_subtree_gap;
	if (n->rb_right && n->rb_right->rb_subtree_gap > max)
		max = n->rb_right->rb_subtree_gap;
	return max;
}

/* Recompute n and all its ancestors. */
static void propagate(struct vma *n)
{
	for (; n; n = n->rb_parent)
		n->rb_subtree_gap = subtree_gap(n);
}

static void replace_child(struct vma_tree *t, struct vma *parent,
    struct vma *old, struct vma *new)
{
	if (!parent)
		t->root = new;
	else if (parent->rb_left == old)
		parent->rb_left = new;
	else
		parent->rb_right = new;
}

/* Rotate x down towards dir; its child on the other side rises. */
static void rotate(struct vma_tree *t, struct vma *x, int dir)
{
	struct vma *y = *child(x, !dir), *mid = *child(y, dir);

	*child(x, !dir) = mid;
	if (mid)
		mid->rb_parent = x;
	y->rb_parent = x->rb_parent;
	replace_child(t, x->rb_parent, x, y);
	*child(y, dir) = x;
	x->rb_parent = y;
	/* Same node set under y as was under x. */
	y->rb_subtree_gap = x->rb_subtree_gap;
	x->rb_subtree_gap = subtree_gap(x);
}

void vma_tree_init(struct vma_tree *t)
{
	t->root = t->first = t->last = NULL;
	t->count = 0;
}

static void insert_fixup(struct vma_tree *t, struct vma *n)
{
	struct vma *p, *g, *u;
	int dir;

	while ((p = n->rb_parent) && p->rb_red) {
		g = p->rb_parent;	/* exists: a red node is not the root */
		dir = p == g->rb_right;
		u = *child(g, !dir);
		if (is_red(u)) {
			p->rb_red = u->rb_red = 0;
			g->rb_red = 1;
			n = g;
			continue;
		}
		if (n == *child(p, !dir)) {	/* inner grandchild: straighten */
			rotate(t, p, dir);
			p = n;
		}
		rotate(t, g, !dir);
		p->rb_red = 0;
		g->rb_red = 1;
		break;
	}
	t->root->rb_red = 0;
}

static void list_link(struct vma_tree *t, struct vma *v, struct vma *prev,
    struct vma *next)
{
	v->vm_prev = prev;
	v->vm_next = next;
	if (prev)
		prev->vm_next = v;
	else
		t->first = v;
	if (next)
		next->vm_prev = v;
	else
		t->last = v;
	t->count++;
}

void vma_tree_insert(struct vma_tree *t, struct vma *vma)
{
	struct vma *parent = NULL, *prev = NULL, *next = NULL;
	struct vma **link = &t->root;

	while (*link) {
		parent = *link;
		if (vma->vm_start < parent->vm_start) {
			next = parent;
			link = &parent->rb_left;
		} else {
			prev = parent;
			link = &parent->rb_right;
		}
	}
	*link = vma;
	vma->rb_parent = parent;
	vma->rb_left = vma->rb_right = NULL;
	vma->rb_red = 1;
	list_link(t, vma, prev, next);
	/* A leaf's successor, whose gap changed too, is one of its ancestors. */
	propagate(vma);
	insert_fixup(t, vma);
}

/* x (maybe NULL) under parent p is one black short: restore the balance. */
static void erase_fixup(struct vma_tree *t, struct vma *x, struct vma *p)
{
	struct vma *w;
	int dir;

	while (x != t->root && !is_red(x)) {
		dir = x != p->rb_left;	/* the sibling is never NULL here */
		w = *child(p, !dir);
		if (w->rb_red) {
			w->rb_red = 0;
			p->rb_red = 1;
			rotate(t, p, dir);
			w = *child(p, !dir);
		}
		if (!is_red(w->rb_left) && !is_red(w->rb_right)) {
			w->rb_red = 1;
			x = p;
			p = x->rb_parent;
			continue;
		}
		if (!is_red(*child(w, !dir))) {
			(*child(w, dir))->rb_red = 0;
			w->rb_red = 1;
			rotate(t, w, !dir);
			w = *child(p, !dir);
		}
		w->rb_red = p->rb_red;
		p->rb_red = 0;
		(*child(w, !dir))->rb_red = 0;
		rotate(t, p, dir);
		x = t->root;
	}
	if (x)
		x->rb_red = 0;
}

static void list_unlink(struct vma_tree *t, struct vma *v)
{
	if (v->vm_prev)
		v->vm_prev->vm_next = v->vm_next;
	else
		t->first = v->vm_next;
	if (v->vm_next)
		v->vm_next->vm_prev = v->vm_prev;
	else
		t->last = v->vm_prev;
	t->count--;
}

/*
 * Put z's in-order successor s (leftmost of z's right subtree) in z's place.
 * Sets *x and *xp to the node that took s's old place and its parent.
 */
static void splice_successor(struct vma_tree *t, struct vma *z, struct vma *s,
    struct vma **x, struct vma **xp)
{
	*x = s->rb_right;
	*xp = s;
	if (s->rb_parent != z) {
		*xp = s->rb_parent;
		(*xp)->rb_left = *x;
		if (*x)
			(*x)->rb_parent = *xp;
		s->rb_right = z->rb_right;
		s->rb_right->rb_parent = s;
	}
	replace_child(t, z->rb_parent, z, s);
	s->rb_parent = z->rb_parent;
	s->rb_left = z->rb_left;
	s->rb_left->rb_parent = s;
	s->rb_red = z->rb_red;
}

void vma_tree_erase(struct vma_tree *t, struct vma *z)
{
	struct vma *next = z->vm_next, *x, *xp;
	int removed_red;

	list_unlink(t, z);
	if (z->rb_left && z->rb_right) {
		removed_red = next->rb_red;	/* next is z's successor */
		splice_successor(t, z, next, &x, &xp);
	} else {
		removed_red = z->rb_red;
		x = z->rb_left ? z->rb_left : z->rb_right;
		xp = z->rb_parent;
		replace_child(t, xp, z, x);
		if (x)
			x->rb_parent = xp;
	}
	propagate(xp);		/* the path whose node set changed */
	propagate(next);	/* its predecessor changed */
	if (!removed_red)
		erase_fixup(t, x, xp);
	z->rb_parent = z->rb_left = z->rb_right = NULL;
	z->vm_prev = z->vm_next = NULL;
}

void vma_tree_adjust(struct vma_tree *t, struct vma *vma)
{
	(void)t;
	propagate(vma);
	propagate(vma->vm_next);
}

struct vma *vma_tree_find(const struct vma_tree *t, unsigned long addr)
{
	struct vma *n = t->root, *best = NULL;

	while (n) {
		if (n->vm_end > addr) {
			best = n;
			if (n->vm_start <= addr)
				break;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

struct vma *vma_tree_find_before(const struct vma_tree *t, unsigned long addr)
{
	struct vma *n = t->root, *best = NULL;

	while (n) {
		if (n->vm_start < addr) {
			best = n;
			n = n->rb_right;
		} else {
			n = n->rb_left;
		}
	}
	return best;
}

/*
 * A gap search.  A gap qualifies when its part inside [lo, hi) holds need
 * bytes; that needs gap start <= top and gap end >= bot.
 */
struct gap_query {
	unsigned long need;	/* length + align_mask */
	unsigned long lo, hi;
	unsigned long top;	/* hi - need */
	unsigned long bot;	/* lo + need */
	bool stop;		/* no gap further on can qualify */
};

static bool query_init(struct gap_query *q, unsigned long length,
    unsigned long lo, unsigned long hi, unsigned long align_mask)
{
	q->need = length + align_mask;
	if (q->need < length || hi < lo || hi - lo < q->need)
		return false;
	q->lo = lo;
	q->hi = hi;
	q->top = hi - q->need;
	q->bot = lo + q->need;
	q->stop = false;
	return true;
}

static bool fits(unsigned long start, unsigned long end,
    const struct gap_query *q)
{
	if (start < q->lo)
		start = q->lo;
	if (end > q->hi)
		end = q->hi;
	return end >= start && end - start >= q->need;
}

/*
 * The highest node of subtree n whose gap qualifies.  Gaps right of n start
 * at or above n->vm_end; gaps left of n end at or below gap_start(n).
 */
static const struct vma *search_top(const struct vma *n, struct gap_query *q)
{
	const struct vma *hit;

	if (!n || q->stop || n->rb_subtree_gap < q->need)
		return NULL;
	if (n->vm_end <= q->top && (hit = search_top(n->rb_right, q)))
		return hit;
	if (q->stop)
		return NULL;
	if (fits(gap_start(n), vm_start_gap(n), q))
		return n;
	if (gap_start(n) < q->bot) {	/* every lower gap ends too low */
		q->stop = true;
		return NULL;
	}
	return search_top(n->rb_left, q);
}

/* The lowest node of subtree n whose gap qualifies. */
static const struct vma *search_bottom(const struct vma *n,
    struct gap_query *q)
{
	const struct vma *hit;

	if (!n || q->stop || n->rb_subtree_gap < q->need)
		return NULL;
	if (gap_start(n) >= q->bot && (hit = search_bottom(n->rb_left, q)))
		return hit;
	if (q->stop)
		return NULL;
	if (fits(gap_start(n), vm_start_gap(n), q))
		return n;
	if (n->vm_end > q->top) {	/* every higher gap starts too high */
		q->stop = true;
		return NULL;
	}
	return search_bottom(n->rb_right, q);
}

unsigned long vma_tree_gap_topdown(const struct vma_tree *t,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset)
{
	struct gap_query q;
	const struct vma *hit;
	unsigned long end, addr;

	if (!query_init(&q, length, low_limit, high_limit, align_mask))
		return NO_ADDR;
	/* The gap above the last VMA is in no node. */
	end = ULONG_MAX;
	if (!fits(t->last ? vm_end_gap(t->last) : 0, end, &q)) {
		hit = search_top(t->root, &q);
		if (!hit)
			return NO_ADDR;
		end = vm_start_gap(hit);
	}
	if (end > high_limit)
		end = high_limit;
	addr = end - length;
	return addr - ((addr - align_offset) & align_mask);
}

unsigned long vma_tree_gap_bottomup(const struct vma_tree *t,
    unsigned long length, unsigned long low_limit, unsigned long high_limit,
    unsigned long align_mask, unsigned long align_offset)
{
	struct gap_query q;
	const struct vma *hit;
	unsigned long start;

	if (!query_init(&q, length, low_limit, high_limit, align_mask))
		return NO_ADDR;
	hit = search_bottom(t->root, &q);
	if (hit) {
		start = gap_start(hit);
	} else {
		/* The gap above the last VMA is in no node. */
		start = t->last ? vm_end_gap(t->last) : 0;
		if (!fits(start, ULONG_MAX, &q))
			return NO_ADDR;
	}
	if (start < low_limit)
		start = low_limit;
	return start + ((align_offset - start) & align_mask);
}

/* State of the in-order walk of vma_tree_validate(). */
struct check {
	const struct vma_tree *t;
	const struct vma *prev;		/* last node visited */
	unsigned long count;
	const char *err;
};

static int fail(struct check *c, const char *err)
{
	c->err = err;
	return -1;
}

/* In-order visit of n: ordering and the prev/next list. */
static int check_order(const struct vma *n, struct check *c)
{
	if (++c->count > c->t->count)
		return fail(c, "more nodes than count");
	if (n->vm_start >= n->vm_end)
		return fail(c, "vm_start >= vm_end");
	if (n->vm_prev != c->prev)
		return fail(c, "vm_prev is not the in-order predecessor");
	if (!c->prev && c->t->first != n)
		return fail(c, "first is not the lowest VMA");
	if (c->prev && c->prev->vm_next != n)
		return fail(c, "vm_next is not the in-order successor");
	if (c->prev && c->prev->vm_end > n->vm_start)
		return fail(c, "VMAs overlap or are out of order");
	c->prev = n;
	return 0;
}

/* Black height of subtree n after checking all of it, or -1. */
static int check_subtree(const struct vma *n, const struct vma *parent,
    int depth, struct check *c)
{
	int lh, rh;

	if (!n)
		return 1;
	if (depth > 2 * (int)(sizeof(long) * CHAR_BIT))
		return fail(c, "tree too deep (a cycle?)");
	if (n->rb_parent != parent)
		return fail(c, "bad rb_parent");
	if (n->rb_red && (is_red(n->rb_left) || is_red(n->rb_right)))
		return fail(c, "red node with a red child");
	if ((lh = check_subtree(n->rb_left, n, depth + 1, c)) < 0 ||
	    check_order(n, c) < 0 ||
	    (rh = check_subtree(n->rb_right, n, depth + 1, c)) < 0)
		return -1;
	if (lh != rh)
		return fail(c, "black heights differ");
	if (n->rb_subtree_gap != subtree_gap(n))
		return fail(c, "wrong rb_subtree_gap");
	return lh + !n->rb_red;
}

const char *vma_tree_validate(const struct vma_tree *t)
{
	struct check c = { .t = t };

	if (is_red(t->root))
		return "red root";
	if (check_subtree(t->root, NULL, 0, &c) < 0)
		return c.err;
	if (c.count != t->count)
		return "fewer nodes than count";
	if (t->last != c.prev)
		return "last is not the highest VMA";
	if (t->last && t->last->vm_next)
		return "last VMA has a vm_next";
	if (!t->root && t->first)
		return "empty tree with a first VMA";
	return NULL;
}

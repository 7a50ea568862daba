/*
 * mt.js: the VMA index drawn (docs/web.md): the task's maple tree as the
 * mt request gives it (`aspace mt`), a box a node, children under their
 * parent: an internal node (arange_64) with its pivots and each child's
 * largest gap, a leaf (leaf_64) with a cell a slot, a VMA's filled, a
 * free range's hatched, its range on hover.  Levels below the second are
 * folded (a click opens them): a tree of 65,000 VMAs has some 3,000
 * leaves.  The tree is asked for when the section is opened, and again
 * on each redraw while it stays open.
 */
'use strict';

const MT_OPEN_LEVELS = 2;	/* levels drawn open; those below, folded */

function mtRange(n) {
  return n.min + '-' + n.max;
}

/* A leaf's slots, a cell each. */
function mtSlots(n) {
  return '<div class="mt-slots">' + n.slots.map((s) =>
    '<span class="mt-slot ' + (s.entry ? 'vma' : 'free') + '" title="' +
    s.min + '-' + s.max + ': ' + (s.entry ? esc(s.entry) : 'free') +
    '" data-min="' + s.min + '"></span>').join('') + '</div>';
}

/* A node and what is below it; depth 0 is the root. */
function mtNode(n, depth) {
  const head = '<span class="mt-kind">' + n.type + '</span> ' +
    mtRange(n) + ', ' + n.end + ' slots, largest gap ' + n.gap;
  if (!n.children) {
    return '<div class="mt-node mt-leaf" data-depth="' + depth + '">' +
      '<div class="mt-head">' + head + '</div>' + mtSlots(n) + '</div>';
  }
  const kids = n.children.map((c) => mtNode(c, depth + 1)).join('');
  const body = '<div class="mt-head">' + head + '</div>' +
    '<div class="mt-pivots">pivots ' + n.pivots.join(' ') + '</div>' +
    (n.gaps ? '<div class="mt-pivots">gaps ' + n.gaps.join(' ') +
      '</div>' : '') +
    '<div class="mt-children">' + kids + '</div>';
  return depth < MT_OPEN_LEVELS - 1 || !n.children.length ?
    '<div class="mt-node mt-internal" data-depth="' + depth + '">' + body +
      '</div>' :
    '<details class="mt-node mt-internal" data-depth="' + depth +
      '"><summary>' + head + '</summary>' + body + '</details>';
}

async function drawMt() {
  let j;
  try {
    j = await api(sessionPath('mt'));
  } catch (e) {
    $('mt').textContent = String(e.message);   /* over the output cap */
    return;
  }
  const t = JSON.parse(j.mt.json);
  $('mt-note').textContent = 'height ' + t.height + ', ' + t.nodes +
    ' nodes of ' + t.node_bytes + ' bytes (the session as it is now)';
  $('mt').innerHTML = t.root ? mtNode(t.root, 0) : 'empty';
}

function wireMt() {
  $('mt-section').addEventListener('toggle', () => {
    if ($('mt-section').open) drawMt().catch(fail);
  });
}

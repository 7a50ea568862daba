/*
 * space.js: the address space (docs/web.md): the VMAs as a bar, to scale
 * where they fit and with long gaps folded, and as a table.  Both draw
 * only what is in view, so that 65,000 VMAs start fast: the bar is one
 * <div> per CHUNK VMAs whose SVG is made when it scrolls near the view
 * (an IntersectionObserver), the table a window of rows over a spacer
 * as tall as all of them (virtual scrolling), every VMA reachable.
 */
'use strict';

const PERM_COLOURS = { 'r-x': '#E69F00', 'rw-': '#0072B2', 'r--': '#56B4E9',
  '---': '#999999', 'rwx': '#D55E00', '-w-': '#CC79A7', '--x': '#F0E442' };
const SHARED_COLOUR = '#009E73';
const DENSE = 2000;          /* past this many VMAs: 1 px least, no strokes */
const BAR_MIN_PX = 2;        /* a VMA's least width */
const FOLD_PX = 14;          /* a folded gap's width */
const BAR_PX = 1200;         /* what the VMAs share, at least */
const CHUNK = 1024;          /* VMAs an <svg> of the bar */
const NEAR_PX = 1600;        /* a chunk this near the view is drawn */
const ROW_PX = 20;           /* a table row's height (app.css) */
const ROWS_OVER = 15;        /* rows drawn above and below the view */

function colour(v) {
  return v.perms[3] === 's' ? SHARED_COLOUR :
    (PERM_COLOURS[v.perms.slice(0, 3)] || '#777777');
}

/*
 * The bar's parts: VMAs to scale (BAR_PX shared by their sizes, each at
 * least BAR_MIN_PX); a gap to the same scale when that is narrower than
 * FOLD_PX, else folded to FOLD_PX with a hatched mark.
 */
function layout(vmas) {
  const total = vmas.reduce((a, v) => a + (v.end - v.start), 0) || 1;
  const scale = BAR_PX / total;
  const least = vmas.length > DENSE ? 1 : BAR_MIN_PX;
  let x = 0;
  const out = [];
  vmas.forEach((v, i) => {
    if (i > 0) {
      const gap = (v.start - vmas[i - 1].end) * scale;
      if (gap > 0) {
        const w = Math.min(gap, FOLD_PX);
        out.push({ fold: gap > FOLD_PX, x: x, w: w,
          gap: v.start - vmas[i - 1].end });
        x += w;
      }
    }
    const w = Math.max(least, (v.end - v.start) * scale);
    out.push({ vma: v, i: i, x: x, w: w });
    x += w;
  });
  return { parts: out, width: x };
}

const FOLD_DEFS = '<defs><pattern id="folded" width="6" height="6" ' +
  'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
  '<rect width="6" height="6" fill="#fff"/>' +
  '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/>' +
  '</pattern></defs>';

/* One part of a bar as SVG, x from the chunk's left edge x0; marks:
 * { changed: Set of keys, selected: a start }. */
function partSvg(p, x0, marks) {
  const x = Math.round((p.x - x0) * 10) / 10;
  if (!p.vma) {
    return p.fold ? '<rect class="fold" x="' + x + '" width="' + p.w +
      '"><title>gap of ' + size(p.gap) + ' (folded)</title></rect>' : '';
  }
  const v = p.vma;
  const cls = (marks.changed.has(v.key) ? ' changed' : '') +
    (marks.selected === v.start ? ' selected' : '');
  let s = '<rect class="vma' + cls + '" data-i="' + p.i + '" data-start="' +
    hex(v.start) + '" data-end="' + hex(v.end) + '" x="' + x + '" width="' +
    Math.round(p.w * 10) / 10 + '" fill="' + colour(v) + '"><title>' +
    esc(v.key) + (v.vmflags ? '\nVmFlags: ' + esc(v.vmflags) : '') +
    '</title></rect>';
  if (p.w > 60) {
    s += '<text x="' + (p.x - x0 + 3) + '" y="60">' +
      esc((v.name || v.perms).slice(0, Math.floor(p.w / 6))) + '</text>';
  }
  return s;
}

/* The chunks of parts: [first part, end part, x0, width], CHUNK VMAs
 * each (the gaps after a chunk's last VMA go with it). */
function chunksOf(parts) {
  const out = [];
  let k = 0;
  while (k < parts.length) {
    let n = 0, e = k;
    for (; e < parts.length && (n < CHUNK || !parts[e].vma); e++) {
      if (parts[e].vma) n++;
    }
    const last = parts[e - 1];
    out.push([k, e, parts[k].x, Math.ceil(last.x + last.w - parts[k].x)]);
    k = e;
  }
  return out;
}

/* A chunk's <svg>. */
function chunkSvg(parts, c, marks, defs) {
  let body = '';
  for (let k = c[0]; k < c[1]; k++) body += partSvg(parts[k], c[2], marks);
  return '<svg height="64" width="' + c[3] + '">' + (defs ? FOLD_DEFS : '') +
    body + '</svg>';
}

/* A whole bar at once (the compare view's, a few VMAs). */
function barHtml(vmas, marks) {
  const { parts } = layout(vmas);
  return chunksOf(parts).map((c, n) => '<div class="chunk">' +
    chunkSvg(parts, c, marks, n === 0) + '</div>').join('');
}

function fillChunk(div) {
  const bar = view.bar;
  if (!bar || div.firstChild) return;
  const n = Number(div.dataset.chunk);
  div.innerHTML = chunkSvg(bar.parts, bar.chunks[n], bar.marks, n === 0);
}

/* The main bar: every chunk as an empty <div> of its width; those near
 * the view drawn now, the others when scrolled to. */
function drawBar() {
  const { parts } = layout(view.vmas);
  const chunks = chunksOf(parts);
  const marks = { changed: view.changed, selected: view.selected };
  const el = $('bar');
  view.bar = { parts: parts, chunks: chunks, marks: marks };
  el.classList.toggle('dense', view.vmas.length > DENSE);
  el.innerHTML = chunks.map((c, n) => '<div class="chunk" data-chunk="' + n +
    '" data-first="' + (parts[c[0]].vma ? parts[c[0]].i : '') +
    '" data-vmas="' + parts.slice(c[0], c[1]).filter((p) => p.vma).length +
    '"></div>').join('');
  const wrap = $('bar-wrap');
  const lo = wrap.scrollLeft - NEAR_PX, hi = wrap.scrollLeft +
    wrap.clientWidth + NEAR_PX;
  if (view.barObserver) view.barObserver.disconnect();
  view.barObserver = new IntersectionObserver((es) => es.forEach((e) => {
    if (e.isIntersecting) fillChunk(e.target);
  }), { root: wrap, rootMargin: '0px ' + NEAR_PX + 'px' });
  [...el.children].forEach((div, n) => {
    div.style.width = chunks[n][3] + 'px';
    if (chunks[n][2] < hi && chunks[n][2] + chunks[n][3] > lo) fillChunk(div);
    else view.barObserver.observe(div);
  });
}

/* Mark the VMA that starts at start as the one chosen, in bar and table,
 * and bring it into view in both. */
function markSelected(start) {
  view.selected = start;
  if (view.bar) view.bar.marks.selected = start;
  document.querySelectorAll('#bar rect.selected, #vmas tr.selected')
    .forEach((el) => el.classList.remove('selected'));
  const i = view.vmas.findIndex((v) => v.start === start);
  if (i < 0) return;
  const p = view.bar && view.bar.parts.find((x) => x.i === i);
  const wrap = $('bar-wrap');
  if (p && (p.x < wrap.scrollLeft || p.x > wrap.scrollLeft +
      wrap.clientWidth)) wrap.scrollLeft = Math.max(0, p.x - 100);
  const chunk = $('bar').children[Math.floor(i / CHUNK)];
  if (chunk) fillChunk(chunk);
  const r = document.querySelector('#bar rect[data-i="' + i + '"]');
  if (r) r.classList.add('selected');
  scrollTableTo(i);
  drawTable();
}

/* The index of the VMA holding addr (or the first after it), by
 * bisection: view.vmas is in address order. */
function vmaIndexOf(addr) {
  let lo = 0, hi = view.vmas.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (view.vmas[mid].end <= addr) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function barHover(e) {
  const el = e.target.closest('rect[data-i]');
  const v = el ? view.vmas[Number(el.dataset.i)] : null;
  $('bar-hover').textContent = v ? v.key + (v.vmflags ? '  VmFlags: ' +
    v.vmflags : '') : '';
}

/* --- the table: a window of rows ------------------------------------------- */

function scrollTableTo(i) {
  const wrap = $('vma-table-wrap');
  const top = i * ROW_PX, h = wrap.clientHeight - 2 * ROW_PX;
  if (top < wrap.scrollTop || top > wrap.scrollTop + h) {
    wrap.scrollTop = Math.max(0, top - h / 2);
  }
}

function rowHtml(v, i) {
  const cls = (view.changed.has(v.key) ? 'changed' : '') +
    (view.selected === v.start ? ' selected' : '');
  return '<tr data-i="' + i + '" class="' + cls + '"><td>' +
    v.start.toString(16) + '-' + v.end.toString(16) + '</td><td>' +
    esc(v.perms) + '</td><td>' + v.offset.toString(16).padStart(8, '0') +
    '</td><td>' + esc(v.name) + '</td><td>' + size(v.end - v.start) +
    '</td><td>' + esc(v.vmflags || '') + '</td></tr>';
}

/* The rows in view (and ROWS_OVER either side) between two spacers. */
function drawTable() {
  const wrap = $('vma-table-wrap');
  const n = view.vmas.length;
  const first = Math.max(0, Math.min(n - 1, Math.floor(wrap.scrollTop /
    ROW_PX)) - ROWS_OVER);
  const last = Math.min(n, first + Math.ceil(wrap.clientHeight / ROW_PX) +
    2 * ROWS_OVER);
  const rows = ['<tr class="pad"></tr>'];
  for (let i = first; i < last; i++) rows.push(rowHtml(view.vmas[i], i));
  rows.push('<tr class="pad"></tr>');
  const body = $('vmas').tBodies[0];
  body.innerHTML = rows.join('');
  body.firstChild.style.height = first * ROW_PX + 'px';
  body.lastChild.style.height = (n - last) * ROW_PX + 'px';
  view.tableRows = [first, last];
  $('space-note').textContent = n + ' VMAs' + (n > last - first ?
    ' (the table draws the rows in view: scroll for the others)' : '') +
    (view.steps ? ', after line ' + view.steps[view.step].line : '');
}

function tableScrolled() {
  const wrap = $('vma-table-wrap');
  const [first, last] = view.tableRows || [0, 0];
  const top = Math.floor(wrap.scrollTop / ROW_PX);
  const bottom = Math.ceil((wrap.scrollTop + wrap.clientHeight) / ROW_PX);
  if (top < first || Math.min(bottom, view.vmas.length) > last) drawTable();
}

function drawLegend() {
  const perm = Object.entries(PERM_COLOURS).map(([p, c]) =>
    '<span><svg width="14" height="14"><rect width="14" height="14" fill="' +
    c + '"/></svg>' + p + 'p</span>');
  perm.push('<span><svg width="14" height="14"><rect width="14" height="14"' +
    ' fill="' + SHARED_COLOUR + '"/></svg>shared (s)</span>');
  $('vma-legend').innerHTML = perm.join('');
  $('page-legend').innerHTML = STATES.map(([s, ch, what]) =>
    '<span><span class="swatch s-' + s + '">' + ch + '</span>' + esc(what) +
    '</span>').join('') + '<span><span class="swatch cell locked"></span>' +
    'locked (mlock)</span><span><span class="swatch cell changed"></span>' +
    'changed by the line stepped to</span><span><span class="swatch cell ' +
    'same-frame"></span>the same frame in both mms (compare)</span>';
}

/* The VmFlags of each VMA, from smaps (not past DENSE VMAs: the bar's
 * hover and the table then go without). */
async function addVmFlags() {
  if (view.vmas.length > DENSE) return;
  const j = await api(sessionPath('smaps'));
  const by = new Map(j.smaps.smaps.map((s) => [Number(s.vma.start), s]));
  for (const v of view.vmas) {
    const s = by.get(v.start);
    if (s) v.vmflags = s.vm_flags;
  }
}

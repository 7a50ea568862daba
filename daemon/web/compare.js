/*
 * compare.js: two mms side by side (docs/web.md), to see what fork
 * shares: two tasks of the session with different mms, each one's VMAs
 * as a bar, and for a VMA chosen in either, both tasks' pages of its
 * range, cell by cell, a page whose frame is the same in both marked.
 * Always the session as it is now (the maps and pages endpoints); which
 * tasks and which VMA are in the fragment (cmp=A,B, cmpvma=ADDR).
 */
'use strict';

/* Two pids with different mms: the fragment's, else the first task and
 * the first after it with another mm; null if all share one mm. */
function comparePair(tasks) {
  const mmOf = new Map(tasks.map((t) => [t.pid, t.mm]));
  const want = (fragment().get('cmp') || '').split(',').map(Number);
  if (want.length === 2 && mmOf.has(want[0]) && mmOf.has(want[1]) &&
      mmOf.get(want[0]) !== mmOf.get(want[1])) return want;
  for (const a of tasks) {
    const b = tasks.find((t) => t.mm !== a.mm);
    if (b) return [a.pid, b.pid];
  }
  return null;
}

function taskOptions(tasks, pid) {
  return tasks.map((t) => '<option value="' + t.pid + '"' + (t.pid === pid ?
    ' selected' : '') + '>task ' + t.pid + ' (mm ' + t.mm + ')</option>')
    .join('');
}

/* The compare section for the session's tasks (drawTasks' answer). */
async function drawCompare(tasks) {
  view.cmpTasks = tasks;
  const pair = comparePair(tasks);
  $('compare-body').hidden = !pair;
  $('compare-note').textContent = pair ? '(the session as it is now)' :
    '(one mm in this session: fork to have two)';
  view.cmp = pair ? { a: pair[0], b: pair[1] } : null;
  if (!pair) return;
  $('cmp-a').innerHTML = taskOptions(tasks, pair[0]);
  $('cmp-b').innerHTML = taskOptions(tasks, pair[1]);
  await loadCompare();
}

async function loadCompare() {
  const c = view.cmp;
  setFragment({ cmp: c.a + ',' + c.b });
  const [ma, mb] = await Promise.all([api(sessionPath('maps', {}, c.a)),
    api(sessionPath('maps', {}, c.b))]);
  c.vmas = { a: (ma.maps.vmas || []).map(fromApi),
    b: (mb.maps.vmas || []).map(fromApi) };
  if (c.vmas.a.length > DENSE || c.vmas.b.length > DENSE) {
    $('cmp-bars').hidden = true;
    $('cmp-pages-note').textContent = 'over ' + DENSE + ' VMAs: too many ' +
      'to compare here';
    return;
  }
  $('cmp-bars').hidden = false;
  const want = Number(fragment().get('cmpvma') || NaN);
  const common = c.vmas.a.filter((v) => c.vmas.b.some((w) =>
    w.start === v.start));
  const pick = common.find((v) => v.start === want) ||
    common.find((v) => v.perms === 'rw-p') || common[0] || c.vmas.a[0];
  await compareVma(pick ? pick.start : null);
}

function drawCompareBars() {
  const c = view.cmp;
  const marks = { changed: new Set(), selected: c.start };
  $('cmp-bar-a').innerHTML = barHtml(c.vmas.a, marks);
  $('cmp-bar-b').innerHTML = barHtml(c.vmas.b, marks);
  $('cmp-label-a').textContent = 'task ' + c.a;
  $('cmp-label-b').textContent = 'task ' + c.b;
}

/* One side's cells over [lo, lo + n pages), pages by address. */
function compareCells(lo, n, mine, other) {
  const cells = [];
  let same = 0;
  for (let k = 0; k < n; k++) {
    const addr = lo + k * 4096;
    const p = mine.get(addr) || { state: 'NOT_PRESENT' };
    const q = other.get(addr);
    const sameFrame = p.pfn !== undefined && q !== undefined &&
      q.pfn !== undefined && Number(p.pfn) === Number(q.pfn);
    same += sameFrame;
    cells.push(cellHtml(Object.assign({}, p, { addr: addr,
      sameFrame: sameFrame })));
  }
  return { html: cells.join(''), same: same };
}

/* Both tasks' pages of the range of the VMA starting at start (in
 * either task), side by side. */
async function compareVma(start) {
  const c = view.cmp;
  c.start = start;
  drawCompareBars();
  const v = c.vmas.a.find((x) => x.start === start) ||
    c.vmas.b.find((x) => x.start === start);
  if (!v) { $('cmp-pages-note').textContent = 'no VMA to compare'; return; }
  setFragment({ cmpvma: hex(v.start) });
  const range = { start: hex(v.start), end: hex(v.end) };
  const [pa, pb] = await Promise.all([api(sessionPath('pages', range, c.a)),
    api(sessionPath('pages', range, c.b))]);
  const by = (j) => new Map((j.pages.pages || []).map((p) =>
    [Number(p.addr), Object.assign({}, p, { addr: Number(p.addr) })]));
  const a = by(pa), b = by(pb);
  const n = Math.min((v.end - v.start) / 4096, PAGES_MAX);
  const ca = compareCells(v.start, n, a, b), cb = compareCells(v.start, n,
    b, a);
  $('cmp-pages-a').innerHTML = ca.html;
  $('cmp-pages-b').innerHTML = cb.html;
  $('cmp-range').textContent = v.key;
  $('cmp-pages-note').textContent = ca.same + ' of ' + n + ' pages map ' +
    'the same frame in both (ringed): shared since the fork, copy on ' +
    'write pending if the VMA is writable and private';
}

function wireCompare() {
  const change = () => {
    const a = Number($('cmp-a').value), b = Number($('cmp-b').value);
    view.cmp = { a: a, b: b };
    loadCompare().catch(fail);
  };
  $('cmp-a').addEventListener('change', change);
  $('cmp-b').addEventListener('change', change);
  const pick = (e) => {
    const r = e.target.closest('rect[data-start]');
    if (r) compareVma(Number(BigInt(r.dataset.start))).catch(fail);
  };
  $('cmp-bar-a').addEventListener('click', pick);
  $('cmp-bar-b').addEventListener('click', pick);
}

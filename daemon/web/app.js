/*
 * app.js: the web view (docs/web.md).  Plain JavaScript, no library.
 * Everything it shows comes from aspaced's /api/: it keeps no state of
 * its own but where it is (the fragment: session, task, step, vma, addr)
 * and the steps of a trace the daemon ran for it.  The fragment also
 * carries a login token once; it is traded for a cookie at once and
 * dropped from the address bar.
 */
'use strict';

const STATES = [
  ['NOT_PRESENT', '', 'not present: no page table entry'],
  ['ZERO', 'Z', 'the zero page (read-only, shared by all)'],
  ['ANON', 'A', 'anonymous, private to this mm'],
  ['SHARED', 'S', 'shared: mapped more than once (mapcount > 1)'],
  ['COW', 'C', 'copy on write pending: write-protected in a writable VMA'],
  ['FILE_CLEAN', 'F', 'page cache, clean'],
  ['FILE_DIRTY', 'D', 'page cache, dirty'],
  ['SWAP', 'W', 'swapped out: a swap entry'],
];
const PERM_COLOURS = { 'r-x': '#E69F00', 'rw-': '#0072B2', 'r--': '#56B4E9',
  '---': '#999999', 'rwx': '#D55E00', '-w-': '#CC79A7', '--x': '#F0E442' };
const SHARED_COLOUR = '#009E73';
const TABLE_ROWS = 2000;     /* rows of the VMA table at most */
const BAR_MIN_PX = 2;        /* a VMA's least width */
const FOLD_PX = 14;          /* a folded gap's width */
const BAR_PX = 1200;         /* what the VMAs share, at least */

const $ = (id) => document.getElementById(id);
const view = { session: null, task: 1, vmas: [], steps: null, step: 0,
  selected: null, changed: new Set(), lines: [] };

function hex(n) {
  return '0x' + (typeof n === 'number' ? n : BigInt(n)).toString(16);
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;',
    '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function status(msg, error) {
  $('status').textContent = msg;
  $('status').className = error ? 'error' : '';
}

/* --- the fragment: where we are ------------------------------------------ */

function fragment() {
  const p = new URLSearchParams(location.hash.slice(1));
  return p;
}

function setFragment(changes) {
  const p = fragment();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined) p.delete(k); else p.set(k, v);
  }
  history.replaceState(null, '', '#' + p.toString());
}

/* --- the daemon ----------------------------------------------------------- */

async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', body: body,
    headers: { 'X-Aspace-CSRF': '1', 'Content-Type': 'text/plain' } };
  const r = await fetch('/api/' + path, init);
  const j = await r.json().catch(() => ({ message: r.statusText }));
  if (!r.ok) {
    const e = new Error((j.message || (j.status && j.status.message) ||
      r.statusText) + ' (' + r.status + ')');
    e.http = r.status;
    throw e;
  }
  return j;
}

function sessionPath(what, query) {
  const q = new URLSearchParams(Object.assign({ task: view.task }, query));
  return 'session/' + view.session + '/' + what + '?' + q.toString();
}

/* --- the VMAs --------------------------------------------------------------- */

/* A maps line as the trace prints it: START-END PERMS OFFSET [NAME]. */
function parseMapsLine(line) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) ?(.*)$/.exec(line);
  if (!m) return null;
  return { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3],
    offset: parseInt(m[4], 16), name: m[5], key: line };
}

function vmaKey(v) {
  return v.start.toString(16) + '-' + v.end.toString(16) + ' ' + v.perms +
    ' ' + v.offset.toString(16).padStart(8, '0') + (v.name ? ' ' + v.name : '');
}

function fromApi(v) {
  const o = { start: Number(v.start), end: Number(v.end), perms: v.perms,
    offset: Number(v.offset || 0), name: v.name || '', flags: v.vm_flags };
  o.key = vmaKey(o);
  return o;
}

function colour(v) {
  return v.perms[3] === 's' ? SHARED_COLOUR :
    (PERM_COLOURS[v.perms.slice(0, 3)] || '#777777');
}

function size(n) {
  const u = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && n % 1024 === 0 && i < u.length - 1) { n /= 1024; i++; }
  return n + u[i];
}

/*
 * The bar: VMAs to scale (BAR_PX shared by their sizes, each at least
 * BAR_MIN_PX); a gap to the same scale when that is narrower than
 * FOLD_PX, else folded to FOLD_PX with a hatched mark.
 */
function layout(vmas) {
  const total = vmas.reduce((a, v) => a + (v.end - v.start), 0) || 1;
  const scale = BAR_PX / total;
  const least = vmas.length > TABLE_ROWS ? 1 : BAR_MIN_PX;
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
const CHUNK = 1024;          /* VMAs an <svg> of the bar */

/* One part of the bar as SVG, x from the chunk's left edge x0. */
function partSvg(p, x0, titles) {
  const x = Math.round((p.x - x0) * 10) / 10;
  if (!p.vma) {
    return p.fold ? '<rect class="fold" x="' + x + '" width="' + p.w +
      '"><title>gap of ' + size(p.gap) + ' (folded)</title></rect>' : '';
  }
  const v = p.vma;
  const cls = (view.changed.has(v.key) ? ' changed' : '') +
    (view.selected === v.start ? ' selected' : '');
  let s = '<rect ' + (cls ? 'class="vma' + cls + '" ' : '') + 'data-i="' +
    p.i + '" data-start="' + hex(v.start) + '" data-end="' + hex(v.end) +
    '" x="' + x + '" width="' + Math.round(p.w * 10) / 10 + '" fill="' +
    colour(v) +
    '">' + (titles ? '<title>' + esc(v.key) + (v.vmflags ? '\nVmFlags: ' +
    esc(v.vmflags) : '') + '</title>' : '') + '</rect>';
  if (p.w > 60) {
    s += '<text x="' + (p.x - x0 + 3) + '" y="60">' +
      esc((v.name || v.perms).slice(0, Math.floor(p.w / 6))) + '</text>';
  }
  return s;
}

/*
 * The bar: one <svg> per CHUNK VMAs side by side, so that the browser
 * paints only those in view.  Past TABLE_ROWS VMAs a <title> each costs
 * more than the rest: the bar's hover line (barHover) says the same.
 */
function drawBar() {
  const { parts } = layout(view.vmas);
  const titles = view.vmas.length <= TABLE_ROWS;
  const html = [];
  let k = 0;
  while (k < parts.length) {
    const x0 = parts[k].x;
    let n = 0, e = k, body = '';
    for (; e < parts.length && (n < CHUNK || !parts[e].vma); e++) {
      if (parts[e].vma) n++;
      body += partSvg(parts[e], x0, titles);
    }
    const last = parts[e - 1];
    html.push('<div class="chunk"><svg height="64" width="' +
      Math.ceil(last.x + last.w - x0) + '">' + (k === 0 ? FOLD_DEFS : '') +
      body + '</svg></div>');
    k = e;
  }
  const bar = $('bar');
  bar.classList.toggle('dense', !titles);   /* no strokes: paint less */
  bar.innerHTML = html.join('');
  /* A chunk out of view is neither laid out nor painted (its size kept). */
  for (const c of bar.children) {
    c.style.containIntrinsicSize = c.firstChild.getAttribute('width') +
      'px 64px';
  }
}

function barHover(e) {
  const el = e.target.closest('rect[data-i]');
  const v = el ? view.vmas[Number(el.dataset.i)] : null;
  $('bar-hover').textContent = v ? v.key + (v.vmflags ? '  VmFlags: ' +
    v.vmflags : '') : '';
}

function drawTable() {
  const rows = [];
  const n = Math.min(view.vmas.length, TABLE_ROWS);
  for (let i = 0; i < n; i++) {
    const v = view.vmas[i];
    const cls = (view.changed.has(v.key) ? 'changed' : '') +
      (view.selected === v.start ? ' selected' : '');
    rows.push('<tr data-i="' + i + '" class="' + cls + '"><td>' +
      v.start.toString(16) + '-' + v.end.toString(16) + '</td><td>' +
      esc(v.perms) + '</td><td>' + v.offset.toString(16).padStart(8, '0') +
      '</td><td>' + esc(v.name) + '</td><td>' + size(v.end - v.start) +
      '</td><td>' + esc(v.vmflags || '') + '</td></tr>');
  }
  $('vmas').tBodies[0].innerHTML = rows.join('');
  $('space-note').textContent = view.vmas.length + ' VMAs' +
    (view.vmas.length > n ? ' (the table shows the first ' + n + ')' : '') +
    (view.steps ? ', after line ' + view.steps[view.step].line : '');
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
    'locked (mlock)</span>';
}

async function addVmFlags() {
  if (view.vmas.length > TABLE_ROWS) return;
  const j = await api(sessionPath('smaps'));
  const by = new Map(j.smaps.smaps.map((s) => [Number(s.vma.start), s]));
  for (const v of view.vmas) {
    const s = by.get(v.start);
    if (s) v.vmflags = s.vm_flags;
  }
}

/* --- a VMA's details and pages ------------------------------------------- */

const SMAPS_FIELDS = ['rss', 'pss', 'shared_clean', 'shared_dirty',
  'private_clean', 'private_dirty', 'anonymous', 'swap', 'locked'];

function cellTitle(p) {
  const what = STATES.find((s) => s[0] === p.state)[2];
  let t = hex(p.addr) + ': ' + what;
  if (p.pfn !== undefined) t += ', frame ' + hex(p.pfn);
  if (p.mapcount !== undefined) t += ', mapcount ' + p.mapcount;
  if (p.dirty) t += ', dirty';
  if (p.locked) t += ', locked';
  return t;
}

async function showVma(start) {
  const v = view.vmas.find((x) => x.start === start);
  view.selected = start;
  setFragment({ vma: v ? hex(start) : null });
  drawBar();
  drawTable();
  if (!v) { $('detail').hidden = true; return; }
  $('detail').hidden = false;
  $('detail-range').textContent = v.key;
  const range = { start: hex(v.start), end: hex(v.end) };
  const [sm, pg] = await Promise.all([api(sessionPath('smaps', range)),
    api(sessionPath('pages', range))]);
  const s = sm.smaps.smaps.find((x) => Number(x.vma.start) === v.start);
  $('smaps').innerHTML = s ? SMAPS_FIELDS.map((f) => '<dt>' + f +
    '</dt><dd data-field="' + f + '">' + s[f] + ' kB</dd>').join('') +
    '<dt>VmFlags</dt><dd>' + esc(s.vm_flags) + '</dd>' : '';
  const pages = pg.pages.pages || [];
  $('pages').innerHTML = pages.map((p) => {
    const st = STATES.find((x) => x[0] === p.state);
    return '<div class="cell s-' + p.state + (p.locked ? ' locked' : '') +
      '" role="listitem" data-addr="' + hex(p.addr) + '" data-state="' +
      p.state + '"' + (p.pfn !== undefined ? ' data-pfn="' + hex(p.pfn) +
      '"' : '') + ' title="' + esc(cellTitle(p)) + '">' + st[1] + '</div>';
  }).join('');
  $('pages-note').textContent = pages.length + ' pages' +
    (pg.pages.truncated ? ' (the first ' + pages.length + ')' : '') +
    (view.steps ? '; as the session is now, after the last line' : '');
}

/* --- the walk --------------------------------------------------------------- */

const BITS = [[0, 'P'], [1, 'RW'], [2, 'US'], [3, 'PWT'], [4, 'PCD'],
  [5, 'A'], [6, 'D'], [7, 'PS'], [8, 'G'], [63, 'NX']];

function decode(e) {
  const v = BigInt(e);
  if (v === 0n) return 'not present';
  const bits = BITS.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, n]) => n);
  const pfn = (v >> 12n) & ((1n << 40n) - 1n);
  return bits.join(' ') + '  pfn 0x' + pfn.toString(16);
}

async function walk(addr) {
  setFragment({ addr: addr });
  const j = await api(sessionPath('walk', { addr: addr }));
  const w = j.page_walk;
  const rows = ['pgd', 'pud', 'pmd', 'pte'].map((l) => '<tr data-level="' +
    l + '"><th>' + l.toUpperCase() + '</th><td>0x' +
    BigInt(w[l] || 0).toString(16).padStart(16, '0') + '</td><td class="bits">' +
    (l === 'pte' && w.swap ? 'swap entry: slot ' + w.swap_offset +
      (w.swap_exclusive ? ', exclusive' : '') : decode(w[l] || 0)) +
    '</td></tr>');
  $('walk').tBodies[0].innerHTML = rows.join('');
  $('walk-addr').value = addr;     /* once its rows are there */
}

/* --- the counters ----------------------------------------------------------- */

async function drawCounters() {
  const j = await api(sessionPath('counters'));
  const c = Object.entries(j.counters);
  const max = Math.max(1, ...c.map(([, v]) => Number(v)));
  const svg = c.map(([k, v], i) => '<g data-counter="' + k + '"><text x="0" y="' +
    (i * 18 + 13) + '" font-size="12">' + k + '</text><rect x="150" y="' +
    (i * 18 + 3) + '" height="12" width="' + (Number(v) / max * 300 + 1) +
    '" fill="#0072B2"/><text x="' + (Number(v) / max * 300 + 156) + '" y="' +
    (i * 18 + 13) + '" font-size="12">' + v + '</text></g>');
  $('counters').setAttribute('height', c.length * 18 + 4);
  $('counters').innerHTML = svg.join('');
}

/* --- tasks and sessions ------------------------------------------------------- */

async function drawTasks() {
  const j = await api('session/' + view.session + '/tasks');
  $('tasks').innerHTML = 'Task ' + j.tasks.map((t) => '<button type="button" ' +
    'class="task' + (t.pid === view.task ? ' current' : '') + '" data-pid="' +
    t.pid + '" title="pid ' + t.pid + ', tgid ' + t.tgid + ', mm ' + t.mm +
    (t.blocked ? ', waiting for its vfork child' : '') + '">' + t.pid +
    ' (mm ' + t.mm + ')</button>').join('');
}

async function loadLive() {
  const j = await api(sessionPath('maps'));
  view.vmas = (j.maps.vmas || []).map(fromApi);
  view.changed = new Set();
  await addVmFlags();
}

async function loadSession() {
  document.body.dataset.session = view.session;
  await drawTasks();
  if (view.steps) {
    showStep(view.step);
    /* After the last line the snapshot is the session as it is now. */
    if (view.step === view.steps.length - 1) await addVmFlags();
  } else {
    await loadLive();
  }
  const t0 = performance.now();
  drawBar();
  const t1 = performance.now();
  drawTable();
  const t2 = performance.now();
  /* Until the frame after: style, layout and paint included. */
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const t3 = performance.now();
  document.body.dataset.drawMs = Math.round(t3 - t0);
  document.body.dataset.drawParts = [t1 - t0, t2 - t1, t3 - t2]
    .map(Math.round).join(' ');
  await drawCounters();
  const f = fragment();
  const vma = f.get('vma');
  if (vma && view.vmas.some((v) => v.start === Number(BigInt(vma)))) {
    await showVma(Number(BigInt(vma)));
  } else {
    $('detail').hidden = true;
  }
  if (f.get('addr')) {
    $('walk-addr').value = f.get('addr');
    await walk(f.get('addr'));
  }
}

async function loadSessions() {
  const j = await api('sessions');
  const list = j.session_list.sessions || [];
  $('session').innerHTML = list.map((s) => '<option value="' + s.session +
    '">' + s.session.slice(0, 8) + ' ' + esc(s.label || '') + ' (' +
    s.tasks + ' tasks)</option>').join('');
  if (!view.session && list.length) view.session = list[0].session;
  $('session').value = view.session;
}

/* --- the stepper ------------------------------------------------------------ */

/* The maps after step i: the last snapshot at or before it. */
function mapsAt(i) {
  for (let k = i; k >= 0; k--) {
    if (typeof view.steps[k].maps === 'string') return view.steps[k].maps;
  }
  return '';
}

function parseMaps(text) {
  return text.split('\n').filter((l) => l).map(parseMapsLine)
    .filter((v) => v);
}

function explainHtml(text) {
  if (!text) return '<i>no path recorded for this line</i>';
  return text.split('\n').map((l) => '<ol>' + l.split(' -> ').map((s) =>
    '<li>' + esc(s) + '</li>').join('') + '</ol>').join('');
}

function showStep(i) {
  const st = view.steps;
  i = Math.max(0, Math.min(st.length - 1, i));
  view.step = i;
  const s = st[i];
  view.task = s.task;      /* the trace's current task after the line */
  document.querySelectorAll('#tasks button').forEach((b) => {
    b.classList.toggle('current', Number(b.dataset.pid) === view.task);
  });
  view.vmas = parseMaps(mapsAt(i));
  const before = new Set(i > 0 ? parseMaps(mapsAt(i - 1)).map((v) => v.key)
    : []);
  view.changed = new Set(i > 0 ? view.vmas.filter((v) => !before.has(v.key))
    .map((v) => v.key) : []);
  $('step-pos').textContent = '(line ' + s.line + ' of ' +
    st[st.length - 1].line + ')';
  $('step-line').textContent = s.line;
  $('step-task').textContent = s.task;
  $('step-text').textContent = s.text;
  $('step-output').textContent = s.output;
  $('step-explain').innerHTML = explainHtml(s.explain);
  document.querySelectorAll('#trace-lines li').forEach((li, k) => {
    li.className = k === i ? 'current' : '';
  });
  const cur = document.querySelector('#trace-lines li.current');
  if (cur && cur.scrollIntoView) cur.scrollIntoView({ block: 'nearest' });
  setFragment({ step: s.line });
}

function redrawStep(i) {
  showStep(i);
  drawBar();
  drawTable();
}

function startSteps(j) {
  view.steps = j.steps;
  view.session = j.session;
  $('stepper').hidden = false;
  $('trace-lines').innerHTML = j.steps.map((s) => '<li value="' + s.line +
    '">' + esc(s.text || ' ') + '</li>').join('');
  const want = Number(fragment().get('step') || j.steps.length);
  const k = j.steps.findIndex((s) => s.line === want);
  view.step = k >= 0 ? k : j.steps.length - 1;
  setFragment({ session: j.session });
  if (j.message) status(j.message, true);
}

async function runTrace(text) {
  status('running the trace...');
  const j = await api('trace', text);
  startSteps(j);
  await loadSessions();
  await loadSession();
  status('');
}

/* --- start ---------------------------------------------------------------- */

async function login(token) {
  setFragment({ token: null });
  const j = await api('login', token);
  if (j.session) view.session = j.session;
  return j;
}

function wire() {
  $('session').addEventListener('change', () => {
    view.session = $('session').value;
    view.steps = null;
    view.task = 1;
    $('stepper').hidden = true;
    setFragment({ session: view.session, task: null, step: null, vma: null });
    loadSession().catch(fail);
  });
  $('tasks').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-pid]');
    if (!b) return;
    view.task = Number(b.dataset.pid);
    view.steps = null;
    $('stepper').hidden = true;
    setFragment({ task: view.task, vma: null, step: null });
    loadSession().catch(fail);
  });
  const pick = (e) => {
    const el = e.target.closest('[data-i]');
    if (el) showVma(view.vmas[Number(el.dataset.i)].start).catch(fail);
  };
  $('bar').addEventListener('click', pick);
  $('bar').addEventListener('mouseover', barHover);
  $('vmas').addEventListener('click', pick);
  $('pages').addEventListener('click', (e) => {
    const c = e.target.closest('.cell');
    if (c) walk(c.dataset.addr).catch(fail);
  });
  $('walk-form').addEventListener('submit', (e) => {
    e.preventDefault();
    walk($('walk-addr').value.trim()).catch(fail);
  });
  $('trace-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runTrace($('trace-text').value).catch(fail);
  });
  $('step-first').onclick = () => redrawStep(0);
  $('step-prev').onclick = () => redrawStep(view.step - 1);
  $('step-next').onclick = () => redrawStep(view.step + 1);
  $('step-last').onclick = () => redrawStep(view.steps.length - 1);
  $('trace-lines').addEventListener('click', (e) => {
    const li = e.target.closest('li');
    if (li) redrawStep([...li.parentNode.children].indexOf(li));
  });
  document.addEventListener('keydown', (e) => {
    if (!view.steps || e.target.closest('input, textarea, select')) return;
    const k = { ArrowLeft: view.step - 1, ArrowRight: view.step + 1,
      Home: 0, End: view.steps.length - 1 }[e.key];
    if (k !== undefined) { e.preventDefault(); redrawStep(k); }
  });
  $('logout').onclick = () => api('logout', '').then(() => location.reload(),
    fail);
}

/* --- updates: another client may change the session ---------------------------- */

/* While a live session (not a stepped trace) is shown and the page is
 * visible, its maps are asked for every POLL_MS, one request at a time:
 * bounded, and no state the daemon does not have.  A change redraws. */
const POLL_MS = 2000;

function mapsSignature(vmas) {
  return vmas.map((v) => v.key).join('\n');
}

async function poll() {
  if (view.polling || !view.session || view.steps || document.hidden) return;
  view.polling = true;
  try {
    const j = await api(sessionPath('maps'));
    const vmas = (j.maps.vmas || []).map(fromApi);
    if (mapsSignature(vmas) !== mapsSignature(view.vmas)) {
      await loadSession();
      document.body.dataset.updates = Number(document.body.dataset.updates ||
        0) + 1;
      status('updated: another client changed the session');
    }
  } catch (e) {
    clearInterval(view.pollTimer);   /* logged out, or the session gone */
    fail(e);
  } finally {
    view.polling = false;
  }
}

function fail(e) {
  status(e.message, true);
  if (e.http === 401) $('login').hidden = false;
  document.body.dataset.ready = 'error';
}

async function main() {
  const t0 = performance.now();
  wire();
  drawLegend();
  const f = fragment();
  view.session = f.get('session');
  view.task = Number(f.get('task') || 1);
  let trace = null;
  if (f.get('token')) trace = (await login(f.get('token'))).trace;
  if (trace) {
    startSteps(await api('trace', trace));
  }
  await loadSessions();
  if (!view.session) {
    status('no session yet: run a trace below, or aspace run --keep');
  } else {
    setFragment({ session: view.session });
    await loadSession();
  }
  view.pollTimer = setInterval(poll, POLL_MS);
  document.body.dataset.renderMs = Math.round(performance.now() - t0);
  document.body.dataset.ready = '1';
}

main().catch(fail);

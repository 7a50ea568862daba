/*
 * core.js: what the web view's other scripts share (docs/web.md): the
 * view (where the page is, and what the daemon last answered), the
 * fragment that keeps where it is, the calls to aspaced's /api/, and
 * small helpers.  The scripts are plain JavaScript, no library, loaded
 * in order by index.html: core.js, space.js, detail.js, steps.js,
 * compare.js, app.js.
 */
'use strict';

/* A page's state: [name, letter, what it means]; the daemon's steps
 * name a state by its letter ("." not present). */
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
const STATE_OF_LETTER = Object.fromEntries(STATES.map(([s, l]) =>
  [l || '.', s]));

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

function size(n) {
  const u = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && n % 1024 === 0 && i < u.length - 1) { n /= 1024; i++; }
  return n + u[i];
}

/* --- the fragment: where we are ------------------------------------------ */

function fragment() {
  return new URLSearchParams(location.hash.slice(1));
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

/* A GET asked again under the name (ETag) its last answer had: null when
 * the daemon says it is unchanged (304, no body), else { json, tag }. */
async function apiIfChanged(path, tag) {
  const r = await fetch('/api/' + path,
    { cache: 'no-store', headers: tag ? { 'If-None-Match': tag } : {} });
  if (r.status === 304) return null;
  const j = await r.json().catch(() => ({ message: r.statusText }));
  if (!r.ok) {
    const e = new Error((j.message || r.statusText) + ' (' + r.status + ')');
    e.http = r.status;
    throw e;
  }
  return { json: j, tag: r.headers.get('ETag') };
}

function sessionPath(what, query, task) {
  const q = new URLSearchParams(Object.assign({ task: task || view.task },
    query));
  return 'session/' + view.session + '/' + what + '?' + q.toString();
}

/* --- VMAs ----------------------------------------------------------------- */

/* A maps line as the trace prints it: START-END PERMS OFFSET [NAME]. */
function parseMapsLine(line) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) ?(.*)$/.exec(line);
  if (!m) return null;
  return { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3],
    offset: parseInt(m[4], 16), name: m[5], key: line };
}

function parseMaps(text) {
  return text.split('\n').filter((l) => l).map(parseMapsLine)
    .filter((v) => v);
}

function vmaKey(v) {
  return v.start.toString(16) + '-' + v.end.toString(16) + ' ' + v.perms +
    ' ' + v.offset.toString(16).padStart(8, '0') + (v.name ? ' ' + v.name : '');
}

/* A VMA of the maps endpoint's answer. */
function fromApi(v) {
  const o = { start: Number(v.start), end: Number(v.end), perms: v.perms,
    offset: Number(v.offset || 0), name: v.name || '' };
  o.key = vmaKey(o);
  return o;
}

/* A page's hover text: its state in words, its frame and flags. */
function cellTitle(p) {
  const what = STATES.find((s) => s[0] === p.state)[2];
  let t = hex(p.addr) + ': ' + what;
  if (p.pfn !== undefined) t += ', frame ' + hex(p.pfn);
  if (p.mapcount !== undefined) t += ', mapcount ' + p.mapcount;
  if (p.dirty) t += ', dirty';
  if (p.locked) t += ', locked';
  if (p.changed) t += ' (changed by this line)';
  if (p.sameFrame) t += ' (the same frame as in the other mm: shared)';
  return t;
}

/* A page cell's HTML: p as the pages endpoint gives it (state by name). */
function cellHtml(p) {
  const st = STATES.find((x) => x[0] === p.state);
  return '<div class="cell s-' + p.state + (p.locked ? ' locked' : '') +
    (p.changed ? ' changed' : '') + (p.sameFrame ? ' same-frame' : '') +
    '" role="listitem" data-addr="' + hex(p.addr) + '" data-state="' +
    p.state + '"' + (p.pfn !== undefined ? ' data-pfn="' + hex(p.pfn) +
    '"' : '') + ' title="' + esc(cellTitle(p)) + '">' + st[1] + '</div>';
}

/*
 * detail.js: the VMA chosen and the page-table walk (docs/web.md): the
 * VMA's smaps figures and one cell per page, as the pages endpoint says
 * (the session as it is now), or, at a step of a trace before its last
 * line, as the daemon recorded the pages after that line (steps.js); the
 * pages the line changed are outlined.  The walk is an address's four
 * entries, decoded.
 */
'use strict';

const SMAPS_FIELDS = ['rss', 'pss', 'shared_clean', 'shared_dirty',
  'private_clean', 'private_dirty', 'anonymous', 'swap', 'locked'];
const PAGES_MAX = 4096;      /* cells a VMA (the pages endpoint's cap) */

/* Is the page showing a step before the trace's last line? */
function pastStep() {
  return view.steps !== null && view.step < view.steps.length - 1;
}

async function showVma(start) {
  const v = view.vmas.find((x) => x.start === start);
  setFragment({ vma: v ? hex(start) : null });
  markSelected(start);
  if (!v) { $('detail').hidden = true; return; }
  $('detail').hidden = false;
  $('detail-range').textContent = v.key;
  if (pastStep()) showStepPages(v); else await showLivePages(v);
}

/* The VMA's smaps figures and pages as the session is now. */
async function showLivePages(v) {
  const range = { start: hex(v.start), end: hex(v.end) };
  const [sm, pg] = await Promise.all([api(sessionPath('smaps', range)),
    api(sessionPath('pages', range))]);
  const s = sm.smaps.smaps.find((x) => Number(x.vma.start) === v.start);
  $('smaps').innerHTML = s ? SMAPS_FIELDS.map((f) => '<dt>' + f +
    '</dt><dd data-field="' + f + '">' + s[f] + ' kB</dd>').join('') +
    '<dt>VmFlags</dt><dd>' + esc(s.vm_flags) + '</dd>' : '';
  const changed = view.steps ? stepChangedPages(view.step) : new Set();
  const pages = (pg.pages.pages || []).map((p) => Object.assign({}, p,
    { addr: Number(p.addr), changed: changed.has(Number(p.addr)) }));
  $('pages').innerHTML = pages.map(cellHtml).join('');
  $('pages').dataset.source = 'live';
  $('pages-note').textContent = pages.length + ' pages' +
    (pg.pages.truncated ? ' (the first ' + pages.length + ')' : '') +
    (view.steps ? '; after line ' + view.steps[view.step].line +
      ', the last: the session as it is now' : '');
}

/* The VMA's pages after the line stepped to, as the daemon recorded them. */
function showStepPages(v) {
  const line = view.steps[view.step].line;
  $('smaps').innerHTML = '<dt>smaps</dt><dd>step to the last line for ' +
    'the figures (the daemon keeps pages, not smaps, a line)</dd>';
  $('pages').dataset.source = 'step';
  const at = pagesAt(view.step);
  if (at.unknown) {
    $('pages').innerHTML = '';
    $('pages-note').textContent = 'not known after line ' + line + ': ' +
      at.unknown;
    return;
  }
  const cells = [];
  const n = Math.min((v.end - v.start) / 4096, PAGES_MAX);
  for (let k = 0; k < n; k++) {
    const addr = v.start + k * 4096;
    const p = at.pages.get(addr);
    cells.push(cellHtml({ addr: addr, state: STATE_OF_LETTER[p ? p[0] : '.'],
      pfn: p && p[1] !== undefined ? p[1] : undefined,
      changed: at.changed.has(addr) }));
  }
  $('pages').innerHTML = cells.join('');
  $('pages-note').textContent = n + ' pages' + (n === PAGES_MAX &&
    (v.end - v.start) / 4096 > n ? ' (the first ' + n + ')' : '') +
    '; after line ' + line + ', as the daemon recorded them (outlined: ' +
    'changed by the line)';
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

/* A PMD entry naming a PTE table fork shared (kernel share_tables). */
function sharedNote(w) {
  if (!(w.pt_sharers > 1)) return '';
  const old = (BigInt(w.pmd || 0) >> 10n) & 1n;
  return ' \u2014 its PTE table shared by ' + w.pt_sharers + ' mms since ' +
    'fork: read-only here, copied on the first change' +
    (old ? '; this mm sees every PTE old (a child\'s view)' : '');
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
    (l === 'pmd' ? sharedNote(w) : '') + '</td></tr>');
  $('walk').tBodies[0].innerHTML = rows.join('');
  $('walk-note').textContent = pastStep() ? '(the session as it is now, ' +
    'after the last line)' : '';
  $('walk-addr').value = addr;     /* once its rows are there */
}

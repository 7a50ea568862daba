/*
 * steps.js: a trace stepped one line at a time (docs/web.md).  The
 * daemon ran the trace and answered, for each line: its text, the task
 * it ran as, its output and path through the kernel, the current task's
 * maps (null when unchanged), the VMAs it changed (added, split, merged,
 * grown, shrunk, changed, removed), the PTEs whose page changed (or all
 * of them, "ptes_full", after a switch of task) and the session's
 * counters.  The page only walks over that answer: the maps and pages
 * after line i are rebuilt from it, the changes of line i outlined, the
 * counters charted over the lines.
 */
'use strict';

/* The maps after step i: the last snapshot at or before it. */
function mapsAt(i) {
  for (let k = i; k >= 0; k--) {
    if (typeof view.steps[k].maps === 'string') return view.steps[k].maps;
  }
  return '';
}

/* The pages step i changed: a Set of addresses (none after a switch). */
function stepChangedPages(i) {
  const s = view.steps[i];
  if (!s.ptes || s.ptes_full) return new Set();
  return new Set(s.ptes.map((p) => p[0]));
}

/*
 * The current task's pages after step i: { pages: Map addr -> [letter,
 * pfn], changed: Set } from the last full record at or before i and the
 * changes after it, or { unknown: why } when a step between told none.
 */
function pagesAt(i) {
  let k = i;
  for (; k >= 0; k--) {
    const s = view.steps[k];
    if (!s.ptes) {
      return { unknown: s.ptes_omitted || 'the daemon kept no pages for ' +
        'line ' + s.line + ' (the answer was near its cap)' };
    }
    if (s.ptes_full) break;
  }
  if (k < 0) return { unknown: 'no record of the pages at the start' };
  const pages = new Map();
  for (let m = k; m <= i; m++) {
    for (const [a, l, pfn] of view.steps[m].ptes) {
      if (l === '.') pages.delete(a); else pages.set(a, [l, pfn]);
    }
  }
  return { pages: pages, changed: stepChangedPages(i) };
}

/* A line's path, a list of steps a system call; steps are joined by
 * " -> ", which also says where a frame went ("copied frame 0xf -> 0x18"):
 * not before a number. */
function explainHtml(text) {
  if (!text) return '<i>no path recorded for this line</i>';
  return text.split('\n').map((l) => '<ol>' + l.split(/ -> (?![0-9])/).map((s) =>
    '<li>' + esc(s) + '</li>').join('') + '</ol>').join('');
}

const KIND_WORDS = { added: 'added', removed: 'removed', split: 'split',
  merged: 'merged', grown: 'grown', shrunk: 'shrunk', changed: 'changed' };

/* One VMA change as a list item: its kind, the maps lines before and
 * after (those after are outlined in the bar and the table). */
function changeHtml(c) {
  const lines = (ls, n) => ls.map((l) => '<code>' + esc(l) + '</code>')
    .join(' ') + (n > ls.length ? ' and ' + (n - ls.length) + ' more' : '');
  let what = KIND_WORDS[c.kind] || c.kind;
  if (c.kind === 'split') what += ' into ' + c.nnew;
  if (c.kind === 'merged') what += ' from ' + c.nold;
  return '<li data-kind="' + esc(c.kind) + '"><b>' + esc(what) + '</b>: ' +
    (c.nold ? lines(c.old, c.nold) : '') + (c.nold && c.nnew ? ' &rarr; ' :
      '') + (c.nnew ? lines(c.new, c.nnew) : '') + '</li>';
}

/* What the PTE changes of step s come to, by the state they end in. */
function ptesHtml(s) {
  if (s.ptes_omitted) return '<li data-kind="ptes">' + esc(s.ptes_omitted) +
    '</li>';
  if (!s.ptes || s.ptes_full || !s.ptes.length) return '';
  const by = {};
  for (const p of s.ptes) by[p[1]] = (by[p[1]] || 0) + 1;
  return '<li data-kind="ptes"><b>pages</b>: ' + Object.entries(by).map(
    ([l, n]) => n + ' now ' + STATES.find((x) => x[0] ===
      STATE_OF_LETTER[l])[2].split(/[:(]/)[0].trim()).join(', ') + '</li>';
}

function changesHtml(s) {
  if (s.switched) {
    return '<li data-kind="switched">now task ' + s.task + ': its VMAs and ' +
      'pages, not compared with the task before</li>';
  }
  const items = (s.changes || []).map(changeHtml).join('') + ptesHtml(s) +
    (s.changes_omitted ? '<li>' + esc(s.changes_omitted) + '</li>' : '') +
    (s.maps_omitted ? '<li>the maps were left out: the answer was near ' +
      'its cap</li>' : '');
  return items || '<li data-kind="none">no VMA or page changed</li>';
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
  view.changed = new Set();
  for (const c of s.changes || []) c.new.forEach((l) => view.changed.add(l));
  $('step-pos').textContent = '(line ' + s.line + ' of ' +
    st[st.length - 1].line + ')';
  $('step-line').textContent = s.line;
  $('step-task').textContent = s.task;
  $('step-text').textContent = s.text;
  $('step-output').textContent = s.output;
  $('step-explain').innerHTML = explainHtml(s.explain);
  $('step-changes').innerHTML = changesHtml(s);
  document.querySelectorAll('#trace-lines li.current').forEach((li) => {
    li.className = '';
  });
  const cur = $('trace-lines').children[i];
  if (cur) {
    cur.className = 'current';
    if (cur.scrollIntoView) cur.scrollIntoView({ block: 'nearest' });
  }
  setFragment({ step: s.line });
  drawCharts();
}

/* Step to line i and redraw what depends on it. */
function redrawStep(i) {
  showStep(i);
  drawBar();
  drawTable();
  if ($('walk').tBodies[0].rows.length) {
    $('walk-note').textContent = pastStep() ? '(the session as it is ' +
      'now, after the last line)' : '';
  }
  const sel = view.vmas.find((v) => v.start === view.selected);
  if (sel) showVma(sel.start).catch(fail); else $('detail').hidden = true;
}

function startSteps(j) {
  view.steps = j.steps;
  view.counterNames = j.counter_names || [];
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

/* --- the counters over the steps --------------------------------------------- */

const CHART_W = 200, CHART_H = 46, CHART_TOP = 16;

/* One counter's chart: its value after each line, the line stepped to
 * marked, its value there and what that line added. */
function chartSvg(name, k) {
  const st = view.steps;
  const vals = st.map((s) => (s.counters ? s.counters[k] : 0));
  const max = Math.max(1, ...vals);
  const dx = CHART_W / Math.max(1, st.length - 1);
  const y = (v) => CHART_TOP + (CHART_H - CHART_TOP) * (1 - v / max);
  const pts = vals.map((v, i) => Math.round(i * dx * 10) / 10 + ',' +
    Math.round(y(v) * 10) / 10).join(' ');
  const i = view.step, v = vals[i], d = i > 0 ? v - vals[i - 1] : 0;
  const mx = Math.round(i * dx * 10) / 10;
  return '<svg class="chart" width="' + (CHART_W + 2) + '" height="' +
    (CHART_H + 2) + '" role="img" data-counter="' + name + '" data-value="' +
    v + '" data-points="' + vals.length + '" data-step="' + i + '">' +
    '<title>' + name + ' after each line (0 to ' + max + ')</title>' +
    '<text x="0" y="11">' + name + ' ' + v + (d ? ' (+' + d + ')' : '') +
    '</text><polyline points="' + pts + '"/><line class="at" x1="' + mx +
    '" x2="' + mx + '" y1="' + CHART_TOP + '" y2="' + CHART_H + '"/>' +
    '<circle cx="' + mx + '" cy="' + Math.round(y(v) * 10) / 10 +
    '" r="2.5"/></svg>';
}

/* The counters: charts over the steps of a trace, else bars of the live
 * session's figures (drawCounters). */
function drawCharts() {
  if (!view.steps || !view.counterNames) return;
  $('counters-note').textContent = '(the session after each line: the ' +
    'line stepped to marked; a click on a chart steps there)';
  $('charts').innerHTML = view.counterNames.map(chartSvg).join('');
  $('counters').hidden = true;
}

/* A click on a chart: step to the line under it. */
function chartClicked(e) {
  const svg = e.target.closest('svg.chart');
  if (!svg || !view.steps) return;
  const x = e.clientX - svg.getBoundingClientRect().left;
  const dx = CHART_W / Math.max(1, view.steps.length - 1);
  redrawStep(Math.round(x / dx));
}

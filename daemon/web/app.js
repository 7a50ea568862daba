/*
 * app.js: the web view (docs/web.md): its start, the session and its
 * tasks, the live counters, the wiring of the page's controls, and the
 * polling that follows other clients' changes.  Plain JavaScript, no
 * library (core.js says which scripts there are).  Everything it shows
 * comes from aspaced's /api/: it keeps no state of its own but where it
 * is (the fragment: session, task, step, vma, addr, cmp, cmpvma) and the
 * steps of a trace the daemon ran for it.  The fragment also carries a
 * login token once; it is traded for a cookie at once and dropped from
 * the address bar.
 */
'use strict';

/* --- the counters ----------------------------------------------------------- */

/* The live session's counters as bars; a trace's are charted over its
 * steps (steps.js). */
async function drawCounters() {
  if (view.steps) { drawCharts(); return; }
  $('charts').innerHTML = '';
  $('counters').hidden = false;
  $('counters-note').textContent = '(the session as it is now)';
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

function drawTasks(tasks) {
  $('tasks').innerHTML = 'Task ' + tasks.map((t) => '<button type="button" ' +
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

/* The VMAs, bar and table, timed for the scale test: data-fetch-ms
 * (asking the daemon), data-draw-ms (drawing, to the frame after: style,
 * layout and paint included) and data-draw-parts (bar, table, frame). */
async function drawSpace(t0) {
  const t1 = performance.now();
  drawBar();
  const t2 = performance.now();
  drawTable();
  const t3 = performance.now();
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const t4 = performance.now();
  const d = document.body.dataset;
  d.fetchMs = Math.round(t1 - t0);
  d.drawMs = Math.round(t4 - t1);
  d.drawParts = [t2 - t1, t3 - t2, t4 - t3].map(Math.round).join(' ');
}

/* The compare section: open (and loaded) at once for a small session,
 * else when opened. */
async function openCompare(tasks) {
  view.cmpTasks = tasks;
  view.cmp = null;
  const open = fragment().get('cmp') !== null ||
    (view.vmas.length <= DENSE && new Set(tasks.map((t) => t.mm)).size > 1);
  $('compare').open = open;
  if (open) await drawCompare(tasks);
}

async function loadSession() {
  const t0 = performance.now();
  document.body.dataset.session = view.session;
  const tasks = api('session/' + view.session + '/tasks');
  if (view.steps) {
    showStep(view.step);
    /* After the last line the snapshot is the session as it is now. */
    if (view.step === view.steps.length - 1) await addVmFlags();
  } else {
    await loadLive();
  }
  const tl = (await tasks).tasks;
  drawTasks(tl);
  await drawSpace(t0);
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
  await openCompare(tl);
  if ($('mt-section').open) await drawMt();
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

/* --- start ---------------------------------------------------------------- */

async function login(token) {
  setFragment({ token: null });
  const j = await api('login', token);
  if (j.session) view.session = j.session;
  return j;
}

/* A session or a task chosen: leave the steps, load it. */
function wireSession() {
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
  $('logout').onclick = () => api('logout', '').then(() => location.reload(),
    fail);
}

/* An address typed: a number (0x for hex), or null. */
function addressOf(text) {
  try { return Number(BigInt(text.trim())); } catch (e) { return null; }
}

function goTo(e) {
  e.preventDefault();
  const a = addressOf($('goto-addr').value);
  const v = a === null ? null : view.vmas[vmaIndexOf(a)];
  if (v) showVma(v.start).catch(fail); else status('no VMA there', true);
}

/* Bar, table, a VMA's cells, the walk. */
function wireSpace() {
  const pick = (e) => {
    const el = e.target.closest('[data-i]');
    if (el) showVma(view.vmas[Number(el.dataset.i)].start).catch(fail);
  };
  $('bar').addEventListener('click', pick);
  $('bar').addEventListener('mouseover', barHover);
  $('vmas').addEventListener('click', pick);
  $('vma-table-wrap').addEventListener('scroll', () =>
    requestAnimationFrame(tableScrolled), { passive: true });
  $('goto-form').addEventListener('submit', goTo);
  $('pages').addEventListener('click', (e) => {
    const c = e.target.closest('.cell');
    if (c) walk(c.dataset.addr).catch(fail);
  });
  $('walk-form').addEventListener('submit', (e) => {
    e.preventDefault();
    walk($('walk-addr').value.trim()).catch(fail);
  });
  $('compare').addEventListener('toggle', () => {
    if ($('compare').open && !view.cmp && view.cmpTasks) {
      drawCompare(view.cmpTasks).catch(fail);
    }
  });
  wireCompare();
}

/* The stepper: buttons, the listing, the charts, the keys. */
function wireSteps() {
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
  $('charts').addEventListener('click', chartClicked);
  document.addEventListener('keydown', (e) => {
    if (!view.steps || e.target.closest('input, textarea, select')) return;
    const k = { ArrowLeft: view.step - 1, ArrowRight: view.step + 1,
      Home: 0, End: view.steps.length - 1 }[e.key];
    if (k !== undefined) { e.preventDefault(); redrawStep(k); }
  });
}

/* --- updates: another client may change the session ---------------------------- */

/* While a live session (not a stepped trace) is shown and the page is
 * visible, its maps are asked for every POLL_MS, one request at a time:
 * bounded, and no state the daemon does not have.  A change redraws.
 * Each asks under the last answer's ETag, so an unchanged session costs
 * a 304 and no body; past DENSE VMAs (a maps answer of megabytes) it is
 * asked every POLL_DENSE_MS. */
const POLL_MS = 2000;
const POLL_DENSE_MS = 10000;

function mapsSignature(vmas) {
  return vmas.map((v) => v.key).join('\n');
}

async function poll() {
  if (view.polling || !view.session || view.steps || document.hidden) return;
  const now = performance.now();
  if (view.vmas.length > DENSE && now - (view.polled || 0) < POLL_DENSE_MS) {
    return;
  }
  view.polled = now;
  view.polling = true;
  try {
    const path = sessionPath('maps');
    const got = await apiIfChanged(path, view.pollPath === path ?
      view.pollTag : null);
    if (got === null) {
      document.body.dataset.unchanged = Number(document.body.dataset
        .unchanged || 0) + 1;
      return;
    }
    view.pollPath = path;
    view.pollTag = got.tag;
    const vmas = (got.json.maps.vmas || []).map(fromApi);
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
  wireSession();
  wireSpace();
  wireSteps();
  wireMt();
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

#!/usr/bin/python3
"""test-browser.py: the web view in a real browser (docs/web.md).

Starts aspaced with a web listener, and headless Chromium driven over
the DevTools protocol on a pipe (--remote-debugging-pipe; the standard
library only).  For every docs/examples/*.trace it logs in with the URL
`aspace web TRACE` prints and checks the DOM against the command line:

  - the VMAs drawn (#bar rect[data-i]) are the lines of `aspace maps` of the
    session the page made, start and end alike;
  - the page cells of each VMA with pages agree with `aspace smaps`
    (present pages but the zero page are Rss, swap cells are Swap) and a
    present cell's frame is the one `aspace walk` finds;
  - stepping: the first line, forward to a line that maps something (its
    VMA highlighted), forward again (no highlight), back (highlighted
    again), and a #step=N fragment opens line N.

Screenshots go to tests/web/screens/ under the build directory.  With
ASPACE_WEB_VMAS=N (65000 in `make check-web-scale`) it also makes a
session of N VMAs and reports how long the page takes to draw it.
Without Chromium it exits 77 (skipped), saying so.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webharness import (Browser, Daemon, SRCDIR, CHECKED, FAILED,  # noqa
                        api_maps, checked, fail, find_chromium)


def maps_ranges(text):
    return [tuple(int(x, 16) for x in m.groups()) for m in
            re.finditer(r"^\s+([0-9a-f]+)-([0-9a-f]+) ", text, re.M)]


def smaps_figures(text):
    """{start: {"Rss": kB, "Swap": kB}} from `aspace smaps`."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^  ([0-9a-f]+)-[0-9a-f]+ ", line)
        if m:
            cur = out.setdefault(int(m.group(1), 16), {})
            continue
        m = re.match(r"^\s+(Rss|Swap): (\d+) kB", line)
        if m and cur is not None:
            cur[m.group(1)] = int(m.group(2))
    return out


def check_vmas(b, d, name, sid):
    drawn = b.js("[...document.querySelectorAll('#bar rect[data-i]')].map("
                 "r => [r.dataset.start, r.dataset.end])")
    drawn = [(int(s, 16), int(e, 16)) for s, e in drawn]
    task = b.js("String(view.task)")
    want = maps_ranges(d.aspace("maps", "--session", sid, "--task", task))
    if drawn != want:
        fail("%s: %d VMAs drawn, aspace maps has %d (%s / %s)" %
             (name, len(drawn), len(want), drawn[:3], want[:3]))
    return want


def check_pages(b, d, name, sid, vmas):
    task = b.js("String(view.task)")
    figs = smaps_figures(d.aspace("smaps", "--session", sid, "--task", task))
    checked = 0
    for start, end in vmas:
        f = figs.get(start, {})
        if not f.get("Rss") and not f.get("Swap"):
            continue
        b.js("document.querySelector('#bar rect[data-start=\"%s\"]')"
             ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
             % hex(start))
        b.wait("!!document.querySelector('#pages .cell[data-addr=\"%s\"]')"
               % hex(start))
        cells = b.js("[...document.querySelectorAll('#pages .cell')].map("
                     "c => [c.dataset.addr, c.dataset.state, c.dataset.pfn,"
                     " c.title])")
        n = (end - start) // 4096
        if len(cells) != min(n, 4096):
            fail("%s: VMA %x: %d cells for %d pages" %
                 (name, start, len(cells), n))
        rss = sum(4 for c in cells if c[1] not in
                  ("NOT_PRESENT", "ZERO", "SWAP"))
        swap = sum(4 for c in cells if c[1] == "SWAP")
        if rss != f.get("Rss", 0) or swap != f.get("Swap", 0):
            fail("%s: VMA %x: cells say Rss %d Swap %d, smaps %s" %
                 (name, start, rss, swap, f))
        if any(not c[3] for c in cells):
            fail("%s: a cell without its state as text" % name)
        present = [c for c in cells if c[2]]
        if present:
            w = d.aspace("walk", "--session", sid, "--task", task,
                         present[0][0])
            m = re.search(r"frame (0x[0-9a-f]+)", w)
            if not m or int(m.group(1), 16) != int(present[0][2], 16):
                fail("%s: cell %s frame %s, walk says %s" %
                     (name, present[0][0], present[0][2], w.strip()))
            # A click on the cell walks its address in the page.
            b.js("document.querySelector('#pages .cell[data-addr=\"%s\"]')"
                 ".click()" % present[0][0])
            b.wait("!!document.querySelector('#walk tr[data-level=pte]') &&"
                   " document.getElementById('walk-addr').value == '%s'"
                   % present[0][0])
            pte = b.js("document.querySelector('#walk tr[data-level=pte] "
                       "td.bits').textContent")
            if "pfn " + present[0][2] not in pte:
                fail("%s: the page's walk of %s: %s, not frame %s" %
                     (name, present[0][0], pte, present[0][2]))
        checked += 1
    return checked


def step_state(b):
    return b.js("({line: document.getElementById('step-line').textContent,"
                " changed: [...document.querySelectorAll('#bar rect."
                "changed')].map(r => r.dataset.start),"
                " rows: [...document.querySelectorAll('#vmas tr.changed')]"
                ".map(r => r.cells[0].textContent),"
                " kinds: [...document.querySelectorAll('#step-changes li')]"
                ".map(li => li.dataset.kind),"
                " current: (document.querySelector('#trace-lines li.current')"
                " || {}).textContent})")


def click(b, id_):
    b.js("document.getElementById('%s').click()" % id_)


def goto_step(b, k):
    """Click line k of the listing (0-based)."""
    b.js("document.getElementById('trace-lines').children[%d].click()" % k)


def check_added(name, steps, k, at):
    """Line k maps something: the VMA outlined is where it went (its
    output, "= 0x..."), said as added, in the bar and in the table."""
    m = re.search(r"= (0x[0-9a-f]+)", steps[k]["output"])
    if not m:
        return
    addr = int(m.group(1), 16)
    starts = [int(x, 16) for x in at["changed"]]
    if addr not in starts:
        fail("%s: line %s mapped %x, the bar outlines %s" %
             (name, steps[k]["line"], addr, at["changed"]))
    if not [r for r in at["rows"] if int(r.split("-")[0], 16) == addr]:
        fail("%s: line %s: the table outlines %s, not %x" %
             (name, steps[k]["line"], at["rows"], addr))
    if not set(at["kinds"]) & {"added", "grown", "merged", "split"}:
        fail("%s: line %s mapped %x, its changes say %s" %
             (name, steps[k]["line"], addr, at["kinds"]))


def check_stepping(b, name, steps):
    """Forward to the first line that adds a VMA, once more, and back."""
    click(b, "step-first")
    first = step_state(b)
    if first["line"] != str(steps[0]["line"]):
        fail("%s: the first step shows line %s" % (name, first["line"]))
    drawn = b.js("document.querySelectorAll('#bar rect[data-i]').length")
    if not isinstance(steps[0].get("maps"), str) or \
            drawn != len(maps_after(steps, 0)):
        fail("%s: at the first line %s VMAs drawn, its maps %r" %
             (name, drawn, steps[0].get("maps")))
    k = next((i for i, s in enumerate(steps) if i > 0 and
              isinstance(s.get("maps"), str) and
              s["text"].startswith("mmap")), None)
    if k is None or k + 1 >= len(steps):
        return False
    for _ in range(k):
        click(b, "step-next")
    at = step_state(b)
    if at["line"] != str(steps[k]["line"]) or not at["changed"]:
        fail("%s: forward to line %s: %s" % (name, steps[k]["line"], at))
    if at["current"] != steps[k]["text"]:
        fail("%s: the current line is %r, not %r" %
             (name, at["current"], steps[k]["text"]))
    check_added(name, steps, k, at)
    click(b, "step-next")
    nxt = step_state(b)
    if nxt["line"] != str(steps[k + 1]["line"]):
        fail("%s: forward once more shows line %s" % (name, nxt["line"]))
    if steps[k + 1].get("maps") is None and (nxt["changed"] or nxt["rows"]):
        fail("%s: line %s changed no VMA but some are outlined" %
             (name, nxt["line"]))
    click(b, "step-prev")
    back = step_state(b)
    if back != at:
        fail("%s: back gives %s, not %s" % (name, back, at))
    return True


def cell_at(b, addr):
    return b.js("(() => { const c = document.querySelector('#pages "
                ".cell[data-addr=\"%s\"]'); return c && [c.dataset.state,"
                " c.dataset.pfn || '', c.classList.contains('changed'),"
                " document.getElementById('pages').dataset.source]; })()"
                % hex(addr))


def show_vma_of(b, addr):
    """Click the bar's VMA holding addr; its cells drawn."""
    start = b.js("(() => { const v = view.vmas.find(v => v.start <= %d &&"
                 " %d < v.end); return v && v.start; })()" % (addr, addr))
    if start is None:
        return False
    b.js("document.querySelector('#bar rect[data-start=\"%s\"]')"
         ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
         % hex(start))
    b.wait("!!document.querySelector('#pages .cell[data-addr=\"%s\"]')"
           % hex(addr - addr % 4096))
    return True


def check_step_pages(b, name, steps, shot):
    """A line that faults a page in: after it, the page's cell is
    outlined and in its new state (a screenshot to shot); a line back,
    it is as before."""
    k = next((i for i, s in enumerate(steps) if 0 < i < len(steps) - 1 and
              re.match(r"(write|read|touch) 0x", s["text"]) and
              s.get("ptes") and not s.get("ptes_full")), None)
    if k is None:
        return False
    addr = int(steps[k]["text"].split()[1], 16)
    page = addr - addr % 4096
    goto_step(b, k)
    if not show_vma_of(b, page):
        fail("%s: no VMA holds %x after line %s" %
             (name, addr, steps[k]["line"]))
        return True
    after = cell_at(b, page)
    if after[3] != "step" or not after[2] or after[0] == "NOT_PRESENT":
        fail("%s: after line %s the cell of %x is %s: not a page the "
             "line changed" % (name, steps[k]["line"], page, after))
    b.screenshot(shot)
    click(b, "step-prev")
    if b.js("view.vmas.some(v => v.start <= %d && %d < v.end)" %
            (page, page)):
        b.wait("document.getElementById('step-line').textContent == '%s'"
               % steps[k - 1]["line"])
        show_vma_of(b, page)
        before = cell_at(b, page)
        if before[:2] == after[:2]:
            fail("%s: the cell of %x after line %s (%s) is the same as "
                 "after line %s (%s)" % (name, page, steps[k - 1]["line"],
                                         before, steps[k]["line"], after))
    click(b, "step-next")
    show_vma_of(b, page)
    if cell_at(b, page) != after:
        fail("%s: forward again, the cell of %x is %s, not %s" %
             (name, page, cell_at(b, page), after))
    return True


def check_last_pages(b, name):
    """The daemon's record of the pages after the last line (rebuilt by
    the page from the steps) is what the pages endpoint says now."""
    bad = b.js("""(async () => {
      const at = pagesAt(view.steps.length - 1), out = [];
      if (at.unknown) return ['unknown: ' + at.unknown];
      for (const v of view.vmas) {
        const j = await api(sessionPath('pages', {start: hex(v.start),
          end: hex(v.end)}));
        for (const p of j.pages.pages || []) {
          const r = at.pages.get(Number(p.addr));
          const want = p.state === 'NOT_PRESENT' ? undefined :
            [p.state, p.pfn === undefined || p.state === 'SWAP' ?
             undefined : Number(p.pfn)];
          const got = r && [STATE_OF_LETTER[r[0]], r[1]];
          if (JSON.stringify(want) !== JSON.stringify(got))
            out.push(hex(p.addr) + ' ' + JSON.stringify([want, got]));
        }
      }
      return out.slice(0, 5);
    })()""")
    if bad:
        fail("%s: the steps' pages after the last line differ from the "
             "pages endpoint: %s" % (name, bad))


def counters_cli(d, sid):
    return {k: int(v) for k, v in re.findall(
        r"^(\w+)\s+(\d+)$", d.aspace("counters", "--session", sid), re.M)}


def check_charts(b, d, name, sid, steps):
    """A chart per counter, a point per line; at the last line each is
    what `aspace counters` says; stepping moves the mark."""
    charts = b.js("[...document.querySelectorAll('#charts svg.chart')].map("
                  "c => [c.dataset.counter, Number(c.dataset.points),"
                  " Number(c.dataset.value), Number(c.dataset.step)])")
    names = b.js("view.counterNames")
    if [c[0] for c in charts] != names or len(names) < 12:
        fail("%s: charts %s for counters %s" % (name, charts, names))
    cli = counters_cli(d, sid)
    for c in charts:
        if c[1] != len(steps) or c[3] != len(steps) - 1:
            fail("%s: chart %s: %d points, at %d, for %d lines" %
                 ((name,) + tuple(c[:2]) + (c[3], len(steps))))
        if c[0] in cli and cli[c[0]] != c[2]:
            fail("%s: chart %s ends at %d, aspace counters says %d" %
                 (name, c[0], c[2], cli[c[0]]))
    if not set(names) & set(cli):
        fail("%s: no chart of a counter aspace counters prints" % name)
    click(b, "step-first")
    at = b.js("document.querySelector('#charts svg.chart').dataset.step")
    if at != "0":
        fail("%s: at the first line the charts mark step %s" % (name, at))
    click(b, "step-last")


KINDS_SEEN = set()


def maps_after(steps, i):
    for k in range(i, -1, -1):
        if isinstance(steps[k].get("maps"), str):
            return set(l for l in steps[k]["maps"].split("\n") if l)
    return set()


def check_changes(name, steps):
    """Each step's VMA changes agree with its maps and the step before's:
    the lines that came are among the new, those gone among the old, and
    each kind fits its counts."""
    for i in range(1, len(steps)):
        s = steps[i]
        if s.get("switched") or "changes" not in s:
            continue
        prev, cur = maps_after(steps, i - 1), maps_after(steps, i)
        old = set(l for c in s["changes"] for l in c["old"])
        new = set(l for c in s["changes"] for l in c["new"])
        whole = all(c["nold"] <= 8 and c["nnew"] <= 8 for c in s["changes"])
        if not old <= prev or not new <= cur or (whole and (
                not cur - prev <= new or not prev - cur <= old)):
            fail("%s: line %s's changes %s do not fit its maps" %
                 (name, s["line"], s["changes"]))
        for c in s["changes"]:
            KINDS_SEEN.add(c["kind"])
            ok = {"added": c["nold"] == 0 and c["nnew"] > 0,
                  "removed": c["nnew"] == 0 and c["nold"] > 0,
                  "split": c["nold"] == 1 and c["nnew"] > 1,
                  "merged": c["nold"] > 1 and c["nnew"] == 1,
                  "grown": c["nold"] == 1 and c["nnew"] == 1,
                  "shrunk": c["nold"] == 1 and c["nnew"] == 1,
                  "changed": c["nold"] > 0 and c["nnew"] > 0}
            if not ok.get(c["kind"]):
                fail("%s: line %s: a change %s" % (name, s["line"], c))


def example(b, d, trace, screens):
    name = os.path.basename(trace)
    url = d.aspace("web", trace).strip()
    if b.load(url) != "1":
        fail("%s: the page failed: %s" % (name, b.js(
            "document.getElementById('status').textContent")))
        return
    sid = b.js("document.body.dataset.session")
    steps = b.js("view.steps")    # what the daemon answered the page
    shown = b.js("document.getElementById('step-line').textContent")
    if shown != str(steps[-1]["line"]):
        fail("%s: opens at line %s, not the last, %s" %
             (name, shown, steps[-1]["line"]))
    check_changes(name, steps)
    vmas = check_vmas(b, d, name, sid)
    check_pages(b, d, name, sid, vmas)
    check_last_pages(b, name)
    check_charts(b, d, name, sid, steps)
    b.screenshot(os.path.join(screens, name.replace(".trace", ".png")))
    if check_step_pages(b, name, steps, os.path.join(
            screens, name.replace(".trace", "-pages.png"))):
        checked("a page a line faulted in, stepped to and back")
        click(b, "step-last")
    if check_stepping(b, name, steps):
        checked("a VMA a line mapped, stepped to and back")
        # A fragment names the line to open at.
        line = b.js("document.getElementById('step-line').textContent")
        url = d.aspace("web", trace).strip() + "&step=" + line
        b.load(url)
        if step_state(b)["line"] != line:
            fail("%s: #step=%s opens at %s" % (name, line,
                                                step_state(b)["line"]))
        b.screenshot(os.path.join(screens, name.replace(".trace",
                                                        "-step.png")))


COMPARE_TRACE = """mmap 0x200000000000 16K rw- private,anon,fixed
write 0x200000000000 0x1
write 0x200000001000 0x2
write 0x200000002000 0x3
fork
switch 2
write 0x200000001000 0x9
"""


def walk_frame(d, sid, task, addr):
    w = d.aspace("walk", "--session", sid, "--task", str(task), hex(addr))
    m = re.search(r"frame (0x[0-9a-f]+)", w)
    return int(m.group(1), 16) if m else None


def check_compare(b, d, tmp, screens):
    """Two mms side by side after a fork: the pages marked as the same
    frame in both are those `aspace walk` finds the same in both tasks:
    the two the child did not write."""
    path = os.path.join(tmp, "compare.trace")
    with open(path, "w") as f:
        f.write(COMPARE_TRACE)
    if b.load(d.aspace("web", path).strip()) != "1":
        fail("compare: the page failed")
        return
    sid = b.js("document.body.dataset.session")
    pair = b.js("document.getElementById('compare').open && "
                "[Number(document.getElementById('cmp-a').value),"
                " Number(document.getElementById('cmp-b').value)]")
    if not pair or pair[0] == pair[1]:
        fail("compare: not open on two tasks: %s" % pair)
        return
    b.js("document.querySelector('#cmp-bar-b rect[data-start=\"0x200000000000"
         "\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    b.wait("document.getElementById('cmp-range').textContent"
           ".startsWith('200000000000-200000004000')")
    for side, task in (("a", pair[0]), ("b", pair[1])):
        cells = b.js("[...document.querySelectorAll('#cmp-pages-%s .cell')]"
                     ".map(c => [c.dataset.addr, c.classList.contains("
                     "'same-frame')])" % side)
        if len(cells) != 4:
            fail("compare: %d cells for task %d, not 4" % (len(cells), task))
        for addr, same in cells:
            a = int(addr, 16)
            fa = walk_frame(d, sid, pair[0], a)
            want = fa is not None and fa == walk_frame(d, sid, pair[1], a)
            if same != want:
                fail("compare: task %d's page %s marked %s, walk says %s" %
                     (task, addr, same, want))
        if [c[1] for c in cells] != [True, False, True, False]:
            fail("compare: task %d's shared pages: %s" % (task, cells))
    b.screenshot(os.path.join(screens, "compare.png"))
    checked("two mms side by side")
    d.aspace("session", "destroy", sid)


def check_shared_walk(b, d):
    """A live session after a fork: the walk says the PTE table is shared
    by the two mms, as `aspace walk` does; the parent's first write takes
    it back, and the walk says so no more."""
    sid = d.aspace("session", "create").strip()
    d.aspace("mmap", "--session", sid, "0x200000000000", "8K", "rw-",
             "private,anon,fixed")
    d.aspace("write", "--session", sid, "0x200000000000", "0x41")
    d.aspace("fork", "--session", sid)
    if "shared by 2 mms" not in d.aspace("walk", "--session", sid,
                                         "0x200000000000"):
        fail("shared walk: aspace walk does not say the table is shared")
    if b.load(d.aspace("web", "--session", sid).strip()) != "1":
        fail("shared walk: the page failed")
        return
    pmd = "document.querySelector('#walk tr[data-level=pmd] td.bits')"
    b.js("walk('0x200000000000')")
    b.wait("!!%s && %s.textContent.includes('shared by 2 mms')" % (pmd, pmd))
    d.aspace("write", "--session", sid, "0x200000001000", "0x42")
    b.js("document.querySelector('#walk tbody').innerHTML = ''")
    b.js("walk('0x200000000000')")
    b.wait("!!%s" % pmd)
    if "shared" in b.js("%s.textContent" % pmd):
        fail("shared walk: still shared after the parent's write")
    checked("a table shared by fork, in the walk")
    d.aspace("session", "destroy", sid)


def check_mt(b, d, screens):
    """The VMA index drawn: 40 VMAs that cannot merge make a tree of two
    levels; the page draws as many nodes as `aspace mt --json` has, its
    root of the same kind, and a filled slot for each VMA `aspace maps`
    lists."""
    sid = d.aspace("session", "create").strip()
    for i in range(40):
        d.aspace("mmap", "--session", sid, hex(0x200000000000 + i * 4096),
                 "4K", "rw-" if i % 2 == 0 else "r--", "private,anon,fixed")
    t = json.loads(d.aspace("--json", "mt", "--session", sid))["tree"]
    nvmas = sum(1 for line in d.aspace("maps", "--session",
                                           sid).splitlines()
                if line.startswith("  "))     # after the "maps" line
    if b.load(d.aspace("web", "--session", sid).strip()) != "1":
        fail("mt: the page failed")
        return
    b.js("document.getElementById('mt-section').open = true")
    b.wait("document.querySelectorAll('#mt .mt-node').length > 0")
    got = b.js("({nodes: document.querySelectorAll('#mt .mt-node').length,"
               " vmas: document.querySelectorAll('#mt .mt-slot.vma').length,"
               " root: document.querySelector('#mt .mt-kind').textContent})")
    if t["height"] < 2:
        fail("mt: 40 VMAs made a tree of height %d" % t["height"])
    if got["nodes"] != t["nodes"] or got["root"] != t["root"]["type"]:
        fail("mt: the page draws %s, aspace mt says %d nodes, root %s" %
             (got, t["nodes"], t["root"]["type"]))
    if got["vmas"] != nvmas:
        fail("mt: %d VMA slots drawn, aspace maps lists %d" %
             (got["vmas"], nvmas))
    b.js("document.getElementById('mt-section').scrollIntoView()")
    b.screenshot(os.path.join(screens, "mt.png"))
    checked("the maple tree drawn")
    d.aspace("session", "destroy", sid)


def caps_trace():
    """A line that changes more PTEs than a step tells (4,096), one that
    removes more VMAs than a step tells (64 changes), and lines after."""
    lines = ["mmap 0x200000000000 20M rw- private,anon,fixed",
             "madvise 0x200000000000 20M populate_write",
             "write 0x200000000000 0x1",
             "mmap 0x300000000000 400K rw- private,anon,fixed"]
    lines += ["mprotect 0x%x 4K r--" % (0x300000000000 + i * 8192)
              for i in range(50)]
    lines += ["munmap 0x300000000000 400K", "read 0x200000001000"]
    return "\n".join(lines) + "\n"


def check_caps(b, d, tmp):
    """A step over a cap says so, in the daemon's answer and in the page,
    and the step after is whole again."""
    path = os.path.join(tmp, "caps.trace")
    with open(path, "w") as f:
        f.write(caps_trace())
    if b.load(d.aspace("web", path).strip()) != "1":
        fail("caps: the page failed")
        return
    steps = b.js("view.steps")
    if "4096" not in steps[1].get("ptes_omitted", "") or \
            "ptes" in steps[1]:
        fail("caps: 5,120 pages populated, the step says %s %s" %
             (steps[1].get("ptes_omitted"), sorted(steps[1])))
    if not steps[2].get("ptes_full"):
        fail("caps: the step after the cap is not whole: %s" %
             sorted(steps[2]))
    goto_step(b, 1)
    said = b.js("document.getElementById('step-changes').textContent")
    if steps[1].get("ptes_omitted", "-") not in said:
        fail("caps: the page does not say the cap: %r" % said)
    b.js("document.querySelector('#bar rect[data-start=\"0x200000000000\"]')"
         ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    try:
        note = b.wait("(() => { const t = document.getElementById("
                      "'pages-note').textContent; return t.startsWith("
                      "'not known') && t; })()", timeout=10)
    except RuntimeError:
        note = b.js("document.getElementById('pages-note').textContent + "
                    "' / ' + document.getElementById('status').textContent")
    if "4096" not in note:
        fail("caps: the pages after the line over the cap: %r" % note)
    k = len(steps) - 2
    if len(steps[k].get("changes", [])) != 64 or \
            "100 changes" not in steps[k].get("changes_omitted", ""):
        fail("caps: 100 VMAs unmapped, the step tells %d changes, says %r"
             % (len(steps[k].get("changes", [])),
                steps[k].get("changes_omitted")))
    goto_step(b, k)
    if steps[k].get("changes_omitted", "-") not in b.js(
            "document.getElementById('step-changes').textContent"):
        fail("caps: the page does not say the changes' cap")
    checked("a step over its caps")
    d.aspace("session", "destroy", b.js("document.body.dataset.session"))


def check_updates(b, d):
    """A live session's page follows another client's changes (polling);
    while nothing changes, its polls are answered 304 (ETag)."""
    sid = d.aspace("session", "create").split()[0]
    url = d.aspace("web", "--session", sid).strip()
    if b.load(url) != "1":
        fail("updates: the page failed")
        return
    before = b.js("view.vmas.length")
    try:    # the second poll asks under the first's ETag: 304
        b.wait("Number(document.body.dataset.unchanged) >= 1", timeout=15)
    except RuntimeError:
        fail("updates: polls of an unchanged session not answered 304")
    d.aspace("mmap", "--session", sid, "0x200000000000", "4K", "rw-",
             "private,anon,fixed")
    try:
        b.wait("view.vmas.length === %d" % (before + 1), timeout=15)
    except RuntimeError:
        fail("updates: the page did not follow an mmap by another client")
        return
    got = b.wait("document.body.dataset.updates", timeout=15)
    if got != "1":
        fail("updates: %s updates counted, not one" % got)
    d.aspace("session", "destroy", sid)


def check_bar_ends(b, d, name, sid, want):
    """The bar is drawn a chunk at a time: its chunks count every VMA,
    and scrolled to its end, the last chunk draws the last VMA."""
    count = b.js("[...document.querySelectorAll('#bar .chunk')].reduce("
                 "(a, c) => a + Number(c.dataset.vmas), 0)")
    if count != len(want):
        fail("%s: the bar's chunks hold %d VMAs, maps has %d" %
             (name, count, len(want)))
    b.js("(() => { const w = document.getElementById('bar-wrap');"
         " w.scrollLeft = w.scrollWidth; })()")
    try:
        last = b.wait("(() => { const r = [...document.querySelectorAll("
                      "'#bar rect[data-i]')].pop(); return r &&"
                      " r.dataset.i == %d && [r.dataset.start, r.dataset.end];"
                      " })()" % (len(want) - 1))
        if tuple(int(x, 16) for x in last) != want[-1]:
            fail("%s: the bar's last VMA is %s, not %s" %
                 (name, last, want[-1]))
    except RuntimeError:
        fail("%s: scrolled to its end, the bar does not draw VMA %d" %
             (name, len(want) - 1))


def check_table_ends(b, name, want):
    """The table draws the rows in view: scrolled to its end it shows the
    last VMA, and all of them can be reached."""
    rows = b.js("document.querySelectorAll('#vmas tbody tr[data-i]').length")
    if len(want) > 200 and rows > 200:
        fail("%s: the table drew %d rows: not a window" % (name, rows))
    b.js("(() => { const w = document.getElementById('vma-table-wrap');"
         " w.scrollTop = w.scrollHeight; })()")
    try:
        text = b.wait("(() => { const r = document.querySelector("
                      "'#vmas tbody tr[data-i=\"%d\"]'); return r &&"
                      " r.cells[0].textContent; })()" % (len(want) - 1))
        if text != "%x-%x" % want[-1]:
            fail("%s: the table's last row is %s, not %x-%x" %
                 ((name, text) + want[-1]))
    except RuntimeError:
        fail("%s: scrolled to its end, the table does not show VMA %d" %
             (name, len(want) - 1))


def scale(b, d, n, tmp, screens):
    """A session of n VMAs (a mapping split by mprotect of every other
    page), drawn: how long it takes."""
    lines = ["kernel max_map_count 65530",
             "mmap 0x100000000000 %dK rw- private,anon,fixed" % (n * 4)]
    lines += ["mprotect 0x%x 4K r--" % (0x100000000000 + i * 8192)
              for i in range((n + 1) // 2)]
    path = os.path.join(tmp, "scale.trace")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    before = set(d.aspace("session", "list").split())
    d.aspace("run", "--keep", path)
    sid = [x for x in d.aspace("session", "list").split()
           if re.match("^[0-9a-f]{32}$", x) and x not in before][0]
    url = d.aspace("web", "--session", sid).strip()
    t0 = time.time()
    b.load(url)
    wall = time.time() - t0
    ds = b.js("Object.assign({}, document.body.dataset)")
    print("scale: bar, table, style+layout+paint: %s ms" % ds["drawParts"])
    print("scale: %s ms asking the daemon, drawing %s ms, login to drawn "
          "%s ms, load %.0f ms" % (ds["fetchMs"], ds["drawMs"],
                                   ds["renderMs"], wall * 1000))
    if int(ds["drawMs"]) >= 1000:
        fail("scale: drawing %d VMAs took %s ms" % (n, ds["drawMs"]))
    if int(ds["renderMs"]) >= 1000:
        fail("scale: the page took %s ms from its start to drawn" %
             ds["renderMs"])
    b.screenshot(os.path.join(screens, "scale-%d.png" % n))
    want = api_maps(d, sid)
    if len(want) < n:
        fail("scale: the session has %d VMAs, not %d" % (len(want), n))
    check_bar_ends(b, d, "scale", sid, want)
    check_table_ends(b, "scale", want)
    check_goto(b, want[len(want) // 2])


def check_goto(b, vma):
    """Go to an address: its VMA is chosen, in the table's window."""
    addr = vma[0] + (vma[1] - vma[0]) // 2
    b.js("document.getElementById('goto-addr').value = '%s';"
         "document.getElementById('goto-form').requestSubmit()" % hex(addr))
    try:
        row = b.wait("(() => { const r = document.querySelector('#vmas "
                     "tr.selected'); return r && r.cells[0].textContent;"
                     " })()", timeout=10)
    except RuntimeError:
        row = None
    if row != "%x-%x" % vma:
        fail("go to %x: the table's row chosen is %s, not %x-%x" %
             ((addr, row) + vma))
    if b.js("document.getElementById('detail-range').textContent"
            ".split(' ')[0]") != "%x-%x" % vma:
        fail("go to %x: the VMA shown is not %x-%x" % ((addr,) + vma))


def main():
    exe = find_chromium()
    if exe is None:
        print("SKIP: no Chromium (apt-get install chromium, or set "
              "CHROMIUM): the web view's browser test did not run")
        return 77
    tmp = tempfile.mkdtemp(prefix="aspace-web.")
    screens = os.path.join(os.getcwd(), "tests", "web", "screens")
    os.makedirs(screens, exist_ok=True)
    d = Daemon(tmp)
    b = Browser(exe, os.path.join(tmp, "profile"))
    try:
        traces = sorted(os.path.join(SRCDIR, "docs", "examples", f) for f in
                        os.listdir(os.path.join(SRCDIR, "docs", "examples"))
                        if f.endswith(".trace"))
        only = os.environ.get("ASPACE_WEB_ONLY")
        traces = [t for t in traces if not only or only in t]    # "live":
        # none, but the checks of live sessions (updates, compare)
        for t in traces:
            try:
                example(b, d, t, screens)
            except RuntimeError as e:
                fail("%s: %s" % (os.path.basename(t), e))
            for line in d.aspace("session", "list").splitlines():
                d.aspace("session", "destroy", line.split()[0])
        if not only:
            missing = {"added", "removed", "split", "merged", "grown",
                       "shrunk", "changed"} - KINDS_SEEN
            if missing:
                fail("no example's steps show a VMA %s" % sorted(missing))
        if not only or only == "live":
            check_updates(b, d)
            check_compare(b, d, tmp, screens)
            check_shared_walk(b, d)
            check_mt(b, d, screens)
            check_caps(b, d, tmp)
        n = int(os.environ.get("ASPACE_WEB_VMAS", "0"))
        if n:
            scale(b, d, n, tmp, screens)
    finally:
        b.close()
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for what, n in sorted(CHECKED.items()):
        print("checked %d times: %s" % (n, what))
    print("%d examples, %d failures; screenshots in %s" %
          (len(traces), len(FAILED), screens))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

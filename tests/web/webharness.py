"""webharness.py: what tests/web/test-browser.py drives (docs/web.md):
aspaced started with a web listener (Daemon), headless Chromium over the
DevTools protocol on a pipe (Browser: --remote-debugging-pipe, fd 3 in
and fd 4 out, NUL-ended JSON; the standard library only), and the
failures and checks counted for the report at the end."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

ASPACED = os.environ.get("ASPACED", "daemon/aspaced")
ASPACE = os.environ.get("ASPACE", "client/aspace")
SRCDIR = os.environ.get("srcdir", ".")
FAILED = []
CHECKED = {}    # what was checked, and how often: said at the end


def checked(what):
    CHECKED[what] = CHECKED.get(what, 0) + 1


def fail(msg):
    print("FAIL: " + msg)
    FAILED.append(msg)


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """Chromium over --remote-debugging-pipe: fd 3 in, fd 4 out, NUL-ended
    JSON messages."""

    def __init__(self, exe, profile):
        cmd_r, self.cmd_w = os.pipe()
        self.ev_r, ev_w = os.pipe()

        def fds():
            # Via fds above 4, so that 3 and 4 end inheritable whatever
            # numbers the pipes had.
            a, b = os.dup(cmd_r), os.dup(ev_w)
            a, b = os.dup2(a, 100), os.dup2(b, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--user-data-dir=" + profile, "--window-size=1400,1000",
             "about:blank"],
            close_fds=False, preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(ev_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        t = self.call("Target.createTarget", {"url": "about:blank"})
        a = self.call("Target.attachToTarget",
                      {"targetId": t["targetId"], "flatten": True})
        self.session = a["sessionId"]
        self.call("Page.enable")

    def _read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.ev_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None):
        self.next_id += 1
        m = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session:
            m["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(m).encode() + b"\0")
        while True:
            r = self._read()
            if r.get("id") == self.next_id:
                if "error" in r:
                    raise RuntimeError("%s: %s" % (method, r["error"]))
                return r.get("result", {})

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr,
                                           "awaitPromise": True,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("js: %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for " + expr)

    def load(self, url):
        self.call("Page.navigate", {"url": "about:blank"})
        self.call("Page.navigate", {"url": url})
        self.wait("document.body && document.body.dataset.ready")
        return self.js("document.body.dataset.ready")

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", {"format": "png",
                                                 "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Daemon:
    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "sock")
        self.out = open(os.path.join(tmp, "daemon.out"), "w+")
        self.err = open(os.path.join(tmp, "daemon.err"), "w+")
        self.proc = subprocess.Popen(
            [ASPACED, "--listen", "unix:" + self.sock, "--state-directory",
             "none", "--web-listen", "127.0.0.1:0", "--log-target", "stderr",
             "--foreground", "--request-cpu-limit",
             # the scale's trace splits a mapping 32,500 times
             "0" if os.environ.get("ASPACE_WEB_VMAS") else "5s"],
            stdout=self.out, stderr=self.err)
        for _ in range(400):
            self.out.seek(0)
            m = re.search(r"^web (http://\S+)$", self.out.read(), re.M)
            if m and os.path.exists(self.sock):
                self.url = m.group(1)
                return
            time.sleep(0.05)
        self.err.seek(0)
        print("aspaced did not start: " + self.err.read())
        sys.exit(99)

    def aspace(self, *args, stdin=None):
        r = subprocess.run([ASPACE, "--connect", "unix:" + self.sock] +
                           list(args), input=stdin, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError("aspace %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.err.seek(0)
        log = self.err.read()
        if re.search("Sanitizer|runtime error", log):
            fail("a sanitizer's report in aspaced's log")
            print(log[-6000:])


def api_maps(d, sid):
    """The session's VMAs from the maps endpoint, logged in on our own
    (`aspace maps` prints at most the trace output's cap, 1 MiB)."""
    url = d.aspace("web", "--session", sid).strip()
    base, token = url.split("/#token=")
    token = token.split("&")[0]
    r = urllib.request.urlopen(urllib.request.Request(
        base + "/api/login", data=token.encode(),
        headers={"X-Aspace-CSRF": "1"}))
    cookie = r.headers["Set-Cookie"].split(";")[0]
    r = urllib.request.urlopen(urllib.request.Request(
        base + "/api/session/%s/maps?task=1" % sid,
        headers={"Cookie": cookie}))
    return [(int(v["start"]), int(v["end"])) for v in
            json.loads(r.read())["maps"]["vmas"]]

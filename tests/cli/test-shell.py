#!/usr/bin/env python3
"""test-shell.py: aspace shell on a terminal (a pty): help and help CMD,
the shell's own walk, status, counters and check, Ctrl-C dropping the
line being typed, and every way out (quit, Ctrl-D, Ctrl-C at an empty
prompt, SIGHUP, SIGTERM; SIGINT and SIGTERM without a terminal) leaving
no session behind, unless --keep, and the history saved.

Runs an aspaced of its own ($ASPACED) and the aspace under test ($ASPACE).
"""
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time

ASPACE = os.environ.get("ASPACE", "client/aspace")
ASPACED = os.environ.get("ASPACED", "daemon/aspaced")
failed = 0
passed = 0


def check(ok, what, detail=""):
    global failed, passed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, detail)


class Shell:
    """aspace shell ARGS under a pty."""

    def __init__(self, env, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(env)
            os.execv(ASPACE, [ASPACE, "shell"] + list(args))
        self.buf = ""

    def read_until(self, want, timeout=10.0):
        end = time.time() + timeout
        while want not in self.buf and time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                self.buf += d.decode(errors="replace")
        i = self.buf.find(want)
        if i < 0:
            return None
        got, self.buf = self.buf[:i + len(want)], self.buf[i + len(want):]
        return got

    def send(self, text):
        os.write(self.fd, text.encode())

    def cmd(self, line, want):
        """Type line, wait for want then the next prompt."""
        self.send(line + "\r")
        got = self.read_until(want)
        check(got is not None, "shell: %r prints %r" % (line, want),
              self.buf)
        return self.read_until("]> ") is not None

    def wait(self, timeout=10.0, kill=True):
        """The shell's exit status once it leaves (its output drained,
        never blocking); None after timeout (killed unless not kill)."""
        end = time.time() + timeout
        while time.time() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(st)
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    self.buf += os.read(self.fd, 4096).decode(
                        errors="replace")
                except OSError:
                    time.sleep(0.05)
        if kill:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        return None


def proc_state(pid):
    """Where a process waits, and its terminal's mode: for a failure's
    report."""
    out = []
    for name in ("wchan", "syscall", "stack"):
        try:
            with open("/proc/%d/%s" % (pid, name)) as f:
                out.append("%s=%s" % (name, f.read().strip()
                                      .replace("\n", " | ")))
        except OSError as e:
            out.append("%s: %s" % (name, e.strerror))
    try:
        tty = os.readlink("/proc/%d/fd/0" % pid)
        stty = subprocess.run(["stty", "-a", "-F", tty],
                              capture_output=True, text=True)
        out.append("stty=" + stty.stdout.replace("\n", " "))
    except OSError as e:
        out.append("tty: %s" % e.strerror)
    return "; ".join(out)


def sessions(env):
    out = subprocess.run([ASPACE, "session", "list"], env=env,
                         capture_output=True, text=True)
    return [l.split("\t")[0] for l in out.stdout.splitlines()]


def main():
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "sock")
    daemon = subprocess.Popen([ASPACED, "--listen", "unix:" + sock,
                               "--state-directory", os.path.join(tmp, "st"),
                               "--foreground"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        else:
            print("aspaced did not start")
            return 99
        env = dict(os.environ, ASPACE_URL="unix:" + sock, HOME=tmp,
                   TERM="dumb")
        env.pop("ASPACE_SOCKET", None)
        # The prompt, line editing and Ctrl-C's dropping a line are
        # libedit's: without it (config.h), only the piped shell.
        libedit = True
        if os.path.exists("config.h"):
            libedit = "#define HAVE_LIBEDIT 1" in open("config.h").read()
        if libedit:
            run(env, tmp)
        run_piped(env)
    finally:
        daemon.terminate()
        daemon.wait()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(env, tmp):
    # The commands, help, and the shell's own; Ctrl-C drops a line.
    sh = Shell(env)
    check(sh.read_until("aspace[1]> ") is not None, "shell: a prompt",
          sh.buf)
    check(len(sessions(env)) == 1, "shell: its session is made")
    sh.cmd("mmap 0x200000000000 4K rw- private,anon,fixed",
           "1: = 0x200000000000")
    sh.cmd("write 0x200000000000 0x41", "2: = ok")
    sh.cmd("help", "the shell's own")
    sh.cmd("help mmap", "example: mmap 0x200000000000 8K rw- "
           "private,anon,fixed")
    sh.cmd("help frob", "help: no command 'frob'")
    sh.cmd("walk 0x200000000000", "bits present rw user accessed dirty nx")
    sh.cmd("walk", "! error: usage: walk ADDR")
    sh.cmd("status", "VmRSS:")
    sh.cmd("counters --task-only", "minor_faults         1")
    sh.cmd("check", "ok: 1 mm, 1 task checked")
    sh.cmd("kernel", "kernel rlimit_memlock unlimited")
    sh.cmd("why", "# why: vmacache miss -> do_anonymous_page: frame")
    sh.cmd("explain", "explain is off")
    sh.cmd("explain on", "explain on")
    sh.cmd("read 0x200000000000", "# why: no fault: the page table "
           "already allowed the access")
    sh.cmd("explain off", "explain off")
    sh.cmd("explain sometimes", "! error: usage: explain [on|off]")
    sh.send("munmap 0x200000000000 4K")
    time.sleep(0.3)
    sh.send("\x03")
    check(sh.read_until("aspace[1]> ") is not None, "shell: Ctrl-C",
          sh.buf)
    sh.cmd("maps", "200000000000-200000001000 rw-p")   # not unmapped
    sh.send("write 0x200000000000 0x42\r")
    got = sh.read_until("]> ") or ""
    check("= ok" in got and "# why:" not in got,
          "shell: explain off: no path", got)
    # Sent as soon as the prompt shows: the shell sets the terminal raw
    # before it draws the prompt (in the other order, a cooked terminal
    # took this ^D for an end of file, and the editor never saw it).
    sh.send("\x04")
    st = sh.wait(kill=False)
    if st is None:
        print("NOTE: Ctrl-D not acted on in 10 s: %s (output: %r)" %
              (proc_state(sh.pid), sh.buf[-200:]))
        st = sh.wait(0.1)
    check(st == 1, "shell: Ctrl-D leaves (status 1: help frob)")
    check(sessions(env) == [], "shell: Ctrl-D destroys the session")
    hist_path = os.path.join(tmp, ".aspace_history")
    hist = open(hist_path).read() if os.path.exists(hist_path) else ""
    check("counters\\040--task-only" in hist, "shell: history saved", hist)

    # Ctrl-C at an empty prompt, SIGHUP, SIGTERM, quit: out, no session.
    for how in ["ctrl-c", "hup", "term", "quit"]:
        sh = Shell(env)
        check(sh.read_until("]> ") is not None, "shell: prompt", sh.buf)
        sh.cmd("mmap 0 4K rw- private,anon", "1: = 0x")
        if how == "ctrl-c":
            sh.send("\x03")
        elif how == "hup":
            os.kill(sh.pid, signal.SIGHUP)
        elif how == "term":
            os.kill(sh.pid, signal.SIGTERM)
        else:
            sh.send("quit\r")
        st = sh.wait()
        check(st == 0, "shell: %s: status 0" % how, str(st))
        check(sessions(env) == [], "shell: %s leaves no session" % how)

    # --keep: the session stays, its ID said.
    sh = Shell(env, "--keep")
    check(sh.read_until("]> ") is not None, "shell --keep: prompt", sh.buf)
    sh.send("quit\r")
    got = sh.read_until("kept session ", 5)
    check(got is not None,
          "shell --keep says the session", str(got))
    check(sh.wait() == 0, "shell --keep: status 0")
    left = sessions(env)
    check(len(left) == 1, "shell --keep keeps its session", str(left))
    for s in left:
        subprocess.run([ASPACE, "session", "destroy", s], env=env)



def run_piped(env):
    # Without a terminal: SIGINT or SIGTERM while it waits for a line.
    for sig in [signal.SIGINT, signal.SIGTERM]:
        p = subprocess.Popen([ASPACE, "shell"], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(b"mmap 0 4K rw- private,anon\n")
        p.stdin.flush()
        line = p.stdout.readline()
        check(line.startswith(b"1: = 0x"), "piped shell runs", str(line))
        p.send_signal(sig)
        check(p.wait(10) == 0, "piped shell: %s: status 0" % sig)
        p.stdin.close()
        p.stdout.close()
        check(sessions(env) == [], "piped shell: %s: no session" % sig)


if __name__ == "__main__":
    sys.exit(main())

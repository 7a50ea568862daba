"""Fixtures: a real aspaced on a Unix socket and TLS, and clients of it.

run-pytest.sh sets ASPACED (the daemon), ASPACE (the aspace command),
CERTS_SH (tests/daemon/certs.sh) and the paths the package needs.  The
daemon is started once for the whole run and stopped (SIGTERM, a clean
exit checked) at its end.
"""

import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Iterator, List

import pytest

import aspace

TOKEN = "py-test-token-0123456789"
START_TIMEOUT = 20.0


def pytest_configure(config: pytest.Config) -> None:
    """The marker of the tests that need the daemon's grade op."""
    config.addinivalue_line(
        "markers", "needs_grade: needs aspaced's grade handler (op 50)")


@dataclass
class Daemon:
    """A running aspaced: where it listens and the credentials it takes."""

    dir: str
    unix_url: str
    tls_url: str
    token: str

    def file(self, name: str) -> str:
        """A file of the daemon's directory (certificates, keys...)."""
        return os.path.join(self.dir, name)


def _config(tmp: str) -> str:
    """Write the daemon's configuration file; return its path."""
    path = os.path.join(tmp, "aspaced.conf")
    with open(os.path.join(tmp, "tokens"), "w") as f:
        f.write(f"# the Python client's tests\n{TOKEN} bob\n")
    with open(path, "w") as f:
        f.write(f"listen unix:{tmp}/sock\n"
                "listen tls://127.0.0.1:0\n"
                f"tls-cert {tmp}/server.pem\n"
                f"tls-key {tmp}/server.key\n"
                f"tls-client-ca {tmp}/ca.pem\n"
                f"tokens {tmp}/tokens\n"
                "state-directory none\n"
                "trace-line-limit 5000\n"
                "workers 2\n")
    return path


def _listening(proc: subprocess.Popen, want: int) -> List[str]:
    """The first want "listening URL" lines the daemon prints."""
    fd = proc.stdout.fileno()
    out = b""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        urls = re.findall(rb"^listening (\S+)$", out, re.M)
        if len(urls) >= want:
            break
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return [u.decode() for u in re.findall(rb"^listening (\S+)$", out, re.M)]


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    """An aspaced on a Unix socket and on TLS (127.0.0.1, any port)."""
    tmp = tempfile.mkdtemp(prefix="aspace-py.")
    subprocess.run(["sh", os.environ["CERTS_SH"], tmp], check=True)
    with open(os.path.join(tmp, "err"), "w") as err:
        proc = subprocess.Popen(
            [os.environ["ASPACED"], "--config", _config(tmp)],
            stdout=subprocess.PIPE, stderr=err)
    try:
        urls = _listening(proc, 2)
        tls = [u for u in urls if u.startswith("tls://")]
        if len(urls) < 2 or not tls:
            with open(os.path.join(tmp, "err")) as f:
                pytest.fail(f"aspaced did not start: {urls}\n{f.read()}")
        yield Daemon(dir=tmp, unix_url=f"unix:{tmp}/sock", tls_url=tls[0],
                     token=TOKEN)
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=30)
        proc.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)
    assert status == 0, f"aspaced exited with {status}"


def connect(daemon: Daemon, how: str) -> aspace.Client:
    """A client over "unix", "tls-token" or "tls-cert"."""
    if how == "unix":
        return aspace.connect(daemon.unix_url, timeout=60)
    if how == "tls-token":
        return aspace.connect(daemon.tls_url, token=daemon.token,
                              ca=daemon.file("ca.pem"), timeout=60)
    return aspace.connect(daemon.tls_url, ca=daemon.file("ca.pem"),
                          cert=daemon.file("alice.pem"),
                          key=daemon.file("alice.key"), timeout=60)


@pytest.fixture(params=["unix", "tls-token", "tls-cert"])
def client(request: pytest.FixtureRequest,
           daemon: Daemon) -> Iterator[aspace.Client]:
    """A client over each transport and kind of credential in turn."""
    with connect(daemon, request.param) as c:
        yield c


@pytest.fixture
def session(client: aspace.Client) -> Iterator[aspace.Session]:
    """A fresh session, destroyed after the test."""
    with client.session() as s:
        yield s

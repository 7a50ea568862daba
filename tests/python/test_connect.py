"""Connecting: URLs, transports, credentials, refusals."""

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

import aspace
import aspace.client
from conftest import Daemon, connect


@pytest.mark.parametrize("how, tenant", [
    ("unix", f"uid:{os.getuid()}"),
    ("tls-token", "token:bob"),
    ("tls-cert", "cert:alice"),
])
def test_hello_names_the_tenant(daemon: Daemon, how: str,
                                tenant: str) -> None:
    with connect(daemon, how) as c:
        assert c.hello.version == 1
        assert c.hello.server.startswith("aspaced/")
        assert c.hello.tenant == tenant
        assert c.hello.limits["max_rw_bytes"] > 0


def test_parse_url() -> None:
    assert aspace.parse_url("unix:/run/a.sock") == ("unix", "/run/a.sock", 0)
    assert aspace.parse_url("tls://h.example:4433") == \
        ("tls", "h.example", 4433)
    assert aspace.parse_url("tls://[::1]:80") == ("tls", "::1", 80)
    for bad in ("http://x", "unix:", "tls://h", "tls://h:99999", "tls://:1"):
        with pytest.raises(ValueError):
            aspace.parse_url(bad)


def test_a_wrong_token_is_refused(daemon: Daemon) -> None:
    with pytest.raises(aspace.AuthError) as e:
        aspace.connect(daemon.tls_url, token="not-the-token",
                       ca=daemon.file("ca.pem"), timeout=30)
    assert e.value.code == "UNAUTHENTICATED"


def test_tls_without_credentials_is_refused(daemon: Daemon) -> None:
    with pytest.raises(aspace.AuthError):
        aspace.connect(daemon.tls_url, ca=daemon.file("ca.pem"), timeout=30)


def test_a_certificate_of_another_ca_is_refused(daemon: Daemon) -> None:
    # The handshake fails, or hello is refused: either way no client.
    with pytest.raises((aspace.TransportError, aspace.AuthError)):
        aspace.connect(daemon.tls_url, ca=daemon.file("ca.pem"),
                       cert=daemon.file("mallory.pem"),
                       key=daemon.file("mallory.key"), timeout=30)


def test_the_server_is_verified(daemon: Daemon) -> None:
    # other.pem did not sign the server's certificate.
    with pytest.raises(aspace.TransportError):
        aspace.connect(daemon.tls_url, token=daemon.token,
                       ca=daemon.file("other.pem"), timeout=30)


def test_no_daemon_is_a_transport_error(daemon: Daemon) -> None:
    with pytest.raises(aspace.TransportError):
        aspace.connect(f"unix:{daemon.dir}/no-such-socket")


def test_sessions_are_the_tenants_own(daemon: Daemon) -> None:
    with connect(daemon, "tls-token") as bob, \
            connect(daemon, "tls-cert") as alice:
        with bob.session(label="bobs") as s:
            assert s.id in [i.id for i in bob.sessions()]
            assert s.id not in [i.id for i in alice.sessions()]
            with pytest.raises(aspace.StatusError) as e:
                alice.attach(s.id).maps()
            assert e.value.code == "NO_SUCH_SESSION"


def test_a_session_outlives_its_connection(daemon: Daemon) -> None:
    with connect(daemon, "unix") as c:
        s = c.session()
        s.mmap(4096, aspace.PROT_READ, aspace.MAP_PRIVATE
               | aspace.MAP_ANONYMOUS, addr=0x10000000,)
    with connect(daemon, "unix") as c:
        again = c.attach(s.id)
        assert any(v.start == 0x10000000 for v in again.maps().vmas)
        again.destroy()
        with pytest.raises(aspace.StatusError) as e:
            again.maps()
        assert e.value.code == "NO_SUCH_SESSION"


def test_with_destroys_the_session(client: aspace.Client) -> None:
    with client.session() as s:
        assert s.id in [i.id for i in client.sessions()]
    assert s.id not in [i.id for i in client.sessions()]


def _hold_the_one(url: str) -> aspace.Client:
    """The daemon's one connection, once its readiness probe is gone."""
    for _ in range(500):
        try:
            return aspace.connect(url, timeout=10)
        except aspace.AspaceError:
            time.sleep(0.02)
    pytest.fail(f"{url}: no connection in 10 s")


def test_a_connection_past_the_limit_is_told_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past max-connections the daemon answers QUOTA and closes.  Here the
    # close comes before the client's hello is sent, so the send fails
    # (EPIPE): the client must still read the answer and say why.
    conf = tmp_path / "aspaced.conf"
    conf.write_text(f"listen unix:{tmp_path}/sock\nmax-connections 1\n"
                    "state-directory none\nworkers 1\n")
    proc = subprocess.Popen([os.environ["ASPACED"], "--config", str(conf)],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"unix:{tmp_path}/sock"
    try:
        for _ in range(500):
            if (tmp_path / "sock").exists():
                break
            time.sleep(0.02)
        one = _hold_the_one(url)
        opened = aspace.client._open_socket

        def open_then_wait_for_the_close(*args, **kwargs):
            sock = opened(*args, **kwargs)
            poll = select.poll()
            poll.register(sock, select.POLLRDHUP)
            assert poll.poll(10000), "the daemon did not close it"
            return sock

        monkeypatch.setattr(aspace.client, "_open_socket",
                            open_then_wait_for_the_close)
        with pytest.raises(aspace.StatusError) as e:
            aspace.connect(url, timeout=10)
        assert e.value.code == "QUOTA"
        assert "too many connections" in e.value.message
        one.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0

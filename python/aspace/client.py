"""The connection to aspaced: transports, framing, hello, requests.

A frame is a 12-byte header (``ASPC``, version 1, flags 0, two reserved
bytes, the body's length big-endian) and a protobuf body
(docs/protocol.md, "Framing").  The client sends one request at a time
and reads frames until the response with its id arrives.
"""

import socket
import ssl
import struct
import threading
from typing import Any, Dict, List, Optional, Tuple

from . import __version__
from ._pb import pb
from .errors import AuthError, ProtocolError, StatusError, TransportError
from .grade import grade_request, grade_result
from .results import Hello, SessionInfo
from .session import Session, create_params, run_trace

MAGIC = b"ASPC"
FRAME_VERSION = 1
PROTOCOL_VERSION = 1
HEADER = struct.Struct(">4sBBHI")
#: The largest response body the client accepts (the daemon's own cap is
#: at most 64 MiB).
MAX_RESPONSE = 64 << 20


def _code_name(code: int) -> str:
    """The name of a status code, or CODE_N for one this client lacks."""
    try:
        return pb.Status.Code.Name(code)
    except ValueError:
        return f"CODE_{code}"


def parse_url(url: str) -> Tuple[str, str, int]:
    """Split ``unix:PATH`` or ``tls://HOST:PORT`` into (scheme, where, port).

    A literal IPv6 host is written in brackets: ``tls://[::1]:4433``.
    """
    if url.startswith("unix:"):
        path = url[len("unix:"):]
        if not path:
            raise ValueError(f"{url}: unix: needs a path")
        return "unix", path, 0
    if url.startswith("tls://"):
        rest = url[len("tls://"):]
        host, sep, port = rest.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"{url}: want tls://HOST:PORT")
        return "tls", host, int(port)
    raise ValueError(f"{url}: unknown URL scheme "
                     "(want unix:PATH or tls://HOST:PORT)")


def _tls_context(ca: Optional[str], cert: Optional[str],
                 key: Optional[str]) -> ssl.SSLContext:
    """A client context: TLS 1.2 or later, the server verified by ca."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    elif key is not None:
        raise ValueError("key given without cert")
    return ctx


def _open_socket(url: str, ca: Optional[str], cert: Optional[str],
                 key: Optional[str],
                 timeout: Optional[float]) -> socket.socket:
    """Connect to url: a Unix socket, or TCP wrapped in TLS."""
    scheme, where, port = parse_url(url)
    try:
        if scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(where)
            return sock
        ctx = _tls_context(ca, cert, key)
        raw = socket.create_connection((where, port), timeout=timeout)
        return ctx.wrap_socket(raw, server_hostname=where)
    except (OSError, ssl.SSLError) as e:
        raise TransportError(f"{url}: {e}") from e


class Connection:
    """One connection: frames in and out, request ids, responses."""

    def __init__(self, sock: socket.socket, url: str) -> None:
        self._sock = sock
        self._url = url
        self._next_id = 1
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (a TLS one with close_notify)."""
        try:
            if isinstance(self._sock, ssl.SSLSocket):
                self._sock.unwrap()
        except (OSError, ssl.SSLError, ValueError):
            pass
        self._sock.close()

    def _recv_exactly(self, n: int) -> bytes:
        """Read n bytes, or fail: the daemon closed the connection."""
        chunks = []
        while n > 0:
            try:
                chunk = self._sock.recv(min(n, 1 << 20))
            except (OSError, ssl.SSLError) as e:
                raise TransportError(f"{self._url}: read: {e}") from e
            if not chunk:
                raise TransportError(f"{self._url}: the daemon closed "
                                     "the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _send(self, request: Any) -> None:
        """Send one Request as a frame."""
        body = request.SerializeToString()
        header = HEADER.pack(MAGIC, FRAME_VERSION, 0, 0, len(body))
        try:
            self._sock.sendall(header + body)
        except (OSError, ssl.SSLError) as e:
            raise TransportError(f"{self._url}: write: {e}") from e

    def _receive(self) -> Any:
        """Read one frame and decode its Response."""
        magic, version, flags, reserved, length = HEADER.unpack(
            self._recv_exactly(HEADER.size))
        if (magic != MAGIC or version != FRAME_VERSION or flags != 0
                or reserved != 0):
            raise ProtocolError(f"{self._url}: bad frame header")
        if length > MAX_RESPONSE:
            raise ProtocolError(f"{self._url}: a response of {length} "
                                "bytes, over the client's cap")
        response = pb.Response()
        try:
            response.ParseFromString(self._recv_exactly(length))
        except Exception as e:  # protobuf's DecodeError and friends
            raise ProtocolError(f"{self._url}: bad response: {e}") from e
        return response

    def call(self, request: Any) -> Any:
        """Send request with a fresh id; return its Response."""
        with self._lock:
            request.id = self._next_id
            self._next_id += 1
            try:
                self._send(request)
            except TransportError as e:
                # The daemon may have answered before it closed (a
                # connection past max-connections is told QUOTA, then
                # closed): that answer says more than the failed send.
                if not isinstance(e.__cause__, (BrokenPipeError,
                                                ConnectionResetError)):
                    raise
                try:
                    response = self._receive()
                except (TransportError, ProtocolError):
                    raise e from e.__cause__
                if response.id == 0:
                    _raise_status(response, "")
                raise
            while True:
                response = self._receive()
                if response.id == request.id:
                    return response
                if response.id == 0:
                    _raise_status(response, "")


def _raise_status(response: Any, op: str) -> None:
    """Raise the StatusError (AuthError) a refused response deserves."""
    code = _code_name(response.status.code)
    message = response.status.message
    if op:
        message = f"{op}: {message}" if message else op
    result = None
    if response.WhichOneof("result") is not None:
        result = getattr(response, response.WhichOneof("result"))
    if code == "UNAUTHENTICATED":
        raise AuthError(code, message, result)
    raise StatusError(code, message, result)


def _hello_result(result: Any) -> Hello:
    """A Hello from a HelloResult."""
    limits = {f.name: value for f, value in result.limits.ListFields()}
    return Hello(version=result.version, server=result.server,
                 tenant=result.tenant, limits=limits)


class Client:
    """A client of aspaced; make one with :func:`aspace.connect`.

    A client is a context manager that closes its connection.  Its
    methods are safe to call from several threads: requests go one at a
    time.
    """

    def __init__(self, conn: Connection, hello: Hello) -> None:
        self._conn = conn
        #: What the daemon said in hello: ``server``, ``tenant``, ``limits``.
        self.hello = hello

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection.  Sessions live on in the daemon."""
        self._conn.close()

    def request(self, op: str, message: Any = None,
                session: Optional[bytes] = None,
                task: Optional[int] = None) -> Any:
        """Send the op with message; return the Response.

        Raises :class:`StatusError` unless the status is OK or ERRNO; an
        ERRNO response is returned for the caller to make a result of.
        """
        req = pb.Request()
        if session is not None:
            req.session = session
        if task is not None:
            req.task = task
        getattr(req, op).SetInParent()
        if message is not None:
            getattr(req, op).CopyFrom(message)
        response = self._conn.call(req)
        code = response.status.code
        if code not in (pb.Status.OK, pb.Status.ERRNO):
            _raise_status(response, op)
        return response

    def session(self, seed: Optional[int] = None,
                kernel: Optional[Dict[str, Any]] = None,
                **params: Any) -> Session:
        """Create a session: a simulated machine, destroyed on ``with`` exit.

        ``seed`` lays the machine out by the seed (as ``aspace run
        --seed``); ``kernel`` maps a trace's kernel parameters (zero_page,
        swap, fault_around_bytes, max_map_count, rlimit_stack,
        rlimit_memlock, ram) to values (``False``, ``"64M"``, 4096,
        ``"unlimited"``...).  Other keywords are SessionCreateRequest
        fields (``ram_bytes``, ``label``, ``image={"name": ...}``).
        """
        msg = create_params(seed, kernel, params)
        res = self.request("session_create", msg).session_create
        return Session(self, res.session, owned=True)

    def attach(self, session_id: Any) -> Session:
        """A Session object for an existing session (hex string or bytes).

        It is not destroyed when a ``with`` block on it ends.
        """
        if isinstance(session_id, str):
            session_id = bytes.fromhex(session_id)
        return Session(self, bytes(session_id), owned=False)

    def sessions(self) -> List[SessionInfo]:
        """The tenant's sessions, as :class:`SessionInfo` records."""
        res = self.request("session_list").session_list
        return [SessionInfo(session=s.session, label=s.label, tasks=s.tasks,
                            created=s.created, ram_bytes=s.ram_bytes,
                            charged_bytes=s.charged_bytes
                            if s.HasField("charged_bytes") else None)
                for s in res.sessions]

    def run(self, trace_text: Any, seed: Optional[int] = None,
            kernel: Optional[Dict[str, Any]] = None) -> str:
        """Run a trace in a fresh session; return its canonical output."""
        msg = pb.RunTraceRequest()
        msg.params.CopyFrom(create_params(seed, kernel, {}))
        return run_trace(self, msg, trace_text, None).output

    def grade(self, trace_text: Any, answers_text: Any,
              seed: Optional[int] = None,
              kernel: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Grade answers (trace output format) against a trace's run.

        Returns a dict: ``score``, ``max_score``, ``extra_lines`` and
        ``items``, one dict per printing command of the trace (``line``,
        ``command``, ``verdict`` ``"right"``/``"wrong"``/``"missing"``,
        ``points``, ``max_points``, ``expected``, ``given``, ``why``).
        """
        msg = grade_request(trace_text, answers_text, seed, kernel)
        return grade_result(self.request("grade", msg).grade)


def connect(url: str, token: Optional[str] = None, ca: Optional[str] = None,
            cert: Optional[str] = None, key: Optional[str] = None,
            timeout: Optional[float] = None) -> Client:
    """Connect to aspaced at url and say hello; return a :class:`Client`.

    ``url`` is ``unix:PATH`` or ``tls://HOST:PORT``.  Over TLS the daemon
    is verified with the CA file ``ca`` (the system's CAs without it);
    the client authenticates with a certificate (``cert``, ``key``) or a
    bearer ``token``.  ``timeout`` bounds each read and write, in seconds
    (None: no bound).  Raises :class:`TransportError` if the connection
    fails and :class:`AuthError` if the daemon refuses the credentials.
    """
    conn = Connection(_open_socket(url, ca, cert, key, timeout), url)
    req = pb.Request()
    req.hello.version = PROTOCOL_VERSION
    req.hello.client = f"aspace-python/{__version__}"
    if token is not None:
        req.hello.token = token
    try:
        response = conn.call(req)
        if response.status.code != pb.Status.OK:
            _raise_status(response, "hello")
    except BaseException:
        conn.close()
        raise
    return Client(conn, _hello_result(response.hello))


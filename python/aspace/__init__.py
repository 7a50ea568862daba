"""aspace: a Python client of aspaced, the simulated address spaces daemon.

>>> import aspace
>>> with aspace.connect("unix:/run/aspaced/aspaced.sock") as client:
...     with client.session() as s:
...         r = s.mmap(8192, aspace.PROT_READ, aspace.MAP_PRIVATE
...                    | aspace.MAP_ANONYMOUS)
...         s.write(r.addr, 7).fault is None
True

See docs/python.md.
"""

__version__ = "0.1.0"

from .constants import *  # noqa: E402,F401,F403
from .errors import (AspaceError, AuthError, ProtocolError,  # noqa: E402
                     StatusError, TransportError)
from .results import (Access, Addr, BytesRead, BytesWritten,  # noqa: E402
                      Check, Counters, Done, Fault, Hello, KernelParam,
                      Maps, PageWalk, ProcStatus, SessionInfo, Smap, Smaps,
                      SyscallError, Task, TraceRun, Vma)
from .client import Client, connect, parse_url  # noqa: E402
from .session import Session  # noqa: E402

__all__ = [
    "connect", "Client", "Session", "parse_url",
    "AspaceError", "AuthError", "ProtocolError", "StatusError",
    "TransportError",
    "Access", "Addr", "BytesRead", "BytesWritten", "Check", "Counters",
    "Done", "Fault", "Hello", "KernelParam", "Maps", "PageWalk",
    "ProcStatus", "SessionInfo", "Smap", "Smaps", "SyscallError", "Task",
    "TraceRun", "Vma",
]

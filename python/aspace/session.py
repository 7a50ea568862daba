"""Sessions: one simulated machine, its tasks, and one method per op.

Every system call returns its typed result or a :class:`SyscallError`;
memory accesses return an :class:`Access` whose ``fault`` says which
signal ended them.  Requests the daemon refuses (no such session, a bad
field...) raise :class:`aspace.StatusError`.
"""

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from ._pb import pb
from .errors import AspaceError, StatusError
from .results import (Access, Addr, BytesRead, BytesWritten, Check, Counters,
                      Done, Fault, KernelParam, Maps, PageWalk, ProcStatus,
                      Smap, Smaps, SyscallError, Task, TraceRun, Vma)

if TYPE_CHECKING:
    from .client import Client

AddrOrError = Union[Addr, SyscallError]
DoneOrError = Union[Done, SyscallError]
TaskOrError = Union[Task, SyscallError]

RLIM_INFINITY = (1 << 64) - 1
_SUFFIX = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
#: A trace's kernel parameter -> its SessionCreateRequest field.
KERNEL_FIELDS = {
    "zero_page": "zero_page",
    "swap": "swap_bytes",
    "fault_around_bytes": "fault_around_bytes",
    "max_map_count": "max_map_count",
    "rlimit_stack": "rlimit_stack",
    "rlimit_memlock": "rlimit_memlock",
    "ram": "kernel_ram",
    "share_tables": "share_tables",
}
_ACCESS_KINDS = {"r": pb.ACCESS_READ, "w": pb.ACCESS_WRITE,
                 "x": pb.ACCESS_EXEC}


def parse_size(value: Union[int, str]) -> int:
    """A size as a trace writes it: 4096, "64K", "1M", "unlimited"."""
    if isinstance(value, int):
        return value
    text = value.strip()
    if text == "unlimited":
        return RLIM_INFINITY
    mult = _SUFFIX.get(text[-1:].upper(), 1)
    digits = text[:-1] if mult != 1 else text
    return int(digits, 0) * mult


def _kernel_value(name: str, value: Any) -> Any:
    """A kernel parameter's value for its SessionCreateRequest field."""
    if name in ("zero_page", "share_tables"):
        if isinstance(value, str):
            return value.strip().lower() in ("on", "1", "true", "yes")
        return bool(value)
    return parse_size(value)


def fill(message: Any, fields: Dict[str, Any]) -> Any:
    """Set message's fields from a dict (nested dicts for messages).

    None values are left absent: proto2 keeps presence, and an absent
    field is not a zero one.
    """
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, dict):
            fill(getattr(message, name), value)
        elif hasattr(value, "DESCRIPTOR"):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def create_params(seed: Optional[int], kernel: Optional[Dict[str, Any]],
                  params: Dict[str, Any]) -> Any:
    """The SessionCreateRequest for a seed, kernel parameters and fields."""
    msg = pb.SessionCreateRequest()
    if seed is not None:
        msg.seed = seed
        msg.randomize = True
    for name, value in (kernel or {}).items():
        if name not in KERNEL_FIELDS:
            raise ValueError(f"kernel parameter {name!r} unknown "
                             f"(one of {', '.join(KERNEL_FIELDS)})")
        setattr(msg, KERNEL_FIELDS[name], _kernel_value(name, value))
    return fill(msg, params)


def _as_bytes(text: Union[str, bytes]) -> bytes:
    """A trace or answers text as bytes (str is encoded as UTF-8)."""
    return text.encode() if isinstance(text, str) else bytes(text)


def _trace_run(res: Any) -> TraceRun:
    """A TraceRun from a RunTraceResult."""
    return TraceRun(
        output=res.output.decode("utf-8", "replace"), errors=res.errors,
        truncated=res.truncated,
        stopped_at=res.stopped_at if res.HasField("stopped_at") else None,
        session=res.session if res.HasField("session") else None,
        explain={e.line: e.text for e in res.explain})


def run_trace(client: "Client", msg: Any, trace_text: Union[str, bytes],
              session: Optional[bytes], task: Optional[int] = None
              ) -> TraceRun:
    """Send run_trace; a trace stopped by a budget raises StatusError.

    The StatusError's ``result`` is then the :class:`TraceRun` so far.
    """
    msg.text = _as_bytes(trace_text)
    try:
        response = client.request("run_trace", msg, session=session,
                                  task=task)
    except StatusError as e:
        if e.result is not None:
            e.result = _trace_run(e.result)
        raise
    return _trace_run(response.run_trace)


def _fault(msg: Any) -> Fault:
    """A Fault from its message."""
    return Fault(addr=msg.addr, signal=msg.signal, code=msg.code,
                 signal_name=msg.signal_name, code_name=msg.code_name,
                 oom=msg.oom)


def _optional_fault(res: Any) -> Optional[Fault]:
    """The result's fault, or None."""
    return _fault(res.fault) if res.HasField("fault") else None


def _vma(msg: Any) -> Vma:
    """A Vma from its message."""
    return Vma(start=msg.start, end=msg.end, perms=msg.perms,
               offset=msg.offset, name=msg.name, vm_flags=msg.vm_flags)


def _smap(msg: Any) -> Smap:
    """A Smap from its message."""
    return Smap(vma=_vma(msg.vma), rss=msg.rss, pss=msg.pss,
                shared_clean=msg.shared_clean, shared_dirty=msg.shared_dirty,
                private_clean=msg.private_clean,
                private_dirty=msg.private_dirty, anonymous=msg.anonymous,
                swap=msg.swap, locked=msg.locked, vm_flags=msg.vm_flags)


def _present(msg: Any) -> Dict[str, Any]:
    """The fields set in msg, by name."""
    return {f.name: value for f, value in msg.ListFields()}


def _window(start: Optional[int], length: Optional[int]) -> Dict[str, Any]:
    """The window field of maps and smaps (absent: every VMA)."""
    if start is None and length is None:
        return {}
    return {"window": {"start": start or 0, "length": length or 0}}


class Session:
    """A session of the daemon; acts as its current task (``task``).

    Used in a ``with`` block, a session made by :meth:`Client.session` is
    destroyed at the block's end.
    """

    def __init__(self, client: "Client", session_id: bytes, owned: bool,
                 task: int = 1) -> None:
        self.client = client
        #: The session id, 16 bytes.
        self.session_id = session_id
        #: The task the next operations run as.
        self.task = task
        self._owned = owned

    @property
    def id(self) -> str:
        """The session id in hex, as the aspace command shows it."""
        return self.session_id.hex()

    def __repr__(self) -> str:
        return f"Session({self.id}, task={self.task})"

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._owned:
            return
        if exc_type is None:
            self.destroy()
            return
        try:  # the block's own exception matters more
            self.destroy()
        except AspaceError:
            pass

    def destroy(self) -> None:
        """Destroy the session in the daemon."""
        self._owned = False
        self.client.request("session_destroy", session=self.session_id)

    # --- plumbing -----------------------------------------------------------

    def _request(self, op: str, **fields: Any) -> Any:
        """Send op with fields as the current task; return the Response."""
        msg = fill(getattr(pb.Request(), op).__class__(), fields)
        return self.client.request(op, msg, session=self.session_id,
                                   task=self.task)

    @staticmethod
    def _error(response: Any) -> Optional[SyscallError]:
        """The SyscallError of an ERRNO response, else None."""
        if response.status.code != pb.Status.ERRNO:
            return None
        st = response.status
        return SyscallError(errname=st.errname, errnum=st.errnum,
                            message=st.message)

    def _done(self, op: str, **fields: Any) -> DoneOrError:
        """A system call with nothing to return."""
        response = self._request(op, **fields)
        return self._error(response) or Done()

    def _addr(self, op: str, **fields: Any) -> AddrOrError:
        """A system call that returns an address."""
        response = self._request(op, **fields)
        return self._error(response) or Addr(getattr(response, op).addr)

    def _task(self, op: str) -> TaskOrError:
        """fork, thread or vfork."""
        response = self._request(op)
        return self._error(response) or Task(getattr(response, op).task)

    # --- tasks ---------------------------------------------------------------

    def switch(self, task: int) -> None:
        """Make task the current one, as the trace's ``switch ID``."""
        self.task = task

    def as_task(self, task: int) -> "Session":
        """The same session acting as task (not destroyed by ``with``)."""
        return Session(self.client, self.session_id, owned=False, task=task)

    def fork(self) -> TaskOrError:
        """fork(): the child's task id."""
        return self._task("fork")

    def thread(self) -> TaskOrError:
        """A thread of the current task's process: its task id."""
        return self._task("thread")

    def vfork(self) -> TaskOrError:
        """vfork(): the child; the parent is BLOCKED until it execs/exits."""
        return self._task("vfork")

    def exec(self, name: str, text: Optional[int] = None,
             data: Optional[int] = None, bss: Optional[int] = None
             ) -> DoneOrError:
        """execve() of a program image (sizes in bytes)."""
        return self._done("exec", image={"name": name, "text": text,
                                         "data": data, "bss": bss})

    def exit(self) -> DoneOrError:
        """exit() of the current task."""
        return self._done("exit")

    # --- system calls --------------------------------------------------------

    def mmap(self, length: int, prot: int, flags: int,
             addr: Optional[int] = None, file: Optional[str] = None,
             offset: Optional[int] = None) -> AddrOrError:
        """mmap(): the mapping's address."""
        return self._addr("mmap", addr=addr, length=length, prot=prot,
                          flags=flags, file=file, offset=offset)

    def munmap(self, addr: int, length: int) -> DoneOrError:
        """munmap()."""
        return self._done("munmap", addr=addr, length=length)

    def mprotect(self, addr: int, length: int, prot: int) -> DoneOrError:
        """mprotect()."""
        return self._done("mprotect", addr=addr, length=length, prot=prot)

    def mremap(self, addr: int, old_length: int, new_length: int,
               flags: int = 0, new_addr: Optional[int] = None
               ) -> AddrOrError:
        """mremap(): the mapping's new address."""
        return self._addr("mremap", addr=addr, old_length=old_length,
                          new_length=new_length, flags=flags,
                          new_addr=new_addr)

    def madvise(self, addr: int, length: int, advice: int) -> DoneOrError:
        """madvise()."""
        return self._done("madvise", addr=addr, length=length, advice=advice)

    def mlock(self, addr: int, length: int) -> DoneOrError:
        """mlock()."""
        return self._done("mlock", addr=addr, length=length)

    def munlock(self, addr: int, length: int) -> DoneOrError:
        """munlock()."""
        return self._done("munlock", addr=addr, length=length)

    def msync(self, addr: int, length: int, flags: int) -> DoneOrError:
        """msync()."""
        return self._done("msync", addr=addr, length=length, flags=flags)

    def brk(self, addr: int = 0) -> AddrOrError:
        """brk(): the break after the call (0 asks for it)."""
        return self._addr("brk", addr=addr)

    def file_create(self, name: str, size: int) -> DoneOrError:
        """Create (or rewrite) a file of the session, for file mappings."""
        return self._done("file_create", name=name, size=size)

    # --- System V shared memory ----------------------------------------------

    def shmget(self, name: str, size: int) -> DoneOrError:
        """shmget(IPC_PRIVATE, size): a segment named name."""
        return self._done("shmget", name=name, size=size)

    def shmat(self, name: str, addr: Optional[int] = None,
              flags: int = 0) -> AddrOrError:
        """shmat(): where the segment is attached."""
        return self._addr("shmat", name=name, addr=addr, flags=flags)

    def shmdt(self, addr: int) -> DoneOrError:
        """shmdt() of the attachment at addr."""
        return self._done("shmdt", addr=addr)

    def shmrm(self, name: str) -> DoneOrError:
        """shmctl(IPC_RMID): the segment goes with its last attachment."""
        return self._done("shmrm", name=name)

    # --- memory accesses -----------------------------------------------------

    def access(self, addr: int, kind: str = "r", value: Optional[int] = None,
               explain: bool = True) -> Access:
        """One access: kind "r" (load), "w" (store) or "x" (fetch).

        A store without value is a ``touch w``.  A fault is a result:
        ``Access.fault`` has its signal and si_code, ``explain`` its path.
        """
        response = self._request("access", addr=addr,
                                 kind=_ACCESS_KINDS[kind], value=value,
                                 explain=explain)
        res = response.access
        return Access(value=res.value if res.HasField("value") else None,
                      fault=_optional_fault(res), explain=res.explain)

    def read(self, addr: int, explain: bool = True) -> Access:
        """The trace's ``read ADDR``: load a byte."""
        return self.access(addr, "r", explain=explain)

    def write(self, addr: int, value: int, explain: bool = True) -> Access:
        """The trace's ``write ADDR BYTE``: store a byte."""
        return self.access(addr, "w", value=value, explain=explain)

    def touch(self, addr: int, mode: str = "r",
              explain: bool = True) -> Access:
        """The trace's ``touch ADDR r|w|x``: every effect, no byte."""
        return self.access(addr, mode, explain=explain)

    def read_bytes(self, addr: int, length: int) -> BytesRead:
        """Load length bytes (at most the daemon's max_rw_bytes)."""
        res = self._request("read_bytes", addr=addr, length=length).read_bytes
        return BytesRead(data=res.data, fault=_optional_fault(res))

    def write_bytes(self, addr: int, data: bytes) -> BytesWritten:
        """Store data (at most the daemon's max_rw_bytes)."""
        res = self._request("write_bytes", addr=addr,
                            data=bytes(data)).write_bytes
        return BytesWritten(written=res.written, fault=_optional_fault(res))

    # --- reports -------------------------------------------------------------

    def maps(self, start: Optional[int] = None,
             length: Optional[int] = None) -> Maps:
        """/proc/PID/maps, of the VMAs meeting the window if given."""
        res = self._request("maps", **_window(start, length)).maps
        return Maps(vmas=[_vma(v) for v in res.vmas], text=res.text)

    def smaps(self, start: Optional[int] = None,
              length: Optional[int] = None) -> Smaps:
        """/proc/PID/smaps, of the VMAs meeting the window if given."""
        res = self._request("smaps", **_window(start, length)).smaps
        return Smaps(smaps=[_smap(s) for s in res.smaps], text=res.text)

    def status(self) -> ProcStatus:
        """The memory lines of /proc/PID/status."""
        res = self._request("proc_status").proc_status
        return ProcStatus(**_present(res))

    def walk(self, addr: int) -> PageWalk:
        """The page-table walk for addr: pgd, pud, pmd, pte (raw)."""
        res = self._request("page_walk", addr=addr).page_walk
        return PageWalk(**{"pgd": 0, "pud": 0, "pmd": 0, "pte": 0,
                           **_present(res)})

    def counters(self, task_only: bool = False) -> Counters:
        """The event counters of the session (or the task's own)."""
        res = self._request("counters",
                            task_only=True if task_only else None).counters
        return Counters(**_present(res))

    def kernel(self) -> List[KernelParam]:
        """The session's kernel parameters, in the daemon's order."""
        res = self._request("kernel").kernel
        return [KernelParam(p.name, p.value, p.text) for p in res.params]

    def check(self) -> Check:
        """The simulator's consistency check (CORRUPT raises)."""
        res = self._request("check").check
        return Check(mms=res.mms, tasks=res.tasks)

    # --- traces --------------------------------------------------------------

    def run_result(self, trace_text: Union[str, bytes],
                   resume: bool = False, explain: bool = False) -> TraceRun:
        """Run a trace in this session: output, errors, truncation, and
        with ``explain`` each command's path (``TraceRun.explain``)."""
        msg = pb.RunTraceRequest()
        if resume:
            msg.resume = True
        if explain:
            msg.explain = True
        return run_trace(self.client, msg, trace_text, self.session_id)

    def run(self, trace_text: Union[str, bytes], resume: bool = False) -> str:
        """Run a trace in this session; return its canonical output.

        The trace starts as task 1 with line 1 (with ``resume``: where the
        session's last run stopped).
        """
        return self.run_result(trace_text, resume).output

"""Typed results of the daemon's operations (docs/protocol.md).

Every system call answers either its result or a :class:`SyscallError`;
both have ``ok``, so that ``if not r.ok`` works on any of them.  A memory
access that faults is a result too, with its :class:`Fault`.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass(frozen=True)
class SyscallError:
    """A system call that failed, as a trace prints ``= -ENOMEM``."""

    errname: str
    errnum: int
    message: str = ""
    ok: bool = field(default=False, init=False)


@dataclass(frozen=True)
class Done:
    """A system call that succeeded with nothing to return (munmap...)."""

    ok: bool = field(default=True, init=False)


@dataclass(frozen=True)
class Addr:
    """An address returned by mmap, mremap, brk or shmat."""

    addr: int
    ok: bool = field(default=True, init=False)


@dataclass(frozen=True)
class Task:
    """The new task of fork, thread or vfork."""

    task: int
    ok: bool = field(default=True, init=False)


@dataclass(frozen=True)
class Fault:
    """A fault that ended in a signal, or found no memory (``oom``)."""

    addr: int
    signal: int
    code: int
    signal_name: str
    code_name: str
    oom: bool = False


@dataclass(frozen=True)
class Access:
    """A load, store or fetch: the byte, or the fault and its path."""

    value: Optional[int]
    fault: Optional[Fault]
    explain: str = ""

    @property
    def ok(self) -> bool:
        """Whether the access completed without a signal."""
        return self.fault is None


@dataclass(frozen=True)
class BytesRead:
    """read_bytes: the bytes loaded before the first fault, if any."""

    data: bytes
    fault: Optional[Fault]

    @property
    def ok(self) -> bool:
        """Whether every byte was loaded."""
        return self.fault is None


@dataclass(frozen=True)
class BytesWritten:
    """write_bytes: the bytes stored before the first fault, if any."""

    written: int
    fault: Optional[Fault]

    @property
    def ok(self) -> bool:
        """Whether every byte was stored."""
        return self.fault is None


@dataclass(frozen=True)
class Vma:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    offset: int
    name: str
    vm_flags: int


@dataclass(frozen=True)
class Maps:
    """/proc/PID/maps: the VMAs and the text as a trace prints it."""

    vmas: List[Vma]
    text: str


@dataclass(frozen=True)
class Smap:
    """One VMA of /proc/PID/smaps; figures in kB."""

    vma: Vma
    rss: int
    pss: int
    shared_clean: int
    shared_dirty: int
    private_clean: int
    private_dirty: int
    anonymous: int
    swap: int
    locked: int
    vm_flags: str


@dataclass(frozen=True)
class Smaps:
    """/proc/PID/smaps: one :class:`Smap` per VMA, and the text."""

    smaps: List[Smap]
    text: str


@dataclass(frozen=True)
class ProcStatus:
    """The memory lines of /proc/PID/status, in kB (None: not kept)."""

    pid: Optional[int] = None
    tgid: Optional[int] = None
    threads: Optional[int] = None
    vm_peak: Optional[int] = None
    vm_size: Optional[int] = None
    vm_lck: Optional[int] = None
    vm_pin: Optional[int] = None
    vm_hwm: Optional[int] = None
    vm_rss: Optional[int] = None
    rss_anon: Optional[int] = None
    rss_file: Optional[int] = None
    rss_shmem: Optional[int] = None
    vm_data: Optional[int] = None
    vm_stk: Optional[int] = None
    vm_exe: Optional[int] = None
    vm_lib: Optional[int] = None
    vm_pte: Optional[int] = None
    vm_swap: Optional[int] = None
    text: str = ""


@dataclass(frozen=True)
class PageWalk:
    """The four page-table entries the MMU reads for an address."""

    pgd: int
    pud: int
    pmd: int
    pte: int
    swap: bool = False
    swap_entry: int = 0
    swap_type: int = 0
    swap_offset: int = 0
    swap_exclusive: bool = False
    #: The mms holding the PTE table: more than one after a fork shared
    #: it (kernel share_tables); 0 where there is no table.
    pt_sharers: int = 0


@dataclass(frozen=True)
class Counters:
    """The event counters of a session or a task."""

    minor_faults: int = 0
    zero_page_maps: int = 0
    cow_copies: int = 0
    wp_reuses: int = 0
    fault_around_pages: int = 0
    stack_expansions: int = 0
    sigsegv: int = 0
    sigbus: int = 0
    vmacache_hits: int = 0
    vmacache_misses: int = 0
    oom: int = 0
    major_faults: int = 0
    pswpin: int = 0
    pswpout: int = 0


@dataclass(frozen=True)
class KernelParam:
    """A kernel parameter: its name, value, and text as a trace writes it."""

    name: str
    value: int
    text: str


@dataclass(frozen=True)
class Check:
    """The consistency check's figures: mms checked and live tasks."""

    mms: int
    tasks: int


@dataclass(frozen=True)
class TraceRun:
    """A trace's run: its canonical output and how it ended."""

    output: str
    errors: int = 0
    truncated: bool = False
    stopped_at: Optional[int] = None
    session: Optional[bytes] = None
    #: With ``explain=True``: each command's path through the simulated
    #: kernel (placements, merges and splits with their rules, faults,
    #: copy on write), by trace line; lines that recorded none are absent.
    explain: Dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionInfo:
    """One of the tenant's sessions, as session_list shows it."""

    session: bytes
    label: str
    tasks: int
    created: int
    ram_bytes: int
    charged_bytes: Optional[int] = None

    @property
    def id(self) -> str:
        """The session id in hex, as the aspace command prints it."""
        return self.session.hex()


@dataclass(frozen=True)
class Hello:
    """What the daemon said in hello: its version, name, limits."""

    version: int
    server: str
    tenant: str
    limits: Dict[str, int]

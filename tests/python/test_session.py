"""One test per group of operations, over each transport."""

import pytest

import aspace
from aspace import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED,
                    PROT_READ, PROT_WRITE)

BASE = 0x200000000000
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS


def mapped(s: aspace.Session, length: int = 0x4000, prot: int = RW,
           addr: int = BASE) -> int:
    """Map anonymous memory at addr; return it."""
    r = s.mmap(length, prot, ANON | MAP_FIXED, addr=addr)
    assert r.ok and isinstance(r, aspace.Addr) and r.addr == addr
    return r.addr


def test_mmap_munmap_mprotect(session: aspace.Session) -> None:
    a = mapped(session)
    assert session.mprotect(a, 0x1000, PROT_READ) == aspace.Done()
    assert session.munmap(a + 0x3000, 0x1000).ok
    perms = [(v.start, v.perms) for v in session.maps().vmas
             if BASE <= v.start < BASE + 0x4000]
    assert perms == [(a, "r--p"), (a + 0x1000, "rw-p")]


def test_a_failed_call_is_a_result(session: aspace.Session) -> None:
    r = session.munmap(BASE + 1, 0x1000)
    assert isinstance(r, aspace.SyscallError) and not r.ok
    assert (r.errname, r.errnum) == ("EINVAL", 22)
    r = session.mmap(0x1000, RW, MAP_PRIVATE, file="no-such-file")
    assert isinstance(r, aspace.SyscallError) and r.errname == "EBADF"


def test_mremap_madvise_mlock_msync(session: aspace.Session) -> None:
    a = mapped(session, 0x2000)
    assert session.write(a, 0x5a).ok
    r = session.mremap(a, 0x2000, 0x8000, aspace.MREMAP_MAYMOVE)
    assert isinstance(r, aspace.Addr)
    assert session.read(r.addr).value == 0x5a
    assert session.madvise(r.addr, 0x1000, aspace.MADV_DONTNEED).ok
    assert session.read(r.addr).value == 0
    assert session.madvise(r.addr, 0x1000, 12345).errname == "EINVAL"
    assert session.mlock(r.addr, 0x2000).ok
    assert session.status().vm_lck == 8
    assert session.munlock(r.addr, 0x2000).ok
    assert session.msync(r.addr, 0x1000, aspace.MS_SYNC).ok
    assert session.msync(r.addr + 1, 0x1000, aspace.MS_SYNC).errname == \
        "EINVAL"


def test_brk(session: aspace.Session) -> None:
    start = session.brk().addr
    assert session.brk(start + 0x3000).addr == start + 0x3000
    assert session.brk().addr == start + 0x3000


def test_accesses_and_faults(session: aspace.Session) -> None:
    a = mapped(session, 0x2000)
    mapped(session, 0x1000, PROT_READ, addr=a + 0x10000)
    w = session.write(a + 5, 0x7f)
    assert w.ok and w.value == 0x7f and "do_anonymous_page" in w.explain
    assert session.read(a + 5) == aspace.Access(0x7f, None, "")
    miss = session.read(0x1000)
    assert not miss.ok and miss.value is None
    assert miss.fault == aspace.Fault(addr=0x1000, signal=aspace.SIGSEGV,
                                      code=1, signal_name="SIGSEGV",
                                      code_name="SEGV_MAPERR")
    assert "SEGV_MAPERR" in miss.explain
    ro = session.touch(a + 0x10000, "w")
    assert ro.fault.code_name == "SEGV_ACCERR"
    assert session.touch(a + 0x1000, "w").ok
    assert session.read(a + 0x1000, explain=False).explain == ""
    assert session.counters().sigsegv == 2


def test_read_and_write_bytes(session: aspace.Session) -> None:
    a = mapped(session, 0x1000)
    assert session.write_bytes(a + 0xffc, b"abcdefgh") == \
        aspace.BytesWritten(4, session.read(a + 0x1000).fault)
    got = session.read_bytes(a + 0xffc, 8)
    assert got.data == b"abcd" and got.fault.addr == a + 0x1000


def test_tasks(session: aspace.Session) -> None:
    a = mapped(session, 0x1000)
    assert session.write(a, 1).ok
    child = session.fork()
    assert child == aspace.Task(2)
    kid = session.as_task(child.task)
    assert kid.write(a, 2).ok
    assert session.read(a).value == 1 and kid.read(a).value == 2
    assert session.counters().cow_copies >= 1
    t = session.thread()
    assert isinstance(t, aspace.Task) and session.as_task(t.task).status() \
        .threads == 2
    assert kid.exec("other", text=0x2000).ok
    assert [v.name for v in kid.maps().vmas][0] == "other"
    assert kid.exit().ok
    with pytest.raises(aspace.StatusError) as e:
        kid.maps()
    assert e.value.code == "NO_SUCH_TASK"


def test_vfork_blocks_the_parent(session: aspace.Session) -> None:
    child = session.vfork()
    assert isinstance(child, aspace.Task)
    with pytest.raises(aspace.StatusError) as e:
        session.brk()
    assert e.value.code == "BLOCKED"
    session.switch(child.task)
    assert session.task == child.task
    assert session.exec("child").ok
    session.switch(1)
    assert session.brk().ok


def test_reports(session: aspace.Session) -> None:
    a = mapped(session, 0x3000)
    assert session.write(a, 1).ok
    maps = session.maps(a, 0x1000)
    assert len(maps.vmas) == 1 and maps.vmas[0].end == a + 0x3000
    assert maps.text.startswith(f"{a:x}-{a + 0x3000:x} rw-p")
    smaps = session.smaps(a, 0x1000)
    assert smaps.smaps[0].rss == 4 and smaps.smaps[0].anonymous == 4
    assert "rd wr" in smaps.smaps[0].vm_flags
    st = session.status()
    assert st.pid == 1 and st.vm_rss is not None and "VmRSS:" in st.text
    walk = session.walk(a)
    assert walk.pte & 1 and walk.pgd & 1 and not walk.swap
    assert walk.pt_sharers == 1
    assert session.walk(a + 0x1000).pte == 0
    assert session.counters(task_only=True).minor_faults >= 1
    assert session.check() == aspace.Check(mms=1, tasks=1)
    session.fork()          # the table shared with the child
    assert session.walk(a).pt_sharers == 2
    assert session.walk(a).pmd & 2 == 0     # read-only at the PMD


def test_kernel_parameters(client: aspace.Client) -> None:
    kernel = {"zero_page": False, "fault_around_bytes": "4K",
              "rlimit_memlock": "64K", "swap": "1M", "share_tables": "off"}
    with client.session(kernel=kernel, ram_bytes=64 << 20) as s:
        params = {p.name: p.text for p in s.kernel()}
        assert params["zero_page"] == "off"
        assert params["fault_around_bytes"] in ("4K", "4096")
        assert params["rlimit_memlock"] == "64K"
        assert params["swap"] == "1M"
        assert params["share_tables"] == "off"
    with pytest.raises(ValueError):
        client.session(kernel={"no_such": 1})
    with pytest.raises(aspace.StatusError) as e:
        client.session(kernel={"fault_around_bytes": 3})
    assert e.value.code == "BAD_REQUEST"


def test_files_and_shared_memory(session: aspace.Session) -> None:
    assert session.file_create("data", 0x2000).ok
    f = session.mmap(0x2000, RW, MAP_SHARED, file="data", offset=0)
    assert isinstance(f, aspace.Addr)
    assert session.shmget("seg", 0x2000).ok
    assert session.shmget("seg", 0x2000).errname == "EEXIST"
    at = session.shmat("seg")
    assert isinstance(at, aspace.Addr) and session.write(at.addr, 9).ok
    ro = session.shmat("seg", flags=aspace.SHM_RDONLY)
    assert session.read(ro.addr).value == 9
    assert session.touch(ro.addr, "w").fault.code_name == "SEGV_ACCERR"
    assert session.shmat("nope").errname == "EINVAL"
    assert session.shmdt(ro.addr).ok
    assert session.shmrm("seg").ok
    assert session.shmdt(at.addr).ok
    assert session.shmdt(at.addr).errname == "EINVAL"

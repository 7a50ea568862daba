"""Traces: run (the canonical output, as aspace run --local prints it)
and grade (a student's answers against a trace's run)."""

import os
import subprocess

import pytest

import aspace

TRACE = """\
mmap 0x200000000000 16K rw- private,anon,fixed
write 0x200000000000 0x2a
read 0x200000000000
fork
switch 2
write 0x200000000000 0x7
switch 1
read 0x200000000000
read 0x300000000000
munmap 0x200000000001 4K
maps
"""


def local_run(text: str, tmp_path: "os.PathLike[str]") -> str:
    """The output of aspace run --local for text."""
    path = os.path.join(tmp_path, "t.trace")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([os.environ["ASPACE"], "run", "--local", path],
                          check=True, capture_output=True,
                          text=True).stdout


def test_run_is_the_canonical_output(client: aspace.Client,
                                     tmp_path: "os.PathLike[str]") -> None:
    want = local_run(TRACE, tmp_path)
    assert "SIGSEGV SEGV_MAPERR" in want and "-EINVAL" in want
    with client.session() as s:
        assert s.run(TRACE) == want
    assert client.run(TRACE) == want


def test_run_in_a_session_keeps_its_state(client: aspace.Client) -> None:
    with client.session() as s:
        s.run("mmap 0x200000000000 4K rw- private,anon,fixed\n"
              "write 0x200000000000 0x11\n")
        assert s.read(0x200000000000).value == 0x11
        out = s.run_result("read 0x200000000000\n", resume=True)
        assert out.output == "3: = 0x11\n" and out.errors == 0


def test_run_explained(client: aspace.Client) -> None:
    """Each command's path, by line, as aspace run --explain prints it."""
    with client.session() as s:
        res = s.run_result(TRACE, explain=True)
        assert res.output.startswith("1: = 0x200000000000\n")
        assert res.explain[1].startswith("MAP_FIXED: at 0x200000000000 "
                                         "as asked -> vma_merge_new_range")
        assert res.explain[2].startswith("vmacache miss -> "
                                         "do_anonymous_page: frame")
        assert res.explain[3] == ("no fault: the page table already "
                                  "allowed the access")
        assert "shared with the child" in res.explain[4]
        assert "do_wp_page: copied frame" in res.explain[6]
        assert 11 not in res.explain          # maps records no path
        assert s.run_result(TRACE).explain == {}


def test_run_counts_errors(client: aspace.Client) -> None:
    res = client.session().run_result("frobnicate 1\n")
    assert res.errors == 1 and res.output.startswith("1: ! error")


def test_run_with_seed_and_kernel(client: aspace.Client) -> None:
    trace = "mmap 0 4K rw- private,anon\nkernel\n"
    a = client.run(trace, seed=1)
    assert a == client.run(trace, seed=1)
    assert a != client.run(trace, seed=2)
    reads = "mmap 0x200000000000 4K rw- private,anon,fixed\n" \
        "read 0x200000000000\nsmaps\n"
    assert client.run(reads) != client.run(reads, kernel={"zero_page": "off"})



@pytest.mark.needs_grade
def test_grade(client: aspace.Client) -> None:
    """Needs the daemon's grade handler (op 50)."""
    right = client.run(TRACE)
    full = client.grade(TRACE, right)
    assert full["max_score"] > 0 and full["score"] == full["max_score"]
    assert all(i["verdict"] == "right" for i in full["items"])
    assert {"line", "command", "verdict", "points", "max_points",
            "expected", "given", "why"} <= set(full["items"][0])
    lines = right.splitlines(keepends=True)
    read3 = next(i for i, l in enumerate(lines) if l.startswith("3: "))
    lines[read3] = "3: = 0x2b\n"
    del lines[next(i for i, l in enumerate(lines) if l.startswith("9: "))]
    partial = client.grade(TRACE, "".join(lines))
    assert partial["score"] < full["score"]
    verdicts = {i["line"]: i["verdict"] for i in partial["items"]}
    assert verdicts[3] == "wrong" and verdicts[9] == "missing"
    assert verdicts[1] == "right"
    wrong = next(i for i in partial["items"] if i["line"] == 3)
    assert wrong["expected"].strip() == "3: = 0x2a" and wrong["given"]


def test_the_grade_dict() -> None:
    """GradeResult -> dict, and the GradeRequest client.grade() sends."""
    from aspace._pb import pb
    from aspace.grade import grade_request, grade_result
    res = pb.GradeResult(score=1, max_score=3, extra_lines=2)
    res.items.add(line=3, command=b"read 0x1000", verdict=pb.GradeItem.WRONG,
                  points=0, max_points=2, expected=b"3: = 0x2a\n",
                  given=b"3: = 0x2b\n", why=b"the byte \xff")
    res.items.add(line=4, command=b"fork", verdict=pb.GradeItem.MISSING,
                  max_points=1)
    got = grade_result(res)
    assert got["score"] == 1 and got["max_score"] == 3
    assert got["extra_lines"] == 2
    assert got["items"][0] == {
        "line": 3, "command": "read 0x1000", "verdict": "wrong",
        "points": 0, "max_points": 2, "expected": "3: = 0x2a\n",
        "given": "3: = 0x2b\n", "why": "the byte \ufffd"}
    assert got["items"][1]["verdict"] == "missing"
    req = grade_request("fork\n", b"1: = 2\n", None, None)
    assert req.trace == b"fork\n" and req.answers == b"1: = 2\n"
    assert not req.HasField("params")
    req = grade_request("fork\n", "", 5, {"zero_page": "off"})
    assert req.params.seed == 5 and req.params.randomize
    assert req.params.HasField("zero_page") and not req.params.zero_page


def test_a_trace_over_its_line_limit(client: aspace.Client) -> None:
    """The daemon's trace-line-limit is 5000 (conftest.py)."""
    trace = "mmap 0x200000000000 4K rw- private,anon,fixed\n" + \
        "read 0x200000000000\n" * 5200
    with pytest.raises(aspace.StatusError) as e:
        client.run(trace)
    assert e.value.code == "QUOTA" and "line limit" in e.value.message
    run = e.value.result
    assert isinstance(run, aspace.TraceRun) and run.stopped_at == 5001
    assert run.output.splitlines()[-1] == "5000: = 0x00"


def test_threads_share_a_client(client: aspace.Client) -> None:
    import threading
    outputs = []

    def work(n: int) -> None:
        trace = f"mmap 0x200000000000 4K rw- private,anon,fixed\n" \
                f"write 0x200000000000 {n}\nread 0x200000000000\n"
        outputs.append((n, client.run(trace)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outputs) == [(n, f"1: = 0x200000000000\n2: = ok\n"
                                   f"3: = 0x{n:02x}\n") for n in range(8)]

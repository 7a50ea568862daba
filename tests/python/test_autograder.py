"""The example Gradescope autograder (python/examples/gradescope/)."""

import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict

import pytest

import aspace
from conftest import Daemon

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "python", "examples", "gradescope")


def autograde(root: str, config: Dict[str, Any],
              answers: Any = None) -> Dict[str, Any]:
    """Run run_autograder in root (as /autograder); return results.json."""
    source = os.path.join(root, "source")
    os.makedirs(source)
    os.makedirs(os.path.join(root, "submission"))
    shutil.copy(os.path.join(EXAMPLE, "lab.trace"), source)
    with open(os.path.join(source, "config.json"), "w") as f:
        json.dump(config, f)
    if answers is not None:
        with open(os.path.join(root, "submission", "answers.txt"), "w") as f:
            f.write(answers)
    env = dict(os.environ, AUTOGRADER_ROOT=root)
    subprocess.run([sys.executable, os.path.join(EXAMPLE, "run_autograder")],
                   env=env,
                   check=True, timeout=120)
    with open(os.path.join(root, "results", "results.json")) as f:
        return json.load(f)


def tls_config(daemon: Daemon) -> Dict[str, Any]:
    """config.json for the test daemon over TLS with a token."""
    return {"trace": "lab.trace", "answers": "answers.txt",
            "url": daemon.tls_url, "token": daemon.token,
            "ca": daemon.file("ca.pem")}


def test_no_answers_scores_zero(daemon: Daemon, tmp_path: Any) -> None:
    results = autograde(str(tmp_path), tls_config(daemon))
    assert results["score"] == 0 and "answers.txt" in results["output"]


def test_a_daemon_it_cannot_reach(daemon: Daemon, tmp_path: Any) -> None:
    config = dict(tls_config(daemon), url=f"unix:{tmp_path}/none")
    results = autograde(str(tmp_path), config, "3: = 0x0\n")
    assert results["score"] == 0
    assert results["output"].startswith("The autograder failed")


@pytest.mark.needs_grade
@pytest.mark.parametrize("local", [False, True])
def test_right_answers_score_full(daemon: Daemon, tmp_path: Any,
                                  local: bool) -> None:
    """Needs the daemon's grade handler; local: its own aspaced."""
    with open(os.path.join(EXAMPLE, "lab.trace")) as f:
        trace = f.read()
    with aspace.connect(daemon.unix_url) as c:
        right = c.run(trace)
    config = tls_config(daemon)
    if local:
        config["url"] = None
    results = autograde(str(tmp_path), config, right)
    assert results.get("max_score", 0) > 0, results["output"]
    assert results["score"] == results["max_score"], results["output"]
    assert results["tests"] and \
        all(t["status"] == "passed" for t in results["tests"])


# --- a lab of several traces, by run_autograder's options -----------------

COW = ("mmap 0x200000000000 16K rw- private,anon,fixed\n"
       "write 0x200000000000 0x2a   # points: 3\n"
       "fork                         # points: 0\n")
MAPS = ("mmap 0x200000000000 4K rw- private,anon,fixed\n"
        "mmap 0x200000001000 4K rw- private,anon,fixed\n"
        "maps                         # points: 5\n")


def lab_run(tmp: str, daemon: Daemon, answers: Dict[str, str],
            maps: str = MAPS) -> Dict[str, Any]:
    """The lab (cow.trace, maps.trace) graded from tmp by the options."""
    for d in ("key", "sub"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    for name, text in (("cow.trace", COW), ("maps.trace", maps)):
        with open(os.path.join(tmp, "key", name), "w") as f:
            f.write(text)
    config = {"traces": ["cow.trace", "maps.trace"], "url": None}
    with open(os.path.join(tmp, "key", "config.json"), "w") as f:
        json.dump(config, f)
    for name, text in answers.items():
        with open(os.path.join(tmp, "sub", name), "w") as f:
            f.write(text)
    results = os.path.join(tmp, "out", "results.json")
    run = subprocess.run(
        [sys.executable, os.path.join(EXAMPLE, "run_autograder"),
         "--source", os.path.join(tmp, "key"),
         "--submission", os.path.join(tmp, "sub"),
         "--results", results, "--url", daemon.unix_url],
        env=dict(os.environ, AUTOGRADER_ROOT=os.path.join(tmp, "none")),
        stderr=subprocess.PIPE, text=True, check=True, timeout=120)
    assert "Traceback" not in run.stderr, run.stderr
    with open(results) as f:
        return json.load(f)


def right_answers(daemon: Daemon) -> Dict[str, str]:
    """What aspace run prints for each trace of the lab."""
    with aspace.connect(daemon.unix_url) as c:
        return {"cow.out": c.run(COW), "maps.out": c.run(MAPS)}


def check_sums(results: Dict[str, Any]) -> None:
    """Gradescope's totals are the sums of the tests'."""
    assert results["score"] == sum(t["score"] for t in results["tests"])
    assert results["max_score"] == \
        sum(t["max_score"] for t in results["tests"])
    for t in results["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output",
                          "visibility", "status"}


@pytest.mark.needs_grade
def test_a_lab_of_two_traces(daemon: Daemon, tmp_path: Any) -> None:
    results = lab_run(str(tmp_path), daemon, right_answers(daemon))
    check_sums(results)
    assert results["score"] == results["max_score"] == 11
    names = [t["name"] for t in results["tests"]]
    assert "cow.trace line 2: write 0x200000000000 0x2a" in names
    assert "maps.trace line 3: maps" in names
    assert results["output"].endswith("total: 11/11\n")


@pytest.mark.needs_grade
def test_a_missing_answers_file(daemon: Daemon, tmp_path: Any) -> None:
    answers = right_answers(daemon)
    del answers["maps.out"]
    results = lab_run(str(tmp_path), daemon, answers)
    check_sums(results)
    assert results["score"] == 4 and results["max_score"] == 11
    last = results["tests"][-1]
    assert last["name"] == "maps.trace: not graded"
    assert last["score"] == 0 and last["max_score"] == 7
    assert "No maps.out in the submission." in last["output"]
    assert "maps.trace: 0/7: No maps.out" in results["output"]


@pytest.mark.needs_grade
def test_a_refused_answers_file(daemon: Daemon, tmp_path: Any) -> None:
    answers = right_answers(daemon)
    answers["cow.out"] = "1: = 0x200000000000\nnot an answer\n"
    results = lab_run(str(tmp_path), daemon, answers)
    check_sums(results)
    assert results["score"] == 7 and results["max_score"] == 11
    first = results["tests"][0]
    assert first["name"] == "cow.trace: not graded"
    assert first["max_score"] == 4 and first["status"] == "failed"
    assert first["output"].startswith("cow.out was refused: line 2: ")


@pytest.mark.needs_grade
def test_a_lab_the_daemon_refuses(daemon: Daemon, tmp_path: Any) -> None:
    """A bad "# points:" is the teacher's: the run fails, and says so."""
    results = lab_run(str(tmp_path), daemon, right_answers(daemon),
                      MAPS + "maps   # points: many\n")
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("The autograder failed")

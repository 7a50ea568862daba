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

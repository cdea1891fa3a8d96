"""A multi-process launch gone wrong is one line and exit 2: a missing or malformed
THEORY_LAB_* variable, or a process whose peers never join (JAX alone would wait five
minutes, then abort with a C++ stack trace)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.common.test_parallel import _free_port

ROOT = Path(__file__).resolve().parents[2]


def run_report(variables: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEORY_LAB_")}
    env |= {"JAX_PLATFORMS": "cpu", **variables}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "report", "--runs", "no-such-folder"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("variables, message", [
    ({"THEORY_LAB_COORDINATOR": "127.0.0.1:1"}, "missing THEORY_LAB_NUM_PROCESSES, THEORY_LAB_PROCESS_ID"),
    ({"THEORY_LAB_PROCESS_ID": "0"}, "missing THEORY_LAB_COORDINATOR"),
    ({"THEORY_LAB_COORDINATOR": "127.0.0.1:1", "THEORY_LAB_NUM_PROCESSES": "two",
      "THEORY_LAB_PROCESS_ID": "0"}, "must be numbers"),
    ({"THEORY_LAB_COORDINATOR": "127.0.0.1:1", "THEORY_LAB_NUM_PROCESSES": "2",
      "THEORY_LAB_PROCESS_ID": "2"}, "must be in 0 .. THEORY_LAB_NUM_PROCESSES-1"),
])
def test_bad_multi_process_variables_are_one_line(variables, message):
    done = run_report(variables)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


@pytest.mark.parametrize("process_id", ["0", "1"])
def test_a_process_without_its_peers_gives_up_with_one_line(process_id):
    started = time.monotonic()
    done = run_report({"THEORY_LAB_COORDINATOR": f"127.0.0.1:{_free_port()}", "THEORY_LAB_NUM_PROCESSES": "2",
                     "THEORY_LAB_PROCESS_ID": process_id, "THEORY_LAB_INIT_TIMEOUT": "2"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "not every process joined" in done.stderr, done.stderr
    assert time.monotonic() - started < 60

"""`run.py all`'s runner (common.batch): each experiment its own process, one
line each, a failure as one line with its log, Ctrl-C stops what runs and says
how to resume."""

import _thread
import io
import signal
import threading

import pytest

from common import batch

FAKE_RUN_PY = """import os, signal, sys, time
name = sys.argv[1]
print("step 1 of", name)
if name == "fails":
    raise ValueError("bad shape (3,)")
if name == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
if name == "sleeper":
    time.sleep(60)
"""


def job(tmp_path, name: str, estimate: float = 1.0) -> batch.Job:
    return batch.Job(name, (name, "--preset", "quick"), tmp_path / name, estimate)


def test_each_process_is_one_line_and_a_failure_names_its_error_and_log(tmp_path, monkeypatch):
    (tmp_path / "fake_run.py").write_text(FAKE_RUN_PY)
    monkeypatch.setattr(batch, "RUN_PY", tmp_path / "fake_run.py")
    jobs = [job(tmp_path, "fails", 2.0), job(tmp_path, "killed"), job(tmp_path, "no-results")]
    out = io.StringIO()
    finished = batch.run_jobs(jobs, 2, out=out)
    lines = out.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]
    errors = {f.job.name: f.error for f in finished}
    assert errors == {"fails": "ValueError: bad shape (3,)", "killed": "killed by signal 9",
                      "no-results": "exit code 0: step 1 of no-results"}  # exit 0 without results.json fails
    assert "step 1 of fails" in jobs[0].log.read_text() and str(jobs[0].log) in out.getvalue()
    assert batch.summary(finished, ["fails", "killed", "no-results"]).count("FAILED") == 3


def test_ctrl_c_stops_the_running_experiments_and_says_how_to_resume(tmp_path, monkeypatch):
    (tmp_path / "fake_run.py").write_text(FAKE_RUN_PY)
    monkeypatch.setattr(batch, "RUN_PY", tmp_path / "fake_run.py")
    sleeper = job(tmp_path, "sleeper")
    # interrupt_main does nothing where SIGINT is not Python's handler (a test before this one in the same
    # worker may have left it at SIG_DFL): set the handler a terminal's Ctrl-C meets, and restore it after.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(1.0, _thread.interrupt_main).start()
        with pytest.raises(batch.Stopped) as stopped:
            batch.run_jobs([sleeper], 1, out=io.StringIO())
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stopped.value.interrupted == (sleeper,) and stopped.value.finished == ()
    assert f"python run.py sleeper --resume --out {sleeper.folder}" in stopped.value.advice()

"""`run.py all`: every experiment's `run.py NAME OPTIONS --out FOLDER`, longest
first, each writing its output to FOLDER/log.txt. One line per finished
experiment (verdict counts, seconds, time left), a line every
`HEARTBEAT_SECONDS` while nothing finishes, and an experiment that fails (an
exception, a crash, bad input) is recorded with its error's last line and its
log while the others go on.

Each experiment is a process of its own, so a crash of one (an exception, a
segfault, the kernel's OOM killer) cannot take the others or the report down,
and its memory is returned when it ends. In this process, one after another,
the cold `all` was no faster on the 2-core CPU (837 s against 792 s: docs/first_run.md)."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common.report import counts_text, verdict_counts

RUN_PY = Path(__file__).resolve().parents[1] / "run.py"
HEARTBEAT_SECONDS = 30.0
POLL_SECONDS = 0.25
STOP_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Job:
    """One experiment to run: its name, its run.py arguments (`--out folder` is added), folder and
    expected seconds (for the order and the time left)."""

    name: str
    arguments: tuple[str, ...]
    folder: Path
    estimate: float

    @property
    def command_line(self) -> list[str]:
        return [*self.arguments, "--out", str(self.folder)]

    @property
    def log(self) -> Path:
        return self.folder / "log.txt"


@dataclass(frozen=True)
class Finished:
    """One experiment's end: exit code, wall seconds, and either its results.json or its error line."""

    job: Job
    returncode: int
    seconds: float
    results: dict | None
    error: str | None

    @property
    def failed(self) -> bool:
        return self.results is None


def run_jobs(jobs: list[Job], parallel: int, *, out=None) -> list[Finished]:
    """Run `jobs` (longest estimate first), at most `parallel` at once; print a line as each ends (to `out`,
    default stdout)."""
    out = out or sys.stdout
    pending = sorted(jobs, key=lambda j: -j.estimate)
    running: dict[Job, tuple[subprocess.Popen, float]] = {}
    finished: list[Finished] = []
    started = last_line = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < parallel:
                job = pending.pop(0)
                running[job] = (_start(job, parallel), time.monotonic())
            time.sleep(POLL_SECONDS)
            for job, (process, began) in list(running.items()):
                if process.poll() is None:
                    continue
                del running[job]
                finished.append(_finish(job, process.returncode, time.monotonic() - began))
                print(_line(finished[-1], len(finished), len(jobs), started, _left(pending, running, parallel)),
                      file=out, flush=True)
                last_line = time.monotonic()
            if running and time.monotonic() - last_line >= HEARTBEAT_SECONDS:
                print(_heartbeat(running, len(finished), len(jobs), started, _left(pending, running, parallel)),
                      file=out, flush=True)
                last_line = time.monotonic()
    except KeyboardInterrupt:
        _stop(running)
        raise Stopped(tuple(running), tuple(finished)) from None
    return finished


class Stopped(Exception):
    """Ctrl-C during `all`: the jobs that were running (each got SIGINT and checkpointed) and those done."""

    def __init__(self, interrupted: tuple[Job, ...], finished: tuple[Finished, ...]):
        super().__init__(f"{len(interrupted)} experiment(s) interrupted")
        self.interrupted, self.finished = interrupted, finished

    def advice(self) -> str:
        """What to run to continue each interrupted experiment."""
        return "\n".join(f"  python run.py {job.name} --resume --out {job.folder}" for job in self.interrupted)


def _start(job: Job, parallel: int) -> subprocess.Popen:
    job.folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if parallel > 1:  # on a GPU, each process may take only its share of the memory
        env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / parallel:.2f}")
    with open(job.log, "w") as log:
        return subprocess.Popen([sys.executable, str(RUN_PY), *job.command_line],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)


def _finish(job: Job, returncode: int, seconds: float) -> Finished:
    results_path = job.folder / "results.json"
    if returncode == 0 and results_path.is_file():
        try:
            return Finished(job, returncode, seconds, json.loads(results_path.read_text()), None)
        except (OSError, ValueError) as error:
            return Finished(job, returncode, seconds, None, f"its results.json is unreadable ({error})")
    return Finished(job, returncode, seconds, None, error_line(job.log, returncode))


def error_line(log: Path, returncode: int) -> str:
    """The failure in one line: the log's last `error:` line or exception line, else the exit code."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    for line in reversed(lines):
        if line.startswith("error:") or (":" in line and line.split(":")[0].endswith(("Error", "Exception"))):
            return line
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exit code {returncode}" + (f": {lines[-1]}" if lines else "")


def _left(pending: list[Job], running: dict, parallel: int) -> float:
    """Expected seconds left: what the running jobs have still to do, and the pending ones, over the lanes."""
    now = time.monotonic()
    remaining = sum(max(job.estimate - (now - began), 0.0) for job, (_, began) in running.items())
    return (remaining + sum(job.estimate for job in pending)) / max(parallel, 1)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _line(done: Finished, k: int, total: int, started: float, left: float) -> str:
    job = done.job
    if done.failed:
        what = f"FAILED: {done.error} (log: {job.log})"
    else:
        compile_seconds = done.results.get("compile_seconds")
        compiled = f", {compile_seconds:.0f} s compiling" if isinstance(compile_seconds, (int, float)) else ""
        what = f"{counts_text(verdict_counts(done.results.get('claims', [])))}  {done.seconds:.0f} s{compiled}"
    tail = f"{_minutes(time.monotonic() - started)} in all" + (f", ~{_minutes(left)} left" if k < total else "")
    return f"[{k}/{total}] {job.name:<20} {what}  ({tail})"


def _heartbeat(running: dict, done: int, total: int, started: float, left: float) -> str:
    now = time.monotonic()
    names = ", ".join(f"{job.name} {now - began:.0f} s" for job, (_, began) in running.items())
    return f"        running: {names}  ({done}/{total} done, {_minutes(now - started)} in all, ~{_minutes(left)} left)"


def _stop(running: dict) -> None:
    """Ctrl-C: each running experiment gets SIGINT (it checkpoints and exits), then a grace period."""
    for process, _ in running.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process, _ in running.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()


def summary(finished: list[Finished], order: list[str]) -> str:
    """The closing table: per experiment, its verdicts or its failure, and its seconds."""
    by_name = {f.job.name: f for f in finished}
    width = max(len(name) for name in order)
    lines = [f"{'experiment':<{width}}  {'reproduced / not / inconclusive':<32} {'seconds':>8} {'compiling':>9}"]
    for name in order:
        done = by_name.get(name)
        if done is None:
            continue
        if done.failed:
            lines.append(f"{name:<{width}}  FAILED: {done.error}")
            continue
        counts = verdict_counts(done.results.get("claims", []))
        verdicts = f"{counts['reproduced']} / {counts['not reproduced']} / {counts['inconclusive']}"
        others = [f"{n} {kind}" for kind, n in list(counts.items())[3:] if n]
        compile_seconds = done.results.get("compile_seconds")
        compiled = f"{compile_seconds:9.1f}" if isinstance(compile_seconds, (int, float)) else f"{'?':>9}"
        lines.append(f"{name:<{width}}  {verdicts + ('; ' + ', '.join(others) if others else ''):<32} "
                     f"{done.seconds:8.1f} {compiled}")
    return "\n".join(lines)

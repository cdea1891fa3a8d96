"""Metrics as JSON lines (always), optionally as TensorBoard events, and
progress on the host loop: a bar on a terminal, plain lines otherwise.

Only process 0 writes. Each line is one record: {"run": name, "step": s,
metric: [value per seed], ...}; non-finite values are written as null.
"""

import json
import math
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.parallel import is_writer


def jsonable(value):
    """Numpy scalars/arrays to plain JSON values; NaN and inf to None."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class MetricsLog:
    """Appends records; safe to share between the threads of one experiment.

    With `tensorboard` (a folder), each record's numbers also go to TensorBoard
    event files there, laid out so that TensorBoard draws one chart per metric
    (tag `<fit>/<metric>`) with a line per member: the members (seeds, sweep
    points) are TensorBoard runs, `member-<k>/`, beside `mean/` (the mean over
    members). Metrics the trainer logs as `eval/...` are on the test split and
    are tagged `test/...`. `hparams(config, metrics)` fills the HParams panel.
    """

    def __init__(self, path: Path | None, *, tensorboard: Path | None = None):
        self.path = path
        self.tensorboard = tensorboard
        self._writers: dict = {}
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        if self.path is None or not is_writer():
            return
        line = json.dumps(jsonable(record)) + "\n"
        with self._lock:
            with open(self.path, "a") as f:
                f.write(line)
            if self.tensorboard is not None:
                self._write_events(record)

    def _writer(self, name: str):
        if name not in self._writers:
            from tensorboardX import SummaryWriter  # the optional extra: checked when --tensorboard is parsed

            self._writers[name] = SummaryWriter(str(self.tensorboard / name))
        return self._writers[name]

    def _write_events(self, record: dict) -> None:
        step, run = record.get("step", 0), record.get("run", "run")
        for key, value in record.items():
            if key in ("run", "step"):
                continue
            try:
                values = np.asarray(value, float).ravel()
            except (TypeError, ValueError):
                continue  # text: not a scalar series
            if values.size == 0 or not np.isfinite(values).any():
                continue
            tag = f"{run}/{tensorboard_name(key)}"
            self._writer("mean").add_scalar(tag, float(np.nanmean(values)), step)
            if values.size > 1:
                for member, v in enumerate(values):
                    self._writer(f"member-{member}").add_scalar(tag, float(v), step)
        for writer in self._writers.values():
            writer.flush()  # a killed run keeps what it logged

    def hparams(self, config: dict, metrics: dict) -> None:
        """The run's config (numbers, flags and words; tuples as text) and `metrics`
        (numbers) in TensorBoard's HParams panel."""
        if self.tensorboard is None or not is_writer():
            return
        shown = {k: v if isinstance(v, (int, float, bool, str)) else str(v) for k, v in config.items()
                 if v is not None}
        finite = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
        with self._lock:
            self._writer("mean").add_hparams(shown, finite, name="hparams")
            self._writers["mean"].flush()

    def close(self) -> None:
        with self._lock:
            for writer in self._writers.values():
                writer.close()
            self._writers = {}

    def drop_after(self, run: str, step: int) -> None:
        """On resume: forget the lines of `run` past the restored `step`."""
        if self.path is None or not self.path.exists() or not is_writer():
            return
        with self._lock:
            kept = [
                line for line in self.path.read_text().splitlines()
                if not (json.loads(line).get("run") == run and json.loads(line).get("step", 0) > step)
            ]
            self.path.write_text("".join(line + "\n" for line in kept))


def tensorboard_name(key: str) -> str:
    """The trainer's `eval/<metric>` is measured on the test split: TensorBoard says `test/<metric>`."""
    return f"test/{key.removeprefix('eval/')}" if key.startswith("eval/") else key


PLAIN_PROGRESS_SECONDS = 5.0


class PlainProgress:
    """Progress for a log file or a batch job (stderr not a terminal): one line
    every `interval` seconds at most, and one at the end. The calls are tqdm's
    that `fit` makes per chunk: a line that falls due at `update` waits for the
    `set_postfix` that follows it, so it shows that chunk's numbers (the loss)."""

    def __init__(self, total: int, description: str, initial: int = 0, *, stream=None,
                 interval: float = PLAIN_PROGRESS_SECONDS):
        self.total, self.description, self.n, self.initial = total, description, initial, initial
        self.stream, self.interval = stream, interval
        self.postfix: dict = {}
        self._started = self._last_line = time.monotonic()
        self._due = False

    def update(self, n: int = 1) -> None:
        if self._due:  # no set_postfix came after the previous update
            self._line(final=False)
        self.n += n
        self._due = time.monotonic() - self._last_line >= self.interval and self.n < self.total

    def set_postfix(self, **values) -> None:
        self.postfix = values
        if self._due:
            self._line(final=False)

    def close(self) -> None:
        if self.n > self.initial:
            self._line(final=True)

    def _line(self, final: bool) -> None:
        self._due = False
        self._last_line = now = time.monotonic()
        seconds = now - self._started
        rate = (self.n - self.initial) / seconds if seconds > 0 else float("nan")
        extra = "".join(f" {k}={v}" for k, v in self.postfix.items())
        if final and self.n < self.total:  # interrupted, or stopped early: not done
            state = f"stopped after {seconds:.1f} s"
        else:
            state = f"done in {seconds:.1f} s" if final else f"{100 * self.n / max(self.total, 1):.0f}%"
        print(f"{self.description}: step {self.n}/{self.total} {state}, {rate:.1f} steps/s{extra}",
              file=self.stream or sys.stderr, flush=True)
        said_something()


class _Bar(tqdm):
    """tqdm that counts as output for the heartbeat, and that says where it stopped
    when closed before its last step (an interruption) instead of vanishing as if done."""

    def update(self, n=1):
        said_something()
        return super().update(n)

    def close(self):
        stopped = not self.disable and self.n < self.total
        super().close()
        if stopped:
            print(f"{self.desc}: stopped at step {self.n}/{self.total}", file=sys.stderr, flush=True)


def progress(total: int, description: str, initial: int = 0):
    """A tqdm bar on a terminal, plain lines otherwise, nothing off process 0."""
    if is_writer() and not sys.stderr.isatty():
        return PlainProgress(total, description, initial)
    return _Bar(total=total, initial=initial, desc=description, unit="step", leave=False, dynamic_ncols=True,
                disable=not is_writer())


HEARTBEAT_SECONDS = 15.0
_last_said = [time.monotonic()]


def said_something() -> None:
    """Progress was shown just now: the heartbeat waits another interval."""
    _last_said[0] = time.monotonic()


class Heartbeat:
    """While an experiment runs, a line every `interval` seconds in which nothing else
    showed progress (compiling, timing rounds, FLOP counts: work without a training bar),
    so no experiment is silent for long. A context manager; only process 0 speaks."""

    def __init__(self, name: str, interval: float = HEARTBEAT_SECONDS, stream=None):
        self.name, self.interval, self.stream = name, interval, stream
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self._started = time.monotonic()
        said_something()
        if is_writer():
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            if time.monotonic() - _last_said[0] >= self.interval:
                elapsed = time.monotonic() - self._started
                print(f"{self.name}: working ({elapsed:.0f} s so far: compiling, timing or measuring)",
                      file=self.stream or sys.stderr, flush=True)
                said_something()


def say_warnings_once(stream=None) -> None:
    """Command-line warnings as `warning: <message>`, each distinct message once: no
    class names or library paths (e.g. TooSmallToTime's "f runs in 500 us, under 1 ms")."""
    said: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip()
        if text not in said:
            said.add(text)
            print(f"warning: {text}", file=stream or sys.stderr, flush=True)
            said_something()

    warnings.showwarning = show

"""Metrics as JSON lines (always) and a progress bar on the host loop.

Only process 0 writes. Each line is one record: {"run": name, "step": s,
metric: [value per seed], ...}; non-finite values are written as null.
"""

import json
import math
import sys
import threading
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
    """Appends records; safe to share between the threads of one experiment."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        if self.path is None or not is_writer():
            return
        line = json.dumps(jsonable(record)) + "\n"
        with self._lock, open(self.path, "a") as f:
            f.write(line)

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


def progress(total: int, description: str, initial: int = 0):
    return tqdm(
        total=total, initial=initial, desc=description, unit="step", leave=False,
        disable=not is_writer() or not sys.stderr.isatty(), dynamic_ncols=True,
    )

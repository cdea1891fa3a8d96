"""Ctrl-C (SIGINT) and SIGTERM during training: finish the chunk, checkpoint, stop.

While `handling()` is active (the trainer's `fit`, `parallel.map_independent`),
the first SIGINT or SIGTERM is only recorded; `fit` checks `pending()` at each
chunk boundary, saves a checkpoint and raises `Interrupted`, which run.py turns
into one line and exit status 128 + signal (130, 143). A second signal while
one is pending interrupts at once (KeyboardInterrupt), for a step that hangs.
Handlers can only be installed from the main thread; fits in worker threads
see the main thread's record.
"""

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_pending: list[int] = []  # the signal received, if any
_depth = 0  # nesting of handling() in the main thread


class Interrupted(Exception):
    """Training stopped by a signal after saving what a resume needs."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signal = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signal


def _record(signum, frame):
    if _pending:
        raise KeyboardInterrupt
    _pending.append(signum)


@contextmanager
def handling():
    """Record SIGINT/SIGTERM instead of dying, for the duration (re-entrant). A signal
    that arrived too late for a chunk boundary (during a fit's last chunk) is delivered
    again, with the previous handlers, when the outermost `handling` ends."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS} if _depth == 0 else None
    if _depth == 0:
        _pending.clear()
        for s in SIGNALS:
            signal.signal(s, _record)
    _depth += 1
    failed = True
    try:
        yield
        failed = False
    finally:
        _depth -= 1
        if previous is not None:
            late = pending()
            _pending.clear()
            for s, handler in previous.items():
                signal.signal(s, handler)
            if late is not None and not failed:
                signal.raise_signal(late)


def pending() -> int | None:
    """The signal received since handling began, or None."""
    return _pending[0] if _pending else None


def name(signum: int) -> str:
    return signal.Signals(signum).name

"""Seconds spent turning Python into XLA programs: JAX's own monitoring events
for tracing to a jaxpr, lowering to MLIR and compiling (or fetching from the
persistent cache), summed over every program since the process started.

A run's compile seconds are the difference of two readings. Threads that
compile at the same time (`common.parallel.map_independent`) each add their
own, so the sum can exceed the wall time it overlapped."""

import threading

import jax

EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)

_lock = threading.Lock()
_total = [0.0]


def _listen(event: str, duration_secs: float, **_) -> None:
    if event in EVENTS:
        with _lock:
            _total[0] += duration_secs


jax.monitoring.register_event_duration_secs_listener(_listen)


def compile_seconds() -> float:
    """Seconds of tracing, lowering and compiling in this process so far."""
    with _lock:
        return _total[0]

"""Timing done right: ahead-of-time lower and compile timed apart, a warm-up
call, `block_until_ready`, the median of repeats; XLA's FLOP count and memory
figures where the backend reports them (NaN where it does not)."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax


@dataclass(frozen=True)
class Timing:
    compile_seconds: float  # lower + compile
    seconds: float  # median of the repeats
    min_seconds: float
    repeats: int
    flops: float  # XLA cost analysis; NaN if unknown
    bytes_accessed: float
    temp_bytes: float  # XLA memory analysis: temporaries of the compiled program
    argument_bytes: float
    output_bytes: float


def _cost(compiled) -> dict:
    try:
        cost = compiled.cost_analysis()
    except Exception:  # some backends do not implement it
        return {}
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    return dict(cost or {})


def _memory(compiled) -> dict:
    try:
        memory = compiled.memory_analysis()
    except Exception:
        return {}
    if memory is None:
        return {}
    names = ("temp_size_in_bytes", "argument_size_in_bytes", "output_size_in_bytes")
    return {name: float(getattr(memory, name, float("nan"))) for name in names}


def compiled_costs(fn: Callable, *args) -> dict:
    """XLA's static figures of jit(fn)(*args), without running it."""
    compiled = jax.jit(fn).lower(*args).compile()
    cost, memory = _cost(compiled), _memory(compiled)
    return {
        "flops": float(cost.get("flops", float("nan"))),
        "bytes_accessed": float(cost.get("bytes accessed", float("nan"))),
        "temp_bytes": memory.get("temp_size_in_bytes", float("nan")),
    }


def time_function(fn: Callable, *args, repeats: int = 10, warmup: int = 1, min_seconds: float = 0.0) -> Timing:
    """Time jit(fn)(*args). `fn` may already be jitted. Repeats continue past
    `repeats` until `min_seconds` of measurements are collected."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_seconds = time.perf_counter() - start
    for _ in range(warmup):
        jax.block_until_ready(compiled(*args))
    samples = []
    while len(samples) < repeats or sum(samples) < min_seconds:
        tick = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        samples.append(time.perf_counter() - tick)
    cost, memory = _cost(compiled), _memory(compiled)
    nan = float("nan")
    return Timing(
        compile_seconds=compile_seconds,
        seconds=statistics.median(samples),
        min_seconds=min(samples),
        repeats=len(samples),
        flops=float(cost.get("flops", nan)),
        bytes_accessed=float(cost.get("bytes accessed", nan)),
        temp_bytes=memory.get("temp_size_in_bytes", nan),
        argument_bytes=memory.get("argument_size_in_bytes", nan),
        output_bytes=memory.get("output_size_in_bytes", nan),
    )


def time_callable(run: Callable[[], object], *, repeats: int = 5, warmup: int = 1) -> float:
    """Median seconds of a host-level callable (for loops that are not one
    jitted function, e.g. a per-step Python loop); blocks on its result."""
    for _ in range(warmup):
        jax.block_until_ready(run())
    samples = []
    for _ in range(repeats):
        tick = time.perf_counter()
        jax.block_until_ready(run())
        samples.append(time.perf_counter() - tick)
    return statistics.median(samples)

"""Timing done right: ahead-of-time lower and compile timed apart, a warm-up
call, `block_until_ready`, the median of repeats; XLA's FLOP count and memory
figures where the backend reports them (NaN where it does not).

Comparisons between programs use `interleaved`: every round times every
program once, in a fresh random order, plus the reference program a second
time (the A/A calibration), so drifts of the machine hit all programs alike
and the A/A ratio measures the noise floor; `common.stats.timing_ratio` turns
the rounds into a ratio with an interval."""

import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import jax
import numpy as np

MIN_TIMED_SECONDS = 1e-3  # below ~1 ms a call is mostly dispatch (a no-op jitted call: ~15 us here)
AA_SUFFIX = "~aa"  # the reference's second copy in every round


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


class TooSmallToTime(UserWarning):
    """A timed program runs under MIN_TIMED_SECONDS: its time is mostly overhead."""


@dataclass(frozen=True)
class Rounds:
    """Seconds of each program in each interleaved round: `seconds[name]` has
    shape (rounds,); `reference` was also timed as `reference + AA_SUFFIX`."""

    seconds: dict[str, np.ndarray]
    reference: str
    too_small: tuple[str, ...]  # programs whose fastest round is under MIN_TIMED_SECONDS

    def ratio(self, numerator: str, denominator: str | None = None):
        """time(numerator) / time(denominator) (default the reference), with the
        A/A-widened interval (`common.stats.timing_ratio`)."""
        from common.stats import timing_ratio

        den = denominator or self.reference
        return timing_ratio(self.seconds[numerator], self.seconds[den], self.aa())

    def aa(self) -> np.ndarray:
        """Per-round ratio of the reference timed against itself."""
        return self.seconds[self.reference + AA_SUFFIX] / self.seconds[self.reference]

    def as_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """For Results.arrays: `<prefix>/<name>` -> seconds per round."""
        return {f"{prefix}/{name}": values for name, values in self.seconds.items()}


def rounds_from_arrays(arrays: dict, prefix: str, reference: str) -> Rounds:
    """The inverse of `Rounds.as_arrays` (claims read timing from saved results)."""
    start = prefix + "/"
    seconds = {k[len(start):]: np.asarray(v, float) for k, v in arrays.items() if k.startswith(start)}
    if reference not in seconds or reference + AA_SUFFIX not in seconds:
        raise KeyError(f"no rounds of {reference!r} under {prefix!r}")
    small = tuple(n for n, v in seconds.items() if np.min(v) < MIN_TIMED_SECONDS)
    return Rounds(seconds, reference, small)


@dataclass(frozen=True)
class Staged:
    """A timed program with an untimed set-up: each time, `run(setup())` is timed
    after `setup()` is ready (e.g. fresh states for a program that donates them)."""

    setup: Callable[[], object]
    run: Callable[[object], object]


def _staged(program) -> Staged:
    return program if isinstance(program, Staged) else Staged(lambda: None, lambda _: program())


def interleaved(programs: dict[str, Callable[[], object] | Staged], reference: str, *, rounds: int = 15,
                warmup: int = 2, seed: int = 0) -> Rounds:
    """Time programs (zero-argument callables, already compiled, or `Staged`; each
    blocks on nothing, this does) in `rounds` interleaved rounds, each in a random
    order, with the reference timed twice a round. Warns once for each program
    whose fastest round is under 1 ms."""
    if reference not in programs:
        raise ValueError(f"reference {reference!r} is not one of the programs {sorted(programs)}")
    if rounds < 2:
        raise ValueError(f"rounds must be at least 2 (got {rounds})")
    entries = {name: _staged(p) for name, p in programs.items()}
    entries[reference + AA_SUFFIX] = entries[reference]
    names = list(entries)

    def timed(name: str) -> float:
        argument = jax.block_until_ready(entries[name].setup())
        tick = time.perf_counter()
        jax.block_until_ready(entries[name].run(argument))
        return time.perf_counter() - tick

    for name in names:
        for _ in range(warmup):
            timed(name)
    rng = np.random.default_rng(seed)
    seconds = {name: np.empty(rounds) for name in names}
    for r in range(rounds):
        for i in rng.permutation(len(names)):
            seconds[names[i]][r] = timed(names[i])
    # Decided on the fastest round: a loaded machine inflates the median of a
    # microsecond program past 1 ms, never its fastest round.
    small = tuple(n for n in programs if np.min(seconds[n]) < MIN_TIMED_SECONDS)
    for name in small:
        warnings.warn(f"{name} runs in {np.min(seconds[name]) * 1e6:.0f} us, under "
                      f"{MIN_TIMED_SECONDS * 1e3:.0f} ms: its time is mostly call overhead (batch or vmap it up)",
                      TooSmallToTime, stacklevel=2)
    return Rounds(seconds, reference, small)

"""The cost table of automatic differentiation: what f, jvp, vjp, grad, jacfwd
and jacrev cost for any JAX function, in time, FLOPs and memory.

    table = cost_table(loss, params, batch)       # derivatives w.r.t. params
    print(format_cost_table(table))

Times come from interleaved rounds with an A/A calibration (`common.bench`):
each row's time ratio to f is the median over rounds of time(row) / time(f),
with the 95% bootstrap interval of that median widened by the A/A interval
(`common.stats.timing_ratio`). A program whose fastest round is under 1 ms is
too small to time, and the table's notes say so. `research.autodiff.profile`
adds remat policies and the HVP.

Theory being measured (Griewank & Walther, "Evaluating Derivatives"): a jvp
or a vjp costs a small constant times f (the cheap gradient principle, grad/f
"often within a factor of 5"); jacfwd costs about n jvps (n = input size) and
jacrev about m vjps (m = output size); reverse mode stores the forward
pass's intermediates, forward mode does not.

XLA's cost analysis counts the body of a loop (`lax.scan`, `fori_loop`) once,
not once per iteration; the loop-aware count (`research.autodiff.flops`,
every scan iteration counted) is shown beside it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from common import bench, stats
from common.bench import Timing, time_function
from research.autodiff.args import Argnums, as_tuple, is_scalar, pick, random_like, restrict, summed
from research.autodiff.flops import OpCount, loop_aware_count
from research.autodiff.memory import (
    DEFAULT_MEMORY_BUDGET,
    PEAK_REPORTED,
    PEAK_SUMMED,
    REVERSE_MODE,
    Peak,
    jacobian_bytes,
    mib,
    peak_of,
    residual_bytes,
)

Measure = Callable[..., Timing]  # measure(fn, *args) -> common.bench.Timing

TRANSFORM_ORDER = ("f", "jvp", "vjp", "grad", "jacfwd", "jacrev")
JACOBIANS = ("jacfwd", "jacrev")


MIN_CLAIM_ROUNDS = 7  # a median's bootstrap interval from fewer rounds covers well under 95% (3 rounds: ~76%)


def claimed_time_ratio(rounds: bench.Rounds, numerator: str, denominator: str | None = None) -> stats.Measurement:
    """time(numerator) / time(denominator) as a claim reads it (`bench.Rounds.ratio`: median of per-round
    ratios, A/A-widened), not measured from fewer than MIN_CLAIM_ROUNDS interleaved rounds."""
    count = len(rounds.seconds[rounds.reference])
    if count < MIN_CLAIM_ROUNDS:
        return stats.Measurement(math.nan, None, f"{count} interleaved rounds: a timing claim needs "
                                                 f"{MIN_CLAIM_ROUNDS} or more")
    return rounds.ratio(numerator, denominator)


def interleaved_noting_small(programs: dict[str, Callable[[], Any]], reference: str, rounds: int, seed: int,
                             where: str) -> tuple[bench.Rounds, list[str]]:
    """`common.bench.interleaved` (A/A on `reference`), and one line per program too small to time
    (`TooSmallToTime`), each starting with `where`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bench.TooSmallToTime)
        timed = bench.interleaved(programs, reference=reference, rounds=rounds, seed=seed)
    return timed, [f"{where}: {w.message}" for w in caught if issubclass(w.category, bench.TooSmallToTime)]


def timing_context() -> str:
    """Where times were taken: backend, device, and on CPU the load average,
    since other processes on a shared machine inflate wall-clock times."""
    device = jax.devices()[0]
    text = f"{jax.default_backend()} ({device.device_kind})"
    if jax.default_backend() == "cpu":
        load = os.getloadavg()[0]
        text += f", {os.cpu_count()} cores, 1-minute load average {load:.1f} when the run ended"
    return text


def fastest_of(repeats: int = 5, min_seconds: float = 0.05) -> Measure:
    """A measure reporting the minimum over repeats as `seconds`: on a shared machine the minimum estimates the
    uncontended cost, where a median carries other processes' load. Timing
    continues past `repeats` until `min_seconds` of samples are collected."""

    def measure(fn: Callable, *args: Any) -> Timing:
        timing = time_function(fn, *args, repeats=repeats, min_seconds=min_seconds)
        return dataclasses.replace(timing, seconds=timing.min_seconds)

    return measure


@dataclasses.dataclass(frozen=True)
class Transform:
    """One derivative of f as a function of explicit array arguments (no captured
    constants, so XLA cannot fold the inputs into the program)."""

    name: str
    fn: Callable
    args: tuple
    note: str = ""


def derivative_transforms(
    f: Callable, *example_args: Any, argnums: Argnums = 0, key: jax.Array | None = None
) -> list[Transform]:
    """f, jvp, vjp and grad of f with respect to `example_args[argnums]`.

    Tangents and cotangents are random normal and passed as arguments. grad
    needs a scalar output: for non-scalar f it is the gradient of the sum of
    all outputs (the vjp with a cotangent of ones), and its note says so.
    """
    positions = as_tuple(argnums)
    key = jax.random.key(0) if key is None else key
    tangent_key, cotangent_key = jax.random.split(key)
    output = jax.eval_shape(f, *example_args)
    tangents = random_like(tangent_key, pick(example_args, positions))
    cotangent = random_like(cotangent_key, output)

    def jvp_fn(tangents, *args):
        return jax.jvp(restrict(f, args, positions), pick(args, positions), tangents)

    def vjp_fn(cotangent, *args):
        out, pullback = jax.vjp(restrict(f, args, positions), *pick(args, positions))
        return out, pullback(cotangent)

    def grad_fn(*args):
        return jax.value_and_grad(summed(restrict(f, args, positions)), argnums=tuple(range(len(positions))))(
            *pick(args, positions)
        )

    return [
        Transform("f", f, example_args),
        Transform("jvp", jvp_fn, (tangents, *example_args)),
        Transform("vjp", vjp_fn, (cotangent, *example_args)),
        Transform("grad", grad_fn, example_args, "" if is_scalar(output) else "grad of sum(f): f is not scalar"),
    ]


def jacobian_transforms(
    f: Callable, *example_args: Any, argnums: Argnums = 0, memory_budget: float | None = None
) -> tuple[list[Transform], list[tuple[str, str]]]:
    """jacfwd and jacrev of f, both skipped (with the reason) when the Jacobian itself
    (output size x input size x itemsize) exceeds `memory_budget` (default
    `DEFAULT_MEMORY_BUDGET`): a Jacobian is formed whole, however many passes it takes."""
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    size = jacobian_bytes(f, *example_args, argnums=argnums)
    if size > budget:
        reason = f"skipped: the Jacobian is {mib(size)} > memory budget {mib(budget)}"
        return [], [(name, reason) for name in JACOBIANS]
    positions = as_tuple(argnums)
    return [Transform(name, jac(f, argnums=positions), example_args)
            for name, jac in (("jacfwd", jax.jacfwd), ("jacrev", jax.jacrev))], []


NAN_TIMING = Timing(compile_seconds=math.nan, seconds=math.nan, min_seconds=math.nan, repeats=0, flops=math.nan,
                    bytes_accessed=math.nan, temp_bytes=math.nan, argument_bytes=math.nan, output_bytes=math.nan)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A program compiled ahead of time, with its static figures (times NaN until timed)."""

    run: Callable[[], Any]  # zero-argument: calls the executable on its example arguments
    figures: Timing  # XLA's FLOPs, bytes accessed and memory
    peak: Peak
    loop: OpCount  # research.autodiff.flops: operations with every scan iteration counted


NOT_COMPILED = Compiled(lambda: None, NAN_TIMING, Peak(math.nan, ""), OpCount())


def compile_program(fn: Callable, *args: Any) -> Compiled:
    """Lower and compile jit(fn)(*args) once; read XLA's FLOPs and memory figures and
    count the jaxpr's operations with loops unrolled."""
    tick = time.perf_counter()
    executable = jax.jit(fn).lower(*args).compile()
    seconds = time.perf_counter() - tick
    cost = executable.cost_analysis()
    cost = (cost[0] if cost else {}) if isinstance(cost, (list, tuple)) else (cost or {})
    memory = executable.memory_analysis()

    def figure(name: str) -> float:
        return float(getattr(memory, name, math.nan)) if memory is not None else math.nan

    figures = dataclasses.replace(NAN_TIMING, compile_seconds=seconds, flops=float(cost.get("flops", math.nan)),
                                  bytes_accessed=float(cost.get("bytes accessed", math.nan)),
                                  temp_bytes=figure("temp_size_in_bytes"),
                                  argument_bytes=figure("argument_size_in_bytes"),
                                  output_bytes=figure("output_size_in_bytes"))
    return Compiled(lambda: executable(*args), figures, peak_of(memory), loop_aware_count(fn, *args))


def compiled_with_flops(fn: Callable, *args: Any) -> tuple[Callable, float]:
    """jit(fn) compiled for the shapes of args, and XLA's FLOP count of it."""
    executable = jax.jit(fn).lower(*args).compile()
    cost = executable.cost_analysis()
    cost = (cost[0] if cost else {}) if isinstance(cost, (list, tuple)) else (cost or {})
    return executable, float(cost.get("flops", math.nan))


def time_interleaved(programs: dict[str, Compiled], reference: str, rounds: int, seed: int = 0) -> tuple[
        dict[str, Timing], bench.Rounds]:
    """Each program's figures with its median and fastest seconds over `rounds`
    interleaved rounds (`common.bench.interleaved`, A/A on `reference`), and the
    rounds themselves. `TooSmallToTime` is not warned: `Rounds.too_small` names
    those programs and the caller's report says so once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bench.TooSmallToTime)
        timed = bench.interleaved({name: c.run for name, c in programs.items()}, reference, rounds=rounds,
                                  seed=seed)
    timings = {name: dataclasses.replace(c.figures, seconds=float(np.median(timed.seconds[name])),
                                         min_seconds=float(np.min(timed.seconds[name])), repeats=rounds)
               for name, c in programs.items()}
    return timings, timed


def too_small_note(timing: Timing) -> str:
    """The row note of a program too small to time, on the statistic that decided it (the fastest round)."""
    return (f"too small to time (fastest round {timing.min_seconds * 1e6:.0f} us < "
            f"{bench.MIN_TIMED_SECONDS * 1e3:g} ms)")


def too_small_line(names: Sequence[str]) -> str:
    """The one sentence of a report on its programs too small to time."""
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return (f"Too small to time: {shown} (fastest round under {bench.MIN_TIMED_SECONDS * 1e3:g} ms): "
            "those times are mostly call overhead, not the program (batch or vmap it up); read FLOPs and memory.")


def over_budget_note(peak: Peak, budget: float) -> str:
    return f"not run: XLA peak {mib(peak.bytes)} > memory budget {mib(budget)}"


def runnable(name: str, compiled: Compiled, budget: float) -> bool:
    """Whether to run a program: a Jacobian (n or m passes batched into one program) only
    when its peak fits the budget; f and single-pass derivatives always."""
    return name not in JACOBIANS or not compiled.peak.bytes > budget


@dataclasses.dataclass(frozen=True)
class CostRow:
    """One row of the cost table: a transform's cost and its ratios to f's.

    `cost`: XLA's FLOPs, bytes accessed and memory; `seconds` the median round,
    `min_seconds` the fastest. `time_ratio` (interleaved timing) is the median
    over rounds of time(transform) / time(f) and `time_interval` the 95%
    bootstrap interval of that median widened by the A/A calibration; f's own
    ratio is 1 by definition (no interval: the table's A/A is f's noise floor).
    `too_small`: the fastest round is under `common.bench.MIN_TIMED_SECONDS`."""

    name: str
    cost: Timing
    loop_flops: float  # research.autodiff.flops: every scan iteration counted
    residual_bytes: float  # what the forward pass keeps for the backward pass (0 in forward mode)
    peak: Peak
    time_ratio: float
    flop_ratio: float  # XLA FLOPs / f's
    memory_ratio: float  # peak / f's peak
    note: str = ""
    time_interval: tuple[float, float] | None = None
    too_small: bool = False


@dataclasses.dataclass(frozen=True)
class CostTable:
    rows: list[CostRow]
    aa: stats.Measurement | None  # f timed against itself: the noise floor of every time ratio
    notes: list[str]  # said once under the table (programs too small to time, where the peak comes from)
    memory_budget: float

    def row(self, name: str) -> CostRow:
        return next(r for r in self.rows if r.name == name)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def loop_note(loop: OpCount) -> str:
    return f"loop FLOPs count {loop.unbounded_loops} while-loop bodies once" if loop.unbounded_loops else ""


def peak_line(peaks: Sequence[Peak]) -> str:
    """Where the peak column comes from, and for how many programs each source won."""
    known = [p for p in peaks if p.source]
    summed = sum(p.source == PEAK_SUMMED for p in known)
    return (f"Peak memory: the larger of {PEAK_REPORTED} and {PEAK_SUMMED} (the bytes one call allocates); "
            f"the latter for {summed} of {len(known)} programs.")


def cost_table(
    f: Callable,
    *example_args: Any,
    argnums: Argnums = 0,
    memory_budget: float | None = None,
    measure: Measure | None = None,
    include: Sequence[str] = TRANSFORM_ORDER,
    rounds: int = 15,
    seed: int = 0,
) -> CostTable:
    """Time, FLOPs and memory of f, jvp, vjp, grad, jacfwd and jacrev of
    `f(*example_args)` with respect to `example_args[argnums]`, with ratios to f.

    Every program is compiled once (XLA's FLOPs, bytes accessed, temporaries and
    peak; the loop-aware FLOP count) and timed in `rounds` interleaved rounds
    (random order each round, f timed twice a round as the A/A calibration).
    Given `measure(fn, *args) -> Timing`, each program is timed by it instead
    (its `seconds` and `min_seconds`), with no interval. jacfwd and jacrev are
    skipped when the Jacobian exceeds `memory_budget` (bytes; default
    `DEFAULT_MEMORY_BUDGET`), and compiled but not run when their XLA peak does.
    Skipped rows carry NaN costs and the reason in `note`. `include` picks
    transforms (f is always measured: the ratios need it).
    """
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    transforms = derivative_transforms(f, *example_args, argnums=argnums)
    jacobians, skipped = jacobian_transforms(f, *example_args, argnums=argnums, memory_budget=budget)
    wanted = {"f", *include}
    chosen = [t for t in transforms + jacobians if t.name in wanted]
    notes = {t.name: t.note for t in chosen}
    compiled = {t.name: compile_program(t.fn, *t.args) for t in chosen}
    for name, c in compiled.items():
        if not runnable(name, c, budget):
            notes[name] = over_budget_note(c.peak, budget)
    run = {name: c for name, c in compiled.items() if runnable(name, c, budget)}
    residuals = residual_bytes(f, *example_args, argnums=argnums)
    ratios, small, aa = {}, (), None
    if measure is None:
        costs, timed = time_interleaved(run, "f", rounds, seed)
        ratios = {name: timed.ratio(name, "f") for name in costs if name != "f"}
        small, aa = timed.too_small, stats.bootstrap_median(timed.aa())
    else:
        chosen_by_name = {t.name: t for t in chosen}
        costs = {}
        for name, c in run.items():
            measured = measure(chosen_by_name[name].fn, *chosen_by_name[name].args)
            costs[name] = dataclasses.replace(c.figures, seconds=measured.seconds, min_seconds=measured.min_seconds,
                                              repeats=measured.repeats)
    for name, c in compiled.items():
        costs.setdefault(name, c.figures)
    for name, note in skipped:
        if name in wanted:
            costs[name], notes[name], compiled[name] = NAN_TIMING, note, NOT_COMPILED
    base, base_peak = costs["f"], compiled["f"].peak.bytes
    rows = []
    for name in sorted(costs, key=TRANSFORM_ORDER.index):
        cost, c = costs[name], compiled[name]
        note = "; ".join(filter(None, (notes[name], loop_note(c.loop), too_small_note(cost) if name in small
                                       else "")))
        ratio = ratios.get(name)
        if name == "f":
            time_ratio = 1.0
        else:
            time_ratio = ratio.value if ratio is not None else _ratio(cost.seconds, base.seconds)
        rows.append(CostRow(name, cost, float(c.loop.flops) if c is not NOT_COMPILED else math.nan,
                            residuals if name in REVERSE_MODE else 0.0, c.peak, time_ratio,
                            _ratio(cost.flops, base.flops), _ratio(c.peak.bytes, base_peak), note,
                            None if ratio is None else ratio.interval, name in small))
    notes_under = ([too_small_line(small)] if small else []) + [peak_line([r.peak for r in rows])]
    return CostTable(rows, aa, notes_under, budget)


def _interval(interval: tuple[float, float] | None) -> str:
    return f"[{interval[0]:.3g}, {interval[1]:.3g}]" if interval else ""


def format_cost_table(table: CostTable) -> str:
    """The cost table as Markdown, the A/A noise floor and the notes under it."""
    lines = [
        ("| transform | time (ms) | time / f | 95% interval | GFLOP (XLA) | GFLOP (loops counted) | FLOPs / f "
         "| GB accessed | residuals MiB | temp MiB | peak MiB | peak / f | note |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.rows:
        c = r.cost
        lines.append(
            f"| {r.name} | {c.seconds * 1e3:.3g} | {r.time_ratio:.3g} | {_interval(r.time_interval)} "
            f"| {c.flops / 1e9:.3g} | {r.loop_flops / 1e9:.3g} | {r.flop_ratio:.3g} | {c.bytes_accessed / 1e9:.3g} "
            f"| {r.residual_bytes / 2**20:.3g} | {c.temp_bytes / 2**20:.3g} | {r.peak.bytes / 2**20:.3g} "
            f"| {r.memory_ratio:.3g} | {r.note} |"
        )
    if table.aa is not None:
        lines += ["", f"A/A (f against itself): {table.aa:.3g}; time ratios inside that band are noise."]
    if table.notes:
        lines += ["", *table.notes]
    return "\n".join(lines)

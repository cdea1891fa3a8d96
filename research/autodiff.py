"""The cost table of automatic differentiation: what f, jvp, vjp, grad, jacfwd
and jacrev cost for any JAX function, in time, XLA FLOPs and XLA memory.

    rows = cost_table(loss, params, batch)       # derivatives w.r.t. params
    print(format_cost_table(rows))

Times come from interleaved rounds with an A/A calibration (`common.bench`):
each row's time ratio to f carries a 95% interval, and a program under 1 ms
is flagged as too small to time. `research.autodiff_profile` adds remat
policies, residual bytes and the HVP.

Theory being measured (Griewank & Walther, "Evaluating Derivatives"): a jvp
or a vjp costs a small constant times f (the cheap gradient principle, grad/f
"often within a factor of 5"); jacfwd costs about n jvps (n = input size) and
jacrev about m vjps (m = output size); reverse mode stores the forward
pass's intermediates, forward mode does not.

XLA's cost analysis counts the body of a loop (`lax.scan`, `fori_loop`) once,
not once per iteration: FLOPs of a scanned function are per-iteration figures,
and their ratios stay meaningful only when f and its derivatives loop alike.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from common import bench, stats
from common.bench import Timing, time_function

Measure = Callable[..., Timing]  # measure(fn, *args) -> common.bench.Timing

TRANSFORM_ORDER = ("f", "jvp", "vjp", "grad", "jacfwd", "jacrev")


def total_bytes(timing: Timing) -> float:
    """Arguments + outputs + temporaries: the memory one call holds at most."""
    return timing.argument_bytes + timing.output_bytes + timing.temp_bytes


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


def _as_tuple(argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _random_like(key: jax.Array, tree: Any) -> Any:
    """Random normal pytree shaped like `tree`. Random, not ones: XLA folds x * 1."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    return treedef.unflatten(
        [jax.random.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    )


def _tree_size(tree: Any) -> int:
    return sum(int(np.size(x)) for x in jax.tree.leaves(tree))


@dataclasses.dataclass(frozen=True)
class Transform:
    """One derivative of f as a function of explicit array arguments (no captured
    constants, so XLA cannot fold the inputs into the program)."""

    name: str
    fn: Callable
    args: tuple
    note: str = ""


def derivative_transforms(
    f: Callable, *example_args: Any, argnums: int | Sequence[int] = 0, key: jax.Array | None = None
) -> list[Transform]:
    """f, jvp, vjp and grad of f with respect to `example_args[argnums]`.

    Tangents and cotangents are random normal and passed as arguments. grad
    needs a scalar output: for non-scalar f it is the gradient of the sum of
    all outputs (the vjp with a cotangent of ones), and its note says so.
    """
    argnums = _as_tuple(argnums)
    key = jax.random.key(0) if key is None else key
    tangent_key, cotangent_key = jax.random.split(key)

    def restricted(args: tuple) -> Callable:
        """f as a function of the differentiated arguments only."""

        def g(*diff):
            full = list(args)
            for i, value in zip(argnums, diff):
                full[i] = value
            return f(*full)

        return g

    def diff_of(args: tuple) -> tuple:
        return tuple(args[i] for i in argnums)

    output = jax.eval_shape(f, *example_args)
    tangents = _random_like(tangent_key, diff_of(example_args))
    cotangent = _random_like(cotangent_key, output)
    scalar = all(np.shape(x) == () for x in jax.tree.leaves(output)) and len(
        jax.tree.leaves(output)
    ) == 1

    def jvp_fn(tangents, *args):
        return jax.jvp(restricted(args), diff_of(args), tangents)

    def vjp_fn(cotangent, *args):
        out, pullback = jax.vjp(restricted(args), *diff_of(args))
        return out, pullback(cotangent)

    def summed(args):
        g = restricted(args)
        return lambda *diff: sum(jnp.sum(y) for y in jax.tree.leaves(g(*diff)))

    def grad_fn(*args):
        return jax.value_and_grad(summed(args), argnums=tuple(range(len(argnums))))(
            *diff_of(args)
        )

    return [
        Transform("f", f, example_args),
        Transform("jvp", jvp_fn, (tangents, *example_args)),
        Transform("vjp", vjp_fn, (cotangent, *example_args)),
        Transform(
            "grad",
            grad_fn,
            example_args,
            "" if scalar else "grad of sum(f): f is not scalar",
        ),
    ]


def jacobian_transforms(
    f: Callable,
    *example_args: Any,
    argnums: int | Sequence[int] = 0,
    max_jacobian_passes: int = 4096,
) -> tuple[list[Transform], list[tuple[str, str]]]:
    """jacfwd and jacrev of f, each skipped (with its reason) when it needs more
    than `max_jacobian_passes` passes: jacfwd one per input entry, jacrev one per
    output entry."""
    argnums = _as_tuple(argnums)
    n_in = _tree_size(tuple(example_args[i] for i in argnums))
    m_out = _tree_size(jax.eval_shape(f, *example_args))
    kept, skipped = [], []
    for name, jac, passes, what in (
        ("jacfwd", jax.jacfwd, n_in, "inputs"),
        ("jacrev", jax.jacrev, m_out, "outputs"),
    ):
        if passes > max_jacobian_passes:
            skipped.append((name, f"skipped: {passes} {what} > max_jacobian_passes"))
        else:
            kept.append(Transform(name, jac(f, argnums=argnums), example_args))
    return kept, skipped


@dataclasses.dataclass(frozen=True)
class CostRow:
    """One row of the cost table: a transform's cost and its ratios to f's.

    With the default interleaved timing, `time_ratio` is the median over rounds of
    time(transform) / time(f) and `time_interval` its 95% interval widened by the
    A/A calibration (f timed against itself); `too_small` marks a program under
    `common.bench.MIN_TIMED_SECONDS`, whose time is mostly call overhead."""

    name: str
    cost: Timing
    time_ratio: float
    flop_ratio: float
    memory_ratio: float  # total_bytes / f's total_bytes
    note: str = ""
    time_interval: tuple[float, float] | None = None
    too_small: bool = False


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


NAN_TIMING = Timing(compile_seconds=math.nan, seconds=math.nan, min_seconds=math.nan, repeats=0, flops=math.nan,
                    bytes_accessed=math.nan, temp_bytes=math.nan, argument_bytes=math.nan, output_bytes=math.nan)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A program compiled ahead of time, with XLA's static figures (times NaN until timed)."""

    run: Callable[[], Any]  # zero-argument: calls the executable on its example arguments
    figures: Timing


def compile_program(fn: Callable, *args: Any) -> Compiled:
    """Lower and compile jit(fn)(*args) once; read XLA's FLOPs and memory figures."""
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
    return Compiled(lambda: executable(*args), figures)


def time_interleaved(programs: dict[str, Compiled], reference: str, rounds: int, seed: int = 0) -> tuple[
        dict[str, Timing], bench.Rounds]:
    """Each program's figures with its median seconds over `rounds` interleaved
    rounds (`common.bench.interleaved`, A/A on `reference`; warns for programs
    under 1 ms), and the rounds themselves."""
    timed = bench.interleaved({name: c.run for name, c in programs.items()}, reference, rounds=rounds, seed=seed)
    timings = {name: dataclasses.replace(c.figures, seconds=float(np.median(timed.seconds[name])),
                                         min_seconds=float(np.min(timed.seconds[name])), repeats=rounds)
               for name, c in programs.items()}
    return timings, timed


def cost_table(
    f: Callable,
    *example_args: Any,
    argnums: int | Sequence[int] = 0,
    repeats: int = 5,
    max_jacobian_passes: int = 4096,
    measure: Measure | None = None,
    include: Sequence[str] = TRANSFORM_ORDER,
    rounds: int = 15,
    seed: int = 0,
) -> list[CostRow]:
    """Time, FLOPs and memory of f, jvp, vjp, grad, jacfwd and jacrev of
    `f(*example_args)` with respect to `example_args[argnums]`, with ratios to f.

    By default every program is compiled once and timed in `rounds` interleaved
    rounds (random order each round, f timed twice a round as the A/A
    calibration): `time_ratio` is the median per-round ratio to f and
    `time_interval` its A/A-widened 95% interval; a program under 1 ms warns
    (`common.bench.TooSmallToTime`) and its row says so. Given
    `measure(fn, *args) -> Timing`, each program is measured by it instead, with
    `repeats` unused and no interval. Skipped rows (a Jacobian too large to
    form) carry NaN costs and the reason in `note`. `include` picks transforms
    (f is always measured: the ratios need it).
    """
    transforms = derivative_transforms(f, *example_args, argnums=argnums)
    jacobians, skipped = jacobian_transforms(
        f, *example_args, argnums=argnums, max_jacobian_passes=max_jacobian_passes
    )
    wanted = {"f", *include}
    chosen = [t for t in transforms + jacobians if t.name in wanted]
    notes = {t.name: t.note for t in chosen}
    intervals, small = {}, set()
    if measure is not None:
        costs = {t.name: measure(t.fn, *t.args) for t in chosen}
    else:
        costs, timed = time_interleaved({t.name: compile_program(t.fn, *t.args) for t in chosen}, "f", rounds, seed)
        small = set(timed.too_small)
        for name in costs:
            if name != "f":
                intervals[name] = timed.ratio(name, "f").interval
        intervals["f"] = stats.bootstrap_median(timed.aa()).interval  # f against itself: the noise floor
    for name, note in skipped:
        if name in wanted:
            costs[name], notes[name] = NAN_TIMING, note
    base = costs["f"]
    rows = []
    for name in sorted(costs, key=TRANSFORM_ORDER.index):
        cost = costs[name]
        note = notes[name]
        if name in small:
            note = "; ".join(filter(None, (note, f"too small to time ({cost.seconds * 1e6:.0f} us < 1 ms)")))
        rows.append(CostRow(name, cost, _ratio(cost.seconds, base.seconds), _ratio(cost.flops, base.flops),
                            _ratio(total_bytes(cost), total_bytes(base)), note, intervals.get(name),
                            name in small))
    return rows


def format_cost_table(rows: Sequence[CostRow]) -> str:
    """The cost table as a Markdown table; a line under it names programs too small to time."""
    lines = [
        "| transform | time (ms) | time / f | 95% interval | GFLOP | FLOPs / f | temp (MiB) | memory / f | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.cost
        interval = f"[{r.time_interval[0]:.3g}, {r.time_interval[1]:.3g}]" if r.time_interval else ""
        lines.append(
            f"| {r.name} | {c.seconds * 1e3:.3g} | {r.time_ratio:.3g} | {interval} | {c.flops / 1e9:.3g} "
            f"| {r.flop_ratio:.3g} | {c.temp_bytes / 2**20:.3g} | {r.memory_ratio:.3g} "
            f"| {r.note} |"
        )
    small = [r.name for r in rows if r.too_small]
    if small:
        lines.append("")
        lines.append(f"Warning: {', '.join(small)} ran under {bench.MIN_TIMED_SECONDS * 1e3:g} ms: those times are mostly call overhead, not the "
                     "program (batch or vmap it up); read FLOPs and memory instead.")
    if rows and rows[0].time_interval:
        lo, hi = rows[0].time_interval
        lines.append("")
        lines.append(f"A/A (f against itself): [{lo:.3g}, {hi:.3g}]; time ratios inside that band are noise.")
    return "\n".join(lines)

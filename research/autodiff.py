"""The cost table of automatic differentiation: what f, jvp, vjp, grad, jacfwd
and jacrev cost for any JAX function, in time, XLA FLOPs and XLA memory.

    rows = cost_table(loss, params, batch)       # derivatives w.r.t. params
    print(format_cost_table(rows))

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
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

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
    """One row of the cost table: a transform's cost and its ratios to f's."""

    name: str
    cost: Timing
    time_ratio: float
    flop_ratio: float
    memory_ratio: float  # total_bytes / f's total_bytes
    note: str = ""


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def cost_table(
    f: Callable,
    *example_args: Any,
    argnums: int | Sequence[int] = 0,
    repeats: int = 5,
    max_jacobian_passes: int = 4096,
    measure: Measure | None = None,
    include: Sequence[str] = TRANSFORM_ORDER,
) -> list[CostRow]:
    """Time, FLOPs and memory of f, jvp, vjp, grad, jacfwd and jacrev of
    `f(*example_args)` with respect to `example_args[argnums]`, with ratios to f.

    `measure(fn, *args) -> Timing` does the timing; by default
    `common.bench.time_function` with `repeats` timed calls. Skipped rows (a
    Jacobian too large to form) carry NaN costs and the reason in `note`.
    `include` picks transforms (f is always measured: the ratios need it).
    """
    measure = measure or (lambda fn, *args: time_function(fn, *args, repeats=repeats))
    transforms = derivative_transforms(f, *example_args, argnums=argnums)
    jacobians, skipped = jacobian_transforms(
        f, *example_args, argnums=argnums, max_jacobian_passes=max_jacobian_passes
    )
    wanted = {"f", *include}
    costs = [(t.name, measure(t.fn, *t.args), t.note) for t in transforms + jacobians if t.name in wanted]
    nan = Timing(
        compile_seconds=math.nan, seconds=math.nan, min_seconds=math.nan, repeats=0,
        flops=math.nan, bytes_accessed=math.nan, temp_bytes=math.nan,
        argument_bytes=math.nan, output_bytes=math.nan,
    )
    costs += [(name, nan, note) for name, note in skipped if name in wanted]
    costs.sort(key=lambda row: TRANSFORM_ORDER.index(row[0]))
    base = costs[0][1]
    return [
        CostRow(
            name,
            cost,
            _ratio(cost.seconds, base.seconds),
            _ratio(cost.flops, base.flops),
            _ratio(total_bytes(cost), total_bytes(base)),
            note,
        )
        for name, cost, note in costs
    ]


def format_cost_table(rows: Sequence[CostRow]) -> str:
    """The cost table as a Markdown table."""
    lines = [
        "| transform | time (ms) | time / f | GFLOP | FLOPs / f | temp (MiB) | memory / f | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.cost
        lines.append(
            f"| {r.name} | {c.seconds * 1e3:.3g} | {r.time_ratio:.3g} | {c.flops / 1e9:.3g} "
            f"| {r.flop_ratio:.3g} | {c.temp_bytes / 2**20:.3g} | {r.memory_ratio:.3g} "
            f"| {r.note} |"
        )
    return "\n".join(lines)

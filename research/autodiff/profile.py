"""A profiler for the user's own function: what each derivative of
`f(*args)` with respect to `args[argnums]` costs under each remat policy, and
which to use.

    report = profile(loss, params, x, y, memory_budget=64 * 2**20)
    print(format_profile(report))            # research.autodiff.profile_format

For f itself and, under each distinct policy (no `jax.checkpoint`, and
`jax.checkpoint(f, policy=...)` with `nothing_saveable`, `dots_saveable`,
`checkpoint_dots`), its jvp, vjp, grad, jacfwd and jacrev (where the
Jacobian fits the budget) and, for a scalar f, its Hessian-vector product:
XLA's FLOPs and bytes accessed, the loop-aware FLOP count
(`research.autodiff.flops`), the residuals, temporaries and peak
(`research.autodiff.memory`), and the time in interleaved rounds with an A/A
calibration (`common.bench.interleaved`). Two lines of advice: jacfwd or
jacrev for these shapes (by FLOPs), and which policy to use within the
memory budget (`policy_advice` states the rule).

The policy wraps the whole of f. That lowers the residuals a vjp keeps, but
the backward pass recomputes the whole forward and holds its intermediates at
once, so grad's peak need not fall (jax#19822: "jax.checkpoint does not reduce
memory footprint"); the advice says so when it happens: checkpoint per layer
inside f instead (see `ad-cost`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax

from common import stats
from research.autodiff import costs as AD
from research.autodiff.args import (
    Argnums,
    as_tuple,
    is_scalar,
    pick,
    random_like,
    restrict,
    tree_size,
)
from research.autodiff.memory import DEFAULT_MEMORY_BUDGET, REVERSE_MODE, mib, residual_bytes

POLICIES: dict[str, Callable | None] = {
    "none": None,  # no jax.checkpoint: every residual saved
    "nothing_saveable": jax.checkpoint_policies.nothing_saveable,
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
    "checkpoint_dots": jax.checkpoint_policies.checkpoint_dots,
}
TRANSFORMS = ("f", "jvp", "vjp", "grad", "jacfwd", "jacrev", "hvp")  # f under "none" only: remat changes no forward
REFERENCE = "none/f"
NOT_SCALAR = "skipped: f is not scalar (a Hessian is of a scalar function)"


@dataclasses.dataclass(frozen=True)
class ProfileRow:
    """One derivative under one policy. Times: `seconds` the median round,
    `fastest_seconds` the fastest; `time_over_f` and `time_vs_none` (over the same
    derivative without remat) are medians over rounds of the per-round ratio, with
    the 95% bootstrap interval of that median widened by the A/A calibration.
    None where not timed (and `time_vs_none` in policy none, the reference)."""

    policy: str
    transform: str
    flops: float  # XLA cost analysis: a loop body counted once
    loop_flops: float  # research.autodiff.flops: every scan iteration counted
    bytes_accessed: float  # XLA cost analysis
    residual_bytes: float  # of this policy's vjp, on reverse-mode rows; 0 in forward mode
    temp_bytes: float
    peak_bytes: float
    peak_source: str
    seconds: float
    fastest_seconds: float
    time_over_f: stats.Measurement | None
    time_vs_none: stats.Measurement | None
    too_small: bool
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Profile:
    inputs: int  # entries of the differentiated arguments
    outputs: int  # entries of f's output
    rows: list[ProfileRow]
    aa: stats.Measurement  # f timed against itself: the noise floor of every time ratio
    memory_budget: float  # bytes
    aliases: dict[str, str]  # policy name -> the name of the same policy object its rows are under
    notes: list[str]  # said once under the table
    advice: list[str]

    def row(self, policy: str, transform: str) -> ProfileRow:
        return next(r for r in self.rows if r.policy == policy and r.transform == transform)

    @property
    def f(self) -> ProfileRow:
        return self.row("none", "f")


def distinct_policies(policies: dict[str, Callable | None]) -> tuple[dict[str, Callable | None], dict[str, str]]:
    """Each policy object once, under its first name, and the other names -> that name
    (in current JAX `checkpoint_dots` is `dots_saveable`)."""
    distinct, aliases, seen = {}, {}, {}
    for name, policy in policies.items():
        if id(policy) in seen:
            aliases[name] = seen[id(policy)]
        else:
            seen[id(policy)] = name
            distinct[name] = policy
    return distinct, aliases


def hvp_transform(f: Callable, example_args: tuple, argnums: Argnums, key: jax.Array) -> AD.Transform:
    """Forward-over-reverse H v of a scalar f in `example_args[argnums]` (the Cookbook's
    choice; `ad-hvp` shows it keeps the fewest temporaries): jvp of grad along v."""
    positions = as_tuple(argnums)
    v = random_like(key, pick(example_args, positions))

    def hvp(v, *args):
        gradient = jax.grad(restrict(f, args, positions), argnums=tuple(range(len(positions))))
        return jax.jvp(gradient, pick(args, positions), v)[1]

    return AD.Transform("hvp", hvp, (v, *example_args))


def _derivatives(g: Callable, example_args: tuple, argnums: Argnums, budget: float, scalar: bool,
                 key: jax.Array) -> tuple[list[AD.Transform], dict[str, str]]:
    """The derivatives of g but f, and transform -> reason for those skipped."""
    derivatives = AD.derivative_transforms(g, *example_args, argnums=argnums, key=key)
    jacobians, skipped = AD.jacobian_transforms(g, *example_args, argnums=argnums, memory_budget=budget)
    chosen = [t for t in derivatives + jacobians if t.name != "f"]
    if scalar:
        chosen.append(hvp_transform(g, example_args, argnums, jax.random.fold_in(key, 7)))
    else:
        skipped.append(("hvp", NOT_SCALAR))
    return chosen, dict(skipped)


def _measured_row(policy: str, transform: str, c: AD.Compiled, timings: dict, timed, residual: float,
                  budget: float) -> ProfileRow:
    """The row of a compiled program: timed, or not run (a Jacobian over the budget)."""
    program, reference = f"{policy}/{transform}", f"none/{transform}"
    ran = program in timings
    t = timings.get(program, c.figures)
    if program == REFERENCE:
        over_f = stats.Measurement(1.0, None, "by definition")
    else:
        over_f = timed.ratio(program, REFERENCE) if ran else None
    versus = timed.ratio(program, reference) if policy != "none" and ran and reference in timings else None
    small = program in timed.too_small
    note = "; ".join(filter(None, (
        "" if ran else AD.over_budget_note(c.peak, budget),
        AD.loop_note(c.loop),
        AD.too_small_note(t) if small else "")))
    return ProfileRow(policy, transform, flops=t.flops, loop_flops=float(c.loop.flops),
                      bytes_accessed=t.bytes_accessed, residual_bytes=residual, temp_bytes=t.temp_bytes,
                      peak_bytes=c.peak.bytes, peak_source=c.peak.source, seconds=t.seconds,
                      fastest_seconds=t.min_seconds, time_over_f=over_f, time_vs_none=versus, too_small=small,
                      note=note)


def profile(f: Callable, *example_args: Any, argnums: Argnums = 0,
            policies: dict[str, Callable | None] = POLICIES, memory_budget: float | None = None, rounds: int = 7,
            seed: int = 0) -> Profile:
    """Profile the derivatives of `f(*example_args)` in `example_args[argnums]` under
    each distinct policy (aliases measured and shown once).

    `memory_budget` (bytes; default `DEFAULT_MEMORY_BUDGET`): grad's XLA peak
    must fit it for a policy to be advised, a Jacobian must fit it to be formed,
    and a Jacobian program's peak must fit it to be run."""
    if "none" not in policies or policies["none"] is not None:
        raise ValueError("policies must include 'none': None (the reference without remat)")
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    key = jax.random.key(seed)
    distinct, aliases = distinct_policies(policies)
    output = jax.eval_shape(f, *example_args)
    compiled = {REFERENCE: AD.compile_program(f, *example_args)}
    skipped, residuals = {}, {}
    for name, policy in distinct.items():
        g = f if policy is None else jax.checkpoint(f, policy=policy)
        residuals[name] = residual_bytes(g, *example_args, argnums=argnums)
        chosen, reasons = _derivatives(g, example_args, argnums, budget, is_scalar(output), key)
        skipped |= {f"{name}/{transform}": reason for transform, reason in reasons.items()}
        compiled |= {f"{name}/{t.name}": AD.compile_program(t.fn, *t.args) for t in chosen}
    run = {program: c for program, c in compiled.items()
           if AD.runnable(program.split("/")[1], c, budget)}
    timings, timed = AD.time_interleaved(run, REFERENCE, rounds, seed)
    rows = []
    for name in distinct:
        for transform in TRANSFORMS if name == "none" else TRANSFORMS[1:]:
            program = f"{name}/{transform}"
            residual = residuals[name] if transform in REVERSE_MODE else 0.0
            if program in skipped:
                rows.append(ProfileRow(name, transform, flops=math.nan, loop_flops=math.nan,
                                       bytes_accessed=math.nan, residual_bytes=residual, temp_bytes=math.nan,
                                       peak_bytes=math.nan, peak_source="", seconds=math.nan,
                                       fastest_seconds=math.nan, time_over_f=None, time_vs_none=None,
                                       too_small=False, note=skipped[program]))
            else:
                rows.append(_measured_row(name, transform, compiled[program], timings, timed, residual, budget))
    notes = [f"{alias} is the same policy object as {name} in this jax: measured and shown once, as {name}."
             for alias, name in aliases.items()]
    small = [f"{r.policy}/{r.transform}" for r in rows if r.too_small]
    notes += [AD.too_small_line(small)] if small else []
    notes += [AD.peak_line([c.peak for c in compiled.values()]), f"Timed on {AD.timing_context()}."]
    partial = Profile(tree_size(pick(example_args, argnums)), tree_size(output), rows,
                      stats.bootstrap_median(timed.aa()), budget, aliases, notes, [])
    return dataclasses.replace(partial, advice=[jacobian_advice(partial), policy_advice(partial, budget)])


def jacobian_advice(p: Profile) -> str:
    """jacfwd or jacrev for these shapes: by loop-aware FLOPs where both were compiled, else by n against m."""
    fwd, rev = p.row("none", "jacfwd"), p.row("none", "jacrev")
    shapes = f"n = {p.inputs} inputs, m = {p.outputs} outputs"
    if math.isfinite(fwd.loop_flops) and math.isfinite(rev.loop_flops):
        best, other = (fwd, rev) if fwd.loop_flops <= rev.loop_flops else (rev, fwd)
        return (f"Jacobian: use {best.transform} ({shapes}): {best.loop_flops / 1e6:.3g} MFLOP against "
                f"{other.transform}'s {other.loop_flops / 1e6:.3g}.")
    best = "jacrev" if p.outputs <= p.inputs else "jacfwd"
    return (f"Jacobian: not formed here ({fwd.note.removeprefix('skipped: ')}); were it, {best} ({shapes}; one pass "
            f"per {'output' if best == 'jacrev' else 'input'}).")


def policy_advice(p: Profile, memory_budget: float) -> str:
    """The remat policy for grad within `memory_budget` (bytes), by a rule that noise
    cannot flip: among policies whose grad peak fits the budget, the fastest of those
    whose time ratio to no remat has its whole 95% interval below 1; if none has, the
    smallest grad peak, ties to fewer (loop-aware) FLOPs. The text says which rule chose."""
    grads = [r for r in p.rows if r.transform == "grad"]
    none = p.row("none", "grad")

    def describe(r: ProfileRow) -> str:
        time = "the reference" if r.time_vs_none is None else (
            f"time / no remat {r.time_vs_none:.2f}")
        return (f"{r.policy} (grad peak {mib(r.peak_bytes)}, residuals {mib(r.residual_bytes)}, "
                f"{r.loop_flops / 1e6:.4g} MFLOP, {time})")

    def leanness(r: ProfileRow) -> tuple[float, float]:
        return r.peak_bytes, r.loop_flops

    leanest, fewest_residuals = min(grads, key=leanness), min(grads, key=lambda r: r.residual_bytes)
    caveat = ""
    if fewest_residuals.residual_bytes < none.residual_bytes and leanest.peak_bytes >= 0.95 * none.peak_bytes:
        caveat = (" Remat of the whole f lowers the residuals but not grad's peak here (the recomputed forward "
                  "is live at once): checkpoint per layer inside f.")
    fitting = [r for r in grads if r.peak_bytes <= memory_budget]
    if not fitting:
        return (f"Remat: no policy's grad peak fits the {mib(memory_budget)} budget; the leanest is "
                f"{describe(leanest)}.{caveat}")
    faster = [r for r in fitting if r.time_vs_none is not None and r.time_vs_none.interval is not None
              and r.time_vs_none.interval[1] < 1]
    if faster:
        best = min(faster, key=lambda r: r.time_vs_none.value)
        return (f"Remat: within {mib(memory_budget)}, use {describe(best)}: chosen for speed, its whole time-ratio "
                f"interval lies below 1.{caveat}")
    best = min(fitting, key=leanness)
    return (f"Remat: within {mib(memory_budget)}, use {describe(best)}: chosen by memory (the smallest grad peak "
            f"that fits, ties to fewer FLOPs), since no policy's time-ratio interval against no remat lies "
            f"entirely below 1.{caveat}")

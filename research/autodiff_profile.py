"""A profiler for the user's own function: what each derivative of
`f(params, *args)` costs under each remat policy, and which to use.

    report = profile(loss, params, x, y, memory_budget=64 * 2**20)
    print(format_profile(report))

For f itself and, under each policy (no `jax.checkpoint`, and
`jax.checkpoint(f, policy=...)` with `nothing_saveable`, `dots_saveable`,
`checkpoint_dots`), its jvp, vjp, grad, jacfwd, jacrev and Hessian-vector
product with respect to `params`: XLA's FLOP count, XLA's temporaries of the
compiled program, the bytes of residuals the policy's vjp keeps (the leaves
of the VJP object `jax.vjp` returns: a pytree of the saved values, inputs
included), and the time in interleaved rounds with an A/A calibration
(`common.bench.interleaved`). Two lines of advice: jacfwd or jacrev for these
shapes (by FLOPs), and which policy fits a memory budget for grad's
temporaries at what extra time.

The policy wraps the whole of f. That lowers the residuals a vjp keeps, but
the backward pass recomputes the whole forward and holds its intermediates at
once, so grad's peak temporaries need not fall (jax#19822: "jax.checkpoint
does not reduce memory footprint"); the advice says so when it happens:
checkpoint per layer inside f instead (see `ad-cost`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from common import stats
from research import autodiff as AD

POLICIES: dict[str, Callable | None] = {
    "none": None,  # no jax.checkpoint: every residual saved
    "nothing_saveable": jax.checkpoint_policies.nothing_saveable,
    "dots_saveable": jax.checkpoint_policies.dots_saveable,
    "checkpoint_dots": jax.checkpoint_policies.checkpoint_dots,
}
TRANSFORMS = ("jvp", "vjp", "grad", "jacfwd", "jacrev", "hvp")


@dataclasses.dataclass(frozen=True)
class ProfileRow:
    """One derivative under one policy. `time_vs_none` is its time over the same
    derivative without remat (median per-round ratio, A/A-widened interval)."""

    policy: str
    transform: str
    flops: float
    temp_bytes: float
    residual_bytes: float  # of this policy's vjp: the same for every transform of the policy
    seconds: float  # median over the interleaved rounds
    time_over_f: float
    time_vs_none: stats.Measurement | None
    too_small: bool
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Profile:
    f_flops: float
    f_seconds: float
    inputs: int  # entries of params
    outputs: int  # entries of f's output
    rows: list[ProfileRow]
    aa: stats.Measurement  # f timed against itself: the noise floor of every time ratio
    advice: list[str]

    def row(self, policy: str, transform: str) -> ProfileRow:
        return next(r for r in self.rows if r.policy == policy and r.transform == transform)


def residual_bytes(f: Callable, params: Any, *args: Any) -> int:
    """Bytes of the residuals `jax.vjp` of f with respect to params keeps: the leaves
    of the VJP object (shapes only, nothing runs)."""
    vjp_object = jax.eval_shape(lambda p, *a: jax.vjp(lambda q: f(q, *a), p)[1], params, *args)
    return sum(int(np.prod(x.shape)) * jnp.dtype(x.dtype).itemsize for x in jax.tree.leaves(vjp_object))


def _summed(f: Callable) -> Callable:
    return lambda p, *a: sum(jnp.sum(y) for y in jax.tree.leaves(f(p, *a)))


def _hvp(f: Callable, params: Any, args: tuple, key: jax.Array) -> AD.Transform:
    """Forward-over-reverse H v of sum(f) in params (the Cookbook's choice; see `ad-hvp`)."""
    v = AD._random_like(key, params)
    g = _summed(f)
    return AD.Transform("hvp", lambda p, w, *a: jax.jvp(lambda q: jax.grad(g)(q, *a), (p,), (w,))[1],
                        (params, v, *args))


def _programs(f: Callable, params: Any, args: tuple, max_jacobian_passes: int, key: jax.Array):
    """name -> Transform of the six derivatives of f in params, and skipped (name, reason)."""
    derivatives = AD.derivative_transforms(f, params, *args, argnums=0, key=key)
    jacobians, skipped = AD.jacobian_transforms(f, params, *args, argnums=0,
                                                max_jacobian_passes=max_jacobian_passes)
    chosen = {t.name: t for t in derivatives + jacobians if t.name in TRANSFORMS}
    chosen["hvp"] = _hvp(f, params, args, jax.random.fold_in(key, 7))
    return chosen, skipped


def profile(f: Callable, params: Any, *args: Any, policies: dict[str, Callable | None] = POLICIES,
            memory_budget: float | None = None, rounds: int = 7, max_jacobian_passes: int = 4096,
            seed: int = 0) -> Profile:
    """Profile the derivatives of f(params, *args) in params under each policy.

    `memory_budget` (bytes, optional): the advice picks the fastest policy whose
    grad temporaries fit it. Policies that are the same object (in current JAX
    `checkpoint_dots` is `dots_saveable`) are measured once and say so."""
    if "none" not in policies or policies["none"] is not None:
        raise ValueError("policies must include 'none': None (the reference without remat)")
    key = jax.random.key(seed)
    compiled = {"f": AD.compile_program(f, params, *args)}
    skipped, alias, residuals = {}, {}, {}
    seen: dict[int, str] = {}
    for name, policy in policies.items():
        if policy is not None and id(policy) in seen:
            alias[name] = seen[id(policy)]
            continue
        seen[id(policy)] = name
        g = f if policy is None else jax.checkpoint(f, policy=policy)
        residuals[name] = residual_bytes(g, params, *args)
        programs, skipped[name] = _programs(g, params, args, max_jacobian_passes, key)
        for transform, t in programs.items():
            compiled[f"{name}/{transform}"] = AD.compile_program(t.fn, *t.args)
    timings, timed = AD.time_interleaved(compiled, "f", rounds, seed)
    f_seconds = timings["f"].seconds
    rows = []
    for name in policies:
        source = alias.get(name, name)
        for transform in TRANSFORMS:
            program = f"{source}/{transform}"
            note = f"same policy object as {source}" if name in alias else ""
            if program not in timings:
                reason = dict(skipped[source]).get(transform, "not measured")
                rows.append(ProfileRow(name, transform, math.nan, math.nan, residuals[source], math.nan, math.nan,
                                       None, False, reason))
                continue
            t = timings[program]
            versus = None if source == "none" else timed.ratio(program, f"none/{transform}")
            rows.append(ProfileRow(name, transform, t.flops, t.temp_bytes, residuals[source], t.seconds,
                                   t.seconds / f_seconds, versus, program in timed.too_small, note))
    inputs = sum(int(np.size(x)) for x in jax.tree.leaves(params))
    outputs = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(jax.eval_shape(f, params, *args)))
    aa = stats.bootstrap_median(timed.aa())
    partial = Profile(timings["f"].flops, f_seconds, inputs, outputs, rows, aa, [])
    return dataclasses.replace(partial, advice=[jacobian_advice(partial), policy_advice(partial, memory_budget)])


def jacobian_advice(p: Profile) -> str:
    """jacfwd or jacrev for these shapes: by XLA FLOPs where both were compiled, else by n against m."""
    fwd, rev = p.row("none", "jacfwd"), p.row("none", "jacrev")
    shapes = f"n = {p.inputs} inputs, m = {p.outputs} outputs"
    if math.isfinite(fwd.flops) and math.isfinite(rev.flops):
        best, other = (fwd, rev) if fwd.flops <= rev.flops else (rev, fwd)
        return (f"Jacobian: use {best.transform} ({shapes}): {best.flops / 1e6:.3g} MFLOP against "
                f"{other.transform}'s {other.flops / 1e6:.3g}.")
    best = "jacrev" if p.outputs <= p.inputs else "jacfwd"
    return f"Jacobian: use {best} ({shapes}; one pass per {'output' if best == 'jacrev' else 'input'})."


def policy_advice(p: Profile, memory_budget: float | None) -> str:
    """Which remat policy fits the budget for grad's temporaries, at what extra time."""
    grads = [r for r in p.rows if r.transform == "grad" and not r.note.startswith("same policy")]
    none = p.row("none", "grad")

    def describe(r: ProfileRow) -> str:
        time = "the reference" if r.time_vs_none is None else (
            f"{r.time_vs_none.value:.2f}x the time of no remat [{r.time_vs_none.interval[0]:.2f}, "
            f"{r.time_vs_none.interval[1]:.2f}]")
        return (f"{r.policy} (grad temp {r.temp_bytes / 2**20:.3g} MiB, residuals {r.residual_bytes / 2**20:.3g} "
                f"MiB, {time})")

    leanest = min(grads, key=lambda r: r.temp_bytes)
    caveat = ""
    if leanest.temp_bytes >= 0.95 * none.temp_bytes:
        caveat = (" Remat of the whole f does not lower grad's peak temporaries here (the recomputed forward is "
                  "live at once): checkpoint per layer inside f.")
    if memory_budget is None:
        return f"Remat: the leanest grad is {describe(leanest)}; without remat {none.temp_bytes / 2**20:.3g} MiB.{caveat}"
    fitting = [r for r in grads if r.temp_bytes <= memory_budget]
    if not fitting:
        return (f"Remat: no policy fits {memory_budget / 2**20:.3g} MiB for grad's temporaries; the leanest is "
                f"{describe(leanest)}.{caveat}")
    best = min(fitting, key=lambda r: r.seconds)
    return f"Remat: within {memory_budget / 2**20:.3g} MiB, use {describe(best)}.{caveat}"


def format_profile(p: Profile) -> str:
    """The profile as a Markdown table, the A/A noise floor, warnings and the advice."""
    lines = [f"f: {p.f_flops / 1e6:.3g} MFLOP, {p.f_seconds * 1e3:.3g} ms; {p.inputs} parameters, "
             f"{p.outputs} outputs.", "",
             "| policy | transform | MFLOP | temp MiB | residuals MiB | ms | time / f | time / no remat | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in p.rows:
        versus = "" if r.time_vs_none is None else (
            f"{r.time_vs_none.value:.3g} [{r.time_vs_none.interval[0]:.3g}, {r.time_vs_none.interval[1]:.3g}]")
        note = "; ".join(filter(None, (r.note, "too small to time" if r.too_small else "")))
        lines.append(f"| {r.policy} | {r.transform} | {r.flops / 1e6:.4g} | {r.temp_bytes / 2**20:.3g} | "
                     f"{r.residual_bytes / 2**20:.3g} | {r.seconds * 1e3:.3g} | {r.time_over_f:.3g} | {versus} | "
                     f"{note} |")
    lines += ["", f"A/A (f against itself): [{p.aa.interval[0]:.3g}, {p.aa.interval[1]:.3g}]; time ratios inside "
              "that band are noise."]
    small = sorted({f"{r.policy}/{r.transform}" for r in p.rows if r.too_small})
    if small:
        lines.append(f"Warning: {len(small)} programs ran under 1 ms ({', '.join(small[:4])}"
                     f"{', ...' if len(small) > 4 else ''}): their times are mostly call overhead; read FLOPs and "
                     "memory.")
    return "\n".join(lines + [""] + p.advice)

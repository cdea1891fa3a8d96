"""What reverse mode stores, and rematerialisation to store less.

An L-layer tanh MLP written as one `lax.scan` over stacked weights. Reverse
mode keeps each layer's intermediates for the backward pass, so its memory
grows linearly in L. Three schedules:

- "none": every layer's residuals are stored (memory ~ L).
- "per_layer": `jax.checkpoint` on the layer; only each layer's input is
  stored and the layer is recomputed in the backward pass (memory ~ L, smaller
  constant, one extra forward pass).
- "sqrt": the L layers in L/s segments of s ~ sqrt(L) layers, `jax.checkpoint`
  on each segment: only the segment boundaries are stored, and one segment's
  residuals at a time during the backward pass (memory ~ L/s + s ~ 2 sqrt(L),
  one extra forward pass). Griewank (1992) recurses this to logarithmic memory.

A jvp carries primal and tangent forward together and stores nothing: its
memory does not grow with L.

`compare_growth` tells linear from sqrt(L) growth: it fits a + b L and
a + b sqrt(L) by least squares and compares their residuals. A log-log slope
cannot: its intercept-free power law reads 40 + L as ~sqrt and exactly linear
memory with an offset as slope 0.8.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import bench
from research.autodiff import args as A
from research.autodiff.flops import OpCount, loop_aware_count

REMAT_SCHEDULES = ("none", "per_layer", "sqrt")


def init_scanned_mlp(rng: np.random.Generator, depth: int, width: int, dtype=jnp.float32) -> dict:
    """Stacked weights of `depth` square layers: w (depth, width, width) ~ N(0, 1 / width), b (depth, width)
    ~ N(0, 0.01), drawn by numpy (an eager jax.random draw compiles a program per shape)."""
    w = rng.standard_normal((depth, width, width)) / math.sqrt(width)
    b = 0.1 * rng.standard_normal((depth, width))
    return {"w": jax.device_put(w.astype(dtype)), "b": jax.device_put(b.astype(dtype))}


def _layer(h: jax.Array, layer_params: tuple[jax.Array, jax.Array]):
    w, b = layer_params
    return jnp.tanh(h @ w + b), None


def sqrt_segment_length(depth: int) -> int:
    """The divisor of `depth` closest to sqrt(depth) (ties to the smaller)."""
    divisors = [s for s in range(1, depth + 1) if depth % s == 0]
    return min(divisors, key=lambda s: (abs(s - math.sqrt(depth)), s))


def scanned_mlp(params: dict, x: jax.Array, schedule: str = "none") -> jax.Array:
    """The MLP's output for inputs x (batch, width) under a remat schedule."""
    w, b = params["w"], params["b"]
    if schedule == "none":
        h, _ = jax.lax.scan(_layer, x, (w, b))
    elif schedule == "per_layer":
        h, _ = jax.lax.scan(jax.checkpoint(_layer), x, (w, b))
    elif schedule == "sqrt":
        depth, width = w.shape[0], w.shape[1]
        s = sqrt_segment_length(depth)
        segments = (w.reshape(depth // s, s, width, width), b.reshape(depth // s, s, width))

        @jax.checkpoint
        def segment(h, segment_params):
            return jax.lax.scan(_layer, h, segment_params)[0], None

        h, _ = jax.lax.scan(segment, x, segments)
    else:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {REMAT_SCHEDULES}")
    return h


def scanned_mlp_loss(params: dict, x: jax.Array, schedule: str = "none") -> jax.Array:
    """Half the mean squared output: a scalar loss to differentiate."""
    return 0.5 * jnp.mean(scanned_mlp(params, x, schedule) ** 2)


@dataclass(frozen=True)
class GrowthFit:
    """Least-squares fits of memory against depth: a + b L and a + b sqrt(L).

    Residuals are root-mean-square, in units of the data's range (max - min),
    so they do not depend on the memory's unit or offset. `linear_slope` is b
    of the linear fit (memory units per layer)."""

    linear_residual: float
    sqrt_residual: float
    linear_slope: float

    @property
    def sqrt_margin(self) -> float:
        """How much better sqrt(L) fits than L (positive: sqrt fits better)."""
        return self.linear_residual - self.sqrt_residual

    @property
    def linear_margin(self) -> float:
        """How much better a + b L fits than a + b sqrt(L) (positive: linear)."""
        return -self.sqrt_margin


def _rms_residual(basis: np.ndarray, y: np.ndarray) -> float:
    design = np.stack([np.ones_like(basis), basis], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.sqrt(np.mean((design @ coef - y) ** 2)))


def compare_growth(depths, memory) -> GrowthFit:
    """Fit a + b L and a + b sqrt(L) to memory(L); needs three or more depths (two points fit any line)."""
    depth, y = np.asarray(depths, float), np.asarray(memory, float)
    if depth.shape != y.shape or depth.size < 3:
        raise ValueError(f"need three or more (depth, memory) pairs (got {depth.size} and {y.size})")
    spread = float(y.max() - y.min())
    slope = float(np.polyfit(depth, y, 1)[0])
    if spread == 0:
        return GrowthFit(0.0, 0.0, slope)
    return GrowthFit(_rms_residual(depth, y) / spread, _rms_residual(np.sqrt(depth), y) / spread, slope)


def remat_programs(params: dict, x: jax.Array) -> dict:
    """name -> (fn, args): grad under each remat schedule, a jvp and f of the scanned MLP."""
    programs = {s: (jax.grad(functools.partial(scanned_mlp_loss, schedule=s)), (params, x)) for s in REMAT_SCHEDULES}
    programs["jvp"] = (lambda p, t, x: jax.jvp(lambda q: scanned_mlp_loss(q, x), (p,), (t,)), (params, params, x))
    programs["f"] = (scanned_mlp_loss, (params, x))
    return programs


MEMORY_STUDIED = (*REMAT_SCHEDULES, "jvp")


class RematStudy(NamedTuple):
    temp: dict[str, np.ndarray]  # name -> XLA temp bytes per depth, in units of one (batch, width) activation
    counts: dict[str, OpCount]  # name -> operations (loops counted) at the deepest
    rounds: bench.Rounds  # every program timed at the deepest, interleaved, A/A on no-remat grad


def remat_study(depths, width: int, batch: int, seed: int, rounds: int) -> RematStudy:
    """Temp memory (XLA memory analysis) of grad under each schedule and of a jvp at each depth; operation
    counts and interleaved time at the deepest (f is compiled there only: its memory is not studied)."""
    rng = np.random.default_rng(seed)
    x = A.normal_like(rng, jax.ShapeDtypeStruct((batch, width), jnp.float32))
    activation = batch * width * 4  # bytes of one float32 (batch, width) array
    temp = {name: [] for name in MEMORY_STUDIED}
    for depth in depths:
        programs = remat_programs(init_scanned_mlp(rng, depth, width), x)
        compiled = {name: jax.jit(fn).lower(*args).compile() for name, (fn, args) in programs.items()
                    if name in MEMORY_STUDIED or depth == depths[-1]}
        for name in MEMORY_STUDIED:
            temp[name].append(compiled[name].memory_analysis().temp_size_in_bytes / activation)
    counts = {name: loop_aware_count(fn, *args) for name, (fn, args) in programs.items()}
    calls = {name: functools.partial(compiled[name], *args) for name, (fn, args) in programs.items()}
    timed = bench.interleaved(calls, "none", rounds=rounds, seed=seed)
    return RematStudy({name: np.array(v) for name, v in temp.items()}, counts, timed)


def remat_tables(study: RematStudy, depths) -> dict[str, list[dict]]:
    """The memory study's report: temp memory against depth, which growth fits, and the deepest's operations
    and time against no-remat grad (whose own row is its A/A ratio: the noise floor)."""
    flops = {name: count.flops for name, count in study.counts.items()}
    fits = {name: compare_growth(depths, study.temp[name]) for name in MEMORY_STUDIED}
    aa = "none" + bench.AA_SUFFIX
    return {
        "Scanned tanh MLP: XLA temp memory against depth, in (batch, width) activations": [
            {"depth": int(d), **{name: study.temp[name][i] for name in MEMORY_STUDIED}} for i, d in enumerate(depths)],
        "Which growth fits: rms residual of a + b L and of a + b sqrt(L), in units of the data's range": [
            {"program": name, "residual of a + b L": f.linear_residual, "residual of a + b sqrt(L)": f.sqrt_residual,
             "better fit": "sqrt(L)" if f.sqrt_margin > 0 else "L" if f.sqrt_margin < 0 else "tie (flat)",
             "slope b of a + b L (activations per layer)": f.linear_slope} for name, f in fits.items()],
        f"Depth {depths[-1]}: operations (loops counted) and time of each program against no-remat grad (the "
        "'none' row: no-remat grad against itself, A/A)": [
            {"program": name, "MFLOP": flops[name] / 1e6, "FLOPs / f": flops[name] / flops["f"],
             "ms (median)": float(np.median(study.rounds.seconds[name])) * 1e3,
             "time / no-remat grad (95% interval)": f"{study.rounds.ratio(aa if name == 'none' else name):.3g}"}
            for name in study.counts]}


# Synthetic cases for the contract test -----------------------------------------------------------------

CASE_DEPTHS = np.array([4, 9, 16, 25, 36, 49, 64], float)


def memory_curves(**curves) -> dict[str, np.ndarray]:
    """Arrays whose remat memory follows the given exact curves of depth."""
    return {"remat/depth": CASE_DEPTHS, **{f"remat/{k}/temp": v(CASE_DEPTHS) for k, v in curves.items()}}


linear_curve = lambda L: 40 + L
sqrt_curve = lambda L: 40 + 2 * np.sqrt(L)
flat_curve = lambda L: 12 + 0 * L

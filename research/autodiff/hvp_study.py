"""The HVPs of `research.autodiff.hvp` measured on two functions: the Cookbook's sum(tanh(X)^2) and the
softmax cross-entropy of a tanh MLP on a fixed batch (as a function of its parameters): agreement in float64,
XLA's FLOPs and temporaries, and time of vmapped batches in interleaved rounds."""

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from common import bench, stats
from common.bench import compiled_costs
from common.models import MLP
from common.nn import softmax_cross_entropy
from research.autodiff import args as A
from research.autodiff import hvp as H
from research.autodiff.costs import interleaved_noting_small

METHODS = tuple(H.HVP_METHODS)
TIMED = ("fwd_over_rev", "rev_over_fwd", "rev_over_rev")  # equal FLOPs; the full Hessian costs n HVPs
NUM_CLASSES = 10
INPUT_LENGTH = 40


class Problem(NamedTuple):
    """A loss(params, *data) with its parameters, a direction v and the data (arguments, never constants)."""

    loss: Callable
    params: object
    v: object
    data: tuple

    @property
    def size(self) -> int:
        return ravel_pytree(self.params)[0].size


def problems(cookbook_shape: tuple[int, int], mlp_width: int, batch: int, rng: np.random.Generator,
             dtype) -> dict[str, Problem]:
    """name -> Problem in `dtype`, drawn by numpy (`research.autodiff.args`: jax.random would compile a program
    per shape) with LeCun-scaled weights; the MLP has two hidden tanh layers of `mlp_width`."""
    model = MLP((mlp_width,) * 2, NUM_CLASSES, activation="tanh", init="lecun")
    inputs = A.normal_like(rng, jax.ShapeDtypeStruct((batch, INPUT_LENGTH), dtype))
    shapes = jax.eval_shape(model.init_variables, jax.random.key(0), inputs)[0]
    params = A.lecun_like(rng, jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, dtype), shapes))
    cookbook = jax.ShapeDtypeStruct(cookbook_shape, dtype)
    x, x_tangent = A.normal_like(rng, cookbook), A.normal_like(rng, cookbook)
    labels = jax.device_put(rng.integers(0, NUM_CLASSES, batch).astype(np.int32))
    params_tangent = A.normal_like(rng, params)

    def mlp_loss(p, xb, yb):
        return softmax_cross_entropy(model.apply(p, {}, xb, train=False)[0], yb)

    size = ravel_pytree(params)[0].size
    return {"cookbook sum tanh(X)^2": Problem(lambda p: H.cookbook_function(p), x, x_tangent, ()),
            f"MLP loss ({size} params)": Problem(mlp_loss, params, params_tangent, (inputs, labels))}


def methods_for(problem: Problem, max_hessian_dim: int) -> list[str]:
    """Every method, the full Hessian only up to `max_hessian_dim` parameters (it stores dim^2 numbers)."""
    return [m for m in METHODS if m != "full_hessian" or problem.size <= max_hessian_dim]


def hvp_program(method: str, loss: Callable) -> Callable:
    """method's HVP as a function of (params, v, *data): data are arguments, not constants."""
    return lambda params, v, *data: H.HVP_METHODS[method](lambda p: loss(p, *data), params, v)


def batched(method: str, loss: Callable, data_count: int) -> Callable:
    """Independent HVPs in one program: (params, v) stacked on a leading axis, the data shared (one HVP is
    microseconds; a timed program should be >= 1 ms)."""
    return jax.jit(jax.vmap(hvp_program(method, loss), in_axes=(0, 0) + (None,) * data_count))


def stack(tree, count: int, rng: np.random.Generator):
    """`count` random perturbations of `tree` stacked on a new leading axis (numpy draws)."""
    return jax.tree.map(lambda x: jax.device_put(np.asarray(x) + 0.1 * rng.standard_normal(
        (count, *x.shape)).astype(x.dtype)), tree)


class Agreement(NamedTuple):
    worst: float  # largest relative gap of any method to forward-over-reverse
    control_finite_difference: float  # smallest gap of a forward difference of gradients (eps = 1e-6)
    gaps: dict  # (problem name, method) -> largest gap over seeds


def agreement(make_problems: Callable[[np.random.Generator], dict[str, Problem]], seeds: int, seed: int,
              max_hessian_dim: int) -> Agreement:
    """Gaps relative to the largest entry of H v, float64 with highest matmul precision, over `seeds` draws;
    each program compiled once for all seeds (the losses hold no data)."""
    gaps, control, programs = {}, math.inf, {}
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        for s in range(seeds):
            for name, problem in make_problems(np.random.default_rng([seed, s + 1])).items():
                loss, params, v, data = problem
                for m in methods_for(problem, max_hessian_dim):
                    programs.setdefault((name, m), jax.jit(hvp_program(m, loss)))
                programs.setdefault((name, "finite difference"), jax.jit(
                    lambda p, w, *d, loss=loss: H.hvp_finite_difference(lambda q: loss(q, *d), p, w)))
                values = {m: ravel_pytree(programs[name, m](params, v, *data))[0]
                          for m in methods_for(problem, max_hessian_dim)}
                reference = values["fwd_over_rev"]
                scale = float(jnp.max(jnp.abs(reference)))
                for m, value in values.items():
                    gaps[name, m] = max(gaps.get((name, m), 0.0), float(jnp.max(jnp.abs(value - reference))) / scale)
                difference = ravel_pytree(programs[name, "finite difference"](params, v, *data))[0]
                control = min(control, float(jnp.max(jnp.abs(difference - reference))) / scale)
    return Agreement(max([0.0, *gaps.values()]), control, gaps)


def compiled_figures(problem: Problem, max_hessian_dim: int) -> tuple[float, dict[str, dict]]:
    """XLA's FLOPs of one gradient, and `compiled_costs` (FLOPs, temp bytes, ...) of one HVP per method."""
    loss, params, v, data = problem
    grad_flops = compiled_costs(jax.grad(loss), params, *data)["flops"]
    return grad_flops, {m: compiled_costs(hvp_program(m, loss), params, v, *data)
                        for m in methods_for(problem, max_hessian_dim)}


def timed(problem: Problem, count: int, rng: np.random.Generator, rounds: int, seed: int,
          where: str) -> tuple[bench.Rounds, list[str]]:
    """`count` HVPs per timed call of each of TIMED, interleaved rounds with an A/A on forward-over-reverse."""
    loss, params, v, data = problem
    ps, vs = stack(params, count, rng), stack(v, count, rng)
    programs = {}
    for m in TIMED:
        program = batched(m, loss, len(data))
        programs[m] = lambda program=program: program(ps, vs, *data)
    return interleaved_noting_small(programs, "fwd_over_rev", rounds, seed, where)


def table_rows(name: str, grad_flops: float, costs: dict[str, dict], rounds: bench.Rounds, count: int,
               gaps: dict) -> list[dict]:
    """One function's rows of the HVP table: each method's FLOPs, temporaries, float64 gap and (if timed)
    time against forward-over-reverse, and the A/A row."""
    rows = []
    for m, c in costs.items():
        row = {"function": name, "method": m, "MFLOP": c["flops"] / 1e6, "FLOPs / grad": c["flops"] / grad_flops,
               "temp KiB": c["temp_bytes"] / 1024,
               "temp / fwd_over_rev": c["temp_bytes"] / b if (b := costs["fwd_over_rev"]["temp_bytes"]) > 0 else math.nan,
               "max rel. gap to fwd_over_rev (float64)": gaps.get((name, m), math.nan)}
        if m in TIMED:
            row |= {"HVPs per timed call": count, "ms per call": float(np.median(rounds.seconds[m])) * 1e3,
                    "time fwd_over_rev / this (95% interval)":
                        f"{rounds.ratio('fwd_over_rev', m):.3g}" if m != "fwd_over_rev" else ""}
        rows.append(row)
    return rows + [{"function": name, "method": "A/A: fwd_over_rev against itself",
                    "time fwd_over_rev / this (95% interval)": f"{stats.bootstrap_median(rounds.aa()):.3g}"}]

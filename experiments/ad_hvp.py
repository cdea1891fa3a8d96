"""Hessian-vector products four ways: agreement in float64, time in float32.

    python run.py ad-hvp --preset quick     # ~25 s on the shared 2-core CPU
    python run.py ad-hvp --preset paper     # larger MLP, more repeats, for one GPU

The JAX Autodiff Cookbook writes H v as forward-over-reverse (a jvp of grad),
reverse-over-forward (grad of a jvp), reverse-over-reverse (grad of
<grad f, v>) and, for comparison, the full Hessian times v; it recommends
forward-over-reverse as the most efficient. Functions: the Cookbook's
f(X) = sum(tanh(X)^2) with X of shape (30, 40), and the softmax
cross-entropy of a tanh MLP on a fixed batch, as a function of its parameters.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.models import MLP
from common.nn import softmax_cross_entropy
from experiments.api import main
from research import autodiff as AD
from research import autodiff_hvp as H

NAME = "ad-hvp"
STUDY = "autodiff"
PAPER = "JAX Autodiff Cookbook (Hessian-vector products); Pearlmutter 1994"
REPRODUCES = "four HVPs agree to 1e-10 in float64; forward-over-reverse is the fastest or within 10% of it"
QUICK_SECONDS = 25

METHODS = tuple(H.HVP_METHODS)
NUM_CLASSES = 10


@dataclass(frozen=True)
class Config:
    """HVPs of the Cookbook's function and of an MLP loss."""

    seeds: int = 3
    """Random (x, v) draws on which the four methods must agree in float64."""
    cookbook_shape: tuple[int, int] = (30, 40)
    mlp_width: int = 32
    """Width of the 2-hidden-layer tanh MLP (inputs of length 40, 10 classes)."""
    batch: int = 64
    max_hessian_dim: int = 4096
    """The full-Hessian method runs only up to this many parameters (it stores dim^2 numbers)."""
    repeats: int = 5
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "mlp_width", "batch", "max_hessian_dim", "repeats"))
        if min(self.cookbook_shape) < 1:
            raise ValueError(f"cookbook_shape must be positive (got {self.cookbook_shape})")


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=5, mlp_width=64, batch=1024, max_hessian_dim=8192, repeats=50),
}


def problems(config: Config, key, dtype) -> dict:
    """name -> (loss(params, *data), params, v, data) in `dtype`."""
    k_x, k_v, k_p, k_d, k_w, k_y = jax.random.split(key, 6)
    x = jax.random.normal(k_x, config.cookbook_shape, dtype)
    out = {"cookbook sum tanh(X)^2": (lambda p: H.cookbook_function(p), x,
                                      jax.random.normal(k_v, config.cookbook_shape, dtype), ())}
    model = MLP((config.mlp_width,) * 2, NUM_CLASSES, activation="tanh", init="lecun")
    inputs = jax.random.normal(k_d, (config.batch, 40), dtype)
    labels = jax.random.randint(k_y, (config.batch,), 0, NUM_CLASSES)
    params = jax.tree.map(lambda a: a.astype(dtype), model.init_variables(k_p, inputs)[0])
    flat, unravel = ravel_pytree(params)
    v = unravel(jax.random.normal(k_w, flat.shape, dtype))

    def mlp_loss(p, xb, yb):
        return softmax_cross_entropy(model.apply(p, {}, xb, train=False)[0], yb)

    out[f"MLP loss ({flat.size} params)"] = (mlp_loss, params, v, (inputs, labels))
    return out


def hvp_program(method: str, loss):
    """method's HVP as a function of (params, v, *data): data are arguments, not constants."""
    return lambda params, v, *data: H.HVP_METHODS[method](lambda p: loss(p, *data), params, v)


def agreement(config: Config, results: Results) -> None:
    """Largest relative difference between any method and forward-over-reverse, float64."""
    worst = 0.0
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        for s in range(config.seeds):
            key = jax.random.fold_in(jax.random.key(config.seed), s)
            for name, (loss, params, v, data) in problems(config, key, jnp.float64).items():
                size = ravel_pytree(params)[0].size
                values = {m: ravel_pytree(jax.jit(hvp_program(m, loss))(params, v, *data))[0]
                          for m in METHODS if m != "full_hessian" or size <= config.max_hessian_dim}
                reference = values["fwd_over_rev"]
                scale = float(jnp.max(jnp.abs(reference)))
                for m, value in values.items():
                    gap = float(jnp.max(jnp.abs(value - reference))) / scale
                    worst = max(worst, gap)
                    results.scalars[f"agreement/{name}/{m}"] = max(
                        results.scalars.get(f"agreement/{name}/{m}", 0.0), gap)
    results.scalars["agreement/worst"] = worst


def timings(config: Config, results: Results) -> None:
    measure = AD.fastest_of(config.repeats)
    rows, worst_ratio = [], 0.0
    for name, (loss, params, v, data) in problems(config, jax.random.key(config.seed), jnp.float32).items():
        size = ravel_pytree(params)[0].size
        times, flops = {}, {}
        for m in METHODS:
            if m == "full_hessian" and size > config.max_hessian_dim:
                continue
            timing = measure(hvp_program(m, loss), params, v, *data)
            times[m], flops[m] = timing.seconds, timing.flops
        fastest = min(times.values())
        ratio = times["fwd_over_rev"] / fastest
        worst_ratio = max(worst_ratio, ratio)
        results.scalars[f"time/{name}/fwd_over_rev_over_fastest"] = ratio
        for m in times:
            rows.append({"function": name, "method": m, "ms": times[m] * 1e3, "time / fastest": times[m] / fastest,
                         "MFLOP": flops[m] / 1e6, "max rel. gap to fwd_over_rev (float64)":
                         results.scalars.get(f"agreement/{name}/{m}", float("nan"))})
        results.arrays[f"time/{name}"] = np.array([times.get(m, np.nan) for m in METHODS])
    results.tables["Hessian-vector products (ms: minimum over repeats, float32)"] = rows
    results.scalars["time/fwd_over_rev_over_fastest_worst"] = worst_ratio


def run(config: Config, session) -> Results:
    results = Results()
    agreement(config, results)
    timings(config, results)
    results.notes.append(f"Timed on {AD.timing_context()}. Agreement is measured in float64 with highest "
                         "matmul precision, relative to the largest entry of H v.")
    return results


def figures(results: Results, directory) -> None:
    names = [k.removeprefix("time/") for k in results.arrays if k.startswith("time/")]
    fig, axes = plots.new_figure(ncols=len(names))
    for ax, name in zip(axes[0], names):
        ax.bar(range(len(METHODS)), results.arrays[f"time/{name}"] * 1e3)
        ax.set_xticks(range(len(METHODS)), [m.replace("_", "\n") for m in METHODS])
        ax.set(yscale="log", ylabel="ms (min over repeats)", title=name)
    plots.save(fig, directory, "hvp_times", **results.arrays)


CLAIMS = [
    Claim("the four HVPs agree in float64 (largest relative gap)", "<= 1e-10",
          lambda r: r.scalars["agreement/worst"], lambda v: v <= 1e-10, fmt="{:.2e}"),
    Claim("forward-over-reverse is the fastest or within 10% of it (worst time ratio to the fastest)", "<= 1.10",
          lambda r: r.scalars["time/fwd_over_rev_over_fastest_worst"], lambda v: v <= 1.10, fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)

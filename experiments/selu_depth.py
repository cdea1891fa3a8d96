"""Activation statistics through a deep random network: collapse, saturation, self-normalization.

    python run.py selu-depth --preset quick     # depth 64, 2 seeds, batch 500: ~18 s of CPU
    python run.py selu-depth --preset paper     # depth 128, 10 seeds, the notes' batch of 1000

The notes' experiment (from CS231n): a batch of 1000 inputs x ~ N(0, 1) of
width 500 through 10 tanh layers of 500 units with W ~ 0.01 N(0, 1). Each
layer multiplies the std by about 0.01 sqrt(500) = 0.224 (tanh is the
identity near 0): 0.214 at layer 1, 0.0476, 0.0106, ..., 2.9e-7 at layer 10.
With W ~ N(0, 1) the units saturate at +-1 (std ~0.98). Xavier keeps tanh
alive for a while; ReLU wants He. Klambauer et al. (2017): SELU with LeCun
normal weights keeps mean 0 and variance 1 layer after layer (the fixed point
of the moment map), here checked to depth 64 and beyond. No biases, no training.
"""

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

from common import nn, plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from experiments.api import main
from research import selu


class Setting(NamedTuple):
    activation: object
    init: object
    histogram_range: tuple[float, float]


SETTINGS = {
    "tanh, W ~ 0.01 N(0,1)": Setting(jnp.tanh, nn.scaled_normal(0.01), (-0.8, 0.8)),
    "tanh, W ~ N(0,1)": Setting(jnp.tanh, nn.scaled_normal(1.0), (-1.0, 1.0)),
    "tanh, Xavier": Setting(jnp.tanh, nn.xavier_normal, (-1.0, 1.0)),
    "ReLU, He": Setting(jax.nn.relu, nn.he_normal, (0.0, 5.0)),
    "SELU, LeCun normal": Setting(selu.selu, nn.lecun_normal, (-2.0, 5.0)),
}
COLLAPSE, SATURATE, SNN = "tanh, W ~ 0.01 N(0,1)", "tanh, W ~ N(0,1)", "SELU, LeCun normal"

NAME = "selu-depth"
STUDY = "selu"
PAPER = "CS231n (in the notes); Klambauer et al. 2017, Self-Normalizing Neural Networks"
REPRODUCES = ("per-layer activation std: tanh with 0.01 N(0,1) weights collapses x0.224 a layer; "
              "SELU with LeCun normal stays within [0.8, 1.25] to depth 64")
QUICK_SECONDS = 25


@dataclass(frozen=True)
class Config:
    """Random dense networks without biases; statistics over all units and inputs of a layer."""

    seeds: int = 3
    """Independent draws of inputs and weights, vmapped."""
    depth: int = 64
    width: int = 500
    batch: int = 1000
    bins: int = 50
    """Histogram bins per layer."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "depth", "width", "batch", "bins"))
        if self.depth < 10:
            raise ValueError(f"depth must be at least 10, the notes' tanh depth (got {self.depth})")


PRESETS = {
    "quick": Config(seeds=2, batch=500),
    "paper": Config(seeds=10, depth=128, batch=1000),
}


def statistics(config: Config, setting: Setting, index: int) -> selu.DepthStatistics:
    """Per-seed statistics, arrays (seeds, depth[, bins])."""
    edges = jnp.linspace(*setting.histogram_range, config.bins + 1)

    def one_seed(key):
        key_x, key_w = jax.random.split(key)
        x_BxD = jax.random.normal(key_x, (config.batch, config.width))
        return selu.propagate_depth_statistics(key_w, x_BxD, config.depth, setting.activation, setting.init, edges)

    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), index), config.seeds)
    return jax.jit(jax.vmap(one_seed))(keys)


def run(config: Config, session) -> Results:
    results = Results()
    rows = []
    for index, (name, setting) in enumerate(SETTINGS.items()):
        stats = jax.tree.map(np.asarray, statistics(config, setting, index))
        results.arrays[f"{name}/mean"] = stats.mean.T  # (depth, seeds)
        results.arrays[f"{name}/std"] = stats.std.T
        results.arrays[f"{name}/histogram"] = stats.histogram.mean(0)  # (depth, bins), seed average
        results.arrays[f"{name}/bin_edges"] = np.linspace(*setting.histogram_range, config.bins + 1)
        std = stats.std.mean(0)
        rows.append({
            "setting": name, **{f"std layer {layer}": float(std[layer - 1]) for layer in (1, 2, 3, 10)},
            f"std layer {config.depth}": float(std[-1]),
            "std min..max (all layers, seeds)": f"{stats.std.min():.3g}..{stats.std.max():.3g}",
            "max |mean|": float(np.abs(stats.mean).max()),
        })
    results.tables["Per-layer activation std (mean over seeds)"] = rows

    collapse = results.arrays[f"{COLLAPSE}/std"].mean(1)
    # Geometric mean of std[l] / std[l-1] over layers 2..10.
    results.scalars["collapse/std_layer1"] = float(collapse[0])
    results.scalars["collapse/ratio_per_layer"] = float((collapse[9] / collapse[0]) ** (1 / 9))
    results.scalars["collapse/std_layer10"] = float(collapse[9])
    results.scalars["saturate/min_std"] = float(results.arrays[f"{SATURATE}/std"].min())
    snn_std, snn_mean = results.arrays[f"{SNN}/std"], results.arrays[f"{SNN}/mean"]
    results.scalars["selu/min_std"] = float(snn_std.min())
    results.scalars["selu/max_std"] = float(snn_std.max())
    results.scalars["selu/max_abs_mean"] = float(np.abs(snn_mean).max())
    results.arrays["layer"] = np.arange(1, config.depth + 1)
    results.notes.append(
        f"tanh with 0.01 N(0,1): std {collapse[0]:.4g}, {collapse[1]:.3g}, {collapse[2]:.3g} at layers 1-3 and "
        f"{collapse[9]:.2g} at layer 10 (notes: 0.214, 0.0476, 0.0106, 2.9e-7); the ratio is 0.01 sqrt(width) "
        f"= {0.01 * config.width ** 0.5:.4f} because tanh is the identity near 0."
    )
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    layer = a["layer"]
    fig, axes = plots.new_figure(3, 1, width=4.4)
    for index, name in enumerate(SETTINGS):
        color = f"C{index}"  # one color per setting in every panel
        plots.seed_band(axes[0, 0], layer, a[f"{name}/std"], name, color=color)
        if name != COLLAPSE:
            plots.seed_band(axes[0, 1], layer, a[f"{name}/std"], name, color=color)
        plots.seed_band(axes[0, 2], layer, a[f"{name}/mean"], name, color=color)
    axes[0, 0].set(xlabel="layer", ylabel="activation std", yscale="log", ylim=(1e-8, 3.0),
                   title="std per layer (log scale)")
    axes[0, 0].legend(fontsize=7)
    axes[0, 1].axhspan(0.8, 1.25, color="tab:purple", alpha=0.1, label="SELU claim [0.8, 1.25]")
    axes[0, 1].set(xlabel="layer", ylabel="activation std", ylim=(0.0, 1.3), title="std per layer (linear)")
    axes[0, 1].legend(fontsize=7)
    axes[0, 2].set(xlabel="layer", ylabel="activation mean", title="mean per layer (seed band)")
    plots.save(fig, directory, "std_per_layer", layer=layer,
               **{k: v for k, v in a.items() if k.endswith(("/std", "/mean"))})

    depth = len(layer)
    shown = sorted({1, 2, 3, 5, 10, depth // 2, depth})
    fig, axes = plots.new_figure(len(SETTINGS), 1, width=3.2, height=2.8)
    for ax, name in zip(axes[0], SETTINGS):
        edges, hist = a[f"{name}/bin_edges"], a[f"{name}/histogram"]
        colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(shown)))
        for color, n in zip(colors, shown):
            ax.stairs(hist[n - 1], edges, color=color, label=f"layer {n}")
        ax.set(title=name, xlabel="activation", yscale="log", ylim=(1e-5, 1.0))
    axes[0, 0].set_ylabel("fraction of activations per bin")
    axes[0, 0].legend(fontsize=6)
    plots.save(fig, directory, "histograms", shown_layers=np.array(shown),
               **{k: v for k, v in a.items() if k.endswith(("/histogram", "/bin_edges"))})


CLAIMS = [
    Claim("tanh, W ~ 0.01 N(0,1): layer-1 std", "0.214",
          lambda r: r.scalars["collapse/std_layer1"], lambda v: abs(v - 0.214) < 0.003, fmt="{:.4f}"),
    Claim("... the std falls about x0.224 a layer", "0.224",
          lambda r: r.scalars["collapse/ratio_per_layer"], lambda v: abs(v - 0.224) < 0.005, fmt="{:.4f}"),
    Claim("... and is under 1e-6 by layer 10", "2.9e-7",
          lambda r: r.scalars["collapse/std_layer10"], lambda v: v < 1e-6, fmt="{:.2g}"),
    Claim("tanh, W ~ N(0,1) saturates (std ~0.98 at every layer)", "~0.98",
          lambda r: r.scalars["saturate/min_std"], lambda v: v > 0.95, fmt="min {:.3f}"),
    Claim("SELU + LeCun normal: layer std within [0.8, 1.25] through the whole depth (lowest)", ">= 0.8",
          lambda r: r.scalars["selu/min_std"], lambda v: v >= 0.8, fmt="min {:.3f}"),
    Claim("... (highest)", "<= 1.25",
          lambda r: r.scalars["selu/max_std"], lambda v: v <= 1.25, fmt="max {:.3f}"),
    Claim("SELU + LeCun normal: layer mean within 0.1 of 0 through the whole depth", "|mean| <= 0.1",
          lambda r: r.scalars["selu/max_abs_mean"], lambda v: v <= 0.1, fmt="max {:.3f}"),
]


if __name__ == "__main__":
    main(NAME)

"""Activation statistics through a deep random network: collapse, saturation, self-normalization.

    python run.py selu-depth --preset quick     # depth 64, 3 seeds, batch 250
    python run.py selu-depth --preset paper     # depth 128, 10 seeds, the notes' batch of 1000

The notes' experiment (from CS231n): a batch of inputs x ~ N(0, 1) of width 500 through
10 tanh layers of 500 units with W ~ 0.01 N(0, 1): each layer multiplies the std by about
0.01 sqrt(500) = 0.224 (tanh is the identity near 0); with W ~ N(0, 1) the units saturate.
Klambauer et al. (2017): with SELU and LeCun normal weights, (0, 1) is an attracting fixed
point of the layer's moment map. Inputs drawn at the fixed point prove nothing (a linear
network keeps N(0, 1) too), so the SELU claims start the network at off-fixed-point inputs
N(m, s^2), against a linear network with the same weights (the control) and against the
moment map iterated in closed form. The gradient's std through depth is reported beside its
mean-field gain (Theorem 1 covers the forward pass only). No biases, no training.
"""

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import nn, plots, records, stats
from common.config import require_at_least_one, require_numbers_representable
from common.experiment import Claim, Control, Results, at_most, below, near
from experiments.api import main
from research.selu import depth_probe
from research.selu import snn as selu


def identity(x):
    return x


def fixed(std: float):
    """W ~ std N(0, 1), whatever the fan (`common.nn.scaled_normal(std)`)."""
    return lambda shape: std


# name: (activation, weight std)
SETTINGS = {
    "tanh, W ~ 0.01 N(0,1)": (jnp.tanh, fixed(0.01)),
    "tanh, W ~ N(0,1)": (jnp.tanh, fixed(1.0)),
    "tanh, Xavier": (jnp.tanh, nn.xavier_std),
    "ReLU, He": (jax.nn.relu, nn.he_std),
    "SELU, LeCun normal": (selu.selu, nn.lecun_std),
    "linear, W ~ 0.01 N(0,1)": (identity, fixed(0.01)),
    "linear, LeCun normal": (identity, nn.lecun_std),
}
LINEAR_SMALL, XAVIER = "linear, W ~ 0.01 N(0,1)", "tanh, Xavier"
COLLAPSE, SATURATE, SNN = "tanh, W ~ 0.01 N(0,1)", "tanh, W ~ N(0,1)", "SELU, LeCun normal"
# Networks started off the fixed point: SELU and its control, the linear network, same LeCun weights.
CONVERGING = {"SELU": selu.selu, "linear": identity}
# The backward pass, from N(0, 1) inputs: (activation, weight std, mean-field gain per layer).
BACKWARD = {"SELU, LeCun": (selu.selu, nn.lecun_std, lambda: f"{float(np.sqrt(selu.selu_backward_gain())):.4f}"),
            "ReLU, He": (jax.nn.relu, nn.he_std, lambda: "1"),
            "tanh, Xavier": (jnp.tanh, nn.xavier_std, lambda: "< 1 (tanh' < 1)"),
            "linear, LeCun": (identity, nn.lecun_std, lambda: "1")}

NAME = "selu-depth"
STUDY = "selu"
PAPER = "CS231n (in the notes); Klambauer et al. 2017, Self-Normalizing Neural Networks"
REPRODUCES = ("per-layer activation std: tanh with 0.01 N(0,1) weights collapses x0.224 a layer; "
              "SELU with LeCun normal converges to std 1 from off-fixed-point inputs (a linear net stays put); "
              "gradient std through depth reported")


@dataclass(frozen=True)
class Config:
    """Random dense networks without biases; statistics over all units and inputs of a layer."""

    seeds: int = 3
    """Independent draws of inputs and weights, vmapped."""
    depth: int = 64
    """Number of random layers (at least the notes' 10)."""
    width: int = 500
    """Units per layer and input dimension (the notes' 500)."""
    batch: int = 1000
    """Inputs x ~ N(0, 1) per seed for the per-setting statistics (the notes' 1000)."""
    start_means: tuple[float, ...] = (0.5, 0.0, 1.0, -1.0, 2.0)
    """Means m of the off-fixed-point inputs N(m, s^2) (paired with start_stds)."""
    start_stds: tuple[float, ...] = (3.0, 0.3, 1.0, 2.0, 0.5)
    """Stds s of the off-fixed-point inputs."""
    probe_batch: int = 200
    """Inputs per seed for the off-fixed-point starts and the gradient statistics (whose memory is
    depth x batch x width per seed)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "depth", "width", "batch", "probe_batch"))
        if self.depth < 10:
            raise ValueError(f"depth must be at least 10, the notes' tanh depth (got {self.depth})")
        if not self.start_means or len(self.start_means) != len(self.start_stds):
            raise ValueError(f"start_means and start_stds must pair up (got {len(self.start_means)} and "
                             f"{len(self.start_stds)})")
        if not all(s > 0 for s in self.start_stds):
            raise ValueError(f"start_stds must be positive (got {self.start_stds})")

    def probe(self, batch: int) -> depth_probe.Probe:
        return depth_probe.Probe(self.depth, self.width, batch, self.seeds, self.seed)


PRESETS = {
    "quick": Config(seeds=3, batch=250),
    "paper": Config(seeds=10, depth=128, batch=1000, probe_batch=500),
}


class LayerStats(NamedTuple):
    """One setting's statistics from N(0, 1) inputs."""

    mean: np.ndarray  # (depth, seeds)
    std: np.ndarray  # (depth, seeds)
    quantiles: np.ndarray  # (depth, depth_probe.QUANTILES), mean over seeds


class Starts(NamedTuple):
    """The off-fixed-point inputs N(mean, std^2)."""

    mean: np.ndarray
    std: np.ndarray


class FromStarts(NamedTuple):
    """One network's statistics from the off-fixed-point inputs (for "predicted": the moment map's)."""

    start_mean: np.ndarray  # (starts, seeds, depth); (starts, depth) for the moment map
    start_std: np.ndarray


class Gradient(NamedTuple):
    """One network's backward statistics: std of dL/dh_l per layer and the per-layer gain."""

    grad_std: np.ndarray  # (depth, seeds)
    grad_gain: float


def forward_settings(config: Config, results: Results) -> None:
    every = jax.tree.map(np.asarray, depth_probe.settings_statistics(config.probe(config.batch),
                                                                     list(SETTINGS.values())))
    rows = []
    for index, name in enumerate(SETTINGS):
        one = jax.tree.map(lambda a, i=index: a[i], every)
        records.put(results, name, LayerStats(one.mean.T, one.std.T, one.quantiles.mean(0)))
        std = one.std.mean(0)
        rows.append({"setting": name, **{f"std layer {layer}": float(std[layer - 1]) for layer in (1, 2, 3, 10)},
                     f"std layer {config.depth}": float(std[-1]),
                     "std min..max (all layers, seeds)": f"{one.std.min():.3g}..{one.std.max():.3g}",
                     "max |mean|": float(np.abs(one.mean).max())})
    results.tables["Inputs N(0, 1): per-layer activation std (mean over seeds)"] = rows


def off_fixed_point(config: Config, results: Results) -> None:
    starts = list(zip(config.start_means, config.start_stds))
    records.put(results, "start", Starts(np.array(config.start_means), np.array(config.start_stds)))
    with jax.enable_x64(True):
        predicted = [selu.iterate_random_layers(m, s**2, config.depth) for m, s in starts]
    records.put(results, "predicted", FromStarts(np.stack([np.asarray(p.mean) for p in predicted]),
                                                 np.stack([np.sqrt(np.asarray(p.var)) for p in predicted])))
    every = jax.tree.map(np.asarray, depth_probe.start_statistics(
        config.probe(config.probe_batch), [(a, nn.lecun_std) for a in CONVERGING.values()],
        config.start_means, config.start_stds))
    for index, name in enumerate(CONVERGING):
        records.put(results, name, FromStarts(every.mean[index], every.std[index]))
    curves = {name: records.get(results, name, FromStarts).start_std.mean(1) for name in CONVERGING}
    curves["predicted (moment map)"] = records.get(results, "predicted", FromStarts).start_std
    shown = sorted({layer for layer in (1, 2, 4, 16) if layer <= config.depth} | {config.depth})
    results.tables["Off-fixed-point inputs: per-layer activation std (mean over seeds; no biases, LeCun weights)"] = [
        {"input": f"N({m:g}, {s:g}^2)", "network": name, **{f"std layer {n}": float(std[i, n - 1]) for n in shown}}
        for i, (m, s) in enumerate(starts) for name, std in curves.items()]


def backward(config: Config, results: Results) -> None:
    every = depth_probe.gradient_stds(config.probe(config.probe_batch), [(a, s) for a, s, _ in BACKWARD.values()])
    rows = []
    for (name, (_, _, mean_field)), grad_std in zip(BACKWARD.items(), every):
        total = grad_std[0] / grad_std[-1]  # layer 1 against the top layer, per seed
        gain = stats.mean(total ** (1.0 / (config.depth - 1)))
        records.put(results, name, Gradient(grad_std, gain.value))
        rows.append({"network": name, "grad std layer 1 / layer L (mean over seeds)": float(total.mean()),
                     "per-layer gain (t 95%)": f"{gain:.4f}", "mean-field gain": mean_field()})
    results.tables[f"Backward pass from N(0, 1) inputs: std of dL/dh_l, L = <h_{config.depth}, r>, r ~ N(0, 1)"] = rows


def run(config: Config, session) -> Results:
    results = Results(arrays={"layer": np.arange(1, config.depth + 1)})
    forward_settings(config, results)
    off_fixed_point(config, results)
    backward(config, results)
    collapse = records.get(results, COLLAPSE, LayerStats).std.mean(1)
    linear_std = records.get(results, "linear, LeCun normal", LayerStats).std
    selu_mean = records.get(results, "SELU", FromStarts).start_mean
    linear_mean = np.abs(records.get(results, "linear", FromStarts).start_mean).max()
    selu_gain = records.get(results, "SELU, LeCun", Gradient).grad_gain
    results.notes += [
        (f"tanh with 0.01 N(0,1): std {collapse[0]:.4g}, {collapse[1]:.3g}, {collapse[2]:.3g} at layers 1-3 and "
        f"{collapse[9]:.2g} at layer 10; the ratio is 0.01 sqrt(width) = {0.01 * config.width ** 0.5:.4f} "
        "because tanh is the identity near 0."),
        (f"From N(0, 1) inputs a linear network with LeCun weights keeps std {linear_std.min():.3f}..."
        f"{linear_std.max():.3f} over {config.depth} layers, as SELU does (first table), so the SELU claims start "
        "elsewhere. The pooled mean is not a claim: zero-mean random weights average the input's mean away, so "
        f"the linear network's |mean| is at most {linear_mean:.3f} at every layer from input means up to "
        f"{max(abs(m) for m in config.start_means):g} and would pass 'the mean goes to 0'; SELU's rises to "
        f"{np.abs(selu_mean[:, :, 0]).max():.3f} at layer 1 (the moment map's positive mean of a wide z) and is at "
        f"most {np.abs(selu_mean[:, :, -1]).max():.3f} at layer {config.depth}."),
        (f"Backward: SELU's gradient std grows by {selu_gain:.4f} per layer toward the input "
        f"(x{selu_gain ** (config.depth - 1):.1f} over {config.depth} layers), the mean-field value "
        f"sqrt(E[selu'(z)^2]) = {float(np.sqrt(selu.selu_backward_gain())):.4f} at z ~ N(0, 1). Theorem 1 "
        "normalizes the forward statistics only. Not a claim: the paper states no backward number."),
    ]
    return results


def figures(results: Results, directory) -> None:
    layer = results.arrays["layer"]
    forward = {name: records.get(results, name, LayerStats) for name in SETTINGS}
    starts = {name: records.get(results, name, FromStarts) for name in (*CONVERGING, "predicted")}
    grads = {name: records.get(results, name, Gradient).grad_std for name in BACKWARD}
    fig, axes = plots.new_figure(4, 1, width=4.4)
    for index, (name, one) in enumerate(forward.items()):
        plots.seed_band(axes[0, 0], layer, one.std, name, color=f"C{index}")
        plots.seed_band(axes[0, 2], layer, one.mean, name, color=f"C{index}")
    axes[0, 0].set(xlabel="layer", ylabel="activation std", yscale="log", ylim=(1e-8, 3.0),
                   title="inputs N(0, 1): std per layer (log)")
    axes[0, 0].legend(fontsize=6)
    axes[0, 2].set(xlabel="layer", ylabel="activation mean", title="inputs N(0, 1): mean per layer")
    ax = axes[0, 1]
    for i, (m, sd) in enumerate(zip(*records.get(results, "start", Starts))):
        plots.seed_band(ax, layer, starts["SELU"].start_std[i].T, f"SELU from N({m:g}, {sd:g}^2)", color=f"C{i}")
        ax.plot(layer, starts["linear"].start_std[i].mean(0), "--", color=f"C{i}", lw=0.9)
        ax.plot(layer, starts["predicted"].start_std[i], ":", color="k", lw=0.8)
    ax.axhline(1.0, color="0.5", lw=0.5)
    ax.set(xlabel="layer", ylabel="activation std", xscale="log", yscale="log",
           title="off (0, 1): SELU -, linear --, moment map :")
    ax.legend(fontsize=6)
    ax = axes[0, 3]
    for index, (name, grad_std) in enumerate(grads.items()):
        plots.seed_band(ax, layer, grad_std, name, color=f"C{index}")
    ax.set(xlabel="layer l", ylabel="std of dL/dh_l", yscale="log", title="backward pass from N(0, 1) inputs")
    ax.legend(fontsize=7)
    plots.save(fig, directory, "std_per_layer", layer=layer, **{f"{n} std": s.std for n, s in forward.items()},
               **{f"{n} from starts": s.start_std for n, s in starts.items()}, **grads)

    fig, axes = plots.new_figure(4, 2, width=3.6, height=2.9)
    levels = depth_probe.QUANTILES
    for ax, (index, (name, one)) in zip(axes.flat, enumerate(forward.items())):
        q = one.quantiles  # (depth, levels): 5, 25, 50, 75, 95%
        ax.fill_between(layer, q[:, 0], q[:, 4], color=f"C{index}", alpha=0.2, lw=0,
                        label=f"{levels[0]:.0%}-{levels[4]:.0%} of activations")
        ax.fill_between(layer, q[:, 1], q[:, 3], color=f"C{index}", alpha=0.45, lw=0,
                        label=f"{levels[1]:.0%}-{levels[3]:.0%}")
        ax.plot(layer, q[:, 2], color=f"C{index}", lw=1.2, label="median")
        ax.set(title=name, xlabel="layer", ylabel=f"activation quantiles (units x {selu.QUANTILE_ROWS} inputs)", xscale="log")
    axes[0, 0].legend(fontsize=7)
    axes[-1, -1].text(0.5, 0.5, "quantiles per layer,\naveraged over seeds;\ninputs x ~ N(0, 1)", ha="center",
                      va="center", transform=axes[-1, -1].transAxes)
    axes[-1, -1].axis("off")
    plots.save(fig, directory, "activation_quantiles", layer=layer, levels=np.array(levels),
               **{f"{n} quantiles": s.quantiles for n, s in forward.items()})


# Measures: per-seed samples from the records, a t interval over seeds.

def std_of(r: Results, name: str) -> np.ndarray:
    return records.get(r, name, LayerStats).std  # (depth, seeds)


def std_at(name: str, layer: int):
    return lambda r: stats.mean(std_of(r, name)[layer - 1])


def collapse_ratio(name: str):
    """std[l] / std[l-1] over layers 2..10 and seeds: each layer draws its own weights, so each ratio is an
    independent sample (t over the layer-seed pairs)."""
    return lambda r: stats.mean((std_of(r, name)[1:10] / std_of(r, name)[:9]).ravel(), "layer-seed ratios")


def lowest_std(name: str):
    return lambda r: stats.mean(std_of(r, name).min(0))


def convergence_error(name: str):
    """Per seed, the largest |std - 1| at the last layer over the off-fixed-point starts."""
    return lambda r: stats.mean(np.abs(records.get(r, name, FromStarts).start_std[:, :, -1] - 1.0).max(0))


def moment_map_error(name: str):
    """Per seed, the relative gap between the measured std and the iterated moment map, root mean
    square over layers, worst start."""
    def measure(r):
        predicted = records.get(r, "predicted", FromStarts).start_std
        gap = records.get(r, name, FromStarts).start_std / predicted[:, None, :] - 1.0
        return stats.mean(np.sqrt(np.mean(gap**2, axis=2)).max(axis=0))
    return measure


LAYERS = np.arange(1, 65)


def curves(std_by_layer: dict[str, np.ndarray], seeds: int = 3, spread: float = 0.002) -> Results:
    """Synthetic per-layer std curves (depth, seeds), seeds a small relative spread apart."""
    results, factor = Results(), 1 + spread * np.linspace(-1, 1, seeds)
    for name, std in std_by_layer.items():
        curve = np.outer(std, factor)
        records.put(results, name, LayerStats(0 * curve, curve, np.zeros((len(std), 5))))
    return results


def geometric(first: float, ratio: float) -> np.ndarray:
    return first * ratio ** (LAYERS - 1)


def starts_case(selu_like: bool, seeds: int = 3) -> Results:
    """Synthetic off-fixed-point runs: the linear net keeps each start's std; the SELU slot holds a net
    contracting to 1 along the moment map's curve (the passing case) or the linear one (the control)."""
    start_std = np.array([3.0, 0.3, 2.0])
    predicted = 1.0 + (start_std[:, None] - 1.0) * 0.8 ** LAYERS  # (starts, depth)
    kept = np.repeat(start_std[:, None], len(LAYERS), 1)
    noise = (1 + 0.003 * np.linspace(-1, 1, seeds))[None, :, None]
    results = Results()
    for name, std in {"predicted": predicted, "linear": kept[:, None, :] * noise,
                      "SELU": (predicted if selu_like else kept)[:, None, :] * noise}.items():
        records.put(results, name, FromStarts(0 * std, std))
    return results


NOTES_TANH = {COLLAPSE: geometric(0.214, 0.2236)}
XAVIER_CURVE = {COLLAPSE: 0.5 * 0.97 ** LAYERS, SATURATE: 0.5 * 0.97 ** LAYERS}
LINEAR_SAME = "linear network, same LeCun weights and inputs (measured at run time)"

# Tolerances, each from a stated source (the report's claims table shows the regions):
# - layer-1 std: the notes' 0.214 is one draw of a 1000 x 500 batch printed to 3 digits: half a unit of the
#   last digit (0.0005) plus 2 standard deviations of one such draw (0.00036, 30 draws; docs/claims/selu.md);
# - the ratio: 0.01 sqrt(500) = 0.2236, which the notes print as 0.224: half a unit of the last digit;
# - layer 10 below 1e-6: the notes' 2.9e-7 rounded up to its order of magnitude (the collapse itself);
# - saturation: the notes' "~0.98", two digits: half a unit of the last digit;
# - SELU's convergence and the moment map: g is the infinite-width (central-limit) description; at width n
#   the pooled statistics deviate by O(1/sqrt(n)): 2 / sqrt(500) = 0.089 (two such units).
LAYER1_TOLERANCE = 0.0005 + 2 * 0.00036
COLLAPSE_RATIO = 0.01 * PRESETS["quick"].width ** 0.5
FINITE_WIDTH = 2 / PRESETS["quick"].width ** 0.5
CLAIMS = [
    Claim(statement="tanh, W ~ 0.01 N(0,1): layer-1 std", paper="0.214", measure=std_at(COLLAPSE, 1),
          region=near(0.214, LAYER1_TOLERANCE),
          control=Control(name="linear network, W ~ 0.01 N(0,1): std 0.01 sqrt(500) = 0.2236 (measured at run time)",
                          results=lambda: curves({COLLAPSE: geometric(0.2236, 0.2236)})),
          passing=lambda: curves(NOTES_TANH), baseline=std_at(LINEAR_SMALL, 1), fmt="{:.4f}"),
    Claim(statement="... the std falls x0.01 sqrt(500) = 0.2236 a layer (std ratio of layers 2-10, each layer an "
          "independent weight draw)", paper="about 0.224", measure=collapse_ratio(COLLAPSE),
          region=near(COLLAPSE_RATIO, 0.0005),
          control=Control(name="perturbed scale W ~ 0.02 N(0,1): x0.447 a layer",
                          results=lambda: curves({COLLAPSE: geometric(0.42, 0.447)})),
          passing=lambda: curves(NOTES_TANH), fmt="{:.4f}"),
    Claim(statement="... and is under 1e-6 by layer 10", paper="2.9e-7", measure=std_at(COLLAPSE, 10),
          region=below(1e-6),
          control=Control(name="tanh with Xavier weights (measured at run time)", results=lambda: curves(XAVIER_CURVE)),
          passing=lambda: curves(NOTES_TANH), baseline=std_at(XAVIER, 10), fmt="{:.2g}"),
    Claim(statement="tanh, W ~ N(0,1) saturates (lowest std over layers, per seed)", paper="~0.98",
          measure=lowest_std(SATURATE), region=near(0.98, 0.005),
          control=Control(name="tanh with Xavier weights (measured at run time)", results=lambda: curves(XAVIER_CURVE)),
          passing=lambda: curves({SATURATE: np.full(len(LAYERS), 0.98)}), baseline=lowest_std(XAVIER), fmt="{:.3f}"),
    Claim(statement="SELU + LeCun from off-fixed-point inputs N(m, s^2): std at the last layer within 2/sqrt(width) "
          "of 1 (largest |std - 1| over starts, per seed)", paper="(0, 1) attracts (Theorem 1)",
          measure=convergence_error("SELU"), region=at_most(FINITE_WIDTH),
          control=Control(name=LINEAR_SAME, results=lambda: starts_case(selu_like=False)),
          passing=lambda: starts_case(selu_like=True), baseline=convergence_error("linear"), fmt="{:.4f}"),
    Claim(statement="... and the std follows the moment map g iterated from each start, within 2/sqrt(width) "
          "(largest relative gap over starts, rms over layers, per seed)", paper="g, eq. (4)-(5)",
          measure=moment_map_error("SELU"), region=at_most(FINITE_WIDTH),
          control=Control(name=LINEAR_SAME, results=lambda: starts_case(selu_like=False)),
          passing=lambda: starts_case(selu_like=True), baseline=moment_map_error("linear"), fmt="{:.4f}"),
]


if __name__ == "__main__":
    main(NAME)

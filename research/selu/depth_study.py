"""selu-depth's computations: the random networks (registries), their statistics as records and report
rows, the claims' per-seed measures and the synthetic contract cases.

The notes' experiment (from CS231n): inputs x ~ N(0, 1) of width 500 through tanh layers of 500
units with W ~ 0.01 N(0, 1): each layer multiplies the std by about 0.01 sqrt(500) = 0.224 (tanh is
the identity near 0); with W ~ N(0, 1) the units saturate. Klambauer et al. (2017): with SELU and
LeCun normal weights, (0, 1) is an attracting fixed point of the layer's moment map.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import nn, records, stats
from common.experiment import Results
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


def forward_settings(probe: depth_probe.Probe, results: Results) -> None:
    """Each SETTINGS network's statistics from N(0, 1) inputs: records and the report's table."""
    every = jax.tree.map(np.asarray, depth_probe.settings_statistics(probe, list(SETTINGS.values())))
    rows = []
    for index, name in enumerate(SETTINGS):
        one = jax.tree.map(lambda a, i=index: a[i], every)
        records.put(results, name, LayerStats(one.mean.T, one.std.T, one.quantiles.mean(0)))
        std = one.std.mean(0)
        rows.append({"setting": name, **{f"std layer {layer}": float(std[layer - 1]) for layer in (1, 2, 3, 10)},
                     f"std layer {probe.depth}": float(std[-1]),
                     "std min..max (all layers, seeds)": f"{one.std.min():.3g}..{one.std.max():.3g}",
                     "max |mean|": float(np.abs(one.mean).max())})
    results.tables["Inputs N(0, 1): per-layer activation std (mean over seeds)"] = rows


def off_fixed_point(probe: depth_probe.Probe, start_means, start_stds, results: Results) -> None:
    """SELU and the linear network from N(m, s^2) inputs, beside the moment map iterated from each start."""
    starts = list(zip(start_means, start_stds))
    records.put(results, "start", Starts(np.array(start_means), np.array(start_stds)))
    with jax.enable_x64(True):
        predicted = [selu.iterate_random_layers(m, s**2, probe.depth) for m, s in starts]
    records.put(results, "predicted", FromStarts(np.stack([np.asarray(p.mean) for p in predicted]),
                                                 np.stack([np.sqrt(np.asarray(p.var)) for p in predicted])))
    every = jax.tree.map(np.asarray, depth_probe.start_statistics(
        probe, [(a, nn.lecun_std) for a in CONVERGING.values()], start_means, start_stds))
    for index, name in enumerate(CONVERGING):
        records.put(results, name, FromStarts(every.mean[index], every.std[index]))
    curves = {name: records.get(results, name, FromStarts).start_std.mean(1) for name in CONVERGING}
    curves["predicted (moment map)"] = records.get(results, "predicted", FromStarts).start_std
    shown = sorted({layer for layer in (1, 2, 4, 16) if layer <= probe.depth} | {probe.depth})
    results.tables["Off-fixed-point inputs: per-layer activation std (mean over seeds; no biases, LeCun weights)"] = [
        {"input": f"N({m:g}, {s:g}^2)", "network": name, **{f"std layer {n}": float(std[i, n - 1]) for n in shown}}
        for i, (m, s) in enumerate(starts) for name, std in curves.items()]


def backward(probe: depth_probe.Probe, results: Results) -> None:
    """Each BACKWARD network's gradient std per layer and its per-layer gain (t over seeds)."""
    every = depth_probe.gradient_stds(probe, [(a, s) for a, s, _ in BACKWARD.values()])
    rows = []
    for (name, (_, _, mean_field)), grad_std in zip(BACKWARD.items(), every):
        total = grad_std[0] / grad_std[-1]  # layer 1 against the top layer, per seed
        gain = stats.mean(total ** (1.0 / (probe.depth - 1)))
        records.put(results, name, Gradient(grad_std, gain.value))
        rows.append({"network": name, "grad std layer 1 / layer L (mean over seeds)": float(total.mean()),
                     "per-layer gain (t 95%)": f"{gain:.4f}", "mean-field gain": mean_field()})
    results.tables[f"Backward pass from N(0, 1) inputs: std of dL/dh_l, L = <h_{probe.depth}, r>, r ~ N(0, 1)"] = rows


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

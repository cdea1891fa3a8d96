"""Blundell et al. 2015's toy regression problem (Sec. 5.2, Fig. 5): training data on [0, 0.5], a grid
over [-0.2, 1.2] and held-out draws inside and outside the data; and the predictive function draws of
a Bayes-by-Backprop posterior, of its untrained initialization and of a plain network on all of them."""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from common import records
from common.data.synthetic import toy_regression
from common.experiment import Results
from common.train import new_state
from research.bayes import bbb, predictive
from research.bayes.noise import he_init

TRAIN_LOW, TRAIN_HIGH = 0.0, 0.5
GRID_LOW, GRID_HIGH = -0.2, 1.2
REGIONS = {"inside": ("inside [0, 0.5]", TRAIN_LOW, TRAIN_HIGH),  # held-out points: label, x range
           "outside": ("outside (0.5, 1.2]", TRAIN_HIGH, GRID_HIGH)}


class Data(NamedTuple):
    x: jax.Array  # (N, 1) training inputs
    y: jax.Array  # (N,)
    grid: np.ndarray  # (P, 1) over [GRID_LOW, GRID_HIGH]
    heldout: dict  # REGIONS key -> (x (H, 1), y (H, 1)), fresh draws of the curve


def make_data(seed: int, num_train: int, num_heldout: int, grid_points: int, noise_std: float) -> Data:
    """Training points from key(seed), held-out points of each region from split(key(seed + 3))."""
    draw = jax.jit(toy_regression, static_argnums=1)  # one program for the training and held-out draws
    x, y = draw(jax.random.key(seed), num_train, TRAIN_LOW, TRAIN_HIGH, noise_std)
    keys = dict(zip(REGIONS, jax.random.split(jax.random.key(seed + 3))))
    heldout = {region: draw(keys[region], num_heldout, low, high, noise_std)
               for region, (_, low, high) in REGIONS.items()}
    return Data(x, y[:, 0], np.linspace(GRID_LOW, GRID_HIGH, grid_points, dtype=np.float32)[:, None], heldout)


def inside_mask(grid_P: np.ndarray) -> np.ndarray:
    return (grid_P >= TRAIN_LOW) & (grid_P <= TRAIN_HIGH)


class Draws(NamedTuple):
    """Function draws (seeds, draws, points) of the trained and the untrained posterior at the points
    `at` names (train, grid, REGIONS keys: slices of the points axis); standard-normal observation noise
    (seeds, draws, points) per number of points; the plain network on the grid (seeds, P)."""
    trained: np.ndarray
    untrained: np.ndarray
    at: dict
    unit_noise: dict
    plain_grid: np.ndarray


def draw_functions(data: Data, posterior: bbb.BayesMLP, init_posterior: Callable, keys, plain_apply: Callable,
                   plain_params, plain_state, key, num_samples: int) -> Draws:
    """Every prediction in one program, with the plain sampler (whole functions per draw): the posterior's,
    that of `init_posterior(keys)` (its untrained start: a ReLU net's output spread grows with |x| by itself),
    and `plain_apply(params, state, x)` of the plain networks; draw keys and noise keys from split(key)."""
    draw_key, noise_key = jax.random.split(key)
    points = {"train": data.x, "grid": data.grid, **{region: x_h for region, (x_h, _) in data.heldout.items()}}
    seeds = len(keys)
    sizes = {len(data.grid), len(data.heldout["inside"][0])}

    @jax.jit
    def predict(bayes_params, plain_params, plain_state, x_Px1):
        params_R = jax.tree.map(lambda *leaves: jnp.concatenate(leaves),  # trained, then untrained
                                bayes_params, jax.vmap(init_posterior)(keys).params)
        functions = lax.map(  # a run at a time: (draws, points, width) activations per run
            lambda p: bbb.predictive_samples(p, x_Px1, draw_key, num_samples, "plain")[..., 0], params_R)
        noise = {shape: jax.random.normal(noise_key, (seeds, num_samples, shape))
                 for shape in sizes}  # the key's draw for that shape
        plain = jax.vmap(lambda p, s: plain_apply(p, s, x_Px1))(plain_params, plain_state)
        return functions, noise, plain[..., 0]

    functions, unit_noise, plain_all = predict(posterior, plain_params, plain_state,
                                               np.concatenate([np.asarray(p) for p in points.values()]))
    functions, plain_all = np.asarray(functions), np.asarray(plain_all)
    bounds = np.cumsum([0] + [len(p) for p in points.values()])
    at = {name: slice(lo, hi) for name, lo, hi in zip(points, bounds[:-1], bounds[1:])}
    return Draws(functions[:seeds], functions[seeds:], at, unit_noise, plain_all[:, at["grid"]])


class Coverage(NamedTuple):
    """Per seed, the fraction of held-out points inside the widest predictive band, by region."""
    inside: np.ndarray
    outside: np.ndarray


class CoverageTable(NamedTuple):
    rows: list  # per region and noise model: the mean over seeds of each band's coverage
    per_seed: dict  # noise model -> Coverage


def coverage(data: Data, draws: Draws, scales: dict, levels: tuple[float, ...]) -> CoverageTable:
    """How often held-out points (fresh noise) fall inside the central predictive bands of each level,
    inside the training interval and outside it (where the curve is extrapolated), for every noise model
    (`scales`: noise model -> per-seed noise std, added to the function draws)."""
    rows, per_seed = [], {model: {} for model in scales}
    for region, (label, _, _) in REGIONS.items():
        x_h, y_h = (np.asarray(a[:, 0]) for a in data.heldout[region])
        for model, scale_S in scales.items():
            noisy = predictive.with_noise(draws.trained[..., draws.at[region]], scale_S, draws.unit_noise[len(x_h)])
            covered = {level: predictive.band_coverage(noisy, y_h, level) for level in levels}
            rows.append({"noise model": model, "region": label, "noise std": float(np.mean(scale_S)),
                         **{f"{level:.0%} band covers": float(np.mean(c)) for level, c in covered.items()}})
            per_seed[model][region] = covered[max(levels)]
    return CoverageTable(rows, {model: Coverage(**by_region) for model, by_region in per_seed.items()})


def plain_init_fn(sizes: tuple[int, ...], optimizer) -> Callable:
    """init(key) -> TrainState of a plain ReLU MLP of `sizes`, He-initialized (what `MLP.init_variables`
    makes, drawn in one compiled loop)."""

    def init(key):
        params = he_init(key, sizes)
        return new_state(params, optimizer.init(params), key, {})

    return init


def squared_error(pred_Bx1, target_B):
    return jnp.mean(jnp.square(pred_Bx1[:, 0] - target_B))


class SideOfData(NamedTuple):
    label: str
    on_grid: Callable  # grid (P,) -> mask of the side's points
    std_ratio: Callable  # predictive.Spread -> per-seed std ratio of the side over inside


SIDES = {"left": SideOfData("left of the data, x in [-0.2, 0)", lambda grid: grid < TRAIN_LOW,
                            lambda spread: spread.std_ratio_left_per_seed),
         "right": SideOfData("right of the data, x in (0.5, 1.2]", lambda grid: grid > TRAIN_HIGH,
                             lambda spread: spread.std_ratio_right_per_seed)}


NARROWED = 4.0  # the coverage's run-time control: the method's own band narrowed this many times about its median


class Side(NamedTuple):
    """Per seed of a method, on one side of the data: its outside / inside std ratio over a reference
    posterior's, and the fraction of the reference's draws of f(x) inside its central 95% band (mean over the
    side's grid points), and inside that band narrowed `NARROWED` times about the method's median."""
    ratio: np.ndarray
    covered: np.ndarray
    covered_narrowed: np.ndarray


def against_reference(draws_SxDxP: np.ndarray, reference_ExP: np.ndarray, grid_P: np.ndarray,
                      truth_P: np.ndarray) -> dict[str, Side]:
    """Each side of the data: how a method's band of f(x) (S seeds of D draws) widens and covers against a
    reference posterior's E draws."""
    def spread(draws):
        return predictive.spread(draws, grid_P, TRAIN_LOW, TRAIN_HIGH, truth_P)

    method, reference = spread(draws_SxDxP), spread(reference_ExP[None])
    median_SxP = np.median(draws_SxDxP, axis=1, keepdims=True)
    covered_SxP, narrowed_SxP = (predictive.band_covers_draws(d, reference_ExP, 0.95) for d in (
        draws_SxDxP, median_SxP + (draws_SxDxP - median_SxP) / NARROWED))  # quantiles scale with the draws
    return {side: Side(spec.std_ratio(method) / spec.std_ratio(reference), covered_SxP[:, spec.on_grid(grid_P)].mean(1),
                       narrowed_SxP[:, spec.on_grid(grid_P)].mean(1)) for side, spec in SIDES.items()}


def flat_band_ratio(side: str, reference: str) -> Callable[[Results], float]:
    """A claim's run-time control: what a band as wide outside the data as inside (std ratio 1) measures on
    `side` against the `predictive.Spread` stored under `reference` (a records prefix): 1 over its ratio."""
    return lambda results: float(1 / np.mean(SIDES[side].std_ratio(records.get(results, reference,
                                                                               predictive.Spread))))

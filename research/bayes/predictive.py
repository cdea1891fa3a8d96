"""The predictive distribution of a regression network from its weight draws: the
observation noise added to each draw, the band's coverage of held-out points and the
spread's growth away from the training interval (Blundell et al. 2015, Sec. 5.2, Fig. 5).
Arrays are named by their axes: S seeds, D draws, P points."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common.data.synthetic import toy_regression_mean


def noise_scales(functions_SxDxN: np.ndarray, y_N: np.ndarray, noise_std: float) -> dict[str, np.ndarray]:
    """Per seed, the predictive noise std of each noise model, from the draws at the N training points:
    `fitted`, the root-mean-square residual of the predictive mean (the maximum-likelihood homoscedastic
    noise); `likelihood`, the training likelihood's `noise_std`; `none`, weight uncertainty only."""
    seeds = functions_SxDxN.shape[0]
    residual_SxN = functions_SxDxN.mean(axis=1) - y_N
    return {"fitted": np.sqrt(np.mean(np.square(residual_SxN), axis=1)),
            "likelihood": np.full(seeds, noise_std), "none": np.zeros(seeds)}


def with_noise(draws_SxDxP: np.ndarray, scale_S: np.ndarray, unit_SxDxP) -> np.ndarray:
    """Predictive draws y = f_w(x) + scale * z, z ~ N(0, 1) given (`unit_SxDxP`)."""
    return draws_SxDxP + scale_S[:, None, None] * np.asarray(unit_SxDxP)


def band_coverage(draws_SxDxP: np.ndarray, y_P: np.ndarray, level: float) -> np.ndarray:
    """Per seed, the fraction of the points y_P inside the central `level` band of the draws."""
    lo, hi = np.quantile(draws_SxDxP, [0.5 - level / 2, 0.5 + level / 2], axis=1)
    return np.mean((lo <= y_P) & (y_P <= hi), axis=1)


def std_ratio(std_SxP: np.ndarray, outside_P: np.ndarray, inside_P: np.ndarray) -> np.ndarray:
    """Per seed, the mean predictive std over the points `outside_P` over its mean over `inside_P`."""
    return std_SxP[:, outside_P].mean(axis=1) / std_SxP[:, inside_P].mean(axis=1)


def rmse(prediction_SxP: np.ndarray, truth_P: np.ndarray, where_P: np.ndarray) -> np.ndarray:
    """Per seed, the root-mean-square error of a prediction against the true mean over `where_P`."""
    return np.sqrt(np.mean(np.square(prediction_SxP[:, where_P] - truth_P[where_P]), axis=1))


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def data_noise_std(noise_std: float, seed: int, low: float, high: float, points: int = 101,
                   draws: int = 4000) -> jax.Array:
    """RMS over x in [low, high] of std(y | x) of the generating process y = f(x + eps) (Monte Carlo
    over eps at fixed x, key(seed)): what a calibrated predictive's noise has to match inside the data."""
    x_P = jnp.linspace(low, high, points)
    eps_DxP = noise_std * jax.random.normal(jax.random.key(seed), (draws, points))
    y_DxP = toy_regression_mean(x_P + eps_DxP)  # y = f(x + eps): eps enters the sines and beside them
    return jnp.sqrt(jnp.mean(jnp.var(y_DxP, axis=0)))


class Band(NamedTuple):
    """A predictive distribution's median, quartiles, central 95% band and std, (seeds, points) each."""
    median: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    q025: np.ndarray
    q975: np.ndarray
    std: np.ndarray


def band(draws_SxDxP: np.ndarray) -> Band:
    quantiles = {name: np.quantile(draws_SxDxP, q, axis=1)
                 for name, q in (("q25", 0.25), ("q75", 0.75), ("q025", 0.025), ("q975", 0.975))}
    return Band(np.median(draws_SxDxP, axis=1), **quantiles, std=draws_SxDxP.std(axis=1))


class Spread(NamedTuple):
    """Per seed: the predictive std outside the data over inside (on a grid), pooled over both sides and on
    each side alone (Blundell et al. 2015, Fig. 5 widens on both), and the RMSE of the median inside."""
    std_ratio_per_seed: np.ndarray
    rmse_inside_per_seed: np.ndarray
    std_ratio_left_per_seed: np.ndarray
    std_ratio_right_per_seed: np.ndarray


def spread(draws_SxDxP: np.ndarray, grid_P: np.ndarray, low: float, high: float, truth_P: np.ndarray) -> Spread:
    """`Spread` of draws on `grid_P` around the training interval [low, high]."""
    std, inside = draws_SxDxP.std(axis=1), (grid_P >= low) & (grid_P <= high)
    return Spread(std_ratio(std, ~inside, inside), rmse(np.median(draws_SxDxP, axis=1), truth_P, inside),
                  std_ratio(std, grid_P < low, inside), std_ratio(std, grid_P > high, inside))


def band_covers_draws(draws_SxDxP: np.ndarray, reference_ExP: np.ndarray, level: float) -> np.ndarray:
    """Per seed and point, the fraction of another distribution's draws (E of them, e.g. an exact posterior's)
    inside the central `level` band of each seed's draws: (S, P)."""
    lo, hi = np.quantile(draws_SxDxP, [0.5 - level / 2, 0.5 + level / 2], axis=1)
    return np.stack([np.mean((lo_P <= reference_ExP) & (reference_ExP <= hi_P), axis=0) for lo_P, hi_P in zip(lo, hi)])

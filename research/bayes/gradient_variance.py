"""The noise and the bias of a Bayes-by-Backprop gradient estimator: the likelihood gradient
drawn many times with fresh weight noise on one fixed minibatch (Kingma et al. 2015, Sec. 2.3),
for minibatches of several sizes in one program; the slope of its variance against B; and
whether its mean equals another estimator's, coordinate by coordinate, within Monte-Carlo error."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from research.bayes import bbb


class Estimator(NamedTuple):
    """A gradient estimator: its sampling mode, the tag of its noise keys, and the factor on every
    posterior std it samples with (1: the ELBO's gradient; another: the gradient of another objective)."""

    mode: bbb.Mode
    noise_tag: int
    sigma_factor: float = 1.0


class Moments(NamedTuple):
    """Over the draws: the total variance (sum over parameters) at every batch size, and the mean and
    per-coordinate variance of the flat gradient at the largest."""

    total_variance_B: jax.Array
    mean_P: jax.Array
    variance_P: jax.Array


def scaled_sigma(params: bbb.BayesMLP, factor: float) -> bbb.BayesMLP:
    """The posterior with every std multiplied by `factor` (differentiable in rho)."""
    scale = lambda rho: bbb.rho_from_sigma(factor * bbb.sigma_from_rho(rho))
    return tuple(layer._replace(w_rho=scale(layer.w_rho), b_rho=scale(layer.b_rho)) for layer in params)


def likelihood_gradient_moments(params, x_NxI, y_N, weights_BxN, key, mode: bbb.Mode, sigma_factor,
                                draws: int) -> Moments:
    """`Moments` of the gradient of sum_n w_n NLL_n for each row of `weights_BxN` (a minibatch given as
    weights 1/B on its B examples, 0 elsewhere, rows by increasing B), so one compiled program serves every
    batch size: the noise of an example never depends on the others'. Sampled with every posterior std
    times `sigma_factor` (may be traced: one program for every factor)."""

    def gradient(weights_N, draw_key):
        def expected_nll(p):
            logits = bbb.mlp_apply(scaled_sigma(p, sigma_factor), x_NxI, draw_key, mode)
            return jnp.sum(weights_N * bbb.categorical_nll(logits, y_N))

        return ravel_pytree(jax.grad(expected_nll)(params))[0]

    keys = jax.random.split(key, draws)
    grads_BxDxP = jax.vmap(lambda w: jax.vmap(lambda k: gradient(w, k))(keys))(weights_BxN)
    variance_BxP = jnp.var(grads_BxDxP, axis=1, ddof=1)
    return Moments(jnp.sum(variance_BxP, axis=1), jnp.mean(grads_BxDxP[-1], axis=0), variance_BxP[-1])


def mean_squared_z(a: Moments, b: Moments, draws: int) -> np.ndarray:
    """Per leading index: the mean over coordinates of z^2, z = (mean_a - mean_b) / its Monte-Carlo standard
    error sqrt((var_a + var_b) / draws), over the coordinates where either varies. About 1 when both
    estimate the same mean gradient (t^2 of 2 (draws - 1) degrees of freedom: 1.07 at 16 draws); a bias of
    c standard errors in every coordinate adds c^2."""
    noise = (np.asarray(a.variance_P) + np.asarray(b.variance_P)) / draws
    z2 = np.square(np.asarray(a.mean_P) - np.asarray(b.mean_P)) / np.where(noise > 0, noise, np.nan)
    return np.nanmean(z2, axis=-1)


def prefix_weights(batch_sizes) -> np.ndarray:
    """(sizes, largest) minibatch weights: the first B examples of a fixed subset of size max(B), 1/B each."""
    batch_sizes = np.asarray(batch_sizes)
    largest = int(batch_sizes.max())
    return (np.arange(largest)[None, :] < batch_sizes[:, None]) / batch_sizes[:, None]


def fit_slope(batch_sizes, variances) -> float:
    """Least-squares slope of log variance against log batch size (NaN where a variance is 0)."""
    variances = np.asarray(variances, float)
    if not np.all(variances > 0):
        return float("nan")
    return float(np.polyfit(np.log(batch_sizes), np.log(variances), 1)[0])


class Samples(NamedTuple):
    """Per (seed, minibatch) sample: the total variance at every batch size, and the mean z^2 of the
    estimator's mean gradient at the largest batch against the reference estimator's."""

    variance_SxB: np.ndarray
    mean_z2_S: np.ndarray


def variance_samples(params, x_train, y_train, batch_sizes, estimators: dict[str, Estimator], reference: str, *,
                     draws: int, minibatches: int, seed: int) -> dict[str, Samples]:
    """`Samples` of every estimator on `minibatches` fixed minibatches (the first B of a random subset of
    size max(B)); `params` has a leading seed axis. Seed s of minibatch m draws its noise from
    fold_in(key(seed + noise_tag + m), s); the z^2 compare each estimator with `reference`."""
    weights = jnp.asarray(prefix_weights(batch_sizes))
    seeds = jax.tree.leaves(params)[0].shape[0]
    measure = {mode: jax.jit(jax.vmap(lambda p, k, x, y, f, mode=mode: likelihood_gradient_moments(
        p, x, y, weights, k, mode, f, draws), in_axes=(0, 0, None, None, None)))
        for mode in {e.mode for e in estimators.values()}}  # one compile per mode: the rest are arguments
    rng = np.random.default_rng(seed)
    variances, z2 = {name: [] for name in estimators}, {name: [] for name in estimators}
    for m in range(minibatches):
        index = rng.choice(x_train.shape[0], weights.shape[1], replace=False)
        x, y = jnp.asarray(x_train[index]), jnp.asarray(y_train[index])
        moments = {}
        for name, e in estimators.items():
            base = jax.random.key(seed + e.noise_tag + m)
            keys = jax.vmap(lambda i, base=base: jax.random.fold_in(base, i))(jnp.arange(seeds))
            moments[name] = measure[e.mode](params, keys, x, y, jnp.float32(e.sigma_factor))
            variances[name].append(np.asarray(moments[name].total_variance_B))
        for name in estimators:
            z2[name].append(mean_squared_z(moments[name], moments[reference], draws))
    return {name: Samples(np.concatenate(variances[name]), np.concatenate(z2[name])) for name in estimators}

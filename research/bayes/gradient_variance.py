"""The noise of a Bayes-by-Backprop gradient estimator: the likelihood gradient drawn many
times with fresh weight noise on one fixed minibatch (Kingma et al. 2015, Sec. 2.3), for
minibatches of several sizes in one program, and the slope of its variance against B."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research.bayes import bbb


def likelihood_gradient_variance(params, x_NxI, y_N, weights_SxN, key, mode: bbb.Mode, draws: int):
    """Total gradient variance for each row of `weights_SxN`, a minibatch given as
    weights 1/B on its B examples (0 elsewhere), so one compiled program serves
    every batch size: the noise of an example never depends on the others'."""

    def gradient(weights_N, draw_key):
        def expected_nll(p):
            logits = bbb.mlp_apply(p, x_NxI, draw_key, mode)
            return jnp.sum(weights_N * bbb.categorical_nll(logits, y_N))

        return jax.grad(expected_nll)(params)

    keys = jax.random.split(key, draws)
    return jax.vmap(lambda w: bbb.gradient_variance(lambda k: gradient(w, k), keys))(weights_SxN)


def prefix_weights(batch_sizes) -> np.ndarray:
    """(sizes, largest) minibatch weights: the first B examples of a fixed subset of size max(B), 1/B each."""
    batch_sizes = np.asarray(batch_sizes)
    largest = int(batch_sizes.max())
    return (np.arange(largest)[None, :] < batch_sizes[:, None]) / batch_sizes[:, None]


def fit_slope(batch_sizes, variances) -> float:
    """Least-squares slope of log variance against log batch size."""
    return float(np.polyfit(np.log(batch_sizes), np.log(variances), 1)[0])


class Estimator(NamedTuple):
    """A gradient estimator compared on variance: its sampling mode and the tag of its noise keys."""

    mode: bbb.Mode
    noise_tag: int


def variance_samples(params, x_train, y_train, batch_sizes, estimators: dict[str, Estimator], *, draws: int,
                     minibatches: int, seed: int) -> dict[str, np.ndarray]:
    """(seeds x minibatches, sizes) total variances of every estimator at every batch size, on `minibatches`
    fixed minibatches (the first B of a random subset of size max(B)); `params` has a leading seed axis.
    Seed s of minibatch m draws its noise from fold_in(key(seed + noise_tag + m), s)."""
    weights = jnp.asarray(prefix_weights(batch_sizes))
    seeds = jax.tree.leaves(params)[0].shape[0]
    measure = {mode: jax.jit(jax.vmap(lambda p, k, x, y, mode=mode: likelihood_gradient_variance(
        p, x, y, weights, k, mode, draws), in_axes=(0, 0, None, None)))
        for mode in {e.mode for e in estimators.values()}}  # one compile per mode: the minibatches are arguments
    rng = np.random.default_rng(seed)
    samples = {name: [] for name in estimators}
    for m in range(minibatches):
        index = rng.choice(x_train.shape[0], weights.shape[1], replace=False)
        x, y = jnp.asarray(x_train[index]), jnp.asarray(y_train[index])
        for name, estimator in estimators.items():
            base = jax.random.key(seed + estimator.noise_tag + m)
            keys = jax.vmap(lambda i, base=base: jax.random.fold_in(base, i))(jnp.arange(seeds))
            samples[name].append(np.asarray(measure[estimator.mode](params, keys, x, y)))
    return {name: np.concatenate(v, axis=0) for name, v in samples.items()}

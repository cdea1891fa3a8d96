"""Random deep networks as one compiled program each: per-layer activation statistics of
several (activation, weight std) settings, from N(0, 1) inputs or from off-fixed-point
inputs N(m, s^2), and the gradient's std through depth (``snn.propagate_depth_statistics``,
``snn.gradient_std_through_depth``). No biases, no training.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from research.selu import snn

# A weight std for a (fan_in, fan_out) layer: W = std * N(0, 1).
WeightStd = Callable[[tuple[int, int]], float | jax.Array]


class Variants(NamedTuple):
    """Networks that differ only in values (activation, weight std), as arrays with a leading
    variant axis, so that one compiled program runs them all (`lax.map` over the variants; the
    activation by `lax.switch`, which runs only the chosen branch)."""

    activations: tuple[Callable, ...]  # the distinct activations
    rows: dict  # {"activation": (V,) index into activations, "std": (V,) float32, ...}

    @classmethod
    def of(cls, pairs, shape: tuple[int, int], **columns) -> "Variants":
        """`pairs`: (activation, std function) per variant; `columns`: more per-variant arrays."""
        activations = tuple(dict.fromkeys(a for a, _ in pairs))
        rows = {"activation": jnp.array([activations.index(a) for a, _ in pairs]),
                "std": jnp.array([std(shape) for _, std in pairs], jnp.float32), **columns}
        return cls(activations, rows)

    def activation(self, row) -> Callable:
        return lambda h: jax.lax.switch(row["activation"], self.activations, h)

    @staticmethod
    def init(row) -> Callable:
        """W ~ std N(0, 1): bit for bit `common.nn`'s initializer of that std (tested)."""
        return lambda key, shape, dtype: jax.random.normal(key, shape, dtype) * row["std"].astype(dtype)


class Probe(NamedTuple):
    """The random networks' sizes and draws."""

    depth: int
    width: int
    batch: int
    seeds: int
    seed: int


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The levels of each layer's activation quantiles."""


def settings_statistics(probe: Probe, pairs) -> snn.DepthStatistics:
    """Per-setting, per-seed statistics from N(0, 1) inputs, arrays (settings, seeds, depth[, quantiles]);
    `pairs`: (activation, weight std) per setting."""
    variants = Variants.of(pairs, (probe.width, probe.width), index=jnp.arange(len(pairs)))

    def one_setting(row):
        def one_seed(key):
            key_x, key_w = jax.random.split(key)
            x_BxD = jax.random.normal(key_x, (probe.batch, probe.width))
            return snn.propagate_depth_statistics(key_w, x_BxD, probe.depth, variants.activation(row),
                                                  variants.init(row), jnp.array(QUANTILES))

        keys = jax.random.split(jax.random.fold_in(jax.random.key(probe.seed), row["index"]), probe.seeds)
        return jax.vmap(one_seed)(keys)

    return jax.jit(lambda rows: jax.lax.map(one_setting, rows))(variants.rows)


def start_statistics(probe: Probe, pairs, means, stds) -> snn.DepthStatistics:
    """Per-network, per-start, per-seed statistics from N(m, s^2) inputs, arrays (networks, starts,
    seeds, depth); every network sees the same inputs and weights."""
    variants = Variants.of(pairs, (probe.width, probe.width))

    def one_network(row):
        def one(key, mean, std):
            key_x, key_w = jax.random.split(key)
            x_BxD = mean + std * jax.random.normal(key_x, (probe.batch, probe.width))
            return snn.propagate_depth_statistics(key_w, x_BxD, probe.depth, variants.activation(row),
                                                  variants.init(row), jnp.zeros(0))

        keys = jax.random.split(jax.random.fold_in(jax.random.key(probe.seed), 1000), probe.seeds)
        per_start = jax.vmap(jax.vmap(one, in_axes=(0, None, None)), in_axes=(None, 0, 0))
        return per_start(keys, jnp.array(means), jnp.array(stds))

    return jax.jit(lambda rows: jax.lax.map(one_network, rows))(variants.rows)


def gradient_stds(probe: Probe, pairs) -> np.ndarray:
    """Gradient std per layer of every network, (networks, depth, seeds); seeds one after another
    (lax.map) to bound memory."""
    variants = Variants.of(pairs, (probe.width, probe.width))

    def one_network(row):
        def one(key):
            key_x, key_w = jax.random.split(key)
            x_BxD = jax.random.normal(key_x, (probe.batch, probe.width))
            return snn.gradient_std_through_depth(key_w, x_BxD, probe.depth, variants.activation(row),
                                                  variants.init(row))

        keys = jax.random.split(jax.random.fold_in(jax.random.key(probe.seed), 2000), probe.seeds)
        return jax.lax.map(one, keys)

    return np.asarray(jax.jit(lambda rows: jax.lax.map(one_network, rows))(variants.rows)).transpose(0, 2, 1)

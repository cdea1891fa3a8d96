"""Pure init/apply models: an MLP (optional BatchNorm, dropout) and a small CNN.

A model is a frozen, hashable dataclass (so it can be a static argument of a
jitted function). `init(key, x) -> (params, state)`; `apply(params, state, x,
*, train, key) -> (logits, new_state)`. `state` holds BatchNorm running
statistics (an empty dict when there is none). Parameter layout, relied on by
pruning: params["layers"][i] = {"w": (fan_in, fan_out) or (*kernel, c_in,
c_out), "b": (fan_out,)}; the last entry is the output layer.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import lax

from common.nn import ACTIVATIONS, INITIALIZERS, dropout

BATCHNORM_MOMENTUM = 0.9
BATCHNORM_EPS = 1e-5


def param_dtype(x) -> jnp.dtype:
    """Parameters take the example input's floating dtype as JAX would store it (a float64
    example gives float64 parameters under x64, float32 without); float32 for integer input."""
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.dtype(jnp.float32)
    return jax.dtypes.canonicalize_dtype(x.dtype)


def dense_init(key, fan_in: int, fan_out: int, init: str, dtype=jnp.float32, gain: float = 1.0) -> dict:
    w = INITIALIZERS[init](key, (fan_in, fan_out), dtype)
    return {"w": w if gain == 1.0 else gain * w, "b": jnp.zeros((fan_out,), dtype)}


def batchnorm(params, state, h, *, train: bool):
    """Ioffe & Szegedy 2015: normalize by batch statistics in training, by the
    running averages at test time; the running averages are the new state."""
    axes = tuple(range(h.ndim - 1))
    if train:
        mean, var = jnp.mean(h, axes), jnp.var(h, axes)
        new_state = {
            "mean": BATCHNORM_MOMENTUM * state["mean"] + (1 - BATCHNORM_MOMENTUM) * mean,
            "var": BATCHNORM_MOMENTUM * state["var"] + (1 - BATCHNORM_MOMENTUM) * var,
        }
    else:
        mean, var, new_state = state["mean"], state["var"], state
    h = (h - mean) * lax.rsqrt(var + BATCHNORM_EPS)
    return h * params["scale"] + params["bias"], new_state


def batchnorm_init(width: int, dtype=jnp.float32) -> tuple[dict, dict]:
    params = {"scale": jnp.ones((width,), dtype), "bias": jnp.zeros((width,), dtype)}
    state = {"mean": jnp.zeros((width,), dtype), "var": jnp.ones((width,), dtype)}
    return params, state


@dataclass(frozen=True)
class MLP:
    """Dense layers `widths`, then a linear output layer of `num_outputs`.

    Every weight is `gain` times a draw of `init` (`init="orthogonal", gain=1.4`
    is TensorFlow's `orthogonal_initializer(gain=1.4)`, the unrolled-GAN
    notebook's); biases start at zero.
    """

    widths: tuple[int, ...]
    num_outputs: int
    activation: str = "relu"
    init: str = "he"
    batchnorm: bool = False
    dropout: float = 0.0
    gain: float = 1.0

    def init_variables(self, key, x):
        fan_in = x.reshape(x.shape[0], -1).shape[1]
        sizes = (fan_in, *self.widths, self.num_outputs)
        keys = jax.random.split(key, len(sizes) - 1)
        dtype = param_dtype(x)
        layers = [dense_init(k, a, b, self.init, dtype, self.gain) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
        params, state = {"layers": layers}, {}
        if self.batchnorm:
            pairs = [batchnorm_init(w, dtype) for w in self.widths]
            params["bn"] = [p for p, _ in pairs]
            state["bn"] = [s for _, s in pairs]
        return params, state

    def apply(self, params, state, x, *, train: bool = False, key=None):
        act = ACTIVATIONS[self.activation]
        h = x.reshape(x.shape[0], -1)
        new_bn = []
        hidden = params["layers"][:-1]
        keys = jax.random.split(key, len(hidden)) if (train and self.dropout > 0) else None
        for i, layer in enumerate(hidden):
            h = h @ layer["w"] + layer["b"]
            if self.batchnorm:
                h, bn_state = batchnorm(params["bn"][i], state["bn"][i], h, train=train)
                new_bn.append(bn_state)
            h = act(h)
            if keys is not None:
                h = dropout(keys[i], h, self.dropout)
        out = params["layers"][-1]
        logits = h @ out["w"] + out["b"]
        return logits, ({"bn": new_bn} if self.batchnorm else state)


@dataclass(frozen=True)
class CNN:
    """Strided convolutions (1-D or 2-D, from the input's rank), then a linear
    output layer. Inputs (N, L) are read as (N, L, 1)."""

    channels: tuple[int, ...]
    num_outputs: int
    kernel: int = 5
    stride: int = 2
    padding: int = 1
    activation: str = "relu"
    init: str = "he"

    def _spatial(self, x):
        return x[..., None] if x.ndim == 2 else x

    def _conv(self, h, w):
        rank = h.ndim - 2
        if rank == 1:
            return self._conv1d_patches(h, w)
        return lax.conv_general_dilated(
            h, w, window_strides=(self.stride,) * rank,
            padding=[(self.padding, self.padding)] * rank, dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )

    def _conv1d_patches(self, h, w):
        """1-D convolution as strided patches times a matrix (im2col): the same
        linear map as lax.conv, but its vmapped gradient is ~8x faster on
        XLA:CPU, where the seeds-batched conv backward is slow."""
        padded = jnp.pad(h, ((0, 0), (self.padding, self.padding), (0, 0)))
        length = (padded.shape[1] - self.kernel) // self.stride + 1
        span = self.stride * (length - 1) + 1
        patches = jnp.stack([padded[:, i:i + span:self.stride] for i in range(self.kernel)], axis=2)
        return patches.reshape(h.shape[0], length, -1) @ w.reshape(-1, w.shape[-1])

    def init_variables(self, key, x):
        h = self._spatial(x[:1])
        rank = h.ndim - 2
        keys = jax.random.split(key, len(self.channels) + 1)
        layers, c_in, dtype = [], h.shape[-1], param_dtype(x)
        for k, c_out in zip(keys[:-1], self.channels):
            w = INITIALIZERS[self.init](k, (self.kernel,) * rank + (c_in, c_out), dtype)
            layers.append({"w": w, "b": jnp.zeros((c_out,), dtype)})
            h = self._conv(h, w)
            c_in = c_out
        layers.append(dense_init(keys[-1], h.reshape(1, -1).shape[1], self.num_outputs, self.init, dtype))
        return {"layers": layers}, {}

    def apply(self, params, state, x, *, train: bool = False, key=None):
        act = ACTIVATIONS[self.activation]
        h = self._spatial(x)
        for layer in params["layers"][:-1]:
            h = act(self._conv(h, layer["w"]) + layer["b"])
        out = params["layers"][-1]
        return h.reshape(h.shape[0], -1) @ out["w"] + out["b"], state


@dataclass(frozen=True)
class Linear:
    """Logistic regression: one linear layer on the flattened input."""

    num_outputs: int
    init: str = "xavier"

    def init_variables(self, key, x):
        fan_in = x.reshape(x.shape[0], -1).shape[1]
        return {"layers": [dense_init(key, fan_in, self.num_outputs, self.init, param_dtype(x))]}, {}

    def apply(self, params, state, x, *, train: bool = False, key=None):
        layer = params["layers"][0]
        return x.reshape(x.shape[0], -1) @ layer["w"] + layer["b"], state

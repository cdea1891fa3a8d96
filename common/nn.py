"""Initializers and activations of the notes, as plain functions.

Variances (REFERENCES section 0): LeCun normal Var = 1/fan_in (Klambauer et al.
2017, for SELU); Xavier/Glorot normal Var = 2/(fan_in + fan_out) (Glorot &
Bengio 2010); He normal Var = 2/fan_in (He et al. 2015, for ReLU).
Orthogonal (Saxe et al. 2014): a random orthogonal matrix, W^T W = I for a
tall or square (fan_in, fan_out) weight, W W^T = I for a wide one.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

# SELU constants (Klambauer et al. 2017, eq. (14)); research/selu/snn.py derives them.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a dense (in, out) or conv (*kernel, in, out) weight."""
    receptive = 1
    for size in shape[:-2]:
        receptive *= size
    return shape[-2] * receptive, shape[-1] * receptive


def lecun_std(shape: tuple[int, ...]) -> jax.Array:
    """sqrt(1 / fan_in), LeCun normal's standard deviation."""
    fan_in, _ = fans(shape)
    return jnp.sqrt(1.0 / fan_in)


def xavier_std(shape: tuple[int, ...]) -> jax.Array:
    """sqrt(2 / (fan_in + fan_out)), Xavier normal's standard deviation."""
    fan_in, fan_out = fans(shape)
    return jnp.sqrt(2.0 / (fan_in + fan_out))


def he_std(shape: tuple[int, ...]) -> jax.Array:
    """sqrt(2 / fan_in), He normal's standard deviation."""
    fan_in, _ = fans(shape)
    return jnp.sqrt(2.0 / fan_in)


def lecun_normal(key, shape, dtype=jnp.float32):
    return jax.random.normal(key, shape, dtype) * lecun_std(shape).astype(dtype)


def xavier_normal(key, shape, dtype=jnp.float32):
    return jax.random.normal(key, shape, dtype) * xavier_std(shape).astype(dtype)


def he_normal(key, shape, dtype=jnp.float32):
    return jax.random.normal(key, shape, dtype) * he_std(shape).astype(dtype)


def scaled_normal(scale: float) -> Callable:
    """W ~ scale * N(0, 1), whatever the fan (the CS231n experiment in the notes)."""

    def init(key, shape, dtype=jnp.float32):
        return scale * jax.random.normal(key, shape, dtype)

    return init


def orthogonal(key, shape, dtype=jnp.float32):
    """Q of the QR of a Gaussian matrix (sign-corrected, so Haar-distributed), over the last axis."""
    return jax.nn.initializers.orthogonal()(key, shape, dtype)


INITIALIZERS: dict[str, Callable] = {
    "lecun": lecun_normal,
    "xavier": xavier_normal,
    "he": he_normal,
    "orthogonal": orthogonal,
}


def selu(x):
    """SELU: lambda * (x if x > 0 else alpha * (exp(x) - 1))."""
    return SELU_LAMBDA * jnp.where(x > 0, x, SELU_ALPHA * jnp.expm1(jnp.minimum(x, 0.0)))


ACTIVATIONS: dict[str, Callable] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "selu": selu,
    "sigmoid": jax.nn.sigmoid,
    "identity": lambda x: x,
}


def cross_entropy(probs, targets):
    """The notes' E = -sum_j t_j log o_j, averaged over rows; `probs` are taken
    as given (not renormalized), `targets` one-hot or soft."""
    return -jnp.mean(jnp.sum(targets * jnp.log(probs), axis=-1))


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[label]; its gradient is o - t."""
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))


def accuracy(logits, labels):
    return jnp.mean(jnp.argmax(logits, axis=-1) == labels)


def dropout(key, x, rate: float):
    """Inverted dropout: zero with probability `rate`, scale survivors by 1/(1-rate)."""
    if rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def conv_output_size(length: int, kernel: int, padding: int, stride: int) -> int:
    """N = (L - f + 2p) / s + 1, floored (Dumoulin & Visin 2016, relationship 6)."""
    return (length - kernel + 2 * padding) // stride + 1

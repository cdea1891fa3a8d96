"""Synthetic data sets as pure JAX functions: Gaussian mixtures and 1-D toy regression.

The mixtures are the standard GAN mode-collapse benchmarks (8 modes on a ring,
25 modes on a 5x5 grid); the regression curve is the toy problem of Blundell
et al. 2015, "Weight Uncertainty in Neural Networks", section 5.2.
"""

import jax
import jax.numpy as jnp


def ring_centers(num_modes: int = 8, radius: float = 2.0) -> jax.Array:
    """`num_modes` points evenly spaced on a circle of `radius`, shape (num_modes, 2).

    Angles are linspace over [0, 2 pi) *without* the endpoint: including it
    (a common bug in reference code) puts the first and last modes on top of
    each other and leaves num_modes - 1 distinct modes.
    """
    angles = jnp.linspace(0.0, 2.0 * jnp.pi, num_modes, endpoint=False)
    return radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def grid_centers(side: int = 5, spacing: float = 2.0) -> jax.Array:
    """A `side` x `side` grid of points centered at the origin, shape (side*side, 2).

    With the defaults the coordinates are -4, -2, 0, 2, 4.
    """
    coords = spacing * (jnp.arange(side) - (side - 1) / 2.0)
    xx, yy = jnp.meshgrid(coords, coords, indexing="ij")
    return jnp.stack([xx.ravel(), yy.ravel()], axis=-1)


def sample_mixture(key: jax.Array, centers: jax.Array, n: int, std: float) -> jax.Array:
    """`n` samples, shape (n, 2), of the equal-weight mixture of N(center, std^2 I)."""
    key_mode, key_noise = jax.random.split(key)
    modes = jax.random.randint(key_mode, (n,), 0, centers.shape[0])
    noise = std * jax.random.normal(key_noise, (n, centers.shape[1]), dtype=centers.dtype)
    return centers[modes] + noise


def toy_regression_mean(x: jax.Array) -> jax.Array:
    """The noiseless curve x + 0.3 sin(2 pi x) + 0.3 sin(4 pi x) (Blundell et al., sec. 5.2)."""
    return x + 0.3 * jnp.sin(2.0 * jnp.pi * x) + 0.3 * jnp.sin(4.0 * jnp.pi * x)


def toy_regression(
    key: jax.Array,
    n: int,
    x_low: float = 0.0,
    x_high: float = 0.5,
    noise_std: float = 0.02,
) -> tuple[jax.Array, jax.Array]:
    """`n` points (x, y), each of shape (n, 1), from Blundell et al. 2015's toy curve.

    x ~ U[x_low, x_high] and y = x + 0.3 sin(2 pi (x + eps)) + 0.3 sin(4 pi (x + eps)) + eps
    with eps ~ N(0, noise_std^2): the noise enters inside the sines as well as
    additively, as in the paper's section 5.2 (which writes the noise as
    N(0, 0.02); here 0.02 is taken as the standard deviation).
    """
    key_x, key_eps = jax.random.split(key)
    x = jax.random.uniform(key_x, (n, 1), minval=x_low, maxval=x_high)
    eps = noise_std * jax.random.normal(key_eps, (n, 1))
    y = x + 0.3 * jnp.sin(2.0 * jnp.pi * (x + eps)) + 0.3 * jnp.sin(4.0 * jnp.pi * (x + eps)) + eps
    return x, y

"""Several standard-normal arrays drawn in one loop, so that XLA computes each once.

A draw `jax.random.normal(key, shape)` is threefry bits (a loop, stored) followed by an
elementwise tail (bits to uniform, the inverse error function's polynomials). XLA's CPU
fusion copies that tail into every fused consumer of the draw, and in a Bayes-by-Backprop
step a weight draw has many: the KL estimate, the gradients of mu and rho, Adam's two
moments, the update and the norms. Each copy is compiled and run: the scale-mixture
training chunk of bbb-classify compiled 21k lines of HLO (the tail about 30 times). Drawn
as the output of a loop instead, the numbers are stored once and the consumers read them.
"""

import math

import jax
import jax.numpy as jnp
from jax import lax


def standard_normals(keys, shapes: list[tuple[int, ...]], dtype=None) -> list[jax.Array]:
    """`[jax.random.normal(k, shape, dtype) for k, shape in zip(keys, shapes)]`, the same numbers,
    drawn by `in_one_loop`."""
    return in_one_loop(jax.random.normal, keys, shapes, dtype)


def in_one_loop(sample, keys, shapes: list[tuple[int, ...]], dtype=None) -> list[jax.Array]:
    """`[sample(k, shape, dtype) for k, shape in zip(keys, shapes)]` for a sampler of `jax.random`
    that transforms threefry's bits elementwise (normal, uniform, rademacher), the same numbers.

    Drawn as one `lax.map` over the keys of a flat draw as long as the largest shape, each array
    the first prod(shape) numbers of its row: threefry (partitionable, JAX's default) makes the
    n-th number of a draw a function of the key and n alone, so a longer flat draw begins with
    the shorter draw in row-major order (a unit test holds this). Shapes of different sizes pay
    for the padding (the rows are as long as the largest)."""
    dtype = dtype or jnp.asarray(0.0).dtype
    sizes = [math.prod(shape) for shape in shapes]
    rows = lax.map(lambda key: sample(key, (max(sizes),), dtype), keys)
    return [rows[i, :size].reshape(shape) for i, (size, shape) in enumerate(zip(sizes, shapes))]


def he_init(key, sizes: tuple[int, ...]) -> dict:
    """The parameters `common.models.MLP(init="he").init_variables` makes for layers sizes[0] -> ...
    -> sizes[-1] (w ~ N(0, 2 / fan_in) from key split(key, L)[l], b = 0), the normals of all layers
    drawn by `standard_normals`: one compiled draw where a draw a shape cost about 1.5 s of compiling
    under vmap on the CPU."""
    eps = standard_normals(jax.random.split(key, len(sizes) - 1), list(zip(sizes[:-1], sizes[1:])))
    return {"layers": [{"w": e * jnp.sqrt(2.0 / e.shape[0]), "b": jnp.zeros(e.shape[1])} for e in eps]}

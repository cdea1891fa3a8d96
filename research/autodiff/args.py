"""Which arguments of f(*args) are differentiated (`argnums`, as in `jax.grad`), and
f as a function of those alone, the others passed through as arguments (never
captured as constants, so XLA cannot fold the inputs into the program)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Argnums = int | Sequence[int]


def as_tuple(argnums: Argnums) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def pick(args: tuple, argnums: Argnums) -> tuple:
    """The differentiated arguments, in argnums order."""
    return tuple(args[i] for i in as_tuple(argnums))


def restrict(f: Callable, args: tuple, argnums: Argnums) -> Callable:
    """f as a function of the differentiated arguments, the others taken from `args`."""
    positions = as_tuple(argnums)

    def g(*diff):
        full = list(args)
        for i, value in zip(positions, diff):
            full[i] = value
        return f(*full)

    return g


def summed(g: Callable) -> Callable:
    """sum of every output of g: the scalar whose gradient is the vjp with a cotangent of ones."""
    return lambda *a: sum(jnp.sum(y) for y in jax.tree.leaves(g(*a)))


def random_like(key: jax.Array, tree: Any) -> Any:
    """Random normal pytree shaped like `tree` (a jax.random key seeds numpy's generator).
    Random, not ones: XLA folds x * 1."""
    return normal_like(np.random.default_rng(np.asarray(jax.random.key_data(key))), tree)


def normal_like(rng: np.random.Generator, tree: Any, scale: float = 1.0) -> Any:
    """scale * N(0, 1) arrays shaped like `tree` (arrays or shape structs), drawn by numpy. Inputs whose
    values do not matter to what is measured (costs, derivatives at any point) are drawn this way: an
    eager jax.random draw compiles one program per shape (each ~0.1-1 s of XLA compilation on a CPU)."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef.unflatten([_on_device(scale * rng.standard_normal(np.shape(x)), x) for x in leaves])


def lecun_like(rng: np.random.Generator, tree: Any, gain: float = 1.0) -> Any:
    """Parameters shaped like `tree`, drawn by numpy: every array of two or more axes ~ gain N(0, 1 / fan_in)
    (fan_in: the product of all axes but the last, as `common.nn.lecun_normal`; gain sqrt(2) is
    `he_normal`), vectors zero (biases)."""
    def draw(x):
        shape = np.shape(x)
        return _on_device(gain * rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1])) if len(shape) > 1
                          else np.zeros(shape), x)

    return jax.tree.map(draw, tree)


def _on_device(values: np.ndarray, like: Any) -> jax.Array:
    """values as a JAX array of like's dtype, cast by numpy and placed by device_put (a cast on the device,
    or jnp.asarray, compiles a program per shape)."""
    return jax.device_put(values.astype(jnp.result_type(like)))


def tree_size(tree: Any) -> int:
    """Entries of every leaf of `tree` (arrays or shape structs)."""
    return sum(int(np.prod(np.shape(x))) for x in jax.tree.leaves(tree))


def is_scalar(tree: Any) -> bool:
    """One leaf of shape (): a function with this output has a gradient and a Hessian."""
    leaves = jax.tree.leaves(tree)
    return len(leaves) == 1 and np.shape(leaves[0]) == ()

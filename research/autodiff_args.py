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
    """Random normal pytree shaped like `tree`. Random, not ones: XLA folds x * 1."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    return treedef.unflatten(
        [jax.random.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    )


def tree_size(tree: Any) -> int:
    """Entries of every leaf of `tree` (arrays or shape structs)."""
    return sum(int(np.prod(np.shape(x))) for x in jax.tree.leaves(tree))


def is_scalar(tree: Any) -> bool:
    """One leaf of shape (): a function with this output has a gradient and a Hessian."""
    leaves = jax.tree.leaves(tree)
    return len(leaves) == 1 and np.shape(leaves[0]) == ()

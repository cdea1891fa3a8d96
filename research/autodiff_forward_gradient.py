"""The forward gradient (Baydin et al. 2022, arXiv 2202.08587).

g(theta) = (grad f(theta) . v) v with v ~ N(0, I): the directional derivative
comes from one jvp (forward mode, nothing stored), and E[v v^T] = I makes g an
unbiased estimate of grad f (their Theorem 1). With k tangents the estimate is
the mean of k such terms; its variance falls as 1/k: for one tangent,
Var[g_j] = |grad f|^2 + (grad f)_j^2, since E[(a.v)^2 v_j^2] = |a|^2 + 2 a_j^2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def sample_tangents(key: jax.Array, params: Any, num_tangents: int) -> Any:
    """Standard normal tangents shaped like `params`, with a leading axis of `num_tangents`.

    One draw of shape (num_tangents, size of params), then split into leaves:
    one random-number program instead of one per leaf, which XLA compiles
    several times faster.
    """
    flat, unravel = ravel_pytree(params)
    draws = jax.random.normal(key, (num_tangents, flat.size), flat.dtype)
    return jax.vmap(unravel)(draws)


def forward_gradient(
    f: Callable, params: Any, key: jax.Array, num_tangents: int = 1
) -> tuple[jax.Array, Any]:
    """(f(params), the forward-gradient estimate of grad f) from `num_tangents` jvps.

    The jvps are vmapped over tangents; the primal does not depend on the
    tangent, so it is computed once.
    """
    tangents = sample_tangents(key, params, num_tangents)
    values, directional = jax.vmap(lambda v: jax.jvp(f, (params,), (v,)))(tangents)
    estimate = jax.tree.map(
        lambda v: jnp.tensordot(directional, v, axes=1) / num_tangents, tangents
    )
    return values[0], estimate


def tree_cosine(a: Any, b: Any) -> jax.Array:
    """Cosine similarity of two pytrees as flat vectors."""
    dot = sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    norm_a = jnp.sqrt(sum(jnp.vdot(x, x) for x in jax.tree.leaves(a)))
    norm_b = jnp.sqrt(sum(jnp.vdot(y, y) for y in jax.tree.leaves(b)))
    return dot / (norm_a * norm_b)


def expected_cosine_one_tangent(dim: int) -> float:
    """E|cos(grad f, g)| for one tangent in `dim` dimensions.

    With one tangent, g is parallel to v, so the cosine is |cos(grad f, v)|,
    the absolute first coordinate of a uniform unit vector:
    Gamma(n/2) / (sqrt(pi) Gamma((n+1)/2)) ~ sqrt(2 / (pi n)).
    """
    return math.exp(math.lgamma(dim / 2) - math.lgamma((dim + 1) / 2)) / math.sqrt(math.pi)

"""The forward gradient (Baydin et al. 2022, arXiv 2202.08587).

g(theta) = (grad f(theta) . v) v with v ~ N(0, I): the directional derivative
comes from one jvp (forward mode, nothing stored), and E[v v^T] = I makes g an
unbiased estimate of grad f (their Theorem 1). With k tangents the estimate is
the mean of k such terms; its variance falls as 1/k: for one tangent,
Var[g_j] = |grad f|^2 + (grad f)_j^2, since E[(a.v)^2 v_j^2] = |a|^2 + 2 a_j^2.

The cosine with k tangents, exactly. Write a = grad f = |a| e_1 (the law of
the tangents is rotation invariant) and V = [v_1 ... v_k] (n x k). Then
g = V V^T a / k, <g, a> = |a|^2 |u|^2 / k with u = V^T e_1 ~ N(0, I_k), and
|V V^T e_1|^2 = |u|^4 + sum_{r>=2} (w_r . u)^2 = |u|^2 (|u|^2 + X), where the
other rows w_r of V are independent of u, so X ~ chi^2_{n-1} independently of
A = |u|^2 ~ chi^2_k. Hence

    cos(g, a) = sqrt(A / (A + X)),   A / (A + X) ~ Beta(k/2, (n-1)/2),

never negative, and E cos = E sqrt(B) = B(k/2 + 1/2, (n-1)/2) / B(k/2, (n-1)/2)
= Gamma((k+1)/2) Gamma((n+k-1)/2) / (Gamma(k/2) Gamma((n+k)/2))
(`expected_cosine`). At large n and k it approaches
(1 + (n+1)/k)^(-1/2) (`large_n_cosine`: |a| over the root of
E|g|^2 = |a|^2 (1 + (n+1)/k)); at k = 1 that form is off by the factor
sqrt(2/pi) ~ 0.80, since E|v_1| = sqrt(2/pi) for one Gaussian coordinate.
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
    return forward_gradient_from_tangents(f, params, sample_tangents(key, params, num_tangents))


def forward_gradient_from_tangents(f: Callable, params: Any, tangents: Any) -> tuple[jax.Array, Any]:
    """(f(params), the forward-gradient estimate) from given tangents (leading axis: the k tangents), e.g.
    drawn ahead of time so that a step's time is the jvps' alone."""
    num_tangents = jax.tree.leaves(tangents)[0].shape[0]
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


def expected_cosine(dim: int, num_tangents: int) -> float:
    """E cos(grad f, g) for the k-tangent forward gradient in `dim` dimensions (exact; see the module text):
    Gamma((k+1)/2) Gamma((n+k-1)/2) / (Gamma(k/2) Gamma((n+k)/2)). For k = 1 it is E|cos| of one tangent."""
    n, k = dim, num_tangents
    if n < 2 or k < 1:
        raise ValueError(f"need dim >= 2 and num_tangents >= 1 (got {dim}, {num_tangents})")
    return math.exp(math.lgamma((k + 1) / 2) + math.lgamma((n + k - 1) / 2)
                    - math.lgamma(k / 2) - math.lgamma((n + k) / 2))


def large_n_cosine(dim: int, num_tangents: int) -> float:
    """(1 + (n + 1) / k)^(-1/2): the large-n, large-k form of `expected_cosine`."""
    return (1 + (dim + 1) / num_tangents) ** -0.5

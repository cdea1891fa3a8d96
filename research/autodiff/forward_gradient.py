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

The bias of the mean of N one-tangent estimates (`squared_bias`). With
x_i = g_i - a, the error of estimate i (a = grad f), and d = mean_i x_i,

    |d|^2 = (1/N^2) (sum_i |x_i|^2 + sum_{i != l} x_i . x_l),

and under E g_i = a (Gaussian tangents) Cov x_i = C = |a|^2 I + a a^T, so
E |d|^2 = tr C / N = (n + 1) |a|^2 / N. B = |d|^2 / |a|^2 - (n + 1) / N is
then an unbiased estimate of |E g - a|^2 / |a|^2, 0 without bias. Its
variance has two parts: the cross terms, 2 (N - 1) tr(C^2) / (N^3 |a|^4) =
2 (N - 1)(n + 3) / N^3, and the squares r_i = |x_i|^2 / |a|^2 =
(u^2 - 1)^2 + u^2 R (u = a.v / |a| ~ N(0, 1), R ~ chi^2_{n-1}): every
coordinate of estimate i carries the one factor (a.v_i)^2, so the squares
do not average out over coordinates as independent ones would, and
Var r = 2 (n + 3)(n + 6) adds Var r / N^3. In all,

    Var B = 2 (n + 3)(N + n + 5) / N^3,

against 2 n / N^2 for coordinates taken as independent (a z-test over
coordinates): for N ~ n that interval is sqrt(2) too narrow and covers about
84%, not 95%.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy import stats as scipy_stats

from common.stats import Measurement


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


def directional_derivatives(f: Callable, params: Any, tangents: Any) -> tuple[jax.Array, jax.Array]:
    """(f(params), grad f . v_i for each tangent v_i on the leading axis): one vmapped jvp. The primal does
    not depend on the tangent, so it is computed once."""
    values, directional = jax.vmap(lambda v: jax.jvp(f, (params,), (v,)))(tangents)
    return values[0], directional


def forward_gradient_from_tangents(f: Callable, params: Any, tangents: Any) -> tuple[jax.Array, Any]:
    """(f(params), the forward-gradient estimate) from given tangents (leading axis: the k tangents), e.g.
    drawn ahead of time so that a step's time is the jvps' alone."""
    num_tangents = jax.tree.leaves(tangents)[0].shape[0]
    value, directional = directional_derivatives(f, params, tangents)
    estimate = jax.tree.map(
        lambda v: jnp.tensordot(directional, v, axes=1) / num_tangents, tangents
    )
    return value, estimate


def one_tangent_estimates(f: Callable, params: Any, key: jax.Array, count: int) -> jax.Array:
    """`count` one-tangent forward gradients (grad f . v_i) v_i as flat vectors, shape (count, size of
    params), the tangents drawn as `sample_tangents(key, params, count)` draws them: their mean is
    `forward_gradient(f, params, key, count)`, flattened."""
    flat, unravel = ravel_pytree(params)
    draws = jax.random.normal(key, (count, flat.size), flat.dtype)
    _, directional = directional_derivatives(f, params, jax.vmap(unravel)(draws))
    return directional[:, None] * draws


def squared_bias(mean: np.ndarray, gradient: np.ndarray, samples: int) -> Measurement:
    """B = |mean - a|^2 / |a|^2 - (n + 1) / N for the mean of N one-tangent estimates of a = grad f (see the
    module text): unbiased for |E g - a|^2 / |a|^2. Its 95% interval is normal with the variance of B
    without bias, 2 (n + 3)(N + n + 5) / N^3 (the shared factor (a.v_i)^2 included), plus what a bias b
    adds, 4 (|b|^2 |a|^2 + (a.b)^2) / (N |a|^4), taken as 4 max(B, 0) / N: exact for a bias orthogonal to a,
    the one a projection on a cannot see."""
    mean, a = np.asarray(mean, np.float64), np.asarray(gradient, np.float64)
    n, big_n = a.size, float(samples)
    value = float(np.sum((mean - a) ** 2) / np.dot(a, a) - (n + 1) / big_n)
    variance = 2 * (n + 3) * (big_n + n + 5) / big_n**3 + 4 * max(value, 0.0) / big_n
    half = float(scipy_stats.norm.ppf(0.975) * np.sqrt(variance))
    return Measurement(value, (value - half, value + half), f"normal, {samples} estimates of {n} coordinates")


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

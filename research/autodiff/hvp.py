"""Hessian-vector products four ways (JAX Autodiff Cookbook).

For scalar f with Hessian H, each returns H v without (or, for the last,
with) forming H. Forward-over-reverse is the Cookbook's recommended one: the
outer forward pass carries one tangent through the gradient computation and
stores nothing extra; reverse-over-forward and reverse-over-reverse pay a
second reverse pass and its stored intermediates; the full Hessian costs n
gradient evaluations and n^2 memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


def hvp_fwd_over_rev(f: Callable, x: Any, v: Any) -> Any:
    """d/dt grad f(x + t v) at t = 0: a jvp of grad f."""
    return jax.jvp(jax.grad(f), (x,), (v,))[1]


def hvp_rev_over_fwd(f: Callable, x: Any, v: Any) -> Any:
    """grad_x of the directional derivative <grad f(x), v> computed by a jvp."""
    return jax.grad(lambda y: jax.jvp(f, (y,), (v,))[1])(x)


def hvp_rev_over_rev(f: Callable, x: Any, v: Any) -> Any:
    """grad_x of <grad f(x), v> with both derivatives in reverse mode."""

    def directional(y):
        g = jax.grad(f)(y)
        return sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(v)))

    return jax.grad(directional)(x)


def hvp_full_hessian(f: Callable, x: Any, v: Any) -> Any:
    """Form H (n x n over the flattened pytree) by jax.hessian, then multiply."""
    x_flat, unravel = ravel_pytree(x)
    v_flat, _ = ravel_pytree(v)
    hessian = jax.hessian(lambda y: f(unravel(y)))(x_flat)
    return unravel(hessian @ v_flat)


def hvp_finite_difference(f: Callable, x: Any, v: Any, eps: float = 1e-6) -> Any:
    """(grad f(x + eps v) - grad f(x)) / eps: an approximation off by O(eps), the
    negative control of the exact methods' agreement (not one of HVP_METHODS)."""
    shifted = jax.tree.map(lambda a, b: a + eps * b, x, v)
    return jax.tree.map(lambda a, b: (a - b) / eps, jax.grad(f)(shifted), jax.grad(f)(x))


HVP_METHODS: dict[str, Callable[[Callable, Any, Any], Any]] = {
    "fwd_over_rev": hvp_fwd_over_rev,
    "rev_over_fwd": hvp_rev_over_fwd,
    "rev_over_rev": hvp_rev_over_rev,
    "full_hessian": hvp_full_hessian,
}


def cookbook_function(x: jax.Array) -> jax.Array:
    """The Cookbook's HVP example f(X) = sum(tanh(X)^2), with X of shape (30, 40)."""
    return jnp.sum(jnp.tanh(x) ** 2)

"""Four ways to form the Jacobian of f: R^n -> R^m (the JAX Autodiff Cookbook).

jacfwd pushes the n unit tangents through one vmapped jvp (cost ~ n times f),
jacrev pulls the m unit cotangents through one vmapped vjp (cost ~ m times f):
jacfwd for tall Jacobians (n << m), jacrev for wide ones (n >> m). The Python
loops do the same passes one dispatch at a time, which is what vmap saves.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

JacobianFn = Callable[[jax.Array], jax.Array]  # x (n,) -> J (m, n)


def jacobian_jacfwd(f: Callable) -> JacobianFn:
    return jax.jit(jax.jacfwd(f))


def jacobian_jacrev(f: Callable) -> JacobianFn:
    return jax.jit(jax.jacrev(f))


def jacobian_jvp_loop(f: Callable) -> JacobianFn:
    """Column i of J is the jvp with the i-th unit tangent: n compiled calls."""
    column = jax.jit(lambda x, tangent: jax.jvp(f, (x,), (tangent,))[1])

    def jacobian(x: jax.Array) -> jax.Array:
        basis = jnp.eye(x.shape[0], dtype=x.dtype)
        return jnp.stack([column(x, e) for e in basis], axis=-1)

    return jacobian


def jacobian_vjp_loop(f: Callable) -> JacobianFn:
    """Row i of J is the vjp with the i-th unit cotangent: m compiled calls."""
    row = jax.jit(lambda x, cotangent: jax.vjp(f, x)[1](cotangent)[0])

    def jacobian(x: jax.Array) -> jax.Array:
        m = jax.eval_shape(f, x).shape[0]
        basis = jnp.eye(m, dtype=x.dtype)
        return jnp.stack([row(x, e) for e in basis], axis=0)

    return jacobian


JACOBIAN_STRATEGIES: dict[str, Callable[[Callable], JacobianFn]] = {
    "jacfwd": jacobian_jacfwd,
    "jacrev": jacobian_jacrev,
    "jvp_loop": jacobian_jvp_loop,
    "vjp_loop": jacobian_vjp_loop,
}


def init_map(rng: np.random.Generator, n: int, m: int, hidden: int, dtype=jnp.float32) -> dict:
    """Weights of the test map f(x) = W2 tanh(W1 x + b1): R^n -> R^m (LeCun scale), drawn by numpy (an eager
    jax.random draw compiles a program per shape)."""
    draws = {"w1": rng.standard_normal((hidden, n)) / np.sqrt(n), "b1": 0.1 * rng.standard_normal(hidden),
             "w2": rng.standard_normal((m, hidden)) / np.sqrt(hidden)}
    return {name: jax.device_put(a.astype(dtype)) for name, a in draws.items()}


def apply_map(params: dict, x: jax.Array) -> jax.Array:
    return params["w2"] @ jnp.tanh(params["w1"] @ x + params["b1"])

"""Linear mode connectivity (Frankle, Dziugaite, Roy & Carbin 2020, Sec. 2).

Two copies of a network are trained from the same point (the rewind step k)
with different data orders; the network is *stable* when the error does not
rise along the straight line between the two results. The error barrier
height is

    sup_alpha E((1 - alpha) w_A + alpha w_B)  -  (E(w_A) + E(w_B)) / 2,

taken here over a grid of alphas that includes both ends. Frankle et al. call
a network stable when the barrier is within 2% (`STABLE`). For a convex loss
with equal endpoint values the barrier is 0 (the sup is at an end); for a
double well (x^2 - 1)^2 between its minima -1 and 1 it is 1 (at x = 0).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.nn import accuracy

STABLE = 0.02  # Frankle et al. 2020: "stable" when the error barrier is at most 2%


def interpolate(params_a, params_b, alpha):
    """(1 - alpha) params_a + alpha params_b, leaf by leaf."""
    return jax.tree.map(lambda a, b: (1.0 - alpha) * a + alpha * b, params_a, params_b)


def path_values(fn: Callable, params_a, params_b, alphas_P) -> jax.Array:
    """fn(interpolate(a, b, alpha)) at every alpha, shape (P,)."""
    return jax.vmap(lambda alpha: fn(interpolate(params_a, params_b, alpha)))(alphas_P)


def barrier(values_P):
    """sup over the path minus the mean of the two ends (values at alpha = 0 first, 1 last).
    A numpy array stays on the host (no compile), a jax array stays traceable."""
    return values_P.max(axis=-1) - 0.5 * (values_P[..., 0] + values_P[..., -1])


def line_errors(model, x, y, alphas_P):
    """errors(params_a, params_b), runs leading -> test error (runs, P) at every alpha, one run
    at a time (bounded memory); one compiled program."""
    x, y = jnp.asarray(x), jnp.asarray(y)

    def error(params):
        return 1.0 - accuracy(model.apply(params, {}, x)[0], y)

    return jax.jit(lambda a, b: jax.lax.map(lambda ab: path_values(error, ab[0], ab[1], alphas_P), (a, b)))

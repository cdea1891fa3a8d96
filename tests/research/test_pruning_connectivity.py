"""The interpolation path and the error barrier against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np

from research.pruning.connectivity import barrier, interpolate, path_values

ALPHAS = jnp.linspace(0.0, 1.0, 21)


def test_convex_quadratic_has_zero_barrier():
    """f(w) = |w - c|^2 with |a - c| = |b - c|: the sup along the chord is at its ends."""
    c = {"w": jnp.array([0.3, -1.0]), "b": jnp.array(2.0)}
    a = {"w": c["w"] + jnp.array([1.0, 2.0]), "b": c["b"] + 0.5}
    b = {"w": c["w"] - jnp.array([1.0, 2.0]), "b": c["b"] - 0.5}
    f = lambda p: sum(jnp.sum((p[k] - c[k]) ** 2) for k in p)  # noqa: E731
    values = path_values(f, a, b, ALPHAS)
    np.testing.assert_allclose(float(barrier(values)), 0.0, atol=1e-6)
    # With unequal ends the convex barrier is half their difference: f(a) = 5.25, f(b') = 0.
    values = path_values(f, a, c, ALPHAS)
    np.testing.assert_allclose(float(barrier(values)), 5.25 / 2, rtol=1e-6)


def test_double_well_barrier_is_the_height_of_the_hump():
    """(x^2 - 1)^2 between the minima -1 and 1 rises to 1 at x = 0 (alpha = 1/2 on the grid)."""
    f = lambda p: (p["x"] ** 2 - 1.0) ** 2  # noqa: E731
    values = path_values(f, {"x": jnp.array(-1.0)}, {"x": jnp.array(1.0)}, ALPHAS)
    np.testing.assert_allclose(float(barrier(values)), 1.0, rtol=1e-6)
    # Along the same well from 0.5 to 1.5 (one basin, f(0.5) = 0.5625, f(1.5) = 1.5625) the
    # path passes the minimum at x = 1 and never rises above its higher end: barrier = 0.5.
    values = path_values(f, {"x": jnp.array(0.5)}, {"x": jnp.array(1.5)}, ALPHAS)
    np.testing.assert_allclose(float(barrier(values)), 1.5625 - (0.5625 + 1.5625) / 2, rtol=1e-6)


def test_interpolate_ends_and_midpoint():
    a, b = {"w": jnp.ones((2, 3))}, {"w": jnp.zeros((2, 3))}
    np.testing.assert_array_equal(interpolate(a, b, 0.0)["w"], a["w"])
    np.testing.assert_array_equal(interpolate(a, b, 1.0)["w"], b["w"])
    np.testing.assert_allclose(jax.jit(interpolate)(a, b, 0.25)["w"], 0.75 * np.ones((2, 3)))

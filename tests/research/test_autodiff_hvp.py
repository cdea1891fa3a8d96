"""Tests of research/autodiff/hvp.py: the four Hessian-vector products agree
to 1e-10 in float64 and match a closed form and finite differences of grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.autodiff import hvp as H


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def _tree_allclose(a, b, tol):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def test_cookbook_function_closed_form():
    # f = sum tanh(x)^2 is separable: H = diag(2 sech^2 x (sech^2 x - 2 tanh^2 x)).
    kx, kv = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (30, 40))
    v = jax.random.normal(kv, (30, 40))
    t = jnp.tanh(x)
    s2 = 1 - t**2
    expected = 2 * s2 * (s2 - 2 * t**2) * v
    for name, hvp in H.HVP_METHODS.items():
        result = jax.jit(hvp, static_argnums=0)(H.cookbook_function, x, v)
        np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-12, err_msg=name)


def test_four_ways_agree_on_an_mlp_loss_and_match_finite_differences():
    k1, k2, k3, k4 = jax.random.split(jax.random.key(1), 4)
    params = {
        "w1": jax.random.normal(k1, (5, 7)) / np.sqrt(5),
        "w2": jax.random.normal(k2, (7, 2)) / np.sqrt(7),
    }
    x = jax.random.normal(k3, (11, 5))
    y = jax.random.normal(k4, (11, 2))

    def loss(p):
        return 0.5 * jnp.mean((jnp.tanh(x @ p["w1"]) @ p["w2"] - y) ** 2)

    v = jax.tree.map(lambda a: jnp.cos(jnp.arange(a.size, dtype=a.dtype).reshape(a.shape)), params)
    results = {
        name: jax.jit(hvp, static_argnums=0)(loss, params, v) for name, hvp in H.HVP_METHODS.items()
    }
    for name, result in results.items():
        _tree_allclose(result, results["fwd_over_rev"], 1e-10)

    eps = 1e-5
    grad = jax.jit(jax.grad(loss))
    plus = grad(jax.tree.map(lambda p, d: p + eps * d, params, v))
    minus = grad(jax.tree.map(lambda p, d: p - eps * d, params, v))
    fd = jax.tree.map(lambda a, b: (a - b) / (2 * eps), plus, minus)
    _tree_allclose(results["fwd_over_rev"], fd, 1e-8)


def test_finite_difference_control_is_close_but_not_exact():
    """The control of ad-hvp's agreement claim: O(eps) off the exact HVP."""
    kx, kv = jax.random.split(jax.random.key(5))
    x, v = jax.random.normal(kx, (6, 5)), jax.random.normal(kv, (6, 5))
    exact = H.hvp_fwd_over_rev(H.cookbook_function, x, v)
    approx = H.hvp_finite_difference(H.cookbook_function, x, v)
    gap = float(jnp.max(jnp.abs(approx - exact)) / jnp.max(jnp.abs(exact)))
    assert 1e-9 < gap < 1e-4

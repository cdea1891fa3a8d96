"""Tests of research/autodiff/jacobian.py: the four strategies give the same
Jacobian, and it is the finite-difference Jacobian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.autodiff import jacobian as J


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


@pytest.mark.parametrize("n,m", [(3, 7), (7, 3), (5, 5)])
def test_strategies_agree_and_match_finite_differences(n, m):
    params = J.init_map(np.random.default_rng(n * m), n, m, hidden=6, dtype=jnp.float64)
    x = jax.random.normal(jax.random.key(1), (n,))

    def f(y):
        return J.apply_map(params, y)

    jacobians = {name: build(f)(x) for name, build in J.JACOBIAN_STRATEGIES.items()}
    eps = 1e-6
    fd = np.stack(
        [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(n)], axis=-1
    )
    for name, jac in jacobians.items():
        assert jac.shape == (m, n), name
        np.testing.assert_allclose(jac, jacobians["jacfwd"], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(jac, fd, rtol=1e-7, atol=1e-9)


def test_jacobian_of_linear_map_is_its_matrix():
    a = jax.random.normal(jax.random.key(2), (4, 9))
    for build in J.JACOBIAN_STRATEGIES.values():
        np.testing.assert_allclose(build(lambda y: a @ y)(jnp.ones(9)), a, rtol=1e-15)

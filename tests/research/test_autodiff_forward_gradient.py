"""Tests of research/autodiff_forward_gradient.py: the forward gradient is
unbiased (Monte Carlo with the closed-form variance as error bar), and its
one-tangent cosine follows the closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research import autodiff_forward_gradient as FG


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def _problem():
    k1, k2 = jax.random.split(jax.random.key(0))
    params = {"w": jax.random.normal(k1, (3, 2)), "b": jax.random.normal(k2, (2,))}
    x = jnp.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.2]])

    def loss(p):
        return jnp.sum(jnp.tanh(x @ p["w"] + p["b"]) ** 2)

    return loss, params


def _flat(tree):
    return jnp.concatenate([jnp.ravel(a) for a in jax.tree.leaves(tree)])


def test_value_is_f_and_one_tangent_estimate_is_projection():
    loss, params = _problem()
    key = jax.random.key(3)
    value, estimate = jax.jit(lambda p, k: FG.forward_gradient(loss, p, k))(params, key)
    assert float(value) == pytest.approx(float(loss(params)), rel=1e-14)
    v = _flat(jax.tree.map(lambda a: a[0], FG.sample_tangents(key, params, 1)))
    g = _flat(jax.grad(loss)(params))
    np.testing.assert_allclose(_flat(estimate), jnp.dot(g, v) * v, rtol=1e-12)


@pytest.mark.parametrize("num_tangents", [1, 4])
def test_mean_of_estimates_approaches_true_gradient(num_tangents):
    loss, params = _problem()
    samples = 20_000
    keys = jax.random.split(jax.random.key(1), samples)
    estimates = jax.jit(
        jax.vmap(lambda k: _flat(FG.forward_gradient(loss, params, k, num_tangents)[1]))
    )(keys)
    g = _flat(jax.grad(loss)(params))
    # one tangent: Var g_j = |g|^2 + g_j^2; k tangents divide it by k
    std_error = np.sqrt((jnp.dot(g, g) + g**2) / num_tangents / samples)
    z = (estimates.mean(axis=0) - g) / std_error
    assert float(jnp.max(jnp.abs(z))) < 4.5  # 8 coordinates: a false alarm has p < 1e-4
    # the empirical variance agrees with the closed form (within 10%)
    np.testing.assert_allclose(
        estimates.var(axis=0), (jnp.dot(g, g) + g**2) / num_tangents, rtol=0.1
    )


def test_one_tangent_cosine_closed_form():
    dim = 50
    g = {"a": jnp.linspace(-1.0, 2.0, dim)}
    keys = jax.random.split(jax.random.key(2), 20_000)
    cosines = jax.vmap(
        lambda k: FG.tree_cosine(FG.forward_gradient(lambda p: jnp.vdot(g["a"], p["a"]), g, k)[1], g)
    )(keys)
    expected = FG.expected_cosine_one_tangent(dim)
    assert float(jnp.mean(jnp.abs(cosines))) == pytest.approx(expected, abs=4 * float(jnp.std(jnp.abs(cosines))) / np.sqrt(20_000))
    assert expected == pytest.approx(np.sqrt(2 / (np.pi * dim)), rel=0.02)

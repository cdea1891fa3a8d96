"""Tests of research/autodiff/forward_gradient.py: the forward gradient is
unbiased (Monte Carlo with the closed-form variance as error bar), and its
cosine with k tangents follows the exact Beta law (Monte Carlo, float64)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.autodiff import forward_gradient as FG


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


@pytest.mark.parametrize("num_tangents", [1, 3, 10, 40])
def test_cosine_law_exact_against_monte_carlo(num_tangents):
    """E cos(g, grad f) = Gamma((k+1)/2) Gamma((n+k-1)/2) / (Gamma(k/2) Gamma((n+k)/2)), float64 Monte Carlo."""
    dim, draws = 50, 20_000
    g = {"a": jnp.linspace(-1.0, 2.0, dim)}
    keys = jax.random.split(jax.random.key(num_tangents), draws)
    cosines = jax.jit(jax.vmap(lambda k: FG.tree_cosine(
        FG.forward_gradient(lambda p: jnp.vdot(g["a"], p["a"]), g, k, num_tangents)[1], g)))(keys)
    assert float(jnp.min(cosines)) >= 0  # <g, grad f> = |grad f|^2 |u|^2 / k is never negative
    std_error = float(jnp.std(cosines)) / np.sqrt(draws)
    assert float(jnp.mean(cosines)) == pytest.approx(FG.expected_cosine(dim, num_tangents), abs=4 * std_error)


def test_cosine_closed_forms_agree_in_their_limits():
    # k = 1: E|first coordinate of a uniform unit vector| = Gamma(n/2) / (sqrt(pi) Gamma((n+1)/2))
    dim = 50
    one = np.exp(np.log(np.pi) * -0.5 + math.lgamma(dim / 2) - math.lgamma((dim + 1) / 2))
    assert FG.expected_cosine(dim, 1) == pytest.approx(one, rel=1e-12)
    assert FG.expected_cosine(10**6, 1) == pytest.approx(np.sqrt(2 / (np.pi * 10**6)), rel=1e-5)
    # large n and k: (1 + (n+1)/k)^(-1/2); at k = 1 that form is high by 1 / sqrt(2/pi)
    assert FG.expected_cosine(10**6, 4000) == pytest.approx(FG.large_n_cosine(10**6, 4000), rel=1e-3)
    assert FG.expected_cosine(10**6, 1) / FG.large_n_cosine(10**6, 1) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-4)
    with pytest.raises(ValueError):
        FG.expected_cosine(1, 1)


def test_estimate_from_given_tangents_is_the_sampled_one():
    loss, params = _problem()
    key = jax.random.key(5)
    tangents = FG.sample_tangents(key, params, 3)
    sampled = FG.forward_gradient(loss, params, key, 3)[1]
    given = FG.forward_gradient_from_tangents(loss, params, tangents)[1]
    for a, b in zip(jax.tree.leaves(sampled), jax.tree.leaves(given)):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def _mean_estimates(rng, g, samples, reps):
    """`reps` means of `samples` one-tangent estimates (g . v) v, v ~ N(0, I), in numpy."""
    for _ in range(reps):
        v = rng.standard_normal((samples, g.size))
        yield ((v @ g)[:, None] * v).mean(axis=0)


def _gradient_and_orthogonal_bias(rng, n, norm):
    g = rng.standard_normal(n) * np.linspace(0.2, 2.0, n)
    g[0] = 4 * np.linalg.norm(g[1:]) / np.sqrt(n)  # one coordinate well above the rest
    b = rng.standard_normal(n)
    b -= (b @ g) / (g @ g) * g
    return g, b * norm * np.linalg.norm(g) / np.linalg.norm(b)


@pytest.mark.parametrize("bias", [0.0, 0.3])
def test_squared_bias_interval_covers_95_percent_by_simulation(bias):
    """n = 100 coordinates, N = 400 estimates (the shared factor (g . v_i)^2 adds n / N, a quarter, to the
    variance a z-test over independent coordinates assumes; a bias adds more): over 1000 simulated means,
    without bias and with a bias of 0.3 |g| orthogonal to g, B's interval covers the true |b|^2 / |g|^2
    about 95% of the time, B is unbiased, and without bias its spread is 2 (n + 3)(N + n + 5) / N^3."""
    rng = np.random.default_rng(20260)
    n, samples = 100, 400
    g, b = _gradient_and_orthogonal_bias(rng, n, bias)
    truth = (b @ b) / (g @ g)
    outcomes = [FG.squared_bias(mean + b, g, samples) for mean in _mean_estimates(rng, g, samples, 1000)]
    covered = np.mean([m.interval[0] <= truth <= m.interval[1] for m in outcomes])
    assert 0.93 <= covered <= 0.985, covered
    values = np.array([m.value for m in outcomes])
    assert abs(values.mean() - truth) < 3 * values.std() / np.sqrt(values.size)
    if bias == 0:
        np.testing.assert_allclose(values.var(), 2 * (n + 3) * (samples + n + 5) / samples**3, rtol=0.15)


def test_one_tangent_estimates_average_to_the_forward_gradient():
    loss, params = _problem()
    key = jax.random.key(7)
    estimates = FG.one_tangent_estimates(loss, params, key, 5)
    np.testing.assert_allclose(estimates.mean(axis=0), _flat(FG.forward_gradient(loss, params, key, 5)[1]),
                               rtol=1e-12)

"""Tests of research/selu/snn.py against closed forms, quadrature and Monte Carlo, in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate
from scipy.special import erfc

from common import nn
from research.selu import snn as S

# The paper's constants, 32 significant digits as printed.
LAMBDA = 1.0507009873554804934193349852946
ALPHA = 1.6732632423543772848170429916717


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def test_selu_values_against_numpy_formula():
    x = np.linspace(-30.0, 30.0, 601)
    expected = LAMBDA * np.where(x > 0, x, ALPHA * (np.exp(x) - 1.0))
    np.testing.assert_allclose(S.selu(jnp.asarray(x)), expected, rtol=1e-15, atol=1e-15)
    assert float(S.selu(1.0)) == pytest.approx(LAMBDA, abs=1e-15)
    # SELU's saturation value -lambda * alpha, the value alpha dropout drops to.
    assert float(S.selu(-800.0)) == pytest.approx(-LAMBDA * ALPHA, abs=1e-15)


def test_selu_gradient_is_finite_far_from_zero():
    grads = jax.vmap(jax.grad(S.selu))(jnp.array([-800.0, -1.0, 1.0, 800.0]))
    np.testing.assert_allclose(
        grads, [0.0, LAMBDA * ALPHA * np.exp(-1.0), LAMBDA, LAMBDA], rtol=1e-15, atol=1e-300
    )


def test_solver_recovers_published_constants():
    solution = S.solve_selu_params(0.0, 1.0, omega=0.0, tau=1.0)
    assert abs(float(solution.params.lam) - LAMBDA) < 1e-12
    assert abs(float(solution.params.alpha) - ALPHA) < 1e-12
    assert float(solution.residual) < 1e-14


def test_solver_matches_closed_form_alpha_at_zero_one():
    # At (0, 1) the mean equation alone fixes alpha (the reference notebook's
    # closed form): alpha = -sqrt(2/pi) / (e^{1/2} erfc(1/sqrt 2) - 1).
    alpha = -np.sqrt(2 / np.pi) / (np.exp(0.5) * erfc(1 / np.sqrt(2)) - 1)
    solution = S.solve_selu_params(0.0, 1.0)
    assert abs(float(solution.params.alpha) - alpha) < 1e-13


def test_solver_reproduces_reference_notebook_reading():
    # getSELUparameters.ipynb solves with z ~ N(mean, var), i.e. omega = tau = 1,
    # and prints (alpha, lambda) = (1.9769021954241999, 1.073851239616047) for (-0.1, 2).
    solution = S.solve_selu_params(-0.1, 2.0, omega=1.0, tau=1.0)
    assert float(solution.params.alpha) == pytest.approx(1.9769021954241999, abs=1e-10)
    assert float(solution.params.lam) == pytest.approx(1.073851239616047, abs=1e-10)
    # Under normalized weights (omega = 0) the same target is another solution.
    plain = S.solve_selu_params(-0.1, 2.0, omega=0.0, tau=1.0)
    assert float(plain.residual) < 1e-12
    assert abs(float(plain.params.alpha) - 1.9769021954241999) > 0.1


def _moments_by_quadrature(mean, var, omega, tau, lam, alpha):
    """E[selu(z)], Var[selu(z)] for z ~ N(mean * omega, var * tau) by scipy.quad."""
    m, s = mean * omega, np.sqrt(var * tau)

    def f(z):
        return lam * (z if z > 0 else alpha * np.expm1(z))

    def density(z):
        return np.exp(-((z - m) ** 2) / (2 * s * s)) / (s * np.sqrt(2 * np.pi))

    def moment(k):
        parts = [
            integrate.quad(lambda z: f(z) ** k * density(z), a, b, epsabs=1e-14, epsrel=1e-13)[0]
            for a, b in [(-np.inf, 0.0), (0.0, np.inf)]
        ]
        return sum(parts)

    first = moment(1)
    return first, moment(2) - first**2


@pytest.mark.parametrize(
    "mean, var, omega, tau, lam, alpha",
    [
        (0.0, 1.0, 0.0, 1.0, LAMBDA, ALPHA),
        (0.1, 0.8, 0.0, 1.0, LAMBDA, ALPHA),
        (-0.1, 2.0, 1.0, 1.0, 1.07, 1.98),
        (0.3, 1.4, -0.5, 1.2, 1.1, 1.5),
    ],
)
def test_moment_map_matches_quadrature(mean, var, omega, tau, lam, alpha):
    got = S.moment_map(mean, var, omega, tau, lam, alpha)
    expected = _moments_by_quadrature(mean, var, omega, tau, lam, alpha)
    np.testing.assert_allclose([float(got.mean), float(got.var)], expected, rtol=1e-9, atol=1e-12)


def test_moment_map_matches_monte_carlo_layer():
    # A real layer: 50 inputs with mean mu, variance nu; weights with
    # sum omega and squared sum tau; the CLT makes z nearly Gaussian.
    mean, var, n_inputs, n_samples = 0.2, 1.3, 50, 200_000
    key_w, key_x = jax.random.split(jax.random.key(0))
    w = jax.random.normal(key_w, (n_inputs,)) / np.sqrt(n_inputs)
    omega, tau = float(jnp.sum(w)), float(jnp.sum(w**2))
    x = mean + np.sqrt(var) * jax.random.normal(key_x, (n_samples, n_inputs))
    y = S.selu(x @ w)
    expected = S.moment_map(mean, var, omega, tau)
    y_mean, y_var = float(jnp.mean(y)), float(jnp.var(y))
    se_mean = np.sqrt(y_var / n_samples)
    se_var = np.sqrt(float(jnp.mean((y - y_mean) ** 4)) - y_var**2) / np.sqrt(n_samples)
    assert abs(y_mean - float(expected.mean)) < 4 * se_mean
    assert abs(y_var - float(expected.var)) < 4 * se_var


def test_fixed_point_of_moment_map_is_zero_one():
    got = S.moment_map(0.0, 1.0)
    assert abs(float(got.mean)) < 1e-15 and abs(float(got.var) - 1.0) < 1e-15


def test_jacobian_at_fixed_point():
    jac = S.moment_map_jacobian(0.0, 1.0)
    np.testing.assert_allclose(jac, [[0.0, 0.0888], [0.0, 0.7826]], atol=5e-5)
    assert float(S.spectral_norm(jac)) == pytest.approx(0.7877, abs=5e-5)
    # Independently by central differences on the closed form.
    h = 1e-6
    for col, (dm, dv) in enumerate([(h, 0.0), (0.0, h)]):
        plus = np.array(S.moment_map(0.1 + dm, 1.1 + dv, 0.2, 0.9))
        minus = np.array(S.moment_map(0.1 - dm, 1.1 - dv, 0.2, 0.9))
        np.testing.assert_allclose(
            S.moment_map_jacobian(0.1, 1.1, 0.2, 0.9)[:, col], (plus - minus) / (2 * h), atol=1e-8
        )
    assert float(S.spectral_norm(jnp.diag(jnp.array([0.5, -2.0])))) == pytest.approx(2.0)


def test_alpha_dropout_affine_matches_paper_at_zero_one():
    rate = 0.1
    q, dropped = 1 - rate, -LAMBDA * ALPHA
    affine = S.alpha_dropout_affine(rate)
    a = (q + dropped**2 * q * (1 - q)) ** -0.5
    assert float(affine.dropped_value) == pytest.approx(-1.7580993408473766, abs=1e-15)
    assert float(affine.a) == pytest.approx(a, abs=1e-15)
    assert float(affine.b) == pytest.approx(-a * (1 - q) * dropped, abs=1e-15)


def test_alpha_dropout_keeps_moments_where_plain_dropout_does_not():
    n, rate = 1_000_000, 0.2
    key_x, key_drop = jax.random.split(jax.random.key(1))
    x = jax.random.normal(key_x, (n,))
    y = S.alpha_dropout(key_drop, x, rate)
    keep = jax.random.bernoulli(key_drop, 1 - rate, (n,))
    plain = jnp.where(keep, x / (1 - rate), 0.0)
    for out, keeps_var in [(y, True), (plain, False)]:
        m, v = float(jnp.mean(out)), float(jnp.var(out))
        se_mean = np.sqrt(v / n)
        se_var = np.sqrt(float(jnp.mean((out - m) ** 4)) - v**2) / np.sqrt(n)
        assert abs(m) < 4 * se_mean
        assert (abs(v - 1.0) < 4 * se_var) == keeps_var
    # Plain (inverted) dropout inflates the variance to 1/q.
    assert float(jnp.var(plain)) == pytest.approx(1 / (1 - rate), rel=1e-2)
    # Kept units map to a x + b, dropped ones to a alpha' + b, with the same key.
    affine = S.alpha_dropout_affine(rate)
    expected = jnp.where(keep, x, affine.dropped_value) * affine.a + affine.b
    np.testing.assert_allclose(y, expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.1, 0.2, 0.5, 0.9])
def test_alpha_dropout_closed_form_keeps_standard_normal_moments(rate):
    # The mixture's exact moments (law of total variance), by hand: a kept unit
    # is x ~ N(0, 1), a dropped one alpha'; y = a x_dropped + b.
    q, dropped = 1 - rate, -LAMBDA * ALPHA
    affine = S.alpha_dropout_affine(rate)
    a, b = float(affine.a), float(affine.b)
    mean = a * (1 - q) * dropped + b
    second = a**2 * (q * 1.0 + (1 - q) * dropped**2) + 2 * a * b * (1 - q) * dropped + b**2
    assert mean == pytest.approx(0.0, abs=1e-15)
    assert second - mean**2 == pytest.approx(1.0, abs=1e-14)
    exact = S.alpha_dropout_moments(rate, affine)
    assert float(exact.mean) == pytest.approx(mean, abs=1e-15)
    assert float(exact.var) == pytest.approx(second - mean**2, abs=1e-14)
    # Without the affine correction the mean moves to (1 - q) alpha' and the variance grows.
    bare = S.alpha_dropout_moments(rate, S.AlphaDropoutAffine(1.0, 0.0, affine.dropped_value))
    assert float(bare.mean) == pytest.approx((1 - q) * dropped, abs=1e-15)
    assert float(bare.var) == pytest.approx(q + q * (1 - q) * dropped**2, abs=1e-14)


def test_alpha_dropout_monte_carlo_matches_closed_form_for_any_affine():
    # The sampler and the closed form agree for the correction and for the bare drop (a = 1, b = 0).
    n, rate = 1_000_000, 0.3
    x = jax.random.normal(jax.random.key(20), (n,))
    corrected = S.alpha_dropout_affine(rate)
    for affine in (corrected, S.AlphaDropoutAffine(jnp.asarray(1.0), jnp.asarray(0.0), corrected.dropped_value)):
        y = S.affine_dropout(jax.random.key(21), x, rate, affine)
        exact = S.alpha_dropout_moments(rate, affine)
        m, v = float(jnp.mean(y)), float(jnp.var(y))
        se_var = np.sqrt(float(jnp.mean((y - m) ** 4)) - v**2) / np.sqrt(n)
        assert abs(m - float(exact.mean)) < 4 * np.sqrt(v / n)
        assert abs(v - float(exact.var)) < 4 * se_var


def test_linear_moment_map_is_the_identity_layer():
    got = S.linear_moment_map(0.3, 1.7, 0.2, 1.1)
    assert float(got.mean) == pytest.approx(0.06) and float(got.var) == pytest.approx(1.87)
    jac = S.moment_map_jacobian(0.3, 1.7, 0.2, 1.1, linear=True)
    np.testing.assert_allclose(jac, [[0.2, 0.0], [0.0, 1.1]], atol=1e-15)


def test_alpha_dropout_other_fixed_point():
    # Moments (-0.1, 2) with the notebook's constants are kept too.
    n, rate, mean, var = 1_000_000, 0.2, -0.1, 2.0
    params = S.SeluParams(1.073851239616047, 1.9769021954241999)
    key_x, key_drop = jax.random.split(jax.random.key(2))
    x = mean + np.sqrt(var) * jax.random.normal(key_x, (n,))
    y = S.alpha_dropout(key_drop, x, rate, params, mean, var)
    assert abs(float(jnp.mean(y)) - mean) < 4 * np.sqrt(var / n)
    assert abs(float(jnp.var(y)) - var) < 4 * var * np.sqrt(3.0 / n)


@pytest.mark.parametrize(
    "init, variance",
    [
        (nn.lecun_normal, lambda fi, fo: 1 / fi),
        (nn.xavier_normal, lambda fi, fo: 2 / (fi + fo)),
        (nn.he_normal, lambda fi, fo: 2 / fi),
    ],
)
def test_initializer_variance(init, variance):
    fan_in, fan_out = 300, 700
    w = init(jax.random.key(3), (fan_in, fan_out), jnp.float64)
    n = w.size
    expected = variance(fan_in, fan_out)
    # Sample variance of n Gaussians has standard error var * sqrt(2 / n).
    assert abs(float(jnp.var(w)) - expected) < 4 * expected * np.sqrt(2 / n)
    assert abs(float(jnp.mean(w))) < 4 * np.sqrt(expected / n)


def test_depth_statistics_match_explicit_loop():
    key = jax.random.key(4)
    x = jax.random.normal(jax.random.key(5), (64, 32))
    levels = jnp.array([0.05, 0.5, 0.95])
    stats = S.propagate_depth_statistics(key, x, 5, jnp.tanh, nn.xavier_normal, levels)
    h = np.asarray(x)
    for layer in range(5):
        w = nn.xavier_normal(jax.random.fold_in(key, layer), (32, 32), jnp.float64)
        h = np.tanh(h @ np.asarray(w))
        assert float(stats.mean[layer]) == pytest.approx(h.mean(), abs=1e-12)
        assert float(stats.std[layer]) == pytest.approx(h.std(), abs=1e-12)
        np.testing.assert_allclose(stats.quantiles[layer], np.quantile(h, [0.05, 0.5, 0.95]), atol=1e-12)


def test_tanh_small_weights_collapse_and_selu_stays_normalized():
    # The notes' CS231n setup: 1000 x 500 N(0,1) inputs, W ~ 0.01 N(0,1).
    x = jax.random.normal(jax.random.key(6), (1000, 500))
    levels = jnp.array([0.5])
    small = nn.scaled_normal(0.01)
    tanh = S.propagate_depth_statistics(jax.random.key(7), x, 10, jnp.tanh, small, levels)
    # Layer 1: tanh of z with std 0.01 sqrt(500) = 0.2236, about 0.214.
    assert float(tanh.std[0]) == pytest.approx(0.214, abs=3e-3)
    ratios = tanh.std[1:] / tanh.std[:-1]
    np.testing.assert_allclose(ratios, 0.01 * np.sqrt(500), rtol=0.02)
    assert float(tanh.std[-1]) < 1e-6
    selu_stats = S.propagate_depth_statistics(
        jax.random.key(8), x[:256, :256], 32, S.selu, nn.lecun_normal, levels
    )
    assert np.all((selu_stats.std > 0.8) & (selu_stats.std < 1.25))
    assert np.all(np.abs(selu_stats.mean) < 0.1)


def _explicit_forward(model, params, state, x, train):
    """DeepMLP's forward pass as a plain Python loop over layers (no scan)."""
    act = nn.ACTIVATIONS[model.activation]
    layers = [params["input"]] + [
        jax.tree.map(lambda a, i=i: a[i], params["hidden"]) for i in range(model.depth - 1)
    ]
    h, running = x, []
    for i, layer in enumerate(layers):
        h = act(h @ layer["w"] + layer["b"])
        if model.batchnorm:
            mean, var = (h.mean(0), h.var(0)) if train else (state["bn"]["mean"][i], state["bn"]["var"][i])
            h = (h - mean) / jnp.sqrt(var + 1e-5) * params["bn"]["scale"][i] + params["bn"]["bias"][i]
            running.append(0.9 * state["bn"]["mean"][i] + 0.1 * mean)
    return h @ params["output"]["w"] + params["output"]["b"], running


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("activation, init, batchnorm", [("selu", "lecun", False), ("relu", "he", True)])
def test_deep_mlp_matches_explicit_loop(activation, init, batchnorm, unroll):
    model = S.DeepMLP(4, 16, 3, activation, init, batchnorm, unroll=unroll)
    x = jax.random.normal(jax.random.key(9), (32, 7))
    params, state = model.init_variables(jax.random.key(10), x)
    # Perturb BN parameters so scale/bias are exercised.
    params = jax.tree.map(lambda a: a + 0.1 * jnp.sin(jnp.arange(a.size).reshape(a.shape)), params)
    assert params["hidden"]["w"].shape == (3, 16, 16)
    for train in (True, False):
        logits, new_state = model.apply(params, state, x, train=train)
        expected, running = _explicit_forward(model, params, state, x, train)
        np.testing.assert_allclose(logits, expected, rtol=1e-12, atol=1e-12)
        if batchnorm and train:
            np.testing.assert_allclose(new_state["bn"]["mean"], np.stack(running), rtol=1e-12, atol=1e-12)


def test_deep_mlp_selu_network_stays_normalized_and_alpha_dropout_is_train_only():
    # A SELU / LeCun network of width 128 keeps its last hidden layer near (0, 1)
    # for standardized inputs; seen through logits of an identity-sized output.
    model = S.DeepMLP(24, 128, 128, "selu", "lecun", dropout="alpha", dropout_rate=0.1)
    x = jax.random.normal(jax.random.key(11), (128, 128))
    params, state = model.init_variables(jax.random.key(12), x)
    params["output"] = {"w": jnp.eye(128), "b": jnp.zeros(128)}
    h_eval, _ = model.apply(params, state, x, train=False)
    assert abs(float(h_eval.mean())) < 0.1 and 0.8 < float(h_eval.std()) < 1.25
    h_train, _ = model.apply(params, state, x, train=True, key=jax.random.key(13))
    assert not np.allclose(h_train, h_eval)
    # Alpha dropout after every layer keeps the statistics normalized too.
    assert abs(float(h_train.mean())) < 0.1 and 0.8 < float(h_train.std()) < 1.25
    # Plain dropout at the same rate does not: its 1/q variance compounds into a shifted fixed point.
    plain = S.DeepMLP(24, 128, 128, "selu", "lecun", dropout="plain", dropout_rate=0.1)
    h_plain, _ = plain.apply(params, state, x, train=True, key=jax.random.key(13))
    assert abs(float(h_plain.std()) - 1.0) > abs(float(h_train.std()) - 1.0)


@pytest.mark.parametrize("init, batchnorm", [("lecun", False), ("he", True)])
def test_deep_mlp_truncated_equals_the_shallower_networks_own_draw(init, batchnorm):
    """One draw at the largest depth serves every depth (selu-training draws once): bit for bit,
    in a jitted program as the trainer's init is."""
    deep = S.DeepMLP(9, 8, 3, "relu", init, batchnorm)
    x = jnp.zeros((1, 5))
    draw = jax.jit(jax.vmap(lambda k, m: m.init_variables(k, x), in_axes=(0, None)), static_argnums=1)
    keys = jax.random.split(jax.random.key(4), 3)
    for depth in (2, 4, 9):
        cut = jax.vmap(lambda p, s, d=depth: deep.truncated(p, s, d))(*draw(keys, deep))
        own = draw(keys, S.DeepMLP(depth, 8, 3, "relu", init, batchnorm))
        assert jax.tree.structure(cut) == jax.tree.structure(own)
        for a, b in zip(jax.tree.leaves(cut), jax.tree.leaves(own)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        deep.truncated(*deep.init_variables(keys[0], x), 10)

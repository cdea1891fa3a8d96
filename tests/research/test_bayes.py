"""Bayes by Backprop against closed forms, scipy and Monte Carlo with error bars.

Monte-Carlo comparisons use a bound of 5 standard errors, so a correct
implementation fails with probability below 1e-6 per comparison, while the
errors they guard against (a wrong variance, a noise shared the wrong way)
are many standard errors wide.

Compiling threefry sampling costs about a second a shape on this CPU, so the
statistical tests share one shape: nets of width 4, inputs of 3 rows, NUM
draws, float64; test parameters are made with numpy.
"""

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from research.bayes import bbb as bayes

Z = 5.0  # standard errors allowed in Monte-Carlo comparisons
NUM = 20_000  # Monte-Carlo draws
X_3x4 = np.array([[1.0, 0.5, -0.3, 2.0], [0.8, 1.0, 0.2, 1.5], [-1.0, 0.3, 0.7, -0.4]])


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def _random_mlp(seed, sizes=(4, 4, 4, 4), sigma_low=0.05, sigma_high=0.5):
    """An MLP with non-zero bias means and a spread of sigmas, so that every
    term of the forward pass and the KL is exercised."""
    rng = np.random.default_rng(seed)

    def layer(d_in, d_out):
        return bayes.BayesDense(
            w_mu=jnp.asarray(rng.normal(size=(d_in, d_out)) / np.sqrt(d_in)),
            w_rho=bayes.rho_from_sigma(jnp.asarray(rng.uniform(sigma_low, sigma_high, (d_in, d_out)))),
            b_mu=jnp.asarray(0.3 * rng.normal(size=d_out)),
            b_rho=bayes.rho_from_sigma(jnp.asarray(rng.uniform(sigma_low, sigma_high, d_out))),
        )

    return tuple(layer(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def _output_samples(params, x_BxI, mode, seed):
    """(NUM, B, O) outputs of independent draws. Local reparameterization draws
    independent noise for every row, so one pass over x tiled NUM times gives
    independent draws; plain and Flipout share a weight perturbation across the
    batch (Flipout only decorrelates it), so they need one pass a draw."""
    key = jax.random.key(seed)
    x_BxI = jnp.asarray(x_BxI)
    if mode == "local":
        out = bayes.mlp_apply(params, jnp.tile(x_BxI, (NUM, 1)), key, mode)
        return np.asarray(out).reshape(NUM, x_BxI.shape[0], -1)
    keys = jax.random.split(key, NUM)
    return np.asarray(jax.vmap(lambda k: bayes.mlp_apply(params, x_BxI, k, mode))(keys))


# --- parametrization -------------------------------------------------------------


def test_softplus_parametrization():
    rho = jnp.linspace(-20.0, 20.0, 81)
    sigma = bayes.sigma_from_rho(rho)
    np.testing.assert_allclose(sigma, np.log1p(np.exp(np.asarray(rho))), rtol=1e-12)
    assert np.all(sigma > 0)
    np.testing.assert_allclose(bayes.rho_from_sigma(sigma), rho, rtol=1e-9, atol=1e-9)
    # d sigma / d rho = sigmoid(rho): the reason a very negative rho starves sigma's gradient.
    np.testing.assert_allclose(jax.vmap(jax.grad(bayes.sigma_from_rho))(rho), special.expit(np.asarray(rho)), rtol=1e-12)
    layer = bayes.dense_init(jax.random.key(0), 3, 4)
    np.testing.assert_allclose(bayes.sigma_from_rho(layer.w_rho), bayes.DEFAULT_SIGMA_INIT, rtol=1e-12)


# --- priors and KL ---------------------------------------------------------------------


def test_scale_mixture_log_density_against_scipy():
    prior = bayes.ScaleMixturePrior(pi=0.25, sigma1=np.exp(-1.0), sigma2=np.exp(-7.0))
    w = np.concatenate([np.linspace(-3, 3, 61), [0.0, 1e-4, -2e-3, 40.0]])
    expected = special.logsumexp(
        [stats.norm.logpdf(w, 0, prior.sigma1), stats.norm.logpdf(w, 0, prior.sigma2)],
        b=[[prior.pi], [1 - prior.pi]],
        axis=0,
    )
    got = bayes.prior_log_density(prior, jnp.asarray(w))
    assert np.all(np.isfinite(got))  # w = 40 underflows the narrow component in linear space
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    gaussian = bayes.GaussianPrior(sigma=0.7)
    np.testing.assert_allclose(bayes.prior_log_density(gaussian, jnp.asarray(w)), stats.norm.logpdf(w, 0, 0.7), rtol=1e-12)


def test_closed_form_kl_matches_monte_carlo():
    prior = bayes.GaussianPrior(sigma=0.8)
    params = _random_mlp(1)
    exact = bayes.kl_closed_form(params, prior)
    keys = jax.random.split(jax.random.key(2), NUM)
    samples = np.asarray(jax.vmap(lambda k: bayes.kl_monte_carlo(params, prior, k))(keys))
    stderr = np.std(samples) / np.sqrt(NUM)
    assert abs(np.mean(samples) - exact) < Z * stderr
    # The test has power: the KL to a prior twice as wide differs by many errors.
    assert abs(bayes.kl_closed_form(params, bayes.GaussianPrior(1.6)) - exact) > 20 * stderr


def test_closed_form_kl_single_weight():
    """KL[N(0.3, 0.2^2) || N(0, 1)] = log(1/0.2) + (0.04 + 0.09)/2 - 1/2."""
    layer = bayes.BayesDense(
        w_mu=jnp.array([[0.3]]), w_rho=bayes.rho_from_sigma(jnp.array([[0.2]])),
        b_mu=jnp.zeros((1,)), b_rho=bayes.rho_from_sigma(jnp.ones((1,))),
    )  # the bias posterior equals the prior: KL 0
    np.testing.assert_allclose(bayes.kl_closed_form((layer,), bayes.GaussianPrior(1.0)), np.log(5) + 0.065 - 0.5, rtol=1e-9)


def test_kl_monte_carlo_uses_the_forward_sample():
    """The MC KL evaluates log q - log p at the very sample the "plain" forward
    pass used (paper eq. 2). For one linear layer the sample can be read off the
    forward pass: x = 0 gives b, x = basis vector e_i gives row i of w plus b."""
    params = _random_mlp(3, sizes=(4, 4))
    key = jax.random.key(4)
    prior = bayes.ScaleMixturePrior()
    y = bayes.mlp_apply(params, jnp.concatenate([jnp.zeros((1, 4)), jnp.eye(4)]), key, "plain")
    b = y[0]
    w = y[1:] - b
    (layer,) = params
    expected = sum(
        jnp.sum(bayes.gaussian_log_density(v, m, bayes.sigma_from_rho(r)) - bayes.prior_log_density(prior, v))
        for v, m, r in [(w, layer.w_mu, layer.w_rho), (b, layer.b_mu, layer.b_rho)]
    )
    np.testing.assert_allclose(bayes.kl_monte_carlo(params, prior, key), expected, rtol=1e-9)
    # and not at an independent sample
    assert abs(bayes.kl_monte_carlo(params, prior, jax.random.key(5)) - expected) > 1e-3


# --- minibatch KL weights ------------------------------------------------------------------


@pytest.mark.parametrize("num_batches", [1, 2, 7, 60, 600])
def test_kl_weights_sum_to_one_over_an_epoch(num_batches):
    i = jnp.arange(1, num_batches + 1)
    blundell = bayes.kl_weight_blundell(i, num_batches)
    uniform = jnp.full(num_batches, bayes.kl_weight_uniform(i, num_batches))
    np.testing.assert_allclose(jnp.sum(blundell), 1.0, rtol=1e-12)
    np.testing.assert_allclose(jnp.sum(uniform), 1.0, rtol=1e-12)
    assert np.all(np.diff(np.asarray(blundell)) <= 0)  # the first minibatches carry the KL
    if num_batches <= 60:  # exact rationals 2^(M-i) / (2^M - 1)
        exact = [float(Fraction(2 ** (num_batches - k), 2**num_batches - 1)) for k in range(1, num_batches + 1)]
        np.testing.assert_allclose(blundell, exact, rtol=1e-12)


# --- sampling modes ---------------------------------------------------------------------------


def test_single_layer_moments_against_closed_form():
    """For y = x W + b: E y = x mu + mu_b and Var y = x^2 sigma^2 + sigma_b^2 in every mode."""
    (layer,) = params = _random_mlp(5, sizes=(4, 4))
    mean = X_3x4 @ layer.w_mu + layer.b_mu
    var = np.square(X_3x4) @ np.square(bayes.sigma_from_rho(layer.w_rho)) + np.square(bayes.sigma_from_rho(layer.b_rho))
    for mode in ("plain", "local", "flipout"):
        y = _output_samples(params, X_3x4, mode, seed=7)
        assert np.all(np.abs(y.mean(0) - mean) < Z * np.sqrt(var / NUM)), mode
        # Gaussian outputs: Var of the sample variance is 2 var^2 / (n - 1).
        assert np.all(np.abs(y.var(0, ddof=1) - var) < Z * var * np.sqrt(2 / (NUM - 1))), mode


def test_noise_is_shared_across_the_batch_only_in_plain():
    """Cov(y_1, y_2) of two examples: x_1 x_2 sigma^2 + sigma_b^2 when the weight
    sample is shared (plain); 0 under local reparameterization and Flipout."""
    (layer,) = params = _random_mlp(8, sizes=(4, 4))
    shared = (X_3x4[0] * X_3x4[1]) @ np.square(bayes.sigma_from_rho(layer.w_rho)) + np.square(bayes.sigma_from_rho(layer.b_rho))
    for mode in ("plain", "local", "flipout"):
        y = _output_samples(params, X_3x4, mode, seed=9)
        products = (y[:, 0] - y[:, 0].mean(0)) * (y[:, 1] - y[:, 1].mean(0))
        stderr = np.std(products, 0) / np.sqrt(NUM)
        expected = shared if mode == "plain" else 0.0
        assert np.all(np.abs(np.mean(products, 0) - expected) < Z * stderr), mode
        assert np.all(np.abs(shared) > 20 * stderr)  # the two cases are told apart


def test_mlp_modes_have_the_same_output_mean_and_variance():
    """Per example, every mode draws the network output from the same
    distribution (the weights' marginal is the same), so Monte-Carlo means and
    variances through a ReLU MLP agree within error."""
    params = _random_mlp(10, sigma_low=0.1, sigma_high=0.4)

    def var_stderr(y):  # standard error of a sample variance: sqrt((m4 - var^2) / n)
        c = y - y.mean(0)
        return np.sqrt((np.mean(c**4, 0) - np.var(y, 0) ** 2) / NUM)

    plain = _output_samples(params, X_3x4, "plain", seed=12)
    for mode in ("local", "flipout"):
        other = _output_samples(params, X_3x4, mode, seed=13)
        diff_stderr = np.sqrt((plain.var(0) + other.var(0)) / NUM)
        assert np.all(np.abs(other.mean(0) - plain.mean(0)) < Z * diff_stderr), mode
        bound = Z * np.sqrt(var_stderr(plain) ** 2 + var_stderr(other) ** 2)
        assert np.all(np.abs(other.var(0) - plain.var(0)) < bound), mode
    # The noise matters: the mean-weight network is not the predictive mean of a ReLU net.
    mean_net = np.asarray(bayes.mlp_apply(params, jnp.asarray(X_3x4), None, "mean"))
    assert np.max(np.abs(plain.mean(0) - mean_net) / np.sqrt(plain.var(0) / NUM)) > 20


# --- likelihoods -----------------------------------------------------------------------------------


def test_categorical_nll_matches_the_notes_example():
    """The notes' example: mean of -log p[target] is 0.71355817782. Its second row
    sums to 0.99, so this holds for the first row and a normalized second row."""
    probs = jnp.array([[0.25, 0.25, 0.25, 0.25], [0.01, 0.01, 0.01, 0.97]])
    nll = bayes.categorical_nll(jnp.log(probs) + 3.0, jnp.array([3, 3]))  # logits up to a constant
    np.testing.assert_allclose(jnp.mean(nll), 0.71355817782 - 0.5 * np.log(0.97 / 0.96), rtol=1e-10)


def test_negative_elbo_sums_to_the_full_data_objective():
    """With uniform weights 1/M, the sum over the M minibatches of B * F_i / B
    is KL + sum of NLL over the data set (closed-form KL, mean mode: exact)."""
    params = _random_mlp(14, sizes=(2, 4, 1))
    rng = np.random.default_rng(15)
    x, y = jnp.asarray(rng.normal(size=(12, 2))), jnp.asarray(rng.normal(size=12))
    prior = bayes.GaussianPrior(1.0)
    kw = dict(prior=prior, mode="mean", kl_estimator="closed_form", likelihood="gaussian", noise_std=0.3)
    num_batches, batch = 3, 4
    total = sum(
        batch * bayes.negative_elbo(params, x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch], None, 1 / num_batches, **kw)[0]
        for i in range(num_batches)
    )
    pred = bayes.mlp_apply(params, x, None, "mean")[:, 0]
    expected = bayes.kl_closed_form(params, prior) - np.sum(stats.norm.logpdf(y, pred, 0.3))
    np.testing.assert_allclose(total, expected, rtol=1e-10)


# --- pruning ------------------------------------------------------------------------------------------


def test_snr_pruning_removes_exactly_the_fraction():
    params = _random_mlp(17, sizes=(7, 13, 11, 3))
    snr = np.concatenate([np.ravel(s) for s in bayes.signal_to_noise(params)])
    for fraction in (0.0, 0.5, 0.75, 0.95, 0.98, 1.0):
        masks = bayes.snr_masks(params, fraction)
        assert [m.shape for m in masks] == [layer.w_mu.shape for layer in params]
        keep = np.concatenate([np.ravel(m) for m in masks])
        assert np.sum(~keep) == round(fraction * keep.size), fraction
        if 0 < np.sum(~keep) < keep.size:
            assert np.max(snr[~keep]) <= np.min(snr[keep]), fraction


def test_pruned_weights_are_zero_in_every_mode():
    params = _random_mlp(18)
    masks = bayes.snr_masks(params, 1.0)
    pruned = bayes.prune(params, masks)
    for layer in pruned:
        assert np.all(np.asarray(layer.w_mu) == 0) and np.all(np.asarray(bayes.sigma_from_rho(layer.w_rho)) == 0)
    # A sampled forward pass then sees only the biases: with the same key, input
    # x and input 0 give the same output.
    key = jax.random.key(19)
    x, zeros = jnp.asarray(X_3x4), jnp.zeros_like(X_3x4)
    for mode in ("plain", "local", "flipout"):
        assert np.all(bayes.mlp_apply(pruned, x, key, mode) == bayes.mlp_apply(pruned, zeros, key, mode)), mode
    half = bayes.prune(params, bayes.snr_masks(params, 0.5))
    assert not np.all(bayes.mlp_apply(half, x, key, "plain") == bayes.mlp_apply(half, zeros, key, "plain"))


def test_gradient_variance_of_known_noise():
    """Var of scale * eps summed over elements is sum(scale^2)."""
    scale = jnp.linspace(0.5, 3.0, 20).reshape(5, 4)
    keys = jax.random.split(jax.random.key(20), NUM)
    total = bayes.gradient_variance(lambda k: {"g": scale * jax.random.normal(k, (5, 4))}, keys)
    expected = float(jnp.sum(scale**2))
    # Var of a sample variance of Gaussians: 2 sigma^4 / (n - 1), summed over elements.
    assert abs(total - expected) < Z * np.sqrt(np.sum(2 * np.asarray(scale) ** 4 / (NUM - 1)))

"""research/bayes/hmc.py: the log posterior of the one-hidden-layer network and split R-hat on chains whose
answer is known (NUTS itself runs in tests/experiments/test_bbb_hmc.py)."""

import jax.numpy as jnp
import numpy as np

from research.bayes import hmc


def test_log_posterior_is_the_gaussian_prior_plus_the_gaussian_likelihood():
    net = hmc.Net(jnp.array([1.0, -2.0]), jnp.array([0.5, 0.5]), jnp.array([1.0, 1.0]), jnp.array(0.1))
    x, y = jnp.array([0.0, 1.0]), jnp.array([0.0, 0.0])
    f = np.array([0.5 + 0.5 + 0.1, 1.5 + 0.0 + 0.1])  # relu(x w1 + b1) . w2 + b2
    np.testing.assert_allclose(hmc.apply(net, x), f, rtol=1e-6)
    squares = 1 + 4 + 0.25 + 0.25 + 1 + 1 + 0.01
    expected = -0.5 * squares / 2.0**2 - 0.5 * np.sum(f**2) / 0.1**2
    np.testing.assert_allclose(hmc.log_posterior(net, x, y, prior_sigma=2.0, noise_std=0.1), expected, rtol=1e-5)


def test_split_rhat_is_one_for_agreeing_chains_and_large_for_chains_apart_or_drifting():
    rng = np.random.default_rng(0)
    agreeing = rng.standard_normal((4, 400, 3))
    assert np.all(np.abs(hmc.split_rhat(agreeing) - 1) < 0.02)
    apart = agreeing + np.arange(4)[:, None, None]
    assert np.all(hmc.split_rhat(apart) > 1.5)
    drifting = agreeing + np.linspace(0, 4, 400)[None, :, None]  # every chain the same, each drifting
    assert np.all(hmc.split_rhat(drifting) > 1.2)


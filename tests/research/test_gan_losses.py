"""GAN losses and penalties against hand computations on tiny inputs (float64)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.gan.losses import (
    LOSSES,
    clip_weights,
    f_gan,
    input_grad_sq_norms,
    r1_penalty,
    wgan_gp_penalty,
)

D_REAL = [0.5, -1.0]
D_FAKE = [2.0, 0.0]


def log_sigmoid(t):
    return -math.log1p(math.exp(-t))


def mean(xs):
    return sum(xs) / len(xs)


# Each loss written out from its formula in plain Python: (d_loss, g_loss).
HAND = {
    "gan": (
        -(mean([log_sigmoid(t) for t in D_FAKE]) + mean([log_sigmoid(-t) for t in D_REAL])),
        mean([log_sigmoid(t) for t in D_FAKE]),
    ),
    "nsgan": (
        -(mean([log_sigmoid(t) for t in D_FAKE]) + mean([log_sigmoid(-t) for t in D_REAL])),
        -mean([log_sigmoid(-t) for t in D_FAKE]),
    ),
    "wgan": (mean(D_REAL) - mean(D_FAKE), mean(D_FAKE)),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_loss_matches_hand_computation(name):
    with jax.enable_x64(True):
        d_real, d_fake = jnp.asarray(D_REAL), jnp.asarray(D_FAKE)
        loss = LOSSES[name]
        np.testing.assert_allclose(loss.d_loss(d_real, d_fake), HAND[name][0], rtol=1e-14)
        np.testing.assert_allclose(loss.g_loss(d_fake), HAND[name][1], rtol=1e-14)


def test_f_gan_is_minus_log_one_plus_exp_minus_t_with_slope_half_at_zero():
    with jax.enable_x64(True):
        t = jnp.asarray([-30.0, -1.0, 0.0, 2.0, 40.0])
        expected = [-math.log1p(math.exp(-float(x))) for x in t]
        np.testing.assert_allclose(f_gan(t), expected, rtol=1e-14)
        assert jax.grad(f_gan)(0.0) == pytest.approx(0.5, abs=1e-15)


def test_saturating_generator_gradient_vanishes_where_nonsaturating_does_not():
    # A confident discriminator (large negative output on samples in this sign
    # convention is "looks real"; large positive is "looks fake"): the minimax
    # generator's gradient f'(t) = sigmoid(-t) dies as t -> +inf, the other does not.
    with jax.enable_x64(True):
        d_fake = jnp.asarray([10.0])
        g_sat = jax.grad(LOSSES["gan"].g_loss)(d_fake)[0]
        g_ns = jax.grad(LOSSES["nsgan"].g_loss)(d_fake)[0]
        assert abs(g_sat) == pytest.approx(1.0 / (1.0 + math.exp(10.0)), rel=1e-12)
        assert abs(g_ns) == pytest.approx(1.0 / (1.0 + math.exp(-10.0)), rel=1e-12)


def test_clip_weights():
    params = {"w": jnp.asarray([-2.0, 0.3, 5.0]), "b": jnp.asarray(-0.01)}
    clipped = clip_weights(params, 0.5)
    np.testing.assert_allclose(clipped["w"], [-0.5, 0.3, 0.5], rtol=1e-7)
    assert float(clipped["b"]) == pytest.approx(-0.01)


def linear_d(params, x_BxD):
    return x_BxD @ params["w"] + params["b"]


def quadratic_d(params, x_BxD):
    """D(x) = a/2 ||x||^2: grad_x D = a x."""
    return 0.5 * params["a"] * jnp.sum(x_BxD**2, axis=-1)


def test_penalties_of_a_linear_discriminator():
    # grad_x D = w everywhere, ||w|| = 5: every penalty is a function of 5 alone.
    with jax.enable_x64(True):
        params = {"w": jnp.asarray([3.0, 4.0]), "b": jnp.asarray(0.7)}
        x_real = jnp.asarray([[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]])
        x_fake = jnp.asarray([[9.0, -9.0], [0.1, 0.2], [3.0, 3.0]])
        key = jax.random.key(1)
        np.testing.assert_allclose(input_grad_sq_norms(linear_d, params, x_real), [25.0] * 3)
        assert float(r1_penalty(linear_d, params, x_real, gamma=0.3)) == pytest.approx(0.15 * 25)
        gp = wgan_gp_penalty(linear_d, params, x_real, x_fake, key, weight=10.0, target=1.0)
        assert float(gp) == pytest.approx(10.0 * 16.0)


def test_r1_sees_the_gradient_at_the_data():
    with jax.enable_x64(True):
        params = {"a": jnp.asarray(2.0)}
        x_real = jnp.asarray([[1.0, 0.0], [0.0, 3.0]])  # ||2x||^2 = 4, 36
        assert float(r1_penalty(quadratic_d, params, x_real, gamma=1.0)) == pytest.approx(0.5 * 20)


def test_wgan_gp_interpolates_uniformly_between_data_and_samples():
    # 1-D, D(x) = x^2/2, grad = x; x_hat = eps r + (1 - eps) f with r, f > 0:
    # E(|x_hat| - 1)^2 = ((r + f)/2 - 1)^2 + (r - f)^2 / 12.
    with jax.enable_x64(True):
        n, r, f = 200_000, 3.0, 0.5
        params = {"a": jnp.asarray(1.0)}
        gp = wgan_gp_penalty(
            quadratic_d, params, jnp.full((n, 1), r), jnp.full((n, 1), f), jax.random.key(0),
            weight=1.0, target=1.0,
        )
        expected = ((r + f) / 2 - 1) ** 2 + (r - f) ** 2 / 12
        # (x_hat - 1)^2 ranges over [0, 4] with std ~1.1: standard error ~0.0025; allow 5.
        assert float(gp) == pytest.approx(expected, abs=0.0125)


def test_gradient_penalty_is_finite_when_the_input_gradient_is_zero():
    with jax.enable_x64(True):
        params = {"w": jnp.zeros(2), "b": jnp.asarray(0.0)}
        x = jnp.ones((2, 2))
        grads = jax.grad(
            lambda p: wgan_gp_penalty(linear_d, p, x, x, jax.random.key(0)))(params)
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))

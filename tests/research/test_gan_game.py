"""The joint field, consensus, unrolling, the two update orders and the Jacobian, on linear games."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from research.gan.game import (
    FieldSpectrum,
    alternating_update,
    consensus_field,
    critic_steps_update,
    field_eigenvalues,
    field_jacobian,
    game_field,
    init_state,
    simultaneous_update,
    unrolled_g_loss,
)

RNG = np.random.default_rng(0)
N_G, N_D = 3, 2
A = RNG.normal(size=(N_G, N_D))
P = np.diag([0.5, 0.0, 1.0])
Q = np.array([[0.3, 0.1], [0.1, 0.2]])


def linear_game():
    """g_loss = th^T A ps + 1/2 th^T P th, d_loss = -th^T A ps + 1/2 ps^T Q ps.

    The generator's parameters are a two-leaf pytree, so raveling is exercised.
    Field v = (-(A ps + P th), A^T th - Q ps); Jacobian [[-P, -A], [A^T, -Q]].
    """

    def theta(g):
        return jnp.concatenate([g["a"], g["b"]])

    def g_loss(g, d, batch):
        th = theta(g)
        return th @ A @ d + 0.5 * th @ P @ th

    def d_loss(g, d, batch):
        return -theta(g) @ A @ d + 0.5 * d @ Q @ d

    return g_loss, d_loss


JACOBIAN = np.block([[-P, -A], [A.T, -Q]])


def point():
    return {"a": jnp.asarray([0.3, -1.2]), "b": jnp.asarray([0.7])}, jnp.asarray([0.4, -0.5])


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_of_a_linear_game(mode):
    with jax.enable_x64(True):
        g, d = point()
        field = game_field(*linear_game())
        jac = field_jacobian(field, g, d, None, mode=mode)
        np.testing.assert_allclose(jac, JACOBIAN, atol=1e-14)
        eig = np.sort_complex(np.asarray(field_eigenvalues(field, g, d, None, mode=mode)))
        np.testing.assert_allclose(eig, np.sort_complex(np.linalg.eigvals(JACOBIAN)), atol=1e-12)


def test_bilinear_game_has_imaginary_eigenvalues():
    # g_loss = a th ps, d_loss = -a th ps: J = [[0, -a], [a, 0]], eigenvalues +- a i.
    with jax.enable_x64(True):
        field = game_field(lambda g, d, b: 2.0 * g * d, lambda g, d, b: -2.0 * g * d)
        eig = field_eigenvalues(field, jnp.asarray(0.3), jnp.asarray(-0.1), None)
        np.testing.assert_allclose(np.sort(eig.imag), [-2.0, 2.0], atol=1e-14)
        np.testing.assert_allclose(eig.real, [0.0, 0.0], atol=1e-14)


def test_consensus_jacobian_is_j_minus_gamma_jt_j():
    # v is linear, so grad 1/2||v||^2 = J^T v and the consensus Jacobian is J - gamma J^T J.
    with jax.enable_x64(True):
        g, d = point()
        field = consensus_field(game_field(*linear_game()), gamma=0.7)
        jac = field_jacobian(field, g, d, None)
        np.testing.assert_allclose(jac, JACOBIAN - 0.7 * JACOBIAN.T @ JACOBIAN, atol=1e-13)


def test_rightmost_eigenvalues_match_dense_eigenvalues():
    with jax.enable_x64(True):
        n = 40
        rng = np.random.default_rng(1)
        m = rng.normal(size=(n, n)) / np.sqrt(n) - 0.2 * np.eye(n)
        k = n // 2
        g_loss = lambda g, d, b: -(g @ m[:k, :k] @ g) / 2 - g @ m[:k, k:] @ d
        d_loss = lambda g, d, b: -(d @ m[k:, k:] @ d) / 2 - d @ m[k:, :k] @ g
        sym = m.copy()
        sym[:k, :k] = (m[:k, :k] + m[:k, :k].T) / 2
        sym[k:, k:] = (m[k:, k:] + m[k:, k:].T) / 2
        field = game_field(g_loss, d_loss)
        g, d = jnp.asarray(rng.normal(size=k)), jnp.asarray(rng.normal(size=n - k))
        top = FieldSpectrum(lambda _: field).rightmost(g, d, None, None, k=4)
        dense = np.linalg.eigvals(sym)
        assert top[0].real == pytest.approx(dense.real.max(), abs=1e-8)


def test_field_spectrum_along_a_trajectory_matches_the_closed_form_with_one_compilation():
    # Pairs (th_i, ps_i): g_loss = sum th ps + c/4 th^4, d_loss = -sum th ps + q/2 ps^2, so
    # v_i = (-(ps_i + c th_i^3), th_i - q ps_i) and pair i's Jacobian [[-3 c th_i^2, -1], [1, -q]]:
    # eigenvalues T/2 +- sqrt(T^2/4 - D), T = -3 c th^2 - q, D = 3 c q th^2 + 1. c is the field's aux.
    q = 0.4
    with jax.enable_x64(True):
        def make_field(c):
            return game_field(lambda g, d, b: g @ d + c / 4 * jnp.sum(g**4),
                              lambda g, d, b: -g @ d + q / 2 * d @ d)

        spectrum = FieldSpectrum(make_field)
        rng = np.random.default_rng(2)
        for step in range(4):  # points of one "trajectory", the aux changing too
            th, ps, c = rng.normal(size=4), rng.normal(size=4), 0.5 + 0.5 * step
            trace, det = -3 * c * th**2 - q, 3 * c * q * th**2 + 1
            pair = trace[:, None] / 2 + np.array([1, -1]) * np.sqrt((trace**2 / 4 - det).astype(complex))[:, None]
            top = spectrum.rightmost(jnp.asarray(th), jnp.asarray(ps), c, None, k=1)
            assert top[0].real == pytest.approx(pair.real.max(), abs=1e-8)
            norm = np.sqrt(np.sum((ps + c * th**3) ** 2 + (th - q * ps) ** 2))
            assert spectrum.norm(jnp.asarray(th), jnp.asarray(ps), c, None) == pytest.approx(norm, rel=1e-12)
        assert spectrum._jvp._cache_size() == 1


def test_unrolled_generator_gradient_flows_through_the_discriminator_steps():
    # d_loss = 1/2 (ps - c th)^2, SGD(eta): after K steps ps_K = c th + r^K (ps - c th),
    # r = 1 - eta. g_loss = th ps, so the unrolled loss th ps_K has
    # d/dth = ps_K + th c (1 - r^K), unlike the plain th ps whose d/dth = ps.
    with jax.enable_x64(True):
        c, eta, k, th, ps = 1.5, 0.3, 3, 0.8, -0.4
        d_loss = lambda g, d, b: 0.5 * (d - c * g) ** 2
        g_loss = lambda g, d, b: g * d
        opt = optax.sgd(eta)
        loss = unrolled_g_loss(g_loss, d_loss, opt, opt.init(jnp.asarray(ps)), steps=k)
        r = 1.0 - eta
        ps_k = c * th + r**k * (ps - c * th)
        assert float(loss(th, ps, None)) == pytest.approx(th * ps_k, rel=1e-13)
        grad = jax.grad(loss)(jnp.asarray(th), jnp.asarray(ps), None)
        assert float(grad) == pytest.approx(ps_k + th * c * (1 - r**k), rel=1e-13)


def test_unrolling_through_adam_uses_the_optimizer_state():
    # Two identical calls with different Adam states must differ; with a fresh
    # state one Adam step moves ps by -lr * sign(grad) (first step, eps -> 0).
    with jax.enable_x64(True):
        d_loss = lambda g, d, b: 0.5 * (d - g) ** 2
        g_loss = lambda g, d, b: g * d
        opt = optax.adam(0.1, eps=1e-12)
        fresh = unrolled_g_loss(g_loss, d_loss, opt, opt.init(jnp.asarray(0.0)), steps=1)
        assert float(fresh(2.0, 0.0, None)) == pytest.approx(2.0 * 0.1, rel=1e-9)
        _, used = opt.update(jnp.asarray(-5.0), opt.init(jnp.asarray(0.0)))
        other = unrolled_g_loss(g_loss, d_loss, opt, used, steps=1)
        assert abs(float(other(2.0, 0.0, None)) - 0.2) > 1e-3


def test_simultaneous_and_alternating_updates_with_separate_learning_rates():
    # Bilinear game g_loss = th ps, d_loss = -th ps: v = (-ps, th).
    with jax.enable_x64(True):
        field = game_field(lambda g, d, b: g * d, lambda g, d, b: -g * d)
        g_opt, d_opt = optax.sgd(0.1), optax.sgd(0.3)
        state = init_state(jnp.asarray(1.0), jnp.asarray(2.0), g_opt, d_opt)
        sim = simultaneous_update(field, g_opt, d_opt, state, None)
        assert (float(sim.g_params), float(sim.d_params)) == pytest.approx((1 - 0.2, 2 + 0.3))
        alt = alternating_update(field, g_opt, d_opt, state, None)
        assert (float(alt.g_params), float(alt.d_params)) == pytest.approx((0.8, 2 + 0.3 * 0.8))
        d_first = alternating_update(field, g_opt, d_opt, state, None, generator_first=False)
        assert (float(d_first.g_params), float(d_first.d_params)) == pytest.approx(
            (1 - 0.1 * 2.3, 2.3))
        clipped = simultaneous_update(
            field, g_opt, d_opt, state, None, d_project=lambda d: jnp.clip(d, -1, 1))
        assert float(clipped.d_params) == 1.0


def test_critic_steps_then_one_generator_step():
    # Bilinear game v = (-ps, th + b) with the batch b shifting the critic's target: SGD steps by hand.
    with jax.enable_x64(True):
        field = game_field(lambda g, d, b: g * d, lambda g, d, b: -g * d - b * d)
        g_opt, d_opt = optax.sgd(0.1), optax.sgd(0.3)
        state = init_state(jnp.asarray(1.0), jnp.asarray(2.0), g_opt, d_opt)
        batches = jnp.asarray([0.5, -1.0, 2.0])
        new = critic_steps_update(field, g_opt, d_opt, state, batches)
        ps = 2.0
        for b in (0.5, -1.0, 2.0):  # the generator stays at th = 1 while the critic moves
            ps = ps + 0.3 * (1.0 + b)
        assert float(new.d_params) == pytest.approx(ps, abs=1e-12)
        assert float(new.g_params) == pytest.approx(1.0 - 0.1 * ps, abs=1e-12)
        # one critic step is the alternating update with the discriminator first
        one = critic_steps_update(field, g_opt, d_opt, state, batches[:1])
        alt = alternating_update(field, g_opt, d_opt, state, batches[0], generator_first=False)
        np.testing.assert_allclose([one.g_params, one.d_params], [alt.g_params, alt.d_params], atol=1e-14)


"""The Dirac-GAN built by autodiff against its closed forms (Mescheder et al. 2018, section 2-4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.gan.dirac import (
    dirac_batch,
    dirac_game,
    dirac_params,
    dirac_trajectory,
    dirac_vector,
    log_distance_slope,
    r1_equilibrium_eigenvalues,
    spectral_radius,
    update_jacobian,
)
from research.gan.game import field_eigenvalues


def fp(t):
    """f'(t) = 1 / (1 + e^t) for f(t) = -log(1 + e^-t)."""
    return 1.0 / (1.0 + np.exp(t))


def fpp(t):
    return -np.exp(t) / (1.0 + np.exp(t)) ** 2


def gan_closed(th, ps):
    return np.array([-ps * fp(th * ps), th * fp(th * ps)])


def consensus_closed(th, ps, gamma):
    # v - gamma J^T v with J the Jacobian of the GAN field (chain rule by hand).
    t = th * ps
    jac = np.array([
        [-ps**2 * fpp(t), -fp(t) - t * fpp(t)],
        [fp(t) + t * fpp(t), th**2 * fpp(t)],
    ])
    v = gan_closed(th, ps)
    return v - gamma * jac.T @ v


# (method kwargs, closed form of the field (v_theta, v_psi)) as in the GAN_stability notebook.
CASES = {
    "gan": (dict(loss="gan"), gan_closed),
    "nsgan": (dict(loss="nsgan"), lambda th, ps: np.array([-ps * fp(-th * ps), th * fp(th * ps)])),
    "wgan": (dict(loss="wgan", clip=1.0), lambda th, ps: np.array([-ps, th])),
    "wgan-gp": (
        dict(loss="wgan", gp_weight=0.5, gp_target=0.3),
        lambda th, ps: np.array([-ps, th - (abs(ps) - 0.3) * np.sign(ps)]),
    ),
    "r1": (dict(loss="gan", r1_gamma=0.3), lambda th, ps: gan_closed(th, ps) - [0.0, 0.3 * ps]),
    "consensus": (dict(loss="gan", consensus_gamma=1.0), lambda th, ps: consensus_closed(th, ps, 1.0)),
}
POINTS = [(1.0, 1.0), (-0.7, 0.4), (2.5, -1.3), (0.1, -0.05)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_field_matches_closed_form(name):
    kwargs, closed = CASES[name]
    with jax.enable_x64(True):
        field, _ = dirac_game(**kwargs)
        th, ps = np.array(POINTS).T
        got = dirac_vector(field, jnp.asarray(th), jnp.asarray(ps))
        expected = np.stack([closed(a, b) for a, b in POINTS])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# Distance to the equilibrium after 500 steps of size 0.2 from (1, 1), simultaneous /
# alternating: REFERENCES section 4 [C] (an independent reimplementation).
DISTANCES = {
    "gan": (3.10, 1.42),
    "nsgan": (0.64, 0.28),
    "wgan": (1.00, 1.02),
    "wgan-gp": (0.43, 0.43),
}


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_unregularized_distances_reproduce_the_reference(name):
    field, project = dirac_game(**CASES[name][0])
    for mode, expected in zip(("simultaneous", "alternating"), DISTANCES[name]):
        path = dirac_trajectory(field, project, mode)
        assert path.shape == (501, 2)
        assert float(jnp.linalg.norm(path[-1])) == pytest.approx(expected, abs=0.006), mode


@pytest.mark.parametrize("kwargs", [dict(r1_gamma=0.3), dict(r1_gamma=1.0), dict(consensus_gamma=1.0)])
def test_regularized_methods_converge(kwargs):
    field, project = dirac_game(loss="gan", **kwargs)
    for mode in ("simultaneous", "alternating"):
        assert float(jnp.linalg.norm(dirac_trajectory(field, project, mode)[-1])) < 1e-3


def test_first_steps_follow_the_closed_form():
    with jax.enable_x64(True):
        field, _ = dirac_game(loss="gan")
        path = np.asarray(dirac_trajectory(field, None, "simultaneous", num_steps=2))
        x1 = np.array([1.0, 1.0]) + 0.2 * gan_closed(1.0, 1.0)
        x2 = x1 + 0.2 * gan_closed(*x1)
        np.testing.assert_allclose(path, [[1.0, 1.0], x1, x2], rtol=1e-13)
        path = np.asarray(dirac_trajectory(field, None, "alternating", num_steps=1))
        th = 1.0 + 0.2 * gan_closed(1.0, 1.0)[0]
        np.testing.assert_allclose(path[1], [th, 1.0 + 0.2 * gan_closed(th, 1.0)[1]], rtol=1e-13)


def test_wgan_clipping_keeps_psi_in_the_box():
    field, project = dirac_game(loss="wgan", clip=1.0)
    path = dirac_trajectory(field, project, "simultaneous")
    assert float(jnp.max(jnp.abs(path[:, 1]))) <= 1.0
    assert float(jnp.max(jnp.abs(path[:, 1]))) == pytest.approx(1.0)


def equilibrium_eigenvalues(mode, **kwargs):
    field, _ = dirac_game(**kwargs)
    g, d = dirac_params(0.0, 0.0)
    return np.sort_complex(np.asarray(field_eigenvalues(field, g, d, dirac_batch(jax.random.key(0)), mode)))


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_r1_eigenvalues_at_equilibrium_match_closed_form(gamma, mode):
    with jax.enable_x64(True):
        got = equilibrium_eigenvalues(mode, loss="gan", r1_gamma=gamma)
        expected = np.sort_complex(np.asarray(r1_equilibrium_eigenvalues(gamma)))
        # gamma = 1 gives a defective double root, which eig resolves to ~sqrt(eps).
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_unregularized_and_consensus_eigenvalues_at_equilibrium():
    with jax.enable_x64(True):
        np.testing.assert_allclose(equilibrium_eigenvalues("fwd", loss="gan"), [-0.5j, 0.5j], atol=1e-12)
        np.testing.assert_allclose(equilibrium_eigenvalues("fwd", loss="nsgan"), [-0.5j, 0.5j], atol=1e-12)
        # J - gamma J^T J with J = [[0, -1/2], [1/2, 0]]: -gamma/4 +- i/2.
        np.testing.assert_allclose(
            equilibrium_eigenvalues("rev", loss="gan", consensus_gamma=1.0),
            [-0.25 - 0.5j, -0.25 + 0.5j], atol=1e-12)


def test_spectral_radius_of_the_linearized_update_matches_the_closed_form():
    h = 0.2
    with jax.enable_x64(True):
        gan = dirac_game(loss="gan")
        # simultaneous: |1 + h (i/2)|; alternating: the step's matrix has determinant 1 (a rotation).
        assert spectral_radius(update_jacobian(*gan, "simultaneous", h)) == pytest.approx(np.sqrt(1 + h**2 / 4), abs=1e-12)
        assert spectral_radius(update_jacobian(*gan, "alternating", h)) == pytest.approx(1.0, abs=1e-12)
        # R1 with gamma = 1: double eigenvalue -1/2, so 1 - h / 2.
        r1 = dirac_game(loss="gan", r1_gamma=1.0)
        assert spectral_radius(update_jacobian(*r1, "simultaneous", h)) == pytest.approx(1 - h / 2, abs=1e-9)


def test_log_distance_slope_reads_a_geometric_rate_and_skips_the_floor():
    t = np.arange(201)
    assert log_distance_slope(3.0 * 0.9**t) == pytest.approx(np.log(0.9), rel=1e-9)
    floored = np.where(t < 100, 0.5**t, 0.0)  # hits zero at step 100: fitted on steps 50-99
    assert log_distance_slope(floored) == pytest.approx(np.log(0.5), rel=1e-9)
    assert log_distance_slope(np.ones(50)) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(log_distance_slope(np.zeros(10)))


def test_the_notebooks_wgan_gp_is_twice_the_weight():
    """The notebook's WGAN_GP(reg, target): v_psi = theta - reg (|psi| - target) sign(psi), so reg = 2 weight."""
    with jax.enable_x64(True):
        field, _ = dirac_game(loss="wgan", gp_weight=0.35, gp_target=1.0)
        got = dirac_vector(field, jnp.asarray([0.4, -0.3]), jnp.asarray([0.5, -1.7]))
        expected = [[-0.5, 0.4 - 0.7 * (0.5 - 1.0)], [1.7, -0.3 - 0.7 * (1.7 - 1.0) * -1.0]]
        np.testing.assert_allclose(got, expected, rtol=1e-12)

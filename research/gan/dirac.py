"""The Dirac-GAN (Mescheder et al. 2018, section 2.2) built from the general GAN machinery.

Data p_D = delta_0, generator p_theta = delta_theta (G(z) = theta), linear
discriminator D_psi(x) = psi x. With the paper's eq. (1) the game value is
L(theta, psi) = f(psi theta) + f(0); the unique equilibrium is (0, 0), where
the unregularized field's Jacobian has eigenvalues +- f'(0) i (not locally
convergent) and R1's has -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) (section 4.1).

The field here comes from `gan_losses` and `gan_game` by autodiff, not from a
hand-written formula, so the Dirac-GAN doubles as a check of those functions;
the tests compare it with the closed forms.
"""

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from research.gan.game import (
    Field,
    GanBatch,
    alternating_update,
    consensus_field,
    game_field,
    gan_losses,
    init_state,
    simultaneous_update,
)
from research.gan.losses import LOSSES, clip_weights, r1_penalty, wgan_gp_penalty


def dirac_generator(g_params, z_Bx1: jax.Array) -> jax.Array:
    """G(z) = theta for every z."""
    return jnp.broadcast_to(g_params["theta"], z_Bx1.shape)


def dirac_discriminator(d_params, x_Bx1: jax.Array) -> jax.Array:
    """D(x) = psi x."""
    return d_params["psi"] * x_Bx1[:, 0]


def dirac_params(theta: float, psi: float):
    """The (generator, discriminator) parameter pytrees at (theta, psi)."""
    return {"theta": jnp.asarray(theta)}, {"psi": jnp.asarray(psi)}


def dirac_batch(key: jax.Array) -> GanBatch:
    """The data point x = 0 and one (irrelevant) latent code."""
    return GanBatch(x_real=jnp.zeros((1, 1)), z=jnp.zeros((1, 1)), key=key)


def dirac_game(
    loss: str = "gan",
    r1_gamma: float | None = None,
    gp_weight: float | None = None,
    gp_target: float = 1.0,
    consensus_gamma: float | None = None,
    clip: float | None = None,
) -> tuple[Field, Callable | None]:
    """The Dirac-GAN field of one training method, and the critic's projection (or None).

    `loss` names an entry of `gan_losses.LOSSES`; `r1_gamma` adds R1 as the
    paper's gamma/2 E||grad D||^2, so the field gets -gamma psi: gamma equals
    the notebook's `reg` in its R1 field (v_psi = theta f' - reg psi), while
    the training script's `reg_param` is gamma / 2; `gp_weight`, `gp_target`
    add WGAN-GP as weight * (||grad D|| - target)^2, the notebook's
    WGAN_GP(reg, target) with reg = 2 weight; `consensus_gamma` applies consensus
    optimization to the field; `clip` clips psi to [-clip, clip] after each step.
    """
    penalties = []
    if r1_gamma is not None:
        penalties.append(lambda d, x_real, x_fake, key: r1_penalty(
            dirac_discriminator, d, x_real, r1_gamma))
    if gp_weight is not None:
        penalties.append(lambda d, x_real, x_fake, key: wgan_gp_penalty(
            dirac_discriminator, d, x_real, x_fake, key, gp_weight, gp_target))

    def penalty(d, x_real, x_fake, key):
        return sum(p(d, x_real, x_fake, key) for p in penalties)

    g_loss, d_loss = gan_losses(
        LOSSES[loss], dirac_generator, dirac_discriminator, penalty if penalties else None
    )
    field = game_field(g_loss, d_loss)
    if consensus_gamma is not None:
        field = consensus_field(field, consensus_gamma)
    project = partial(clip_weights, clip=clip) if clip is not None else None
    return field, project


def dirac_vector(field: Field, theta: jax.Array, psi: jax.Array) -> jax.Array:
    """The field at (theta, psi) as an array (..., 2); vmaps over grids for quiver plots."""

    def at(theta, psi):
        g, d = dirac_params(theta, psi)
        v_g, v_d = field(g, d, dirac_batch(jax.random.key(0)))
        return jnp.stack([v_g["theta"], v_d["psi"]])

    flat = jax.vmap(at)(jnp.ravel(theta), jnp.ravel(psi))
    return flat.reshape(jnp.shape(theta) + (2,))


UPDATES = {"simultaneous": simultaneous_update, "alternating": alternating_update}


def dirac_step(field: Field, project: Callable | None = None, mode: str = "simultaneous",
               step_size: float = 0.2) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """One gradient step of size h as a map (theta, psi) -> (theta', psi') on arrays of shape (2,).

    mode "simultaneous": x <- x + h v(x); "alternating": theta moves first,
    then psi at the new theta (the GAN_stability notebook's order). The map
    is differentiable wherever the field is, so its Jacobian at the
    equilibrium is the linearized update whose spectral radius is the rate.
    """
    opt = optax.sgd(step_size)
    update = UPDATES[mode]

    def step(x, key):
        state = init_state(*dirac_params(x[0], x[1]), opt, opt)
        state = update(field, opt, opt, state, dirac_batch(key), project)
        return jnp.stack([state.g_params["theta"], state.d_params["psi"]])

    return step


def dirac_trajectory(
    field: Field,
    project: Callable | None = None,
    mode: str = "simultaneous",
    start: tuple[float, float] = (1.0, 1.0),
    step_size: float = 0.2,
    num_steps: int = 500,
) -> jax.Array:
    """(theta, psi) along `num_steps` steps of `dirac_step`, shape (num_steps + 1, 2), as one lax.scan."""
    step = dirac_step(field, project, mode, step_size)
    key = jax.random.key(0)
    x0 = jnp.stack([jnp.asarray(start[0]), jnp.asarray(start[1])])

    def body(x, k):
        x = step(x, jax.random.fold_in(key, k))
        return x, x

    _, path = jax.lax.scan(body, x0, jnp.arange(num_steps))
    return jnp.concatenate([x0[None].astype(path.dtype), path])


def update_jacobian(field: Field, project: Callable | None = None, mode: str = "simultaneous",
                    step_size: float = 0.2) -> jax.Array:
    """The (2, 2) Jacobian at (0, 0) of the update x -> x + h v(x) (or its alternating form), by jacfwd.

    Jittable (and vmappable over a traced field parameter such as R1's gamma);
    run under `jax.enable_x64` for float64. Meaningless where the field has no
    Jacobian at (0, 0) (WGAN-GP's |psi|).
    """
    step = dirac_step(field, project, mode, step_size)
    return jax.jacfwd(step)(jnp.zeros(2), jax.random.key(0))


def spectral_radius(matrix) -> float:
    """max |eigenvalue| of a square matrix (host, numpy).

    Of the linearized update: below 1, iterates near the equilibrium shrink
    geometrically by this factor per step; 1 or more, no step size-h iteration
    converges geometrically there.
    """
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(matrix)))))


def log_distance_slope(distance_T: np.ndarray, floor: float = 1e-20) -> float:
    """The empirical rate: least-squares slope of log |x_t| against t, per step.

    Fitted on the second half of the steps whose distance is above `floor`
    (a path that converges geometrically reaches float32's floor long before
    the end; the second half skips the transient from the start). Negative:
    geometric convergence at exp(slope) per step; about 0: an orbit or a
    sublinear drift. NaN with fewer than 3 points.
    """
    distance_T = np.asarray(distance_T, float)
    (above,) = np.nonzero(np.isfinite(distance_T) & (distance_T > floor))
    window = above[above.size // 2:]
    if window.size < 3:
        return float("nan")
    return float(np.polyfit(window, np.log(distance_T[window]), 1)[0])


def r1_equilibrium_eigenvalues(gamma: float, fprime0: float = 0.5) -> jax.Array:
    """-gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) (Mescheder 2018, section 4.1), complex, shape (2,)."""
    root = jnp.sqrt(jnp.asarray(gamma**2 / 4.0 - fprime0**2, dtype=complex))
    return jnp.stack([-gamma / 2.0 + root, -gamma / 2.0 - root])

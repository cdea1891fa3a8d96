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

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from research.gan.game import (
    Field,
    GanBatch,
    alternating_update,
    consensus_field,
    field_eigenvalues,
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
MODES = tuple(UPDATES)


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


@partial(jax.jit, static_argnums=1)
def starting_points(key: jax.Array, others: int) -> jax.Array:
    """(1, 1), then `others` random points on the circle of radius sqrt(2) through it, shape (others + 1, 2)."""
    angles = jax.random.uniform(key, (others,), maxval=2 * jnp.pi)
    points = jnp.sqrt(2.0) * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)
    return jnp.concatenate([jnp.ones((1, 2)), points])


def trajectories(field: Field, project: Callable | None, mode: str, starts: jax.Array, step_size: float,
                 steps: int) -> jax.Array:
    """`dirac_trajectory` from each of `starts` (S, 2), vmapped: shape (S, steps + 1, 2)."""
    return jax.vmap(lambda x0: dirac_trajectory(field, project, mode, (x0[0], x0[1]), step_size, steps))(starts)


class Setting(NamedTuple):
    """One method in one update order (numpy): the path from the first start, the rate from every start."""

    path: np.ndarray       # (steps + 1, 2) from starts[0]
    distances: np.ndarray  # (steps + 1,) |(theta, psi)| along it
    slopes: np.ndarray     # (starts,) `log_distance_slope` of each start's path
    distance: float        # |x_T| from starts[0]


class Simulation(NamedTuple):
    theta: np.ndarray                         # (grid, grid) the plot's lattice over [-2, 2]^2
    psi: np.ndarray
    fields: dict[str, np.ndarray]             # game -> (grid, grid, 2)
    settings: dict[str, dict[str, Setting]]   # game -> mode -> Setting


def simulate(games: dict[str, dict], starts: jax.Array, step_size: float, steps: int, grid: int) -> Simulation:
    """Every game's (`dirac_game` arguments) paths from every start in both orders and its field on the
    grid, float32, as one compiled program. The distances are taken in XLA, as its float32 rounding
    (subnormals flushed near the floor) is what the slopes read."""

    def compute(starts):
        span = jnp.linspace(-2.0, 2.0, grid)
        theta, psi = jnp.meshgrid(span, span, indexing="xy")
        out = {}
        for name, game in games.items():
            field, project = dirac_game(**game)
            paths = {mode: trajectories(field, project, mode, starts, step_size, steps) for mode in MODES}
            distances = {mode: jnp.linalg.norm(p, axis=-1) for mode, p in paths.items()}
            out[name] = (paths, distances, dirac_vector(field, theta, psi))
        return (theta, psi), out

    (theta, psi), out = jax.tree.map(np.asarray, jax.jit(compute)(starts))
    settings = {name: {mode: Setting(paths[mode][0], distances[mode][0], np.array(
        [log_distance_slope(d) for d in distances[mode]]), float(distances[mode][0, -1])) for mode in MODES}
        for name, (paths, distances, _) in out.items()}
    return Simulation(theta, psi, {name: field for name, (_, _, field) in out.items()}, settings)


class Linearized(NamedTuple):
    """One method at the equilibrium (0, 0), float64 (numpy)."""

    update_jacobians: dict[str, np.ndarray]  # mode -> (2, 2) Jacobian of one step of size h
    eigenvalues: np.ndarray                  # (2,) of the field's Jacobian, sorted by imaginary part
    r1_closed_form: np.ndarray | None        # (2,) -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) for an R1 game, sorted

    def spectral_radii(self) -> dict[str, float]:
        return {mode: spectral_radius(jacobian) for mode, jacobian in self.update_jacobians.items()}


class Locus(NamedTuple):
    """R1's equilibrium eigenvalues along gamma (numpy, float64)."""

    gamma: np.ndarray     # (points,)
    computed: np.ndarray  # (points, 2) jacfwd of the autodiff field, sorted by imaginary part
    expected: np.ndarray  # (points, 2) the closed form
    max_error: float      # largest |computed - expected|, each computed value paired with the nearer one


def by_imaginary_part(values) -> np.ndarray:
    """Eigenvalues (..., n) sorted along the last axis by imaginary part (eig's order is arbitrary)."""
    values = np.asarray(values)
    return np.take_along_axis(values, np.argsort(values.imag, axis=-1, kind="stable"), axis=-1)


def linearize(games: dict[str, dict], step_size: float, gammas: np.ndarray,
              fprime0: float = 0.5) -> tuple[dict[str, Linearized], Locus]:
    """float64, as one compiled program: each game's (with a Jacobian at (0, 0)) linearized update in
    both orders and its field's eigenvalues there, and R1's eigenvalues along `gammas` (the locus)."""

    def compute(gammas):
        g, d = dirac_params(0.0, 0.0)
        batch = dirac_batch(jax.random.key(0))
        out = {}
        for name, game in games.items():
            field, project = dirac_game(**game)
            jacobians = {mode: update_jacobian(field, project, mode, step_size) for mode in MODES}
            closed = r1_equilibrium_eigenvalues(game["r1_gamma"], fprime0) if "r1_gamma" in game else None
            out[name] = Linearized(jacobians, field_eigenvalues(field, g, d, batch), closed)
        computed = jax.vmap(lambda gamma: field_eigenvalues(
            dirac_game(loss="gan", r1_gamma=gamma)[0], g, d, batch))(gammas)
        expected = jax.vmap(lambda gamma: r1_equilibrium_eigenvalues(gamma, fprime0))(gammas)
        return out, computed, expected

    with jax.enable_x64(True):
        out, computed, expected = jax.tree.map(np.asarray, jax.jit(compute)(gammas))
    sort = lambda v: None if v is None else by_imaginary_part(v)
    computed = by_imaginary_part(computed)
    error = np.minimum(np.abs(computed - expected).max(axis=1), np.abs(computed - expected[:, ::-1]).max(axis=1))
    return ({name: lin._replace(eigenvalues=sort(lin.eigenvalues), r1_closed_form=sort(lin.r1_closed_form))
             for name, lin in out.items()}, Locus(gammas, computed, expected, float(error.max())))

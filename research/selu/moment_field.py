"""The moment map g over Theorem 1's domain (Klambauer et al. 2017): its field, the
spectral norm of its Jacobian, its iterates, and the same for a linear layer (the
control), as one compiled program; and the Monte-Carlo moments of the dropouts.

Theorem 1's domain Omega: mu in [-0.1, 0.1], nu in [0.8, 1.5] for weights with
omega in [-0.1, 0.1], tau in [0.95, 1.1].
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import nn
from research.selu import snn

MEAN_RANGE, VAR_RANGE = (-0.1, 0.1), (0.8, 1.5)
OMEGA_RANGE, TAU_RANGE = (-0.1, 0.1), (0.95, 1.1)


class Field(NamedTuple):
    """g on a (mu, nu) grid at omega = 0, tau = 1, and its iterates from the box's corners."""

    mean: jax.Array  # (M,)
    var: jax.Array  # (V,)
    new_mean: jax.Array  # (M, V)
    new_var: jax.Array  # (M, V)
    spectral_norm: jax.Array  # (M, V), omega = 0, tau = 1
    spectral_norm_worst_omega_tau: jax.Array  # (M, V), max over the (omega, tau) grid
    trajectories: jax.Array  # (corners, steps + 1, 2)
    jacobian_at_fixed_point: jax.Array  # (2, 2)
    final_distance: jax.Array  # largest distance of the last iterates to (0, 1)


class Contraction(NamedTuple):
    """Spectral norms of g's Jacobian: at (0, 1), max over the (mu, nu) grid, max over the 4-D box."""

    norm_at_fixed_point: jax.Array
    max_norm_mu_nu_box: jax.Array
    max_norm_theorem1_box: jax.Array


def box_side(grid_points: int) -> int:
    """Points per (omega, tau) axis of the 4-D grid: half the (mu, nu) axes', at least 3."""
    return max(3, grid_points // 2)


@partial(jax.jit, static_argnums=(0, 1))
def moment_field(grid_points: int, trajectory_steps: int) -> tuple[Field, Contraction, Contraction]:
    """The field, SELU's contraction and the linear layer's, in one compiled program."""
    means = jnp.linspace(*MEAN_RANGE, grid_points)
    variances = jnp.linspace(*VAR_RANGE, grid_points)
    mean_MxV, var_MxV = jnp.meshgrid(means, variances, indexing="ij")
    moments = jax.vmap(jax.vmap(snn.moment_map))(mean_MxV, var_MxV)

    side = box_side(grid_points)
    axes = [jnp.linspace(*r, n) for r, n in
            [(MEAN_RANGE, grid_points), (VAR_RANGE, grid_points), (OMEGA_RANGE, side), (TAU_RANGE, side)]]
    points = [a.ravel() for a in jnp.meshgrid(*axes, indexing="ij")]
    # g's Jacobian at the fixed point, on the (mu, nu) grid (omega=0, tau=1) and on the 4-D box: one
    # batch, so the program holds one copy of the Jacobian (erfc-heavy, slow to compile), not three.
    on_grid = (mean_MxV.ravel(), var_MxV.ravel(), 0 * mean_MxV.ravel(), 1 + 0 * mean_MxV.ravel())
    batch = [jnp.concatenate([jnp.array([at]), grid, box]) for at, grid, box in zip((0.0, 1.0, 0.0, 1.0), on_grid,
                                                                                    points)]
    jacobians = jax.vmap(snn.moment_map_jacobian)(*batch)
    norms = snn.spectral_norm(jacobians)
    norm_MxV = norms[1 : 1 + mean_MxV.size].reshape(mean_MxV.shape)
    norm_4d = norms[1 + mean_MxV.size :].reshape(grid_points, grid_points, side, side)

    linear_norm_of = jax.vmap(
        lambda m, v, o, t: snn.spectral_norm(snn.moment_map_jacobian(m, v, o, t, linear=True)))
    corners = jnp.array([[m, v] for m in MEAN_RANGE for v in VAR_RANGE])

    def iterate(start):
        def one(point, _):
            new = jnp.stack(snn.moment_map(point[0], point[1]))
            return new, new
        return jnp.concatenate([start[None], jax.lax.scan(one, start, None, trajectory_steps)[1]])

    trajectories = jax.vmap(iterate)(corners)
    field = Field(means, variances, moments.mean, moments.var, norm_MxV, jnp.max(norm_4d, axis=(2, 3)),
                  trajectories, jacobians[0],
                  jnp.max(jnp.linalg.norm(trajectories[:, -1] - jnp.array([0.0, 1.0]), axis=-1)))
    selu = Contraction(norms[0], jnp.max(norm_MxV), jnp.max(norm_4d))
    linear = Contraction(snn.spectral_norm(snn.moment_map_jacobian(0.0, 1.0, linear=True)),
                         jnp.max(linear_norm_of(*on_grid)), jnp.max(linear_norm_of(*points)))
    return field, selu, linear


def uncorrected_affine(rate: float) -> snn.AlphaDropoutAffine:
    """Dropping to alpha' without alpha dropout's correction (a = 1, b = 0)."""
    dropped = snn.alpha_dropout_affine(rate).dropped_value
    return snn.AlphaDropoutAffine(jnp.ones_like(dropped), jnp.zeros_like(dropped), dropped)


DROPOUTS = ("alpha", "plain", "uncorrected")
"""alpha dropout; plain (inverted) dropout; dropping to alpha' without the affine correction."""


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def dropout_samples(seed: int, rates: tuple[float, ...], seeds: int, mc_samples: int):
    """Every dropout's Monte-Carlo (mean, variance) of x ~ N(0, 1), (rates, seeds, methods, 2), one key
    per repeat, the repeats one after another (lax.map: memory of one); and each one's closed form,
    (rates, methods, 2). One compiled program for every rate."""

    def repeat(key, rate):
        key_x, key_drop = jax.random.split(key)
        x = jax.random.normal(key_x, (mc_samples,))
        outs = (snn.alpha_dropout(key_drop, x, rate), nn.dropout(key_drop, x, rate),
                snn.affine_dropout(key_drop, x, rate, uncorrected_affine(rate)))
        return jnp.stack([jnp.stack([jnp.mean(out), jnp.var(out)]) for out in outs])  # (methods, 2)

    samples, exact = [], []
    for i, rate in enumerate(rates):
        keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), i), seeds)
        samples.append(jax.lax.map(lambda k, rate=rate: repeat(k, rate), keys))  # (seeds, methods, 2)
        closed = (snn.alpha_dropout_moments(rate, snn.alpha_dropout_affine(rate)),
                  snn.Moments(0.0, 1.0 / (1.0 - rate)),
                  snn.alpha_dropout_moments(rate, uncorrected_affine(rate)))
        exact.append(jnp.array([[m.mean, m.var] for m in closed]))
    return jnp.stack(samples), jnp.stack(exact)


class Image(NamedTuple):
    """The extremes of a moment map's image of Theorem 1's 4-D grid (mu, nu, omega, tau)."""

    mean_low: jax.Array
    mean_high: jax.Array
    var_low: jax.Array
    var_high: jax.Array


def quadrature_moment_map(activation, points: int = 101):
    """The moment map of any activation, (mean, var, omega, tau) -> Moments of activation(z) for
    z ~ N(mean omega, var tau), by Gauss-Hermite quadrature (probabilists' nodes)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    weights = weights / np.sqrt(2.0 * np.pi)

    def moments(mean, var, omega, tau):
        y = activation(mean * omega + jnp.sqrt(var * tau) * nodes)
        first = jnp.sum(weights * y)
        return snn.Moments(first, jnp.sum(weights * y**2) - first**2)

    return moments


@partial(jax.jit, static_argnums=(0, 1))
def box_image(moments, grid_points: int) -> Image:
    """`moments`' image of the grid with `grid_points` per (mu, nu) axis and `box_side` per (omega, tau)
    axis, the box's faces and corners included."""
    side = box_side(grid_points)
    axes = [jnp.linspace(*r, n) for r, n in
            [(MEAN_RANGE, grid_points), (VAR_RANGE, grid_points), (OMEGA_RANGE, side), (TAU_RANGE, side)]]
    image = jax.vmap(moments)(*[a.ravel() for a in jnp.meshgrid(*axes, indexing="ij")])
    return Image(jnp.min(image.mean), jnp.max(image.mean), jnp.min(image.var), jnp.max(image.var))


def margin(image: Image, mean_range, var_range) -> float:
    """Smallest distance of the image's extremes inside the box mean_range x var_range (< 0: outside)."""
    return float(min(image.mean_low - mean_range[0], mean_range[1] - image.mean_high,
                     image.var_low - var_range[0], var_range[1] - image.var_high))

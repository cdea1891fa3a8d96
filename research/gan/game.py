"""Two-player games as vector fields: building the field, reshaping it, stepping it.

A game is two losses, each minimized by its player: `g_loss(g_params, d_params,
batch)` and `d_loss(g_params, d_params, batch)`. Its *joint vector field*
(Mescheder et al. 2017, "The Numerics of GANs") is the direction both
players move in,

    v(g, d) = (-grad_g g_loss, -grad_d d_loss),

a pair of pytrees shaped like the parameters. Training methods are built by
transforming the field (consensus), the generator's loss (unrolling) or the
update order (simultaneous / alternating); local convergence is read off the
eigenvalues of the Jacobian of v at a fixed point (all real parts < 0): away
from one (||v|| not ~ 0) the linearization says where the field turns, not
whether the point attracts (`FieldSpectrum` tracks both along training).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.sparse.linalg
from jax.flatten_util import ravel_pytree

from research.gan.losses import GanLoss

Params = Any
Field = Callable[[Params, Params, Any], tuple[Params, Params]]
Penalty = Callable[[Params, jax.Array, jax.Array, jax.Array], jax.Array]


class GanBatch(NamedTuple):
    """One step's inputs: data (B, dim), latent codes (B, z_dim), a key for penalties."""

    x_real: jax.Array
    z: jax.Array
    key: jax.Array


class GanState(NamedTuple):
    """Both players' parameters and optimizer states."""

    g_params: Params
    d_params: Params
    g_opt_state: Any
    d_opt_state: Any


def gan_losses(
    loss: GanLoss,
    g_apply: Callable,
    d_apply: Callable,
    penalty: Penalty | None = None,
) -> tuple[Callable, Callable]:
    """The two players' losses on a `GanBatch`, from a loss pair and the two models.

    `g_apply(g_params, z) -> x_fake`, `d_apply(d_params, x) -> (B,)`;
    `penalty(d_params, x_real, x_fake, key)` is added to the discriminator's
    loss (it may depend on the generator through x_fake, as WGAN-GP does).
    """

    def g_loss(g_params, d_params, batch: GanBatch) -> jax.Array:
        return loss.g_loss(d_apply(d_params, g_apply(g_params, batch.z)))

    def d_loss(g_params, d_params, batch: GanBatch) -> jax.Array:
        x_fake = g_apply(g_params, batch.z)
        value = loss.d_loss(d_apply(d_params, batch.x_real), d_apply(d_params, x_fake))
        if penalty is not None:
            value = value + penalty(d_params, batch.x_real, x_fake, batch.key)
        return value

    return g_loss, d_loss


def game_field(g_loss: Callable, d_loss: Callable) -> Field:
    """v = (-grad_g g_loss, -grad_d d_loss): each player descends its own loss."""

    def field(g_params, d_params, batch):
        grad_g = jax.grad(g_loss, argnums=0)(g_params, d_params, batch)
        grad_d = jax.grad(d_loss, argnums=1)(g_params, d_params, batch)
        return jax.tree.map(jnp.negative, grad_g), jax.tree.map(jnp.negative, grad_d)

    return field


def consensus_field(field: Field, gamma: float) -> Field:
    """Consensus optimization (Mescheder et al. 2017): v - gamma grad(1/2 ||v||^2).

    The gradient of 1/2 ||v||^2 is J^T v, one vector-Jacobian product.
    """

    def regularized(g_params, d_params, batch):
        v, vjp = jax.vjp(lambda g, d: field(g, d, batch), g_params, d_params)
        jtv = vjp(v)
        return jax.tree.map(lambda a, b: a - gamma * b, v, jtv)

    return regularized


def unrolled_g_loss(
    g_loss: Callable,
    d_loss: Callable,
    d_optimizer: optax.GradientTransformation,
    d_opt_state: Any,
    steps: int,
) -> Callable:
    """The generator's loss against the discriminator after `steps` of its optimizer.

    Metz et al. 2016, section 2: f_K(g, d) = g_loss(g, d_K(g, d)) where d_K is
    K updates of the discriminator's own optimizer from (d, d_opt_state), on
    the same batch; the generator's gradient flows through the K updates (the
    discriminator itself still takes its ordinary step).
    """

    def loss(g_params, d_params, batch):
        def d_step(carry, _):
            d, opt_state = carry
            grads = jax.grad(d_loss, argnums=1)(g_params, d, batch)
            updates, opt_state = d_optimizer.update(grads, opt_state, d)
            return (optax.apply_updates(d, updates), opt_state), None

        (d_unrolled, _), _ = jax.lax.scan(d_step, (d_params, d_opt_state), None, length=steps)
        return g_loss(g_params, d_unrolled, batch)

    return loss


# --- updates with one optimizer per player (separate learning rates: TTUR) ---


def init_state(g_params, d_params, g_opt, d_opt) -> GanState:
    return GanState(g_params, d_params, g_opt.init(g_params), d_opt.init(d_params))


def _move(opt, direction, opt_state, params):
    """One optimizer step along `direction` (the optimizer is given -direction as the gradient)."""
    grads = jax.tree.map(jnp.negative, direction)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def simultaneous_update(
    field: Field, g_opt, d_opt, state: GanState, batch, d_project: Callable | None = None
) -> GanState:
    """Both players step from the same point: x_{k+1} = x_k + h v(x_k) for SGD."""
    v_g, v_d = field(state.g_params, state.d_params, batch)
    g_params, g_opt_state = _move(g_opt, v_g, state.g_opt_state, state.g_params)
    d_params, d_opt_state = _move(d_opt, v_d, state.d_opt_state, state.d_params)
    if d_project is not None:
        d_params = d_project(d_params)
    return GanState(g_params, d_params, g_opt_state, d_opt_state)


def alternating_update(
    field: Field,
    g_opt,
    d_opt,
    state: GanState,
    batch,
    d_project: Callable | None = None,
    generator_first: bool = True,
) -> GanState:
    """The players step in turn, the second one at the first one's new point.

    `generator_first=True` is the order of the Dirac-GAN notebook
    (GAN_stability): theta moves, then psi at the new theta.
    """
    g_params, d_params = state.g_params, state.d_params
    g_opt_state, d_opt_state = state.g_opt_state, state.d_opt_state

    def move_g(g_params, d_params, g_opt_state):
        v_g, _ = field(g_params, d_params, batch)
        return _move(g_opt, v_g, g_opt_state, g_params)

    def move_d(g_params, d_params, d_opt_state):
        _, v_d = field(g_params, d_params, batch)
        d_params, d_opt_state = _move(d_opt, v_d, d_opt_state, d_params)
        return (d_project(d_params) if d_project is not None else d_params), d_opt_state

    if generator_first:
        g_params, g_opt_state = move_g(g_params, d_params, g_opt_state)
        d_params, d_opt_state = move_d(g_params, d_params, d_opt_state)
    else:
        d_params, d_opt_state = move_d(g_params, d_params, d_opt_state)
        g_params, g_opt_state = move_g(g_params, d_params, g_opt_state)
    return GanState(g_params, d_params, g_opt_state, d_opt_state)


def critic_steps_update(
    field: Field, g_opt, d_opt, state: GanState, batches, d_project: Callable | None = None
) -> GanState:
    """n critic steps, then one generator step (Arjovsky et al. 2017; Gulrajani et al. 2017).

    `batches` is a batch whose arrays carry a leading axis of length n: the
    critic steps once on each (lax.scan), then the generator steps on the last
    one at the critic's new point. With n = 1 this is `alternating_update`
    with the discriminator first.
    """

    def critic(carry, batch):
        d_params, d_opt_state = carry
        _, v_d = field(state.g_params, d_params, batch)
        d_params, d_opt_state = _move(d_opt, v_d, d_opt_state, d_params)
        return ((d_project(d_params) if d_project is not None else d_params), d_opt_state), None

    (d_params, d_opt_state), _ = jax.lax.scan(critic, (state.d_params, state.d_opt_state), batches)
    last = jax.tree.map(lambda a: a[-1], batches)
    v_g, _ = field(state.g_params, d_params, last)
    g_params, g_opt_state = _move(g_opt, v_g, state.g_opt_state, state.g_params)
    return GanState(g_params, d_params, g_opt_state, d_opt_state)


# --- the Jacobian of the field and its eigenvalues ---


def flat_field(field: Field, g_params, d_params, batch):
    """The field as a map R^n -> R^n on the raveled (g, d) parameters, and the point."""
    point, unravel = ravel_pytree((g_params, d_params))

    def v(flat):
        g, d = unravel(flat)
        return ravel_pytree(field(g, d, batch))[0]

    return v, point


def field_jacobian(field: Field, g_params, d_params, batch, mode: str = "fwd") -> jax.Array:
    """The (n, n) Jacobian of the joint field at (g, d), by jacfwd or jacrev."""
    v, point = flat_field(field, g_params, d_params, batch)
    jac = {"fwd": jax.jacfwd, "rev": jax.jacrev}[mode]
    return jac(v)(point)


def field_eigenvalues(field: Field, g_params, d_params, batch, mode: str = "fwd") -> jax.Array:
    """All eigenvalues of the field's Jacobian (dense; for small games)."""
    return jnp.linalg.eigvals(field_jacobian(field, g_params, d_params, batch, mode))


def rightmost_eigenvalues(
    matvec: Callable[[np.ndarray], np.ndarray], n: int, dtype, k: int = 6, tol: float = 0.0,
    maxiter: int | None = None,
) -> np.ndarray:
    """The k eigenvalues of largest real part of the linear map `matvec` on R^n (ARPACK, host).

    Returns up to k values, largest real part first: if ARPACK stops before all
    k converge, the converged ones (possibly none).
    """
    op = scipy.sparse.linalg.LinearOperator((n, n), matvec=matvec, dtype=np.dtype(dtype))
    start = np.random.default_rng(0).standard_normal(n).astype(dtype)  # fixed: the same point, the same values
    try:
        values = scipy.sparse.linalg.eigs(
            op, k=k, which="LR", tol=tol, maxiter=maxiter, v0=start, return_eigenvectors=False)
    except scipy.sparse.linalg.ArpackNoConvergence as error:
        values = error.eigenvalues
    return values[np.argsort(-values.real)]


def _uncommitted(tree):
    """`tree` as default-device arrays without a sharding: points from a sharded trainer state and
    from a plain init then share one compiled program (a sharding is part of jit's cache key)."""
    def plain(a):
        if isinstance(a, jax.Array) and not jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
            return np.asarray(a)
        return a

    return jax.device_put(jax.tree.map(plain, tree))


class FieldSpectrum:
    """||v|| and the rightmost eigenvalues of the field's Jacobian at many points, each compiled once.

    `make_field(aux) -> Field` builds the field from `aux`, a pytree it depends
    on without being differentiated in it (the discriminator's optimizer state
    of an unrolled generator; None where there is nothing). One jitted
    Jacobian-vector product, its primal being v, takes (g, d, aux, batch) as
    traced arguments, so a trajectory of points of one shape compiles once: the
    eigenvalues at a point then cost only ARPACK's products.
    """

    def __init__(self, make_field: Callable[[Any], Field]):
        def field_and_jvp(g_params, d_params, aux, batch, tangent):
            v, point = flat_field(make_field(aux), g_params, d_params, batch)
            return jax.jvp(v, (point,), (tangent.astype(point.dtype),))

        self._jvp = jax.jit(field_and_jvp)  # one program gives v (the primal) and J t

    def norm(self, g_params, d_params, aux, batch) -> float:
        """||v(g, d)||, the field's l2 norm over both players' parameters."""
        args = _uncommitted((g_params, d_params, aux, batch))
        point, _ = ravel_pytree(args[:2])
        return float(jnp.linalg.norm(self._jvp(*args, jnp.zeros_like(point))[0]))

    def rightmost(self, g_params, d_params, aux, batch, k: int = 6, tol: float = 0.0,
                  maxiter: int | None = None) -> np.ndarray:
        """The k eigenvalues of the Jacobian at (g, d) of largest real part (see `rightmost_eigenvalues`)."""
        args = _uncommitted((g_params, d_params, aux, batch))
        point, _ = ravel_pytree(args[:2])

        def matvec(t):
            return np.asarray(self._jvp(*args, jnp.asarray(t, point.dtype))[1])

        return rightmost_eigenvalues(matvec, point.shape[0], point.dtype, k, tol, maxiter)


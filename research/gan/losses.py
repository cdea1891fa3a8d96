"""GAN losses, gradient penalties and weight clipping, as pure functions.

Sign convention: Mescheder, Geiger & Nowozin 2018, "Which training methods for
GANs do actually converge?", eq. (1). The game value is

    L(theta, psi) = E_z[ f(D_psi(G_theta(z))) ] + E_x[ f(-D_psi(x)) ],

maximized by the discriminator and minimized by the generator; f(t) =
-log(1 + e^-t) gives the standard GAN, f(t) = t the WGAN. In this convention
the discriminator output is *large on generated samples and small on data* (the
negative of the usual "real" logit). Every loss here uses it, so that the
Dirac-GAN field derived from these functions by autodiff is the paper's field.

Each loss returns what its player *minimizes*: `d_loss(d_real, d_fake)` for the
discriminator and `g_loss(d_fake)` for the generator, where `d_real` and
`d_fake` are the discriminator outputs (shape (B,)) on data and on generated
samples.

Penalties take `d_apply(d_params, x_BxD) -> (B,)` and assume samples do not
interact inside D (no batch norm), so the input gradient of sum(D) is the
per-sample gradient.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


def f_gan(t: jax.Array) -> jax.Array:
    """f(t) = -log(1 + e^-t) = log sigmoid(t), the standard GAN's f (Mescheder 2018, eq. 1)."""
    return -jax.nn.softplus(-t)


# --- losses: (d_real, d_fake) -> discriminator loss; d_fake -> generator loss ---


def gan_d_loss(d_real: jax.Array, d_fake: jax.Array) -> jax.Array:
    """-L: the discriminator ascends E f(D(G(z))) + E f(-D(x)) (eq. 1)."""
    return -(jnp.mean(f_gan(d_fake)) + jnp.mean(f_gan(-d_real)))


def gan_g_loss_saturating(d_fake: jax.Array) -> jax.Array:
    """The minimax generator: descends E f(D(G(z))) (eq. 1)."""
    return jnp.mean(f_gan(d_fake))


def gan_g_loss_nonsaturating(d_fake: jax.Array) -> jax.Array:
    """The non-saturating generator: ascends E f(-D(G(z))) (Goodfellow et al. 2014)."""
    return -jnp.mean(f_gan(-d_fake))


def wgan_d_loss(d_real: jax.Array, d_fake: jax.Array) -> jax.Array:
    """WGAN critic, f(t) = t: ascends E D(G(z)) - E D(x). Pair with `clip_weights` or a penalty."""
    return jnp.mean(d_real) - jnp.mean(d_fake)


def wgan_g_loss(d_fake: jax.Array) -> jax.Array:
    """WGAN generator, f(t) = t: descends E D(G(z))."""
    return jnp.mean(d_fake)


class GanLoss(NamedTuple):
    """A pair of losses, each minimized by its player."""

    d_loss: Callable[[jax.Array, jax.Array], jax.Array]
    g_loss: Callable[[jax.Array], jax.Array]


LOSSES: dict[str, GanLoss] = {
    "gan": GanLoss(gan_d_loss, gan_g_loss_saturating),
    "nsgan": GanLoss(gan_d_loss, gan_g_loss_nonsaturating),
    "wgan": GanLoss(wgan_d_loss, wgan_g_loss),
}


# --- weight clipping (WGAN, Arjovsky et al. 2017) ---


def clip_weights(params, clip: float):
    """Projects every parameter of the critic onto [-clip, clip] (applied after each update)."""
    return jax.tree.map(lambda p: jnp.clip(p, -clip, clip), params)


# --- gradient penalties, added to the discriminator's loss ---


def input_grad_sq_norms(d_apply: Callable, d_params, x_BxD: jax.Array) -> jax.Array:
    """||grad_x D(x_b)||^2 for each sample b, shape (B,)."""
    grad_BxD = jax.grad(lambda x: jnp.sum(d_apply(d_params, x)))(x_BxD)
    return jnp.sum(grad_BxD.reshape(grad_BxD.shape[0], -1) ** 2, axis=-1)


def _safe_sqrt(sq: jax.Array) -> jax.Array:
    """sqrt with a finite (zero) gradient at 0, so a zero input gradient does not give NaN."""
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def r1_penalty(d_apply: Callable, d_params, x_real: jax.Array, gamma: float) -> jax.Array:
    """R1 = gamma/2 E_data ||grad_x D(x)||^2 (Mescheder 2018, section 4.1).

    Paper convention, with the 1/2. GAN_stability's training script applies
    reg_param * E||grad D||^2 without it, so its `reg_param` is this gamma / 2;
    its Dirac-GAN notebook writes the field v_psi = theta f' - reg psi, so the
    notebook's `reg` is this gamma.
    """
    return 0.5 * gamma * jnp.mean(input_grad_sq_norms(d_apply, d_params, x_real))


def wgan_gp_penalty(
    d_apply: Callable,
    d_params,
    x_real: jax.Array,
    x_fake: jax.Array,
    key: jax.Array,
    weight: float = 10.0,
    target: float = 1.0,
) -> jax.Array:
    """WGAN-GP = weight * E (||grad D(x_hat)|| - target)^2, x_hat = eps x + (1 - eps) x_fake.

    Gulrajani et al. 2017's convention (weight lambda = 10, no 1/2, eps ~ U[0, 1]
    per sample). Mescheder 2018 writes gamma/2 (||grad D|| - g0)^2: weight =
    gamma/2, target = g0.
    """
    eps = jax.random.uniform(key, (x_real.shape[0],) + (1,) * (x_real.ndim - 1), x_real.dtype)
    x_hat = eps * x_real + (1.0 - eps) * x_fake
    norms = _safe_sqrt(input_grad_sq_norms(d_apply, d_params, x_hat))
    return weight * jnp.mean((norms - target) ** 2)


"""Bayes by Backprop (Blundell et al. 2015, arXiv 1505.05424) as pure functions.

A mean-field Gaussian posterior q(w) = prod N(w; mu, sigma^2) over every weight
and bias, sigma = softplus(rho) (paper Sec. 3.2), trained by minimising the
minibatch free energy F_i = pi_i KL[q || P] - E_q[log P(D_i | w)] (eq. 8).

Sampling modes of a dense layer (all give each example the same marginal
output distribution; they differ in how noise is shared across a minibatch):
  "mean"     the posterior mean, no noise (used for evaluation);
  "plain"    one weight sample w = mu + sigma * eps per minibatch (eq. 3-4);
  "local"    local reparameterization (Kingma et al. 2015, eq. 6): sample the
             pre-activations b ~ N(x mu, x^2 sigma^2) independently per example;
  "flipout"  Flipout (Wen et al. 2018, eq. 3): one shared perturbation
             Delta = sigma * eps, decorrelated per example by random signs,
             W_n = mu + Delta o (s_n r_n^T).

Initialisation of rho. Known pitfall: a very negative rho (sigma ~ 1e-4 and
below) makes the network deterministic in practice, because d sigma / d rho =
sigmoid(rho) is tiny and Adam moves rho by about one learning rate per step, so
sigma never grows to where the KL term wants it and the predictive variance
collapses. We use rho = softplus^-1(sigma_init) with sigma_init = 0.05 by
default (rho ~ -2.97): noise small against the 1/sqrt(fan_in) spread of mu so
training starts as fast as for a plain network, but large enough that the
gradient of rho is not starved.
"""

import itertools
import math
from typing import Callable, Literal, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from research.bayes.noise import in_one_loop, standard_normals

Mode = Literal["mean", "plain", "local", "flipout"]
KLEstimator = Literal["closed_form", "monte_carlo"]
Likelihood = Literal["categorical", "gaussian"]

DEFAULT_SIGMA_INIT = 0.05


# --- parametrization --------------------------------------------------------


def sigma_from_rho(rho: jax.Array) -> jax.Array:
    """sigma = log(1 + exp(rho)) (paper Sec. 3.2), always positive."""
    return jax.nn.softplus(rho)


def rho_from_sigma(sigma):
    """The inverse of softplus: rho = log(exp(sigma) - 1)."""
    return jnp.log(jnp.expm1(sigma))


# --- priors and densities ---------------------------------------------------


class GaussianPrior(NamedTuple):
    """P(w) = N(w; 0, sigma^2) for every weight."""

    sigma: float = 1.0


class ScaleMixturePrior(NamedTuple):
    """P(w) = pi N(w; 0, sigma1^2) + (1 - pi) N(w; 0, sigma2^2) (paper eq. 7).

    Defaults are the paper's code: pi = 1/2, -ln sigma1 = 0, -ln sigma2 = 6.
    """

    pi: float = 0.5
    sigma1: float = 1.0
    sigma2: float = math.exp(-6.0)


Prior = GaussianPrior | ScaleMixturePrior


def gaussian_log_density(w, mu, sigma):
    """Elementwise log N(w; mu, sigma^2)."""
    return -0.5 * jnp.log(2 * jnp.pi) - jnp.log(sigma) - 0.5 * jnp.square((w - mu) / sigma)


def prior_log_density(prior: Prior, w: jax.Array) -> jax.Array:
    """Elementwise log P(w); the mixture is combined in log space so that the
    narrow component (sigma2 ~ e^-6) does not underflow for large |w|."""
    if isinstance(prior, GaussianPrior):
        return gaussian_log_density(w, 0.0, prior.sigma)
    return jnp.logaddexp(
        math.log(prior.pi) + gaussian_log_density(w, 0.0, prior.sigma1),
        math.log1p(-prior.pi) + gaussian_log_density(w, 0.0, prior.sigma2),
    )


# --- the mean-field Gaussian dense layer -------------------------------------


class BayesDense(NamedTuple):
    """Variational parameters of one dense layer y = x W + b."""

    w_mu: jax.Array  # (d_in, d_out)
    w_rho: jax.Array  # (d_in, d_out)
    b_mu: jax.Array  # (d_out,)
    b_rho: jax.Array  # (d_out,)


def dense_init(key, d_in: int, d_out: int, sigma_init: float = DEFAULT_SIGMA_INIT) -> BayesDense:
    """mu ~ N(0, 1/d_in) (LeCun normal), zero bias means, sigma = sigma_init."""
    return _dense_from_normal(jax.random.normal(key, (d_in, d_out)), sigma_init)


def _dense_from_normal(eps_IxO, sigma_init: float) -> BayesDense:
    """The layer `dense_init` makes from its standard-normal draw eps: mu = eps / sqrt(d_in)."""
    rho = rho_from_sigma(sigma_init)
    (d_in, d_out), dtype = eps_IxO.shape, eps_IxO.dtype
    return BayesDense(  # every leaf strongly typed: a trainer's chunk keeps the types it is given
        w_mu=eps_IxO / math.sqrt(d_in),
        w_rho=jnp.full((d_in, d_out), rho, dtype),
        b_mu=jnp.zeros((d_out,), dtype),
        b_rho=jnp.full((d_out,), rho, dtype),
    )


def weight_shape(layer: BayesDense) -> tuple[int, int]:
    """The shape (d_in + 1, d_out) of a layer's weight noise: the bias is the last row."""
    d_in, d_out = layer.w_mu.shape
    return d_in + 1, d_out


def weight_noise(layer: BayesDense, eps) -> tuple[jax.Array, jax.Array]:
    """(sigma_W * eps_W, sigma_b * eps_b) for eps ~ N(0, I) of `weight_shape` (eq. 3)."""
    d_in = layer.w_mu.shape[0]
    return sigma_from_rho(layer.w_rho) * eps[:d_in], sigma_from_rho(layer.b_rho) * eps[d_in]


def sample_weights(layer: BayesDense, eps) -> tuple[jax.Array, jax.Array]:
    """w = mu + sigma * eps, the weight sample of `dense_apply` in the "plain" mode
    (and the base sample in "flipout") with the same eps."""
    dw, db = weight_noise(layer, eps)
    return layer.w_mu + dw, layer.b_mu + db


class Noise(NamedTuple):
    """One dense layer's noise for one forward pass of a minibatch of B: `eps` ~ N(0, I) of
    `weight_shape` (plain and flipout), `zeta` ~ N(0, I) of (B, d_out) (local), `signs` of
    (B, d_in + d_out) uniform on {-1, 1} (flipout); None where the mode draws none."""

    eps: jax.Array | None = None
    zeta: jax.Array | None = None
    signs: jax.Array | None = None


def draw_noise(params: tuple[BayesDense, ...], batch: int, weight_keys, aux_keys, mode: Mode,
               dtype) -> list[Noise]:
    """Every layer's `Noise`: layer l's weight noise from weight_keys[l], its other noise from
    aux_keys[l]; the normals of all layers drawn together (`bayes_noise.standard_normals`: the
    same numbers as a draw per layer, computed once)."""
    if mode == "plain":
        eps = standard_normals(weight_keys, [weight_shape(layer) for layer in params], dtype)
        return [Noise(eps=e) for e in eps]
    if mode == "local":
        zeta = standard_normals(aux_keys, [(batch, layer.w_mu.shape[1]) for layer in params], dtype)
        return [Noise(zeta=z) for z in zeta]
    if mode == "flipout":
        eps = standard_normals(weight_keys, [weight_shape(layer) for layer in params], dtype)
        signs = in_one_loop(jax.random.rademacher, aux_keys, [(batch, sum(layer.w_mu.shape)) for layer in params],
                            dtype)
        return [Noise(eps=e, signs=r) for e, r in zip(eps, signs)]
    raise ValueError(f"unknown sampling mode {mode!r}")


def dense_apply(layer: BayesDense, x_BxI: jax.Array, key, mode: Mode) -> jax.Array:
    """y = x W + b for a minibatch under one of the sampling modes.

    The key is split into (weight key, auxiliary key); eps drawn from the weight key
    is the weight sample `sample_weights(layer, eps)`, so a Monte-Carlo KL can reuse
    the forward pass's sample (`kl_monte_carlo`)."""
    if mode == "mean":
        return dense_with_noise(layer, x_BxI, Noise(), mode)
    keys = jax.random.split(key)
    (noise,) = draw_noise((layer,), x_BxI.shape[0], keys[:1], keys[1:], mode, x_BxI.dtype)
    return dense_with_noise(layer, x_BxI, noise, mode)


def dense_with_noise(layer: BayesDense, x_BxI: jax.Array, noise: Noise, mode: Mode) -> jax.Array:
    """y = x W + b for a minibatch with the layer's noise already drawn (`draw_noise`)."""
    mean_BxO = x_BxI @ layer.w_mu + layer.b_mu
    if mode == "mean":
        return mean_BxO
    if mode == "plain":
        w, b = sample_weights(layer, noise.eps)
        return x_BxI @ w + b
    if mode == "local":
        # Kingma et al. 2015 eq. 6: gamma = x mu, delta = x^2 sigma^2.
        var_BxO = jnp.square(x_BxI) @ jnp.square(sigma_from_rho(layer.w_rho)) + jnp.square(
            sigma_from_rho(layer.b_rho)
        )
        return mean_BxO + jnp.sqrt(var_BxO) * noise.zeta
    if mode == "flipout":
        # Wen et al. 2018 eq. 3: x W_n = x mu + ((x o s_n) Delta) o r_n. The bias
        # perturbation is flipped by r_n too; its marginal stays N(b_mu, sigma_b^2).
        dw, db = weight_noise(layer, noise.eps)
        d_in = x_BxI.shape[1]
        s_BxI, r_BxO = noise.signs[:, :d_in], noise.signs[:, d_in:]
        return mean_BxO + ((x_BxI * s_BxI) @ dw + db) * r_BxO
    raise ValueError(f"unknown sampling mode {mode!r}")


# --- the multilayer perceptron ----------------------------------------------

BayesMLP = tuple[BayesDense, ...]


def mlp_init(key, sizes: tuple[int, ...], sigma_init: float = DEFAULT_SIGMA_INIT) -> BayesMLP:
    """Layers sizes[0] -> sizes[1] -> ... -> sizes[-1], layer l as `dense_init` makes it from key
    split(key, L)[l] (the draws of all layers made together: `standard_normals`)."""
    keys = jax.random.split(key, len(sizes) - 1)
    eps = standard_normals(keys, list(zip(sizes[:-1], sizes[1:])))
    return tuple(_dense_from_normal(e, sigma_init) for e in eps)


def mlp_apply(
    params: BayesMLP,
    x_BxI: jax.Array,
    key,
    mode: Mode,
    activation: Callable[[jax.Array], jax.Array] = jax.nn.relu,
) -> jax.Array:
    """Forward pass; layer l uses key split(key, L)[l] as `dense_apply` would (the key is
    unused, and may be None, in the "mean" mode), with no activation after the last layer.
    The noise of every layer is drawn before the pass (the same numbers, `draw_noise`)."""
    if mode == "mean":
        noise = [Noise()] * len(params)
    else:
        keys = _layer_keys(key, len(params))
        noise = draw_noise(params, x_BxI.shape[0], keys[:, 0], keys[:, 1], mode, x_BxI.dtype)
    h = x_BxI
    for index, (layer, layer_noise) in enumerate(zip(params, noise)):
        h = dense_with_noise(layer, h, layer_noise, mode)
        if index < len(params) - 1:
            h = activation(h)
    return h


def _layer_keys(key, num_layers):
    """(L, 2) keys: row l is what `dense_apply` splits layer l's key split(key, L)[l] into,
    (weight key, auxiliary key)."""
    return jax.vmap(jax.random.split)(jax.random.split(key, num_layers))


def predictive_samples(params: BayesMLP, x_BxI, key, num_samples: int, mode: Mode = "local", **kw):
    """Network outputs for `num_samples` independent posterior draws, (S, B, O)."""
    keys = jax.random.split(key, num_samples)
    return jax.vmap(lambda k: mlp_apply(params, x_BxI, k, mode, **kw))(keys)


# --- KL[q || P] ---------------------------------------------------------------


def kl_closed_form(params: BayesMLP, prior: GaussianPrior) -> jax.Array:
    """Sum over weights of KL[N(mu, sigma^2) || N(0, s^2)]
    = log(s / sigma) + (sigma^2 + mu^2) / (2 s^2) - 1/2."""
    if not isinstance(prior, GaussianPrior):
        raise TypeError("the closed-form KL needs a Gaussian prior")

    def kl(mu, rho):
        sigma = sigma_from_rho(rho)
        return jnp.sum(
            jnp.log(prior.sigma / sigma) + (jnp.square(sigma) + jnp.square(mu)) / (2 * prior.sigma**2) - 0.5
        )

    return sum(kl(layer.w_mu, layer.w_rho) + kl(layer.b_mu, layer.b_rho) for layer in params)


def kl_monte_carlo(params: BayesMLP, prior: Prior, key) -> jax.Array:
    """One-sample estimate log q(w) - log P(w) (paper eq. 2).

    With the key passed to `mlp_apply`, w is the very sample the "plain" forward
    pass used, as in the paper; for "local" it is an independent draw."""

    def log_ratio(w, mu, rho):
        return jnp.sum(gaussian_log_density(w, mu, sigma_from_rho(rho)) - prior_log_density(prior, w))

    weight_keys = _layer_keys(key, len(params))[:, 0]
    eps = standard_normals(weight_keys, [weight_shape(layer) for layer in params], params[0].w_mu.dtype)
    total = 0.0
    for layer, layer_eps in zip(params, eps):
        w, b = sample_weights(layer, layer_eps)
        total = total + log_ratio(w, layer.w_mu, layer.w_rho) + log_ratio(b, layer.b_mu, layer.b_rho)
    return total


def kl_divergence(params: BayesMLP, prior: Prior, key, estimator: KLEstimator) -> jax.Array:
    if estimator == "closed_form":
        return kl_closed_form(params, prior)
    if estimator == "monte_carlo":
        return kl_monte_carlo(params, prior, key)
    raise ValueError(f"unknown KL estimator {estimator!r}")


# --- minibatch KL weights (paper Sec. 3.4) ---------------------------------------


def kl_weight_uniform(batch_index, num_batches: int):
    """pi_i = 1 / M."""
    del batch_index
    return 1.0 / num_batches


def kl_weight_blundell(batch_index, num_batches: int):
    """pi_i = 2^(M - i) / (2^M - 1) for the 1-based minibatch index i of an epoch,
    written as 2^-i / (1 - 2^-M) so that large M does not overflow."""
    i = jnp.asarray(batch_index, float)
    return jnp.exp2(-i) / -jnp.expm1(-num_batches * math.log(2.0))


# --- likelihoods and the loss -----------------------------------------------------


def categorical_nll(logits_BxC, labels_B):
    """Per-example -log softmax(logits)[label]."""
    log_p = jax.nn.log_softmax(logits_BxC)
    return -jnp.take_along_axis(log_p, labels_B[:, None], axis=-1)[:, 0]


def gaussian_nll(pred_Bx1, y_B, noise_std: float):
    """Per-example -log N(y; f(x), noise_std^2)."""
    return -gaussian_log_density(y_B, pred_Bx1[:, 0], noise_std)


def negative_elbo(
    params: BayesMLP,
    x_BxI,
    y_B,
    key,
    kl_weight,
    *,
    prior: Prior,
    mode: Mode = "plain",
    kl_estimator: KLEstimator = "monte_carlo",
    likelihood: Likelihood = "categorical",
    noise_std: float = 1.0,
    activation: Callable[[jax.Array], jax.Array] = jax.nn.relu,
) -> tuple[jax.Array, dict]:
    """F_i / B = pi_i KL / B + mean over the minibatch of -log P(y | x, w) (eq. 8
    divided by the batch size B). With pi_i = 1/M this is KL / N + mean NLL, and
    the sum of F_i over an epoch is the negative ELBO of the whole data set."""
    out = mlp_apply(params, x_BxI, key, mode, activation)
    if likelihood == "categorical":
        nll = categorical_nll(out, y_B)
    else:
        nll = gaussian_nll(out, y_B, noise_std)
    kl = kl_divergence(params, prior, key, kl_estimator)
    mean_nll = jnp.mean(nll)
    loss = mean_nll + kl_weight * kl / x_BxI.shape[0]
    return loss, {"nll": mean_nll, "kl": kl}


# --- pruning by signal-to-noise ratio (paper Sec. 5.1) ----------------------------


def signal_to_noise(params: BayesMLP) -> tuple[jax.Array, ...]:
    """|mu| / sigma for every weight matrix (biases are not pruned)."""
    return tuple(jnp.abs(layer.w_mu) / sigma_from_rho(layer.w_rho) for layer in params)


def snr_masks(params: BayesMLP, fraction: float) -> tuple[jax.Array, ...]:
    """Keep-masks removing exactly round(fraction * n) of the n weights with the
    lowest signal-to-noise ratio, ranked over all layers together. `fraction`
    may be traced (one compiled program for a sweep of fractions)."""
    snr = signal_to_noise(params)
    flat = jnp.concatenate([s.ravel() for s in snr])
    num_removed = jnp.round(fraction * flat.size)
    rank = jnp.argsort(jnp.argsort(flat))  # 0 for the lowest SNR; ties broken by position
    keep = rank >= num_removed
    boundaries = list(itertools.accumulate(s.size for s in snr))[:-1]
    return tuple(p.reshape(s.shape) for p, s in zip(jnp.split(keep, boundaries), snr))


def prune(params: BayesMLP, masks: tuple[jax.Array, ...]) -> BayesMLP:
    """Set removed weights to exactly zero: mu = 0 and sigma = 0 (rho = -inf).
    The result is for prediction only (its KL is infinite)."""
    return tuple(
        layer._replace(
            w_mu=jnp.where(mask, layer.w_mu, 0.0),
            w_rho=jnp.where(mask, layer.w_rho, -jnp.inf),
        )
        for layer, mask in zip(params, masks)
    )


# --- variance of gradient estimators ----------------------------------------------


def gradient_variance(grad_fn: Callable, keys) -> jax.Array:
    """Total variance over noise draws, sum over parameters of Var_k[g_k],
    of a stochastic gradient `grad_fn(key) -> pytree` (unbiased sample variance).
    The gradient is flattened to one vector first: one variance to compile, not one a leaf."""
    grads = jax.vmap(lambda key: ravel_pytree(grad_fn(key))[0])(keys)
    return jnp.sum(jnp.var(grads, axis=0, ddof=1))

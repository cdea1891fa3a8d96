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
    rho = rho_from_sigma(sigma_init)
    return BayesDense(
        w_mu=jax.random.normal(key, (d_in, d_out)) / math.sqrt(d_in),
        w_rho=jnp.full((d_in, d_out), rho),
        b_mu=jnp.zeros((d_out,)),
        b_rho=jnp.full((d_out,), rho),
    )


def weight_noise(layer: BayesDense, key) -> tuple[jax.Array, jax.Array]:
    """One draw of (sigma_W * eps_W, sigma_b * eps_b), eps ~ N(0, I) (eq. 3),
    drawn as one (d_in + 1, d_out) array: the bias is the last row."""
    d_in, d_out = layer.w_mu.shape
    eps = jax.random.normal(key, (d_in + 1, d_out), layer.w_mu.dtype)
    return sigma_from_rho(layer.w_rho) * eps[:d_in], sigma_from_rho(layer.b_rho) * eps[d_in]


def sample_weights(layer: BayesDense, key) -> tuple[jax.Array, jax.Array]:
    """w = mu + sigma * eps, the weight sample that `dense_apply` uses with the
    same key in the "plain" mode (and as the base sample in "flipout")."""
    dw, db = weight_noise(layer, key)
    return layer.w_mu + dw, layer.b_mu + db


def dense_apply(layer: BayesDense, x_BxI: jax.Array, key, mode: Mode) -> jax.Array:
    """y = x W + b for a minibatch under one of the sampling modes.

    The key is split into (weight key, auxiliary key); the weight key gives the
    same draw as `sample_weights(layer, weight key)`, so a Monte-Carlo KL can
    reuse the forward pass's sample (`kl_monte_carlo`)."""
    mean_BxO = x_BxI @ layer.w_mu + layer.b_mu
    if mode == "mean":
        return mean_BxO
    k_w, k_aux = jax.random.split(key)
    if mode == "plain":
        w, b = sample_weights(layer, k_w)
        return x_BxI @ w + b
    if mode == "local":
        # Kingma et al. 2015 eq. 6: gamma = x mu, delta = x^2 sigma^2.
        var_BxO = jnp.square(x_BxI) @ jnp.square(sigma_from_rho(layer.w_rho)) + jnp.square(
            sigma_from_rho(layer.b_rho)
        )
        zeta_BxO = jax.random.normal(k_aux, mean_BxO.shape, mean_BxO.dtype)
        return mean_BxO + jnp.sqrt(var_BxO) * zeta_BxO
    if mode == "flipout":
        # Wen et al. 2018 eq. 3: x W_n = x mu + ((x o s_n) Delta) o r_n. The bias
        # perturbation is flipped by r_n too; its marginal stays N(b_mu, sigma_b^2).
        dw, db = weight_noise(layer, k_w)
        d_in = x_BxI.shape[1]
        signs = jax.random.rademacher(k_aux, (x_BxI.shape[0], d_in + dw.shape[1]), x_BxI.dtype)
        s_BxI, r_BxO = signs[:, :d_in], signs[:, d_in:]
        return mean_BxO + ((x_BxI * s_BxI) @ dw + db) * r_BxO
    raise ValueError(f"unknown sampling mode {mode!r}")


# --- the multilayer perceptron ----------------------------------------------

BayesMLP = tuple[BayesDense, ...]


def mlp_init(key, sizes: tuple[int, ...], sigma_init: float = DEFAULT_SIGMA_INIT) -> BayesMLP:
    """Layers sizes[0] -> sizes[1] -> ... -> sizes[-1]."""
    keys = jax.random.split(key, len(sizes) - 1)
    return tuple(
        dense_init(k, d_in, d_out, sigma_init) for k, d_in, d_out in zip(keys, sizes[:-1], sizes[1:])
    )


def mlp_apply(
    params: BayesMLP,
    x_BxI: jax.Array,
    key,
    mode: Mode,
    activation: Callable[[jax.Array], jax.Array] = jax.nn.relu,
) -> jax.Array:
    """Forward pass; layer l uses key split(key, L)[l] (the key is unused, and
    may be None, in the "mean" mode), with no activation after the last layer."""
    layer_keys = [None] * len(params) if mode == "mean" else jax.random.split(key, len(params))
    h = x_BxI
    for index, (layer, layer_key) in enumerate(zip(params, layer_keys)):
        h = dense_apply(layer, h, layer_key, mode)
        if index < len(params) - 1:
            h = activation(h)
    return h


def _weight_keys(key, num_layers):
    """The weight keys `dense_apply` uses in each layer of `mlp_apply`."""
    return [jax.random.split(k)[0] for k in jax.random.split(key, num_layers)]


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

    total = 0.0
    for layer, weight_key in zip(params, _weight_keys(key, len(params))):
        w, b = sample_weights(layer, weight_key)
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
    of a stochastic gradient `grad_fn(key) -> pytree` (unbiased sample variance)."""
    grads = jax.vmap(grad_fn)(keys)
    per_leaf = jax.tree.map(lambda g: jnp.sum(jnp.var(g, axis=0, ddof=1)), grads)
    return sum(jax.tree.leaves(per_leaf))

"""A reference posterior by the No-U-Turn Sampler (Hoffman & Gelman 2014, BlackJAX) for a one-hidden-layer
ReLU regression network: N(0, prior_sigma^2) on every weight and bias, y ~ N(f_w(x), noise_std^2). Several
chains (jax.vmap), each from its own prior draw after Stan's window adaptation of the step size and a
diagonal mass matrix. Convergence is judged on the predictions f_w(x), which a permutation of the hidden
units leaves alone: split R-hat (Gelman et al. 2013, BDA3 eq. 11.4, each chain cut in halves) and the
effective sample size (Geyer's initial monotone sequence, BlackJAX), per point. Arrays are named by their
axes: C chains, D draws, P points, H hidden units."""

from typing import NamedTuple

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
from blackjax.diagnostics import effective_sample_size, potential_scale_reduction
from jax.flatten_util import ravel_pytree


class Net(NamedTuple):
    w1: jax.Array  # (H,) input -> hidden
    b1: jax.Array  # (H,)
    w2: jax.Array  # (H,) hidden -> output
    b2: jax.Array  # ()


def apply(net: Net, x_P: jax.Array) -> jax.Array:
    return jax.nn.relu(x_P[:, None] * net.w1 + net.b1) @ net.w2 + net.b2


def prior_draw(key, width: int, prior_sigma: float) -> Net:
    w1, b1, w2 = prior_sigma * jax.random.normal(key, (3, width))
    return Net(w1, b1, w2, jnp.zeros(()))


def log_posterior(net: Net, x_N, y_N, prior_sigma: float, noise_std: float) -> jax.Array:
    """log p(w) + sum_n log N(y_n | f_w(x_n), noise_std^2), up to a constant."""
    flat, _ = ravel_pytree(net)
    log_prior = -0.5 * jnp.sum(jnp.square(flat / prior_sigma))
    return log_prior - 0.5 * jnp.sum(jnp.square((y_N - apply(net, x_N)) / noise_std))


class Chains(NamedTuple):
    functions: np.ndarray  # (C, D, P) f_w(x) of every kept draw at the points
    rhat: np.ndarray  # (P,) split R-hat of f_w(x)
    ess: np.ndarray  # (P,) effective sample size of f_w(x), all chains together
    acceptance: np.ndarray  # (C,) mean acceptance probability after warm-up
    divergences: np.ndarray  # (C,) divergent transitions after warm-up
    leapfrog_steps: np.ndarray  # (C,) mean integration steps per draw
    step_size: np.ndarray  # (C,) adapted


def sample(key, x_N, y_N, points_P, *, width: int, prior_sigma: float, noise_std: float, chains: int,
           warmup: int, draws: int, max_doublings: int, target_acceptance: float = 0.9) -> Chains:
    """`chains` NUTS chains of `draws` kept draws after `warmup` adaptation steps each (trees of at most
    2^max_doublings leapfrog steps), and their predictions at `points_P`. The step size is adapted to a mean
    acceptance of `target_acceptance`: above Stan's 0.8, so smaller steps, which cross this posterior's
    narrow ridges with fewer divergent transitions."""
    def logdensity(net):
        return log_posterior(net, x_N, y_N, prior_sigma, noise_std)

    def one_chain(chain_key):
        init_key, warm_key, draw_key = jax.random.split(chain_key, 3)
        adaptation = blackjax.window_adaptation(blackjax.nuts, logdensity, is_mass_matrix_diagonal=False,
                                                target_acceptance_rate=target_acceptance,
                                                max_num_doublings=max_doublings)
        (state, parameters), _ = adaptation.run(warm_key, prior_draw(init_key, width, prior_sigma), warmup)
        kernel = blackjax.nuts(logdensity, **parameters)

        def step(state, step_key):
            state, info = kernel.step(step_key, state)
            return state, (apply(state.position, points_P), info.acceptance_rate, info.is_divergent,
                           info.num_integration_steps)

        _, (f_DxP, accept, divergent, steps) = jax.lax.scan(step, state, jax.random.split(draw_key, draws))
        return f_DxP, accept.mean(), divergent.sum(), steps.mean(), parameters["step_size"]

    f, accept, divergent, steps, step_size = jax.jit(jax.vmap(one_chain))(jax.random.split(key, chains))
    return Chains(np.asarray(f), split_rhat(f), np.asarray(effective_sample_size(f)),
                  *(np.asarray(a) for a in (accept, divergent, steps, step_size)))


def split_rhat(f_CxDxP) -> np.ndarray:
    """Split R-hat per point (BDA3 eq. 11.4): each chain cut in two halves, so a chain that drifts disagrees
    with itself."""
    chains, draws = f_CxDxP.shape[:2]
    halves = jnp.asarray(f_CxDxP)[:, : draws // 2 * 2].reshape(chains * 2, draws // 2, -1)
    return np.asarray(potential_scale_reduction(halves))


class Convergence(NamedTuple):
    """How far to trust the chains: split R-hat and effective sample size of f(x) per point, their worst."""
    rhat: np.ndarray  # (P,)
    ess: np.ndarray  # (P,)
    rhat_max: float
    ess_min: float
    divergences: float  # after warm-up, all chains
    acceptance: float  # mean over chains
    leapfrog_steps: float  # mean per draw


def convergence(chains: Chains) -> Convergence:
    return Convergence(chains.rhat, chains.ess, float(chains.rhat.max()), float(chains.ess.min()),
                       float(chains.divergences.sum()), float(chains.acceptance.mean()),
                       float(chains.leapfrog_steps.mean()))


def chain_rows(chains: Chains) -> list[dict]:
    """The report's table of the chains after warm-up: acceptance, divergences, tree size, step size."""
    return [{"chain": c, "acceptance": float(chains.acceptance[c]), "divergences": int(chains.divergences[c]),
             "leapfrog steps per draw": float(chains.leapfrog_steps[c]), "step size": float(chains.step_size[c])}
            for c in range(len(chains.acceptance))]

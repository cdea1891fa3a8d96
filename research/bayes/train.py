"""Bayes by Backprop on the foundation's trainer: init, step and evaluation.

The step minimises the minibatch free energy F_i / B of `bayes.negative_elbo`
(Blundell et al. 2015, eq. 8) with fresh weight noise every step
(`step_key(state)`); the minibatch index i needed by Blundell's KL weights is
the position of the step within its epoch, which is how `epoch_batches`
orders the data (M = n // batch_size minibatches an epoch).
"""

from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
import optax

from common.members import Members, with_hyperparams
from common.train import TrainState, apply_gradients, new_state, step_key
from research.bayes import bbb as bayes

KLSchedule = Literal["uniform", "blundell"]
KL_SCHEDULES: tuple[KLSchedule, ...] = ("uniform", "blundell")  # a sweep member names one by its index


def init_fn(sizes: tuple[int, ...], optimizer: optax.GradientTransformation, sigma_init: float) -> Callable:
    """init(key) -> TrainState of one seed's Bayesian MLP, or init(key, member) in a
    sweep (`fit(..., members=...)`): the member's inputs go to `state.member`, and those
    named like the optimizer's injected hyperparameters (a `learning_rate_sweep`'s) to them."""

    def init(key, member=None) -> TrainState:
        params = bayes.mlp_init(key, sizes, sigma_init)
        return new_state(params, member_hyperparams(optimizer.init(params), member), key, member=member)

    return init


def member_hyperparams(opt_state, member):
    """`opt_state` with the member's hyperparameters put in, where the optimizer injects any."""
    if member is None or not hasattr(opt_state, "hyperparams"):
        return opt_state
    return with_hyperparams(opt_state, member)


def kl_weight(schedule: KLSchedule | jax.Array, step, num_batches: int):
    """pi_i of minibatch i = step mod M + 1 (1-based) of its epoch; `schedule` a name, or a
    traced index into KL_SCHEDULES (a sweep member's: one compiled program for both)."""
    if not isinstance(schedule, str):
        return jnp.where(schedule == KL_SCHEDULES.index("blundell"), kl_weight("blundell", step, num_batches),
                         kl_weight("uniform", step, num_batches))
    if schedule == "uniform":
        return bayes.kl_weight_uniform(None, num_batches)
    return bayes.kl_weight_blundell(step % num_batches + 1, num_batches)


def kl_members(settings: list[tuple[float, str]]) -> Members:
    """Sweep members, one per (KL scale, minibatch KL weights name) of `settings`, as `elbo_step` reads
    them with kl_scale="kl_scale" and kl_schedule="kl_schedule": the members of one compiled program."""
    inputs = {"kl_scale": jnp.array([scale for scale, _ in settings], jnp.float32),
              "kl_schedule": jnp.array([KL_SCHEDULES.index(name) for _, name in settings], jnp.int32)}
    return Members(inputs, tuple({"kl_scale": scale, "kl_schedule": name} for scale, name in settings))


def elbo_step(
    optimizer: optax.GradientTransformation,
    *,
    num_batches: int,
    prior: bayes.Prior,
    mode: bayes.Mode,
    kl_estimator: bayes.KLEstimator,
    kl_schedule: KLSchedule | str = "uniform",
    likelihood: bayes.Likelihood = "categorical",
    noise_std: float = 1.0,
    kl_scale: float | str = 1.0,
) -> Callable:
    """step(state, (x, y)) -> (state, metrics) for `common.train.fit`.

    `kl_scale` multiplies the KL weights; 1 is the paper's ELBO, below 1 a
    tempered posterior (a diagnostic for the prior overwhelming a small data set).
    A string names a sweep member's input instead: the step reads the scale from
    `state.member[kl_scale]` (a traced value, so a grid of scales x seeds is one
    compiled program; put it there with `init_fn(..., member inputs)`). Likewise a
    `kl_schedule` other than the names in KL_SCHEDULES names the member input holding
    the index of the member's schedule."""

    def step(state: TrainState, batch):
        x, y = batch
        scale = state.member[kl_scale] if isinstance(kl_scale, str) else kl_scale
        schedule = kl_schedule if kl_schedule in KL_SCHEDULES else state.member[kl_schedule]
        weight = scale * kl_weight(schedule, state.step, num_batches)

        def objective(params):
            return bayes.negative_elbo(
                params, x, y, step_key(state), weight, prior=prior, mode=mode, kl_estimator=kl_estimator,
                likelihood=likelihood, noise_std=noise_std,
            )

        (loss, parts), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
        state, norms = apply_gradients(state, grads, optimizer)
        return state, {"loss": loss, "nll": parts["nll"], "kl": parts["kl"], **norms}

    return step


def mean_accuracy(params: bayes.BayesMLP, x, y, batch_size: int = 1000):
    """Test accuracy of the posterior-mean network, in batches of `batch_size`
    (n must be a multiple of it or smaller than it)."""
    size = min(batch_size, x.shape[0])
    xs, ys = x.reshape(-1, size, *x.shape[1:]), y.reshape(-1, size)

    def correct(batch):
        logits = bayes.mlp_apply(params, batch[0], None, "mean")
        return jnp.sum(jnp.argmax(logits, -1) == batch[1])

    return jnp.sum(jax.lax.map(correct, (xs, ys))) / x.shape[0]


def mean_nll(params: bayes.BayesMLP, x, y, batch_size: int = 1000):
    """Mean negative log likelihood of the posterior-mean network (same batching as `mean_accuracy`)."""
    size = min(batch_size, x.shape[0])
    xs, ys = x.reshape(-1, size, *x.shape[1:]), y.reshape(-1, size)

    def total(batch):
        return jnp.sum(bayes.categorical_nll(bayes.mlp_apply(params, batch[0], None, "mean"), batch[1]))

    return jnp.sum(jax.lax.map(total, (xs, ys))) / x.shape[0]


def classifier_evaluation(batch_size: int = 1000) -> Callable:
    """evaluate(state, (x, y)) -> {"accuracy", "loss"} (loss: mean NLL) of the posterior mean."""

    def evaluate(state: TrainState, data):
        return {"accuracy": mean_accuracy(state.params, *data, batch_size=batch_size),
                "loss": mean_nll(state.params, *data, batch_size=batch_size)}

    return evaluate

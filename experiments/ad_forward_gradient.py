"""Training without backpropagation: the forward gradient on MNIST-1D.

    python run.py ad-forward-gradient --preset quick     # ~60 s on the shared 2-core CPU
    python run.py ad-forward-gradient --preset paper     # wider MLP, longer, more seeds

Baydin et al. (2022, arXiv 2202.08587): g = (grad f . v) v with v ~ N(0, I) is
an unbiased estimate of grad f from one forward-mode pass (a jvp), with no
stored activations; they report training "up to twice as fast" as backprop
in wall time in some cases. An independent reimplementation saw no speed-up
and lower accuracy. Here: an MLP on MNIST-1D trained by backprop and by the
forward gradient with 1 and k tangents, same optimizer (plain SGD; the
forward gradients with a smaller step, as their variance is ~n times larger),
on the foundation's trainer; loss against steps and against wall time;
the time of one step; and the estimator itself at initialization: the mean
over many tangents against the true gradient, and the cosine similarity
against k.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from common import plots
from common.bench import time_function
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.models import MLP
from common.nn import softmax_cross_entropy
from common.train import (Loop, apply_gradients, classifier_evaluation, epoch_batches, fit, new_state, seed_keys,
                          step_key, supervised_step)
from experiments.api import main
from research import autodiff as AD
from research import autodiff_forward_gradient as FG

NAME = "ad-forward-gradient"
STUDY = "autodiff"
PAPER = "Baydin, Pearlmutter, Syme, Wood, Torr 2022, Gradients without Backpropagation (arXiv 2202.08587)"
REPRODUCES = ("the forward gradient is unbiased; time per step and final loss against backprop, as measured "
              "(paper: up to twice as fast)")
QUICK_SECONDS = 60


@dataclass(frozen=True)
class Config:
    """MLP on MNIST-1D: backprop against forward gradients with 1 and k tangents."""

    seeds: int = 2
    """Independent seeds per method, vmapped in one program."""
    width: int = 32
    """Width of the 2-hidden-layer ReLU MLP."""
    tangents: int = 8
    """k of the k-tangent forward gradient (the 1-tangent one always runs)."""
    steps: int = 2000
    chunk: int = 250
    batch_size: int = 100
    learning_rate: float = 0.01
    """Plain SGD step size of backprop."""
    forward_learning_rate: float = 0.002
    """Plain SGD step size of the forward gradients: their variance is about n times the gradient's
    squared norm, and with one tangent both quick-preset seeds diverged at 0.01 (measured)."""
    estimator_samples: int = 4096
    """Forward gradients averaged at initialization for the bias check."""
    cosine_tangents: tuple[int, ...] = (1, 4, 16, 64, 256)
    """k values of the cosine-similarity curve."""
    cosine_draws: int = 64
    """Estimates per k for the mean cosine (vmapped: memory ~ draws x k x parameters)."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "width", "tangents", "steps", "chunk", "batch_size", "estimator_samples",
                      "cosine_draws"))
        if not (self.learning_rate > 0 and self.forward_learning_rate > 0):
            raise ValueError(f"learning rates must be positive (got {self.learning_rate}, "
                             f"{self.forward_learning_rate})")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if not self.cosine_tangents or min(self.cosine_tangents) < 1:
            raise ValueError(f"cosine_tangents must be positive (got {self.cosine_tangents})")


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=5, width=256, tangents=16, steps=20000, chunk=1000, estimator_samples=16384,
                    cosine_tangents=(1, 4, 16, 64, 256), cosine_draws=32),
}


def forward_gradient_step(model, optimizer, num_tangents: int):
    """A trainer step whose update is the forward gradient: no backward pass."""

    def step(state, batch):
        x, y = batch

        def loss(params):
            return softmax_cross_entropy(model.apply(params, state.model_state, x, train=True)[0], y)

        value, estimate = FG.forward_gradient(loss, state.params, step_key(state), num_tangents)
        state, norms = apply_gradients(state, estimate, optimizer)
        return state, {"loss": value, **norms}

    return step


def methods(config: Config, model) -> dict:
    """name -> (step, optimizer): SGD for all, with the forward gradients' own step size."""
    backprop, forward = optax.sgd(config.learning_rate), optax.sgd(config.forward_learning_rate)
    return {"backprop": (supervised_step(model, backprop), backprop),
            "forward k=1": (forward_gradient_step(model, forward, 1), forward),
            f"forward k={config.tangents}": (forward_gradient_step(model, forward, config.tangents), forward)}


def estimator_study(config: Config, model, data, results: Results) -> None:
    """At initialization on one batch: bias of the mean of many estimates, and cosine against k.
    Parameters and data are arguments of the compiled functions, never captured constants:
    XLA would constant-fold the whole forward pass at compile time (minutes)."""
    batch = (jnp.asarray(data.x_train[: config.batch_size]), jnp.asarray(data.y_train[: config.batch_size]))
    params, _ = model.init_variables(jax.random.key(config.seed), batch[0])

    def loss(p, x, y):
        return softmax_cross_entropy(model.apply(p, {}, x, train=False)[0], y)

    def flat_estimate(p, key, k, x, y):
        return ravel_pytree(FG.forward_gradient(lambda q: loss(q, x, y), p, key, k)[1])[0]

    true = ravel_pytree(jax.jit(jax.grad(loss))(params, *batch))[0]
    dim = true.size
    per_chunk = min(64, config.estimator_samples)  # tangents per scan step, to bound memory
    samples = per_chunk * (config.estimator_samples // per_chunk)

    @jax.jit
    def mean_estimate(p, key, x, y):  # mean of `samples` one-tangent estimates
        def body(total, k):
            return total + flat_estimate(p, k, per_chunk, x, y) * per_chunk, None

        keys = jax.random.split(key, samples // per_chunk)
        total, _ = jax.lax.scan(body, jnp.zeros(dim), keys)
        return total / samples

    mean = mean_estimate(params, jax.random.key(config.seed + 1), *batch)
    relative_error = float(jnp.linalg.norm(mean - true) / jnp.linalg.norm(true))
    expected_error = float(np.sqrt((dim + 1) / samples))  # E|mean - g|^2 = (n + 1) |g|^2 / N for Gaussian v
    results.scalars["estimator/dimension"] = dim
    results.scalars["estimator/relative_error"] = relative_error
    results.scalars["estimator/relative_error_over_expected"] = relative_error / expected_error
    results.scalars["estimator/cosine_of_mean"] = float(FG.tree_cosine(mean, true))

    cosines = []
    for k in config.cosine_tangents:
        keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed + 2), k), config.cosine_draws)
        cosine = jax.jit(jax.vmap(lambda key, p, g, x, y, k=k: FG.tree_cosine(flat_estimate(p, key, k, x, y), g),
                                  in_axes=(0, None, None, None, None)))
        cosines.append(float(jnp.mean(cosine(keys, params, true, *batch))))
    results.arrays["estimator/tangents"] = np.array(config.cosine_tangents)
    results.arrays["estimator/cosine"] = np.array(cosines)
    results.scalars["estimator/cosine_k1"] = cosines[0] if config.cosine_tangents[0] == 1 else float("nan")
    results.scalars["estimator/cosine_k1_expected"] = FG.expected_cosine_one_tangent(dim)
    results.tables[f"Forward-gradient estimator at initialization ({dim} parameters)"] = [
        {"estimates averaged": samples, "relative error of the mean": relative_error,
         "expected if unbiased sqrt((n+1)/N)": expected_error,
         "cosine(mean, grad)": results.scalars["estimator/cosine_of_mean"]}] + [
        {"tangents k": k, "mean cosine(estimate, grad)": c,
         "closed form (k=1)": FG.expected_cosine_one_tangent(dim) if k == 1 else float("nan")}
        for k, c in zip(config.cosine_tangents, cosines)]


def step_seconds(step, init, data, config: Config) -> float:
    """Median seconds of one compiled training step of one seed (common.bench)."""
    state = init(jax.random.key(config.seed))
    batch = (data.x_train[: config.batch_size], data.y_train[: config.batch_size])
    return time_function(step, state, batch, repeats=20).seconds


def run(config: Config, session) -> Results:
    data = session.dataset("mnist1d")
    model = MLP((config.width,) * 2, data.num_classes, activation="relu", init="he")
    results = Results()
    estimator_study(config, model, data, results)
    rows = []
    for name, (step, optimizer) in methods(config, model).items():

        def init(key, optimizer=optimizer):
            params, model_state = model.init_variables(key, data.x_train[:1])
            return new_state(params, optimizer.init(params), key, model_state)

        out = fit(name.replace(" ", "-").replace("=", ""), init=init, step=step,
                  sample_batch=epoch_batches(config.batch_size), data=(data.x_train, data.y_train),
                  loop=Loop(steps=config.steps, chunk=config.chunk), keys=seed_keys(config.seed, config.seeds),
                  evaluate=classifier_evaluation(model), eval_data=(data.x_test, data.y_test), session=session)
        seconds = step_seconds(step, init, data, config)
        loss = out.curve("train/loss")  # (chunks, seeds): mean loss over each chunk
        results.arrays[f"{name}/step"] = np.array(out.history["step"])
        results.arrays[f"{name}/train_loss"] = loss
        results.arrays[f"{name}/step_seconds"] = np.array(seconds)
        results.scalars[f"{name}/final_loss"] = float(np.nanmean(loss[-1]))
        results.scalars[f"{name}/step_seconds"] = seconds
        rows.append({"method": name, "ms per step (1 seed)": seconds * 1e3,
                     "steps/s (all seeds, trainer)": out.steps_per_second,
                     "final train loss (last chunk)": float(np.nanmean(loss[-1])),
                     "test accuracy": float(np.nanmean(out.curve("eval/accuracy")[-1])),
                     "diverged seeds": int((out.diverged_at >= 0).sum())})
    results.tables[f"Training an MLP on MNIST-1D, {config.steps} steps of SGD (lr {config.learning_rate} backprop, "
                   f"{config.forward_learning_rate} forward)"] = rows
    forward = "forward k=1"
    results.scalars["time_ratio_forward_over_backprop"] = (
        results.scalars[f"{forward}/step_seconds"] / results.scalars["backprop/step_seconds"])
    results.scalars["final_loss_ratio_forward_over_backprop"] = (
        results.scalars[f"{forward}/final_loss"] / results.scalars["backprop/final_loss"])
    results.notes.append(
        f"Timed on {AD.timing_context()}. The time ratio is that of one compiled step (one seed, median of 20); "
        "the loss-against-time figure uses it to convert steps into seconds. The trainer's steps/s (all seeds "
        "in one vmapped program, chunks after the first) is a second, independent timing; where the two "
        "disagree in direction, the difference is within this machine's timing noise.")
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    names = [k.removesuffix("/train_loss") for k in a if k.endswith("/train_loss")]
    fig, axes = plots.new_figure(ncols=3)
    for name in names:
        steps = a[f"{name}/step"]
        plots.seed_band(axes[0, 0], steps, a[f"{name}/train_loss"], name)
        plots.seed_band(axes[0, 1], steps * float(a[f"{name}/step_seconds"]), a[f"{name}/train_loss"], name)
    axes[0, 0].set(xlabel="step", ylabel="train loss (chunk mean)", title="loss against steps")
    axes[0, 1].set(xlabel="seconds (steps x time per step)", ylabel="train loss", title="loss against wall time")
    ax = axes[0, 2]
    ax.plot(a["estimator/tangents"], a["estimator/cosine"], "o-", label="measured")
    ax.set(xscale="log", yscale="log", xlabel="tangents k", ylabel="mean cosine(estimate, grad)",
           title="estimator quality at init")
    for ax in axes[0]:
        ax.legend()
    plots.save(fig, directory, "forward_gradient", **a)


CLAIMS = [
    Claim("the forward gradient is unbiased: the mean of N estimates misses grad f by the unbiased "
          "estimator's sqrt((n+1)/N) (measured error over expected)", "1",
          lambda r: r.scalars["estimator/relative_error_over_expected"], lambda v: 0.7 <= v <= 1.3, fmt="{:.3f}"),
    Claim("one tangent's cosine with grad f matches the closed form E abs(cos) (measured over closed form)", "1",
          lambda r: r.scalars["estimator/cosine_k1"] / r.scalars["estimator/cosine_k1_expected"],
          lambda v: 0.8 <= v <= 1.2, fmt="{:.3f}"),
    Claim("a forward-gradient step (k=1) is faster than a backprop step (time ratio)", "up to 2x faster (0.5)",
          lambda r: r.scalars["time_ratio_forward_over_backprop"], lambda v: v < 1.0, fmt="{:.3f}"),
    Claim("forward gradient (k=1) reaches backprop's final train loss in the same steps (loss ratio)",
          "comparable", lambda r: r.scalars["final_loss_ratio_forward_over_backprop"], lambda v: v <= 1.1,
          fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)

"""Training without backpropagation: the forward gradient on MNIST-1D.

    python run.py ad-forward-gradient --preset quick
    python run.py ad-forward-gradient --preset paper     # wider MLP, longer, more seeds

Baydin et al. (2022): g = (grad f . v) v, v ~ N(0, I), is an unbiased estimate of grad f from one jvp; they
report training "up to twice as fast" as backprop. Here: the estimator's bias and cosine law at
initialization, each beside an estimator it must reject on the same tangents; backprop against the forward
gradient, each at its learning rate chosen on a validation split (`common.tuning.tune`, which widens a grid
whose choice sits on an end); and the step time
in interleaved rounds, the speed-up claimed with a 10% margin. Measurements:
`research.autodiff.forward_gradient_study`; design and notes: docs/notes/autodiff.md.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats as scipy_stats

from common import bench, plots, records, tuning
from common.config import (
    require_at_least_one,
    require_distinct,
    require_non_negative,
    require_numbers_representable,
    require_positive,
)
from common.experiment import Claim, Control, DataUse, Results, arrays, at_most, below, near
from common.members import Members
from common.models import MLP
from common.train import Loop, classifier_evaluation, epoch_batches, fit, seed_keys, supervised_step
from experiments.api import main
from research.autodiff import citations as C
from research.autodiff import costs as AD
from research.autodiff import forward_gradient as FG
from research.autodiff import forward_gradient_measures as M
from research.autodiff import forward_gradient_study as S

NAME = "ad-forward-gradient"
STUDY = "autodiff"
PAPER = "Baydin, Pearlmutter, Syme, Wood, Torr 2022, Gradients without Backpropagation (arXiv 2202.08587)"
REPRODUCES = ("the forward gradient is unbiased (along grad f, and within 0.15 |grad f| in every direction); its "
              "cosine with grad f follows the law in k; time per step against backprop (the paper's speed-up, "
              "up to 2x, with a 10% margin) and final loss at tuned learning rates")
MIN_PROGRAM_SECONDS = 3e-3  # backprop's program runs this long, so that the others (down to ~half) pass 1 ms


@dataclass(frozen=True)
class Config:
    """MLP on MNIST-1D: backprop against forward gradients with 1 and k tangents."""

    seeds: int = 3
    """Independent seeds per method and learning rate, vmapped in one program."""
    width: int = 32
    """Width of the 2-hidden-layer ReLU MLP."""
    tangents: int = 8
    """k of the k-tangent forward gradient (the 1-tangent one always runs)."""
    steps: int = 1500
    """Training steps."""
    chunk: int = 250
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    batch_size: int = 100
    """Examples per minibatch."""
    validation: int = 800
    """Training examples held out to choose each method's learning rate (the test set is never used for it)."""
    backprop_lrs: tuple[float, ...] = (0.03, 0.1, 0.3)
    """Plain SGD step sizes tried for backprop."""
    forward_lrs: tuple[float, ...] = (0.002, 0.004, 0.008)
    """Step sizes tried for the 1-tangent forward gradient (its variance is ~n times |grad|^2)."""
    forward_k_lrs: tuple[float, ...] = (0.004, 0.008, 0.016)
    """Step sizes tried for the k-tangent forward gradient (variance k times smaller)."""
    max_widenings: int = 2
    """Times a method's lr grid may grow by one rate beyond the end its choice sits on (common.tuning.tune)."""
    estimator_samples: int = 16384
    """One-tangent forward gradients N at initialization, for the bias checks and, grouped k at a time, the
    cosine law (N / k estimates per k; rounded down to a multiple of the k values' least common multiple)."""
    cosine_tangents: tuple[int, ...] = (1, 4, 16, 64, 256)
    """k values of the cosine law."""
    timing_width: int = 256
    """Second width of the step timing, where the jvp's cost, not drawing tangents, dominates."""
    rounds: int = 10
    """Interleaved timing rounds."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('cosine_tangents', 'backprop_lrs', 'forward_lrs', 'forward_k_lrs'))
        require_at_least_one(self, ("seeds", "width", "tangents", "steps", "chunk", "batch_size", "validation",
                                    "estimator_samples", "timing_width", "cosine_tangents"))
        require_positive(self, ("backprop_lrs", "forward_lrs", "forward_k_lrs"))
        require_non_negative(self, ("max_widenings",))
        if min(len(self.backprop_lrs), len(self.forward_lrs), len(self.forward_k_lrs)) < 2:
            raise ValueError("each learning-rate grid needs two or more rates (a choice from one rate tunes nothing)")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if self.rounds < 2:
            raise ValueError(f"rounds must be at least 2 (got {self.rounds})")
        if self.estimator_samples < math.lcm(*self.cosine_tangents):
            raise ValueError(f"estimator_samples ({self.estimator_samples}) must be at least the least common "
                             f"multiple of cosine_tangents ({math.lcm(*self.cosine_tangents)})")

    def data_use(self) -> DataUse:
        # The batches come from what is left after the validation examples are held out.
        return DataUse("mnist1d", {"batch_size + validation": self.batch_size + self.validation})


PRESETS = {
    "quick": Config(tangents=4),  # the k-tangent run is a table, not a claim: k = 4 halves its jvps (k = 8: 2x)
    "paper": Config(seeds=5, width=256, tangents=16, steps=20000, chunk=1000, estimator_samples=262144,
                    backprop_lrs=(0.01, 0.03, 0.1, 0.3), forward_lrs=(0.00003, 0.0001, 0.0003, 0.001),
                    forward_k_lrs=(0.0003, 0.001, 0.003, 0.01), timing_width=1024, rounds=20),
}


class Method(NamedTuple):
    step: Callable
    grid: tuple[float, ...]


def methods(config: Config, model) -> dict[str, Method]:
    """name -> one step object per method (the learning rate is optimizer state) and its grid."""
    sgd = S.sgd_with_lr_in_state()
    return {"backprop": Method(supervised_step(model, sgd), config.backprop_lrs),
            "forward k=1": Method(S.forward_gradient_step(model, sgd, 1), config.forward_lrs),
            f"forward k={config.tangents}": Method(S.forward_gradient_step(model, sgd, config.tangents),
                                                   config.forward_k_lrs)}


def tune_method(config: Config, name: str, method: Method, init, split: tuning.Split, evaluate, session):
    """`tuning.tune` over the method's grid, lowest mean final validation loss (inf where a seed diverged): one
    fit of the grid's rates as sweep members beside the seeds, one more per widening. (Tuned, fit holding the
    choice, the choice's member index in that fit)."""
    fits = {}

    def scores_on(lrs):
        label = name.replace(" ", "-").replace("=", "") + (f"-lr{lrs[0]:g}" if fits else "")
        out = fit(label, init=lambda key, member: init(key, member["learning_rate"]), step=method.step,
                  sample_batch=epoch_batches(config.batch_size), data=(split.x_fit, split.y_fit),
                  loop=Loop(steps=config.steps, chunk=config.chunk), keys=seed_keys(config.seed, config.seeds),
                  evaluate=evaluate, eval_data=(split.x_val, split.y_val),
                  session=session, members=Members.grid(learning_rate=lrs))
        val_loss = np.where(out.diverged_at.reshape(out.shape) >= 0, np.inf, out.grid("eval/loss")[-1])  # (V, S)
        fits.update({lr: (out, i) for i, lr in enumerate(lrs)})
        return tuning.Scores(lrs, (config.steps,), val_loss[:, None], np.full((len(lrs), 1, config.seeds), np.nan),
                             higher_is_better=False)

    tuned = tuning.tune(scores_on, method.grid, max_widenings=config.max_widenings, fixed_length=True)
    return (tuned, *fits[tuned.value])


def train_grid(config: Config, model, data, session, results: Results) -> None:
    """Every method tuned on its grid (`tune_method`); the test set scored once, at each choice."""
    split = tuning.split_arrays(data.x_train, data.y_train, data.x_test, data.y_test, size=config.validation,
                                seed=config.seed, drawn_order=True)
    evaluate = classifier_evaluation(model)
    score = jax.jit(jax.vmap(evaluate, in_axes=(0, None)))
    keys = seed_keys(config.seed, config.seeds)
    init = S.initial_states_by_key(model, keys, data.x_train[:1], config.seed)
    grid_rows, best_rows, every = [], [], {}
    for name, method in (registry := methods(config, model)).items():
        tuned, out, index = tune_method(config, name, method, init, split, evaluate, session)
        every[name] = tuned
        seeds = slice(index * config.seeds, (index + 1) * config.seeds)  # member-major runs
        test = score(jax.tree.map(lambda a, s=seeds: a[s], out.state), (data.x_test, data.y_test))
        validation = tuned.scores.validation[:, 0]  # (V, seeds), every rate tried
        arm = S.Arm(np.array(out.history["step"]), out.grid("train/loss")[:, index], validation[tuned.index],
                    tuned.value, np.array(tuned.scores.values), validation, tuned.widenings)
        records.put(results, name, arm)
        grid_rows += tuned.rows(name)
        best_rows.append({"method": name, "chosen lr": tuned.value,
                          "validation loss": float(np.mean(arm.validation_loss)),
                          "final train loss (last chunk)": float(np.nanmean(arm.train_loss[-1])),
                          "test loss": float(np.mean(test["loss"])), "test accuracy": float(np.mean(test["accuracy"]))})
    results.arrays["methods"] = np.array(list(registry))
    results.arrays["untrained/validation_loss"] = np.asarray(score(jax.vmap(lambda k: init(k, 0.0))(keys),
                                                                   (split.x_val, split.y_val))["loss"])
    results.tables[tuning.BUDGET_TABLE] = tuning.budget_rows(every)
    results.tables[f"Learning-rate grid: {config.steps} SGD steps, final loss on {config.validation} validation "
                   f"examples carved from the training set ({config.seeds} seeds)"] = grid_rows
    results.tables["Each method at its chosen learning rate (test set scored once, after the choice)"] = best_rows


def estimator_study(config: Config, model, data, results: Results) -> None:
    """The pool of one-tangent estimates at initialization on one batch (arrays estimator/...) and its tables."""
    batch = (jnp.asarray(data.x_train[: config.batch_size]), jnp.asarray(data.y_train[: config.batch_size]))
    params = S.he_params(model, batch[0], np.random.default_rng(config.seed))
    ks = config.cosine_tangents
    pool = S.estimator_pool(model, params, batch, ks, config.estimator_samples, config.seed)
    dim = pool.gradient.size
    results.arrays |= {"estimator/projection": pool.projection, "estimator/mean": pool.mean,
                       "estimator/gradient": pool.gradient, "estimator/samples": np.array(pool.samples),
                       **{f"estimator/cosine/k{k}": pool.cosines[k] for k in ks},
                       "estimator/tangents": np.array(ks), "estimator/dimension": np.array(dim)}
    results.tables[f"Forward-gradient estimator at initialization ({dim} parameters, {pool.samples} one-tangent "
                   "estimates; the other estimators are the same estimates changed)"] = [
        {"estimator": name,
         "mean <g_i, grad f> / |grad f|^2 (95% interval)": f"{M.projection(results.arrays, case):.4g}",
         "squared bias |E g - grad f|^2 / |grad f|^2 (95% interval)": f"{M.squared_bias(results.arrays, case):.4g}"}
        for name, case in M.ESTIMATOR_CASES.items()]
    results.tables[f"Cosine with grad f against the number of tangents k (the {pool.samples} estimates grouped k "
                   "at a time; exact law and its large-n form)"] = S.cosine_rows(pool)


def timing_study(config: Config, model_for, data, results: Results) -> None:
    batch = (jnp.asarray(data.x_train[: config.batch_size]), jnp.asarray(data.y_train[: config.batch_size]))
    rows = []
    for label, width in (("train", config.width), ("wide", config.timing_width)):
        timing = S.time_steps(model_for(width), batch, config.seed, config.rounds, MIN_PROGRAM_SECONDS)
        results.arrays |= timing.rounds.as_arrays(f"time/{label}")
        rows += S.timing_rows(width, timing)
    results.tables[f"Time of one SGD step (batch {config.batch_size}) in {config.rounds} interleaved rounds; "
                   "the backprop row is its A/A ratio (backprop against itself)"] = rows


def run(config: Config, session) -> Results:
    data = session.dataset("mnist1d")

    def model_for(width):
        return MLP((width,) * 2, data.num_classes, activation="relu", init="he")

    results = Results()
    estimator_study(config, model_for(config.width), data, results)
    timing_study(config, model_for, data, results)
    train_grid(config, model_for(config.width), data, session, results)
    results.notes.append(f"Timed on {AD.timing_context()}. Each timed program runs a block of steps (lax.scan) "
                         f"so that it takes >= {MIN_PROGRAM_SECONDS * 1e3:.1f} ms; 'ops' counts the traced operations "
                         "(research.autodiff.flops).")
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure(ncols=3)
    for name in a["methods"]:
        arm = records.get(results, str(name), S.Arm)
        plots.seed_band(axes[0, 0], arm.step, arm.train_loss, f"{name} (lr {arm.lr:g})")
    axes[0, 0].set(xlabel="step", ylabel="train loss (chunk mean)", title="each method at its tuned lr")
    axes[0, 0].legend(fontsize=7)
    ax = axes[0, 1]
    ks, dim = a["estimator/tangents"], int(a["estimator/dimension"])
    fine = np.unique(np.geomspace(1, ks.max(), 50).round().astype(int))
    ax.plot(ks, [a[f"estimator/cosine/k{int(k)}"].mean() for k in ks], "o", label="measured")
    ax.plot(fine, [FG.expected_cosine(dim, int(k)) for k in fine], "-", label="exact Beta law")
    ax.plot(fine, [FG.large_n_cosine(dim, int(k)) for k in fine], ":", label="(1+(n+1)/k)^-1/2")
    ax.set(xscale="log", yscale="log", xlabel="tangents k", ylabel="mean cosine(estimate, grad)",
           title=f"cosine law, n = {dim}")
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    ax.hist(a["estimator/projection"], bins=60, range=(0, 8), density=True, alpha=0.6, label="<g_i, g>/|g|^2")
    grid = np.linspace(0.02, 8, 200)
    ax.plot(grid, scipy_stats.chi2.pdf(grid, 1), "k-", lw=0.8, label="chi^2_1 (mean 1)")
    mean = a["estimator/projection"].mean()
    ax.axvline(mean, color="C1", label=f"mean {mean:.3f} (Theorem 1: 1)")
    ax.set(xlabel="projection on grad f", ylabel="density", title="one-tangent estimates", yscale="log")
    ax.legend(fontsize=7)
    plots.save(fig, directory, "forward_gradient", **a)


# Tolerances, fixed from the estimators' laws before any run: docs/notes/autodiff.md (Design notes).
CLAIMS = [
    Claim(statement="no bias along grad f: each one-tangent estimate's projection <g_i, grad f> / |grad f|^2 has mean 1 "
                    "(a bias orthogonal to grad f does not move it)",
          paper="E[g] = grad f (Theorem 1)", measure=lambda r: M.projection(r.arrays), region=near(1.0, 0.1),
          control=Control(name="half estimator g / 2 (same tangents)",
                          results=arrays({"estimator/projection": S.exact_projections(0.5)})),
          passing=arrays({"estimator/projection": S.exact_projections()}),
          baseline=lambda r: M.projection(r.arrays, M.EstimatorCase(scale=0.5)), fmt="{:.3f}",
          where=C.FORWARD_UNBIASED),
    Claim(statement="no bias in any direction: the mean of N one-tangent estimates is within 0.15 |grad f| of grad f "
                    "(squared bias |mean - grad f|^2 / |grad f|^2 - (n + 1) / N, unbiased for |E g - grad f|^2 / |grad f|^2; "
                    "interval with the factor (grad f . v_i)^2 each estimate's coordinates share)",
          paper="E[g] = grad f", measure=lambda r: M.squared_bias(r.arrays), region=at_most(0.15**2),
          control=Control(name="an estimator biased by 0.3 |grad f| orthogonally to grad f (same tangents)",
                          results=arrays(M.mean_estimate_case(0.3))),
          passing=arrays(M.mean_estimate_case(0.0)),
          baseline=lambda r: M.squared_bias(r.arrays, M.EstimatorCase(orthogonal_bias=0.3)), fmt="{:.4f}",
          where=C.FORWARD_UNBIASED),
    Claim(statement="the cosine with grad f follows the exact law E cos = G((k+1)/2) G((n+k-1)/2) / (G(k/2) G((n+k)/2)) "
                    "at every k (measured / law; ~ (1 + (n+1)/k)^(-1/2) at large n, k)",
          paper="1", measure=lambda r: M.cosine_over_law(r.arrays), region=near(1.0, 0.1),
          control=Control(name="k-independent estimator (k = 1's cosines at every k)",
                          results=arrays(M.cosine_case(True))),
          passing=arrays(M.cosine_case(False)),
          baseline=lambda r: M.cosine_over_law(r.arrays, lambda k: "estimator/cosine/k1"), fmt="{:.3f}",
          where=C.COSINE_LAW),
    Claim(statement="a forward-gradient step (k=1, tangents drawn ahead) is faster than a backprop step by 10% or more, at "
                    "the wide width (time ratio, interleaved rounds, A/A-widened)",
          paper="up to 2x faster (0.5)", measure=lambda r: M.step_time_ratio(r.arrays, M.FORWARD), region=below(0.9),
          control=Control(name="backprop against itself (A/A)", results=arrays(M.timing_case(1.0))),
          passing=arrays(M.timing_case(0.5)),
          baseline=lambda r: M.step_time_ratio(r.arrays, "backprop" + bench.AA_SUFFIX), fmt="{:.3f}",
          where=C.FORWARD_SPEED),
    Claim(statement="forward gradient (k=1) reaches backprop's validation loss in the same steps, each at its tuned lr "
                    "(per-seed loss ratio)",
          paper="comparable", measure=lambda r: M.tuned_loss_ratio(r, "forward k=1"), region=at_most(1.1),
          control=Control(name="untrained network (its initial validation loss)", results=lambda: M.loss_case(2.3)),
          passing=lambda: M.loss_case(1.0), baseline=lambda r: M.loss_ratio(r.arrays, "untrained"), fmt="{:.3f}",
          where=C.FORWARD_TRAINING),
]


if __name__ == "__main__":
    main(NAME)

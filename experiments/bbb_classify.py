"""Bayes by Backprop classification against a plain and a dropout network, and
pruning by signal-to-noise ratio.

    python run.py bbb-classify --preset quick      # MNIST-1D, 2 x 100 units, 20 s (see QUICK_SECONDS)
    python run.py bbb-classify --preset subset     # the 5,000-digit MNIST subset, 2 x 1200 units (GPU: 2 min)
    python run.py bbb-classify --preset paper --data-dir DIR   # MNIST (IDX files), 2 x 1200 units

Blundell et al. 2015, Table 1 (MNIST test error, two hidden ReLU layers of
400 / 800 / 1200 units): SGD 1.83 / 1.84 / 1.88, dropout 1.51 / 1.33 / 1.36,
BBB Gaussian prior 1.82 / 1.99 / 2.04, BBB scale mixture 1.36 / 1.34 / 1.32.
Table 2 (1200 units, weights removed by |mu| / sigma): 0% 1.24, 50% 1.24,
75% 1.24, 95% 1.29, 98% 1.39. These numbers are marked "recalled, not yet
checked against the PDF" in REFERENCES.md. Every method here is trained with
Adam (the paper used SGD) for the same number of steps.

Measured on the shared 2-core machine (load average ~15), quick preset,
3 seeds, test error % (mean): plain 38.2, dropout 41.7, BBB Gaussian 49.5,
BBB scale mixture 46.5; pruning the latter 0/50/75/95/98%: 46.5 / 47.8 / 50.6 /
76.1 / 85.5. The full KL dominates the loss (KL / N ~ 10 nats per example
against an NLL near 1: 15k weights for 4,000 examples), so BBB underfits.
With the KL tempered, `--kl-scale 0.1`: BBB Gaussian 32.5, scale mixture 33.7
(both beat plain 38.2), but pruning then costs more (0/50/75/95/98%:
33.7 / 35.0 / 55.6 / 87.8 / 89.5): the tempered posterior uses more weights.

On an H100 (docs/gpu.md), `--preset subset` (1200 units, 12,000 steps): plain 5.67,
dropout 5.10, BBB Gaussian 18.87, BBB scale mixture 5.70; 95% pruned by SNR 5.77 (+0.07
points, the issue's bound 0.5 holds). At 400 units and 4,000 steps the same pruning costs
1.67 points (6.23 -> 7.90), at 400 units and 12,000 steps 2.67.

On the CPU, `--preset subset --width 400 --steps 1000 --chunk 500` (355 s of CPU, 21 min
wall on the loaded machine), 3 seeds, test error %:
plain 7.17, dropout 6.03, BBB Gaussian 16.0, BBB scale mixture 7.97; pruning
the latter 0/50/75/95/98%: 7.97 / 8.40 / 9.23 / 13.67 / 23.43 (95% costs
5.7 points, the issue's bound is 0.5). KL / N at the end: 79 (Gaussian) and
311 (mixture) nats per example for 478k weights and 4,000 examples.
"""

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots
from common.config import require_at_least_one, require_in_range, require_numbers_representable, require_positive
from common.experiment import Claim, DataUse, Results
from common.models import MLP
from common.parallel import map_independent
from common.train import Loop, classifier_evaluation, epoch_batches, fit, new_state, seed_keys, supervised_step
from research import bayes, bayes_train

NAME = "bbb-classify"
STUDY = "bayes"
PAPER = "Blundell et al. 2015, Weight Uncertainty in Neural Networks (arXiv 1505.05424)"
REPRODUCES = "Table 1 (test error: SGD, dropout, BBB) and Table 2 (SNR pruning, 95% removed: 1.24% -> 1.29%)"
QUICK_SECONDS = 20  # wall s, idle 2-core CPU, warm compilation cache (52 s cold), 2026-11-27

METHODS = ("plain", "dropout", "bbb-gaussian", "bbb-mixture")
FRACTIONS = (0.0, 0.5, 0.75, 0.95, 0.98)
# Table 1, test error %, by hidden width [recalled]; Table 2 at 1200 units.
PAPER_ERROR = {
    "plain": {400: 1.83, 800: 1.84, 1200: 1.88},
    "dropout": {400: 1.51, 800: 1.33, 1200: 1.36},
    "bbb-gaussian": {400: 1.82, 800: 1.99, 1200: 2.04},
    "bbb-mixture": {400: 1.36, 800: 1.34, 1200: 1.32},
}
PAPER_PRUNED_ERROR = {0.0: 1.24, 0.5: 1.24, 0.75: 1.24, 0.95: 1.29, 0.98: 1.39}


@dataclass(frozen=True)
class Config:
    """Two-hidden-layer ReLU classifiers: plain, dropout, and Bayes by Backprop
    with a Gaussian and a scale-mixture prior; SNR pruning of the latter."""

    seeds: int = 3
    """Independent seeds, trained together in one vmapped program."""
    dataset: Literal["mnist1d", "mnist-subset", "mnist"] = "mnist1d"
    width: int = 100
    """Units in each hidden layer (the paper: 400, 800, 1200)."""
    steps: int = 1500
    batch_size: int = 100
    learning_rate: float = 3e-3
    """Adam step size for every method. Adam moves rho by about this much a step,
    so steps x learning_rate bounds how far sigma can travel from sigma_init."""
    dropout: float = 0.5
    """Dropout rate of the dropout network's hidden layers."""
    prior_sigma: float = 1.0
    """Std of the Gaussian prior (the scale mixture is the paper code's: pi 1/2, sigma1 1, sigma2 e^-6)."""
    mode: bayes.Mode = "local"
    """Sampling mode in training: plain (the paper's), local or flipout."""
    kl_schedule: bayes_train.KLSchedule = "uniform"
    """Minibatch KL weights: uniform 1/M or Blundell's 2^(M-i) / (2^M - 1)."""
    kl_scale: float = 1.0
    """Multiplies the KL term: 1 is the paper's ELBO; below 1 tempers the prior
    (a diagnostic: with few examples per weight the full KL makes BBB underfit)."""
    sigma_init: float = bayes.DEFAULT_SIGMA_INIT
    """Initial posterior std (rho = softplus^-1 of it)."""
    predictive_samples: int = 10
    """Weight draws averaged for the Bayesian predictive accuracy."""
    chunk: int = 500
    seed: int = 0

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "width", "steps", "batch_size", "predictive_samples", "chunk"))
        require_positive(self, ("learning_rate", "prior_sigma", "sigma_init", "kl_scale"))
        require_in_range(self, ("dropout",), 0.0, 1.0, open_high=True)
        if self.mode == "mean":
            raise ValueError("mode must be a sampling mode: plain, local or flipout")

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    "quick": Config(),
    # Table 2's width; on an H100 the 95% SNR pruning cost +0.07 points here, +1.67 at 400 units (docs/gpu.md).
    "subset": Config(dataset="mnist-subset", width=1200, steps=12000, chunk=2000),
    "paper": Config(dataset="mnist", width=1200, steps=60000, batch_size=128, learning_rate=1e-3, chunk=2000),
}


def _fit_plain(name, config, data, model, optimizer, loop, keys, session):
    def init(key):
        params, model_state = model.init_variables(key, data.x_train[:1])
        return new_state(params, optimizer.init(params), key, model_state)

    out = fit(name, init=init, step=supervised_step(model, optimizer), sample_batch=epoch_batches(config.batch_size),
              data=(data.x_train, data.y_train), loop=loop, keys=keys, evaluate=classifier_evaluation(model),
              eval_data=(data.x_test, data.y_test), session=session)
    return out.curve("eval/accuracy")[-1], out


def _fit_bayes(name, config, data, prior, estimator, optimizer, loop, keys, session):
    sizes = (data.x_train.shape[1], config.width, config.width, data.num_classes)
    step = bayes_train.elbo_step(
        optimizer, num_batches=data.x_train.shape[0] // config.batch_size, prior=prior, mode=config.mode,
        kl_estimator=estimator, kl_schedule=config.kl_schedule, kl_scale=config.kl_scale,
    )
    out = fit(name, init=bayes_train.init_fn(sizes, optimizer, config.sigma_init), step=step,
              sample_batch=epoch_batches(config.batch_size), data=(data.x_train, data.y_train), loop=loop,
              keys=keys, evaluate=bayes_train.classifier_evaluation(), eval_data=(data.x_test, data.y_test),
              session=session)
    return out.curve("eval/accuracy")[-1], out


def predictive_accuracy(params, x, y, key, num_samples: int):
    """Accuracy of the posterior predictive: softmax averaged over weight draws."""
    probs = jax.nn.softmax(bayes.predictive_samples(params, x, key, num_samples, "plain"), axis=-1).mean(0)
    return jnp.mean(jnp.argmax(probs, -1) == y)


def snr_db(params) -> np.ndarray:
    """Signal-to-noise ratios of all weights in decibels, 10 log10(|mu| / sigma)."""
    return 10 * np.log10(np.concatenate([np.ravel(s) for s in bayes.signal_to_noise(params)]))


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    optimizer = optax.adam(config.learning_rate)
    loop = Loop(steps=config.steps, chunk=config.chunk)
    keys = seed_keys(config.seed, config.seeds)
    x_test, y_test = jnp.asarray(data.x_test), jnp.asarray(data.y_test)

    hidden = (config.width, config.width)
    trainings = {
        "plain": lambda: _fit_plain("plain", config, data, MLP(hidden, data.num_classes, init="he"),
                                    optimizer, loop, keys, session),
        "dropout": lambda: _fit_plain(
            "dropout", config, data, MLP(hidden, data.num_classes, init="he", dropout=config.dropout),
            optimizer, loop, keys, session),
        "bbb-gaussian": lambda: _fit_bayes("bbb-gaussian", config, data, bayes.GaussianPrior(config.prior_sigma),
                                           "closed_form", optimizer, loop, keys, session),
        "bbb-mixture": lambda: _fit_bayes("bbb-mixture", config, data, bayes.ScaleMixturePrior(), "monte_carlo",
                                          optimizer, loop, keys, session),
    }
    fitted = dict(zip(METHODS, map_independent(lambda name: trainings[name](), METHODS)))
    accuracy = {name: acc for name, (acc, _) in fitted.items()}
    outs = {name: out for name, (_, out) in fitted.items()}

    predictive = {
        name: np.asarray(jax.jit(jax.vmap(lambda p: predictive_accuracy(
            p, x_test, y_test, jax.random.key(config.seed + 7), config.predictive_samples)))(outs[name].state.params))
        for name in ("bbb-gaussian", "bbb-mixture")
    }

    results = Results()
    paper_width = config.width if config.width in PAPER_ERROR["plain"] else 400
    rows = []
    for name in METHODS:
        error = 100 * (1 - accuracy[name])
        results.scalars[f"{name}/test_error"] = float(np.mean(error))
        row = {"method": name, "test error % (mean)": float(np.mean(error)), "std over seeds": float(np.std(error))}
        if name in predictive:
            row["predictive error % (mean)"] = float(np.mean(100 * (1 - predictive[name])))
        row[f"paper, MNIST {paper_width} units"] = PAPER_ERROR[name][paper_width]
        row["final train loss"] = float(np.nanmean(outs[name].curve("train/loss")[-1]))
        if name in predictive:  # the KL's share of the loss: KL / N per example
            row["KL / N at the end"] = float(np.nanmean(outs[name].curve("train/kl")[-1])) / data.x_train.shape[0]
        rows.append(row)
    results.tables[f"Test error on {config.dataset}, 2 x {config.width} units (Table 1)"] = rows

    # Table 2: prune the scale-mixture network by |mu| / sigma and evaluate its mean.
    mixture = outs["bbb-mixture"].state.params
    prune_and_score = jax.jit(jax.vmap(jax.vmap(  # (fractions, seeds)
        lambda p, f: bayes_train.mean_accuracy(bayes.prune(p, bayes.snr_masks(p, f)), x_test, y_test),
        in_axes=(0, None)), in_axes=(None, 0)))
    errors = 100 * (1 - np.asarray(prune_and_score(mixture, jnp.array(FRACTIONS))))
    pruning_rows = [
        {"weights removed": f"{100 * fraction:.0f}%", "test error % (mean)": float(np.mean(error)),
         "std over seeds": float(np.std(error)), "paper (MNIST, 1200 units)": PAPER_PRUNED_ERROR[fraction]}
        for fraction, error in zip(FRACTIONS, errors)
    ]
    results.tables[f"SNR pruning of BBB (scale mixture) on {config.dataset} (Table 2)"] = pruning_rows
    for fraction, error in zip(FRACTIONS, errors):
        results.scalars[f"prune/drop_{100 * fraction:.0f}"] = float(np.mean(error - errors[0]))

    seed0 = lambda tree: jax.tree.map(lambda a: a[0], tree)  # noqa: E731
    for name in ("bbb-gaussian", "bbb-mixture"):
        results.arrays[f"{name}/snr_db"] = snr_db(seed0(outs[name].state.params))
    results.arrays["prune/fractions"] = np.array(FRACTIONS)
    results.arrays["prune/test_error"] = errors
    for name in METHODS:
        results.arrays[f"{name}/train_loss"] = outs[name].curve("train/loss")
        results.arrays[f"{name}/step"] = np.array(outs[name].history["step"])
    results.notes.append(
        f"All methods: Adam lr {config.learning_rate}, batch {config.batch_size}, {config.steps} steps, "
        f"{config.seeds} seeds. BBB: {config.mode} sampling, sigma_init {config.sigma_init}, "
        f"{config.kl_schedule} KL weights times {config.kl_scale}; Gaussian prior N(0, {config.prior_sigma}^2) "
        "with closed-form KL, scale mixture with Monte-Carlo KL. BBB test error uses the posterior mean weights (as the pruning table); "
        f"the predictive column averages softmax over {config.predictive_samples} weight draws. Paper numbers "
        "are MNIST at the paper's width (the 400-unit column when the width here is not one of the paper's)."
    )
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure(ncols=3, width=4.0)
    ax = axes[0, 0]
    for name in METHODS:
        plots.seed_band(ax, a[f"{name}/step"], a[f"{name}/train_loss"], name)
    ax.set(xlabel="step", ylabel="training loss (NLL + KL/N for BBB)", yscale="log", title="training")
    ax.legend()
    ax = axes[0, 1]
    bins = np.linspace(-40, 30, 71)
    for name in ("bbb-gaussian", "bbb-mixture"):
        ax.hist(a[f"{name}/snr_db"], bins=bins, density=True, histtype="step", label=name)
    ax.set(xlabel="signal-to-noise ratio (dB)", ylabel="density", title="|mu| / sigma of the weights (seed 0)")
    ax.legend()
    ax = axes[0, 2]
    percent = 100 * a["prune/fractions"]
    plots.seed_band(ax, percent, a["prune/test_error"], "BBB scale mixture")
    ax.plot(percent, [PAPER_PRUNED_ERROR[f] for f in a["prune/fractions"]], "k:", label="paper (MNIST 1200)")
    ax.set(xlabel="weights removed (%)", ylabel="test error (%)", title="pruning by SNR")
    ax.legend()
    plots.save(fig, directory, "classify", **a)


CLAIMS = [
    Claim("removing 95% of the weights by SNR costs at most 0.5 points of test accuracy "
          "(the issue's target is the mnist-subset preset)", "+0.05 points (1.24% -> 1.29%)",
          lambda r: r.scalars["prune/drop_95"], lambda v: v <= 0.5, fmt="{:+.2f}"),
    Claim("BBB (scale mixture) has lower test error than the plain network", "1.36% vs 1.83% (400 units)",
          lambda r: r.scalars["plain/test_error"] - r.scalars["bbb-mixture/test_error"], lambda v: v > 0,
          fmt="{:+.2f}"),
    Claim("dropout has lower test error than the plain network", "1.51% vs 1.83% (400 units)",
          lambda r: r.scalars["plain/test_error"] - r.scalars["dropout/test_error"], lambda v: v > 0, fmt="{:+.2f}"),
    Claim("the scale-mixture prior beats the Gaussian prior", "1.36% vs 1.82% (400 units)",
          lambda r: r.scalars["bbb-gaussian/test_error"] - r.scalars["bbb-mixture/test_error"], lambda v: v > 0,
          fmt="{:+.2f}"),
]

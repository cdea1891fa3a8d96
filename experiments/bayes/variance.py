"""Variance of the Bayes-by-Backprop gradient against the minibatch size under three estimators:
one weight sample per minibatch (plain), local reparameterization and Flipout.

    python run.py bbb-variance --preset quick      # MNIST-1D (run.py list: measured seconds)
    python run.py bbb-variance --preset paper

Kingma, Salimans & Welling 2015 (Sec. 2.3, Table 1): with one weight sample shared by the
minibatch, the covariance between examples keeps the gradient variance from falling as 1/B;
sampling the pre-activations independently per example restores the 1/B decay. Wen et al. 2018
(Flipout, Fig. 1): random sign flips decorrelate the examples and lower the variance likewise.

The network is first trained with Bayes by Backprop (sigma a learned posterior); then for each
minibatch size B the gradient of the expected log likelihood (the closed-form KL adds no noise)
is drawn many times with fresh weight noise on a fixed minibatch, and its variance, summed over
all mu and rho, is recorded.
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import optax

from common import plots, records, stats
from common.config import (
    require_at_least_one,
    require_distinct,
    require_numbers_representable,
    require_positive,
)
from common.experiment import Claim, Control, DataUse, Results, below, within
from common.train import Loop, epoch_batches, fit, seed_keys
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import gradient_variance as gv
from research.bayes import train as bayes_train

NAME = "bbb-variance"
STUDY = "bayes"
PAPER = "Kingma et al. 2015 (local reparameterization); Wen et al. 2018 (Flipout); Blundell et al. 2015"
REPRODUCES = "gradient variance vs batch size: local reparameterization and Flipout below plain, local ~ 1/B"

MODES = ("plain", "local", "flipout")
AA = "plain (A/A)"  # plain again with fresh noise: the run-time control of "lowers the variance"
ESTIMATORS = {"plain": gv.Estimator("plain", 100), "local": gv.Estimator("local", 100),
              "flipout": gv.Estimator("flipout", 100), AA: gv.Estimator("plain", 200)}


class Estimates(NamedTuple):
    """An estimator's total gradient variance per (seed, minibatch) sample and batch size, its mean, and
    per sample the slope of log variance against log B and the ratio to plain's at the largest B."""

    variance_samples: np.ndarray  # (seeds x minibatches, sizes)
    variance: np.ndarray  # (sizes,)
    slope_samples: np.ndarray  # (seeds x minibatches,)
    ratio_to_plain_samples: np.ndarray  # (seeds x minibatches,)


RATIO, SLOPE = "ratio_to_plain_samples", "slope_samples"  # the fields of Estimates the claims read


@dataclass(frozen=True)
class Config:
    """Gradient variance of the ELBO's likelihood term for three estimators."""

    seeds: int = 2
    """Independent trained networks (vmapped); variances are averaged over them."""
    dataset: Literal["mnist1d", "mnist-subset", "mnist"] = "mnist1d"
    """The data set: MNIST-1D comes with the install, the MNIST subset with the mnist-subset extra; MNIST, Fashion-MNIST and CIFAR-10 are read from --data-dir."""
    width: int = 100
    """Units in each of the two hidden ReLU layers."""
    train_steps: int = 1000
    """Bayes-by-backprop steps before the variance is measured (local sampling, Gaussian prior)."""
    train_batch_size: int = 100
    """Examples per minibatch while the network is trained."""
    learning_rate: float = 1e-3
    """Adam step size of the training."""
    prior_sigma: float = 1.0
    """Std of the Gaussian prior of the training's ELBO."""
    sigma_init: float = bayes.DEFAULT_SIGMA_INIT
    """Initial posterior std (rho = softplus^-1 of it)."""
    batch_sizes: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256)
    """Minibatch sizes B at which the variance is measured (the first B of one fixed subset)."""
    draws: int = 16
    """Noise draws per variance estimate: the claims' intervals rest on the seeds x minibatches samples,
    whose spread the minibatches dominate."""
    minibatches: int = 4
    """Different fixed minibatches per batch size: each (seed, minibatch) pair is one sample of the
    claims' ratios and slopes, so their intervals rest on seeds x minibatches samples."""
    chunk: int = 500
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "width", "train_steps", "train_batch_size", "minibatches", "chunk",
                                    "batch_sizes"))
        if self.draws < 2:
            raise ValueError(f"draws must be at least 2 (got {self.draws})")
        require_distinct(self, ("batch_sizes",))
        if len(self.batch_sizes) < 2:
            raise ValueError(f"batch_sizes needs two or more sizes to fit a slope (got {self.batch_sizes})")
        require_positive(self, ("learning_rate", "prior_sigma", "sigma_init"))

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"train_batch_size": self.train_batch_size,
                                      "the largest of batch_sizes": max(self.batch_sizes)})


PRESETS = {"quick": Config(), "paper": Config(seeds=5, train_steps=10000, chunk=1000, draws=256, minibatches=8,
                                              batch_sizes=(4, 8, 16, 32, 64, 128, 256, 512, 1024))}


def train(config: Config, data, session):
    """The posterior the variances are measured at: Bayes by Backprop, local sampling, Gaussian prior."""
    optimizer = optax.adam(config.learning_rate)
    sizes = (data.x_train.shape[1], config.width, config.width, data.num_classes)
    step = bayes_train.elbo_step(optimizer, num_batches=data.x_train.shape[0] // config.train_batch_size,
                                 prior=bayes.GaussianPrior(config.prior_sigma), mode="local",
                                 kl_estimator="closed_form")
    out = fit("bayes-by-backprop", init=bayes_train.init_fn(sizes, optimizer, config.sigma_init), step=step,
              sample_batch=epoch_batches(config.train_batch_size), data=(data.x_train, data.y_train),
              loop=Loop(steps=config.train_steps, chunk=config.chunk), keys=seed_keys(config.seed, config.seeds),
              session=session)
    return out.state.params


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    batch_sizes = np.array(sorted(config.batch_sizes))
    variance_SxB = gv.variance_samples(train(config, data, session), data.x_train, data.y_train, batch_sizes,
                                       ESTIMATORS, draws=config.draws, minibatches=config.minibatches,
                                       seed=config.seed)

    results = Results()
    results.arrays["batch_sizes"] = batch_sizes
    rows = []
    for name, v in variance_SxB.items():
        records.put(results, name, Estimates(v, v.mean(axis=0), np.array([gv.fit_slope(batch_sizes, row) for row in v]),
                                             v[:, -1] / variance_SxB["plain"][:, -1]))
        rows.append({"estimator": name, **{f"B={b}": float(x) for b, x in zip(batch_sizes, v.mean(axis=0))},
                     "slope of log var vs log B (95% interval)": f"{samples(name, SLOPE)(results):.3g}"})
    results.tables["Total gradient variance (sum over mu and rho), mean over seeds and minibatches"] = rows
    results.notes.append(
        f"{config.seeds} networks of {config.width}-unit layers trained {config.train_steps} steps on "
        f"{config.dataset}; variance over {config.draws} noise draws on each of {config.minibatches} fixed "
        "minibatches per size: the intervals rest on the (seed, minibatch) samples. Data subsampling noise, "
        f"common to all estimators, is left out; '{AA}' is plain again with fresh noise (the run-time control).")
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure()
    ax = axes[0, 0]
    for mode in MODES:
        v = records.get(results, mode, Estimates)
        ax.plot(a["batch_sizes"], v.variance, "o-", ms=3, label=mode)
        ax.fill_between(a["batch_sizes"], v.variance_samples.min(axis=0), v.variance_samples.max(axis=0),
                        alpha=0.15, lw=0)
    local = records.get(results, "local", Estimates).variance
    ax.plot(a["batch_sizes"], local[0] * a["batch_sizes"][0] / a["batch_sizes"], "k:", lw=0.8, label="1 / B")
    ax.set(xscale="log", yscale="log", xlabel="minibatch size B", ylabel="gradient variance (total)",
           title="variance of the ELBO gradient")
    ax.legend()
    plots.save(fig, directory, "gradient_variance", **a)


def samples(name: str, field: str):
    """A claim's measure: the mean of an estimator's per (seed, minibatch) samples of `field`."""
    return lambda r: stats.mean(r.arrays[records.key(name, field)], "seed x minibatch samples")


def _samples(name: str, field: str, center: float, spread: float) -> Results:
    """Eight synthetic (seed, minibatch) samples of an estimator's `field` around `center`."""
    return Results(arrays={records.key(name, field): center + spread * np.linspace(-1, 1, 8)})


AA_CONTROL = "plain against itself with fresh noise (A/A)"
CLAIMS = [
    Claim(statement="local reparameterization lowers the gradient variance (ratio to plain at the largest batch)",
          paper="lower variance (Kingma et al. 2015)", measure=samples("local", RATIO), region=below(1.0),
          control=Control(name=AA_CONTROL, results=lambda: _samples("local", RATIO, 1.0, 0.1)),
          passing=lambda: _samples("local", RATIO, 0.1, 0.01), baseline=samples(AA, RATIO), fmt="{:.3g}"),
    Claim(statement="Flipout lowers the gradient variance (ratio to plain at the largest batch)",
          paper="lower variance (Wen et al. 2018)", measure=samples("flipout", RATIO), region=below(1.0),
          control=Control(name=AA_CONTROL, results=lambda: _samples("flipout", RATIO, 1.0, 0.1)),
          passing=lambda: _samples("flipout", RATIO, 0.1, 0.01), baseline=samples(AA, RATIO), fmt="{:.3g}"),
    Claim(statement="the local reparameterization's variance falls about as 1/B (slope of log var vs log B)",
          paper="slope -1", measure=samples("local", SLOPE), region=within(-1.2, -0.8),
          control=Control(name="one weight sample per minibatch (plain: the covariance term stops the fall)",
                          results=lambda: _samples("local", SLOPE, -0.3, 0.05)),
          passing=lambda: _samples("local", SLOPE, -1.0, 0.05), baseline=samples("plain", SLOPE), fmt="{:.2f}"),
]


if __name__ == "__main__":
    main(NAME)

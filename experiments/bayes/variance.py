"""Variance and bias of the Bayes-by-Backprop gradient against the minibatch size under three
estimators: one weight sample per minibatch (plain), local reparameterization and Flipout.

    python run.py bbb-variance --preset quick      # MNIST-1D
    python run.py bbb-variance --preset paper

Kingma et al. 2015 (Sec. 2.3): with one weight sample shared by the minibatch, the covariance between
examples keeps the variance from falling as 1/B; independent pre-activations restore the 1/B decay.
Wen et al. 2018 (Flipout): random sign flips decorrelate the examples likewise. Both estimate the same
gradient. After Bayes by Backprop training, the likelihood gradient is drawn many times with fresh
weight noise on fixed minibatches: its total variance over mu and rho, and its mean.
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import optax

from common import config as checks
from common import plots, records, stats
from common.experiment import RECALLED, Claim, Control, DataUse, Results, at_most, below, within
from common.members import learning_rate_sweep
from common.train import Loop, epoch_batches, fit, seed_keys
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import gradient_variance as gv
from research.bayes import train as bayes_train

NAME = "bbb-variance"
STUDY = "bayes"
PAPER = "Kingma et al. 2015 (local reparameterization); Wen et al. 2018 (Flipout); Blundell et al. 2015"
REPRODUCES = "gradient variance vs batch size: local reparameterization and Flipout below plain (and unbiased), local ~ 1/B"
MEMBER_FIELDS = ("learning_rate",)  # the training fit's one-member sweep input: --sweep points train in one program

MODES = ("plain", "local", "flipout")  # then the run-time controls: plain with independent noise (the z test's
AA, SHRUNK, AT_MEAN = "plain (A/A)", "local at sigma/10", "at the mean weights"  # reference), biased estimators
ESTIMATORS = {"plain": gv.Estimator("plain", 100), "local": gv.Estimator("local", 100),
              "flipout": gv.Estimator("flipout", 100), AA: gv.Estimator("plain", 200),
              SHRUNK: gv.Estimator("local", 100, 0.1), AT_MEAN: gv.Estimator("mean", 100)}
Z2_AT_MOST = 1.5  # mean z^2 of an unbiased estimator: 1 (t^2 of 30 degrees of freedom at 16 draws: 1.07)


class Estimates(NamedTuple):
    """An estimator's total gradient variance per (seed, minibatch) sample and batch size, its mean, and per
    sample the slope of log variance on log B, the ratio to plain's and the mean z^2 at the largest B."""

    variance_samples: np.ndarray  # (seeds x minibatches, sizes)
    variance: np.ndarray  # (sizes,)
    slope_samples: np.ndarray  # (seeds x minibatches,)
    ratio_to_plain_samples: np.ndarray  # (seeds x minibatches,)
    mean_z2_samples: np.ndarray  # (seeds x minibatches,)


LABELS = {"plain": "one weight sample per minibatch (plain)", "local": "local reparameterization",
          "flipout": "Flipout"}
RATIO, SLOPE, Z2 = "ratio_to_plain_samples", "slope_samples", "mean_z2_samples"  # the fields the claims read


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
    """Noise draws per variance and mean estimate (the Monte-Carlo error of the unbiasedness test)."""
    minibatches: int = 4
    """Fixed minibatches per batch size: each (seed, minibatch) pair is one sample of the claims' measures."""
    chunk: int = 500
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        checks.require_numbers_representable(self)
        checks.require_at_least_one(self, ("seeds", "width", "train_steps", "train_batch_size", "minibatches", "chunk",
                                    "batch_sizes"))
        if self.draws < 2:
            raise ValueError(f"draws must be at least 2 (got {self.draws})")
        checks.require_distinct(self, ("batch_sizes",))
        if len(self.batch_sizes) < 2:
            raise ValueError(f"batch_sizes needs two or more sizes to fit a slope (got {self.batch_sizes})")
        checks.require_positive(self, ("learning_rate", "prior_sigma", "sigma_init"))

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"train_batch_size": self.train_batch_size,
                                      "the largest of batch_sizes": max(self.batch_sizes)})


PRESETS = {"quick": Config(), "paper": Config(seeds=5, train_steps=10000, chunk=1000, draws=256, minibatches=8,
                                              batch_sizes=(4, 8, 16, 32, 64, 128, 256, 512, 1024))}


def train(config: Config, data, session):
    """The posterior the variances are measured at: Bayes by Backprop, local sampling, Gaussian prior."""
    rate = learning_rate_sweep(optax.adam, [config.learning_rate])  # the rate an input (MEMBER_FIELDS)
    optimizer = rate.optimizer
    sizes = (data.x_train.shape[1], config.width, config.width, data.num_classes)
    step = bayes_train.elbo_step(optimizer, num_batches=data.x_train.shape[0] // config.train_batch_size,
                                 prior=bayes.GaussianPrior(config.prior_sigma), mode="local",
                                 kl_estimator="closed_form")
    out = fit("bayes-by-backprop", init=bayes_train.init_fn(sizes, optimizer, config.sigma_init), step=step,
              sample_batch=epoch_batches(config.train_batch_size), data=(data.x_train, data.y_train),
              loop=Loop(steps=config.train_steps, chunk=config.chunk), keys=seed_keys(config.seed, config.seeds),
              members=rate.members, session=session)
    return out.state.params


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    batch_sizes = np.array(sorted(config.batch_sizes))
    sampled = gv.variance_samples(train(config, data, session), data.x_train, data.y_train, batch_sizes, ESTIMATORS,
                                  AA, draws=config.draws, minibatches=config.minibatches, seed=config.seed)
    results = Results(arrays={"batch_sizes": batch_sizes})
    rows = []
    for name, (v, z2) in sampled.items():
        ratio = v[:, -1] / sampled["plain"].variance_SxB[:, -1]
        records.put(results, name, Estimates(v, v.mean(axis=0), np.array([gv.fit_slope(batch_sizes, row) for row in v]),
                                             ratio, z2))
        rows.append({"estimator": name, **{f"B={b}": float(x) for b, x in zip(batch_sizes, v.mean(axis=0))},
                     "ratio to plain (mean)": float(np.mean(ratio)),
                     **{f"{what} (95% interval)": f"{samples(name, field)(results):.3g}" for what, field in (
                         ("slope of log var vs log B", SLOPE), (f"mean z^2 against {AA}", Z2))}})
    results.tables["Total gradient variance (sum over mu and rho), mean over seeds and minibatches"] = rows
    results.notes.append(
        f"{config.seeds} networks of {config.width}-unit layers trained {config.train_steps} steps on {config.dataset};"
        f" {config.draws} noise draws on each of {config.minibatches} fixed minibatches per size (the intervals rest on"
        " the (seed, minibatch) samples; data subsampling noise, common to all estimators, left out). z: per "
        f"coordinate, the difference of the mean gradients over its Monte-Carlo standard error, against '{AA}'.")
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure()
    ax = axes[0, 0]
    for mode in MODES:
        v = records.get(results, mode, Estimates)
        ax.plot(a["batch_sizes"], v.variance, "o-", ms=3, label=LABELS[mode])
        ax.fill_between(a["batch_sizes"], v.variance_samples.min(axis=0), v.variance_samples.max(axis=0),
                        alpha=0.15, lw=0)
    local = records.get(results, "local", Estimates).variance
    ax.plot(a["batch_sizes"], local[0] * a["batch_sizes"][0] / a["batch_sizes"], "k--", lw=0.8,
            label="slope -1: variance ~ 1/B\n(Kingma et al. 2015, Sec. 2.3)")
    ax.set(xscale="log", yscale="log", xlabel="minibatch size B", ylabel="gradient variance (total)",
           title="variance of the ELBO gradient")
    ax.legend(fontsize=7)
    plots.save(fig, directory, "gradient_variance", **a)


def samples(name: str, field: str):
    """The mean of an estimator's (seed, minibatch) samples of `field` (of ratios: geometric, log-scale t)."""
    mean = stats.geometric_mean if field == RATIO else stats.mean
    return lambda r: mean(r.arrays[records.key(name, field)], "seed x minibatch samples")


def _samples(name: str, field: str, center: float, spread: float) -> Results:
    """Eight synthetic (seed, minibatch) samples of an estimator's `field` around `center`."""
    return Results(arrays={records.key(name, field): center + spread * np.linspace(-1, 1, 8)})


AA_CONTROL = "plain against itself with fresh noise (A/A)"
KINGMA, WEN = "Kingma, Salimans & Welling 2015", "Wen et al. 2018"
CLAIMS = [
    Claim(statement="local reparameterization lowers the gradient variance (ratio to plain at the largest batch)",
          paper="lower variance (Kingma et al. 2015)", where=f"{KINGMA}, Sec. 2.4, Eq. 6{RECALLED}",
          measure=samples("local", RATIO), region=below(1.0),
          control=Control(name=AA_CONTROL, results=lambda: _samples("local", RATIO, 1.0, 0.1)),
          passing=lambda: _samples("local", RATIO, 0.1, 0.01), baseline=samples(AA, RATIO), fmt="{:.3g}"),
    Claim(statement="Flipout lowers the gradient variance (ratio to plain at the largest batch)",
          paper="lower variance (Wen et al. 2018)", where=f"{WEN}, Sec. 3, Eq. 3{RECALLED}",
          measure=samples("flipout", RATIO), region=below(1.0),
          control=Control(name=AA_CONTROL, results=lambda: _samples("flipout", RATIO, 1.0, 0.1)),
          passing=lambda: _samples("flipout", RATIO, 0.1, 0.01), baseline=samples(AA, RATIO), fmt="{:.3g}"),
    Claim(statement="the local reparameterization's variance falls about as 1/B (slope of log var vs log B)",
          paper="slope -1", where=f"{KINGMA}, Sec. 2.3 (the variance of the minibatch estimator){RECALLED}",
          measure=samples("local", SLOPE), region=within(-1.2, -0.8),
          control=Control(name="one weight sample per minibatch (plain: the covariance term stops the fall)",
                          results=lambda: _samples("local", SLOPE, -0.3, 0.05)),
          passing=lambda: _samples("local", SLOPE, -1.0, 0.05), baseline=samples("plain", SLOPE), fmt="{:.2f}"),
    *(Claim(statement=f"{name}'s mean gradient equals plain's within Monte-Carlo error (mean over coordinates of z^2, "
            f"z = difference / its standard error, at the largest batch; {AA} the reference)",
            paper="an unbiased estimator of the same gradient (Kingma et al. 2015 Sec. 2.3; Wen et al. 2018 Sec. 3)",
            where=f"{where}{RECALLED}", measure=samples(name, Z2), region=at_most(Z2_AT_MOST),
            control=Control(name=control, results=lambda name=name: _samples(name, Z2, 40.0, 5.0)),
            passing=lambda name=name: _samples(name, Z2, 1.07, 0.1), baseline=samples(biased, Z2), fmt="{:.3g}")
      for name, biased, control, where in (
          ("local", SHRUNK, "local sampling at sigma / 10 (another objective's gradient)", f"{KINGMA}, Sec. 2.4, Eq. 6"),
          ("flipout", AT_MEAN, "the gradient at the mean weights (no noise, biased)", f"{WEN}, Sec. 3, Eq. 3"))),
]


if __name__ == "__main__":
    main(NAME)

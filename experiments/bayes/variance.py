"""Variance of the Bayes-by-Backprop gradient under three estimators, against
the minibatch size: one weight sample per minibatch (plain), local
reparameterization and Flipout.

    python run.py bbb-variance --preset quick      # MNIST-1D, 14 s (run.py list: measured seconds)
    python run.py bbb-variance --preset paper

Kingma, Salimans & Welling 2015 (local reparameterization, Sec. 2.3 and
Table 1): with one weight sample shared by the minibatch, the covariance
between examples keeps the gradient variance from falling as 1/B; sampling
the pre-activations independently per example restores the 1/B decay. Wen et
al. 2018 (Flipout, Fig. 1): random sign flips decorrelate the examples at
about twice the cost of a forward pass and lower the variance likewise.

The network is first trained with Bayes by Backprop (so sigma is a learned
posterior, not the initial value); then for each minibatch size B the
gradient of the expected log likelihood (mean over the minibatch; the KL is
in closed form and adds no noise) is drawn many times with fresh weight noise
on a fixed minibatch, and its variance, summed over all mu and rho, is
recorded.
"""

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable, require_positive
from common.experiment import Claim, Control, DataUse, Results, below, within
from common.train import Loop, epoch_batches, fit, seed_keys
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import train as bayes_train

NAME = "bbb-variance"
STUDY = "bayes"
PAPER = "Kingma et al. 2015 (local reparameterization); Wen et al. 2018 (Flipout); Blundell et al. 2015"
REPRODUCES = "gradient variance vs batch size: local reparameterization and Flipout below plain, local ~ 1/B"

MODES = ("plain", "local", "flipout")
AA = "plain (A/A)"


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
    learning_rate: float = 1e-3
    prior_sigma: float = 1.0
    sigma_init: float = bayes.DEFAULT_SIGMA_INIT
    batch_sizes: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256)
    draws: int = 16
    """Noise draws per variance estimate. The quick preset's 16 (64 before) leave the claims' intervals about
    as wide: they rest on the seeds x minibatches samples, whose spread the minibatches dominate."""
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


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=5, train_steps=10000, chunk=1000, batch_sizes=(4, 8, 16, 32, 64, 128, 256, 512, 1024),
                    draws=256, minibatches=8),
}


def likelihood_gradient_variance(params, x_NxI, y_N, weights_SxN, key, mode: bayes.Mode, draws: int):
    """Total gradient variance for each row of `weights_SxN`, a minibatch given as
    weights 1/B on its B examples (0 elsewhere), so one compiled program serves
    every batch size: the noise of an example never depends on the others'."""

    def gradient(weights_N, draw_key):
        def expected_nll(p):
            logits = bayes.mlp_apply(p, x_NxI, draw_key, mode)
            return jnp.sum(weights_N * bayes.categorical_nll(logits, y_N))

        return jax.grad(expected_nll)(params)

    keys = jax.random.split(key, draws)
    return jax.vmap(lambda w: bayes.gradient_variance(lambda k: gradient(w, k), keys))(weights_SxN)


def fit_slope(batch_sizes, variances) -> float:
    """Least-squares slope of log variance against log batch size."""
    return float(np.polyfit(np.log(batch_sizes), np.log(variances), 1)[0])


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset, flatten=True)
    optimizer = optax.adam(config.learning_rate)
    sizes = (data.x_train.shape[1], config.width, config.width, data.num_classes)
    prior = bayes.GaussianPrior(config.prior_sigma)
    out = fit(
        "bayes-by-backprop",
        init=bayes_train.init_fn(sizes, optimizer, config.sigma_init),
        step=bayes_train.elbo_step(optimizer, num_batches=data.x_train.shape[0] // config.train_batch_size,
                                   prior=prior, mode="local", kl_estimator="closed_form"),
        sample_batch=epoch_batches(config.train_batch_size), data=(data.x_train, data.y_train),
        loop=Loop(steps=config.train_steps, chunk=config.chunk), keys=seed_keys(config.seed, config.seeds),
        session=session,
    )

    # Fixed minibatches: the first B examples of a random subset of size max(B).
    largest = max(config.batch_sizes)
    rng = np.random.default_rng(config.seed)
    batch_sizes = np.array(sorted(config.batch_sizes))
    weights = (np.arange(largest)[None, :] < batch_sizes[:, None]) / batch_sizes[:, None]  # (sizes, largest)
    weights = jnp.asarray(weights)
    measure = {
        mode: jax.jit(jax.vmap(lambda p, k, x, y, mode=mode: likelihood_gradient_variance(
            p, x, y, weights, k, mode, config.draws), in_axes=(0, 0, None, None)))
        for mode in MODES
    }  # one compile per mode: the minibatches are arguments
    # (seeds x minibatches, sizes) per estimator; "plain (A/A)" repeats plain with fresh noise, the
    # negative control of "lowers the variance": an estimator compared with itself.
    samples = {mode: [] for mode in (*MODES, AA)}
    for m in range(config.minibatches):
        index = rng.choice(data.x_train.shape[0], largest, replace=False)
        x, y = jnp.asarray(data.x_train[index]), jnp.asarray(data.y_train[index])
        for mode in (*MODES, AA):
            tag = 200 if mode == AA else 100
            keys = jax.vmap(lambda i, tag=tag: jax.random.fold_in(jax.random.key(config.seed + tag + m), i))(
                jnp.arange(config.seeds))
            samples[mode].append(np.asarray(measure[mode.removesuffix(" (A/A)")](out.state.params, keys, x, y)))
    variance_SxB = {mode: np.concatenate(v, axis=0) for mode, v in samples.items()}

    results = Results()
    results.arrays["batch_sizes"] = batch_sizes
    rows = []
    for mode in (*MODES, AA):
        v = variance_SxB[mode]
        results.arrays[f"{mode}/variance_samples"] = v
        results.arrays[f"{mode}/variance"] = v.mean(axis=0)
        results.arrays[f"{mode}/slope_samples"] = np.array([fit_slope(batch_sizes, row) for row in v])
        slope = stats.mean(results.arrays[f"{mode}/slope_samples"], "seed x minibatch samples")
        rows.append({"estimator": mode, **{f"B={b}": float(x) for b, x in zip(batch_sizes, v.mean(axis=0))},
                     "slope of log var vs log B": slope.value,
                     "slope 95% interval": f"[{slope.interval[0]:.2f}, {slope.interval[1]:.2f}]"})
    for mode in ("local", "flipout", AA):
        results.arrays[f"{mode}/ratio_to_plain_samples"] = variance_SxB[mode][:, -1] / variance_SxB["plain"][:, -1]
    results.tables["Total gradient variance (sum over mu and rho), mean over seeds and minibatches"] = rows
    results.notes.append(
        f"Network {'-'.join(map(str, sizes))} on {config.dataset}, trained {config.train_steps} steps by Bayes by "
        f"Backprop (local sampling, N(0, {config.prior_sigma}^2) prior). Variance over {config.draws} noise draws "
        f"on {config.minibatches} fixed minibatches per size, for each of {config.seeds} seeds: the claims' intervals "
        f"rest on the {config.seeds * config.minibatches} (seed, minibatch) samples. The data subsampling variance, "
        "common to all estimators, is left out. 'plain (A/A)' is the plain estimator again with fresh noise: "
        "the run-time control of the variance claims."
    )
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure()
    ax = axes[0, 0]
    for mode in MODES:
        ax.plot(a["batch_sizes"], a[f"{mode}/variance"], "o-", ms=3, label=mode)
        samples = a[f"{mode}/variance_samples"]
        ax.fill_between(a["batch_sizes"], samples.min(axis=0), samples.max(axis=0), alpha=0.15, lw=0)
    ref = a["local/variance"][0] * a["batch_sizes"][0] / a["batch_sizes"]
    ax.plot(a["batch_sizes"], ref, "k:", lw=0.8, label="1 / B")
    ax.set(xscale="log", yscale="log", xlabel="minibatch size B", ylabel="gradient variance (total)",
           title="variance of the ELBO gradient")
    ax.legend()
    plots.save(fig, directory, "gradient_variance", **a)


def ratio_to_plain(mode: str):
    return lambda r: stats.mean(r.arrays[f"{mode}/ratio_to_plain_samples"], "seed x minibatch samples")


def slope(mode: str):
    return lambda r: stats.mean(r.arrays[f"{mode}/slope_samples"], "seed x minibatch samples")


def _ratios(mode: str, center: float) -> Results:
    return Results(arrays={f"{mode}/ratio_to_plain_samples": center * (1 + 0.1 * np.linspace(-1, 1, 8))})


def _slopes(mode: str, center: float) -> Results:
    return Results(arrays={f"{mode}/slope_samples": center + 0.05 * np.linspace(-1, 1, 8)})


CLAIMS = [
    Claim(
        statement="local reparameterization lowers the gradient variance (ratio to plain at the largest batch)",
        paper="lower variance (Kingma et al. 2015)",
        measure=ratio_to_plain("local"),
        region=below(1.0),
        control=Control(name="plain against itself with fresh noise (A/A)", results=lambda: _ratios("local", 1.0)),
        passing=lambda: _ratios("local", 0.1),
        baseline=ratio_to_plain(AA),
        fmt="{:.3g}",
    ),
    Claim(
        statement="Flipout lowers the gradient variance (ratio to plain at the largest batch)",
        paper="lower variance (Wen et al. 2018)",
        measure=ratio_to_plain("flipout"),
        region=below(1.0),
        control=Control(name="plain against itself with fresh noise (A/A)", results=lambda: _ratios("flipout", 1.0)),
        passing=lambda: _ratios("flipout", 0.1),
        baseline=ratio_to_plain(AA),
        fmt="{:.3g}",
    ),
    Claim(
        statement="the local reparameterization's variance falls about as 1/B (slope of log var vs log B)",
        paper="slope -1",
        measure=slope("local"),
        region=within(-1.2, -0.8),
        control=Control(
            name="one weight sample per minibatch (plain: the covariance term stops the fall)",
            results=lambda: _slopes("local", -0.3),
        ),
        passing=lambda: _slopes("local", -1.0),
        baseline=slope("plain"),
        fmt="{:.2f}",
    ),
]


if __name__ == "__main__":
    main(NAME)

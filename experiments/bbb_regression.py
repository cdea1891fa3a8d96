"""Bayes by Backprop on the toy regression curve: predictive uncertainty grows
away from the data, while a plain network has none to show.

    python run.py bbb-regression --preset quick     # 15 s (see QUICK_SECONDS)
    python run.py bbb-regression --preset paper

Blundell et al. 2015, Sec. 5.2 and Figure 5: training data
y = x + 0.3 sin(2 pi (x + eps)) + 0.3 sin(4 pi (x + eps)) + eps, eps ~ N(0, 0.02),
x in [0, 0.5]; predictions over a wider range show the median and
interquartile range of the Bayesian network's predictive distribution widening
outside the data, and a plain network that fits the data but reports no
uncertainty. The paper does not give the architecture or training length.

Training length matters: the posterior std of weights the data do not pin
down grows slowly from sigma_init, so the band keeps widening long after the
fit inside [0, 0.5] is done. Quick preset, 3 seeds, outside / inside
predictive std (idle 2-core CPU, 2026-11-27): 6.3 after 2,000 steps, with a
band too thin to see left of the data; 37 (per seed 32-40) after 8,000, with
a band on both sides, as in Figure 5. The quick preset trains 8,000 steps.
(sigma_init 0.2 instead of 0.05 gives 1.8 after 2,000 steps: a wider band
inside the data too.)
"""

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots
from common.config import require_at_least_one, require_numbers_representable, require_positive
from common.data.synthetic import toy_regression, toy_regression_mean
from common.experiment import Claim, Results
from common.models import MLP
from common.train import Loop, epoch_batches, fit, new_state, seed_keys, supervised_step
from research import bayes, bayes_train

NAME = "bbb-regression"
STUDY = "bayes"
PAPER = "Blundell et al. 2015, Weight Uncertainty in Neural Networks (arXiv 1505.05424)"
REPRODUCES = "Figure 5: predictive median and interquartile range widen outside the training interval [0, 0.5]"
QUICK_SECONDS = 15  # wall s, idle 2-core CPU, warm compilation cache (25 s cold), 2026-11-27

TRAIN_LOW, TRAIN_HIGH = 0.0, 0.5
GRID_LOW, GRID_HIGH = -0.2, 1.2


@dataclass(frozen=True)
class Config:
    """Toy regression: a Bayesian MLP (Bayes by Backprop) against a plain MLP."""

    seeds: int = 3
    """Independent seeds, trained together in one vmapped program."""
    num_train: int = 200
    noise_std: float = 0.02
    """Noise std of the data, also the fixed std of the Gaussian likelihood."""
    width: int = 64
    """Units in each of the two hidden ReLU layers."""
    steps: int = 8000
    batch_size: int = 50
    learning_rate: float = 3e-3
    """Adam step size for both networks."""
    prior: Literal["gaussian", "scale-mixture"] = "gaussian"
    """The Gaussian prior lets unconstrained weights keep a wide posterior; the
    scale mixture (pi 1/2, sigma1 1, sigma2 e^-6) pulls many of them into its
    narrow spike, which gave a smaller spread here (ratio 3.8 after 3000 steps)."""
    prior_sigma: float = 1.0
    """Std of the Gaussian prior (prior = gaussian)."""
    mode: bayes.Mode = "local"
    """Sampling mode in training: plain, local or flipout."""
    sigma_init: float = bayes.DEFAULT_SIGMA_INIT
    """Initial posterior std (rho = softplus^-1 of it)."""
    num_samples: int = 500
    """Posterior draws for the predictive distribution."""
    grid_points: int = 141
    chunk: int = 1000
    seed: int = 0

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "num_train", "width", "steps", "batch_size", "num_samples", "grid_points", "chunk"))
        require_positive(self, ("noise_std", "learning_rate", "prior_sigma", "sigma_init"))
        if self.batch_size > self.num_train:
            raise ValueError(f"batch_size ({self.batch_size}) exceeds num_train ({self.num_train})")
        if self.mode == "mean":
            raise ValueError("mode must be a sampling mode: plain, local or flipout")

    def unused_fields(self) -> dict[str, str]:
        if self.prior == "scale-mixture":
            return {"prior_sigma": "the scale-mixture prior has fixed sigmas (1 and e^-6); "
                                   "prior_sigma is the Gaussian prior's"}
        return {}


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=5, width=400, steps=20000, chunk=1000, num_samples=2000),
    "scale-mixture": Config(prior="scale-mixture", steps=3000),
}


def make_prior(config: Config) -> bayes.Prior:
    if config.prior == "gaussian":
        return bayes.GaussianPrior(config.prior_sigma)
    return bayes.ScaleMixturePrior()


def _interval_mask(grid):
    return (grid >= TRAIN_LOW) & (grid <= TRAIN_HIGH)


def run(config: Config, session) -> Results:
    x, y = toy_regression(jax.random.key(config.seed), config.num_train, TRAIN_LOW, TRAIN_HIGH, config.noise_std)
    y = y[:, 0]
    grid = jnp.linspace(GRID_LOW, GRID_HIGH, config.grid_points)[:, None]
    optimizer = optax.adam(config.learning_rate)
    loop = Loop(steps=config.steps, chunk=config.chunk)
    keys = seed_keys(config.seed + 1, config.seeds)
    sizes = (1, config.width, config.width, 1)

    bayes_out = fit(
        "bayes-by-backprop",
        init=bayes_train.init_fn(sizes, optimizer, config.sigma_init),
        step=bayes_train.elbo_step(
            optimizer, num_batches=config.num_train // config.batch_size, prior=make_prior(config),
            mode=config.mode, kl_estimator="monte_carlo", likelihood="gaussian", noise_std=config.noise_std,
        ),
        sample_batch=epoch_batches(config.batch_size), data=(x, y), loop=loop, keys=keys, session=session,
    )
    # Predictive draws (seeds, samples, grid) with the plain sampler: whole functions per draw.
    draw_key = jax.random.key(config.seed + 2)
    predict = jax.jit(jax.vmap(lambda p: bayes.predictive_samples(p, grid, draw_key, config.num_samples, "plain")))
    bayes_draws = np.asarray(predict(bayes_out.state.params))[..., 0]

    model = MLP((config.width, config.width), 1, activation="relu", init="he")

    def plain_init(key):
        params, model_state = model.init_variables(key, x[:1])
        return new_state(params, optimizer.init(params), key, model_state)

    def squared_error(pred, target):
        return jnp.mean(jnp.square(pred[:, 0] - target))

    plain_out = fit(
        "plain", init=plain_init, step=supervised_step(model, optimizer, loss=squared_error),
        sample_batch=epoch_batches(config.batch_size), data=(x, y), loop=loop, keys=keys, session=session,
    )
    def plain_predict(key):  # (seeds, grid); the key would matter only if the net were stochastic
        return np.asarray(jax.vmap(lambda p, s: model.apply(p, s, grid, key=key)[0])(
            plain_out.state.params, plain_out.state.model_state))[..., 0]

    plain_pred = plain_predict(jax.random.key(1))

    grid_np = np.asarray(grid[:, 0])
    inside = _interval_mask(grid_np)
    std = bayes_draws.std(axis=1)  # (seeds, grid)
    ratio = std[:, ~inside].mean(axis=1) / std[:, inside].mean(axis=1)
    truth = np.asarray(toy_regression_mean(grid[:, 0]))
    median = np.median(bayes_draws, axis=1)
    results = Results()
    results.arrays.update({
        "grid": grid_np, "truth": truth, "x_train": np.asarray(x[:, 0]), "y_train": np.asarray(y),
        "bayes/median": median, "bayes/q25": np.quantile(bayes_draws, 0.25, axis=1),
        "bayes/q75": np.quantile(bayes_draws, 0.75, axis=1), "bayes/std": std, "plain/prediction": plain_pred,
        "bayes/train_loss": bayes_out.curve("train/loss"), "plain/train_loss": plain_out.curve("train/loss"),
    })
    # A plain network is a point estimate: forward passes with other keys agree exactly.
    plain_spread = float(np.max(np.abs(plain_predict(jax.random.key(2)) - plain_pred)))
    rmse_inside = lambda pred: float(np.sqrt(np.mean(np.square(pred[:, inside] - truth[inside]))))  # noqa: E731
    results.scalars.update({
        "bayes/std_ratio_outside_inside": float(np.mean(ratio)),
        "bayes/std_inside": float(std[:, inside].mean()), "bayes/std_outside": float(std[:, ~inside].mean()),
        "plain/std": plain_spread,
        "bayes/rmse_inside": rmse_inside(median), "plain/rmse_inside": rmse_inside(plain_pred),
    })
    results.tables["Predictive spread (mean over seeds)"] = [
        {"network": "Bayes by Backprop", "std inside [0, 0.5]": results.scalars["bayes/std_inside"],
         "std outside": results.scalars["bayes/std_outside"], "outside / inside": float(np.mean(ratio)),
         "ratio per seed": " ".join(f"{r:.2f}" for r in ratio),
         "RMSE of median vs curve inside": results.scalars["bayes/rmse_inside"]},
        {"network": "plain", "std inside [0, 0.5]": 0.0, "std outside": 0.0, "outside / inside": float("nan"),
         "ratio per seed": "", "RMSE of median vs curve inside": results.scalars["plain/rmse_inside"]},
    ]
    results.notes.append(
        f"Bayesian MLP 1-{config.width}-{config.width}-1, {config.prior} prior, {config.mode} sampling, "
        f"sigma_init {config.sigma_init}, KL weight 1/M, {config.steps} Adam steps; predictive from "
        f"{config.num_samples} weight draws. The plain network is deterministic: its spread is zero by construction."
    )
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure(ncols=2, width=4.6)
    for ax, title in zip(axes[0], ("Bayes by Backprop (seed 0)", "plain network (seed 0)")):
        ax.axvspan(TRAIN_LOW, TRAIN_HIGH, color="0.9", lw=0)
        ax.plot(a["grid"], a["truth"], "k:", lw=0.8, label="true mean")
        ax.plot(a["x_train"], a["y_train"], "kx", ms=2.5, label="training data")
        ax.set(title=title, xlabel="x", ylabel="y", ylim=(-1.5, 2.5))
    ax = axes[0, 0]
    ax.plot(a["grid"], a["bayes/median"][0], color="C3", label="median")
    ax.fill_between(a["grid"], a["bayes/q25"][0], a["bayes/q75"][0], color="C3", alpha=0.3, lw=0,
                    label="interquartile range")
    axes[0, 1].plot(a["grid"], a["plain/prediction"][0], color="C0", label="prediction")
    for ax in axes[0]:
        ax.legend(loc="upper left")
    plots.save(fig, directory, "regression", **a)


CLAIMS = [
    Claim("Bayesian predictive std outside [0, 0.5] is at least 3x the std inside (x in [-0.2, 1.2])",
          "spread grows away from the data (Fig. 5)",
          lambda r: r.scalars["bayes/std_ratio_outside_inside"], lambda v: v >= 3.0, fmt="{:.2f}"),
    Claim("the plain network has no predictive spread", "0 (Fig. 5, right)",
          lambda r: r.scalars["plain/std"], lambda v: v == 0.0),
]

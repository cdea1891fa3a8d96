"""Bayes by Backprop on the toy regression curve: predictive uncertainty grows
away from the data, while a plain network has none to show.

    python run.py bbb-regression --preset quick
    python run.py bbb-regression --preset paper

Blundell et al. 2015, Sec. 5.2 and Figure 5: training data
y = x + 0.3 sin(2 pi (x + eps)) + 0.3 sin(4 pi (x + eps)) + eps, eps ~ N(0, 0.02),
x in [0, 0.5]; predictions over a wider range show the median and
interquartile range of the Bayesian network's predictive distribution widening
outside the data, and a plain network that fits the data but reports no
uncertainty. The paper does not give the architecture or training length.
The predictive band adds observation noise to the weight draws
(`observation_noise`). Lab notes and numbers of earlier runs: docs/claims/bayes.md.
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import plots, records, stats
from common.config import require_at_least_one, require_numbers_representable, require_positive
from common.data.synthetic import toy_regression_mean
from common.experiment import Claim, Control, Results, at_least, at_most
from common.models import MLP
from common.train import Loop, epoch_batches, fit, new_state, seed_keys, supervised_step
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import predictive
from research.bayes import toy_regression as toy
from research.bayes import train as bayes_train
from research.bayes.noise import he_init

NAME = "bbb-regression"
STUDY = "bayes"
PAPER = "Blundell et al. 2015, Weight Uncertainty in Neural Networks (arXiv 1505.05424)"
REPRODUCES = "Figure 5: predictive median and interquartile range widen outside the training interval [0, 0.5]"

LEVELS = (0.5, 0.95)  # central predictive bands whose coverage the report shows


@dataclass(frozen=True)
class Config:
    """Toy regression: a Bayesian MLP (Bayes by Backprop) against a plain MLP."""

    seeds: int = 3
    """Independent seeds, trained together in one vmapped program."""
    num_train: int = 200
    """Training points, x ~ U[0, 0.5]."""
    noise_std: float = 0.02
    """Noise std of the data, also the fixed std of the Gaussian likelihood."""
    width: int = 64
    """Units in each of the two hidden ReLU layers."""
    steps: int = 8000
    """Training steps."""
    batch_size: int = 50
    """Examples per minibatch."""
    learning_rate: float = 3e-3
    """Adam step size for both networks."""
    prior: Literal["gaussian", "scale-mixture"] = "gaussian"
    """Prior on the weights: Gaussian (prior_sigma) or the scale mixture (pi 1/2, sigma1 1, sigma2 e^-6)."""
    prior_sigma: float = 1.0
    """Std of the Gaussian prior (prior = gaussian)."""
    mode: bayes.Mode = "local"
    """Sampling mode in training: plain, local or flipout."""
    sigma_init: float = bayes.DEFAULT_SIGMA_INIT
    """Initial posterior std (rho = softplus^-1 of it)."""
    num_samples: int = 500
    """Posterior draws for the predictive distribution."""
    observation_noise: Literal["fitted", "likelihood", "none"] = "fitted"
    """Noise added to each predictive draw: `fitted`, N(0, s^2), s the RMS residual of the predictive mean on the
    training points; `likelihood`, N(0, noise_std^2); `none`, weight uncertainty only (the coverage table: all)."""
    num_heldout: int = 200
    """Fresh points of the curve in [0, 0.5] and in (0.5, 1.2] each, for the coverage of the predictive bands."""
    grid_points: int = 141
    """Points of the prediction grid over [-0.2, 1.2]: the figure's x axis and the spread's averages."""
    chunk: int = 1000
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_at_least_one(self, ("seeds", "num_train", "width", "steps", "batch_size", "num_samples", "grid_points",
                                    "chunk", "num_heldout"))
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


PRESETS = {"quick": Config(), "paper": Config(seeds=5, width=400, steps=20000, chunk=1000, num_samples=2000),
           "scale-mixture": Config(prior="scale-mixture", steps=3000)}

PRIORS = {"gaussian": lambda config: bayes.GaussianPrior(config.prior_sigma),
          "scale-mixture": lambda config: bayes.ScaleMixturePrior()}


class Summary(NamedTuple):
    train_loss: np.ndarray
    std_ratio_outside_inside: float  # means over seeds
    std_inside: float
    std_outside: float
    rmse_inside: float


class Plain(NamedTuple):
    prediction: np.ndarray  # (seeds, P)
    train_loss: np.ndarray
    rmse_inside: float


class Coverage(NamedTuple):
    """Per seed, the fraction of held-out points inside the 95% predictive band, by region."""
    inside: np.ndarray
    outside: np.ndarray


def plain_model(config: Config) -> MLP:
    return MLP((config.width, config.width), 1, activation="relu", init="he")


def fit_networks(config: Config, data: toy.Data, session):
    """Bayes by Backprop (KL weight 1/M per minibatch, Monte-Carlo KL) and the plain network from the same
    seed keys: their function draws (and the untrained posterior's) on every point of `data`, and both
    training losses."""
    optimizer = optax.adam(config.learning_rate)
    keys = seed_keys(config.seed + 1, config.seeds)
    shared = {"sample_batch": epoch_batches(config.batch_size), "data": (data.x, data.y), "session": session,
              "loop": Loop(steps=config.steps, chunk=config.chunk), "keys": keys}
    sizes = (1, config.width, config.width, 1)
    init_bayes = bayes_train.init_fn(sizes, optimizer, config.sigma_init)
    bayes_out = fit("bayes-by-backprop", init=init_bayes, step=bayes_train.elbo_step(
        optimizer, num_batches=config.num_train // config.batch_size, prior=PRIORS[config.prior](config),
        mode=config.mode, kl_estimator="monte_carlo", likelihood="gaussian", noise_std=config.noise_std), **shared)

    def plain_init(key):
        params = he_init(key, sizes)  # what model.init_variables makes, drawn in one compiled loop
        return new_state(params, optimizer.init(params), key, {})

    def squared_error(pred, target):
        return jnp.mean(jnp.square(pred[:, 0] - target))

    model = plain_model(config)
    plain_out = fit("plain", init=plain_init, step=supervised_step(model, optimizer, loss=squared_error), **shared)
    draws = toy.draw_functions(data, bayes_out.state.params, init_bayes, keys, lambda p, s, x: model.apply(p, s, x)[0],
                               plain_out.state.params, plain_out.state.model_state, jax.random.key(config.seed + 2),
                               config.num_samples)
    return draws, bayes_out.curve("train/loss"), plain_out.curve("train/loss")


def run(config: Config, session) -> Results:
    data = toy.make_data(config.seed, config.num_train, config.num_heldout, config.grid_points, config.noise_std)
    draws, bayes_loss, plain_loss = fit_networks(config, data, session)
    y_train, grid = np.asarray(data.y), data.grid[:, 0]
    inside, truth = toy.inside_mask(grid), np.asarray(jax.jit(toy_regression_mean)(grid))

    def on_grid(functions):  # the grid's draws with the configured noise, and every noise model's scales
        scales = predictive.noise_scales(functions[..., draws.at["train"]], y_train, config.noise_std)
        return predictive.with_noise(functions[..., draws.at["grid"]], scales[config.observation_noise],
                                     draws.unit_noise[config.grid_points]), scales

    (bayes_draws, scales), (init_draws, _) = on_grid(draws.trained), on_grid(draws.untrained)
    results = Results(arrays={"grid": grid, "truth": truth, "x_train": np.asarray(data.x[:, 0]), "y_train": y_train})
    records.put(results, "init", predictive.spread(init_draws, inside, truth))
    records.put(results, "bayes", spread := predictive.spread(bayes_draws, inside, truth))
    records.put(results, "bayes", band := predictive.band(bayes_draws))
    records.put(results, "bayes", Summary(bayes_loss, float(np.mean(spread.std_ratio_per_seed)),
                                          float(band.std[:, inside].mean()), float(band.std[:, ~inside].mean()),
                                          float(np.mean(spread.rmse_inside_per_seed))))
    plain_rmse = float(np.sqrt(np.mean(np.square(draws.plain_grid[:, inside] - truth[inside]))))  # all seeds
    records.put(results, "plain", Plain(draws.plain_grid, plain_loss, plain_rmse))
    stds = {"bayes": band.std, "init": init_draws.std(axis=1)}
    results.tables["Predictive spread (mean over seeds)"] = spread_rows(results, stds, inside)
    coverage = toy.coverage(data, draws, scales, LEVELS)
    results.tables["Coverage of held-out points by the predictive bands (mean over seeds)"] = coverage.rows
    for model, by_region in coverage.per_seed.items():
        records.put(results, f"coverage/{model}", Coverage(**by_region))
    results.scalars["fitted_noise_std"] = float(np.mean(scales["fitted"]))
    results.scalars["data_noise_std_inside"] = float(
        predictive.data_noise_std(config.noise_std, config.seed + 4, toy.TRAIN_LOW, toy.TRAIN_HIGH))
    results.notes.append(describe(config, results))
    return results


NETWORKS = {"bayes": "Bayes by Backprop", "init": "untrained posterior (control)"}


def spread_rows(results: Results, stds: dict, inside: np.ndarray) -> list[dict]:
    rows = []
    for name, label in NETWORKS.items():
        spread = records.get(results, name, predictive.Spread)
        rows.append({"network": label, "std inside [0, 0.5]": float(stds[name][:, inside].mean()),
                     "std outside": float(stds[name][:, ~inside].mean()),
                     "outside / inside": float(np.mean(spread.std_ratio_per_seed)),
                     "ratio per seed": " ".join(f"{r:.2f}" for r in spread.std_ratio_per_seed),
                     "RMSE of median vs curve inside": float(np.mean(spread.rmse_inside_per_seed))})
    return rows + [{"network": "plain", "std inside [0, 0.5]": 0.0, "std outside": 0.0, "outside / inside": float("nan"),
                    "ratio per seed": "", "RMSE of median vs curve inside": results.scalars["plain/rmse_inside"]}]


NOISE_NOTES = {  # what the predictive adds to the weight draws, per `observation_noise`
    "fitted": " plus N(0, s^2), s = {fitted:.3g} (mean over seeds) the root-mean-square residual of the predictive "
              "mean on the training points. The likelihood's noise_std {noise} understates the data's own noise",
    "likelihood": " plus the likelihood's noise N(0, {noise}^2), below the data's own noise",
    "none": ": weight uncertainty only, no observation noise; compare the data's own noise",
}


def describe(config: Config, results: Results) -> str:
    return (f"Bayesian MLP 1-{config.width}-{config.width}-1, {config.prior} prior, {config.mode} sampling, "
            f"sigma_init {config.sigma_init} (rho = softplus^-1 of it), KL weight 1/M per minibatch (uniform over "
            f"the {config.num_train // config.batch_size} minibatches of an epoch), Monte-Carlo KL, {config.steps} "
            f"Adam steps; predictive from {config.num_samples} weight draws"
            + NOISE_NOTES[config.observation_noise].format(fitted=results.scalars["fitted_noise_std"],
                                                           noise=config.noise_std)
            + ": eps also enters inside the sines, so the std of y given x, averaged (RMS) over [0, 0.5], is "
            f"{results.scalars['data_noise_std_inside']:.3g} (Monte Carlo). The plain network is deterministic (no "
            "spread by construction: a unit test checks it).")


def figures(results: Results, directory) -> None:
    a = results.arrays
    band = records.get(results, "bayes", predictive.Band)
    fig, axes = plots.new_figure(ncols=2, width=4.6)
    for ax, title in zip(axes[0], ("Bayes by Backprop (seed 0)", "plain network (seed 0)")):
        ax.axvspan(toy.TRAIN_LOW, toy.TRAIN_HIGH, color="0.9", lw=0)
        ax.plot(a["grid"], a["truth"], "k:", lw=0.8, label="true mean")
        ax.plot(a["x_train"], a["y_train"], "kx", ms=2.5, label="training data")
        ax.set(title=title, xlabel="x", ylabel="y", ylim=(-1.5, 2.5))
    ax = axes[0, 0]
    ax.plot(a["grid"], band.median[0], color="C3", label="median")
    ax.fill_between(a["grid"], band.q025[0], band.q975[0], color="C3", alpha=0.12, lw=0, label="95% band")
    ax.fill_between(a["grid"], band.q25[0], band.q75[0], color="C3", alpha=0.3, lw=0, label="interquartile range")
    axes[0, 1].plot(a["grid"], records.get(results, "plain", Plain).prediction[0], color="C0", label="prediction")
    for ax in axes[0]:
        ax.legend(loc="lower right")
    plots.save(fig, directory, "regression", **a)


def _synthetic(ratio: float, rmse: float, coverage: float) -> Results:
    spread_S = np.linspace(-1, 1, 3)
    results = Results()
    records.put(results, "bayes", predictive.Spread(ratio * (1 + 0.1 * spread_S), rmse * (1 + 0.1 * spread_S)))
    inside = np.clip(coverage + 0.01 * spread_S, 0, 1)
    records.put(results, "coverage/fitted", Coverage(inside, inside))
    return results


def _spread(name: str, field: str):
    return lambda r: stats.mean(getattr(records.get(r, name, predictive.Spread), field))


def _coverage(model: str):
    return lambda r: stats.mean(records.get(r, f"coverage/{model}", Coverage).inside)


# A homoscedastic predictive (the same spread everywhere, ratio 1) that does not fit the curve (RMSE of a
# constant prediction, about the curve's std ~0.3) is what an untrained network looks like to these claims;
# its band, centred off the curve, covers few held-out points.
UNTRAINED = Control(name="untrained posterior (homoscedastic spread, no fit)", results=lambda: _synthetic(1.0, 0.3, 0.3))
WEIGHTS_ONLY = Control(name="a band of weight uncertainty alone, narrower than the data's noise",
                       results=lambda: _synthetic(20.0, 0.02, 0.3))


def _fitting() -> Results:
    return _synthetic(20.0, 0.02, 0.95)


CLAIMS = [
    Claim(statement="Bayesian predictive std outside [0, 0.5] is at least 3x the std inside (x in [-0.2, 1.2])",
          paper="spread grows away from the data (Fig. 5)", measure=_spread("bayes", "std_ratio_per_seed"),
          region=at_least(3.0), control=UNTRAINED, passing=_fitting,
          baseline=_spread("init", "std_ratio_per_seed"), fmt="{:.2f}"),
    Claim(statement="inside the data the predictive median follows the curve (RMSE against the true mean <= 0.05)",
          paper="fits the data (Fig. 5)", measure=_spread("bayes", "rmse_inside_per_seed"), region=at_most(0.05),
          control=UNTRAINED, passing=_fitting, baseline=_spread("init", "rmse_inside_per_seed"), fmt="{:.3f}"),
    Claim(statement="with the fitted observation noise, the 95% predictive band covers at least 90% of held-out "
          "points inside the data",
          paper="not in the paper (Fig. 5 draws the interquartile range); calibration inside the data",
          measure=_coverage("fitted"), region=at_least(0.9), control=WEIGHTS_ONLY, passing=_fitting,
          baseline=_coverage("none"), fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)

"""Bayes by Backprop on the toy regression curve: predictive uncertainty grows away from the data, on both
sides of it, while a plain network has none to show.

    python run.py bbb-regression --preset quick      (--preset paper: 400 units, 20,000 steps)

Blundell et al. 2015, Sec. 5.2 and Figure 5: training data y = x + 0.3 sin(2 pi (x + eps)) + 0.3 sin(4 pi
(x + eps)) + eps, eps ~ N(0, 0.02), x in [0, 0.5]; over [-0.2, 1.2] the median and interquartile range of the
Bayesian network's predictive widen outside the data, and a plain network fits the data with no uncertainty.
The paper gives neither the architecture nor the training length. The predictive band adds observation
noise to the weight draws (`observation_noise`). Lab notes, earlier runs' numbers: docs/notes/bayes.md.
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import numpy as np
import optax

from common import plots, records, stats
from common.config import require_at_least_one, require_numbers_representable, require_positive
from common.data.synthetic import toy_regression_mean
from common.experiment import Claim, Control, Results, at_least, at_most
from common.models import MLP
from common.train import Loop, epoch_batches, fit, seed_keys, supervised_step
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import predictive
from research.bayes import toy_regression as toy
from research.bayes import train as bayes_train

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
        fixed = {"prior_sigma": "the scale-mixture prior has fixed sigmas (1 and e^-6); prior_sigma is the Gaussian's"}
        return fixed if self.prior == "scale-mixture" else {}


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
    observation_noise_std: float  # the std of the noise added to the weight draws (mean over seeds)


class Plain(NamedTuple):
    prediction: np.ndarray  # (seeds, P)
    train_loss: np.ndarray
    rmse_inside: float


def fit_networks(config: Config, data: toy.Data, session):
    """Bayes by Backprop and the plain network from the same seed keys: their function draws (and the untrained
    posterior's) on every point of `data`, and both training losses."""
    optimizer = optax.adam(config.learning_rate)
    keys = seed_keys(config.seed + 1, config.seeds)
    shared = {"sample_batch": epoch_batches(config.batch_size), "data": (data.x, data.y), "session": session,
              "loop": Loop(steps=config.steps, chunk=config.chunk), "keys": keys}
    sizes = (1, config.width, config.width, 1)
    init_bayes = bayes_train.init_fn(sizes, optimizer, config.sigma_init)
    bayes_out = fit("bayes-by-backprop", init=init_bayes, step=bayes_train.elbo_step(
        optimizer, num_batches=config.num_train // config.batch_size, prior=PRIORS[config.prior](config),
        mode=config.mode, kl_estimator="monte_carlo", likelihood="gaussian", noise_std=config.noise_std), **shared)
    model = MLP((config.width, config.width), 1, activation="relu", init="he")
    plain_out = fit("plain", init=toy.plain_init_fn(sizes, optimizer),
                    step=supervised_step(model, optimizer, loss=toy.squared_error), **shared)
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
    for name, network_draws in (("init", init_draws), ("bayes", bayes_draws)):
        records.put(results, name, predictive.spread(network_draws, grid, toy.TRAIN_LOW, toy.TRAIN_HIGH, truth))
    spread = records.get(results, "bayes", predictive.Spread)
    records.put(results, "bayes", band := predictive.band(bayes_draws))
    records.put(results, "bayes", Summary(bayes_loss, float(np.mean(spread.std_ratio_per_seed)),
                                          float(band.std[:, inside].mean()), float(band.std[:, ~inside].mean()),
                                          float(np.mean(spread.rmse_inside_per_seed)),
                                          float(np.mean(scales[config.observation_noise]))))
    plain_rmse = float(np.sqrt(np.mean(np.square(draws.plain_grid[:, inside] - truth[inside]))))  # all seeds
    records.put(results, "plain", Plain(draws.plain_grid, plain_loss, plain_rmse))
    stds = {"bayes": band.std, "init": init_draws.std(axis=1)}
    results.tables["Predictive spread (mean over seeds)"] = spread_rows(results, stds, inside)
    coverage = toy.coverage(data, draws, scales, LEVELS)
    results.tables["Coverage of held-out points by the predictive bands (mean over seeds)"] = coverage.rows
    for model, per_seed in coverage.per_seed.items():
        records.put(results, f"coverage/{model}", per_seed)
    results.scalars["fitted_noise_std"] = float(np.mean(scales["fitted"]))
    results.scalars["data_noise_std_inside"] = float(
        predictive.data_noise_std(config.noise_std, config.seed + 4, toy.TRAIN_LOW, toy.TRAIN_HIGH))
    results.notes.append(describe(config, results))
    return results


def spread_rows(results: Results, stds: dict, inside: np.ndarray) -> list[dict]:
    rows = []
    for name, label in (("bayes", "Bayes by Backprop"), ("init", "untrained posterior (control)")):
        spread = records.get(results, name, predictive.Spread)
        rows.append({"network": label, "std inside [0, 0.5]": float(stds[name][:, inside].mean()),
                     "std outside": float(stds[name][:, ~inside].mean()),
                     "outside / inside": float(np.mean(spread.std_ratio_per_seed)),
                     "ratio per seed": " ".join(f"{r:.2f}" for r in spread.std_ratio_per_seed),
                     "left / inside": float(np.mean(spread.std_ratio_left_per_seed)), "right / inside":
                     float(np.mean(spread.std_ratio_right_per_seed)),
                     "RMSE of median vs curve inside": float(np.mean(spread.rmse_inside_per_seed))})
    return rows + [{"network": "plain (deterministic)",
                    "RMSE of median vs curve inside": results.scalars["plain/rmse_inside"]}]


NOISE_NOTES = {  # what the predictive adds to the weight draws, per `observation_noise`
    "fitted": " plus N(0, s^2), s = {fitted:.3g} (mean over seeds) the root-mean-square residual of the predictive "
              "mean on the training points. The likelihood's noise_std {noise} understates the data's own noise",
    "likelihood": " plus the likelihood's noise N(0, {noise}^2), below the data's own noise",
    "none": ": weight uncertainty only, no observation noise; compare the data's own noise",
}


def describe(config: Config, results: Results) -> str:
    noise = NOISE_NOTES[config.observation_noise].format(fitted=results.scalars["fitted_noise_std"],
                                                         noise=config.noise_std)
    return (f"Bayesian MLP 1-{config.width}-{config.width}-1, {config.prior} prior, {config.mode} sampling, "
            f"sigma_init {config.sigma_init} (rho = softplus^-1 of it), KL weight 1/M per minibatch (uniform over "
            f"the {config.num_train // config.batch_size} minibatches of an epoch), Monte-Carlo KL, {config.steps} "
            f"Adam steps; predictive from {config.num_samples} weight draws{noise}: eps also enters inside the sines, "
            f"so the std of y given x, averaged (RMS) over [0, 0.5], is {results.scalars['data_noise_std_inside']:.3g}"
            " (Monte Carlo). The plain network is deterministic (no spread by construction: a unit test checks it).")


def figures(results: Results, directory) -> None:
    a = results.arrays
    band = records.get(results, "bayes", predictive.Band)
    fig, axes = plots.new_figure(ncols=2, width=4.6)
    for ax, title in zip(axes[0], ("Bayes by Backprop (seed 0)", "plain network (seed 0)")):
        ax.axvspan(toy.TRAIN_LOW, toy.TRAIN_HIGH, color="0.9", lw=0)
        ax.plot(a["grid"], a["truth"], "k:", lw=0.8, label="true mean")
        ax.plot(a["x_train"], a["y_train"], "kx", ms=2.5, label="training data")
        ax.set(title=title, xlabel="x", ylabel="y", ylim=(-1.5, 2.5))
    ax, noise = axes[0, 0], records.get(results, "bayes", Summary).observation_noise_std
    ax.plot(a["grid"], band.median[0], color="C3", label="median of the predictive")
    ax.fill_between(a["grid"], band.q025[0], band.q975[0], color="C3", alpha=0.12, lw=0,
                    label=f"central 95% of predictive draws\n(weight draws + N(0, {noise:.3g}$^2$) noise)")
    ax.fill_between(a["grid"], band.q25[0], band.q75[0], color="C3", alpha=0.3, lw=0,
                    label="interquartile range (Fig. 5's band)")
    ax.text(0.02, 0.98, "Blundell et al. 2015, Fig. 5 (no numbers):\nthe band widens on both sides of the data",
            transform=ax.transAxes, va="top", fontsize=7)
    axes[0, 1].plot(a["grid"], records.get(results, "plain", Plain).prediction[0], color="C0", label="prediction")
    for ax in axes[0]:
        ax.legend(loc="lower right", fontsize=7)
    plots.save(fig, directory, "regression", **a)


GRID = np.linspace(toy.GRID_LOW, toy.GRID_HIGH, 141)
BANDS = {  # the predictive std over GRID of a synthetic posterior, by name
    "homoscedastic": lambda x: np.full_like(x, 0.3),
    "x^2": lambda x: x**2 + 0.01,  # wider right of the data than inside, narrower left of it
    "widening": lambda x: 0.05 + 2 * np.maximum(toy.TRAIN_LOW - x, x - toy.TRAIN_HIGH).clip(0),  # both sides
}


def _synthetic(band: str, rmse: float, coverage: float) -> Results:
    """Three seeds of 400 draws of a posterior with the band's std, its median `rmse` off the curve inside,
    its 95% band covering `coverage` of held-out points inside the data."""
    draws = BANDS[band](GRID) * np.random.default_rng(0).standard_normal((3, 400, GRID.size))
    spread_S, results = np.linspace(-1, 1, 3), Results()
    spread = predictive.spread(draws, GRID, toy.TRAIN_LOW, toy.TRAIN_HIGH, np.zeros_like(GRID))
    records.put(results, "bayes", spread._replace(rmse_inside_per_seed=rmse * (1 + 0.1 * spread_S)))
    inside = np.clip(coverage + 0.01 * spread_S, 0, 1)
    records.put(results, "coverage/fitted", toy.Coverage(inside, inside))
    return results


def _spread(name: str, field: str):
    return lambda r: stats.mean(getattr(records.get(r, name, predictive.Spread), field))


def _each_side(name: str):
    """The smaller of the left and right outside/inside std ratios, each a geometric mean over seeds."""
    def measure(r: Results) -> stats.Measurement:
        spread = records.get(r, name, predictive.Spread)
        return stats.smallest(stats.geometric_mean(spread.std_ratio_left_per_seed),
                              stats.geometric_mean(spread.std_ratio_right_per_seed))
    return measure


def _coverage(model: str):
    return lambda r: stats.mean(records.get(r, f"coverage/{model}", toy.Coverage).inside)


# An untrained network: a homoscedastic predictive off the curve (RMSE ~ the curve's std), covering little.
UNTRAINED = Control(name="untrained posterior (homoscedastic spread, no fit)",
                    results=lambda: _synthetic("homoscedastic", 0.3, 0.3))
ONE_SIDED = Control(name="a band growing as x^2 (wider right of the data, narrower left of it than inside)",
                    results=lambda: _synthetic("x^2", 0.02, 0.95))
WEIGHTS_ONLY = Control(name="a band of weight uncertainty alone, narrower than the data's noise",
                       results=lambda: _synthetic("widening", 0.02, 0.3))


def _fitting() -> Results:
    return _synthetic("widening", 0.02, 0.95)


FIG5 = "Blundell et al. 2015, Sec. 5.2 (regression curves), Fig. 5"
CLAIMS = [
    Claim(statement="on each side of the data the Bayesian predictive std is at least 3x the std inside [0, 0.5] "
          "(the smaller of the ratios left, x in [-0.2, 0), and right, x in (0.5, 1.2])",
          paper="spread grows away from the data on both sides (Fig. 5)", where=FIG5, measure=_each_side("bayes"),
          region=at_least(3.0), control=ONE_SIDED, passing=_fitting, baseline=_each_side("init"), fmt="{:.2f}"),
    Claim(statement="inside the data the predictive median follows the curve (RMSE against the true mean <= 0.05)",
          paper="fits the data (Fig. 5)", where=FIG5, measure=_spread("bayes", "rmse_inside_per_seed"), region=at_most(0.05),
          control=UNTRAINED, passing=_fitting, baseline=_spread("init", "rmse_inside_per_seed"), fmt="{:.3f}"),
    Claim(statement="with the fitted observation noise, the 95% predictive band covers at least 90% of held-out "
          "points inside the data",
          paper="not in the paper (Fig. 5 draws the interquartile range); calibration inside the data",
          where=f"not in the paper; the band it checks: {FIG5}",
          measure=_coverage("fitted"), region=at_least(0.9), control=WEIGHTS_ONLY, passing=_fitting,
          baseline=_coverage("none"), fmt="{:.3f}"),
]


if __name__ == "__main__":
    main(NAME)

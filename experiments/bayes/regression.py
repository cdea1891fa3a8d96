"""Bayes by Backprop on the toy regression curve: predictive uncertainty grows
away from the data, while a plain network has none to show.

    python run.py bbb-regression --preset quick     # 16 s (run.py list: measured seconds)
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

The predictive band adds observation noise to the weight draws. The paper's
likelihood noise (0.02) understates the data's: eps also enters inside the
sines, so std(y | x) is |f'(x)| 0.02 to first order, 0.0625 RMS over
[0, 0.5] (Monte Carlo). With it the 95% band covered 0.68 of held-out points
inside the data (weight uncertainty alone 0.40); with the noise fitted on the
training residuals (s = 0.0635) it covers 0.92 (50% band: 0.67, the noise is
heteroscedastic). Outside the data no band covers much (0.28-0.34 at 95%):
the extrapolated mean is off the curve by more than the spread grows
(`run.py bbb-regression --preset quick`, 3 seeds, 2-core CPU, 2026-12-02).
"""

from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from common import plots, stats
from common.config import require_at_least_one, require_numbers_representable, require_positive
from common.data.synthetic import toy_regression, toy_regression_mean
from common.experiment import Claim, Control, Results, at_least, at_most
from common.models import MLP
from common.train import Loop, epoch_batches, fit, new_state, seed_keys, supervised_step
from experiments.api import main
from research.bayes import bbb as bayes
from research.bayes import train as bayes_train
from research.bayes.noise import he_init

NAME = "bbb-regression"
STUDY = "bayes"
PAPER = "Blundell et al. 2015, Weight Uncertainty in Neural Networks (arXiv 1505.05424)"
REPRODUCES = "Figure 5: predictive median and interquartile range widen outside the training interval [0, 0.5]"

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
    """Training steps."""
    batch_size: int = 50
    """Examples per minibatch."""
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
    observation_noise: Literal["fitted", "likelihood", "none"] = "fitted"
    """Noise added to each predictive draw (the full predictive p(y | x)): `fitted`, N(0, s^2) with s the
    root-mean-square residual of the predictive mean on the training points (the maximum-likelihood
    homoscedastic noise, training data only); `likelihood`, the training likelihood's N(0, noise_std^2);
    `none`, weight uncertainty only. The coverage table shows all three."""
    num_heldout: int = 200
    """Fresh points from the same curve for the coverage of the 50% and 95% bands, inside [0, 0.5]
    and outside it (x in [-0.2, 0) and (0.5, 1.2])."""
    grid_points: int = 141
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
    make_data = jax.jit(toy_regression, static_argnums=1)  # one program for the training and held-out draws
    x, y = make_data(jax.random.key(config.seed), config.num_train, TRAIN_LOW, TRAIN_HIGH, config.noise_std)
    y = y[:, 0]
    grid = np.linspace(GRID_LOW, GRID_HIGH, config.grid_points, dtype=np.float32)[:, None]
    optimizer = optax.adam(config.learning_rate)
    loop = Loop(steps=config.steps, chunk=config.chunk)
    keys = seed_keys(config.seed + 1, config.seeds)
    sizes = (1, config.width, config.width, 1)
    init_bayes = bayes_train.init_fn(sizes, optimizer, config.sigma_init)

    bayes_out = fit(
        "bayes-by-backprop",
        init=init_bayes,
        step=bayes_train.elbo_step(
            optimizer, num_batches=config.num_train // config.batch_size, prior=make_prior(config),
            mode=config.mode, kl_estimator="monte_carlo", likelihood="gaussian", noise_std=config.noise_std,
        ),
        sample_batch=epoch_batches(config.batch_size), data=(x, y), loop=loop, keys=keys, session=session,
    )
    model = MLP((config.width, config.width), 1, activation="relu", init="he")

    def plain_init(key):
        params = he_init(key, sizes)  # what model.init_variables makes, drawn in one compiled loop
        return new_state(params, optimizer.init(params), key, {})

    def squared_error(pred, target):
        return jnp.mean(jnp.square(pred[:, 0] - target))

    plain_out = fit(
        "plain", init=plain_init, step=supervised_step(model, optimizer, loss=squared_error),
        sample_batch=epoch_batches(config.batch_size), data=(x, y), loop=loop, keys=keys, session=session,
    )

    # Every prediction in one program: predictive draws (runs, draws, points) with the plain sampler (whole
    # functions per draw) of the trained posterior and of the run-time control, the untrained posterior (init:
    # mu random, sigma = sigma_init everywhere; a ReLU net's output spread grows with |x| by itself, so "wider
    # outside" must beat it), at the training points, the grid and the held-out points of `coverage_rows`;
    # standard-normal observation noise; the plain network.
    draw_key, noise_key = jax.random.split(jax.random.key(config.seed + 2))
    key_in, key_out = jax.random.split(jax.random.key(config.seed + 3))
    heldout = {
        "inside [0, 0.5]": make_data(key_in, config.num_heldout, TRAIN_LOW, TRAIN_HIGH, config.noise_std),
        "outside (0.5, 1.2]": make_data(key_out, config.num_heldout, TRAIN_HIGH, GRID_HIGH, config.noise_std),
    }
    points = {"train": x, "grid": grid, **{region: x_h for region, (x_h, _) in heldout.items()}}

    @jax.jit
    def predict(bayes_params, plain_params, plain_state, x_Px1):
        params_R = jax.tree.map(lambda *leaves: jnp.concatenate(leaves),  # trained, then untrained
                                bayes_params, jax.vmap(init_bayes)(keys).params)
        functions = lax.map(  # a run at a time: (draws, points, width) activations per run
            lambda p: bayes.predictive_samples(p, x_Px1, draw_key, config.num_samples, "plain")[..., 0], params_R)
        # Observation noise (seeds, draws, points) of the grid's and of a held-out region's shape (both
        # regions take the same): the key's draw for that shape.
        noise = {shape: jax.random.normal(noise_key, (config.seeds, config.num_samples, shape))
                 for shape in {config.grid_points, config.num_heldout}}
        plain = jax.vmap(lambda p, s: model.apply(p, s, x_Px1)[0])(plain_params, plain_state)
        return functions, noise, plain[..., 0]

    all_points = np.concatenate([np.asarray(p) for p in points.values()])
    functions_RxDxP, unit_noise, plain_all = predict(
        bayes_out.state.params, plain_out.state.params, plain_out.state.model_state, all_points)
    functions_RxDxP, plain_all = np.asarray(functions_RxDxP), np.asarray(plain_all)
    bounds = np.cumsum([0] + [len(p) for p in points.values()])
    at = {name: slice(lo, hi) for name, lo, hi in zip(points, bounds[:-1], bounds[1:])}
    trained, untrained = functions_RxDxP[:config.seeds], functions_RxDxP[config.seeds:]

    def noise_scales(functions_SxDxN) -> dict[str, np.ndarray]:
        """Per seed, the predictive noise std of each noise model (`observation_noise`), from the draws at
        the training points."""
        residual_SxN = functions_SxDxN.mean(axis=1) - np.asarray(y)
        return {"fitted": np.sqrt(np.mean(np.square(residual_SxN), axis=1)),
                "likelihood": np.full(config.seeds, config.noise_std), "none": np.zeros(config.seeds)}

    def with_noise(draws_SxDxP, scale_S):
        return draws_SxDxP + scale_S[:, None, None] * np.asarray(unit_noise[draws_SxDxP.shape[-1]])

    scales = noise_scales(trained[..., at["train"]])
    bayes_draws = with_noise(trained[..., at["grid"]], scales[config.observation_noise])
    init_scales = noise_scales(untrained[..., at["train"]])
    init_draws = with_noise(untrained[..., at["grid"]], init_scales[config.observation_noise])
    plain_pred = plain_all[:, at["grid"]]

    grid_np = np.asarray(grid[:, 0])
    inside = _interval_mask(grid_np)
    truth = np.asarray(jax.jit(toy_regression_mean)(grid[:, 0]))
    results = Results()
    std = bayes_draws.std(axis=1)  # (seeds, grid)
    for name, draws in (("bayes", bayes_draws), ("init", init_draws)):
        s_SxP = draws.std(axis=1)
        results.arrays[f"{name}/std_ratio_per_seed"] = s_SxP[:, ~inside].mean(axis=1) / s_SxP[:, inside].mean(axis=1)
        median = np.median(draws, axis=1)
        results.arrays[f"{name}/rmse_inside_per_seed"] = np.sqrt(np.mean(np.square(median[:, inside] - truth[inside]),
                                                                         axis=1))
    ratio = results.arrays["bayes/std_ratio_per_seed"]
    median = np.median(bayes_draws, axis=1)
    results.arrays.update({
        "grid": grid_np, "truth": truth, "x_train": np.asarray(x[:, 0]), "y_train": np.asarray(y),
        "bayes/median": median, "bayes/q25": np.quantile(bayes_draws, 0.25, axis=1),
        "bayes/q75": np.quantile(bayes_draws, 0.75, axis=1), "bayes/q025": np.quantile(bayes_draws, 0.025, axis=1),
        "bayes/q975": np.quantile(bayes_draws, 0.975, axis=1), "bayes/std": std, "plain/prediction": plain_pred,
        "bayes/train_loss": bayes_out.curve("train/loss"), "plain/train_loss": plain_out.curve("train/loss"),
    })
    results.scalars.update({
        "bayes/std_ratio_outside_inside": float(np.mean(ratio)),
        "bayes/std_inside": float(std[:, inside].mean()), "bayes/std_outside": float(std[:, ~inside].mean()),
        "bayes/rmse_inside": float(np.mean(results.arrays["bayes/rmse_inside_per_seed"])),
        "plain/rmse_inside": float(np.sqrt(np.mean(np.square(plain_pred[:, inside] - truth[inside])))),
    })
    results.tables["Predictive spread (mean over seeds)"] = [
        {"network": "Bayes by Backprop", "std inside [0, 0.5]": results.scalars["bayes/std_inside"],
         "std outside": results.scalars["bayes/std_outside"], "outside / inside": float(np.mean(ratio)),
         "ratio per seed": " ".join(f"{r:.2f}" for r in ratio),
         "RMSE of median vs curve inside": results.scalars["bayes/rmse_inside"]},
        {"network": "untrained posterior (control)", "std inside [0, 0.5]": float(init_draws.std(axis=1)[:, inside].mean()),
         "std outside": float(init_draws.std(axis=1)[:, ~inside].mean()),
         "outside / inside": float(np.mean(results.arrays["init/std_ratio_per_seed"])),
         "ratio per seed": " ".join(f"{r:.2f}" for r in results.arrays["init/std_ratio_per_seed"]),
         "RMSE of median vs curve inside": float(np.mean(results.arrays["init/rmse_inside_per_seed"]))},
        {"network": "plain", "std inside [0, 0.5]": 0.0, "std outside": 0.0, "outside / inside": float("nan"),
         "ratio per seed": "", "RMSE of median vs curve inside": results.scalars["plain/rmse_inside"]},
    ]
    coverage = coverage_rows({region: (trained[..., at[region]], np.asarray(y_h[:, 0]))
                              for region, (_, y_h) in heldout.items()}, with_noise, scales)
    results.tables["Coverage of held-out points by the predictive bands (mean over seeds)"] = [
        {k: v for k, v in row.items() if k != "per seed"} for row in coverage]
    for row in coverage:
        results.arrays[f"coverage/{row['noise model']}/{row['region']}"] = row["per seed"]
    results.scalars["fitted_noise_std"] = float(np.mean(scales["fitted"]))
    results.scalars["data_noise_std_inside"] = float(data_noise_std(config))
    results.notes.append(
        f"Bayesian MLP 1-{config.width}-{config.width}-1, {config.prior} prior, {config.mode} sampling, "
        f"sigma_init {config.sigma_init} (rho = softplus^-1 of it), KL weight 1/M per minibatch (uniform over the "
        f"{config.num_train // config.batch_size} minibatches of an epoch), Monte-Carlo KL, {config.steps} Adam "
        f"steps; predictive from {config.num_samples} weight draws"
        + NOISE_NOTES[config.observation_noise].format(
            fitted=results.scalars["fitted_noise_std"], noise=config.noise_std,
            data=results.scalars["data_noise_std_inside"])
        + " The plain network is deterministic (no spread by construction: a unit test checks it).")
    return results


NOISE_NOTES = {
    "fitted": " plus N(0, s^2), s = {fitted:.3g} (mean over seeds) the root-mean-square residual of the predictive "
              "mean on the training points: the predictive variance is the spread of the weight draws' functions "
              "plus that noise. The likelihood's noise_std {noise} understates the data's own noise, because eps "
              "also enters inside the sines: the std of y given x, averaged (RMS) over [0, 0.5], is {data:.3g} "
              "(Monte Carlo).",
    "likelihood": " plus the likelihood's noise N(0, {noise}^2): the predictive variance is the spread of the "
                  "weight draws' functions plus the training likelihood's noise (the data's own std of y given x "
                  "on [0, 0.5] is {data:.3g} RMS, Monte Carlo: eps also enters inside the sines).",
    "none": ": weight uncertainty only (no observation noise; the data's own std of y given x on [0, 0.5] is "
            "{data:.3g} RMS, Monte Carlo).",
}


@partial(jax.jit, static_argnums=(0, 1, 2))
def data_noise_std(config: Config, points: int = 101, draws: int = 4000) -> jax.Array:
    """RMS over x in [0, 0.5] of std(y | x) of the generating process (Monte Carlo over eps at fixed x):
    what a calibrated predictive's noise has to match inside the data."""
    x_P = jnp.linspace(TRAIN_LOW, TRAIN_HIGH, points)
    eps_DxP = config.noise_std * jax.random.normal(jax.random.key(config.seed + 4), (draws, points))
    y_DxP = toy_regression_mean(x_P + eps_DxP)  # y = f(x + eps): eps enters the sines and beside them
    return jnp.sqrt(jnp.mean(jnp.var(y_DxP, axis=0)))


def coverage_rows(regions: dict, with_noise, scales: dict) -> list[dict]:
    """How often held-out points (fresh noise) fall inside the central 50% and 95% predictive
    bands, inside the training interval and outside it (where the curve is extrapolated), for
    every noise model (`scales`: per-seed noise std of each). `regions`: per region, the draws
    of weight uncertainty alone at its points (seeds, draws, points) and the points' y."""
    rows = []
    for region, (weights_only, y_h) in regions.items():
        for model, scale_S in scales.items():
            draws = with_noise(weights_only, scale_S)
            row = {"noise model": model, "region": region, "noise std": float(np.mean(scale_S))}
            for level in (0.5, 0.95):
                lo, hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2], axis=1)
                per_seed = np.mean((lo <= y_h) & (y_h <= hi), axis=1)
                row[f"{level:.0%} band covers"] = float(np.mean(per_seed))
                if level == 0.95:
                    row["per seed"] = per_seed
            rows.append(row)
    return rows


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
    ax.fill_between(a["grid"], a["bayes/q025"][0], a["bayes/q975"][0], color="C3", alpha=0.12, lw=0,
                    label="95% band")
    ax.fill_between(a["grid"], a["bayes/q25"][0], a["bayes/q75"][0], color="C3", alpha=0.3, lw=0,
                    label="interquartile range")
    axes[0, 1].plot(a["grid"], a["plain/prediction"][0], color="C0", label="prediction")
    for ax in axes[0]:
        ax.legend(loc="lower right")
    plots.save(fig, directory, "regression", **a)


def _per_seed(name: str, what: str):
    return lambda r: stats.mean(r.arrays[f"{name}/{what}_per_seed"])


INSIDE = "inside [0, 0.5]"


def _synthetic(ratio: float, rmse: float, coverage: float) -> Results:
    spread = np.linspace(-1, 1, 3)
    return Results(arrays={"bayes/std_ratio_per_seed": ratio * (1 + 0.1 * spread),
                           "bayes/rmse_inside_per_seed": rmse * (1 + 0.1 * spread),
                           f"coverage/fitted/{INSIDE}": np.clip(coverage + 0.01 * spread, 0, 1)})


def _coverage(model: str):
    return lambda r: stats.mean(r.arrays[f"coverage/{model}/{INSIDE}"])


# A homoscedastic predictive (the same spread everywhere, ratio 1) that does not fit the curve (RMSE of a
# constant prediction, about the curve's std ~0.3) is what an untrained network looks like to these claims;
# its band, centred off the curve, covers few held-out points.
UNTRAINED = Control(name="untrained posterior (homoscedastic spread, no fit)", results=lambda: _synthetic(1.0, 0.3, 0.3))
WEIGHTS_ONLY = Control(name="a band of weight uncertainty alone, narrower than the data's noise",
                       results=lambda: _synthetic(20.0, 0.02, 0.3))


def _fitting() -> Results:
    return _synthetic(20.0, 0.02, 0.95)


CLAIMS = [
    Claim(
        statement="Bayesian predictive std outside [0, 0.5] is at least 3x the std inside (x in [-0.2, 1.2])",
        paper="spread grows away from the data (Fig. 5)",
        measure=_per_seed("bayes", "std_ratio"),
        region=at_least(3.0),
        control=UNTRAINED,
        passing=_fitting,
        baseline=_per_seed("init", "std_ratio"),
        fmt="{:.2f}",
    ),
    Claim(
        statement="inside the data the predictive median follows the curve (RMSE against the true mean <= 0.05)",
        paper="fits the data (Fig. 5)",
        measure=_per_seed("bayes", "rmse_inside"),
        region=at_most(0.05),
        control=UNTRAINED,
        passing=_fitting,
        baseline=_per_seed("init", "rmse_inside"),
        fmt="{:.3f}",
    ),
    Claim(
        statement="with the fitted observation noise, the 95% predictive band covers at least 90% of held-out points "
        "inside the data",
        paper="not in the paper (Fig. 5 draws the interquartile range); calibration inside the data",
        measure=_coverage("fitted"),
        region=at_least(0.9),
        control=WEIGHTS_ONLY,
        passing=_fitting,
        baseline=_coverage("none"),
        fmt="{:.3f}",
    ),
]


if __name__ == "__main__":
    main(NAME)

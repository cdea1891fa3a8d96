"""Mode collapse and its cures on Gaussian mixtures (Metz et al. 2016; Srivastava et al. 2017, VEEGAN).

    python run.py gan-mixture --preset quick        # the ring, scaled down
    python run.py gan-mixture --preset quick-grid   # the same on the 5 x 5 grid
    python run.py gan-mixture --preset paper        # the unrolled-GAN setup, both data sets, 25k steps (a GPU)

8 Gaussians on a ring of radius 2 and the 5 x 5 grid, std 0.02 (the paper's). Each method trains with its
paper's recipe (the report's first table). A sample is high quality (HQ) within 3 std of its nearest mode;
a mode is *covered* with at least `min_count` HQ samples, counted only when the HQ share is at least
`hq_floor`; collapse is few modes AND mostly good samples (covered <= 2, HQ >= 0.5). An untrained N(0, I)
generator and the data itself are scored in the same run. The quick presets shrink the networks and steps
and train the Metz-recipe methods at equal rates, alternating: docs/claims/gan.md says why.
The spectrum of each method's game along training is gan-eigen (experiments/gan/eigen.py).
"""

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from common import plots, records, stats
from common.experiment import Claim, Control, NotRunAtPreset, Results, above, at_least
from experiments.api import main
from experiments.gan import training
from experiments.gan.training import CENTERS, DATASETS, Coverage, Fit
from research.gan.methods import METHODS, recipe, same_run

NAME = "gan-mixture"
STUDY = "gan"
PAPER = ("Metz et al. 2016, Unrolled GANs; Srivastava et al. 2017, VEEGAN (Table 1); "
         "Gulrajani et al. 2017 (WGAN-GP); Mescheder et al. 2017/2018 (consensus, R1)")
REPRODUCES = ("modes covered and % high-quality samples on the 8-mode ring and 5x5 grid (std 0.02) against an "
              "untrained noise generator; VEEGAN: ring GAN 1 / 99.3, unrolled 7.6 / 35.6; grid GAN 3.3 / 0.5, "
              "unrolled 23.6 / 16")

MODE_COUNT = {"ring": 8, "grid": 25}
VEEGAN = {("ring", "gan"): "1 / 99.3", ("ring", "unrolled"): "7.6 / 35.6", ("grid", "gan"): "3.3 / 0.5",
          ("grid", "unrolled"): "23.6 / 16"}  # VEEGAN Table 1: modes captured / % high quality
COLLAPSE_MODES, COLLAPSE_HQ = 2, 0.5  # "few modes AND most samples high quality"


@dataclass(frozen=True)
class Config:
    """GANs on Gaussian mixtures: covered modes, HQ share and collapse, each method with its paper's recipe."""

    seeds: int = 5
    """Independent seeds per method, trained together in one vmapped program."""
    datasets: tuple[str, ...] = DATASETS
    """Subset of: ring grid."""
    methods: tuple[str, ...] = METHODS
    """Subset of: gan nsgan wgan-gp r1 unrolled consensus."""
    steps: int = 25_000
    """Generator steps (WGAN-GP: each after `critic_steps` critic steps)."""
    batch_size: int = 512
    """Examples per minibatch."""
    z_dim: int = 256
    """Dimension of the generator's standard normal input z."""
    hidden: int = 128
    """Units in each of the two tanh layers of both networks."""
    init: Literal["xavier", "orthogonal"] = "orthogonal"
    """Both networks' weights: orthogonal times `init_gain` (the unrolled-GAN notebook's
    tf.orthogonal_initializer(1.4)) or Xavier/Glorot normal; biases zero."""
    init_gain: float = 1.4
    """Gain of the orthogonal init (the notebook's 1.4)."""
    lr_g: float = 1e-3
    """Generator's Adam learning rate in Metz's setup (all methods but WGAN-GP)."""
    lr_d: float = 1e-4
    """Discriminator's Adam learning rate in Metz's setup (all methods but WGAN-GP)."""
    beta1: float = 0.5
    """Adam's beta1 in Metz's setup (beta2 0.999)."""
    update: Literal["simultaneous", "alternating"] = "simultaneous"
    """Metz's setup: simultaneous as in the unrolled-GAN notebook; alternating moves the discriminator first."""
    wgan_lr: float = 1e-4
    """WGAN-GP's Adam learning rate, both players (Gulrajani et al.)."""
    wgan_betas: tuple[float, float] = (0.0, 0.9)
    """WGAN-GP's Adam betas, both players (Gulrajani et al.)."""
    critic_steps: int = 5
    """WGAN-GP critic steps per generator step."""
    std: float = 0.02
    """Standard deviation of each mixture component (the paper's 0.02)."""
    unroll_steps: int = 5
    """Discriminator steps the unrolled generator looks ahead through (Metz et al.'s 5)."""
    gp_weight: float = 10.0
    """WGAN-GP weight lambda (Gulrajani et al.), target norm 1."""
    r1_gamma: float = 1.0
    """R1 strength gamma (paper convention gamma/2 E||grad D||^2)."""
    consensus_gamma: float = 1.0
    """Consensus strength gamma: the field v - gamma grad(1/2 ||v||^2) (Mescheder et al. 2017)."""
    eval_samples: int = 2500
    """Generated samples for the metrics (VEEGAN's 2500)."""
    min_count: int = 10
    """HQ samples a mode needs to count as covered (0.4% of 2500; noise puts ~0.6 per ring mode at std 0.02)."""
    hq_floor: float = 0.1
    """HQ share below which a generator covers no mode (a diffuse cloud)."""
    lr_ratios: tuple[float, ...] = ()
    """lr_D / lr_G values at which the plain GAN is also trained (the two-time-scale grid; lr_G fixed)."""
    r1_gammas: tuple[float, ...] = ()
    """R1 strengths at which R1 is also trained (a gamma sweep)."""
    eval_every: int = 2500
    """Generator steps between evaluations of the mode metrics."""
    chunk: int = 500
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    blowup: float = 1e4
    """A seed whose parameter norm exceeds this counts as diverged (stopped, step recorded)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        training.validate(self, {"datasets": DATASETS, "methods": METHODS})
        if any(not v > 0 for v in self.lr_ratios + self.r1_gammas):
            raise ValueError(f"lr_ratios and r1_gammas must be positive (got {self.lr_ratios}, {self.r1_gammas})")

    def unused_fields(self) -> dict[str, str]:
        return training.unused_by_method(self)


SMALL = {"batch_size": 128, "z_dim": 16, "hidden": 32, "init": "xavier", "lr_g": 2e-3, "lr_d": 2e-3,
         "update": "alternating", "eval_every": 500, "chunk": 500, "seeds": 4, "lr_ratios": (0.1, 1.0),
         "r1_gammas": (0.1, 10.0)}
PRESETS = {
    "quick": Config(datasets=("ring",), steps=2000, methods=("gan", "nsgan", "wgan-gp", "unrolled"), **SMALL),
    "quick-grid": Config(datasets=("grid",), steps=3000, **SMALL),
    "paper": Config(eval_every=2500, chunk=500, lr_ratios=(0.1, 0.3, 1.0, 3.0), r1_gammas=(0.1, 1.0, 10.0)),
}


class MethodRun(NamedTuple):
    """One method on one data set: the mode metrics at each evaluation, seed 0's final samples, divergence."""

    eval_step: np.ndarray  # (points,)
    modes: np.ndarray  # (points, seeds): VEEGAN's count, >= 1 HQ sample
    high_quality: np.ndarray
    covered: np.ndarray
    kl: np.ndarray
    hits: np.ndarray  # (points, seeds, modes)
    samples: np.ndarray  # (eval_samples, 2)
    diverged_at: np.ndarray  # (seeds,), -1 where never


class Finals(NamedTuple):
    """What the coverage claims read: covered modes and HQ share at each evaluation (points, seeds)."""

    covered: np.ndarray
    high_quality: np.ndarray


class SweepFinal(NamedTuple):
    """A grid point's final covered modes, HQ share and KL, (1, seeds) each."""

    covered: np.ndarray
    high_quality: np.ndarray
    kl: np.ndarray


class GridPoint(NamedTuple):
    """A point of the lr_D / lr_G or gamma grid: the method, the axis, its tag in names, the value, the recipe."""

    method: str
    axis: str
    tag: str
    value: float
    recipe: object

    def fit_name(self, dataset: str) -> str:
        return f"{dataset}-{self.method}-{self.tag}{self.value:g}"


def grid_points(config: Config) -> list[GridPoint]:
    """The plain GAN against lr_D / lr_G and R1 against gamma, each at the config's other values."""
    gan, r1 = recipe("gan", config), recipe("r1", config)
    return ([GridPoint("gan", "lr_D / lr_G", "ratio", r, gan._replace(lr_d=config.lr_g * r)) for r in config.lr_ratios]
            + [GridPoint("r1", "R1 gamma", "gamma", g, r1._replace(strength=g)) for g in config.r1_gammas])


def fits_of(config: Config, dataset: str) -> list[Fit]:
    """Each method's run, then the grid points (one equal to its method's run is that run, not trained twice)."""
    fits = [Fit(f"{dataset}-{method}", method, recipe(method, config)) for method in config.methods]
    return fits + [Fit(p.fit_name(dataset), p.method, p.recipe) for p in grid_points(config)
                   if p.method not in config.methods or not same_run(p.recipe, recipe(p.method, config))]


class Centers(NamedTuple):
    centers: np.ndarray  # (modes, 2)


def summary(finals, seeds: int) -> dict:
    """A table row's metrics: final values, mean [95% t] over seeds."""
    covered, high_quality = finals.covered[-1], finals.high_quality[-1]
    collapsed = (covered <= COLLAPSE_MODES) & (high_quality >= COLLAPSE_HQ)
    return {"covered modes (95%)": f"{stats.mean(covered):.3g}", "% HQ": f"{stats.mean(100 * high_quality):.3g}",
            "KL to uniform": f"{stats.mean(finals.kl[-1]):.3g}", "collapsed seeds": f"{int(collapsed.sum())} / {seeds}"}


def controls(config: Config, dataset: str, results: Results) -> list[dict]:
    """The untrained N(0, I) generator and the data itself, scored like the methods."""
    rows = []
    for kind, label in (("noise", "(untrained N(0, I) generator)"), ("data", "(the data)")):
        control = training.reference(config, dataset, kind)
        records.put(results, records.key(dataset, kind), control)
        rows.append({"data": dataset, "method": label, **summary(control, config.seeds),
                     "VEEGAN modes": f"{stats.mean(control.modes[-1]):.3g}"})
    return rows


def methods(config: Config, dataset: str, trained: dict, results: Results) -> list[dict]:
    """Each method's curves and final samples into `results`; its table row."""
    rows = []
    for method in config.methods:
        out, coverage, samples = trained[f"{dataset}-{method}"]
        records.put(results, records.key(dataset, method),
                    MethodRun(np.asarray(out.history["eval_step"]), *coverage, samples, out.diverged_at))
        rows.append({"data": dataset, "method": method, **summary(coverage, config.seeds),
                     "VEEGAN modes": f"{stats.mean(coverage.modes[-1]):.3g}",
                     "VEEGAN modes / %HQ": VEEGAN.get((dataset, method), ""),
                     "diverged (step)": ", ".join(str(s) for s in out.diverged_at if s >= 0) or "none",
                     "steps/s": out.steps_per_second})
    return rows


def sweeps(config: Config, dataset: str, trained: dict, results: Results) -> list[dict]:
    """The grids' final covered modes, HQ share and KL (a point equal to its method's run reads that run)."""
    rows = []
    for point in grid_points(config):
        coverage = (trained.get(point.fit_name(dataset)) or trained[f"{dataset}-{point.method}"]).coverage
        final = SweepFinal(coverage.covered[-1:], coverage.high_quality[-1:], coverage.kl[-1:])
        records.put(results, records.key(dataset, f"sweep/{point.tag}/{point.value:g}"), final)
        rows.append({"data": dataset, "method": point.method, "swept": point.axis, "value": point.value,
                     **summary(final, config.seeds)})
    return rows


def run(config: Config, session) -> Results:
    results = Results()
    results.tables["Each method's recipe"] = [{"method": m, "recipe": recipe(m, config).describe}
                                              for m in config.methods]
    rows, sweep_rows = [], []
    for dataset in config.datasets:
        rows += controls(config, dataset, results)
        trained = training.train_all(config, dataset, fits_of(config, dataset), session)
        rows += methods(config, dataset, trained, results)
        sweep_rows += sweeps(config, dataset, trained, results)
        records.put(results, dataset, Centers(np.asarray(CENTERS[dataset]())))
    results.tables[f"Modes and high-quality samples after {config.steps} steps (mean [95% t interval] over "
                   f"{config.seeds} seeds, {config.eval_samples} samples, std {config.std})"] = rows
    if sweep_rows:
        results.tables[f"Sweeps (lr_G {config.lr_g:g}; final values, mean [95% t] over seeds)"] = sweep_rows
    results.notes.append(
        f"Covered modes: modes with >= {config.min_count} high-quality samples (within 3 std), counted only when "
        f"the HQ share is >= {config.hq_floor:g}; VEEGAN modes: >= 1 HQ sample, no floor (VEEGAN's own count). "
        f"Collapsed: covered <= 2 AND HQ share >= 0.5. Setting: hidden {config.hidden}, z {config.z_dim}, batch "
        f"{config.batch_size}, std {config.std}, {config.steps} generator steps.")
    return results


def present(results: Results, prefix: str, record_type):
    """The record stored under `prefix`, or None where this run did not make it."""
    try:
        return records.get(results, prefix, record_type)
    except KeyError:
        return None


def figures(results: Results, directory) -> None:
    runs = {(d, m): run for d in DATASETS for m in METHODS
            if (run := present(results, records.key(d, m), MethodRun)) is not None}
    datasets = list(dict.fromkeys(d for d, _ in runs))
    methods = list(dict.fromkeys(m for _, m in runs))
    fig, axes = plots.new_figure(len(methods), len(datasets), width=2.6, height=2.6)
    for (dataset, method), run in runs.items():
        ax, centers = axes[datasets.index(dataset), methods.index(method)], results.arrays[records.key(dataset, "centers")]
        limit = np.abs(centers).max() + 1.5
        ax.scatter(run.samples[:, 0], run.samples[:, 1], s=1, alpha=0.3, color="C0", rasterized=True)
        ax.scatter(centers[:, 0], centers[:, 1], s=12, marker="x", color="C3")
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[], aspect="equal",
               title=f"{dataset}: {method} (seed 0)\ncovered {run.covered[-1, 0]:.0f}, "
                     f"HQ {100 * run.high_quality[-1, 0]:.0f}%")
    plots.save(fig, directory, "samples", **{f"{d}/{m}/samples": run.samples for (d, m), run in runs.items()})

    fig, axes = plots.new_figure(3, len(datasets), width=3.6, height=3.0)
    for row, dataset in enumerate(datasets):
        noise = records.get(results, records.key(dataset, "noise"), Coverage)
        for ax, metric, label in zip(axes[row], ("covered", "high_quality", "kl"),
                                     ("covered modes", "high-quality share", "KL(modes || uniform) [nats]")):
            for (d, method), run in runs.items():
                if d == dataset:
                    plots.seed_band(ax, run.eval_step, getattr(run, metric), method)
            ax.axhline(np.nanmean(getattr(noise, metric)), color="k", ls=":", lw=0.8, label="N(0, I) noise")
            ax.set(xlabel="generator step", ylabel=label, title=dataset)
        axes[row, 0].legend(loc="best", ncol=2, fontsize=6)
    plots.save(fig, directory, "modes_over_training", **{f"{d}/{m}/{metric}": getattr(run, metric)
               for (d, m), run in runs.items() for metric in ("eval_step", "covered", "high_quality", "kl")})

    fig, axes = plots.new_figure(len(methods), len(datasets), width=2.8, height=2.6)
    for (dataset, method), run in runs.items():
        ax = axes[datasets.index(dataset), methods.index(method)]
        ax.stackplot(run.eval_step, (run.hits[:, 0, :] / run.samples.shape[0]).T, linewidth=0)
        ax.set(ylim=(0, 1), xlabel="generator step", ylabel="share of samples (HQ, by mode)",
               title=f"{dataset}: {method}, seed 0")
    plots.save(fig, directory, "mass_per_mode", **{f"{d}/{m}/hits": run.hits for (d, m), run in runs.items()})


# --- claims: measures, and the cases the contract test runs them on ---


def finals(results: Results, dataset: str, method: str) -> Finals:
    return records.get(results, records.key(dataset, method), Finals)


def trained(dataset: str, methods: tuple[str, ...], measure):
    """`measure`, not run where the config left `dataset` or one of `methods` out: the preset that runs it named."""
    preset = "quick-grid" if dataset == "grid" else "quick"

    def guarded(r: Results):
        absent = [m for m in methods if present(r, records.key(dataset, m), Finals) is None]
        if absent:
            raise NotRunAtPreset(preset, f"this run has no {', '.join(absent)} covered on the {dataset}")
        return measure(r)

    return guarded


def covered(dataset: str, method: str):
    return lambda r: stats.mean(finals(r, dataset, method).covered[-1])


def more_covered(dataset: str, better: str, worse: str):
    return lambda r: stats.paired_difference(finals(r, dataset, better).covered[-1],
                                             finals(r, dataset, worse).covered[-1])


def collapse_margin(dataset: str, method: str):
    """min((2 - covered) / M, HQ share - 0.5), each a mean over seeds: >= 0 is collapse (both hold)."""

    def measure(r: Results) -> stats.Measurement:
        end = finals(r, dataset, method)
        few = stats.mean((COLLAPSE_MODES - end.covered[-1]) / MODE_COUNT[dataset])
        return stats.smallest(few, stats.mean(end.high_quality[-1] - COLLAPSE_HQ))

    return measure


def around(dataset: str, means: dict[str, tuple[float, float]], seeds: int = 5) -> Results:
    """Per-seed finals around means: `means` maps a method to (covered modes, HQ share)."""
    results, offsets = Results(), np.linspace(-1, 1, seeds)
    for method, (modes, high_quality) in means.items():
        records.put(results, records.key(dataset, method),
                    Finals(np.array([modes + 0.5 * offsets]), np.array([high_quality + 0.02 * offsets])))
    return results


def control_in_place(dataset: str, method: str, kind: str):
    """A run-time control ("noise": an untrained N(0, I) generator; "data": the data) in the method's place."""

    def results() -> Results:
        out, control = Results(), training.reference(PRESETS["quick"], dataset, kind)
        records.put(out, records.key(dataset, method), Finals(control.covered, control.high_quality))
        return out

    return results


def baseline(dataset: str, kind: str, measure_for):
    """A claim's measure applied to the run's own control samples (noise or data) in every method's place."""

    def measure(r: Results):
        control, swapped = finals(r, dataset, kind), Results()
        for method in METHODS:
            records.put(swapped, records.key(dataset, method), control)
        return measure_for(swapped)

    return measure


def covers_at_least(dataset: str, method: str, threshold: float, paper: str) -> Claim:
    return Claim(
        statement=f"{dataset}: {method} covers >= {threshold:g} of {MODE_COUNT[dataset]} modes (>= min_count HQ "
        "samples each, HQ share >= floor; mean over seeds)",
        paper=paper, measure=trained(dataset, (method,), covered(dataset, method)), region=at_least(threshold),
        control=Control(name="untrained N(0, I) generator", results=control_in_place(dataset, method, "noise")),
        passing=lambda: around(dataset, {method: (threshold + 1, 0.5)}),
        baseline=baseline(dataset, "noise", covered(dataset, method)), fmt="{:.2f}")


def beats_plain(dataset: str, paper: str) -> Claim:
    return Claim(
        statement=f"{dataset}: unrolled covers more modes than the plain GAN (paired difference over seeds)",
        paper=paper, measure=trained(dataset, ("unrolled", "gan"), more_covered(dataset, "unrolled", "gan")),
        region=above(0.0),
        control=Control(name="the unrolled GAN against itself (A/A)",
                        results=lambda: around(dataset, {"unrolled": (7.0, 0.5), "gan": (7.0, 0.5)})),
        passing=lambda: around(dataset, {"unrolled": (7.0, 0.5), "gan": (1.0, 0.5)}), fmt="{:+.2f}")


def plain_collapses(dataset: str, paper: str) -> Claim:
    return Claim(
        statement=f"{dataset}: the plain GAN collapses: covers <= {COLLAPSE_MODES} modes AND >= {COLLAPSE_HQ:.0%} of "
        f"its samples are high quality (min of (2 - covered) / {MODE_COUNT[dataset]} and HQ - 0.5, >= 0)",
        paper=paper, measure=trained(dataset, ("gan",), collapse_margin(dataset, "gan")), region=at_least(0.0),
        control=Control(name="the data itself (all modes, ~100% HQ)", results=control_in_place(dataset, "gan", "data")),
        passing=lambda: around(dataset, {"gan": (1.0, 0.95)}),
        baseline=baseline(dataset, "data", collapse_margin(dataset, "gan")), fmt="{:+.3f}")


CLAIMS = [
    covers_at_least("ring", "unrolled", 6, "7.6 (VEEGAN)"),
    covers_at_least("ring", "wgan-gp", 6, "8, 7, 8 with its recipe (review)"),
    beats_plain("ring", "7.6 - 1 = 6.6 (VEEGAN)"),
    plain_collapses("ring", "1 mode, 99.3% HQ (VEEGAN)"),
    covers_at_least("grid", "unrolled", 20, "23.6 (VEEGAN)"),
    beats_plain("grid", "23.6 - 3.3 = 20.3 (VEEGAN)"),
]


if __name__ == "__main__":
    main(NAME)

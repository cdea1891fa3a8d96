"""Mode collapse and its cures on Gaussian mixtures (Metz et al. 2016; Srivastava et al. 2017, VEEGAN).

    python run.py gan-mixture --preset quick        # the ring, scaled down
    python run.py gan-mixture --preset quick-grid   # the same on the 5 x 5 grid
    python run.py gan-mixture --preset paper        # the unrolled-GAN setup, both data sets, 25k steps (a GPU)

8 Gaussians on a ring and the 5 x 5 grid, std 0.02. Each method trains with its paper's recipe (the
report's first table). A sample is high quality (HQ) within 3 std of its nearest mode; a mode is covered
with >= `min_count` HQ samples, counted only at an HQ share >= `hq_floor`; collapse is covered <= 2 AND
HQ >= 0.5; hopping (Metz et al. 2016, Figure 1) is the plain GAN's held mode changing along a separate run
at lr_D = lr_G / 10. docs/notes/gan.md: the quick settings and the searches behind them. The spectrum of
each method's game along training is gan-eigen (experiments/gan/eigen.py).
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from common import config as checks
from common import plots, records
from common.experiment import Claim, Control, Results, above
from experiments.api import main
from experiments.gan import hopping
from experiments.gan.training import Fit, train_all
from research.gan import methods as gan_methods
from research.gan.methods import LABELS, METHODS, recipe, same_run
from research.gan.metrics import CENTERS, DATASETS, Coverage, reference
from research.gan.mode_claims import (
    against_itself,
    around,
    baseline,
    collapses,
    control_in_place,
    share_of_seeds,
)
from research.gan.modes import COLLAPSE, MODE_COUNT, TRAINED_HQ, Centers, Finals, MethodRun, summary
from research.gan.optional_records import present
from research.gan.sweeps import grid_points

NAME = "gan-mixture"
STUDY = "gan"
PAPER = ("Metz et al. 2016, Unrolled GANs; Srivastava et al. 2017, VEEGAN (Table 1); "
         "Gulrajani et al. 2017 (WGAN-GP); Mescheder et al. 2017/2018 (consensus, R1)")
REPRODUCES = ("modes covered and % high-quality samples on the 8-mode ring and 5x5 grid (std 0.02) against an "
              "untrained noise generator; VEEGAN: ring GAN 1 / 99.3, unrolled 7.6 / 35.6; grid GAN 3.3 / 0.5, "
              "unrolled 23.6 / 16")

VEEGAN_TABLE1 = {("ring", "gan"): (1, 99.3), ("ring", "unrolled"): (7.6, 35.6), ("grid", "gan"): (3.3, 0.5),
                 ("grid", "unrolled"): (23.6, 16)}  # Srivastava et al. 2017, Table 1: modes captured, % high quality
VEEGAN_WHERE = "Srivastava et al. 2017 (VEEGAN), Table 1 (Sec. 5.1)"


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
    """WGAN-GP's Adam learning rate, both players (Gulrajani et al.'s 2-D script, gan_toy.py)."""
    wgan_betas: tuple[float, float] = (0.5, 0.9)
    """WGAN-GP's Adam betas, both players (gan_toy.py's (0.5, 0.9))."""
    critic_steps: int = 5
    """WGAN-GP critic steps per generator step."""
    std: float = 0.02
    """Standard deviation of each mixture component (the paper's 0.02)."""
    unroll_steps: int = 5
    """Discriminator steps the unrolled generator looks ahead through (Metz et al.'s 5)."""
    gp_weight: float = 0.1
    """WGAN-GP weight lambda, target norm 1 (gan_toy.py's 0.1 for 2-D data; 10 in the paper's images)."""
    r1_gamma: float = 1.0
    """R1 strength gamma (paper convention gamma/2 E||grad D||^2)."""
    consensus_gamma: float = 1.0
    """Consensus strength gamma: the field v - gamma grad(1/2 ||v||^2) (Mescheder et al. 2017)."""
    consensus_lr: float = 1e-4
    """Consensus's RMSProp learning rate, both players (Mescheder et al. 2017 trained it with RMSProp)."""
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
    hop_steps: int = 25_000
    """Generator steps of the plain GAN's mode-hopping run (the config's networks and update order); 0: none."""
    hop_lr_g: float = 1e-3
    """Generator learning rate of the hopping run; its discriminator's is a tenth (Metz et al.'s ratio)."""
    hop_seeds: int = 8
    """Seeds of the hopping run."""
    hop_floor: float = 0.01
    """Share of all samples the top mode needs, besides most of the HQ samples, to count as the held mode."""
    eval_every: int = 500
    """Generator steps between evaluations of the mode metrics."""
    chunk: int = 500
    """Steps per compiled lax.scan (the host sees metrics and may checkpoint once per chunk)."""
    blowup: float = 1e4
    """A seed whose parameter norm exceeds this counts as diverged (stopped, step recorded)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        gan_methods.check_fields(self, {"datasets": DATASETS, "methods": METHODS})
        checks.require_non_negative(self, ("hop_steps",))
        checks.require_at_least_one(self, ("hop_seeds",))
        checks.require_positive(self, tuple(f for f in ("hop_lr_g", "lr_ratios", "r1_gammas") if getattr(self, f)))
        checks.require_in_range(self, ("hop_floor",), 0.0, 1.0, open_low=True)

    def unused_fields(self) -> dict[str, str]:
        hop = {f: "--hop-steps 0 trains no hopping run" for f in ("hop_lr_g", "hop_seeds", "hop_floor")}
        return gan_methods.unused_fields(self) | (hop if not self.hop_steps else {})


SMALL = {"batch_size": 128, "z_dim": 16, "hidden": 32, "init": "xavier", "lr_g": 2e-3, "lr_d": 2e-3,
         "update": "alternating", "eval_every": 500, "chunk": 500, "seeds": 4, "wgan_lr": 1e-3,
         "consensus_lr": 2e-3}
PRESETS = {  # quick: the hopping run replaces the lr_D / lr_G and R1 gamma grids (quick-grid and paper keep them)
    "quick": Config(datasets=("ring",), steps=2000, methods=("gan", "nsgan", "wgan-gp", "unrolled"), hop_steps=10_000,
                    hop_seeds=12, hop_lr_g=5e-3, **SMALL),
    "quick-grid": Config(datasets=("grid",), steps=3000, hop_steps=0, lr_ratios=(0.1, 1.0), r1_gammas=(0.1, 10.0),
                         **SMALL),
    "paper": Config(lr_ratios=(0.1, 0.3, 1.0, 3.0), r1_gammas=(0.1, 1.0, 10.0)),
}


def veegan(dataset: str, method: str, form: str) -> str:
    """VEEGAN Table 1's modes and % HQ of a method in `form`, or "" where the table has none."""
    numbers = VEEGAN_TABLE1.get((dataset, method))
    return form.format(*numbers) if numbers else ""


def fits_of(config: Config, dataset: str) -> list[Fit]:
    """Each method's run, the grid points (one equal to its method's run is that run, not trained twice) and
    the hopping run."""
    fits = [Fit(f"{dataset}-{method}", method, recipe(method, config)) for method in config.methods]
    fits += [Fit(f"{dataset}-{p.method}-{p.name}", p.method, p.recipe) for p in grid_points(config)
             if p.method not in config.methods or not same_run(p.recipe, recipe(p.method, config))]
    return fits + hopping.fits(config, dataset)


def controls(config: Config, dataset: str, results: Results) -> list[dict]:
    """The untrained N(0, I) generator and the data itself, scored like the methods."""
    rows = []
    for kind, label in (("noise", "(untrained N(0, I) generator)"), ("data", "(the data)")):
        control = reference(config, dataset, kind)
        records.put(results, records.key(dataset, kind), control)
        rows.append({"data": dataset, "method": label, **summary(control, MODE_COUNT[dataset])})
    return rows


def methods(config: Config, dataset: str, trained: dict, results: Results) -> list[dict]:
    """Each method's curves and final samples into `results`; its table row."""
    rows = []
    for method in config.methods:
        out, coverage, samples = trained[f"{dataset}-{method}"]
        records.put(results, records.key(dataset, method),
                    MethodRun(np.asarray(out.history["eval_step"]), *coverage, samples, out.diverged_at))
        trained_here = np.nanmean(coverage.high_quality[-1]) >= TRAINED_HQ
        rows.append({"data": dataset, "method": method, **summary(coverage, MODE_COUNT[dataset]),
                     "VEEGAN modes / %HQ": veegan(dataset, method, "{:g} / {:g}"),
                     "trained at this budget": "yes" if trained_here else f"no (HQ < {TRAINED_HQ:.0%})",
                     "diverged (step)": ", ".join(str(s) for s in out.diverged_at if s >= 0) or "none"})
    return rows


def sweeps(config: Config, dataset: str, trained: dict, results: Results) -> list[dict]:
    """The grids' final covered modes, HQ share and KL (a point equal to its method's run reads that run)."""
    rows = []
    for point in grid_points(config):
        coverage = (trained.get(f"{dataset}-{point.method}-{point.name}") or trained[f"{dataset}-{point.method}"]).coverage
        final = Finals(coverage.covered[-1:], coverage.high_quality[-1:], coverage.kl[-1:])
        records.put(results, records.key(dataset, f"sweep/{point.name}"), final)
        rows.append({"data": dataset, "method": point.method, "swept": point.axis, "value": point.value,
                     **summary(final, MODE_COUNT[dataset])})
    return rows


def run(config: Config, session) -> Results:
    results = Results()
    results.tables["Each method's recipe"] = [{"method": m, "recipe": recipe(m, config).describe}
                                              for m in config.methods]
    rows, sweep_rows, hop_rows = [], [], []
    for dataset in config.datasets:
        rows += controls(config, dataset, results)
        trained = train_all(config, dataset, fits_of(config, dataset), session)
        rows += methods(config, dataset, trained, results)
        sweep_rows += sweeps(config, dataset, trained, results)
        hop_rows += hopping.stage(config, dataset, trained, results)
        records.put(results, dataset, Centers(np.asarray(CENTERS[dataset]())))
    results.tables[f"Modes and high-quality samples after {config.steps} steps ({config.seeds} seeds, "
                   f"{config.eval_samples} samples, std {config.std}; 95% intervals)"] = rows
    if sweep_rows:
        results.tables[f"Sweeps (lr_G {config.lr_g:g}; final values)"] = sweep_rows
    if hop_rows:
        results.tables[f"Mode hopping of the plain GAN (lr_G {config.hop_lr_g:g}, lr_D {config.hop_lr_g / 10:g}, "
                       f"{config.hop_steps} steps, held: >= 50% of the HQ samples and >= {config.hop_floor:.0%} "
                       "of all samples)"] = hop_rows
    results.notes.append(
        f"Covered modes: modes with >= {config.min_count} high-quality samples (within 3 std), counted only when "
        f"the HQ share is >= {config.hq_floor:g}: a cliff (every mode hit at an HQ share just below the floor "
        "counts 0), so read it beside the % HQ column. Rates of seeds: Wilson 95%; % HQ: bootstrap mean; KL: "
        f"geometric mean (t on the log scale, KL clipped at 1e-6). Collapsed: covered <= 2 AND HQ share >= 0.5. "
        f"Setting: hidden {config.hidden}, z {config.z_dim}, batch {config.batch_size}, {config.steps} steps.")
    return results


def figure_arrays(runs: dict, fields: tuple[str, ...]) -> dict:
    """The arrays behind a figure, by record key."""
    return {records.key(records.key(*name), f): getattr(run, f) for name, run in runs.items() for f in fields}


COLORS = {method: f"C{i}" for i, method in enumerate(METHODS)}  # one colour a method in every figure


def paper_lines(ax, dataset: str, methods: list[str], column: int) -> None:
    """VEEGAN Table 1's covered modes (column 0) or HQ share (1) of the methods drawn, dashed in their colours."""
    for (d, method), numbers in VEEGAN_TABLE1.items():
        if d == dataset and method in methods:
            value, unit = (numbers[0], " mode" + "s" * (numbers[0] != 1)) if column == 0 else (numbers[1] / 100, "% HQ")
            ax.axhline(value, color=COLORS[method], ls="--", lw=0.9,
                       label=f"{LABELS[method]}: {numbers[column]:g}{unit} (VEEGAN Table 1, paper setup)")


def figures(results: Results, directory) -> None:
    runs = {(d, m): run for d in DATASETS for m in METHODS
            if (run := present(results, records.key(d, m), MethodRun)) is not None}
    datasets, methods = list(dict.fromkeys(d for d, _ in runs)), list(dict.fromkeys(m for _, m in runs))
    fig, axes = plots.new_figure(len(methods), len(datasets), width=2.8, height=3.2)
    for (dataset, method), run in runs.items():
        ax, centers = axes[datasets.index(dataset), methods.index(method)], records.get(results, dataset, Centers).centers
        limit = np.abs(centers).max() + 1.5
        ax.scatter(run.samples[:, 0], run.samples[:, 1], s=1, alpha=0.3, color=COLORS[method], rasterized=True,
                   label="samples")
        ax.scatter(centers[:, 0], centers[:, 1], s=12, marker="x", color="k", label="mode centres")
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[], aspect="equal")
        paper = veegan(dataset, method, "; VEEGAN: modes {:g}, HQ {:g}%")
        ax.set_title(f"{dataset}: {LABELS[method]}, seed 0\n{run.covered[-1, 0]:.0f} modes covered, HQ "
                     f"{run.high_quality[-1, 0]:.0%}{paper}", fontsize=7)
        ax.legend(loc="lower right", fontsize=6, markerscale=2)
    plots.save(fig, directory, "samples", **figure_arrays(runs, ("samples",)))

    fig, axes = plots.new_figure(3, len(datasets), width=4.2, height=4.6)
    for row, dataset in enumerate(datasets):
        noise, drawn = records.get(results, records.key(dataset, "noise"), Coverage), [m for d, m in runs if d == dataset]
        for ax, metric, label in zip(axes[row], ("covered", "high_quality", "kl"),
                                     ("covered modes", "high-quality share of all samples", "KL(modes || uniform) [nats]")):
            for method in drawn:
                run = runs[dataset, method]
                plots.seed_band(ax, run.eval_step, getattr(run, metric), LABELS[method], color=COLORS[method])
            ax.axhline(np.nanmean(getattr(noise, metric)), color="k", ls=":", lw=0.8, label="untrained N(0, I) generator")
            ax.set(xlabel="generator step", ylabel=label, title=f"{dataset}: {label.split(' [')[0]}")
        paper_lines(axes[row, 0], dataset, drawn, 0)
        paper_lines(axes[row, 1], dataset, drawn, 1)
        if dataset == "ring" and (dataset, "unrolled") in runs:  # Metz et al. 2017, Fig. 1: all 8 ring modes
            axes[row, 0].plot(runs[dataset, "unrolled"].eval_step[-1], MODE_COUNT[dataset], "*", ms=9, color=COLORS[
                "unrolled"], label=f"{LABELS['unrolled']}: all {MODE_COUNT[dataset]} (Metz et al. 2017, Fig. 1)")
        for ax in axes[row]:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=6)
    plots.save(fig, directory, "modes_over_training", **figure_arrays(
        runs, ("eval_step", "covered", "high_quality", "kl")))

    fig, axes = plots.new_figure(len(methods), len(datasets), width=3.0, height=3.0)
    for (dataset, method), run in runs.items():
        ax = axes[datasets.index(dataset), methods.index(method)]
        hopping.mode_shares(ax, run.eval_step, run.hits[:, 0, :] / run.samples.shape[0])
        paper = veegan(dataset, method, "\nVEEGAN Table 1: modes {:g}, HQ {:g}%")
        ax.set_title(f"{dataset}: {LABELS[method]}, seed 0{paper}", fontsize=8)
    plots.save(fig, directory, "mass_per_mode", **figure_arrays(runs, ("hits",)))
    hopping.figure(results, directory, datasets)


# --- claims: measures, and the cases the contract test runs them on ---


def covers(dataset: str, method: str, threshold: int, paper: str, where: str) -> Claim:
    success = lambda ends: ends[method][0] >= threshold
    measure = share_of_seeds(dataset, (method,), success)
    return Claim(
        statement=f"{dataset}: {method} covers >= {threshold} of {MODE_COUNT[dataset]} modes in most seeds (share of "
        f"seeds, Wilson 95%; not decided where its mean HQ share < {TRAINED_HQ:.0%}: not trained at this budget)",
        paper=paper, where=where, measure=measure, region=above(0.5),
        control=Control(name="untrained N(0, I) generator", results=control_in_place(PRESETS["quick"], dataset, method, "noise")),
        passing=lambda: around(dataset, {method: (threshold + 1, 0.5)}),
        baseline=baseline(dataset, "noise", share_of_seeds(dataset, (method,), success, False)), fmt="{:.2f}")


def beats_plain(dataset: str, paper: str, where: str = VEEGAN_WHERE) -> Claim:
    return Claim(
        statement=f"{dataset}: unrolled covers more modes than the plain GAN in most seeds (paired by seed; share of "
        "seeds, Wilson 95%)",
        paper=paper, where=where, measure=share_of_seeds(dataset, ("unrolled", "gan"),
                                            lambda ends: ends["unrolled"][0] > ends["gan"][0]),
        region=above(0.5),
        control=Control(name="the unrolled GAN against itself (A/A; run time: its seed s against s + 1)",
                        results=lambda: around(dataset, {"unrolled": (7.0, 0.5), "gan": (7.0, 0.5)})),
        baseline=against_itself(dataset, "unrolled"),
        passing=lambda: around(dataset, {"unrolled": (7.0, 0.5), "gan": (1.0, 0.5)}), fmt="{:.2f}")


def plain_collapses(dataset: str, paper: str, where: str = VEEGAN_WHERE) -> Claim:
    measure = share_of_seeds(dataset, ("gan",), collapses)  # the data baseline (HQ ~100%) is trained
    return Claim(
        statement=f"{dataset}: the plain GAN collapses in most seeds: {COLLAPSE} (share of seeds, Wilson 95%)",
        paper=paper, where=where, measure=measure, region=above(0.5),
        control=Control(name="the data itself (all modes, ~100% HQ)", results=control_in_place(PRESETS["quick"], dataset, "gan", "data")),
        passing=lambda: around(dataset, {"gan": (1.0, 0.95)}), baseline=baseline(dataset, "data", measure),
        fmt="{:.2f}")


CLAIMS = [
    hopping.claim("ring", "the GAN's mass moves from mode to mode (Metz et al. 2017, Figure 1)"),
    covers("ring", "unrolled", 6, "7.6 (VEEGAN)", VEEGAN_WHERE + "; Metz et al. 2017, Fig. 1 (all 8 modes)"),
    covers("ring", "wgan-gp", 6, "every mode with its 2-D recipe (Gulrajani et al. 2017, gan_toy.py)",
           "Gulrajani et al. 2017, Sec. 5.1 and Fig. 1 (toy 8 Gaussians; location recalled, not checked against the "
           "PDF); the recipe: their gan_toy.py"),
    beats_plain("ring", "7.6 against 1 (VEEGAN)"),
    plain_collapses("ring", "1 mode, 99.3% HQ (VEEGAN)"),
    covers("grid", "unrolled", 20, "23.6 (VEEGAN)", VEEGAN_WHERE),
    beats_plain("grid", "23.6 against 3.3 (VEEGAN)"),
]


if __name__ == "__main__":
    main(NAME)

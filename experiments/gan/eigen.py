"""The spectrum of each GAN method's game along training on the Gaussian mixtures (Mescheder et al. 2017, 2018).

    python run.py gan-eigen --preset quick    # R1 and consensus on the ring, gan-mixture's quick setup
    python run.py gan-eigen --preset paper    # every method, both data sets, gan-mixture's paper setup (a GPU)

At step 0 and every `eigen_every` steps the largest real part of the eigenvalues of the Jacobian of each
method's own field (ARPACK on Jacobian-vector products) and the field's norm ||v||, for the first
`eigen_seeds` seeds on one fixed batch. The sign is read as "locally attracting" or not only at a seed that
ends stationary (||v|| <= `stationary_ratio` x its value at step 0) with samples covering every mode; the
methods train with the networks, data and recipes of the gan-mixture preset named by `setup`.

Why quick reads neither claim, with the numbers, and which preset is meant to: `QUICK_SEARCH`.
"""

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np

from common import config as checks
from common import plots, records
from common.experiment import Claim, Control, Results, below
from common.train import init_states, seed_keys
from experiments.api import main
from experiments.gan import mixture
from experiments.gan.training import Fit, train_all
from research.gan.methods import LABELS, METHODS, players, rates_of, recipe
from research.gan.metrics import CENTERS, DATASETS
from research.gan.optional_records import present
from research.gan.spectrum import (
    Spectrum,
    eigen_at_start,
    end_eigen_at_rest,
    probes,
    spectrum_row,
    trajectory,
)

NAME = "gan-eigen"
STUDY = "gan"
PAPER = "Mescheder et al. 2017, The Numerics of GANs (consensus); Mescheder et al. 2018, Which Training Methods " \
        "for GANs do actually Converge? (R1)"
REPRODUCES = ("R1 and consensus end at a locally attracting stationary point of their own field (max Re(lambda) "
              "of the Jacobian < 0 where ||v|| is small), tracked along training on the 8-mode ring")

QUICK_SEARCH = (  # the report's notes carry it at quick
    "Why quick reads neither claim (a search on 2026-12-07, ring, 4 seeds): R1 (Adam 2e-3) never settles: "
    "norm(v) / norm(v_0) falls to 0.21-0.38 at step 2000 (geometric mean 0.20 on a batch of 8192 against 0.26 on "
    "512: not the batch's noise), then climbs to 0.30-0.53, 0.38-0.71 and 0.52-1.04 at steps 4000, 6000 and 8000 "
    "while max Re(lambda) grows from 0.8-5.4 to 71-151 (--steps 8000 --eigen-every 2000; every mode covered at "
    "8000). Consensus (RMSProp 2e-3) settles (0.003-0.035 at step 2000, 0.002-0.017 at 8000) on a diffuse cloud "
    "that covers no mode (HQ 0.9% in gan-mixture), max Re(lambda) +0.08 to +0.15 there (+0.02 to +0.13 at 8000). "
    "--preset paper (gan-mixture's paper setup: 25k steps at Metz's rates, consensus at RMSProp 1e-4; a GPU) is "
    "the preset meant to measure them.")


@dataclass(frozen=True)
class Config:
    """The rightmost eigenvalue of each method's game Jacobian and ||v|| along training on a Gaussian mixture."""

    seeds: int = 5
    """Independent seeds per method, trained together in one vmapped program."""
    setup: Literal["quick", "paper"] = "paper"
    """The gan-mixture preset whose networks, data std, batch and recipes train the methods."""
    datasets: tuple[str, ...] = DATASETS
    """Subset of: ring grid."""
    methods: tuple[str, ...] = METHODS
    """Methods trained and tracked, of: gan nsgan wgan-gp r1 unrolled consensus."""
    steps: int = 25_000
    """Generator steps (WGAN-GP: each after its critic steps)."""
    eval_every: int = 2500
    """Generator steps between evaluations (a multiple of the setup's chunk, 500)."""
    eigen_seeds: int = 1
    """Seeds whose Jacobian's rightmost eigenvalue and ||v|| are tracked (at step 0 and every eigen_every steps)."""
    eigen_every: int = 0
    """Generator steps between the spectrum's points after step 0, a multiple of eval_every (the last step is
    always one); 0: at every evaluation."""
    eigen_batch: int = 512
    """Examples in the one fixed batch every spectrum is computed on."""
    eigen_iterations: int = 100
    """ARPACK restarts at most (each ~20 Jacobian-vector products); NaN if it has not converged."""
    stationary_ratio: float = 0.05
    """A point counts as stationary when ||v|| <= this x ||v|| at step 0 (same seed, same batch)."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        checks.require_numbers_representable(self)
        checks.require_at_least_one(self, ("seeds", "steps", "eval_every", "eigen_batch", "eigen_iterations"))
        checks.require_distinct(self, ("datasets", "methods"))
        # at 1 or above every starting point would count as stationary
        if not 0 < self.stationary_ratio < 1:
            raise ValueError(f"stationary_ratio must be in (0, 1) (got {self.stationary_ratio})")
        if self.eigen_every < 0 or self.eigen_every % self.eval_every:
            raise ValueError(f"eigen_every ({self.eigen_every}) must be 0 or a multiple of eval_every "
                             f"({self.eval_every})")
        if not 1 <= self.eigen_seeds <= self.seeds:
            raise ValueError(f"eigen_seeds must be in [1, seeds] (got {self.eigen_seeds})")
        self.game()  # the setup's own checks: data sets, methods, eval_every against its chunk

    def game(self) -> mixture.Config:
        """The gan-mixture config the methods train with: the setup's, at this config's seeds, data and steps."""
        return dataclasses.replace(mixture.PRESETS[self.setup], seeds=self.seeds, datasets=self.datasets,
                                   methods=self.methods, steps=self.steps, eval_every=self.eval_every, seed=self.seed,
                                   hop_steps=0, lr_ratios=(), r1_gammas=())

    def scheduled(self, step: int) -> bool:
        """Whether the spectrum is computed at `step`: step 0, the last step and every `eigen_every` steps."""
        return step in (0, self.steps) or self.eigen_every == 0 or step % self.eigen_every == 0


PRESETS = {
    "quick": Config(setup="quick", datasets=("ring",), methods=("r1", "consensus"), steps=2000, eval_every=500,
                    seeds=4, eigen_seeds=4, eigen_every=2000),
    "paper": Config(eigen_seeds=5),
}


def spectra(config: Config, dataset: str, session) -> dict[str, Spectrum]:
    """Each method trained with its spectrum observed at every evaluation on the schedule, and at step 0."""
    game, tracked = config.game(), config.eigen_seeds
    probe = probes(game, config.methods, CENTERS[dataset](), config.seed, config.eigen_batch, config.eigen_iterations)
    observe = {m: (lambda states, m=m: probe[m].seeds(states, tracked, config.scheduled)) for m in config.methods}
    trained = train_all(game, dataset, [Fit(f"{dataset}-{m}", m, recipe(m, game), observe[m]) for m in config.methods],
                        session)
    out = {}
    for method in config.methods:
        (history, coverage, _), keys = trained[f"{dataset}-{method}"], seed_keys(config.seed, tracked)
        start = observe[method](init_states(players(game).initializer(recipe(method, game)), keys, "seeds",
                                            rates_of(recipe(method, game)).for_runs(tracked)))
        steps = np.asarray(history.history["eval_step"])
        on = np.array([config.scheduled(int(step)) for step in steps])
        curves = [np.concatenate([start[name][None], history.curve(f"eval/{name}")[on, :tracked]])
                  for name in ("max_real_eigen", "field_norm")]
        matches = coverage.covered[-1, :tracked] == CENTERS[dataset]().shape[0]
        out[method] = Spectrum(np.concatenate([[0], steps[on]]), *curves, matches)
    return out


def run(config: Config, session) -> Results:
    results, rows = Results(arrays={"stationary_ratio": np.asarray(config.stationary_ratio)}), []
    for dataset in config.datasets:
        for method, spectrum in spectra(config, dataset, session).items():
            records.put(results, records.key(dataset, method), spectrum)
            rows.append({"data": dataset, "method": method, "recipe": recipe(method, config.game()).describe,
                         **spectrum_row(spectrum, config.stationary_ratio)})
    results.tables[f"Rightmost eigenvalue of each method's field ({config.eigen_seeds} tracked seeds; mean [95% t])"] \
        = rows
    results.notes.append(
        f"max Re(lambda): the largest real part of the eigenvalues of the Jacobian of the method's own update field "
        f"(ARPACK to tol 1e-2, one fixed batch of {config.eigen_batch}); its sign is read only at a stationary "
        f"point, ||v|| <= {config.stationary_ratio:g} x its value at step 0: elsewhere a positive real part says "
        "where the field turns, not that the point repels; the claims read it only at seeds whose final samples "
        f"also cover every mode. Setting: gan-mixture's {config.setup} preset, {config.steps} generator steps.")
    if config.setup == "quick":
        results.notes.append(QUICK_SEARCH)
    return results


def figures(results: Results, directory) -> None:
    """Max Re(lambda) and ||v|| / ||v_0|| against step per method: median over the tracked seeds and their
    range (min to max) as a band; the stationary threshold dashed."""
    ratio = float(results.arrays["stationary_ratio"])
    tracked = {(d, m): s for d in DATASETS for m in METHODS if (s := present(results, records.key(d, m), Spectrum)) is not None}
    datasets = list(dict.fromkeys(d for d, _ in tracked))
    fig, axes = plots.new_figure(2, len(datasets), width=4.6, height=4.2)
    for (dataset, method), spectrum in tracked.items():
        ax_eig, ax_rel = axes[datasets.index(dataset)]
        color = f"C{METHODS.index(method)}"
        for ax, values in ((ax_eig, spectrum.max_real_eigen), (ax_rel, spectrum.field_norm / spectrum.field_norm[:1])):
            ax.plot(spectrum.eigen_step, np.nanmedian(values, axis=1), color=color, marker=".",
                    label=f"{LABELS[method]}: median of {values.shape[1]} seeds")
            ax.fill_between(spectrum.eigen_step, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color,
                            alpha=0.2, linewidth=0, label=f"{LABELS[method]}: min to max over seeds")
    for row, dataset in enumerate(datasets):
        ax_eig, ax_rel = axes[row]
        bottom = min(-0.3, 2 * ax_eig.dataLim.y0)
        ax_eig.axhspan(bottom, 0.0, color="0.9", zorder=0,
                       label="Re < 0: attracting where stationary (Mescheder et al. 2018, Thm 4.1)")
        # symlog: the sign near 0 stays readable beside R1's ~100 at 8000 steps and WGAN-GP's ~100 at step 0
        ax_eig.set_yscale("symlog", linthresh=0.1)
        ax_eig.set(xlabel="generator step", ylabel="max Re(lambda) (symlog)", ylim=(bottom, None),
                   title=f"{dataset}: rightmost eigenvalue of the Jacobian")
        ax_rel.axhline(ratio, color="k", ls="--", lw=0.8, label=f"stationary: norm(v) <= {ratio:g} norm(v_0)")
        ax_rel.set(yscale="log", xlabel="generator step", ylabel="norm(v) / norm(v at step 0)",
                   title=f"{dataset}: norm of the field relative to its start")
        for ax in (ax_eig, ax_rel):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6)
    plots.save(fig, directory, "eigen_trajectories", **{records.key(records.key(d, m), field): getattr(s, field)
                                                        for (d, m), s in tracked.items() for field in Spectrum._fields})


# --- claims: measures, and the cases the contract test runs them on ---


def attracting_at_end(dataset: str, method: str, paper: str, where: str) -> Claim:
    spread = np.linspace(-1, 1, 4)
    return Claim(
        statement=f"{dataset}: {method} ends at a locally attracting stationary point of its own field: max Re(lambda) "
        "of its Jacobian < 0, read only at tracked seeds whose end norm(v) <= stationary_ratio x norm(v_0) and whose "
        "samples cover every mode",
        paper=paper, where=where, measure=end_eigen_at_rest(dataset, method), region=below(0.0),
        control=Control(name="a max Re(lambda) read away from a stationary point (run time: at step 0, the untrained "
                        "pair; case: a negative one where norm(v) stays at norm(v_0))", results=lambda: trajectory(
                            dataset, method, [[0.5] * 4, -0.3 + 0.05 * spread], [[1.0] * 4, [0.9] * 4])),
        baseline=eigen_at_start(dataset, method),
        passing=lambda: trajectory(dataset, method, [[0.5] * 4, -0.3 + 0.05 * spread],
                                   [[1.0] * 4, 0.01 + 0.002 * spread]),
        fmt="{:+.3g}")


CLAIMS = [
    attracting_at_end("ring", "r1", "R1 is locally convergent: Re(lambda) < 0 at the equilibrium (Mescheder et al. "
                      "2018, Thm 4.1)", "Mescheder et al. 2018, Theorem 4.1 (Sec. 4.2; section recalled, not checked "
                      "against the PDF)"),
    attracting_at_end("ring", "consensus", "J - gamma J^T J has Re(lambda) < 0 at a stationary point, J invertible, "
                      "gamma large enough (Mescheder et al. 2017)", "Mescheder et al. 2017, Sec. 3 (consensus "
                      "optimization, its lemma on J - gamma J^T J) (location recalled, not checked against the PDF)"),
]


if __name__ == "__main__":
    main(NAME)

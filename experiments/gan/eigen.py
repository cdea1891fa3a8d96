"""The spectrum of each GAN method's game along training on the Gaussian mixtures (Mescheder et al. 2017, 2018).

    python run.py gan-eigen --preset quick    # R1 and consensus on the ring, the quick networks of gan-mixture
    python run.py gan-eigen --preset paper    # every method, both data sets, the unrolled-GAN setup (a GPU)

At step 0 and every `eigen_every` steps (through the trainer's `observe` hook) the largest real part of the
eigenvalues of the Jacobian of each method's own vector field is computed matrix-free (ARPACK on
Jacobian-vector products, compiled once per method) for the first `eigen_seeds` seeds, on one fixed batch,
beside the field's norm ||v||. Its sign says "locally attracting" or "not" only at a stationary point, taken
as ||v|| <= `stationary_ratio` x its value at step 0 for that seed; elsewhere the reading is "not stationary"
and the claims are inconclusive. The methods train as in gan-mixture (experiments/gan/training.py).
"""

import dataclasses
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import numpy as np

from common import config as checks
from common import plots, records, stats
from common.experiment import Claim, Control, NotRunAtPreset, Results, below
from common.train import init_states, seed_keys
from experiments.api import main
from experiments.gan.training import CENTERS, DATASETS, Fit, train_all, unused_by_method, validate
from research.gan.methods import EVAL_TAG, METHODS, batch_sampler, first, players, rates_of, recipe
from research.gan.spectrum import SpectrumProbe, reading, stationary

NAME = "gan-eigen"
STUDY = "gan"
PAPER = "Mescheder et al. 2017, The Numerics of GANs (consensus); Mescheder et al. 2018, Which Training Methods " \
        "for GANs do actually Converge? (R1)"
REPRODUCES = ("R1 and consensus end at a locally attracting stationary point of their own field (max Re(lambda) "
              "of the Jacobian < 0 where ||v|| is small), tracked along training on the 8-mode ring")


@dataclass(frozen=True)
class Config:
    """The rightmost eigenvalue of each method's game Jacobian and ||v|| along training on a Gaussian mixture."""

    seeds: int = 5
    """Independent seeds per method, trained together in one vmapped program."""
    datasets: tuple[str, ...] = DATASETS
    """Subset of: ring grid."""
    methods: tuple[str, ...] = METHODS
    """Methods trained and tracked, of: gan nsgan wgan-gp r1 unrolled consensus."""
    steps: int = 25_000
    """Generator steps (WGAN-GP: each after `critic_steps` critic steps)."""
    batch_size: int = 512
    """Examples per minibatch."""
    z_dim: int = 256
    """Dimension of the generator's standard normal input z."""
    hidden: int = 128
    """Units in each of the two tanh layers of both networks."""
    init: Literal["xavier", "orthogonal"] = "orthogonal"
    """Both networks' weights: orthogonal times `init_gain` (the unrolled-GAN notebook's) or Xavier normal."""
    init_gain: float = 1.4
    """Gain of the orthogonal init (the notebook's 1.4)."""
    lr_g: float = 1e-3
    """Generator's Adam learning rate in Metz's setup (all methods but WGAN-GP)."""
    lr_d: float = 1e-4
    """Discriminator's Adam learning rate in Metz's setup (all methods but WGAN-GP)."""
    beta1: float = 0.5
    """Adam's beta1 in Metz's setup (beta2 0.999)."""
    update: Literal["simultaneous", "alternating"] = "simultaneous"
    """Metz's setup: simultaneous; alternating moves the discriminator first."""
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
    """Generated samples for the mode metrics."""
    min_count: int = 10
    """HQ samples a mode needs to count as covered."""
    hq_floor: float = 0.1
    """HQ share below which a generator covers no mode."""
    eval_every: int = 2500
    """Generator steps between evaluations."""
    chunk: int = 500
    """Steps per compiled lax.scan."""
    blowup: float = 1e4
    """A seed whose parameter norm exceeds this counts as diverged (stopped, step recorded)."""
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
        validate(self, {"datasets": DATASETS, "methods": METHODS})
        checks.require_at_least_one(self, ("eigen_batch", "eigen_iterations"))
        # at 1 or above every starting point would count as stationary
        if not 0 < self.stationary_ratio < 1:
            raise ValueError(f"stationary_ratio must be in (0, 1) (got {self.stationary_ratio})")
        if self.eigen_every < 0 or self.eigen_every % self.eval_every:
            raise ValueError(f"eigen_every ({self.eigen_every}) must be 0 or a multiple of eval_every "
                             f"({self.eval_every})")
        if not 1 <= self.eigen_seeds <= self.seeds:
            raise ValueError(f"eigen_seeds must be in [1, seeds] (got {self.eigen_seeds})")

    def unused_fields(self) -> dict[str, str]:
        return unused_by_method(self)

    def scheduled(self, step: int) -> bool:
        """Whether the spectrum is computed at `step`: step 0, the last step and every `eigen_every` steps."""
        return step in (0, self.steps) or self.eigen_every == 0 or step % self.eigen_every == 0


PRESETS = {
    "quick": Config(datasets=("ring",), methods=("r1", "consensus"), steps=2000, eigen_every=2000, batch_size=128,
                    z_dim=16, hidden=32, init="xavier", lr_g=2e-3, lr_d=2e-3, update="alternating",
                    eval_every=500, chunk=500, seeds=4, eigen_seeds=4),
    "paper": Config(eigen_seeds=5),
}


class Spectrum(NamedTuple):
    """One method's tracked points: steps (points,), max Re(lambda) and ||v|| (points, eigen_seeds)."""

    eigen_step: np.ndarray
    max_real_eigen: np.ndarray
    field_norm: np.ndarray


def probes(config: Config, dataset: str) -> dict[str, SpectrumProbe]:
    """One probe per method, on one fixed batch drawn op by op (under jit its normal draws differ in the last bit)."""
    key = jax.random.fold_in(jax.random.key(config.seed), EVAL_TAG)
    batch = first(batch_sampler(config.eigen_batch, config.z_dim, config.std)(CENTERS[dataset](), key, 0))
    return {m: SpectrumProbe(m, players(config), recipe(m, config), config.unroll_steps, batch,
                             config.eigen_iterations) for m in config.methods}


def spectra(config: Config, dataset: str, session) -> dict[str, Spectrum]:
    """Each method trained with its spectrum observed at every evaluation on the schedule, and at step 0."""
    probe = probes(config, dataset)
    observe = {m: (lambda states, m=m: probe[m].seeds(states, config.eigen_seeds, config.scheduled))
               for m in config.methods}
    fits = [Fit(f"{dataset}-{m}", m, recipe(m, config), observe[m]) for m in config.methods]
    trained = train_all(config, dataset, fits, session)
    out = {}
    for method in config.methods:
        history, keys = trained[f"{dataset}-{method}"].out, seed_keys(config.seed, config.eigen_seeds)
        start = observe[method](init_states(players(config).initializer(recipe(method, config)), keys, "seeds",
                                            rates_of(recipe(method, config)).for_runs(config.eigen_seeds)))
        steps = np.asarray(history.history["eval_step"])
        on = np.array([config.scheduled(int(step)) for step in steps])
        curves = [np.concatenate([start[name][None], history.curve(f"eval/{name}")[on, :config.eigen_seeds]])
                  for name in ("max_real_eigen", "field_norm")]
        out[method] = Spectrum(np.concatenate([[0], steps[on]]), *curves)
    return out


def run(config: Config, session) -> Results:
    results, rows = Results(arrays={"stationary_ratio": np.asarray(config.stationary_ratio)}), []
    for dataset in config.datasets:
        for method, spectrum in spectra(config, dataset, session).items():
            records.put(results, records.key(dataset, method), spectrum)
            norm, eigen = spectrum.field_norm, spectrum.max_real_eigen
            relative, at_rest = norm / norm[:1], stationary(norm, config.stationary_ratio)
            rows.append({"data": dataset, "method": method, "recipe": recipe(method, config).describe,
                         "max Re(lambda) at step 0": f"{stats.mean(eigen[0]):.3g}",
                         "at the end": f"{stats.mean(eigen[-1]):.3g}",
                         "norm(v) / norm(v_0) at the end": f"{stats.mean(relative[-1]):.3g}",
                         "end reading per seed": "; ".join(reading(e, s) for e, s in zip(eigen[-1], at_rest[-1]))})
    results.tables[f"Rightmost eigenvalue of each method's field ({config.eigen_seeds} tracked seeds; mean [95% t])"] \
        = rows
    results.notes.append(
        f"max Re(lambda): the largest real part of the eigenvalues of the Jacobian of the method's own update field "
        f"(ARPACK to tol 1e-2, one fixed batch of {config.eigen_batch}); its sign is read only at a stationary "
        f"point, ||v|| <= {config.stationary_ratio:g} x its value at step 0: elsewhere a positive real part says "
        f"where the field turns, not that the point repels. Setting: hidden {config.hidden}, z {config.z_dim}, "
        f"batch {config.batch_size}, std {config.std}, {config.steps} generator steps.")
    return results


def figures(results: Results, directory) -> None:
    """Max Re(lambda) and ||v|| / ||v_0|| against step per method: median over the tracked seeds and their
    range (min to max) as a band; the stationary threshold dashed."""
    ratio = float(results.arrays["stationary_ratio"])
    tracked = {(d, m): s for d in DATASETS for m in METHODS if (s := spectrum_of(results, d, m)) is not None}
    datasets = list(dict.fromkeys(d for d, _ in tracked))
    fig, axes = plots.new_figure(2, len(datasets), width=4.2, height=3.2)
    for (dataset, method), spectrum in tracked.items():
        ax_eig, ax_rel = axes[datasets.index(dataset)]
        color = f"C{METHODS.index(method)}"
        for ax, values in ((ax_eig, spectrum.max_real_eigen), (ax_rel, spectrum.field_norm / spectrum.field_norm[:1])):
            ax.plot(spectrum.eigen_step, np.nanmedian(values, axis=1), color=color, marker=".",
                    label=f"{method}: median of {values.shape[1]} seeds")
            ax.fill_between(spectrum.eigen_step, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color,
                            alpha=0.2, linewidth=0, label=f"{method}: min to max over seeds")
    for row, dataset in enumerate(datasets):
        ax_eig, ax_rel = axes[row]
        ax_eig.axhline(0.0, color="k", lw=0.6)
        # symlog: the sign near 0 stays readable beside WGAN-GP's penalty-driven ~100 at step 0
        ax_eig.set(xlabel="generator step", ylabel="max Re(lambda) of the Jacobian (symlog)", yscale="symlog",
                   title=f"{dataset}: rightmost eigenvalue")
        ax_rel.axhline(ratio, color="k", ls="--", lw=0.8, label=f"stationary: norm(v) <= {ratio:g} norm(v_0)")
        ax_rel.set(yscale="log", xlabel="generator step", ylabel="norm(v) / norm(v at step 0)",
                   title=f"{dataset}: norm of the field relative to its start")
        ax_eig.legend(loc="best", fontsize=6)
        ax_rel.legend(loc="best", fontsize=6)
    plots.save(fig, directory, "eigen_trajectories", **{records.key(records.key(d, m), field): getattr(s, field)
                                                        for (d, m), s in tracked.items() for field in Spectrum._fields})


# --- claims: measures, and the cases the contract test runs them on ---


def spectrum_of(results: Results, dataset: str, method: str) -> Spectrum | None:
    try:
        return records.get(results, records.key(dataset, method), Spectrum)
    except KeyError:
        return None


def end_eigen_at_rest(dataset: str, method: str):
    """Mean over the tracked seeds that END at a stationary point (||v|| <= ratio x ||v_0||) of max Re(lambda)
    there; not measured (inconclusive) when no seed does: away from a stationary point the sign of an
    eigenvalue is no verdict on attraction."""

    def measure(r: Results) -> stats.Measurement:
        spectrum = spectrum_of(r, dataset, method)
        if spectrum is None:
            raise NotRunAtPreset("quick", f"this run has no {method} max_real_eigen on the {dataset}")
        eigen, norm, ratio = spectrum.max_real_eigen, spectrum.field_norm, float(r.arrays["stationary_ratio"])
        at_rest = stationary(norm, ratio)[-1]
        if not at_rest.any():
            return stats.Measurement(float("nan"), stats.WHOLE_LINE, "no tracked seed ends at a stationary point "
                                     f"(norm(v) / norm(v_0) = {', '.join(f'{x:.2g}' for x in norm[-1] / norm[0])} > "
                                     f"{ratio:g}): not read", 0)
        m = stats.mean(eigen[-1][at_rest])
        return dataclasses.replace(m, how=f"{m.how}; {int(at_rest.sum())} of {at_rest.size} tracked seeds end stationary")

    return measure


def trajectory(dataset: str, method: str, eigen_TxS, norm_TxS, ratio: float = 0.05) -> Results:
    """Results holding one method's tracked eigenvalue and ||v|| trajectories (points x seeds)."""
    results = Results(arrays={"stationary_ratio": np.asarray(ratio)})
    eigen = np.asarray(eigen_TxS, float)
    records.put(results, records.key(dataset, method),
                Spectrum(np.arange(len(eigen)), eigen, np.asarray(norm_TxS, float)))
    return results


def attracting_at_end(dataset: str, method: str, paper: str) -> Claim:
    spread = np.linspace(-1, 1, 4)
    return Claim(
        statement=f"{dataset}: {method} ends at a locally attracting stationary point of its own field: max Re(lambda) "
        "of its Jacobian < 0, read only at tracked seeds whose end norm(v) <= stationary_ratio x norm(v_0)",
        paper=paper, measure=end_eigen_at_rest(dataset, method), region=below(0.0),
        control=Control(
            name="a negative max Re(lambda) read away from a stationary point (norm(v) stays at norm(v_0))",
            results=lambda: trajectory(dataset, method, [[0.5] * 4, -0.3 + 0.05 * spread], [[1.0] * 4, [0.9] * 4])),
        passing=lambda: trajectory(dataset, method, [[0.5] * 4, -0.3 + 0.05 * spread],
                                   [[1.0] * 4, 0.01 + 0.002 * spread]),
        fmt="{:+.3g}")


CLAIMS = [
    attracting_at_end("ring", "r1", "R1 is locally convergent: Re(lambda) < 0 at the equilibrium (Mescheder et al. "
                      "2018, Thm 4.1)"),
    attracting_at_end("ring", "consensus", "J - gamma J^T J has Re(lambda) < 0 at a stationary point, J invertible, "
                      "gamma large enough (Mescheder et al. 2017)"),
]


if __name__ == "__main__":
    main(NAME)

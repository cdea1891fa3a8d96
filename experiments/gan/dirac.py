"""The Dirac-GAN: which training methods converge (Mescheder et al. 2018, Figures 1-3).

    python run.py gan-dirac --preset quick     # 5 starts (paper: 20)

"Converges" is a rate: the spectral radius of the update linearized at the equilibrium (float64; none for
WGAN-GP, whose |psi| has no Jacobian there) and the slope of log|x_t| over each path's second half (float32,
from (1, 1) and from points on the circle through it). The game, conventions and notes: docs/notes/gan.md.
"""

import math
from dataclasses import dataclass

import jax
import numpy as np

from common import config as checks
from common import plots, records, stats
from common.experiment import RECALLED, Claim, Control, Results, at_least, at_most, near
from common.parallel import map_independent
from experiments.api import main
from research.gan import dirac
from research.gan import dirac_controls as ctl
from research.gan.dirac_controls import LOCUS_ERROR, MAX_EIGEN, MIN_RADIUS, REFERENCE, exact
from research.gan.dirac_methods import LABELS, METHODS, NO_JACOBIAN, REGULARIZED, UNREGULARIZED
from research.gan.dirac_rates import negated, paths, rates, worst_rate_ratio
from research.gan.dirac_records import Agreement, Equilibrium, Radius, put_method

NAME = "gan-dirac"
STUDY = "gan"
PAPER = "Mescheder, Geiger & Nowozin 2018, Which training methods for GANs do actually converge? (ICML)"
REPRODUCES = ("Dirac-GAN, h = 0.2: GAN, NSGAN, WGAN, WGAN-GP have no geometric rate at the equilibrium, R1 and "
              "consensus converge at the linearization's rate; R1 eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)")


# "Converges geometrically": at least one e-fold over the 250 steps the slope is fitted on (paper: 500 steps).
RATE_EDGE = -1 / 250
MESCHEDER = "Mescheder et al. 2018, {}" + RECALLED  # a claim's `where`


@dataclass(frozen=True)
class Config:
    """Dirac-GAN paths, their rates, and the Jacobian's eigenvalues at the equilibrium."""

    seeds: int = 5
    """Starting points: (1, 1), then seeds - 1 random points on the circle of radius sqrt(2)."""
    step_size: float = 0.2
    """Gradient step h (the notebook's)."""
    steps: int = 500
    """Training steps."""
    grid: int = 17
    """Arrows per axis of the vector-field plot."""
    methods: tuple[str, ...] = tuple(METHODS)
    """Subset of: gan nsgan wgan-clip1 wgan-gp wgan-gp-0.7 r1-0.3 r1-1 consensus-1."""
    locus_points: int = 41
    """R1 strengths gamma in [0, 2] at which the eigenvalues are computed for the locus."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        checks.require_numbers_representable(self)
        checks.require_distinct(self, ("methods",))
        checks.require_at_least_one(self, ("seeds", "steps", "grid", "locus_points"))
        checks.require_positive(self, ("step_size",))
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {' '.join(METHODS)} (got {unknown})")


PRESETS = {"quick": Config(), "paper": Config(seeds=20)}


def summaries(results: Results, config: Config) -> None:
    smooth = [n for n in UNREGULARIZED if n in config.methods and n not in NO_JACOBIAN]
    radii = [records.get(results, records.key(n, m), Radius).spectral_radius for n in smooth for m in dirac.MODES]
    errors = [records.get(results, n, Agreement).eigen_error for n in smooth]
    results.scalars[MIN_RADIUS] = min(radii, default=math.nan)
    results.scalars[MAX_EIGEN] = max(errors, default=math.nan)
    gaps = [abs(records.get(results, records.key(n, m), dirac.Setting).distance - METHODS[n].reference[i])
            for n in config.methods for i, m in enumerate(dirac.MODES)]
    paper_setting = config.steps == 500 and config.step_size == 0.2  # the reference's 500 steps from (1, 1)
    results.scalars[REFERENCE] = max(gaps) if paper_setting else math.nan


def run(config: Config, session) -> Results:
    games = {name: METHODS[name].game for name in config.methods}
    starts = dirac.starting_points(jax.random.key(config.seed), config.seeds - 1)
    # two independent programs: one compiles while the other traces (threads)
    simulation, (linearized, locus) = map_independent(lambda compute: compute(), (
        lambda: dirac.simulate(games, starts, config.step_size, config.steps, config.grid),
        lambda: dirac.linearize({n: g for n, g in games.items() if n not in NO_JACOBIAN}, config.step_size,
                                np.linspace(0.0, 2.0, config.locus_points))))
    results = Results(arrays={"grid_theta": simulation.theta, "grid_psi": simulation.psi})
    for name in config.methods:
        put_method(results, name, simulation, linearized)
    records.put(results, "locus", locus)
    summaries(results, config)
    results.tables[f"Each method and order: |x_T| after {config.steps} steps from (1, 1), slope of log|x_t| "
                   f"(mean over {config.seeds} starts), spectral radius of the linearized update"] = [
        row(results, name, i, mode) for name in config.methods for i, mode in enumerate(dirac.MODES)]
    return results


def row(results: Results, name: str, index: int, mode: str) -> dict:
    found, eigen = records.get(results, records.key(name, mode), dirac.Setting), records.get(results, name, Equilibrium)
    radius = results.scalars.get(records.key(records.key(name, mode), "spectral_radius"), "none (no Jacobian)")
    return {"method": name, "order": mode, "|x_T|": found.distance, "reference [C]": METHODS[name].reference[index],
            "slope (95%)": f"{stats.mean(found.slopes, 'starts'):.3g}", "spectral radius": radius,
            "eigenvalues (jacfwd; paper)": "; ".join(", ".join(f"{v:.4g}" for v in e) for e in eigen[1:])}


def figures(results: Results, directory) -> None:
    a, names = results.arrays, [n for n in METHODS if records.key(n, "field") in results.arrays]
    fig, axes = plots.new_figure(4, 3, width=3.3, height=3.1)
    for ax, name in zip(axes.ravel(), names):
        field, _, (_, lam) = records.get(results, name, Equilibrium)  # lam: the paper's upper eigenvalue
        norm = np.hypot(field[..., 0], field[..., 1]) + 1e-12
        ax.quiver(a["grid_theta"], a["grid_psi"], field[..., 0] / norm, field[..., 1] / norm, color="0.7", width=0.004)
        for mode, style in zip(dirac.MODES, ("-", "--")):
            path = records.get(results, records.key(name, mode), dirac.Setting).path
            ax.plot(path[:, 0], path[:, 1], style, lw=1.0, label=mode)
        ax.plot([1.0, 0.0], [1.0, 0.0], "r*", ms=6, label="start (1, 1), equilibrium")
        paper = "none (|psi| kink)" if np.isnan(lam) else f"{lam.real:.3g} +- {lam.imag:.3g}i"
        ax.set(xlim=(-2, 2), ylim=(-2, 2), xlabel="theta (generator)", ylabel="psi (discriminator)")
        ax.set_title(f"{LABELS[name]}\npaper: lambda = {paper}", fontsize=9)
        ax.legend(loc="lower left", fontsize=6)
    for ax, (i, mode) in zip(axes[2, 2:], enumerate(dirac.MODES)):
        for name in names:
            distances = records.get(results, records.key(name, mode), dirac.Setting).distances
            line, = ax.semilogy(np.maximum(distances, 1e-30), lw=0.9, label=LABELS[name])
            if METHODS[name].reference[i] > 0 and distances.size == 501:
                ax.plot([500], [METHODS[name].reference[i]], "x", color=line.get_color())
        ax.plot([], [], "kx", label="|x_500|, reimplementation")
        ax.set(xlabel="step", ylabel="|(theta, psi)|", title=f"{mode} steps: distance to (0, 0)")
    for ax in axes.ravel()[len(names):10]:
        ax.axis("off")
    axes[2, 1].legend(*axes[2, 2].get_legend_handles_labels(), loc="center", fontsize=7,
                      title="the two distance panels (right)")
    plots.save(fig, directory, "dirac_paths", **a)

    fig, axes = plots.new_figure(2, 1, width=4.2, height=3.6)
    for name, marker in zip(names, "os^vDPXh"):
        found = records.get(results, name, Equilibrium)
        if not np.isnan(found.closed_form).any():
            dot, = axes[0, 0].plot(found.eigenvalues.real, found.eigenvalues.imag, marker, ms=4, label=LABELS[name])
            axes[0, 0].plot(found.closed_form.real, found.closed_form.imag, marker, ms=10, mfc="none",
                            color=dot.get_color())
    axes[0, 0].plot([], [], "ko", ms=10, mfc="none", label="paper (open)")
    axes[0, 0].set(xlabel="Re lambda", ylabel="Im lambda", title="eigenvalues at (0, 0): jacfwd, paper")
    locus = records.get(results, "locus", dirac.Locus)
    branches = np.asarray(dirac.r1_equilibrium_eigenvalues(np.linspace(0.0, 2.0, 400))).ravel()
    axes[0, 1].plot(branches.real, branches.imag, "k.", ms=1, label="paper (closed form)")
    points = axes[0, 1].scatter(locus.computed.real.ravel(), locus.computed.imag.ravel(),
                                c=np.repeat(locus.gamma, 2), s=10, label="jacfwd (float64)")
    fig.colorbar(points, ax=axes[0, 1], label="gamma")
    axes[0, 1].set(xlabel="Re lambda", ylabel="Im lambda", title="R1 at (0, 0), gamma in [0, 2]")
    for ax in axes[0]:
        ax.legend(fontsize=6)
    plots.save(fig, directory, "r1_locus", **a)


# --- claims: measures, run-time controls (research/gan/dirac_controls.py) and the contract test's cases ---
CLAIMS = [
    Claim(statement="GAN, NSGAN, WGAN (clip 1): the update linearized at the equilibrium has spectral radius >= 1 "
          "(h 0.2, simultaneous and alternating): no geometric convergence", paper="eigenvalues +-f'(0) i (Lemma 2.2)",
          where=MESCHEDER.format("Lemma 2.2 (Sec. 2.2) and Sec. 2.3 (GAN), Sec. 3.1 (WGAN)"),
          measure=lambda r: r.scalars[MIN_RADIUS], region=at_least(1.0 - 1e-9), fmt="{:.6g}",
          control=Control(name="R1 and consensus in their place (run time: their least radius; case: R1 gamma 0.3's "
                          "0.975)", results=exact(MIN_RADIUS, 0.9747)),
          passing=exact(MIN_RADIUS, 1.0), baseline=ctl.least_regularized_radius),
    Claim(statement=f"all five unregularized settings (incl. WGAN-GP, no Jacobian) show no geometric rate: slope of "
          f"log|x_t| over the second half >= {RATE_EDGE} per step (the most negative setting)",
          paper="not locally convergent",
          where=MESCHEDER.format("Sec. 2.3 and 3.1 (GAN, NSGAN, WGAN, WGAN-GP), Fig. 2 (Dirac-GAN paths)"),
          measure=lambda r: stats.smallest(*rates(r, UNREGULARIZED).values()),
          region=at_least(RATE_EDGE), passing=paths(ctl.UNREGULARIZED_SLOPES), fmt="{:.3g}", baseline=ctl.regularized_slope,
          control=Control(name="R1's and consensus's paths instead (run time: this run's)",
                          results=paths({("gan", "simultaneous"): -0.0257}))),
    Claim(statement=f"R1 (gamma 0.3, 1) and consensus (gamma 1) converge geometrically: slope of log|x_t| <= "
          f"{RATE_EDGE} per step (the least negative setting)", paper="locally convergent (Theorem 4.1)",
          where=MESCHEDER.format("Sec. 3.3 and Theorem 4.1 (R1); Mescheder et al. 2017, Sec. 3 (consensus)"),
          measure=lambda r: negated(stats.smallest(*map(negated, rates(r, REGULARIZED).values()))),
          region=at_most(RATE_EDGE), passing=paths(ctl.REGULARIZED_SLOPES), fmt="{:.3g}", baseline=ctl.unregularized_slope,
          control=Control(name="the unregularized settings' paths in their place (run time: this run's)",
                          results=paths({("r1-1", "simultaneous"): 6.7e-4}))),
    Claim(statement="R1 and consensus converge at the linearization's rate: measured slope / log spectral radius in "
          "[0.9, 1.1] (the setting farthest from 1)", paper="rate from the Jacobian's eigenvalues",
          where=MESCHEDER.format("Sec. 2.1 (local convergence from the spectrum of F_h')"),
          measure=worst_rate_ratio, region=near(1.0, 0.1), passing=paths(ctl.REGULARIZED_SLOPES), fmt="{:.3f}",
          control=Control(name="a wrong radius (run time: each slope over another method's log radius, the pairing "
                          "rotated; case: the update linearized at step h/2)",
                          results=paths(ctl.REGULARIZED_SLOPES, radius_scale=0.5)), baseline=ctl.rotated_rate_ratio),
    Claim(statement="R1 eigenvalues at the equilibrium = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) for gamma in [0, 2] "
          "(max |error|, float64; sqrt(eps) at the double root gamma = 1)", paper="closed form",
          where=MESCHEDER.format("Sec. 3.3 (zero-centered gradient penalties on the Dirac-GAN)"),
          measure=lambda r: r.scalars[LOCUS_ERROR], region=near(0.0, 1e-6), fmt="{:.1e}", passing=exact(LOCUS_ERROR, 2e-8),
          control=Control(name="closed form with f'(0) = 0.55 (perturbed; run time: against this run's locus)",
                          results=exact(LOCUS_ERROR, 0.05)), baseline=ctl.perturbed_locus_error),
    Claim(statement="GAN and NSGAN eigenvalues +-i/2, WGAN (clip) +-i at the equilibrium: on the imaginary axis "
          "(max |error| against the closed form)", paper="+-f'(0) i",
          where=MESCHEDER.format("Lemma 2.2 (Sec. 2.2); WGAN: Sec. 3.1"),
          measure=lambda r: r.scalars[MAX_EIGEN],
          region=near(0.0, 1e-9), fmt="{:.1e}", passing=exact(MAX_EIGEN, 0.0), baseline=ctl.r1_against_gan,
          control=Control(name="R1 gamma 0.3 in the GAN's place (real part -0.15; run time: its computed eigenvalues)",
                          results=exact(MAX_EIGEN, 0.15))),
    Claim(statement="distances after 500 steps from (1, 1) match the independent reimplementation and the notebook's "
          "WGAN-GP(0.7, 1) to their printed precision, 0.005 (all methods, both orders): a check of the implementation",
          paper="REFERENCES [C]; 1.80 / 1.22",
          where="not in the paper: the authors' Dirac-GAN notebook (LMescheder/GAN_stability) and an independent "
          "reimplementation (REFERENCES.md [C])",
          measure=ctl.reference_difference, region=near(0.0, 0.005), fmt="{:.3g}", baseline=ctl.swapped_reference,
          control=Control(name="the wrong reference (run time: each distance against the other update order's; "
                          "case: every distance 0.05 off)", results=exact(REFERENCE, 0.05)),
          passing=exact(REFERENCE, 0.002)),
]

if __name__ == "__main__":
    main(NAME)

"""The Dirac-GAN: which training methods converge (Mescheder et al. 2018, Figures 1-3).

    python run.py gan-dirac --preset quick     # ~10 s on 2 CPU cores (5 compiled programs)
    python run.py gan-dirac --preset paper     # the same game, 20 random starts

Data delta_0, generator delta_theta, discriminator D(x) = psi x, f(t) =
-log(1 + e^-t), f'(0) = 1/2. Gradient steps of size h = 0.2 for 500 steps,
simultaneous or alternating (theta first), as in the GAN_stability notebook.
The paper: the unregularized GAN, non-saturating GAN, WGAN and WGAN-GP are not
locally convergent (the GAN's Jacobian at the equilibrium has eigenvalues
+- f'(0) i = +- i/2); R1 and consensus optimization are, R1's eigenvalues
being -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2).

"Converges" is read as a rate, not a distance after a fixed number of steps:
(a) the spectral radius of the linearized update at the equilibrium
(`update_jacobian`, float64 jacfwd of one step), where the field has a
Jacobian there; (b) the slope of log |x_t| over the second half of each path
(`log_distance_slope`), for every method, over the starts. WGAN-GP's field
has |psi| in it, so it has no Jacobian at psi = 0: no eigenvalue or spectral
radius is claimed for it, only its measured slope.

Conventions (the three codes disagree): R1 here is the paper's gamma/2
E||grad D||^2, whose Dirac field is v_psi = theta f'(theta psi) - gamma psi:
this gamma equals the notebook's `reg` in its R1 field, while
GAN_stability's training script's `reg_param` is gamma / 2. WGAN-GP is
weight (||grad D|| - g0)^2, the notebook's WGAN_GP(reg, g0) with reg = 2
weight: `wgan-gp` is the class default WGAN_GP(1, 0.3) (weight 0.5), and
`wgan-gp-0.7` the setting the notebook plots, WGAN_GP(0.7, 1) (weight 0.35).

The distances after 500 steps from (1, 1) are compared with an independent
reimplementation (REFERENCES section 4 [C]), simultaneous / alternating: GAN
3.10 / 1.42, NSGAN 0.64 / 0.28, WGAN (clip 1) 1.00 / 1.02, WGAN-GP(1, 0.3)
0.43 / 0.43, WGAN-GP(0.7, 1) 1.80 / 1.22, R1 and consensus 0 / 0: a check of
the implementation, not of convergence.

Every field is derived by autodiff from research.gan.losses / gan_game (not
written by hand); the tests compare it with the closed forms. Start 0 is
(1, 1); the others are random points on the circle of radius sqrt(2) through
it, and the slopes' intervals are over these starts.
"""

import math
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import plots, stats
from common.config import require_at_least_one, require_distinct, require_numbers_representable, require_positive
from common.experiment import (Claim, Control, NotRunAtPreset, Results, arrays, at_least, at_most, near, scalars,
                               within)
from common.parallel import map_independent
from experiments.api import main
from research.gan.dirac import (
    dirac_batch,
    dirac_game,
    dirac_params,
    dirac_trajectory,
    dirac_vector,
    log_distance_slope,
    r1_equilibrium_eigenvalues,
    spectral_radius,
    update_jacobian,
)
from research.gan.game import field_eigenvalues

NAME = "gan-dirac"
STUDY = "gan"
PAPER = "Mescheder, Geiger & Nowozin 2018, Which training methods for GANs do actually converge? (ICML)"
REPRODUCES = ("Dirac-GAN, h = 0.2: GAN, NSGAN, WGAN, WGAN-GP have no geometric rate at the equilibrium, R1 and "
              "consensus converge at the linearization's rate; R1 eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)")

FPRIME0 = 0.5


class Method(NamedTuple):
    """A training method of the Dirac-GAN.

    game: `dirac_game` arguments; eigenvalues: the closed form at (0, 0), or
    None where the field has no Jacobian there (WGAN-GP) or the closed form
    is R1's (computed from gamma); reference: |x_500| from (1, 1),
    simultaneous / alternating [C].
    """

    game: dict
    eigenvalues: tuple[complex, ...] | None
    reference: tuple[float, float]


METHODS = {
    "gan": Method(dict(loss="gan"), (0.5j, -0.5j), (3.10, 1.42)),
    "nsgan": Method(dict(loss="nsgan"), (0.5j, -0.5j), (0.64, 0.28)),
    "wgan-clip1": Method(dict(loss="wgan", clip=1.0), (1j, -1j), (1.00, 1.02)),
    "wgan-gp": Method(dict(loss="wgan", gp_weight=0.5, gp_target=0.3), None, (0.43, 0.43)),
    "wgan-gp-0.7": Method(dict(loss="wgan", gp_weight=0.35, gp_target=1.0), None, (1.80, 1.22)),
    "r1-0.3": Method(dict(loss="gan", r1_gamma=0.3), None, (0.0, 0.0)),
    "r1-1": Method(dict(loss="gan", r1_gamma=1.0), None, (0.0, 0.0)),
    # J - gamma J^T J with J = [[0, -f'(0)], [f'(0), 0]]: -gamma f'(0)^2 +- f'(0) i.
    "consensus-1": Method(dict(loss="gan", consensus_gamma=1.0), (-0.25 + 0.5j, -0.25 - 0.5j), (0.0, 0.0)),
}
UNREGULARIZED = ("gan", "nsgan", "wgan-clip1", "wgan-gp", "wgan-gp-0.7")
NO_JACOBIAN = ("wgan-gp", "wgan-gp-0.7")  # |psi| has a kink at the equilibrium psi = 0
REGULARIZED = ("r1-0.3", "r1-1", "consensus-1")
MODES = ("simultaneous", "alternating")
# A path "converges geometrically" when log|x_t| falls faster than this per step
# (a halving in under 140 steps). Measured (quick): the unregularized methods'
# slopes lie in [-1.3e-3, 7e-4]; the slowest regularized one (R1, gamma 0.3) is -0.026.
RATE_EDGE = -5e-3


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
        require_numbers_representable(self)
        require_distinct(self, ('methods',))
        require_at_least_one(self, ("seeds", "steps", "grid", "locus_points"))
        require_positive(self, ("step_size",))
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {' '.join(METHODS)} (got {unknown})")


PRESETS = {"quick": Config(), "paper": Config(seeds=20)}


@partial(jax.jit, static_argnums=1)
def starting_points(key: jax.Array, others: int) -> jax.Array:
    """(1, 1), then `others` random points on the circle of radius sqrt(2) through it."""
    angles = jax.random.uniform(key, (others,), maxval=2 * jnp.pi)
    points = jnp.sqrt(2.0) * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)
    return jnp.concatenate([jnp.ones((1, 2)), points])


def paths_and_fields(config: Config) -> dict[str, np.ndarray]:
    """Every method's paths from every start in both orders ("<method>/<mode>/path", (starts, steps + 1, 2)),
    their distances to (0, 0) ("<method>/<mode>/distance") and the method's field on the plot's grid
    ("<method>/field"), float32, as one compiled program."""

    def compute(starts):
        span = jnp.linspace(-2.0, 2.0, config.grid)
        theta, psi = jnp.meshgrid(span, span, indexing="xy")
        out = {"grid_theta": theta, "grid_psi": psi}
        for name in config.methods:
            field, project = dirac_game(**METHODS[name].game)
            for mode in MODES:
                paths = jax.vmap(lambda x0: dirac_trajectory(
                    field, project, mode, (x0[0], x0[1]), config.step_size, config.steps))(starts)
                out[f"{name}/{mode}/path"] = paths
                # in XLA, as its float32 rounding (subnormals flushed near the floor) is what the slopes read
                out[f"{name}/{mode}/distance"] = jnp.linalg.norm(paths, axis=-1)
            out[f"{name}/field"] = dirac_vector(field, theta, psi)
        return out

    starts = starting_points(jax.random.key(config.seed), config.seeds - 1)
    return {k: np.asarray(v) for k, v in jax.jit(compute)(starts).items()}


def by_imaginary_part(values: np.ndarray) -> np.ndarray:
    """Eigenvalues (..., n) sorted along the last axis by imaginary part (eig's order is arbitrary)."""
    return np.take_along_axis(values, np.argsort(values.imag, axis=-1, kind="stable"), axis=-1)


def linearizations(config: Config) -> dict[str, np.ndarray]:
    """float64, as one compiled program: for each method with a Jacobian at (0, 0), its linearized update
    in both orders ("<method>/<mode>/update_jacobian") and its field's eigenvalues there ("<method>/eigen");
    R1's closed form for R1 methods ("<method>/closed_form"); R1's eigenvalues along gamma in [0, 2]
    ("locus/gamma", "locus/computed", "locus/expected")."""

    def compute(gammas):
        g, d = dirac_params(0.0, 0.0)
        batch = dirac_batch(jax.random.key(0))
        out = {}
        for name in (n for n in config.methods if n not in NO_JACOBIAN):
            game = METHODS[name].game
            field, project = dirac_game(**game)
            for mode in MODES:
                out[f"{name}/{mode}/update_jacobian"] = update_jacobian(field, project, mode, config.step_size)
            out[f"{name}/eigen"] = field_eigenvalues(field, g, d, batch)
            if "r1_gamma" in game:
                out[f"{name}/closed_form"] = r1_equilibrium_eigenvalues(game["r1_gamma"], FPRIME0)
        out["locus/computed"] = jax.vmap(lambda gamma: field_eigenvalues(
            dirac_game(loss="gan", r1_gamma=gamma)[0], g, d, batch))(gammas)
        out["locus/expected"] = jax.vmap(lambda gamma: r1_equilibrium_eigenvalues(gamma, FPRIME0))(gammas)
        return out

    gammas = np.linspace(0.0, 2.0, config.locus_points)
    with jax.enable_x64(True):
        out = {k: np.asarray(v) for k, v in jax.jit(compute)(gammas).items()}
    return out | {"locus/gamma": gammas}


def closed_form(name: str, linear: dict[str, np.ndarray]) -> np.ndarray | None:
    """The method's eigenvalues at (0, 0) in closed form, sorted by imaginary part; None where not claimed."""
    if f"{name}/closed_form" in linear:
        return by_imaginary_part(linear[f"{name}/closed_form"])
    if METHODS[name].eigenvalues is None:
        return None
    return by_imaginary_part(np.asarray(METHODS[name].eigenvalues, complex))


def r1_locus(linear: dict[str, np.ndarray], results: Results) -> None:
    """R1's equilibrium eigenvalues (jacfwd, float64) against gamma, beside the closed form."""
    computed, expected = by_imaginary_part(linear["locus/computed"]), linear["locus/expected"]
    # Pair each computed value with the nearer closed-form one (the order of eig is arbitrary).
    error = np.minimum(np.abs(computed - expected).max(axis=1), np.abs(computed - expected[:, ::-1]).max(axis=1))
    results.arrays["locus/gamma"] = linear["locus/gamma"]
    results.arrays["locus/computed_real"], results.arrays["locus/computed_imag"] = computed.real, computed.imag
    results.scalars["r1/max_eigen_error"] = float(error.max())


def run(config: Config, session) -> Results:
    results = Results()
    # two independent programs: one compiles while the other traces (threads)
    measured, linear = map_independent(lambda compute: compute(config), (paths_and_fields, linearizations))
    results.arrays["grid_theta"], results.arrays["grid_psi"] = measured["grid_theta"], measured["grid_psi"]
    s = results.scalars
    distance_rows, rate_rows, eigen_rows = [], [], []
    for name in config.methods:
        method = METHODS[name]
        distance_row, rate_row = {"method": name}, {"method": name}
        for mode, ref in zip(MODES, method.reference):
            paths, distance = measured[f"{name}/{mode}/path"], measured[f"{name}/{mode}/distance"]  # (starts, ...)
            slopes = np.array([log_distance_slope(d) for d in distance])
            results.arrays[f"{name}/{mode}/path"] = paths[0]
            results.arrays[f"{name}/{mode}/distance"] = distance[0]
            results.arrays[f"slope/{name}/{mode}"] = slopes
            s[f"{name}/{mode}/distance"] = float(distance[0, -1])
            distance_row[f"{mode} |x_T| from (1, 1)"] = float(distance[0, -1])
            distance_row[f"{mode} reference [C]"] = ref
            slope = stats.mean(slopes, "starts")
            rate_row[f"{mode}: slope of log|x_t| (95%)"] = (
                f"{slope.value:.3g} [{slope.interval[0]:.3g}, {slope.interval[1]:.3g}]")
            if name not in NO_JACOBIAN:
                radius = spectral_radius(linear[f"{name}/{mode}/update_jacobian"])
                s[f"{name}/{mode}/spectral_radius"] = radius
                rate_row[f"{mode}: spectral radius, log"] = f"{radius:.6g}, {np.log(radius):.3g}"
            else:
                rate_row[f"{mode}: spectral radius, log"] = "none: no Jacobian at psi = 0"
        distance_rows.append(distance_row)
        rate_rows.append(rate_row)
        results.arrays[f"{name}/field"] = measured[f"{name}/field"]

        expected = closed_form(name, linear)
        if expected is None:
            eigen_rows.append({"method": name, "eigenvalues (jacfwd, float64)": "not claimed",
                               "closed form": "none: |psi| is not differentiable at the equilibrium",
                               "max |error|": float("nan")})
            continue
        computed = by_imaginary_part(linear[f"{name}/eigen"])
        error = float(np.max(np.abs(computed - expected)))
        s[f"{name}/eigen_error"] = error
        eigen_rows.append({
            "method": name,
            "eigenvalues (jacfwd, float64)": ", ".join(f"{v:.6g}" for v in computed),
            "closed form": ", ".join(f"{v:.6g}" for v in expected),
            "max |error|": error,
        })
    r1_locus(linear, results)

    nan = float("nan")
    smooth_unregularized = [n for n in UNREGULARIZED if n in config.methods and n not in NO_JACOBIAN]
    s["unregularized/min_spectral_radius"] = min(
        (s[f"{n}/{m}/spectral_radius"] for n in smooth_unregularized for m in MODES), default=nan)
    s["unregularized/max_eigen_error"] = max((s[f"{n}/eigen_error"] for n in smooth_unregularized), default=nan)
    for name in (n for n in REGULARIZED if n in config.methods):
        for mode in MODES:
            s[f"log_radius/{name}/{mode}"] = float(np.log(s[f"{name}/{mode}/spectral_radius"]))
    # The reference numbers are for (1, 1), h = 0.2, 500 steps only.
    paper_setting = config.steps == 500 and config.step_size == 0.2
    s["reference/max_abs_difference"] = max(
        abs(s[f"{n}/{m}/distance"] - METHODS[n].reference[i]) for n in config.methods for i, m in enumerate(MODES)
    ) if paper_setting else nan
    results.tables[f"Distance to the equilibrium after {config.steps} steps (start (1, 1))"] = distance_rows
    results.tables[f"Rates: slope of log|x_t| over the second half of the path (mean over {config.seeds} starts) "
                   "and the linearized update's spectral radius at (0, 0)"] = rate_rows
    results.tables["Eigenvalues of the field's Jacobian at the equilibrium (0, 0)"] = eigen_rows
    results.notes += [
        "Simultaneous GAN steps spiral outwards: with eigenvalues +-i/2 the linearized step multiplies the "
        "distance by |1 + 0.2 (i/2)| = sqrt(1.01) = 1.005; the alternating step's matrix has determinant 1 "
        "and spectral radius exactly 1 (a rotation): neither has a geometric rate.",
        "The non-saturating GAN drifts inwards sublinearly (alternating: |x| 0.28 after 500 steps, 0.088 after "
        "5000; slope -1.3e-3 over steps 250-500 and -1.4e-4 over 2500-5000 from (1, 1)): a fixed-horizon "
        "distance would call it convergent at a long enough horizon, the rate does not.",
        "WGAN-GP: the penalty's (|psi| - g0) sign(psi) has no derivative at psi = 0, so no eigenvalue is "
        "claimed; its paths settle on closed orbits (slope ~0).",
        "R1 with gamma = 1 = 2 f'(0) has a double, defective eigenvalue: |x_t| ~ t rho^t, so the measured "
        "slope is log rho + 1/t (ratio 0.97 over steps 250-500, 0.90 over 75-150).",
        "Distances are float32; eigenvalues and spectral radii float64 (jacfwd of the autodiff field or step).",
    ]
    return results


def figures(results: Results, directory) -> None:
    theta, psi = results.arrays["grid_theta"], results.arrays["grid_psi"]
    names = [n for n in METHODS if f"{n}/field" in results.arrays]
    fig, axes = plots.new_figure(4, 3, width=3.3, height=3.1)
    for ax, name in zip(axes.ravel(), names):
        field = results.arrays[f"{name}/field"]
        norm = np.hypot(field[..., 0], field[..., 1]) + 1e-12
        ax.quiver(theta, psi, field[..., 0] / norm, field[..., 1] / norm, color="0.7", width=0.004)
        for mode, style in zip(MODES, ("-", "--")):
            path = results.arrays[f"{name}/{mode}/path"]
            ax.plot(path[:, 0], path[:, 1], style, lw=1.0, label=mode)
        ax.plot([1.0], [1.0], "ko", ms=3)
        ax.plot([0.0], [0.0], "r*", ms=6)
        ax.set(xlim=(-2, 2), ylim=(-2, 2), xlabel="theta", ylabel="psi", title=name)
    axes[0, 0].legend(loc="lower left")
    for ax, mode in zip(axes[2, 2:], MODES):
        for name in names:
            ax.semilogy(np.maximum(results.arrays[f"{name}/{mode}/distance"], 1e-30), label=name)
        ax.set(xlabel="step", ylabel="|(theta, psi)|", title=f"{mode}: |x_t| (slope = rate)")
    axes[2, 3].legend(fontsize=6)
    for ax in axes.ravel()[len(names):10]:
        ax.axis("off")
    plots.save(fig, directory, "dirac_paths", **{k: v for k, v in results.arrays.items()
                                                  if k.endswith(("path", "distance", "field")) or k.startswith("grid")})

    fig, axes = plots.new_figure(2, 1, width=4.2, height=3.6)
    gammas = results.arrays["locus/gamma"]
    fine = np.linspace(gammas.min(), gammas.max(), 400)
    root = np.sqrt((fine**2 / 4 - FPRIME0**2).astype(complex))
    for sign in (1, -1):
        branch = -fine / 2 + sign * root
        axes[0, 0].plot(branch.real, branch.imag, "k-", lw=0.8, label="closed form" if sign == 1 else None)
        axes[0, 1].plot(fine, branch.real, "k-", lw=0.8, label="closed form" if sign == 1 else None)
    real, imag = results.arrays["locus/computed_real"], results.arrays["locus/computed_imag"]
    points = axes[0, 0].scatter(real.ravel(), imag.ravel(), c=np.repeat(gammas, 2), s=10, cmap="viridis",
                                label="jacfwd (float64)")
    fig.colorbar(points, ax=axes[0, 0], label="gamma")
    axes[0, 0].set(xlabel="Re lambda", ylabel="Im lambda", title="R1 eigenvalue locus, gamma in [0, 2]")
    axes[0, 0].legend(fontsize=7)
    axes[0, 1].plot(np.repeat(gammas, 2), real.ravel(), "o", ms=3, label="jacfwd (float64)")
    axes[0, 1].axvline(2 * FPRIME0, color="0.6", ls=":", lw=0.8)
    axes[0, 1].set(xlabel="gamma", ylabel="Re lambda", title="real parts (double root at gamma = 1)")
    axes[0, 1].legend(fontsize=7)
    plots.save(fig, directory, "r1_locus", **{k: v for k, v in results.arrays.items() if k.startswith("locus/")})


# --- claims: measures, and the cases the contract test runs them on ---


def slopes_of(r: Results, names) -> list[stats.Measurement]:
    return [stats.mean(r.arrays[f"slope/{n}/{m}"], "starts") for n in names for m in MODES
            if f"slope/{n}/{m}" in r.arrays]


def negated(m: stats.Measurement) -> stats.Measurement:
    return stats.Measurement(-m.value, None if m.interval is None else (-m.interval[1], -m.interval[0]), m.how, m.n)


def slowest_unregularized_decay(r: Results) -> stats.Measurement:
    """The most negative mean slope among the unregularized settings (all must stay above RATE_EDGE)."""
    measured = slopes_of(r, UNREGULARIZED)
    if not measured:
        raise KeyError("no unregularized slopes")
    return stats.smallest(*measured)


def fastest_regularized_growth(r: Results) -> stats.Measurement:
    """The largest (least negative) mean slope among R1 and consensus (all must be below RATE_EDGE)."""
    measured = slopes_of(r, REGULARIZED)
    if not measured:
        raise KeyError("no regularized slopes")
    return negated(stats.smallest(*(negated(m) for m in measured)))


def worst_rate_ratio(r: Results) -> stats.Measurement:
    """measured slope / log spectral radius, the setting farthest from 1 (1: the linearization's rate)."""
    ratios = []
    for name in REGULARIZED:
        for mode in MODES:
            if f"slope/{name}/{mode}" not in r.arrays:
                continue
            slope, log_radius = stats.mean(r.arrays[f"slope/{name}/{mode}"], "starts"), r.scalars[
                f"log_radius/{name}/{mode}"]
            lo, hi = sorted(x / log_radius for x in slope.interval)
            ratios.append(stats.Measurement(slope.value / log_radius, (lo, hi), slope.how, slope.n))
    if not ratios:
        raise KeyError("no regularized settings")
    return max(ratios, key=lambda m: max(abs(m.interval[0] - 1), abs(m.interval[1] - 1)))


def slopes(values: dict[tuple[str, str], float], spread: float = 1e-4, starts: int = 5) -> dict:
    return {f"slope/{n}/{m}": v + spread * np.linspace(-1, 1, starts) for (n, m), v in values.items()}


# Slopes as measured on the quick preset (mean over starts), and the linearization's log radii.
MEASURED_UNREGULARIZED = {("gan", "simultaneous"): 6.7e-4, ("nsgan", "alternating"): -1.3e-3,
                          ("wgan-gp", "simultaneous"): -3e-5, ("wgan-gp-0.7", "alternating"): 4e-5}
MEASURED_REGULARIZED = {("r1-0.3", "simultaneous"): -0.0257, ("r1-1", "simultaneous"): -0.103,
                        ("consensus-1", "simultaneous"): -0.0458}
LOG_RADIUS = {"log_radius/r1-0.3/simultaneous": -0.0256, "log_radius/r1-1/simultaneous": -0.1054,
              "log_radius/consensus-1/simultaneous": -0.0458}


def wrong_linearization() -> Results:
    """The control: log radii of the update at step h/2 (half the true rate), beside the true slopes."""
    return Results(scalars={k: v / 2 for k, v in LOG_RADIUS.items()}, arrays=slopes(MEASURED_REGULARIZED))


def rates_as_measured() -> Results:
    return Results(scalars=dict(LOG_RADIUS), arrays=slopes(MEASURED_REGULARIZED))


R1_GAMMA_03_RADIUS = 0.9747  # |1 + 0.2 (-0.15 + 0.477 i)|
def reference_difference(r: Results) -> float:
    """The largest distance gap to the reference; not run away from its setting (500 steps of 0.2 from (1, 1))."""
    value = r.scalars["reference/max_abs_difference"]
    if math.isnan(value):
        raise NotRunAtPreset("quick", "the reference distances are for 500 steps of size 0.2")
    return value


CLAIMS = [
    Claim(
        statement="GAN, NSGAN, WGAN (clip 1): the update linearized at the equilibrium has spectral radius >= 1 "
        "(h 0.2, simultaneous and alternating): no geometric convergence",
        paper="eigenvalues +-f'(0) i (Lemma 2.2)",
        measure=lambda r: r.scalars["unregularized/min_spectral_radius"],
        region=at_least(1.0 - 1e-9),
        control=Control(
            name="R1 gamma 0.3 in their place (radius 0.975)",
            results=scalars({"unregularized/min_spectral_radius": R1_GAMMA_03_RADIUS}),
        ),
        passing=scalars({"unregularized/min_spectral_radius": 1.0}),
        fmt="{:.6g}",
    ),
    Claim(
        statement=f"all five unregularized settings (incl. WGAN-GP, no Jacobian) show no geometric rate: slope of "
        f"log|x_t| over the second half >= {RATE_EDGE} per step (the most negative setting)",
        paper="not locally convergent",
        measure=slowest_unregularized_decay,
        region=at_least(RATE_EDGE),
        control=Control(
            name="R1 gamma 0.3's paths in their place", results=arrays(slopes({("gan", "simultaneous"): -0.0257}))
        ),
        passing=arrays(slopes(MEASURED_UNREGULARIZED)),
        fmt="{:.3g}",
    ),
    Claim(
        statement=f"R1 (gamma 0.3, 1) and consensus (gamma 1) converge geometrically: slope of log|x_t| <= {RATE_EDGE} "
        "per step (the least negative setting)",
        paper="locally convergent (Theorem 4.1)",
        measure=fastest_regularized_growth,
        region=at_most(RATE_EDGE),
        control=Control(
            name="the unregularized GAN's paths in their place",
            results=arrays(slopes({("r1-1", "simultaneous"): 6.7e-4})),
        ),
        passing=arrays(slopes(MEASURED_REGULARIZED)),
        fmt="{:.3g}",
    ),
    Claim(
        statement="R1 and consensus converge at the linearization's rate: measured slope / log spectral radius in "
        "[0.9, 1.1] (the setting farthest from 1)",
        paper="rate from the Jacobian's eigenvalues",
        measure=worst_rate_ratio,
        region=within(0.9, 1.1),
        control=Control(name="the update linearized at step h/2 (half the rate)", results=wrong_linearization),
        passing=rates_as_measured,
        fmt="{:.3f}",
    ),
    Claim(
        statement="R1 eigenvalues at the equilibrium = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) for gamma in [0, 2] "
        "(max |error|, float64; sqrt(eps) at the double root gamma = 1)",
        paper="closed form (section 4.1)",
        measure=lambda r: r.scalars["r1/max_eigen_error"],
        region=near(0.0, 1e-6),
        control=Control(
            name="closed form with f'(0) = 0.55 (a perturbed constant)", results=scalars({"r1/max_eigen_error": 0.05})
        ),
        passing=scalars({"r1/max_eigen_error": 2e-8}),
        fmt="{:.1e}",
    ),
    Claim(
        statement="GAN and NSGAN eigenvalues +-i/2, WGAN (clip) +-i at the equilibrium: on the imaginary axis "
        "(max |error| against the closed form)",
        paper="+-f'(0) i",
        measure=lambda r: r.scalars["unregularized/max_eigen_error"],
        region=near(0.0, 1e-9),
        control=Control(
            name="R1 gamma 0.3 in the GAN's place (real part -0.15)",
            results=scalars({"unregularized/max_eigen_error": 0.15}),
        ),
        passing=scalars({"unregularized/max_eigen_error": 0.0}),
        fmt="{:.1e}",
    ),
    Claim(
        statement="distances after 500 steps from (1, 1) match the independent reimplementation and the notebook's "
        "WGAN-GP(0.7, 1) to 0.01 (all methods, both orders): a check of the implementation",
        paper="REFERENCES [C]; 1.80 / 1.22",
        measure=reference_difference,
        region=near(0.0, 0.01),
        control=Control(
            name="a perturbed constant: every distance 0.05 off",
            results=scalars({"reference/max_abs_difference": 0.05}),
        ),
        passing=scalars({"reference/max_abs_difference": 0.005}),
        fmt="{:.3g}",
    ),
]


if __name__ == "__main__":
    main(NAME)

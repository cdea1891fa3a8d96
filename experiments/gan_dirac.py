"""The Dirac-GAN: which training methods converge (Mescheder et al. 2018, Figures 1-3).

    python run.py gan-dirac --preset quick     # 40 s on 2 shared CPU cores (20 s user CPU)
    python run.py gan-dirac --preset paper     # the same game, 20 random starts

Data delta_0, generator delta_theta, discriminator D(x) = psi x, f(t) =
-log(1 + e^-t). Gradient steps of size h = 0.2 for 500 steps from (theta,
psi) = (1, 1), simultaneous or alternating (theta first), as in the
GAN_stability notebook. The paper: unregularized GAN, non-saturating GAN,
WGAN and WGAN-GP do not converge (the GAN's Jacobian at the equilibrium has
eigenvalues +- f'(0) i = +- i/2; simultaneous steps spiral outwards); R1 and
consensus optimization converge, with R1's eigenvalues -gamma/2 +-
sqrt(gamma^2/4 - f'(0)^2). An independent reimplementation (REFERENCES
section 4 [C]) finds |(theta, psi)| after 500 steps, simultaneous /
alternating: GAN 3.10 / 1.42, NSGAN 0.64 / 0.28, WGAN (clip 1) 1.00 / 1.02,
WGAN-GP 0.43 / 0.43, R1 and consensus 0 / 0.

Conventions: R1 is gamma/2 E||grad D||^2 (the paper's; the reference code's
`reg` is gamma/2). WGAN-GP is weight (||grad D|| - g0)^2 with weight 0.5 and
g0 = 0.3, which is the notebook's field psi' = theta - (|psi| - 0.3) sign(psi),
i.e. the paper's gamma/2 (||grad D|| - g0)^2 with gamma = 1.

Every field is derived by autodiff from research.gan_losses / gan_game (not
written by hand); the tests compare it with the closed forms. Seed 0 starts at
(1, 1); the other "seeds" start at random points on the circle of radius
sqrt(2) through (1, 1), to show the outcome does not hinge on the start.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from experiments.api import main
from research.gan_dirac import (
    dirac_batch,
    dirac_game,
    dirac_params,
    dirac_trajectory,
    dirac_vector,
    r1_equilibrium_eigenvalues,
)
from research.gan_game import field_eigenvalues

NAME = "gan-dirac"
STUDY = "gan"
PAPER = "Mescheder, Geiger & Nowozin 2018, Which training methods for GANs do actually converge? (ICML)"
REPRODUCES = ("Dirac-GAN paths from (1, 1), h = 0.2, 500 steps: GAN, NSGAN, WGAN, WGAN-GP do not converge, "
              "R1 and consensus do; R1 eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)")
QUICK_SECONDS = 40

# name -> (dirac_game arguments, closed-form eigenvalues at (0, 0), reference distances [C]).
FPRIME0 = 0.5
METHODS = {
    "gan": (dict(loss="gan"), (0.5j, -0.5j), (3.10, 1.42)),
    "nsgan": (dict(loss="nsgan"), (0.5j, -0.5j), (0.64, 0.28)),
    "wgan-clip1": (dict(loss="wgan", clip=1.0), (1j, -1j), (1.00, 1.02)),
    "wgan-gp": (dict(loss="wgan", gp_weight=0.5, gp_target=0.3), (1j, -1j), (0.43, 0.43)),
    "r1-0.3": (dict(loss="gan", r1_gamma=0.3), None, (0.0, 0.0)),
    "r1-1": (dict(loss="gan", r1_gamma=1.0), None, (0.0, 0.0)),
    # J - gamma J^T J with J = [[0, -f'(0)], [f'(0), 0]]: -gamma f'(0)^2 +- f'(0) i.
    "consensus-1": (dict(loss="gan", consensus_gamma=1.0), (-0.25 + 0.5j, -0.25 - 0.5j), (0.0, 0.0)),
}
UNREGULARIZED = ("gan", "nsgan", "wgan-clip1", "wgan-gp")
REGULARIZED = ("r1-0.3", "r1-1", "consensus-1")
MODES = ("simultaneous", "alternating")


@dataclass(frozen=True)
class Config:
    """Dirac-GAN paths and the Jacobian's eigenvalues at the equilibrium."""

    seeds: int = 5
    """Starting points: (1, 1), then seeds - 1 random points on the circle of radius sqrt(2)."""
    step_size: float = 0.2
    """Gradient step h (the notebook's)."""
    steps: int = 500
    grid: int = 17
    """Arrows per axis of the vector-field plot."""
    methods: tuple[str, ...] = tuple(METHODS)
    """Subset of: gan nsgan wgan-clip1 wgan-gp r1-0.3 r1-1 consensus-1 (R1 and consensus gamma after the dash)."""
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "steps", "grid"))
        if not self.step_size > 0:
            raise ValueError(f"step_size must be positive (got {self.step_size})")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {' '.join(METHODS)} (got {unknown})")


PRESETS = {"quick": Config(), "paper": Config(seeds=20)}


def starting_points(config: Config) -> jax.Array:
    angles = jax.random.uniform(jax.random.key(config.seed), (config.seeds - 1,), maxval=2 * jnp.pi)
    others = jnp.sqrt(2.0) * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)
    return jnp.concatenate([jnp.ones((1, 2)), others])


def equilibrium_eigenvalues(kwargs: dict) -> np.ndarray:
    """Eigenvalues of the field's Jacobian at (0, 0), float64, sorted by imaginary part."""
    with jax.enable_x64(True):
        field, _ = dirac_game(**kwargs)
        g, d = dirac_params(0.0, 0.0)
        values = np.asarray(field_eigenvalues(field, g, d, dirac_batch(jax.random.key(0))))
    return values[np.argsort(values.imag, kind="stable")]


def closed_form(name: str, kwargs: dict) -> np.ndarray:
    values = METHODS[name][1]
    if values is None:
        with jax.enable_x64(True):
            values = np.asarray(r1_equilibrium_eigenvalues(kwargs["r1_gamma"], FPRIME0))
    values = np.asarray(values, complex)
    return values[np.argsort(values.imag, kind="stable")]


def run(config: Config, session) -> Results:
    results = Results()
    starts = starting_points(config)
    span = jnp.linspace(-2.0, 2.0, config.grid)
    theta_grid, psi_grid = jnp.meshgrid(span, span, indexing="xy")
    results.arrays["grid_theta"], results.arrays["grid_psi"] = np.asarray(theta_grid), np.asarray(psi_grid)
    distance_rows, eigen_rows = [], []
    for name in config.methods:
        kwargs, _, reference = METHODS[name]
        field, project = dirac_game(**kwargs)
        row = {"method": name}
        for mode, ref in zip(MODES, reference):
            paths = jax.jit(jax.vmap(lambda s, mode=mode: dirac_trajectory(
                field, project, mode, (s[0], s[1]), config.step_size, config.steps)))(starts)
            distance = np.asarray(jnp.linalg.norm(paths, axis=-1))  # (starts, steps + 1)
            results.arrays[f"{name}/{mode}/path"] = np.asarray(paths[0])
            results.arrays[f"{name}/{mode}/distance"] = distance[0]
            results.scalars[f"{name}/{mode}/distance"] = float(distance[0, -1])
            row[f"{mode} |x_500|"] = float(distance[0, -1])
            row[f"{mode} reference [C]"] = ref
            if config.seeds > 1:
                others = distance[1:, -1]
                row[f"{mode} random starts"] = f"{others.mean():.3g} +- {others.std():.2g}"
        distance_rows.append(row)
        results.arrays[f"{name}/field"] = np.asarray(dirac_vector(field, theta_grid, psi_grid))

        computed, expected = equilibrium_eigenvalues(kwargs), closed_form(name, kwargs)
        error = float(np.max(np.abs(computed - expected)))
        results.scalars[f"{name}/eigen_error"] = error
        results.scalars[f"{name}/max_real_eigen"] = float(computed.real.max())
        eigen_rows.append({
            "method": name,
            "eigenvalues (jacfwd, float64)": ", ".join(f"{v:.6g}" for v in computed),
            "closed form": ", ".join(f"{v:.6g}" for v in expected),
            "max |error|": error,
        })

    s = results.scalars
    unregularized = [n for n in UNREGULARIZED if n in config.methods]
    regularized = [n for n in REGULARIZED if n in config.methods]
    r1 = [n for n in regularized if n.startswith("r1")]
    nan = float("nan")
    s["unregularized/min_distance"] = min(
        (s[f"{n}/{m}/distance"] for n in unregularized for m in MODES), default=nan)
    s["regularized/max_distance"] = max(
        (s[f"{n}/{m}/distance"] for n in regularized for m in MODES), default=nan)
    s["r1/max_eigen_error"] = max((s[f"{n}/eigen_error"] for n in r1), default=nan)
    # The reference numbers are for (1, 1), h = 0.2, 500 steps only.
    paper_setting = config.steps == 500 and config.step_size == 0.2
    s["reference/max_abs_difference"] = max(
        abs(s[f"{n}/{m}/distance"] - METHODS[n][2][i]) for n in config.methods for i, m in enumerate(MODES)
    ) if paper_setting else nan
    results.tables["Distance to the equilibrium after the last step (seed 0 starts at (1, 1))"] = distance_rows
    results.tables["Eigenvalues of the field's Jacobian at the equilibrium (0, 0)"] = eigen_rows
    results.notes += [
        "Simultaneous GAN steps spiral outwards: with eigenvalues +-i/2 every explicit Euler step multiplies "
        "the distance by |1 + 0.2 (i/2)| = sqrt(1.01) near the equilibrium.",
        "WGAN-GP's row of eigenvalues is taken at (0, 0), where |psi| has a kink; its paths settle on a "
        "closed orbit of radius ~0.43 around it rather than converge (the penalty only pins |psi| near 0.3).",
        "Distances are float32; the eigenvalues float64 (jacfwd of the autodiff field, then eig).",
    ]
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure(4, 2, width=3.3, height=3.1)
    theta, psi = results.arrays["grid_theta"], results.arrays["grid_psi"]
    names = [n for n in METHODS if f"{n}/field" in results.arrays]
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
    ax = axes[1, 3]
    for name in names:
        ax.semilogy(np.maximum(results.arrays[f"{name}/simultaneous/distance"], 1e-12), label=name)
    ax.set(xlabel="step", ylabel="|(theta, psi)|", title="simultaneous: |x_k|")
    ax.legend(fontsize=6)
    plots.save(fig, directory, "dirac_paths", **{k: v for k, v in results.arrays.items()
                                                  if k.endswith(("path", "distance", "field")) or k.startswith("grid")})


CLAIMS = [
    Claim("unregularized GAN, NSGAN, WGAN, WGAN-GP do not converge: min distance after 500 steps > 0.1",
          "not locally convergent", lambda r: r.scalars["unregularized/min_distance"], lambda v: v > 0.1),
    Claim("simultaneous GAN moves away from the equilibrium: distance > sqrt(2) (the start)", "3.10 [C]",
          lambda r: r.scalars["gan/simultaneous/distance"], lambda v: v > np.sqrt(2)),
    Claim("R1 (gamma 0.3, 1) and consensus converge: max distance after 500 steps < 1e-3", "0 / 0 [C]",
          lambda r: r.scalars["regularized/max_distance"], lambda v: v < 1e-3, fmt="{:.2e}"),
    Claim("R1 eigenvalues at the equilibrium = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) to 1e-6", "closed form",
          lambda r: r.scalars["r1/max_eigen_error"], lambda v: v < 1e-6, fmt="{:.1e}"),
    Claim("unregularized GAN eigenvalues +-i/2: largest real part 0 (not < 0)", "+-f'(0) i",
          lambda r: r.scalars["gan/max_real_eigen"], lambda v: abs(v) < 1e-12, fmt="{:.1e}"),
    Claim("distances match the independent reimplementation to 0.01 (all methods, both modes)",
          "REFERENCES [C]", lambda r: r.scalars["reference/max_abs_difference"], lambda v: v < 0.01,
          fmt="{:.3g}"),
]


if __name__ == "__main__":
    main(NAME)

"""SELU's constants from the moment map's fixed point, its contraction, and alpha dropout.

    python run.py selu-constants --preset quick     # ~12 s of CPU
    python run.py selu-constants --preset paper     # finer grids, 10x the Monte Carlo

Klambauer et al. (2017) choose lambda and alpha so that the map g of a SELU
layer's activation mean and variance (eq. (4), (5)) has the fixed point
(mu, nu) = (0, 1) for normalized weights (omega, tau) = (0, 1):
lambda = 1.0507009873554804934193349852946, alpha = 1.6732632423543772848170429916717.
Theorem 1: g's Jacobian has spectral norm below 1 on mu in [-0.1, 0.1],
nu in [0.8, 1.5] (omega in [-0.1, 0.1], tau in [0.95, 1.1]), so the fixed point
attracts. Alpha dropout ("New Dropout Technique") sets dropped units to -lambda*alpha and
applies an affine map a x + b that keeps mean 0 and variance 1.

The reference notebook (getSELUparameters.ipynb) also solves for the fixed
point (-0.1, 2) and prints alpha = 1.97690, lambda = 1.07385. Its equations
take the pre-activation z ~ N(mu, nu) itself, i.e. omega = tau = 1 in the
paper's notation; under normalized weights (omega = 0, tau = 1, z ~ N(0, nu))
the same target gives other constants. Both are solved and reported here.
"""

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from common import nn, plots, stats
from common.config import require_distinct, require_in_range, require_numbers_representable
from common.experiment import Claim, Control, Results, at_most, below, near
from experiments.api import main
from research.selu import snn as selu

NAME = "selu-constants"
STUDY = "selu"
PAPER = "Klambauer et al. 2017, Self-Normalizing Neural Networks (arXiv 1706.02515)"
REPRODUCES = ("lambda, alpha from g's fixed point (1.0507, 1.6733); Jacobian spectral norm 0.7877 < 1; "
              "alpha dropout keeps mean 0 / variance 1 (controls: float32 solve, linear layer, plain dropout)")

PAPER_LAMBDA = 1.0507009873554804934193349852946
PAPER_ALPHA = 1.6732632423543772848170429916717
NOTEBOOK_ALPHA, NOTEBOOK_LAMBDA = 1.9769021954241999, 1.073851239616047  # for (-0.1, 2)

# Theorem 1's domain.
MEAN_RANGE, VAR_RANGE = (-0.1, 0.1), (0.8, 1.5)
OMEGA_RANGE, TAU_RANGE = (-0.1, 0.1), (0.95, 1.1)


@dataclass(frozen=True)
class Config:
    """Fixed-point solve, moment-map field over Theorem 1's domain, alpha-dropout Monte Carlo."""

    seeds: int = 5
    """Independent Monte-Carlo repeats of the dropout check (one key each)."""
    mc_samples: int = 1_000_000
    """Gaussian inputs per repeat for the dropout moments."""
    dropout_rates: tuple[float, ...] = (0.05, 0.1, 0.2)
    grid_points: int = 21
    """Points per axis of the (mu, nu) grid; the (omega, tau) axes of the 4-D check get half as many."""
    trajectory_steps: int = 10
    """Iterations of g from the domain's corners drawn in the field figure."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        require_distinct(self, ('dropout_rates',))
        for field in ("seeds", "mc_samples", "grid_points", "trajectory_steps"):
            if getattr(self, field) < (3 if field == "grid_points" else 1):
                raise ValueError(f"{field} is too small (got {getattr(self, field)})")
        require_in_range(self, ("dropout_rates",), 0.0, 1.0, open_low=True, open_high=True)


PRESETS = {
    "quick": Config(),
    "paper": Config(seeds=10, mc_samples=10_000_000, grid_points=41, trajectory_steps=20),
}


# One compiled Newton solve per dtype: the targets are traced arguments, so every fixed point reuses it.
solve = jax.jit(selu.solve_selu_params, static_argnames="num_steps")


def solve_in_float32(results: Results) -> None:
    """The same Newton solve in float32: the perturbed-constant control, ~1e-7 off the paper's digits."""
    with jax.enable_x64(False):
        solution = solve(0.0, 1.0)
        results.scalars["float32/lambda"] = float(solution.params.lam)
        results.scalars["float32/alpha"] = float(solution.params.alpha)


def solve_constants(results: Results) -> None:
    """(0, 1) under the paper's reading, and (-0.1, 2) under both readings."""
    rows = []
    cases = [
        ("paper", "(0, 1), omega=0, tau=1 (paper)", 0.0, 1.0, 0.0, (PAPER_LAMBDA, PAPER_ALPHA)),
        ("notebook", "(-0.1, 2), omega=tau=1 (notebook: z ~ N(mu, nu))", -0.1, 2.0, 1.0,
         (NOTEBOOK_LAMBDA, NOTEBOOK_ALPHA)),
        ("normalized", "(-0.1, 2), omega=0, tau=1 (normalized weights: z ~ N(0, nu))", -0.1, 2.0, 0.0,
         (np.nan, np.nan)),
    ]
    for tag, label, mean, var, omega, (lam_ref, alpha_ref) in cases:
        solution = solve(mean, var, omega, 1.0)
        lam, alpha = float(solution.params.lam), float(solution.params.alpha)
        rows.append({
            "fixed point (mu, nu), weights": label, "lambda": f"{lam:.16f}", "alpha": f"{alpha:.16f}",
            "reference lambda": f"{lam_ref:.16g}", "reference alpha": f"{alpha_ref:.16g}",
            "|g - target|": float(solution.residual),
        })
        results.scalars[f"{tag}/lambda"], results.scalars[f"{tag}/alpha"] = lam, alpha
    results.tables["Fixed-point solutions (Newton, float64)"] = rows


@partial(jax.jit, static_argnums=(0, 1))
def field_arrays(grid_points: int, trajectory_steps: int) -> dict:
    """g over Theorem 1's (mu, nu) box, its Jacobian's spectral norm there and on the 4-D box, the
    linear layer's (the control), and g's iterates from the box's corners: one compiled program."""
    means = jnp.linspace(*MEAN_RANGE, grid_points)
    variances = jnp.linspace(*VAR_RANGE, grid_points)
    mean_MxV, var_MxV = jnp.meshgrid(means, variances, indexing="ij")
    moments = jax.vmap(jax.vmap(selu.moment_map))(mean_MxV, var_MxV)

    # Theorem 1's whole 4-D box (mu, nu, omega, tau).
    side = max(3, grid_points // 2)
    axes = [jnp.linspace(*r, n) for r, n in
            [(MEAN_RANGE, grid_points), (VAR_RANGE, grid_points), (OMEGA_RANGE, side), (TAU_RANGE, side)]]
    points = [a.ravel() for a in jnp.meshgrid(*axes, indexing="ij")]
    # g's Jacobian at the fixed point, on the (mu, nu) grid (omega=0, tau=1) and on the 4-D box: one
    # batch, so the program holds one copy of the Jacobian (erfc-heavy, slow to compile), not three.
    on_grid = (mean_MxV.ravel(), var_MxV.ravel(), 0 * mean_MxV.ravel(), 1 + 0 * mean_MxV.ravel())
    batch = [jnp.concatenate([jnp.array([at]), grid, box]) for at, grid, box in zip((0.0, 1.0, 0.0, 1.0), on_grid,
                                                                                    points)]
    jacobians = jax.vmap(selu.moment_map_jacobian)(*batch)
    norms = selu.spectral_norm(jacobians)
    jacobian, norm_MxV, norm_4d = jacobians[0], norms[1 : 1 + mean_MxV.size], norms[1 + mean_MxV.size :]
    norm_MxV = norm_MxV.reshape(mean_MxV.shape)
    norm_4d = norm_4d.reshape(grid_points, grid_points, side, side)

    linear_norm_of = jax.vmap(
        lambda m, v, o, t: selu.spectral_norm(selu.moment_map_jacobian(m, v, o, t, linear=True)))
    corners = jnp.array([[m, v] for m in MEAN_RANGE for v in VAR_RANGE])

    def iterate(start):
        def one(point, _):
            new = jnp.stack(selu.moment_map(point[0], point[1]))
            return new, new
        return jnp.concatenate([start[None], jax.lax.scan(one, start, None, trajectory_steps)[1]])

    trajectories = jax.vmap(iterate)(corners)  # (corners, steps + 1, 2)
    return {
        "means": means, "variances": variances, "moments": moments, "norm_MxV": norm_MxV,
        "jacobian": jacobian, "trajectories": trajectories, "norm_at_fixed_point": norms[0],
        "worst_omega_tau": jnp.max(norm_4d, axis=(2, 3)), "max_mu_nu_box": jnp.max(norm_MxV),
        "max_theorem1_box": jnp.max(norm_4d),
        "final_distance": jnp.max(jnp.linalg.norm(trajectories[:, -1] - jnp.array([0.0, 1.0]), axis=-1)),
        "linear_at_fixed_point": selu.spectral_norm(selu.moment_map_jacobian(0.0, 1.0, linear=True)),
        "linear_mu_nu_box": jnp.max(linear_norm_of(*on_grid)),
        "linear_theorem1_box": jnp.max(linear_norm_of(*points)),
    }


def moment_field(config: Config, results: Results) -> None:
    """g over Theorem 1's (mu, nu) box, its Jacobian's spectral norm, trajectories."""
    f = field_arrays(config.grid_points, config.trajectory_steps)
    results.arrays.update({
        "field/mean": np.asarray(f["means"]), "field/var": np.asarray(f["variances"]),
        "field/new_mean": np.asarray(f["moments"].mean), "field/new_var": np.asarray(f["moments"].var),
        "field/spectral_norm": np.asarray(f["norm_MxV"]), "field/trajectories": np.asarray(f["trajectories"]),
        "field/spectral_norm_worst_omega_tau": np.asarray(f["worst_omega_tau"]),
        "jacobian_at_fixed_point": np.asarray(f["jacobian"]),
    })
    results.scalars["jacobian_norm_at_fixed_point"] = float(f["norm_at_fixed_point"])
    results.scalars["max_norm_mu_nu_box"] = float(f["max_mu_nu_box"])
    results.scalars["max_norm_theorem1_box"] = float(f["max_theorem1_box"])
    # The linear-layer control over the same boxes: Jacobian diag(omega, tau).
    results.scalars["linear/jacobian_norm_at_fixed_point"] = float(f["linear_at_fixed_point"])
    results.scalars["linear/max_norm_mu_nu_box"] = float(f["linear_mu_nu_box"])
    results.scalars["linear/max_norm_theorem1_box"] = float(f["linear_theorem1_box"])
    results.scalars["trajectory_final_distance"] = float(f["final_distance"])
    j = np.asarray(f["jacobian"])
    results.tables["Moment map g near (0, 1), omega=0, tau=1"] = [
        {"quantity": "Jacobian at (0, 1)",
         "measured": f"[[{j[0, 0]:.4f}, {j[0, 1]:.4f}], [{j[1, 0]:.4f}, {j[1, 1]:.4f}]]",
         "reference": "[[0, 0.0888], [0, 0.7826]]"},
        {"quantity": "spectral norm at (0, 1)", "measured": f"{results.scalars['jacobian_norm_at_fixed_point']:.6f}",
         "reference": "0.7877"},
        {"quantity": f"max spectral norm, {config.grid_points}^2 grid of mu x nu",
         "measured": f"{results.scalars['max_norm_mu_nu_box']:.4f}", "reference": "< 1"},
        {"quantity": f"max spectral norm, Theorem 1's mu x nu x omega x tau box ({config.grid_points ** 2 * max(3, config.grid_points // 2) ** 2} points)",
         "measured": f"{results.scalars['max_norm_theorem1_box']:.4f}", "reference": "< 1"},
        {"quantity": f"max distance to (0, 1) after {config.trajectory_steps} iterations from the corners",
         "measured": f"{results.scalars['trajectory_final_distance']:.2e}", "reference": "-> 0"},
    ]


DROPOUTS = ("alpha", "plain", "uncorrected")
"""alpha dropout; plain (inverted) dropout, the variance claim's control; dropping to alpha' without the
affine correction (a = 1, b = 0), the mean claim's control."""


def uncorrected_affine(rate: float) -> selu.AlphaDropoutAffine:
    dropped = selu.alpha_dropout_affine(rate).dropped_value
    return selu.AlphaDropoutAffine(jnp.ones_like(dropped), jnp.zeros_like(dropped), dropped)


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def dropout_samples(seed: int, rates: tuple[float, ...], seeds: int, mc_samples: int):
    """Every dropout's Monte-Carlo (mean, variance) of x ~ N(0, 1), (rates, seeds, methods, 2), one key
    per repeat, the repeats one after another (lax.map: memory of one); and each one's closed form,
    (rates, methods, 2). One compiled program for every rate."""

    def repeat(key, rate):
        key_x, key_drop = jax.random.split(key)
        x = jax.random.normal(key_x, (mc_samples,))
        outs = (selu.alpha_dropout(key_drop, x, rate), nn.dropout(key_drop, x, rate),
                selu.affine_dropout(key_drop, x, rate, uncorrected_affine(rate)))
        return jnp.stack([jnp.stack([jnp.mean(out), jnp.var(out)]) for out in outs])  # (methods, 2)

    samples, exact = [], []
    for i, rate in enumerate(rates):
        keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), i), seeds)
        samples.append(jax.lax.map(lambda k, rate=rate: repeat(k, rate), keys))  # (seeds, methods, 2)
        closed = (selu.alpha_dropout_moments(rate, selu.alpha_dropout_affine(rate)),
                  selu.Moments(0.0, 1.0 / (1.0 - rate)),
                  selu.alpha_dropout_moments(rate, uncorrected_affine(rate)))
        exact.append(jnp.array([[m.mean, m.var] for m in closed]))
    return jnp.stack(samples), jnp.stack(exact)


def dropout_moments(config: Config, results: Results) -> None:
    """Monte-Carlo mean and variance of x ~ N(0, 1) after each dropout, one key per repeat.

    The repeats are the claims' samples: a t interval over them; the closed
    form (``selu.alpha_dropout_moments``, law of total variance) is shown beside them.
    """
    samples, exact = dropout_samples(config.seed, config.dropout_rates, config.seeds, config.mc_samples)
    samples, exact = np.asarray(samples), np.asarray(exact)  # (rates, seeds, methods, 2), (rates, methods, 2)
    rows = []
    for i, rate in enumerate(config.dropout_rates):
        for j, method in enumerate(DROPOUTS):
            mean, var = samples[i, :, j, 0], samples[i, :, j, 1]
            rows.append({
                "dropout": method, "rate": rate, "mean (t 95%)": _interval_text(stats.mean(mean, "repeats")),
                "variance (t 95%)": _interval_text(stats.mean(var, "repeats")),
                "closed-form mean": float(exact[i, j, 0]), "closed-form variance": float(exact[i, j, 1]),
            })
    results.arrays["dropout/rates"] = np.array(config.dropout_rates)
    for j, method in enumerate(DROPOUTS):
        results.arrays[f"dropout/{method}_mean_var"] = np.transpose(samples[:, :, j], (0, 2, 1))  # (rates, 2, seeds)
    title = f"Dropout moments, x ~ N(0, 1), {config.seeds} repeats x {config.mc_samples:,} samples per rate"
    results.tables[title] = rows


def _interval_text(m: stats.Measurement) -> str:
    return f"{m.value:.5f} [{m.interval[0]:.5f}, {m.interval[1]:.5f}]"


def run(config: Config, session) -> Results:
    results = Results()
    solve_in_float32(results)
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        solve_constants(results)
        moment_field(config, results)
        dropout_moments(config, results)
    s = results.scalars
    results.notes += [
        "Reference notebook's (-0.1, 2) case: its equations set z ~ N(mu, nu) (omega = tau = 1); solved that way "
        f"here alpha = {s['notebook/alpha']:.6f}, lambda = {s['notebook/lambda']:.6f}, as the notebook prints. "
        f"With normalized weights (omega = 0, tau = 1) the fixed point (-0.1, 2) needs alpha = "
        f"{s['normalized/alpha']:.6f}, lambda = {s['normalized/lambda']:.6f} instead.",
        "With omega = 0 the map ignores mu (the first Jacobian column is 0): every point of a row nu goes to the "
        "same image (g_mu(nu), g_nu(nu)), so the iterates from the corners meet after one step and then "
        "contract to (0, 1) at the rate of the Jacobian's eigenvalue 0.7826.",
    ]
    return results


def figures(results: Results, directory) -> None:
    a = results.arrays
    fig, axes = plots.new_figure(2, 1, width=5.2, height=4.0)
    ax = axes[0, 0]
    mean_MxV, var_MxV = np.meshgrid(a["field/mean"], a["field/var"], indexing="ij")
    step = max(1, len(a["field/mean"]) // 8)
    sl = (slice(None, None, step), slice(None, None, step))
    # Arrows drawn at a third of the step g takes, so they do not overlap.
    ax.quiver(mean_MxV[sl], var_MxV[sl], (a["field/new_mean"] - mean_MxV)[sl], (a["field/new_var"] - var_MxV)[sl],
              angles="xy", scale_units="xy", scale=3.0, width=0.004, color="0.3")
    for trajectory in a["field/trajectories"]:
        ax.plot(trajectory[:, 0], trajectory[:, 1], ".-", ms=3, lw=0.8, color="tab:blue")
    ax.plot([0.0], [1.0], "r*", ms=12, label="fixed point (0, 1)")
    ax.set(xlabel="mean mu", ylabel="variance nu", title="step of g (arrows at 1/3) and iterates of g",
           xlim=(-0.12, 0.12), ylim=(0.75, 1.55))
    ax.legend(loc="upper right")
    ax = axes[0, 1]
    image = ax.contourf(mean_MxV, var_MxV, a["field/spectral_norm_worst_omega_tau"], levels=20, cmap="viridis")
    fig.colorbar(image, ax=ax, label="spectral norm of the Jacobian of g")
    lines = ax.contour(mean_MxV, var_MxV, a["field/spectral_norm"], levels=5, colors="w", linewidths=0.7)
    ax.clabel(lines, fontsize=7)
    ax.plot([0.0], [1.0], "r*", ms=12)
    ax.set(xlabel="mean mu", ylabel="variance nu",
           title="||J_g||_2: worst omega, tau (fill); omega=0, tau=1 (lines)")
    plots.save(fig, directory, "moment_map", **{k: v for k, v in a.items() if k.startswith(("field/", "jacobian"))})

    fig, axes = plots.new_figure(1, 1, width=5.0)
    ax = axes[0, 0]
    rates = a["dropout/rates"]
    for method, color in (("alpha", "tab:blue"), ("plain", "tab:orange"), ("uncorrected", "tab:green")):
        var_RxS = a[f"dropout/{method}_mean_var"][:, 1, :]
        ax.errorbar(rates, var_RxS.mean(1), yerr=var_RxS.std(1), fmt="o", color=color, capsize=3,
                    label=f"{method} dropout (MC)", alpha=0.8)
    fine = np.linspace(rates.min() * 0.8, rates.max() * 1.1, 50)
    ax.plot(fine, 1 / (1 - fine), ":", color="tab:orange", label="1/q (plain dropout theory)")
    ax.axhline(1.0, color="tab:blue", ls=":", label="1 (alpha dropout theory)")
    ax.set(xlabel="dropout rate", ylabel="variance after dropout", title="x ~ N(0, 1): variance kept?")
    ax.legend()
    plots.save(fig, directory, "dropout_variance", **{k: v for k, v in a.items() if k.startswith("dropout/")})


def every_rate(results: Results, method: str, moment: int, target: float) -> stats.Measurement:
    """One moment (0: mean, 1: variance) of `method`'s dropout at every rate: the t interval over
    repeats at each rate, combined into their hull, with the value of the rate farthest from target."""
    samples = results.arrays[f"dropout/{method}_mean_var"][:, moment, :]  # (rates, seeds)
    per_rate = [stats.mean(row, "repeats") for row in samples]
    worst = max(per_rate, key=lambda m: abs(m.value - target))
    return stats.Measurement(worst.value, (min(m.interval[0] for m in per_rate),
                                           max(m.interval[1] for m in per_rate)),
                             f"hull of {len(per_rate)} rates' {per_rate[0].how} intervals", worst.n)


def dropout_case(method_moments: dict[str, tuple[float, float]], rates=(0.05, 0.1, 0.2), seeds=5) -> Results:
    """Synthetic repeats around the given (mean, variance) per method at every rate (the contract cases);
    a value may be a function of the rate."""
    spread = 1e-3 * np.linspace(-1, 1, seeds)
    arrays = {"dropout/rates": np.array(rates)}
    for method, (mean, var) in method_moments.items():
        arrays[f"dropout/{method}_mean_var"] = np.array(
            [[np.asarray(mean(r) if callable(mean) else mean) + spread,
              np.asarray(var(r) if callable(var) else var) + spread] for r in rates])
    return Results(arrays=arrays)


def uncorrected_moments(rate: float) -> tuple[float, float]:
    exact = selu.alpha_dropout_moments(rate, uncorrected_affine(rate))
    return float(exact.mean), float(exact.var)


def notebook_error(results: Results, reading: str) -> float:
    """Largest |error| of one reading's (-0.1, 2) constants against the notebook's printed ones."""
    s = results.scalars
    return max(abs(s[f"{reading}/lambda"] - NOTEBOOK_LAMBDA), abs(s[f"{reading}/alpha"] - NOTEBOOK_ALPHA))


def normalized_reading() -> Results:
    """The control of the notebook claim: the (-0.1, 2) constants under omega = 0 (not the notebook's reading)."""
    with jax.enable_x64(True):
        solution = selu.solve_selu_params(-0.1, 2.0, 0.0, 1.0)
    return Results(scalars={"notebook/lambda": float(solution.params.lam),
                            "notebook/alpha": float(solution.params.alpha)})


F32_LAMBDA, F32_ALPHA = float(np.float32(PAPER_LAMBDA)), float(np.float32(PAPER_ALPHA))
LINEAR = "linear layer (identity activation: Jacobian diag(omega, tau), norm 1 at tau = 1)"
PAPER_FIELD = {"jacobian_norm_at_fixed_point": 0.7877, "max_norm_mu_nu_box": 0.79,
               "max_norm_theorem1_box": 0.87}
LINEAR_FIELD = {"jacobian_norm_at_fixed_point": 1.0, "max_norm_mu_nu_box": 1.0, "max_norm_theorem1_box": 1.1}


def field_claim(statement: str, paper: str, key: str, region, fmt: str) -> Claim:
    return Claim(
        statement=statement,
        paper=paper,
        measure=lambda r: r.scalars[key],
        region=region,
        control=Control(name=LINEAR, results=lambda: Results(scalars={key: LINEAR_FIELD[key]})),
        passing=lambda: Results(scalars={key: PAPER_FIELD[key]}),
        baseline=lambda r: r.scalars[f"linear/{key}"],
        fmt=fmt,
    )


# Tolerances: the constants are float64 solutions (rounding level ~1e-15, the
# tolerance 1e-12 leaves room and still rejects a float32 solve, ~5e-8 off);
# the notebook prints 16 digits of a SciPy solve (1e-8). The spectral norm
# 0.7877 is printed to 4 digits (5e-5). The dropout moments are Monte-Carlo
# means with a 95% interval; the paper's statement is exact, so the region is
# the target +- 0.005 (the interval half-width at 5 x 1e6 samples is ~0.002;
# plain dropout's variance 1/q is >= 1.053 at the rates used).
CLAIMS = [
    Claim(
        statement="solving g(0, 1) = (0, 1) gives the paper's lambda to 1e-12",
        paper="1.0507009873554804934",
        measure=lambda r: r.scalars["paper/lambda"],
        region=near(PAPER_LAMBDA, 1e-12),
        control=Control(
            name="perturbed constant: lambda rounded to float32 (the float32 solve at run time)",
            results=lambda: Results(scalars={"paper/lambda": F32_LAMBDA}),
        ),
        passing=lambda: Results(scalars={"paper/lambda": PAPER_LAMBDA}),
        baseline=lambda r: r.scalars["float32/lambda"],
        fmt="{:.16f}",
    ),
    Claim(
        statement="... and the paper's alpha to 1e-12",
        paper="1.6732632423543772848",
        measure=lambda r: r.scalars["paper/alpha"],
        region=near(PAPER_ALPHA, 1e-12),
        control=Control(
            name="perturbed constant: alpha rounded to float32 (the float32 solve at run time)",
            results=lambda: Results(scalars={"paper/alpha": F32_ALPHA}),
        ),
        passing=lambda: Results(scalars={"paper/alpha": PAPER_ALPHA}),
        baseline=lambda r: r.scalars["float32/alpha"],
        fmt="{:.16f}",
    ),
    Claim(
        statement="notebook's (-0.1, 2) constants under its reading z ~ N(mu, nu) (largest |error|)",
        paper="alpha 1.97690, lambda 1.07385",
        measure=lambda r: notebook_error(r, "notebook"),
        region=at_most(1e-8),
        control=Control(
            name="the paper's reading omega = 0 for the same target (solved at run time)", results=normalized_reading
        ),
        passing=lambda: Results(scalars={"notebook/lambda": NOTEBOOK_LAMBDA, "notebook/alpha": NOTEBOOK_ALPHA}),
        baseline=lambda r: notebook_error(r, "normalized"),
        fmt="{:.1e}",
    ),
    field_claim(
        "spectral norm of g's Jacobian at (0, 1)",
        "0.7877",
        "jacobian_norm_at_fixed_point",
        near(0.7877, 5e-5),
        "{:.5f}",
    ),
    field_claim(
        "spectral norm below 1 on mu in [-0.1, 0.1], nu in [0.8, 1.5] (omega=0, tau=1; grid max)",
        "< 1",
        "max_norm_mu_nu_box",
        below(1.0),
        "max {:.4f}",
    ),
    field_claim(
        "spectral norm below 1 on Theorem 1's box (omega in [-0.1, 0.1], tau in [0.95, 1.1] too; grid max)",
        "< 1",
        "max_norm_theorem1_box",
        below(1.0),
        "max {:.4f}",
    ),
    Claim(
        statement="alpha dropout keeps variance 1 of x ~ N(0, 1) at every rate (t over repeats, hull over rates)",
        paper="var 1",
        measure=lambda r: every_rate(r, "alpha", 1, 1.0),
        region=near(1.0, 0.005),
        control=Control(
            name="plain (inverted) dropout: variance 1/q (measured at run time)",
            results=lambda: dropout_case({"alpha": (0.0, lambda q: 1 / (1 - q))}),
        ),
        passing=lambda: dropout_case({"alpha": (0.0, 1.0)}),
        baseline=lambda r: every_rate(r, "plain", 1, 1.0),
        fmt="{:.5f}",
    ),
    Claim(
        statement="alpha dropout keeps mean 0 of x ~ N(0, 1) at every rate (t over repeats, hull over rates)",
        paper="mean 0",
        measure=lambda r: every_rate(r, "alpha", 0, 0.0),
        region=near(0.0, 0.005),
        control=Control(
            name="dropping to alpha' without the affine correction (a = 1, b = 0; measured at run time)",
            results=lambda: dropout_case({"alpha": (lambda q: uncorrected_moments(q)[0], 1.0)}),
        ),
        passing=lambda: dropout_case({"alpha": (0.0, 1.0)}),
        baseline=lambda r: every_rate(r, "uncorrected", 0, 0.0),
        fmt="{:+.5f}",
    ),
]


if __name__ == "__main__":
    main(NAME)

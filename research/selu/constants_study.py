"""selu-constants' computations: the fixed-point solves and the code's constants (as records and report
rows), Theorem 1's image boxes, the claims' measures and their synthetic contract cases.

Klambauer et al. (2017) choose lambda and alpha so that g (eq. (4), (5)) has the fixed point
(mu, nu) = (0, 1) for normalized weights (omega, tau) = (0, 1). The reference notebook's (-0.1, 2)
constants are solved under its reading z ~ N(mu, nu) (omega = tau = 1) and under normalized weights.
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from common import nn, records, stats
from common.experiment import Results
from research.selu import moment_field as theorem1
from research.selu import snn as selu

PAPER_LAMBDA = 1.0507009873554804934193349852946
PAPER_ALPHA = 1.6732632423543772848170429916717
NOTEBOOK_ALPHA, NOTEBOOK_LAMBDA = 1.9769021954241999, 1.073851239616047  # for (-0.1, 2)
F32_LAMBDA, F32_ALPHA = float(np.float32(PAPER_LAMBDA)), float(np.float32(PAPER_ALPHA))


class Constants(NamedTuple):
    """A SELU's lambda and alpha: a solve's (floats), or the code's (arrays, one entry per USED source)."""

    lam: float | np.ndarray
    alpha: float | np.ndarray


# Every place that defines or computes SELU's constants (grep SELU_LAMBDA), read when the run reads it.
USED = {
    "the paper's printed digits": lambda: (PAPER_LAMBDA, PAPER_ALPHA),
    "common.nn.SELU_LAMBDA, SELU_ALPHA": lambda: (nn.SELU_LAMBDA, nn.SELU_ALPHA),
    "common.nn.selu (the models' activation)": lambda: selu.computed_constants(nn.selu),
    "research.selu.snn.selu (default constants)": lambda: selu.computed_constants(selu.selu),
    "research.selu.snn.constants() (moment map, alpha dropout)": lambda: tuple(selu.constants()),
}

# Theorem 1's image of Omega under g, and the controls': prefix -> moment map (mean, var, omega, tau).
IMAGES = {
    "g of SELU": selu.moment_map,
    "g of ELU (alpha = lambda = 1)": partial(selu.moment_map, lam=1.0, alpha=1.0),
    "g of tanh": theorem1.quadrature_moment_map(jnp.tanh),
}
OMEGA = (theorem1.MEAN_RANGE, theorem1.VAR_RANGE)
# Theorem 1 prints mu in [-0.03106, 0.06773], nu in [0.80009, 1.48617]; the box grows by half a unit of
# the last printed digit (5e-6), the rounding of the printed bounds.
PAPER_IMAGE = ((-0.03106 - 5e-6, 0.06773 + 5e-6), (0.80009 - 5e-6, 1.48617 + 5e-6))

# One compiled Newton solve per dtype: the targets are traced arguments, so every fixed point reuses it.
solve = jax.jit(selu.solve_selu_params, static_argnames="num_steps")

# name: (table label, target mean, target variance, omega, the reference's (lambda, alpha))
FIXED_POINTS = {
    "paper": ("(0, 1), omega=0, tau=1 (paper)", 0.0, 1.0, 0.0, (PAPER_LAMBDA, PAPER_ALPHA)),
    "notebook": ("(-0.1, 2), omega=tau=1 (notebook: z ~ N(mu, nu))", -0.1, 2.0, 1.0, (NOTEBOOK_LAMBDA, NOTEBOOK_ALPHA)),
    "normalized": ("(-0.1, 2), omega=0, tau=1 (normalized weights: z ~ N(0, nu))", -0.1, 2.0, 0.0, (np.nan, np.nan)),
}


def solve_constants(results: Results) -> None:
    """Each fixed point's constants in float64, and (0, 1)'s in float32 (the perturbed-constant control)."""
    with jax.enable_x64(False):
        solution = solve(0.0, 1.0)
        records.put(results, "float32", Constants(float(solution.params.lam), float(solution.params.alpha)))
    rows = []
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        for name, (label, mean, var, omega, (lam_ref, alpha_ref)) in FIXED_POINTS.items():
            solution = solve(mean, var, omega, 1.0)
            solved = Constants(float(solution.params.lam), float(solution.params.alpha))
            records.put(results, name, solved)
            rows.append({"fixed point (mu, nu), weights": label, "lambda": f"{solved.lam:.16f}",
                         "alpha": f"{solved.alpha:.16f}", "reference lambda": f"{lam_ref:.16g}",
                         "reference alpha": f"{alpha_ref:.16g}", "|g - target|": float(solution.residual)})
    results.tables["Fixed-point solutions (Newton, float64)"] = rows
    with jax.enable_x64(True):
        used = Constants(*np.array([source() for source in USED.values()]).T)
    records.put(results, "used", used)
    solved = records.get(results, "paper", Constants)
    results.tables["SELU's constants as the code uses them (float64), against the (0, 1) solve"] = [
        {"source": name, "lambda": repr(float(lam)), "alpha": repr(float(alpha)),
         "relative gap lambda": abs(lam / solved.lam - 1), "relative gap alpha": abs(alpha / solved.alpha - 1)}
        for name, lam, alpha in zip(USED, *used)]


def case(by_prefix: dict) -> Results:
    """Synthetic results holding each record under its prefix (the contract cases)."""
    results = Results()
    for prefix, record in by_prefix.items():
        records.put(results, prefix, record)
    return results


def used_gap(results: Results, constant: str, solved: str = "paper") -> float:
    """Largest relative gap between the code's values of `constant` ("lam" or "alpha") and a solve's."""
    reference = getattr(records.get(results, solved, Constants), constant)
    return float(np.max(np.abs(getattr(records.get(results, "used", Constants), constant) / reference - 1.0)))


def used_case(lam: float, alpha: float) -> Results:
    """The (0, 1) solve at the paper's digits, and every USED source at (lam, alpha)."""
    return case({"paper": Constants(PAPER_LAMBDA, PAPER_ALPHA),
                 "used": Constants(np.full(len(USED), lam), np.full(len(USED), alpha))})


def notebook_error(results: Results, reading: str) -> float:
    """Largest |error| of one reading's (-0.1, 2) constants against the notebook's printed ones."""
    solved = records.get(results, reading, Constants)
    return max(abs(solved.lam - NOTEBOOK_LAMBDA), abs(solved.alpha - NOTEBOOK_ALPHA))


def normalized_reading() -> Results:
    """The control of the notebook claim: the (-0.1, 2) constants under omega = 0 (not the notebook's reading)."""
    with jax.enable_x64(True):
        solution = selu.solve_selu_params(-0.1, 2.0, 0.0, 1.0)
    return case({"notebook": Constants(float(solution.params.lam), float(solution.params.alpha))})


def image_margin(box, name: str = "g of SELU"):
    return lambda r: theorem1.margin(records.get(r, name, theorem1.Image), *box)


def elu_image() -> Results:
    """The control of the image claims: ELU's image of a coarse grid of Omega, in the SELU slot."""
    with jax.enable_x64(True):
        return case({"g of SELU": jax.tree.map(float, theorem1.box_image(IMAGES["g of ELU (alpha = lambda = 1)"], 3))})


def every_rate(results: Results, method: str, moment: str, target: float) -> stats.Measurement:
    """One moment ("mean" or "var") of `method`'s dropout at every rate: the t interval over repeats at
    each rate, their hull, the value of the rate farthest from target."""
    samples = getattr(records.get(results, method, selu.Moments), moment)  # (rates, repeats)
    return stats.hull([stats.mean(row, "repeats") for row in samples], target, "rates")


def dropout_case(mean, var, rates=(0.05, 0.1, 0.2), seeds=5) -> Results:
    """Synthetic alpha-dropout repeats around (mean, var) at every rate; each may be a function of the rate."""
    spread = 1e-3 * np.linspace(-1, 1, seeds)
    at = lambda value, r: (value(r) if callable(value) else value) + spread
    return case({"alpha": selu.Moments(np.array([at(mean, r) for r in rates]), np.array([at(var, r) for r in rates]))})


def uncorrected_mean(rate: float) -> float:
    return float(selu.alpha_dropout_moments(rate, theorem1.uncorrected_affine(rate)).mean)

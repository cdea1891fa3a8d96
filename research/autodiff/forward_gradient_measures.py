"""What ad-forward-gradient's claims read from a run's arrays, and the synthetic arrays their contract
cases are built from (each a dict of arrays, or Results for the tuned arms)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from common import bench, records, stats, tuning
from common.experiment import Results
from research.autodiff import costs as AD
from research.autodiff import forward_gradient as FG
from research.autodiff import forward_gradient_study as S

FORWARD = "forward, tangents drawn ahead"


@dataclass(frozen=True)
class EstimatorCase:
    """The measured estimates changed into another estimator on the same tangents: each estimate times
    `scale`, plus a fixed bias of norm `orthogonal_bias` |grad f| orthogonal to grad f."""

    scale: float = 1.0
    orthogonal_bias: float = 0.0


ESTIMATOR_CASES = {"forward gradient": EstimatorCase(), "half of it": EstimatorCase(scale=0.5),
                   "zero": EstimatorCase(scale=0.0),
                   "biased by 0.3 |grad f| orthogonally to grad f": EstimatorCase(orthogonal_bias=0.3)}


def projection(arrays: dict, case: EstimatorCase = EstimatorCase()) -> stats.Measurement:
    """mean of <g_i, grad f> / |grad f|^2 over the one-tangent estimates of `case` (an orthogonal bias adds
    nothing to it: the projection sees bias along grad f only)."""
    return stats.mean(case.scale * arrays["estimator/projection"], "estimates")


def squared_bias(arrays: dict, case: EstimatorCase = EstimatorCase()) -> stats.Measurement:
    """|E g - grad f|^2 / |grad f|^2 estimated from the mean of `case`'s estimates
    (`research.autodiff.forward_gradient.squared_bias`: every direction, interval with the shared factor)."""
    g = arrays["estimator/gradient"]
    mean = case.scale * arrays["estimator/mean"] + S.orthogonal_to(g, case.orthogonal_bias)
    return FG.squared_bias(mean, g, int(arrays["estimator/samples"]))


def cosine_over_law(arrays: dict, k_source: Callable[[int], str] = lambda k: f"estimator/cosine/k{k}"
                    ) -> stats.Measurement:
    """measured / exact E cos at every k: the hull of the per-k 95% intervals (inside the region only if
    every k is), the value at the k farthest from 1."""
    dim = int(arrays["estimator/dimension"])
    per_k = [stats.mean(arrays[k_source(int(k))] / FG.expected_cosine(dim, int(k)), "estimates")
             for k in arrays["estimator/tangents"]]
    return stats.hull(per_k, 1.0, "values of k")


def loss_ratio(arrays: dict, numerator: str) -> stats.Measurement:
    """Per-seed final validation loss of `numerator` over backprop's (same seeds, same initial parameters)."""
    return stats.mean(arrays[f"{numerator}/validation_loss"] / arrays["backprop/validation_loss"])


def tuned(results: Results, method: str) -> tuning.Tuned:
    """A method's learning-rate choice rebuilt from its saved grid (`S.Arm`: every rate tried and its final
    validation losses), as `common.tuning` made it."""
    arm = records.get(results, method, S.Arm)
    validation = arm.grid_validation[:, None]  # (V, one length, seeds)
    scores = tuning.Scores(tuple(arm.grid), (1,), validation, np.full_like(validation, np.nan), higher_is_better=False)
    return tuning.choose(scores, fixed_length=True, widenings=arm.widenings)


def tuned_loss_ratio(results: Results, numerator: str) -> stats.Measurement:
    """`loss_ratio`, undecided where either arm's rate is an end of its widened grid (the grid would decide)."""
    for method in ("backprop", numerator):
        tuned(results, method).require_interior(method)
    return loss_ratio(results.arrays, numerator)


def step_time_ratio(arrays: dict, numerator: str) -> stats.Measurement:
    return AD.claimed_time_ratio(bench.rounds_from_arrays(arrays, "time/wide", "backprop"), numerator)


# Synthetic cases for the contract test -----------------------------------------------------------------

def mean_estimate_case(orthogonal_bias: float) -> dict:
    mean, g = S.exact_mean_estimate(orthogonal_bias, 2000, 65536)
    return {"estimator/mean": mean, "estimator/gradient": g, "estimator/samples": 65536}


def cosine_case(k_independent: bool, dim: int = 2698, ks=(1, 4, 16, 64)) -> dict:
    cosines = S.exact_cosines(ks, dim, 2048, k_independent)
    return {"estimator/tangents": ks, "estimator/dimension": dim,
            **{f"estimator/cosine/k{k}": v for k, v in cosines.items()}}


def loss_case(ratio: float, edge: bool = False) -> Results:
    """Five seeds' validation losses: backprop's around 1, the forward gradient's `ratio` times them, each the
    middle of a three-rate grid (with `edge`: the forward gradient's the lowest rate of its grid)."""
    base = np.array([0.9, 1.0, 1.1, 0.95, 1.05])
    results = Results(arrays={"untrained/validation_loss": 2.3 + 0 * base})
    for name, final in (("backprop", base), ("forward k=1", ratio * base * (1 + 0.01 * np.arange(5)))):
        grid = np.stack([final, final + 0.5, final + 1.0]) if edge and name != "backprop" else \
            np.stack([final + 0.5, final, final + 0.5])
        records.put(results, name, S.Arm(np.array([1]), final[None], final, 0.1, np.array([0.03, 0.1, 0.3]), grid, 2))
    return results


def timing_case(ratio: float) -> dict:
    """Interleaved rounds of backprop (and its A/A copy) and of a forward step `ratio` times as long."""
    noise = 1 + 0.02 * np.sin(np.arange(15))
    seconds = {"backprop": 0.01 * noise, "backprop" + bench.AA_SUFFIX: 0.01 * noise[::-1],
               FORWARD: ratio * 0.01 * np.roll(noise, 3)}
    return {f"time/wide/{k}": v for k, v in seconds.items()}

"""What ad-hvp's claims read from a run's scalars and timing arrays, and the synthetic figures their
contract cases are built from. Scalars are keyed flops|temp/<function label>/<method or "grad">."""

import math

import numpy as np

from common import bench, stats
from research.autodiff import costs as AD
from research.autodiff.hvp_study import TIMED

LABELS = ("cookbook", "mlp")  # the two functions, in the order of `hvp_study.problems`


def key(figure: str, label: str, method: str) -> str:
    """The one place an XLA-figure scalar's key is formed: flops|temp/<function label>/<method or "grad">."""
    return f"{figure}/{label}/{method}"


def hvp_over_grad(scalars: dict) -> float:
    """Largest XLA FLOPs of a matrix-free HVP over the gradient's, over both functions."""
    return max(scalars[key("flops", label, m)] / scalars[key("flops", label, "grad")]
               for label in LABELS for m in TIMED)


def full_hessian_over_grad(scalars: dict) -> stats.Measurement:
    """The run-time control: FLOPs of forming H (then H v) over the gradient's, where H was formed."""
    ratios = [scalars[key("flops", label, "full_hessian")] / scalars[key("flops", label, "grad")]
              for label in LABELS if key("flops", label, "full_hessian") in scalars]
    if not ratios:
        return stats.Measurement(math.nan, None, "no function small enough to form H (max_hessian_dim)")
    return stats.Measurement(min(ratios), None, f"smallest of {len(ratios)}")


def temp_ratio(scalars: dict, label: str, method: str) -> float:
    """temp bytes of `method` over the smallest of the other timed HVPs'."""
    return scalars[key("temp", label, method)] / min(scalars[key("temp", label, m)] for m in TIMED if m != method)


def aa_of(arrays: dict, label: str) -> stats.Measurement:
    return stats.bootstrap_median(bench.rounds_from_arrays(arrays, f"time/{label}", "fwd_over_rev").aa())


def worst_aa(arrays: dict) -> stats.Measurement:
    """The run-time control of the time claim: forward-over-reverse timed against itself (the larger of
    the two functions' A/A medians)."""
    return max((aa_of(arrays, label) for label in LABELS), key=lambda m: m.value)


def worst_time_ratio(arrays: dict) -> stats.Measurement:
    """Largest over functions and other methods of time(fwd_over_rev) / time(other), A/A-widened."""
    ratios = [AD.claimed_time_ratio(bench.rounds_from_arrays(arrays, f"time/{label}", "fwd_over_rev"),
                                    "fwd_over_rev", m)
              for label in LABELS for m in TIMED if m != "fwd_over_rev"]
    if any(math.isnan(m.value) for m in ratios):
        return next(m for m in ratios if math.isnan(m.value))
    worst = max(ratios, key=lambda m: m.value)
    return stats.Measurement(worst.value, (max(m.interval[0] for m in ratios), max(m.interval[1] for m in ratios)),
                             f"max of {len(ratios)} ratios; {worst.how}", worst.n)


# Synthetic cases for the contract test -----------------------------------------------------------------

def flops_case(hvp: float, grad: float, full: float = math.nan) -> dict[str, float]:
    """Matrix-free HVP and gradient FLOPs of both functions (the full Hessian's where given)."""
    scalars = {}
    for label in LABELS:
        scalars |= {key("flops", label, "grad"): grad, **{key("flops", label, m): hvp for m in TIMED}}
        if not math.isnan(full):
            scalars[key("flops", label, "full_hessian")] = full
    return scalars


def temps_case(fwd: float, others: float) -> dict[str, float]:
    return {"temp/mlp/fwd_over_rev": fwd, "temp/mlp/rev_over_fwd": others, "temp/mlp/rev_over_rev": others}


def rounds_case(ratio: float, rounds: int = 15) -> dict[str, np.ndarray]:
    """Synthetic timing rounds: fwd_over_rev `ratio` times the others, each program with its own 5% noise
    (ratio 1: a tie, the same program three times)."""
    noise = 1 + 0.05 * np.random.default_rng(0).standard_normal((4, rounds))
    arrays = {}
    for label in LABELS:
        arrays |= {f"time/{label}/fwd_over_rev": 2e-3 * ratio * noise[0],
                   f"time/{label}/fwd_over_rev{bench.AA_SUFFIX}": 2e-3 * ratio * noise[1],
                   f"time/{label}/rev_over_fwd": 2e-3 * noise[2], f"time/{label}/rev_over_rev": 2e-3 * noise[3]}
    return arrays

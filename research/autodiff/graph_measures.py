"""What ad-graph's claims read from a run's scalars, the synthetic scalars of their contract cases, and the
run's notes on FLOPs per edge and per input (text built from the measured records)."""

import math

from common import stats
from research.autodiff.graph_study import Layered, Passes

GRADIENT_TOLERANCE = 1e-4  # float32 relative error of a full gradient (rounding: ~1e-6)


def notes_worst(scalars: dict) -> float:
    """The larger of the two modes' errors on (e, de/da, de/db)."""
    return max(scalars["notes/forward/error"], scalars["notes/reverse/error"])


def checked_slope(scalars: dict, mode: str) -> stats.Measurement:
    """The log-log slope of `mode`'s full-gradient FLOPs per f against n, measured only where its program's
    output is the gradient (a program that computes something else has no gradient cost to claim)."""
    error = scalars[f"passes/{mode}_gradient_error"]
    if not error <= GRADIENT_TOLERANCE:
        return stats.Measurement(math.nan, None, f"its program does not compute the gradient (largest "
                                                 f"relative error {error:.3g} > {GRADIENT_TOLERANCE:g})")
    return stats.Measurement(scalars[f"passes/{mode}_slope"])


def run_notes(layered: Layered, passes: Passes) -> list[str]:
    return [
        ("Each mode's work is XLA's FLOP count of a compiled jvp / vjp through the graph (a table, not a claim: "
        "a dense matvec costs the same whatever its result). Fitted against the edge count at each width, the "
        f"jvp costs {layered.jvp_per_edge:.2f} FLOPs per edge (max/min over widths "
        f"{layered.jvp_per_edge_spread:.3f}) and the vjp {layered.vjp_per_edge:.2f} (spread "
        f"{layered.vjp_per_edge_spread:.3f}). The path sum's multiplications, fitted the same way, spread by "
        f"{layered.path_products_per_edge_spread:.3g}x across widths: they follow w^k, not edges."),
        (f"Full gradient of an n-input function: n jvps' FLOPs per f grow with slope {passes.forward_slope:.3f} in "
        f"n, one vjp's with slope {passes.reverse_slope:.3f}; their outputs match the closed form to "
        f"{passes.forward_gradient_error:.1e} and {passes.reverse_gradient_error:.1e} (relative, float32).")]


# Synthetic cases for the contract test -----------------------------------------------------------------

NOTES_AS_PAPER = {"notes/forward/error": 0.0, "notes/reverse/error": 0.0, "notes/control/error": 1.5}
PERTURBED_GRAPH = {"notes/forward/error": 1.5, "notes/reverse/error": 1.5}
CORRECT_GRADIENTS = {"passes/forward_gradient_error": 1e-7, "passes/reverse_gradient_error": 1e-7}
FLOP_SLOPES = {"passes/forward_slope": 1.0, "passes/reverse_slope": 0.0, **CORRECT_GRADIENTS}
SWAPPED_SLOPES = {"passes/forward_slope": 0.0, "passes/reverse_slope": 1.0, **CORRECT_GRADIENTS}


def path_gaps(gap: float) -> dict[str, float]:
    return {"layered/jvp_max_gap": gap, "layered/vjp_max_gap": gap, "layered/control_min_gap": 0.05}

"""What ad-jacobian's time claims read from a run's rounds, and the synthetic figures its contract cases
are built from."""

import numpy as np

from common import bench, stats
from research.autodiff import costs as AD


def time_ratio(arrays: dict, label: str) -> stats.Measurement:
    """time(jacfwd) / time(jacrev) at one end of the sweep, from interleaved rounds, A/A-widened."""
    return AD.claimed_time_ratio(bench.rounds_from_arrays(arrays, f"time/{label}", "jacfwd"), "jacfwd", "jacrev")


def aa_ratio(arrays: dict, label: str) -> stats.Measurement:
    """The run-time control of a time claim: jacfwd timed against itself."""
    return stats.bootstrap_median(bench.rounds_from_arrays(arrays, f"time/{label}", "jacfwd").aa())


# Synthetic cases for the contract test -----------------------------------------------------------------

def rounds_case(smallest_n: float, largest_n: float, rounds: int = 9) -> dict[str, np.ndarray]:
    """Synthetic rounds with these jacfwd/jacrev time ratios at the two ends, A/A within 1%."""
    wobble = 1 + 0.01 * np.sin(np.arange(rounds))
    arrays = {}
    for label, ratio in (("smallest_n", smallest_n), ("largest_n", largest_n)):
        arrays |= {f"time/{label}/jacfwd": 2e-3 * ratio * wobble,
                   f"time/{label}/jacfwd{bench.AA_SUFFIX}": 2e-3 * ratio * wobble[::-1],
                   f"time/{label}/jacrev": 2e-3 * wobble}
    return arrays


FLOPS_AS_COOKBOOK = {"flop_ratio_smallest_n": 0.01, "flop_ratio_largest_n": 100.0, "crossover_log2_distance": 0.1,
                     "jacfwd/flops_slope": 1.0, "jacrev/flops_slope": 1.0, "control/jacrev_slope_in_n": -1.0,
                     "control/jacfwd_slope_in_m_fixed_n": 0.0}
# the transposed shapes: jacfwd where jacrev should be, a crossover far from n = m
FLOPS_TRANSPOSED = {"flop_ratio_smallest_n": 100.0, "flop_ratio_largest_n": 0.01, "crossover_log2_distance": 5.0,
                    "jacfwd/flops_slope": -1.0, "jacrev/flops_slope": 0.0}

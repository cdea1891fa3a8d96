"""The rates gan-dirac's claims read in its records (slopes of log|x_t|, and their ratio to the log spectral
radius), and the synthetic settings of the claims' contract cases."""

import math
from collections.abc import Callable

import numpy as np

from common import records, stats
from common.experiment import Results
from research.gan import dirac
from research.gan.dirac_methods import REGULARIZED
from research.gan.dirac_records import Radius


def rates(r: Results, names) -> dict[tuple[str, str], stats.Measurement]:
    """Mean slope over the starts of every setting of `names` this run (or case) measured."""
    found = {(n, m): records.key(n, m) for n in names for m in dirac.MODES}
    return {nm: stats.mean(records.get(r, key, dirac.Setting).slopes, "starts") for nm, key in found.items()
            if records.key(key, "slopes") in r.arrays}


def negated(m: stats.Measurement) -> stats.Measurement:
    return stats.Measurement(-m.value, (-m.interval[1], -m.interval[0]), m.how, m.n)


def worst_rate_ratio(r: Results, radius_of: Callable[[str], str] = str) -> stats.Measurement:
    """measured slope / log spectral radius (of method `radius_of(name)`), the setting farthest from 1 (1: the
    linearization's rate)."""
    ratios = []
    for (name, mode), slope in rates(r, REGULARIZED).items():
        log_radius = math.log(records.get(r, records.key(radius_of(name), mode), Radius).spectral_radius)
        lo, hi = sorted(x / log_radius for x in slope.interval)
        ratios.append(stats.Measurement(slope.value / log_radius, (lo, hi), slope.how, slope.n))
    return max(ratios, key=lambda m: max(abs(m.interval[0] - 1), abs(m.interval[1] - 1)))


# log |1 + h lambda| of the simultaneous update at h = 0.2, lambda the paper's eigenvalues at (0, 0)
LOG_RADIUS = {"r1-0.3": -0.0256, "r1-1": -0.1054, "consensus-1": -0.0458}


def paths(slopes: dict[tuple[str, str], float], radius_scale: float = 1.0) -> Callable[[], Results]:
    """Synthetic settings: 5 slopes around each mean (no path); R1, consensus: radii (log times radius_scale)."""
    def build() -> Results:
        results = Results()
        for (name, mode), slope in slopes.items():
            found = dirac.Setting(np.zeros((0, 2)), np.zeros(0), slope + 1e-4 * np.linspace(-1, 1, 5), 0.0)
            records.put(results, records.key(name, mode), found)
            if name in LOG_RADIUS:
                records.put(results, records.key(name, mode), Radius(math.exp(radius_scale * LOG_RADIUS[name])))
        return results
    return build

"""Intervals for claims: over seeds (Student t) and over timing rounds
(bootstrap of the median), each a `Measurement` with a 95% interval.

Non-finite samples (a diverged seed) are left out and counted: a measurement
keeps `n`, the number of finite samples it rests on. With fewer than two the
interval is the whole line, so a claim resting on it is `inconclusive`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
BOOTSTRAP_DRAWS = 2000


@dataclass(frozen=True)
class Measurement:
    """A measured number and, where seeds or rounds exist, its 95% interval.

    `interval` None: an exact quantity (a constant, a closed form, a float64
    agreement), decided by the claim's tolerance on `value` alone.
    `how`: one phrase saying where the interval comes from ("t, 3 seeds").
    """

    value: float
    interval: tuple[float, float] | None = None
    how: str = ""
    n: int | None = None

    def __post_init__(self):
        if self.interval is not None:
            lo, hi = self.interval
            if lo > hi:
                raise ValueError(f"interval [{lo}, {hi}] is reversed")

    def __format__(self, spec: str) -> str:
        """The one interval format: `f"{m:.3g}"` -> "0.123 [0.1, 0.15]" (value alone when exact)."""
        spec = spec or ".4g"
        value = format(self.value, spec)
        if self.interval is None:
            return value
        lo, hi = self.interval
        return f"{value} [{format(lo, spec)}, {format(hi, spec)}]"


WHOLE_LINE = (-np.inf, np.inf)


def _finite(samples) -> np.ndarray:
    a = np.asarray(samples, float).ravel()
    return a[np.isfinite(a)]


def mean(samples, what: str = "seeds") -> Measurement:
    """Mean of independent samples with its Student-t 95% interval."""
    a = _finite(samples)
    if a.size == 0:
        return Measurement(float("nan"), WHOLE_LINE, f"no finite {what}", 0)
    m = float(a.mean())
    if a.size < 2:
        return Measurement(m, WHOLE_LINE, f"1 {what[:-1] if what.endswith('s') else what}: no interval", 1)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, a.size - 1) * a.std(ddof=1) / np.sqrt(a.size))
    return Measurement(m, (m - half, m + half), f"t, {a.size} {what}", int(a.size))


def paired_difference(a, b, what: str = "seeds") -> Measurement:
    """mean(a - b) over pairs (the same seed under two methods), t interval."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length ({a.size} and {b.size})")
    return mean(a - b, what)


def difference_of_means(a, b, what: str = "seeds") -> Measurement:
    """mean(a) - mean(b) of independent samples, Welch's t interval."""
    a, b = _finite(a), _finite(b)
    if a.size < 2 or b.size < 2:
        value = float(a.mean() - b.mean()) if a.size and b.size else float("nan")
        return Measurement(value, WHOLE_LINE, f"fewer than 2 {what} a side", int(min(a.size, b.size)))
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    value = float(a.mean() - b.mean())
    se = float(np.sqrt(va + vb))
    if se == 0:
        return Measurement(value, (value, value), f"Welch t, {a.size}+{b.size} {what}", int(a.size + b.size))
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, dof) * se)
    return Measurement(value, (value - half, value + half), f"Welch t, {a.size}+{b.size} {what}",
                       int(a.size + b.size))


def bootstrap_median(samples, what: str = "rounds", seed: int = 0) -> Measurement:
    """Median with a percentile-bootstrap 95% interval (resampling the samples),
    for timing rounds, whose distribution has a long right tail."""
    a = _finite(samples)
    if a.size < 2:
        value = float(a[0]) if a.size else float("nan")
        return Measurement(value, WHOLE_LINE, f"fewer than 2 {what}", int(a.size))
    draws = np.random.default_rng(seed).choice(a, size=(BOOTSTRAP_DRAWS, a.size), replace=True)
    medians = np.median(draws, axis=1)
    lo, hi = np.quantile(medians, [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Measurement(float(np.median(a)), (float(lo), float(hi)), f"bootstrap median, {a.size} {what}",
                       int(a.size))


def timing_ratio(numerator_R, denominator_R, aa_R=None) -> Measurement:
    """Ratio of two programs' times from interleaved rounds: the median of the
    per-round ratios, its bootstrap interval, widened by the A/A calibration.

    `aa_R` holds the per-round ratio of one program timed against itself: its
    interval [a, b] (ideally around 1) is this machine's noise floor, so the
    ratio's interval [lo, hi] becomes [lo * a, hi * b]: a difference smaller
    than the noise between two identical programs is never decisive."""
    num, den = np.asarray(numerator_R, float), np.asarray(denominator_R, float)
    ratio = bootstrap_median(num / den)
    if aa_R is None:
        return ratio
    aa = bootstrap_median(aa_R)
    lo, hi = ratio.interval
    a, b = aa.interval
    return Measurement(ratio.value, (min(lo * a, lo), max(hi * b, hi)),
                       f"{ratio.how}, widened by A/A [{a:.3f}, {b:.3f}]", ratio.n)


def hull(measurements: list[Measurement], target: float, what: str) -> Measurement:
    """Several quantities that must all sit in one region (one per rate, per k, ...): the
    value of the one farthest from `target`, and the hull of their intervals (inside
    the region only if every one is)."""
    worst = max(measurements, key=lambda m: abs(m.value - target))
    ends = [m.interval or (m.value, m.value) for m in measurements]
    return Measurement(worst.value, (min(lo for lo, _ in ends), max(hi for _, hi in ends)),
                       f"hull of {len(measurements)} {what}' {measurements[0].how} intervals", worst.n)


def beats(a, b, margin: float = 0.0, what: str = "seeds") -> Measurement:
    """"A beats B by more than `margin`" as one measurement: the paired difference
    mean(a - b) - margin over seeds (t interval), for a claim's region above(0)."""
    difference = paired_difference(a, b, what)
    lo, hi = difference.interval
    how = difference.how + (f", less the margin {margin:g}" if margin else "")
    return Measurement(difference.value - margin, (lo - margin, hi - margin), how, difference.n)


def smallest(*measurements: Measurement) -> Measurement:
    """min of several quantities ("A > B and B > C" is smallest(A - B, B - C) > 0):
    the interval of a minimum lies within [min of the lows, min of the highs]."""
    lows = [(m.interval or (m.value, m.value))[0] for m in measurements]
    highs = [(m.interval or (m.value, m.value))[1] for m in measurements]
    exact = all(m.interval is None for m in measurements)
    return Measurement(min(m.value for m in measurements), None if exact else (min(lows), min(highs)),
                       "min of " + "; ".join(dict.fromkeys(m.how for m in measurements if m.how)), None)

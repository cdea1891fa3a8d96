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


def proportion(successes: int, trials: int, what: str = "seeds") -> Measurement:
    """A rate k/n with Wilson's 95% score interval: inside [0, 1] and never of zero width
    (4 of 4 seeds gives [0.51, 1]), for counts of successes such as "seeds that cover 8 modes"."""
    if trials < 1:
        return Measurement(float("nan"), WHOLE_LINE, f"no {what}", 0)
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} {what}")
    z = float(stats.norm.ppf(0.5 + LEVEL / 2))
    p, n = successes / trials, trials
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Measurement(p, (max(0.0, centre - half), min(1.0, centre + half)), f"Wilson, {successes}/{n} {what}", n)


def bootstrap_mean(samples, what: str = "seeds", seed: int = 0) -> Measurement:
    """Mean with a percentile-bootstrap 95% interval: it stays inside the samples' range, so a
    bounded quantity (a fraction, a count of modes) gets an interval inside its bounds."""
    a = _finite(samples)
    if a.size < 2:
        value = float(a[0]) if a.size else float("nan")
        return Measurement(value, WHOLE_LINE, f"fewer than 2 {what}", int(a.size))
    draws = np.random.default_rng(seed).choice(a, size=(BOOTSTRAP_DRAWS, a.size), replace=True).mean(axis=1)
    lo, hi = np.quantile(draws, [0.5 - LEVEL / 2, 0.5 + LEVEL / 2])
    return Measurement(float(a.mean()), (float(lo), float(hi)), f"bootstrap mean, {a.size} {what}", int(a.size))


def geometric_mean(samples, what: str = "seeds") -> Measurement:
    """exp(mean(log x)) with the t interval taken on the log scale: for ratios and KL
    divergences, positive quantities whose interval must stay above 0."""
    a = _finite(samples)
    if (a <= 0).any():
        raise ValueError(f"geometric mean of a non-positive sample ({a.min():g})")
    logs = mean(np.log(a), what)
    lo, hi = logs.interval
    return Measurement(float(np.exp(logs.value)), (float(np.exp(lo)), float(np.exp(hi))),
                       f"t on log scale, {logs.n} {what}", logs.n)


EQUIVALENCE_LEVEL = 0.90  # two one-sided tests at 5% each = the 90% interval inside the margin (Schuirmann 1987)


def equivalence(a, b, margin: float, what: str = "seeds") -> Measurement:
    """"A matches B within +-margin" by two one-sided tests: the paired difference mean(a - b) with
    its 90% t interval; A is equivalent to B at the 5% level when that interval lies inside
    (-margin, margin), so a claim states it with region `near(0, margin)`."""
    d = _finite(np.asarray(a, float).ravel() - np.asarray(b, float).ravel())
    if d.size < 2:
        value = float(d.mean()) if d.size else float("nan")
        return Measurement(value, WHOLE_LINE, f"fewer than 2 {what}", int(d.size))
    m = float(d.mean())
    half = float(stats.t.ppf(0.5 + EQUIVALENCE_LEVEL / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
    return Measurement(m, (m - half, m + half), f"TOST, 90% t over {d.size} {what}, margin {margin:g}",
                       int(d.size))


def seeds_for_equivalence(spread: float, margin: float, power: float = 0.8) -> int:
    """Seeds that give two one-sided tests at 5% the stated power to show equivalence when the true
    paired difference is 0 and its per-seed standard deviation is `spread` (normal approximation:
    n = ((z_0.95 + z_(1+power)/2) * spread / margin)^2, Chow, Shao & Wang 2008, eq. 3.2.4), at least 2."""
    if not margin > 0:
        raise ValueError(f"margin must be > 0 (got {margin})")
    z = stats.norm.ppf(0.5 + EQUIVALENCE_LEVEL / 2) + stats.norm.ppf(0.5 + power / 2)
    return max(2, int(np.ceil((z * spread / margin) ** 2)))

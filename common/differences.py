"""How far one run's claim or scalar is from another run's: the value difference
and, for claims, an approximate 95% interval of it (`compare`'s difference columns).

The interval assumes the two runs independent and each 95% interval symmetric
about its value: the difference's half-width is the two half-widths combined in
quadrature, `diff +- sqrt(h1^2 + h2^2)`. An exact quantity (interval null in
results.json) has half-width 0; a claim with no interval recorded or an
unbounded end gives the difference no interval.
"""

import math
from dataclasses import dataclass

from common.report import number_text

METHOD = ("Differences are each run's value minus the first run's; the interval after one, where both runs "
          "have a 95% interval, is diff +- sqrt(h1^2 + h2^2) with h1, h2 the half-widths of the two intervals "
          "(approximate: assumes independent runs and symmetric intervals).")


@dataclass(frozen=True)
class Difference:
    """`value` = other - first; `half_width` of its approximate 95% interval, None where there is none."""

    value: float
    half_width: float | None

    def text(self) -> str:
        """`+0.25 [0.13, 0.37]`, or `+0.25` without an interval (or when it is exact)."""
        shown = f"{self.value:+.4g}"
        if self.half_width is None or self.half_width == 0:
            return shown
        return f"{shown} [{number_text(self.value - self.half_width)}, {number_text(self.value + self.half_width)}]"


def claim_difference(first: dict | None, other: dict | None) -> Difference | None:
    """`other`'s claim value minus `first`'s; None when either claim is absent or has no finite value."""
    a, b = _finite(first.get("value") if first else None), _finite(other.get("value") if other else None)
    if a is None or b is None:
        return None
    half_a, half_b = half_width(first), half_width(other)
    combined = None if half_a is None or half_b is None else math.hypot(half_a, half_b)
    return Difference(b - a, combined)


def half_width(claim: dict) -> float | None:
    """Half the width of the claim's 95% interval: 0 for an exact quantity (interval null),
    None when no interval was recorded or an end is unbounded (null)."""
    if "interval" not in claim:
        return None
    interval = claim["interval"]
    if interval is None:
        return 0.0
    low, high = (_finite(end) for end in interval)
    return None if low is None or high is None else (high - low) / 2


def scalar_difference(first, other) -> str:
    """`other - first` for two numbers as `+1.5e-15`; "n/a" when either is absent, null, true/false or not finite."""
    a, b = _finite(first), _finite(other)
    return "n/a" if a is None or b is None else f"{b - a:+.4g}"


def _finite(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)

"""Straight lines through log-log data: the growth laws the autodiff claims read."""

import numpy as np


def log_slope(x, y) -> float:
    """Least-squares slope of log y against log x: 1 for y ~ x, 0 for a constant."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def crossover_ratio(n_over_m: np.ndarray, fwd_over_rev: np.ndarray) -> float:
    """n/m where a least-squares line through log(jacfwd/jacrev) against log(n/m)
    crosses 0: robust to single noisy points, unlike the first sign change. A line
    that does not rise (jacfwd not relatively dearer as n grows: the law reversed, e.g.
    the two swapped) has no such crossover: infinitely far from n = m, so a claim
    on its distance says "not reproduced", not "not measured"."""
    slope, intercept = np.polyfit(np.log2(n_over_m), np.log2(fwd_over_rev), 1)
    return float(2 ** (-intercept / slope)) if slope > 0 else float("inf")

"""The test set's sampling noise in a comparison of two classifiers' error rates: the runs' seeds
vary the training, while the test set is one finite sample of the digits the claim is about. The
paired difference over seeds is widened by the standard error of the mean, over test examples, of
their per-example difference (wrong for A - wrong for B, averaged over seeds), added in quadrature
(McNemar's paired view: only the examples the two disagree on carry noise)."""

import numpy as np

from common import stats

Z95 = 1.96


def with_test_noise(difference: stats.Measurement, wrong_a_SxN, wrong_b_SxN) -> stats.Measurement:
    """`difference` (A - B in error %, over seeds) with its 95% interval widened by the test set's noise."""
    per_example = np.mean(wrong_a_SxN, axis=0) - np.mean(wrong_b_SxN, axis=0)
    test_half = Z95 * 100 * np.std(per_example, ddof=1) / np.sqrt(per_example.size)
    lo, hi = difference.interval
    half = float(np.hypot((hi - lo) / 2, test_half))
    return stats.Measurement(difference.value, (difference.value - half, difference.value + half),
                             f"{difference.how} and {per_example.size} test examples (+-{test_half:.2g})",
                             difference.n)


def folded(difference: stats.Measurement) -> stats.Measurement:
    """|A - B|: the interval of the difference folded at 0."""
    lo, hi = difference.interval
    return stats.Measurement(abs(difference.value), (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)),
                                                     max(abs(lo), abs(hi))), difference.how, difference.n)

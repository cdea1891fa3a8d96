"""A mean test accuracy's interval holds both the seeds' spread and the test set's sampling noise."""

import numpy as np
import pytest

from common import stats
from research.pruning.intervals import accuracy_interval


def test_equal_seeds_leave_the_test_sets_wilson_width():
    lo, hi = stats.proportion(600, 1000, "examples").interval
    got = accuracy_interval(np.full(5, 0.6), 1000)
    assert got.value == pytest.approx(0.6)
    assert got.interval == pytest.approx((0.6 - (hi - lo) / 2, 0.6 + (hi - lo) / 2))


def test_a_huge_test_set_leaves_the_t_interval_over_seeds():
    per_seed = np.array([0.58, 0.6, 0.61, 0.63, 0.6])
    assert accuracy_interval(per_seed, 10**9).interval == pytest.approx(stats.mean(per_seed).interval, abs=1e-4)
    assert np.diff(accuracy_interval(per_seed, 1000).interval)[0] > np.diff(stats.mean(per_seed).interval)[0]

"""The intervals that fit their quantity (common/stats.py) against closed forms and simulation."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from common import stats


def test_wilson_interval_matches_the_closed_form_and_stays_in_the_unit_interval():
    m = stats.proportion(4, 4)
    assert m.value == 1.0 and m.interval[1] == 1.0
    assert m.interval[0] == pytest.approx(0.5101, abs=1e-4)  # Wilson 95%, 4/4 (Newcombe 1998, table I)
    lo, hi = stats.proportion(0, 10).interval
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert stats.proportion(3, 7).interval[0] > 0 and stats.proportion(3, 7).interval[1] < 1


def test_wilson_interval_covers_the_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = [(lambda m: m.interval[0] <= 0.3 <= m.interval[1])(stats.proportion(int(k), 40))
            for k in rng.binomial(40, 0.3, size=4000)]
    assert 0.93 <= np.mean(hits) <= 0.97


def test_bootstrap_mean_stays_inside_the_samples_range():
    m = stats.bootstrap_mean([0, 8, 8, 0])
    assert 0 <= m.interval[0] < m.value < m.interval[1] <= 8


def test_geometric_mean_interval_is_positive_and_log_symmetric():
    m = stats.geometric_mean([0.01, 0.02, 0.04])
    assert m.value == pytest.approx(0.02)
    lo, hi = m.interval
    assert lo > 0 and np.log(hi / m.value) == pytest.approx(np.log(m.value / lo))
    with pytest.raises(ValueError):
        stats.geometric_mean([0.1, 0.0])


def test_equivalence_is_the_90_percent_t_interval_of_the_paired_difference():
    a, b = np.array([1.0, 1.2, 0.9, 1.1, 1.05]), np.array([1.0, 1.1, 1.0, 1.0, 1.0])
    m = stats.equivalence(a, b, margin=0.2)
    d = a - b
    half = scipy_stats.t.ppf(0.95, 4) * d.std(ddof=1) / np.sqrt(5)
    assert m.interval == pytest.approx((d.mean() - half, d.mean() + half))


def test_a_method_matches_itself_at_the_seeds_the_power_rule_asks_for():
    """Simulated: two runs of one method (true difference 0, per-seed spread 1) pass TOST at margin
    0.5 in at least ~80% of trials with the seeds that seeds_for_equivalence gives."""
    n = stats.seeds_for_equivalence(spread=1.0, margin=0.5)
    assert n == 35  # ((1.645 + 1.282) * 2)^2 = 34.3
    rng = np.random.default_rng(1)
    passed = [abs(m.interval[0]) < 0.5 and abs(m.interval[1]) < 0.5
              for m in (stats.equivalence(rng.normal(size=n), np.zeros(n), 0.5) for _ in range(2000))]
    assert np.mean(passed) >= 0.75

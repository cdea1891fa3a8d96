"""Verdicts with uncertainty: the interval decides, the control can demote."""

import math

import numpy as np
import pytest

from common import stats
from common.experiment import (Claim, Control, MissingResult, NotRunAtPreset, Results, above, at_least, at_most, evaluate, near, scalars,
                               within)
from common.stats import Measurement


@pytest.mark.parametrize("region, interval, verdict", [
    (at_least(1.0), (1.1, 1.5), "reproduced"),
    (at_least(1.0), (0.5, 0.9), "not reproduced"),
    (at_least(1.0), (0.9, 1.1), "inconclusive"),
    (at_most(1.0), (0.2, 0.9), "reproduced"),
    (at_most(1.0), (0.9, 1.2), "inconclusive"),
    (within(0.9, 1.1), (0.95, 1.05), "reproduced"),
    (within(0.9, 1.1), (0.95, 1.2), "inconclusive"),
    (within(0.9, 1.1), (1.2, 1.3), "not reproduced"),
    (above(0.0), (0.0, 0.0), "not reproduced"),  # A/A: exactly equal is not "beats"
    (at_least(0.0), (0.0, 0.0), "reproduced"),
    (above(0.0), (-0.1, 0.2), "inconclusive"),
])
def test_interval_decides_the_verdict(region, interval, verdict):
    assert region.verdict(Measurement(sum(interval) / 2, interval)) == verdict


def test_exact_quantity_uses_the_tolerance_and_nan_is_inconclusive():
    assert near(1.0, 1e-6).verdict(Measurement(1.0 + 1e-7)) == "reproduced"
    assert near(1.0, 1e-6).verdict(Measurement(1.0 + 1e-5)) == "not reproduced"
    assert at_least(0).verdict(Measurement(float("nan"))) == "inconclusive"


def test_t_interval_matches_the_closed_form():
    x = np.array([1.0, 2.0, 4.0])
    m = stats.mean(x)
    half = 4.302652729911275 * x.std(ddof=1) / math.sqrt(3)  # t_{0.975, 2}
    assert m.value == pytest.approx(7 / 3) and m.interval == pytest.approx((7 / 3 - half, 7 / 3 + half))
    assert stats.mean([np.nan, 1.0]).interval == (-math.inf, math.inf)  # one finite seed: no interval
    assert stats.mean([np.nan, 1.0, 3.0]).n == 2


def test_welch_difference_covers_the_true_difference_about_95_percent():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(400):
        d = stats.difference_of_means(rng.normal(1.0, 1.0, 5), rng.normal(0.0, 2.0, 7))
        covered += d.interval[0] <= 1.0 <= d.interval[1]
    assert 0.91 <= covered / 400 <= 0.99


def test_timing_ratio_is_widened_by_the_aa_calibration():
    rng = np.random.default_rng(1)
    a = 1e-3 * (1 + 0.05 * rng.standard_normal(30))
    b = 2e-3 * (1 + 0.05 * rng.standard_normal(30))
    bare = stats.timing_ratio(b, a)
    aa = 1 + 0.2 * rng.standard_normal(30)
    widened = stats.timing_ratio(b, a, aa)
    assert bare.value == pytest.approx(2.0, rel=0.1)
    assert widened.interval[0] < bare.interval[0] and widened.interval[1] > bare.interval[1]
    # The A/A ratio of one program against itself straddles 1.
    assert stats.bootstrap_median(a / np.roll(a, 1)).interval[0] < 1 < stats.bootstrap_median(a / np.roll(a, 1)).interval[1]


def test_smallest_takes_the_weaker_of_two_comparisons():
    m = stats.smallest(Measurement(0.3, (0.2, 0.4)), Measurement(0.1, (-0.05, 0.25)))
    assert m.value == 0.1 and m.interval == (-0.05, 0.25)


def test_a_control_that_passes_at_run_time_demotes_the_claim():
    claim = Claim(
        statement="x is big",
        paper="1",
        measure=lambda r: r.scalars["x"],
        region=at_least(1.0),
        control=Control(name="noise", results=scalars({"x": 0.0})),
        passing=scalars({"x": 2.0}),
        baseline=lambda r: r.scalars["noise_x"],
    )
    good = evaluate(claim, Results(scalars={"x": 2.0, "noise_x": 0.1}))
    assert good.verdict == "reproduced" and good.control.verdict == "not reproduced"
    fooled = evaluate(claim, Results(scalars={"x": 2.0, "noise_x": 1.5}))
    assert fooled.verdict == "inconclusive" and "noise" in fooled.note
    unmeasured = evaluate(claim, Results(scalars={"x": float("nan")}))
    assert unmeasured.verdict == "not measured" and unmeasured.measured == "not measured"
    assert unmeasured.interval is None and unmeasured.how


def test_a_measure_reading_an_absent_key_is_an_error_that_names_it():
    claim = Claim(
        statement="x is big",
        paper="1",
        measure=lambda r: r.scalars["x_typo"],
        region=at_least(1.0),
        control=Control(name="noise", results=scalars({"x": 0.0})),
        passing=scalars({"x": 2.0}),
    )
    with pytest.raises(MissingResult, match="x_typo"):
        evaluate(claim, Results(scalars={"x": 2.0}))


def test_a_claim_its_preset_does_not_run_is_no_verdict():
    def measure(r):
        raise NotRunAtPreset("paper")

    claim = Claim(
        statement="at 64 seeds",
        paper="1",
        measure=measure,
        region=at_least(1.0),
        control=Control(name="noise", results=scalars({})),
        passing=scalars({}),
    )
    outcome = evaluate(claim, Results())
    assert outcome.verdict == "not run at this preset" and outcome.how == "needs --preset paper"
    assert outcome.interval is None and outcome.value is None


def test_an_undecided_claim_still_shows_its_run_time_control():
    from common.experiment import Undecided

    def undecided(results):
        raise Undecided("the baseline arm did not train")

    claim = Claim(statement="A beats B", paper="> 0", measure=undecided, region=above(0.0),
                  control=Control(name="A against itself", results=scalars({"gap": 0.0})),
                  passing=scalars({"gap": 1.0}), baseline=lambda r: r.scalars["self_gap"])
    outcome = evaluate(claim, Results(scalars={"self_gap": -0.01}))
    assert outcome.verdict == "inconclusive" and outcome.how == "the baseline arm did not train"
    assert outcome.control.value == -0.01 and outcome.control.verdict == "not reproduced"

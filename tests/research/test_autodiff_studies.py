"""The pure helpers the autodiff experiments moved into research/autodiff: line fits, the exact laws behind
the forward-gradient controls, and the Jacobian sweep's report rows."""

import numpy as np
import pytest

from research.autodiff import fits
from research.autodiff import forward_gradient as FG
from research.autodiff import forward_gradient_study as S
from research.autodiff import jacobian as J


def test_log_slope_reads_the_power_of_a_power_law():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert fits.log_slope(x, 3 * x**2) == pytest.approx(2.0)
    assert fits.log_slope(x, 5 + 0 * x) == pytest.approx(0.0, abs=1e-12)


def test_exact_projections_have_the_chi2_mean_and_scale_with_the_estimator():
    assert S.exact_projections().mean() == pytest.approx(1.0, abs=0.01)
    assert S.exact_projections(0.5).mean() == pytest.approx(0.5, abs=0.01)


def test_exact_cosines_follow_the_law_and_the_k_independent_case_does_not():
    ks, dim = (1, 16), 500
    law = S.exact_cosines(ks, dim, 4096, k_independent=False)
    flat = S.exact_cosines(ks, dim, 4096, k_independent=True)
    for k in ks:
        assert law[k].mean() == pytest.approx(FG.expected_cosine(dim, k), rel=0.05)
    assert flat[16].mean() == pytest.approx(FG.expected_cosine(dim, 1), rel=0.05)


def test_an_orthogonal_bias_is_orthogonal_and_of_the_asked_length():
    mean, g = S.exact_mean_estimate(0.3, 200, 10**12)  # so many samples that the noise vanishes
    bias = mean - g
    assert abs(bias @ g) < 1e-6 * np.linalg.norm(g) ** 2
    assert np.linalg.norm(bias) == pytest.approx(0.3 * np.linalg.norm(g), rel=1e-4)


def test_flop_rows_give_each_strategy_per_f_and_their_ratio():
    sweep = J.FlopSweep(np.array([4, 16]), np.array([16, 4]), np.array([10.0, 10.0]), np.array([40.0, 160.0]),
                        np.array([160.0, 40.0]))
    rows = J.flop_rows(sweep)
    assert [r["jacfwd / jacrev FLOPs"] for r in rows] == [0.25, 4.0]
    assert [r["n/m"] for r in rows] == [0.25, 4.0] and rows[0]["jacrev / f FLOPs"] == 16.0

"""research/bayes/predictive.py: the spread's ratios on each side of the training interval, the band's
coverage and the noise scales, on draws whose answer is known."""

import numpy as np

from research.bayes import predictive

GRID = np.linspace(-0.2, 1.2, 141)


def _draws(std_P, seeds=3, draws=2000):
    return std_P * np.random.default_rng(0).standard_normal((seeds, draws, std_P.size))


def test_a_band_growing_as_x_squared_is_wide_outside_pooled_but_narrow_left_of_the_data():
    """Issue 22: 70 of the 90 grid points outside [0, 0.5] lie right of it, so a band that only widens to
    the right passes a pooled outside / inside ratio; on the left it is narrower than inside."""
    spread = predictive.spread(_draws(GRID**2 + 0.01), GRID, 0.0, 0.5, np.zeros_like(GRID))
    assert np.all(spread.std_ratio_per_seed > 3)
    assert np.all(spread.std_ratio_left_per_seed < 1)
    assert np.all(spread.std_ratio_right_per_seed > 3)


def test_a_symmetric_band_widens_on_both_sides():
    distance = np.maximum(0.0 - GRID, GRID - 0.5).clip(0)
    spread = predictive.spread(_draws(0.05 + 2 * distance), GRID, 0.0, 0.5, np.zeros_like(GRID))
    assert np.all(spread.std_ratio_left_per_seed > 3) and np.all(spread.std_ratio_right_per_seed > 3)
    assert np.all(spread.rmse_inside_per_seed < 0.01)  # the median of zero-mean draws is near 0


def test_band_coverage_of_the_draws_own_distribution_is_the_level():
    draws = _draws(np.ones(400), seeds=2)
    fresh = np.random.default_rng(1).standard_normal(400)
    for level in (0.5, 0.95):
        assert np.all(np.abs(predictive.band_coverage(draws, fresh, level) - level) < 0.06)


def test_fitted_noise_is_the_rms_residual_of_the_predictive_mean():
    functions = np.zeros((2, 5, 4))
    scales = predictive.noise_scales(functions, np.array([0.3, -0.3, 0.3, -0.3]), noise_std=0.02)
    np.testing.assert_allclose(scales["fitted"], [0.3, 0.3])
    np.testing.assert_allclose(scales["likelihood"], [0.02, 0.02])
    np.testing.assert_allclose(scales["none"], [0.0, 0.0])

"""Tests of common.data.synthetic against closed forms and Monte-Carlo error bars."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.data.synthetic import (
    grid_centers,
    ring_centers,
    sample_mixture,
    toy_regression,
    toy_regression_mean,
)


@pytest.mark.parametrize("num_modes,radius", [(8, 2.0), (3, 1.0), (25, 5.0)])
def test_ring_centers_distinct_and_on_circle(num_modes, radius):
    centers = np.asarray(ring_centers(num_modes, radius))
    assert centers.shape == (num_modes, 2)
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), radius, rtol=1e-6)
    # Evenly spaced: every pair of neighbours is one chord 2 r sin(pi / K) apart,
    # which fails if the endpoint 2 pi is included (two modes coincide).
    dists = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
    np.fill_diagonal(dists, np.inf)
    np.testing.assert_allclose(dists.min(axis=1), 2 * radius * np.sin(np.pi / num_modes), rtol=1e-5)
    np.testing.assert_allclose(centers[0], [radius, 0.0], atol=1e-6)


def test_grid_centers_default_coordinates():
    centers = np.asarray(grid_centers())
    assert centers.shape == (25, 2)
    assert len({tuple(c) for c in centers.tolist()}) == 25
    np.testing.assert_array_equal(np.unique(centers[:, 0]), [-4.0, -2.0, 0.0, 2.0, 4.0])
    np.testing.assert_array_equal(np.unique(centers[:, 1]), [-4.0, -2.0, 0.0, 2.0, 4.0])
    np.testing.assert_allclose(centers.mean(axis=0), 0.0, atol=1e-6)


def test_grid_centers_even_side_is_centered():
    centers = np.asarray(grid_centers(side=4, spacing=1.0))
    np.testing.assert_array_equal(np.unique(centers[:, 0]), [-1.5, -0.5, 0.5, 1.5])


@pytest.mark.parametrize("centers_fn", [ring_centers, grid_centers])
def test_sample_mixture_statistics(centers_fn):
    centers = centers_fn()
    n, std = 40_000, 0.05
    samples = np.asarray(sample_mixture(jax.random.key(0), centers, n, std))
    centers = np.asarray(centers)
    assert samples.shape == (n, 2)
    # std is far below the spacing, so the nearest center is the one sampled.
    nearest = np.argmin(np.linalg.norm(samples[:, None] - centers[None], axis=-1), axis=1)
    counts = np.bincount(nearest, minlength=len(centers))
    p = 1.0 / len(centers)
    # Uniform choice of mode: each count within 5 binomial standard errors.
    assert np.all(np.abs(counts - n * p) < 5 * np.sqrt(n * p * (1 - p)))
    residuals = samples - centers[nearest]
    for k in range(len(centers)):
        r = residuals[nearest == k]
        np.testing.assert_array_less(np.abs(r.mean(axis=0)), 5 * std / np.sqrt(len(r)))
    # Sample std of N(0, std^2): relative standard error 1 / sqrt(2 m) over m = 2n values.
    assert abs(residuals.std() / std - 1) < 5 / np.sqrt(4 * n)


def test_sample_mixture_is_deterministic_per_key():
    centers = ring_centers()
    a = sample_mixture(jax.random.key(3), centers, 10, 0.1)
    b = sample_mixture(jax.random.key(3), centers, 10, 0.1)
    c = sample_mixture(jax.random.key(4), centers, 10, 0.1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_toy_regression_without_noise_is_the_mean_curve():
    x, y = toy_regression(jax.random.key(0), 500, noise_std=0.0)
    assert x.shape == y.shape == (500, 1)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 0.5
    np.testing.assert_allclose(y, toy_regression_mean(x), rtol=1e-6, atol=1e-6)


def test_toy_regression_mean_closed_form():
    x = jnp.array([0.0, 0.125, 0.25, 0.5])
    # x + 0.3 sin(2 pi x) + 0.3 sin(4 pi x) at these points.
    expected = [0.0, 0.125 + 0.3 * np.sqrt(0.5) + 0.3, 0.25 + 0.3, 0.5]
    np.testing.assert_allclose(toy_regression_mean(x), expected, atol=1e-6)


def test_toy_regression_noise_enters_inside_the_sines():
    """To first order y - mean(x) = eps * mean'(x): noise inside the sines is amplified."""
    n, noise_std = 20_000, 1e-4
    with jax.enable_x64(True):
        x, y = toy_regression(jax.random.key(1), n, x_low=-0.2, x_high=1.2, noise_std=noise_std)
        x, y = np.asarray(x[:, 0]), np.asarray(y[:, 0])
        residual = y - np.asarray(toy_regression_mean(jnp.asarray(x)))
    assert x.dtype == np.float64
    assert x.min() >= -0.2 and x.max() <= 1.2
    assert abs(x.mean() - 0.5) < 5 * 1.4 / np.sqrt(12 * n)
    slope = 1 + 0.6 * np.pi * np.cos(2 * np.pi * x) + 1.2 * np.pi * np.cos(4 * np.pi * x)
    keep = np.abs(slope) > 1.0  # avoid dividing by a near-zero slope
    eps = residual[keep] / slope[keep]
    m = keep.sum()
    assert abs(eps.mean()) < 5 * noise_std / np.sqrt(m)
    assert abs(eps.std() / noise_std - 1) < 5 / np.sqrt(2 * m)

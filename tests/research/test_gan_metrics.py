"""VEEGAN mode metrics on constructed samples."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.data.synthetic import grid_centers, ring_centers, sample_mixture
from research.gan.metrics import covered_modes, mode_coverage, mode_kl, nearest_mode

STD = 0.02


def test_nearest_mode_on_the_grid():
    centers = grid_centers()
    samples = jnp.asarray([[-4.0, -4.0], [0.9, 0.1], [1.1, -0.1], [4.0, 3.2]])
    index, dist = nearest_mode(samples, centers)
    np.testing.assert_array_equal(index, [0, 12, 17, 24])  # (-4,-4), (0,0), (2,0), (4,4)
    np.testing.assert_allclose(dist, [0.0, np.hypot(0.9, 0.1), np.hypot(0.9, 0.1), 0.8], rtol=1e-6)


def test_constructed_samples_on_the_ring():
    centers = ring_centers(8, 2.0)
    offset = jnp.asarray([1.0, 0.0])
    samples = jnp.stack([
        centers[0],                        # on mode 0: high quality
        centers[0] + 2.9 * STD * offset,   # just inside 3 std: high quality, mode 0 again
        centers[3] + 2.99 * STD * offset,  # mode 3
        centers[5] + 3.01 * STD * offset,  # just outside 3 std: low quality, mode 5 not captured
        jnp.zeros(2),                      # between modes: low quality
        jnp.asarray([jnp.nan, 0.0]),       # a diverged sample: low quality
    ])
    m = mode_coverage(samples, centers, STD)
    assert int(m["modes_captured"]) == 2
    assert float(m["high_quality"]) == pytest.approx(3 / 6)
    np.testing.assert_array_equal(m["hits_per_mode"], [2, 0, 0, 1, 0, 0, 0, 0])


def test_true_mixture_captures_every_mode_with_the_gaussian_share():
    # For exact samples the high-quality share is P(chi_2 < 9) = 1 - e^{-4.5} = 0.98889.
    for centers in (ring_centers(), grid_centers()):
        samples = sample_mixture(jax.random.key(0), centers, 40_000, STD)
        m = mode_coverage(samples, centers, STD)
        assert int(m["modes_captured"]) == centers.shape[0]
        assert float(m["high_quality"]) == pytest.approx(1 - np.exp(-4.5), abs=0.003)


def test_collapsed_generator_captures_one_mode_and_vmaps_over_seeds():
    centers = ring_centers()
    collapsed = jnp.broadcast_to(centers[2], (100, 2))
    spread = sample_mixture(jax.random.key(1), centers, 100, STD)
    m = jax.vmap(lambda s: mode_coverage(s, centers, STD))(jnp.stack([collapsed, spread]))
    np.testing.assert_array_equal(m["modes_captured"], [1, 8])
    assert float(m["high_quality"][0]) == 1.0


def test_covered_modes_needs_a_count_per_mode_and_a_share_floor():
    hits = jnp.asarray([12.0, 10.0, 9.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert int(covered_modes(hits, jnp.asarray(0.5), min_count=10, floor=0.1)) == 2
    assert int(covered_modes(hits, jnp.asarray(0.5), min_count=1, floor=0.1)) == 4  # VEEGAN's count
    assert int(covered_modes(hits, jnp.asarray(0.05), min_count=1, floor=0.1)) == 0  # diffuse: below the floor


def test_noise_blob_captures_ring_modes_at_std_005_but_covers_none():
    """The review's finding: N(0, I) samples 'capture' most ring modes at std 0.05 by VEEGAN's count."""
    centers = ring_centers(8, 2.0)
    noise = jax.random.normal(jax.random.key(0), (2500, 2))
    loose = mode_coverage(noise, centers, 0.05)
    assert int(loose["modes_captured"]) >= 6 and float(loose["high_quality"]) < 0.03
    for std in (0.05, 0.02):
        metrics = mode_coverage(noise, centers, std)
        assert int(covered_modes(metrics["hits_per_mode"], metrics["high_quality"], 10, 0.1)) == 0


def test_mode_kl_against_the_closed_form():
    assert float(mode_kl(jnp.full((8,), 5.0))) == pytest.approx(0.0, abs=1e-7)
    assert float(mode_kl(jnp.asarray([7.0] + [0.0] * 7))) == pytest.approx(np.log(8), rel=1e-6)
    assert float(mode_kl(jnp.asarray([3.0, 3.0, 0.0, 0.0]))) == pytest.approx(np.log(2), rel=1e-6)
    assert np.isnan(float(mode_kl(jnp.zeros(8))))


def test_mode_hopping_counts_changes_of_the_held_mode_only():
    from research.gan.metrics import mode_hopping

    hits = np.zeros((6, 2, 8))
    hits[[0, 1], 0, 2] = 500  # seed 0: mode 2 held, then nothing held, then mode 5, then mode 2 again
    hits[3, 0, 5], hits[4, 0, 2] = 400, 300
    hits[2, 0] = 10  # spread evenly: no mode holds most of the HQ samples
    hits[:, 1, :3] = 300, 300, 10  # seed 1: mode 0 tops every time but never holds a majority
    hop = mode_hopping(hits, samples=2500, floor=0.01)
    np.testing.assert_array_equal(hop.mode[:, 0], [2, 2, -1, 5, 2, -1])
    np.testing.assert_array_equal(hop.switches, [2, 0])
    np.testing.assert_allclose(hop.share[0, 0], 0.2)
    # below the floor (1% of 2500 = 25 samples) a lone mode is not held
    assert mode_hopping(hits * 0.04, samples=2500, floor=0.01).switches[0] == 0

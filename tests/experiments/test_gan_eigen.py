"""gan-eigen on a tiny setup: the spectrum at step 0 and on its schedule, a frozen (diverged) state still read."""

import dataclasses

import numpy as np
import pytest

from common import records
from common.runs import Session
from experiments.gan import eigen as gan_eigen


@pytest.fixture
def tiny(monkeypatch):
    """A tiny gan-mixture setup registered as "tiny" for the test, and a gan-eigen config that trains with it."""
    setup = dataclasses.replace(gan_eigen.mixture.PRESETS["quick"], batch_size=32, z_dim=4, hidden=8,
                                eval_samples=200, chunk=10)
    monkeypatch.setitem(gan_eigen.mixture.PRESETS, "tiny", setup)
    return dataclasses.replace(gan_eigen.PRESETS["quick"], setup="tiny", seeds=2, eigen_seeds=1, methods=("gan",),
                               steps=10, eval_every=10, eigen_every=10, eigen_batch=64, eigen_iterations=20)


def test_a_state_frozen_after_blow_up_is_read_at_step_0_and_at_the_evaluation(tiny, monkeypatch):
    monkeypatch.setitem(gan_eigen.mixture.PRESETS, "tiny", dataclasses.replace(
        gan_eigen.mixture.PRESETS["tiny"], blowup=1e-3))
    results = gan_eigen.run(tiny, Session(None))
    spectrum = records.get(results, "ring/gan", gan_eigen.Spectrum)
    np.testing.assert_array_equal(spectrum.eigen_step, [0, 10])
    assert spectrum.max_real_eigen.shape == spectrum.field_norm.shape == (2, 1)  # (points, eigen seeds)
    assert np.isfinite(spectrum.max_real_eigen).all() and np.all(spectrum.field_norm > 0)
    np.testing.assert_allclose(spectrum.field_norm[1], spectrum.field_norm[0], rtol=0.1)  # frozen after its first step
    (row,) = next(iter(results.tables.values()))
    assert row["end reading per seed"].startswith("not stationary")  # ||v|| / ||v_0|| ~ 1
    assert not spectrum.matches_data.any()  # 10 steps: the samples are not on the modes


def test_spectrum_only_on_its_schedule(tiny):
    config = dataclasses.replace(tiny, methods=("r1",), steps=20, eigen_every=20)
    results = gan_eigen.run(config, Session(None))
    spectrum = records.get(results, "ring/r1", gan_eigen.Spectrum)
    np.testing.assert_array_equal(spectrum.eigen_step, [0, 20])  # step 10 is off the schedule
    assert spectrum.field_norm.shape == (2, 1) and np.isfinite(spectrum.field_norm).all()


def test_an_attracting_reading_needs_samples_that_match_the_data():
    claim = gan_eigen.CLAIMS[0]
    spread = np.linspace(-1, 1, 4)
    at_rest = ([[0.5] * 4, -0.3 + 0.05 * spread], [[1.0] * 4, 0.01 + 0.002 * spread])
    assert claim.measure(gan_eigen.trajectory("ring", "r1", *at_rest)).interval[1] < 0
    assert np.isnan(claim.measure(gan_eigen.trajectory("ring", "r1", *at_rest, matches=False)).value)
    # the run-time control reads step 0, where the untrained pair is far from any stationary point
    assert claim.baseline(gan_eigen.trajectory("ring", "r1", *at_rest)).value == 0.5

"""gan-mixture on a tiny config: shapes, finite metrics, divergence recorded per seed."""

import dataclasses

import numpy as np

from common.runs import Session
from experiments import gan_mixture

TINY = gan_mixture.Config(
    seeds=2, datasets=("ring",), methods=("gan", "unrolled"), steps=10, chunk=10, eval_every=10,
    unroll_steps=2, batch_size=32, z_dim=4, hidden=8, eval_samples=200, eigen_seeds=0, eigen_batch=64,
    eigen_iterations=20,
)


def test_gan_mixture_tiny():
    results = gan_mixture.run(TINY, Session(None))
    for method in TINY.methods:
        key = f"ring/{method}"
        assert results.arrays[f"{key}/modes"].shape == (1, 2)  # (evaluations, seeds)
        assert results.arrays[f"{key}/samples"].shape == (200, 2)
        assert np.all(results.arrays[f"{key}/diverged_at"] == -1)
        modes = results.scalars[f"{key}/modes"]
        assert 0 <= modes <= 8
        assert 0.0 <= results.scalars[f"{key}/high_quality"] <= 1.0
        # an untrained generator's samples sit near the origin, far from the ring
        assert np.abs(results.arrays[f"{key}/samples"]).mean() < 2.0
    assert np.isfinite(results.scalars["ring/unrolled_minus_gan_modes"])
    (rows,) = results.tables.values()
    assert [r["method"] for r in rows] == ["gan", "unrolled"]


def test_blow_up_is_recorded_with_its_step_and_the_run_goes_on():
    config = dataclasses.replace(TINY, methods=("gan",), blowup=1e-3, eigen_seeds=1)
    results = gan_mixture.run(config, Session(None))
    np.testing.assert_array_equal(results.arrays["ring/gan/diverged_at"], [0, 0])
    (rows,) = results.tables.values()
    assert rows[0]["diverged (step)"] == "0, 0"
    # the frozen state is still analysed: the field's Jacobian at the initial point
    assert np.isfinite(results.scalars["ring/gan/max_real_eigen"])

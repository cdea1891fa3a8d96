"""gan-mixture on a tiny config: shapes, the run-time controls, each method's recipe, divergence per seed."""

import dataclasses

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments.gan import mixture as gan_mixture

TINY = gan_mixture.Config(
    seeds=2, datasets=("ring",), methods=("gan", "wgan-gp"), steps=10, chunk=10, eval_every=10,
    batch_size=32, z_dim=4, hidden=8, eval_samples=200, eigen_seeds=0, eigen_batch=64, eigen_iterations=20,
    critic_steps=2,
)


def test_gan_mixture_tiny():
    results = gan_mixture.run(TINY, Session(None))
    a = results.arrays
    for method in TINY.methods:
        key = f"ring/{method}"
        assert a[f"{key}/covered"].shape == (1, 2)  # (evaluations, seeds)
        assert a[f"{key}/hits"].shape == (1, 2, 8)  # mass per mode over training
        assert a[f"{key}/samples"].shape == (200, 2)
        assert np.all(a[f"{key}/diverged_at"] == -1)
        assert np.all((0 <= a[f"{key}/high_quality"]) & (a[f"{key}/high_quality"] <= 1))
        # an untrained generator's samples sit near the origin, far from the ring: nothing covered
        assert np.all(a[f"{key}/covered"] == 0)
    # the run-time controls: noise covers nothing, the data covers every mode with ~all samples good
    assert np.all(a["ring/noise/covered"] == 0)
    np.testing.assert_array_equal(a["ring/data/covered"], [[8, 8]])
    assert np.all(a["ring/data/high_quality"] > 0.95)
    recipes = {row["method"]: row["recipe"] for row in results.tables["Each method's recipe"]}
    assert recipes["wgan-gp"].startswith("2 critic steps") and "betas (0, 0.9)" in recipes["wgan-gp"]
    outcomes = {o.statement: o for o in evaluate_claims(gan_mixture.CLAIMS, results)}
    wgan = next(o for s, o in outcomes.items() if s.startswith("ring: wgan-gp covers"))
    assert wgan.verdict == "not reproduced" and wgan.control.value == 0.0  # noise baseline shown beside it


def test_blow_up_is_recorded_with_its_step_and_the_run_goes_on():
    config = dataclasses.replace(TINY, methods=("gan",), blowup=1e-3, eigen_seeds=1, lr_ratios=(1.0,))
    results = gan_mixture.run(config, Session(None))
    np.testing.assert_array_equal(results.arrays["ring/gan/diverged_at"], [0, 0])
    rows = results.tables[next(t for t in results.tables if t.startswith("Modes"))]
    assert rows[-1]["diverged (step)"] == "0, 0"
    # the state frozen after its first step is still analysed, at step 0 and at the evaluation (one tracked seed)
    a = results.arrays
    np.testing.assert_array_equal(a["ring/gan/eigen_step"], [0, 10])
    assert a["ring/gan/max_real_eigen"].shape == a["ring/gan/field_norm"].shape == (2, 1)  # (points, eigen seeds)
    assert np.isfinite(a["ring/gan/max_real_eigen"]).all() and np.all(a["ring/gan/field_norm"] > 0)
    np.testing.assert_allclose(a["ring/gan/field_norm"][1], a["ring/gan/field_norm"][0], rtol=1e-2)  # one step
    assert rows[-1][gan_mixture.EIGEN_COLUMN].endswith(", 1: not stationary")  # ||v|| / ||v_0|| ~ 1
    # the lr_D / lr_G grid trains the plain GAN again at each ratio and reports its finals
    (sweep,) = [rows for title, rows in results.tables.items() if "sweeps" in title]
    assert [(r["method"], r["value"]) for r in sweep] == [("gan", 1.0)]
    assert results.arrays["ring/sweep/ratio/1/covered"].shape == (1, 2)


def test_spectrum_only_of_eigen_methods_and_only_on_its_schedule():
    config = dataclasses.replace(TINY, methods=("gan", "r1"), steps=20, eigen_seeds=1, eigen_every=20,
                                 eigen_methods=("r1",), lr_ratios=(), r1_gammas=())
    results = gan_mixture.run(config, Session(None))
    a = results.arrays
    np.testing.assert_array_equal(a["ring/r1/eval_step"], [10, 20])
    np.testing.assert_array_equal(a["ring/r1/eigen_step"], [0, 20])  # step 10 is off the schedule
    assert a["ring/r1/field_norm"].shape == (2, 1) and np.isfinite(a["ring/r1/field_norm"]).all()
    assert "ring/gan/field_norm" not in a
    rows = {row["method"]: row for row in results.tables[next(t for t in results.tables if t.startswith("Modes"))]}
    assert rows["gan"][gan_mixture.EIGEN_COLUMN] == "not tracked"

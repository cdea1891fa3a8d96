"""gan-mixture on a tiny config: shapes, the run-time controls, each method's recipe, divergence per seed."""

import dataclasses

import numpy as np

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.gan import mixture as gan_mixture

TINY = dataclasses.replace(
    gan_mixture.PRESETS["quick"], seeds=2, methods=("gan", "wgan-gp"), steps=10, chunk=10, eval_every=10,
    batch_size=32, z_dim=4, hidden=8, eval_samples=200, critic_steps=2, lr_ratios=(), r1_gammas=())


def test_gan_mixture_tiny():
    results = gan_mixture.run(TINY, Session(None))
    for method in TINY.methods:
        run = records.get(results, records.key("ring", method), gan_mixture.MethodRun)
        assert run.covered.shape == (1, 2)  # (evaluations, seeds)
        assert run.hits.shape == (1, 2, 8)  # mass per mode over training
        assert run.samples.shape == (200, 2)
        assert np.all(run.diverged_at == -1)
        assert np.all((0 <= run.high_quality) & (run.high_quality <= 1))
        # an untrained generator's samples sit near the origin, far from the ring: nothing covered
        assert np.all(run.covered == 0)
    # the run-time controls: noise covers nothing, the data covers every mode with ~all samples good
    noise, data = (records.get(results, records.key("ring", kind), gan_mixture.Finals) for kind in ("noise", "data"))
    assert np.all(noise.covered == 0)
    np.testing.assert_array_equal(data.covered, [[8, 8]])
    assert np.all(data.high_quality > 0.95)
    recipes = {row["method"]: row["recipe"] for row in results.tables["Each method's recipe"]}
    assert recipes["wgan-gp"].startswith("2 critic steps") and "betas (0, 0.9)" in recipes["wgan-gp"]
    outcomes = {o.statement: o for o in evaluate_claims(gan_mixture.CLAIMS, results)}
    wgan = next(o for s, o in outcomes.items() if s.startswith("ring: wgan-gp covers"))
    assert wgan.verdict == "not reproduced" and wgan.control.value == 0.0  # noise baseline shown beside it


def test_blow_up_is_recorded_with_its_step_and_the_grid_reports_its_finals():
    config = dataclasses.replace(TINY, methods=("gan",), blowup=1e-3, lr_ratios=(1.0, 0.5))
    results = gan_mixture.run(config, Session(None))
    np.testing.assert_array_equal(records.get(results, "ring/gan", gan_mixture.MethodRun).diverged_at, [0, 0])
    rows = results.tables[next(t for t in results.tables if t.startswith("Modes"))]
    assert rows[-1]["diverged (step)"] == "0, 0"
    # the lr_D / lr_G grid: the ratio equal to the run's own is that run, the other one trained again
    (sweep,) = [rows for title, rows in results.tables.items() if title.startswith("Sweeps")]
    assert [(r["method"], r["value"]) for r in sweep] == [("gan", 1.0), ("gan", 0.5)]
    final = records.get(results, "ring/sweep/ratio/1", gan_mixture.SweepFinal)
    np.testing.assert_array_equal(final.covered, records.get(results, "ring/gan", gan_mixture.MethodRun).covered[-1:])

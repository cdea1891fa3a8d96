"""gan-mixture on a tiny config: shapes, the run-time controls, each method's recipe, divergence per seed."""

import dataclasses

import numpy as np

from common import records
from common.experiment import Results, evaluate_claims
from common.runs import Session
from experiments.gan import mixture as gan_mixture
from research.gan.metrics import Coverage, mode_hopping
from research.gan.mode_claims import around

TINY = dataclasses.replace(
    gan_mixture.PRESETS["quick"], seeds=2, methods=("gan", "wgan-gp"), steps=10, chunk=10, eval_every=10,
    batch_size=32, z_dim=4, hidden=8, eval_samples=200, critic_steps=2, hop_steps=0)


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
    assert recipes["wgan-gp"].startswith("2 critic steps") and "betas (0.5, 0.9)" in recipes["wgan-gp"]
    outcomes = {o.statement: o for o in evaluate_claims(gan_mixture.CLAIMS, results)}
    wgan = next(o for s, o in outcomes.items() if s.startswith("ring: wgan-gp covers"))
    # samples off the modes: not trained at this budget, so no verdict either way (nor for the noise baseline)
    assert wgan.verdict == "inconclusive" and "not trained at this budget" in wgan.how
    hops = next(o for s, o in outcomes.items() if "hops between modes" in s)
    assert hops.verdict == "not run at this preset"


def test_blow_up_is_recorded_with_its_step_and_the_grid_reports_its_finals():
    config = dataclasses.replace(TINY, methods=("gan",), blowup=1e-3, lr_ratios=(1.0, 0.5), hop_steps=20, hop_seeds=3)
    results = gan_mixture.run(config, Session(None))
    np.testing.assert_array_equal(records.get(results, "ring/gan", gan_mixture.MethodRun).diverged_at, [0, 0])
    rows = results.tables[next(t for t in results.tables if t.startswith("Modes"))]
    assert rows[-1]["diverged (step)"] == "0, 0"
    # the lr_D / lr_G grid: the ratio equal to the run's own is that run, the other one trained again
    (sweep,) = [rows for title, rows in results.tables.items() if title.startswith("Sweeps")]
    assert [(r["method"], r["value"]) for r in sweep] == [("gan", 1.0), ("gan", 0.5)]
    final = records.get(results, "ring/sweep/ratio/1", gan_mixture.Finals)
    np.testing.assert_array_equal(final.covered, records.get(results, "ring/gan", gan_mixture.MethodRun).covered[-1:])
    # the hopping run: its own seeds and steps, every evaluation read
    hop = records.get(results, "ring/hopping", gan_mixture.hopping.HopRun)
    assert hop.mode.shape == (2, 3) and hop.switches.shape == (3,)


def test_hopping_claim_rejects_the_true_mixture_and_a_one_mode_generator():
    claim = next(c for c in gan_mixture.CLAIMS if "hops between modes" in c.statement)
    hits = np.random.default_rng(0).multinomial(2500, np.full(8, 1 / 8), size=(16, 8)).astype(float)
    the_mixture = Results()  # 16 evaluations of 8 seeds drawn from the data: every mode ~1/8 of the HQ samples
    records.put(the_mixture, "ring/hopping", gan_mixture.hopping.HopRun(
        np.arange(16), hits, *mode_hopping(hits, 2500, 0.01), 2500, 0.01))
    for control in (the_mixture, gan_mixture.hopping.hop_results("ring", lambda point: 0)):
        measured = claim.measure(control)
        assert measured.value == 0 and measured.interval[1] < 0.5
    hopping = gan_mixture.hopping.hop_results("ring", lambda point: point // 4)
    assert claim.measure(hopping).interval[0] > 0.5
    # the run-time control: the data's own draws (here 8) in the hopping generator's place never hop
    records.put(hopping, "ring/data", Coverage(*[np.zeros((1, 8))] * 4, hits[:1]))
    assert claim.baseline(hopping).value == 0 and claim.baseline(hopping).interval[1] < 0.5


def test_unrolled_against_itself_is_not_more():
    claim = next(c for c in gan_mixture.CLAIMS if c.statement.startswith("ring: unrolled covers more modes"))
    results = around("ring", {"unrolled": (7.0, 0.5), "gan": (1.0, 0.5)})
    assert claim.measure(results).interval[0] > 0.5 and claim.baseline(results).value == 0

"""bbb-hmc on a shrunk problem: BBB's and NUTS's bands of f(x) on the grid, R-hat and ESS in the scalars and
the report's tables, each side's comparison per BBB seed; claims undecided when the chains disagree."""

import dataclasses

import numpy as np
import pytest

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.bayes import hmc as E
from research.bayes import hmc, predictive
from research.bayes import toy_regression as toy


def test_bbb_hmc_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=2, num_train=50, width=3, steps=200, chunk=100,
                                 num_samples=50, chains=2, warmup=20, draws=10, max_doublings=3, grid_points=29)
    results = E.run(config, Session(None))
    convergence = records.get(results, "hmc", hmc.Convergence)
    assert convergence.rhat.shape == convergence.ess.shape == (29,)
    assert results.scalars["hmc/rhat_max"] == convergence.rhat.max() and "hmc/ess_min" in results.scalars
    assert convergence.ess_min == convergence.ess.min() and 0 <= convergence.acceptance <= 1
    assert convergence.leapfrog_steps <= 2**config.max_doublings  # the tree depth limit holds
    assert records.get(results, "hmc", predictive.Band).std.shape == (1, 29)  # every chain's draws together
    assert records.get(results, "bbb", predictive.Band).std.shape == (2, 29)
    for side in toy.SIDES:
        record = records.get(results, f"bbb_vs_hmc/{side}", toy.Side)
        assert record.ratio.shape == record.covered.shape == (2,)
        assert np.all(record.ratio > 0) and np.all((record.covered >= 0) & (record.covered <= 1))
    table = results.tables["NUTS convergence of f(x)"][0]
    assert table["max split R-hat (limit 1.05)"] == convergence.rhat_max
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert len(outcomes) == 4
    if convergence.rhat_max > E.RHAT_LIMIT:  # 10 draws a chain: the chains need not agree
        assert all(o.verdict == "inconclusive" for o in outcomes)
        assert "did NOT converge" in results.notes[0]
    E.figures(results, tmp_path)
    assert (tmp_path / "hmc.png").exists()


def test_claims_are_undecided_when_the_chains_disagree():
    matching = E._matching()
    assert all(o.verdict == "reproduced" for o in evaluate_claims(E.CLAIMS, matching))
    convergence = records.get(matching, "hmc", hmc.Convergence)
    records.put(matching, "hmc", convergence._replace(rhat_max=1.2))
    assert all(o.verdict == "inconclusive" for o in evaluate_claims(E.CLAIMS, matching))


def test_against_reference_finds_a_band_that_widens_one_side_only():
    """A method whose band grows only to the right, against a reference widening on both sides: its left
    ratio falls short of the reference's and its band misses the reference's draws there."""
    grid = np.linspace(-0.2, 1.2, 57)
    rng = np.random.default_rng(0)
    distance = np.maximum(-grid, grid - 0.5).clip(0)
    reference = (0.05 + 2 * distance) * rng.standard_normal((4000, grid.size))
    one_sided = (0.05 + 2 * (grid - 0.5).clip(0)) * rng.standard_normal((2, 1000, grid.size))
    sides = toy.against_reference(one_sided, reference, grid, np.zeros_like(grid))
    assert np.all(sides["left"].ratio < 0.5) and np.all(np.abs(sides["right"].ratio - 1) < 0.15)
    assert np.all(sides["left"].covered < 0.7) and np.all(sides["right"].covered > 0.9)
    assert np.all(sides["right"].covered_narrowed < 0.6)  # the run-time control: its band narrowed 4x


def test_the_run_time_controls_read_the_runs_reference():
    """The ratio's control is 1 over HMC's own ratio (a flat band); the synthetic cases lack HMC's spread."""
    results = E._matching()
    records.put(results, "hmc", predictive.Spread(*np.full((4, 1), 5.0)))
    assert toy.flat_band_ratio("left", "hmc")(results) == pytest.approx(0.2)
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.control.verdict for o in outcomes] == ["not reproduced"] * 4
    assert all(o.verdict == "reproduced" for o in outcomes)

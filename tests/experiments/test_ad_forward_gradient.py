"""ad-forward-gradient on a shrunk config: the estimator checks hold and reject the half estimator and a
bias orthogonal to grad f on the same tangents (which only the squared-bias claim can see), every method
trains on its grid, and steps are timed."""

import dataclasses
import warnings

import numpy as np

from common import bench
from common.experiment import evaluate, evaluate_claims
from common.runs import Session
from experiments.autodiff import forward_gradient as E
from research.autodiff import forward_gradient_measures as M
from research.autodiff import forward_gradient_study as S


def test_ad_forward_gradient_shrunk_run(tmp_path, monkeypatch):
    monkeypatch.setattr(E, "MIN_PROGRAM_SECONDS", 0.0)  # one step per timed program
    config = dataclasses.replace(E.PRESETS["quick"], seeds=2, width=8, steps=100, chunk=100,
                                 backprop_lrs=(0.03, 0.1), forward_lrs=(0.001, 0.002), forward_k_lrs=(0.002, 0.004),
                                 max_widenings=0,
                                 estimator_samples=4096, cosine_tangents=(1, 16), timing_width=16, rounds=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bench.TooSmallToTime)
        results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    along, bias, cosine = (outcomes[c.statement] for c in E.CLAIMS[:3])
    # 4096 estimates of 490 coordinates: both intervals contain the unbiased value; the half estimator and
    # the orthogonal bias of 0.3 |grad f| (B = 0.09, interval +-0.02) are rejected
    assert along.interval[0] < 1 < along.interval[1] and along.control.verdict == "not reproduced"
    assert bias.interval[0] < 0 < bias.interval[1] and bias.control.verdict == "not reproduced"
    assert cosine.verdict == "reproduced", cosine
    assert results.arrays["estimator/cosine/k16"].size == 4096 // 16
    # more tangents, better aligned with the true gradient
    assert results.arrays["estimator/cosine/k16"].mean() > 2 * results.arrays["estimator/cosine/k1"].mean()
    for name in ("backprop", "forward k=1", "forward k=4"):
        assert results.arrays[f"{name}/train_loss"].shape == (1, 2)
    assert results.scalars["backprop/lr"] in (0.03, 0.1)
    grid = next(rows for name, rows in results.tables.items() if name.startswith("Learning-rate grid"))
    assert [r["chosen"] for r in grid if r["arm"] == "backprop"].count("yes") == 1
    # two-rate grids, no widening: every choice is an end, so the loss comparison is inconclusive, with the reason
    assert all(row["edge"] != "interior" for row in results.tables[E.tuning.BUDGET_TABLE])
    loss = outcomes[E.CLAIMS[-1].statement]
    assert loss.verdict == "inconclusive" and "grid decides" in loss.how, loss
    # every seed started from the same parameters under every rate: equal untrained validation loss
    assert np.all(np.isfinite(results.arrays["untrained/validation_loss"]))
    rounds = bench.rounds_from_arrays(results.arrays, "time/wide", "backprop")
    assert set(rounds.seconds) == {"backprop", "backprop~aa", "forward", "forward, tangents drawn ahead"}
    # backprop at its chosen rate ends below the untrained network's validation loss
    assert np.mean(results.arrays["backprop/validation_loss"]) < np.mean(results.arrays["untrained/validation_loss"])
    E.figures(results, tmp_path)
    assert (tmp_path / "forward_gradient.png").exists()


def test_a_bias_orthogonal_to_the_gradient_fails_the_bias_claim_not_the_projection():
    """Estimates with a bias of 0.3 |grad f| orthogonal to grad f (the measured pool of a small run, each
    estimate moved by the bias): the projection claim cannot tell them from the unbiased ones (an orthogonal
    bias leaves every projection as it was); the squared-bias claim says "not reproduced"."""
    config = dataclasses.replace(E.PRESETS["quick"], width=8, cosine_tangents=(1, 4))
    results = E.Results()
    E.estimator_study(config, E.MLP((8, 8), 10, activation="relu", init="he"), _data(), results)
    g = results.arrays["estimator/gradient"]
    biased = E.Results(arrays={**results.arrays, "estimator/mean": results.arrays["estimator/mean"]
                               + S.orthogonal_to(g, 0.3)})
    along, bias = E.CLAIMS[0], E.CLAIMS[1]
    assert evaluate(along, biased).measured == evaluate(along, results).measured
    assert evaluate(bias, results).verdict == "reproduced"
    outcome = evaluate(bias, biased)
    assert outcome.verdict == "not reproduced" and 0.06 < outcome.value < 0.12, (outcome.measured, outcome.interval)


def test_a_tuned_comparison_widens_an_edge_choice_and_is_undecided_on_the_widened_edge():
    """`tuning.tune` scores one rate beyond the end a choice sits on; a choice still at an end makes the loss
    comparison inconclusive, an interior one lets it decide."""
    assert evaluate(E.CLAIMS[-1], M.loss_case(1.0)).verdict == "reproduced"
    outcome = evaluate(E.CLAIMS[-1], M.loss_case(1.0, edge=True))
    assert outcome.verdict == "inconclusive" and "forward k=1's learning_rate 0.03 is the lowest" in outcome.how


def _data():
    from common.runs import Session

    return Session(None).dataset("mnist1d")

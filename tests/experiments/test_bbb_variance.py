"""bbb-variance on a shrunk network: the estimators' ordering and the 1/B decay show."""

import dataclasses

import numpy as np

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.bayes import variance as E
from research.bayes import gradient_variance as gv


def test_bbb_variance_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=1, width=32, train_steps=200, chunk=200,
                                 batch_sizes=(4, 16, 64), draws=32, minibatches=3)
    results = E.run(config, Session(None))
    for mode in E.MODES:
        variance = records.get(results, mode, E.Estimates).variance
        assert variance.shape == (3,) and np.all(variance > 0)
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.verdict for o in outcomes] == ["reproduced"] * 3, outcomes
    # The run-time controls: plain against itself is not lower, plain's own slope is not -1.
    assert all(o.control.verdict != "reproduced" for o in outcomes), outcomes
    E.figures(results, tmp_path)
    assert (tmp_path / "gradient_variance.png").exists()


def test_fit_slope_recovers_a_power_law():
    b = np.array([4, 8, 16, 32])
    assert abs(gv.fit_slope(b, 3.0 / b) + 1.0) < 1e-12


def test_prefix_weights_average_the_first_b_examples():
    weights = gv.prefix_weights([2, 4])
    np.testing.assert_allclose(weights, [[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]])

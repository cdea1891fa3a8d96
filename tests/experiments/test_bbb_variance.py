"""bbb-variance on a shrunk network: the estimators' ordering and the 1/B decay show."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments.bayes import variance as E


def test_bbb_variance_shrunk_run(tmp_path):
    config = E.Config(seeds=1, width=32, train_steps=200, chunk=200, batch_sizes=(4, 16, 64), draws=32,
                      minibatches=3)
    results = E.run(config, Session(None))
    for mode in E.MODES:
        assert results.arrays[f"{mode}/variance"].shape == (3,)
        assert np.all(results.arrays[f"{mode}/variance"] > 0)
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.verdict for o in outcomes] == ["reproduced"] * 3, outcomes
    # The run-time controls: plain against itself is not lower, plain's own slope is not -1.
    assert all(o.control.verdict != "reproduced" for o in outcomes), outcomes
    E.figures(results, tmp_path)
    assert (tmp_path / "gradient_variance.png").exists()


def test_fit_slope_recovers_a_power_law():
    b = np.array([4, 8, 16, 32])
    assert abs(E.fit_slope(b, 3.0 / b) + 1.0) < 1e-12

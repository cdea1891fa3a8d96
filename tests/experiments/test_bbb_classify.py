"""bbb-classify on a shrunk run: every table is filled and pruning behaves."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import bbb_classify as E


def test_bbb_classify_shrunk_run(tmp_path):
    config = E.Config(seeds=1, width=32, steps=300, chunk=300, predictive_samples=2)
    results = E.run(config, Session(None))
    for name in E.METHODS:
        # Better than chance (90% error) on MNIST-1D after 300 steps.
        assert results.scalars[f"{name}/test_error"] < 85, name
    errors = results.arrays["prune/test_error"][:, 0]
    assert errors.shape == (len(E.FRACTIONS),)
    assert results.scalars["prune/drop_0"] == 0.0
    # Removing 98% of the weights hurts more than removing none.
    assert errors[-1] > errors[0]
    assert np.all(np.isfinite(results.arrays["bbb-mixture/snr_db"]))
    # The control: removing 95% at random costs more than removing the 95% of lowest SNR.
    assert results.arrays["prune/random_95_drop_per_seed"][0] > results.arrays["prune/drop_95_per_seed"][0]
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert all(o.value is not None and np.isfinite(o.value) for o in outcomes)
    E.figures(results, tmp_path)
    assert (tmp_path / "classify.png").exists()

"""selu-depth on a shrunk network: the tanh collapse and SELU's self-normalization both show."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import selu_depth as E


def test_selu_depth_shrunk_run(tmp_path):
    # Width 500 fixes the notes' collapse ratio 0.01 sqrt(500); batch and depth are cut.
    config = E.Config(seeds=1, depth=16, width=500, batch=64, bins=10)
    results = E.run(config, Session(None))
    outcomes = {o.statement: o for o in evaluate_claims(E.CLAIMS, results)}
    assert all(o.reproduced for o in outcomes.values()), [o for o in outcomes.values() if not o.reproduced]
    std = results.arrays[f"{E.COLLAPSE}/std"][:, 0]
    np.testing.assert_allclose(std[1:10] / std[:9], 0.01 * np.sqrt(500), rtol=0.05)
    for name in E.SETTINGS:
        assert results.arrays[f"{name}/std"].shape == (16, 1)
        # The bins cover (nearly) every activation: the histograms are fractions of all of them.
        assert np.all(np.abs(results.arrays[f"{name}/histogram"].sum(1) - 1.0) < 0.02)
    E.figures(results, tmp_path)
    assert (tmp_path / "std_per_layer.png").exists() and (tmp_path / "histograms.png").exists()

"""selu-training on a shrunk config: every network trains, results and figure are complete."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import selu_training as E


def test_selu_training_shrunk_run(tmp_path):
    # One depth, narrow layers: compiling the program (init and chunk) is most of the cost.
    config = E.Config(seeds=2, depths=(32,), width=16, steps=60, chunk=20, alpha_dropout=0.05)
    results = E.run(config, Session(None))
    names = [E.SNN, E.BATCHNORM, "ReLU", "tanh", "SELU + alpha dropout"]
    for depth in config.depths:
        assert results.arrays[f"depth{depth}/step"].tolist() == [20, 40, 60]
        for name in names:
            curve = results.arrays[f"depth{depth}/{name}"]
            assert curve.shape == (3, 2) and np.all(np.isfinite(curve))
        # The SELU network learns: its loss falls below chance level ln 10 and keeps falling.
        selu = results.arrays[f"depth{depth}/{E.SNN}"].mean(1)
        assert selu[-1] < np.log(10) and selu[-1] < selu[0]
        assert np.isfinite(results.scalars[f"depth{depth}/gap"])
    outcomes = evaluate_claims(E.CLAIMS, results)
    measured = {o.statement.split(" SELU")[0]: o.reproduced for o in outcomes}
    assert measured["at depth 32"] is not None
    assert measured["at depth 16"] is None and measured["at depth 8"] is None  # not run: "not measured"
    E.figures(results, tmp_path)
    assert (tmp_path / "training_loss.png").exists()

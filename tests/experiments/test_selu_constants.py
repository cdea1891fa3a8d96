"""selu-constants on a shrunk config: constants, contraction and dropout moments come out right,
and every run-time control (float32 solve, linear layer, plain and uncorrected dropout) is rejected."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments.selu import constants as E


def test_selu_constants_shrunk_run_reproduces_every_claim_and_rejects_every_baseline(tmp_path):
    config = E.Config(seeds=4, mc_samples=1_000_000, dropout_rates=(0.1, 0.3), grid_points=5, trajectory_steps=30)
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if o.verdict != "reproduced"] == []
    assert all(o.control.verdict == "not reproduced" for o in outcomes), [o.control for o in outcomes]
    # The float32 solve is off by more than the claim's tolerance but is the same constant.
    assert 1e-10 < abs(results.scalars["float32/lambda"] - E.PAPER_LAMBDA) < 1e-6
    # 30 iterations of a map contracting by ~0.78 land on the fixed point.
    assert results.scalars["trajectory_final_distance"] < 1e-2
    assert results.arrays["field/spectral_norm_worst_omega_tau"].shape == (5, 5)
    assert np.all(results.arrays["field/spectral_norm_worst_omega_tau"] >= results.arrays["field/spectral_norm"])
    assert results.arrays["dropout/plain_mean_var"].shape == (2, 2, 4)
    E.figures(results, tmp_path)
    assert (tmp_path / "moment_map.png").exists() and (tmp_path / "dropout_variance.png").exists()

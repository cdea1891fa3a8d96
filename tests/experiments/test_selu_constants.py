"""selu-constants on a shrunk config: constants, contraction and dropout moments come out right."""

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments import selu_constants as E


def test_selu_constants_shrunk_run_reproduces_every_claim(tmp_path):
    config = E.Config(seeds=2, mc_samples=200_000, dropout_rates=(0.1, 0.3), grid_points=5, trajectory_steps=30)
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if not o.reproduced] == []
    # 30 iterations of a map contracting by ~0.78 land on the fixed point.
    assert results.scalars["trajectory_final_distance"] < 1e-2
    assert results.arrays["field/spectral_norm_worst_omega_tau"].shape == (5, 5)
    assert np.all(results.arrays["field/spectral_norm_worst_omega_tau"] >= results.arrays["field/spectral_norm"])
    E.figures(results, tmp_path)
    assert (tmp_path / "moment_map.png").exists() and (tmp_path / "dropout_variance.png").exists()

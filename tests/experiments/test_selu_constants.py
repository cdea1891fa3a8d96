"""selu-constants on a shrunk config: constants, contraction and dropout moments come out right,
and every run-time control (float32 solve, linear layer, plain and uncorrected dropout) is rejected."""

import dataclasses

import numpy as np

from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.selu import constants as E
from research.selu import moment_field as theorem1


def test_selu_constants_shrunk_run_reproduces_every_claim_and_rejects_every_baseline(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=4, dropout_rates=(0.1, 0.3), grid_points=5,
                                 trajectory_steps=30)
    results = E.run(config, Session(None))
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert [o.statement for o in outcomes if o.verdict != "reproduced"] == []
    assert all(o.control.verdict == "not reproduced" for o in outcomes), [o.control for o in outcomes]
    # The float32 solve is off by more than the claim's tolerance but is the same constant.
    assert 1e-10 < abs(records.get(results, "float32", E.Solved).lam - E.PAPER_LAMBDA) < 1e-6
    field = records.get(results, "field", theorem1.Field)
    # 30 iterations of a map contracting by ~0.78 land on the fixed point.
    assert field.final_distance < 1e-2
    assert field.spectral_norm_worst_omega_tau.shape == (5, 5)
    assert np.all(field.spectral_norm_worst_omega_tau >= field.spectral_norm)
    assert records.get(results, "plain", E.DropoutRepeats).var.shape == (2, 4)
    E.figures(results, tmp_path)
    assert (tmp_path / "moment_map.png").exists() and (tmp_path / "dropout_variance.png").exists()

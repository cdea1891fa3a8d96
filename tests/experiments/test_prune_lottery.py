"""prune-lottery on a config shrunk below `quick`: sparsity schedule, shapes, claims measured."""

import math

import numpy as np
import pytest

import experiments.prune_lottery as exp
from common.experiment import evaluate_claims
from common.runs import Session


@pytest.mark.slow  # a whole experiment: three compiled fits
def test_shrunk_run():
    config = exp.Config(seeds=2, mlp_widths=(16, 16), steps=100, chunk=50, rounds=2, rate=0.5,
                        high_sparsity=0.7)
    results = exp.run(config, Session(None))
    np.testing.assert_allclose(results.arrays["sparsity"], [0.0, 0.5, 0.75])
    ticket = results.arrays["lr0.001/ticket"]
    assert ticket.shape == (3, 2)
    # At sparsity 0 every variant is the same dense run.
    np.testing.assert_array_equal(results.arrays["lr0.01/random mask"][0], results.arrays["lr0.01/ticket"][0])
    assert np.all(results.arrays["lr0.01/ticket"] > 0.15)
    outcomes = evaluate_claims(exp.CLAIMS, results)
    assert all(o.value is not None and math.isfinite(o.value) for o in outcomes)

"""prune-lottery on a config shrunk below `quick`: sparsity schedule, shapes, claims measured."""

import dataclasses
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

    # Late rewinding: the dense run split at the rewind step ends exactly where the single
    # fit did (same dense accuracy, bit for bit), while the rewound tickets train differently.
    late = exp.run(dataclasses.replace(config, rewind_step=50), Session(None))
    for key in ("lr0.001/ticket", "lr0.01/ticket"):
        np.testing.assert_array_equal(late.arrays[key][0], results.arrays[key][0])
        assert not np.array_equal(late.arrays[key][1:], results.arrays[key][1:])
    # Round 1's mask comes from the same dense weights, so its random reinit is the same run.
    np.testing.assert_array_equal(late.arrays["lr0.01/random reinit"][:2],
                                  results.arrays["lr0.01/random reinit"][:2])


@pytest.mark.parametrize("rewind_step", [-50, 25, 100])
def test_rewind_step_outside_the_run_is_refused(rewind_step):
    with pytest.raises(ValueError, match="rewind_step"):
        exp.Config(steps=100, chunk=50, rewind_step=rewind_step)

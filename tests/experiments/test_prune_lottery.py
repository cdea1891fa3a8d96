"""prune-lottery on a config shrunk below `quick`: sparsity schedule, shapes, claims measured,
the dense run's split at the rewind steps, and the mode-connectivity copies."""

import dataclasses
import math

import numpy as np
import pytest

import experiments.pruning.lottery as exp
from common import records
from common.experiment import evaluate_claims
from common.runs import Session
from research.pruning.lottery import round_counts
from research.pruning.programs import make_model, round_program

SHRUNK = dataclasses.replace(exp.PRESETS["quick"], seeds=2, mlp_widths=(16, 16), steps=100, chunk=50, rounds=2,
                             rate=0.5, high_sparsity=0.7, lmc_rewind_steps=(0, 50), lmc_points=5)


@pytest.mark.slow  # a whole experiment: several compiled fits
def test_shrunk_run():
    results = exp.run(SHRUNK, Session(None))
    np.testing.assert_allclose(results.arrays["imp/sparsity"], [0.0, 0.5, 0.75], atol=1e-6)
    ticket = results.arrays["small_lr/ticket"]
    assert ticket.shape == (3, 2)
    # At sparsity 0 every variant is the same dense run.
    np.testing.assert_array_equal(results.arrays["large_lr/random_mask"][0], results.arrays["large_lr/ticket"][0])
    assert np.all(results.arrays["large_lr/ticket"] > 0.15)
    # Mode connectivity: (rewind steps, points, seeds) errors; both ends are trained networks.
    error = results.arrays["large_lr/lmc_error"]
    assert error.shape == (2, 5, 2)
    # Copy A of every rewind step is the dense run itself: the same error at alpha = 0.
    np.testing.assert_array_equal(error[0, 0], error[1, 0])
    np.testing.assert_allclose(error[0, 0], 1 - results.arrays["large_lr/ticket"][0], atol=1e-6)
    assert np.all(results.arrays["large_lr/lmc_barrier"] >= 0)
    outcomes = evaluate_claims(exp.CLAIMS, results)
    # measured, or undecided for an undertrained dense net (the training criterion), with the reason
    assert all(math.isfinite(o.value) if o.value is not None else "undertrained" in o.how for o in outcomes)

    # Late rewinding: the rewound tickets train differently, the dense run is the same.
    late = exp.run(dataclasses.replace(SHRUNK, rewind_step=50), Session(None))
    for key in ("small_lr/ticket", "large_lr/ticket"):
        np.testing.assert_array_equal(late.arrays[key][0], results.arrays[key][0])
        assert not np.array_equal(late.arrays[key][1:], results.arrays[key][1:])
    # Round 1's mask comes from the same dense weights, so its random reinit is the same run.
    np.testing.assert_array_equal(late.arrays["large_lr/random_reinit"][:2],
                                  results.arrays["large_lr/random_reinit"][:2])


def test_an_undertrained_dense_net_decides_nothing():
    results = exp.synthetic({"small_lr": 0.05})
    chain = records.get(results, "small_lr", exp.Chain)
    records.put(results, "small_lr", chain._replace(dense_validation=chain.dense_validation - 0.2))
    outcomes = evaluate_claims(exp.CLAIMS, results)
    assert [o.verdict for o in outcomes[:3]] == ["inconclusive"] * 3  # the claims that read the small lr
    assert all("undertrained" in o.how for o in outcomes[:3])
    assert not any("undertrained" in o.how for o in outcomes[3:]) and outcomes[3].verdict == "reproduced"


def test_frankle_carbin_schedule_prunes_the_output_layer_at_half_the_rate():
    import jax

    config = exp.PRESETS["frankle"]
    assert (config.rate, config.output_rate) == (0.2, 0.1)
    x1 = np.zeros((1, 40), np.float32)
    model = make_model("mlp", config.mlp_widths, 10, config.cnn_kernel)
    params = model.init_variables(jax.random.key(0), x1)[0]
    stack = jax.tree.map(lambda a: np.asarray(a)[None], params)
    keys = jax.random.split(jax.random.key(1), 1)
    start = round_program(model, config.scope)(
        stack, stack, jax.tree.map(lambda a: np.ones_like(a, bool), stack), round_counts(params, config.rate, config.output_rate, config.scope, 2),
        keys, keys, x1)
    pruned = [1 - float(np.mean(m)) for m in jax.tree.leaves(start.masks) if m.ndim >= 3]
    np.testing.assert_allclose(pruned, [0.36, 0.36, 0.19], atol=0.002)  # 1 - 0.8^2, 1 - 0.9^2
    overall = 1 - sum(float(np.sum(m)) for m in jax.tree.leaves(start.masks) if m.ndim >= 3) / sum(
        m.size for m in jax.tree.leaves(start.masks) if m.ndim >= 3)
    np.testing.assert_allclose(float(start.sparsity[0]), overall, rtol=1e-6)


@pytest.mark.parametrize("change", [{"rewind_step": -50}, {"rewind_step": 25}, {"rewind_step": 100},
                                    {"lmc_rewind_steps": (0, 0)}, {"lmc_rewind_steps": (0, 100)},
                                    {"output_rate": 0.1, "scope": "global"}, {"lmc_points": 2}])
def test_impossible_settings_are_refused(change):
    with pytest.raises(ValueError):
        dataclasses.replace(SHRUNK, **change)

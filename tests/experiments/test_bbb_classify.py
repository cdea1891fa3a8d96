"""bbb-classify on a shrunk run: every sweep, table and figure is filled, the choice is made on
validation, and pruning behaves."""

import dataclasses

import numpy as np

from common.experiment import evaluate_claims
from common.runs import Session
from experiments.bayes import classify as E


def test_bbb_classify_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=1, width=32, steps=300, chunk=300, predictive_samples=2,
                                 kl_scales=(0.1,), learning_rates=(E.PRESETS["quick"].learning_rate,))
    results = E.run(config, Session(None))
    a = results.arrays
    # The paper's KL scale 1 is trained beside the grid's 0.1, in one program of 2 members x 1 seed.
    for name in E.BAYES:
        np.testing.assert_array_equal(a[f"{name}/grid"], [0.1, 1.0])
        assert int(a[f"{name}/protocol"]) == 1 and int(a[f"{name}/chosen"]) in (0, 1)
        assert a[f"{name}/test_error_MxS"].shape == (2, 1)
        assert a[f"{name}/prune_error_FxMxS"].shape == (len(E.FRACTIONS), 2, 1)
    for name in E.METHODS:
        # Better than chance (90% error) on MNIST-1D after 300 steps, at the chosen setting.
        assert results.scalars[f"{name}/test_error"] < 85, name
    errors = a["bbb-mixture/prune_error_FxMxS"][:, int(a["bbb-mixture/protocol"]), 0]
    # Removing 98% of the weights hurts more than removing none.
    assert errors[-1] > errors[0]
    assert np.all(a["bbb-mixture/snr_counts_MxB"].sum(axis=1) > 0)
    # The control: removing 95% at random costs more than removing the 95% of lowest SNR.
    assert a["prune/random_95_drop_per_seed"][0] > a["bbb-mixture/prune_drop_95_MxS"][1, 0]
    sweep_table = next(rows for title, rows in results.tables.items() if title.startswith("Sweeps"))
    assert len(sweep_table) == 1 + 1 + 2 + 2
    outcomes = evaluate_claims(E.CLAIMS, results)
    assert all(o.value is not None and np.isfinite(o.value) for o in outcomes)
    E.figures(results, tmp_path)
    assert (tmp_path / "classify.png").exists() and (tmp_path / "tradeoff.png").exists()


def test_the_choice_is_the_lowest_validation_error_ties_broken_by_nll_never_a_diverged_member():
    error = np.array([[30.0, 32.0], [30.0, 32.0], [20.0, np.nan], [40.0, 40.0]])
    nll = np.array([[1.2, 1.2], [1.0, 1.0], [0.5, 0.5], [0.1, 0.1]])
    assert E.choose(error, nll, fallback=3) == 1  # member 2 diverged; 0 and 1 tie on error, 1 has the lower NLL
    assert E.choose_by_nll(nll, fallback=0) == 3
    assert E.choose(np.full((2, 2), np.nan), nll[:2], fallback=1) == 1

"""bbb-classify on a shrunk run: every sweep, table and figure is filled, the choice is made on
validation, and pruning behaves."""

import dataclasses

import numpy as np

from common import records, tuning
from common.experiment import evaluate_claims
from common.runs import Session
from experiments.bayes import classify as E
from research.bayes import arms as A


def test_bbb_classify_shrunk_run(tmp_path):
    config = dataclasses.replace(E.PRESETS["quick"], seeds=1, width=32, steps=300, chunk=300, predictive_samples=2,
                                 kl_scales=(0.1,), learning_rates=(1e-2,), max_widenings=1)
    results = E.run(config, Session(None))
    arms = {name: records.get(results, name, A.Arm) for name in E.RUNS}
    # The paper's KL scale 1 is trained beside the grid's 0.1, in one program of 2 members x 1 seed; a
    # two-value grid's choice is an edge, so one more value beyond it is trained (max_widenings=1).
    for name in E.BAYES:
        assert {0.1, 1.0} < set(arms[name].grid) and arms[name].widenings == 1, arms[name].grid
        assert arms[name].grid[arms[name].member("protocol")] == 1.0
        assert arms[name].test_error_MxS.shape == (3, 1)
        assert records.get(results, name, A.Pruning).prune_error_FxMxS.shape == (len(E.FRACTIONS), 3, 1)
    budget = results.tables[tuning.BUDGET_TABLE]
    assert [row["budget (trials x steps)"] for row in budget] == ["3 x 300 = 900"] * 4, budget
    for name in E.METHODS:
        # Better than chance (90% error) on MNIST-1D after 300 steps, at the chosen setting.
        assert records.get(results, name, A.Summary).test_error < 85, name
    mixture = records.get(results, "bbb-mixture", A.Pruning)
    errors = mixture.prune_error_FxMxS[:, arms["bbb-mixture"].member("protocol"), 0]
    # Removing 98% of the weights hurts more than removing none.
    assert errors[-1] > errors[0]
    assert np.all(mixture.snr_counts_MxB.sum(axis=1) > 0)
    # The control: removing 95% at random costs more than removing the 95% of lowest SNR.
    protocol = arms["bbb-mixture"].member("protocol")
    assert records.get(results, "prune", A.PruningControl).random_95_drop_per_seed[0] > mixture.prune_drop_95_MxS[
        protocol, 0]
    sweep_table = next(rows for title, rows in results.tables.items() if title.startswith("Every setting"))
    assert len(sweep_table) == 3 + 3 + 3 + 3 + 1
    outcomes = evaluate_claims(E.CLAIMS, results)
    # MNIST-1D and one seed: the paper's ordering is not decided; everything else is measured.
    assert [o.verdict == "not run at this preset" for o in outcomes] == [
        "MNIST digits" in claim.statement for claim in E.CLAIMS], outcomes
    # An edge choice after the one widening leaves the comparisons at the choice undecided, with the reason.
    assert all("of its grid" in o.how if o.measured == "undecided" else np.isfinite(o.value) for o in outcomes
               if o.verdict != "not run at this preset"), outcomes
    E.figures(results, tmp_path)
    assert (tmp_path / "classify.png").exists()


def test_the_choice_is_the_lowest_mean_validation_error():
    values = A.Sweep.of("kl_scale", (0.01, 0.1), 1.0).values
    assert A.choice(values, np.array([[30.0, 32.0], [20.0, 22.0], [40.0, 40.0]])) == 1
    assert A.choice(values, np.array([[1.2, 1.2], [1.0, 1.0], [0.1, 0.1]])) == 2


def test_an_edge_choice_makes_the_ordering_inconclusive():
    """The paper's ordering, measured at the choice: decided when both choices are inside their grids,
    inconclusive (the reason: the edge) when one is still on an edge after the widenings."""
    claim = next(c for c in E.CLAIMS if c.statement.startswith("dropout has lower test error"))
    reversed_gap = E.PAPER_400 | {"plain": E.PAPER_400["dropout"], "dropout": E.PAPER_400["plain"]}
    inside = E._sweeps(reversed_gap, E.PAPER_400)
    assert evaluate_claims([claim], inside)[0].verdict == "reproduced"
    on_edge = E._sweeps(reversed_gap, E.PAPER_400, chosen=2)
    outcome = evaluate_claims([claim], on_edge)[0]
    assert outcome.verdict == "inconclusive" and "highest of its grid" in outcome.how, outcome

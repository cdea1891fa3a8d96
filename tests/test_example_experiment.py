"""common/API.md's worked example (docs/example_experiment.py) runs as run.py runs an experiment:
the tuning stage widens an edge choice, records carry the arms, the keyword claim decides."""

import dataclasses

import pytest

from common import runs
from common.experiment import evaluate
from docs import example_experiment as E


def test_the_worked_example_runs_and_its_claim_rejects_its_control():
    config = dataclasses.replace(E.PRESETS["quick"], seeds=2, steps=100, eval_every=50,
                                 learning_rates=(1e-4, 3e-4), max_widenings=1)
    executed = runs.execute(E, config, "quick", runs.Session(None))
    tables = executed.results.tables
    assert set(tables) == {f"{arm}: learning rates tried (budget {3 * 100} steps per seed)" for arm in ("logistic", "mlp")}
    for rows in tables.values():
        assert [r["learning_rate"] for r in rows] == pytest.approx([1e-4, 3e-4, 9e-4])  # widened past the top once
        assert [r["chosen"] for r in rows] == ["", "", "yes"]  # still on the edge: the claim is undecided
    (claim,) = executed.claims
    assert claim["verdict"] == "inconclusive" and "on the edge of its widened grid" in claim["how"]
    assert evaluate(E.CLAIMS[0], E.arms(0.5, 0.5)).verdict != "reproduced"
    assert evaluate(E.CLAIMS[0], E.arms(0.68, 0.32)).verdict == "reproduced"
    undecided = evaluate(E.CLAIMS[0], E.arms(0.68, 0.32, on_edge=True))
    assert undecided.verdict == "inconclusive" and "edge of its widened grid" in undecided.how

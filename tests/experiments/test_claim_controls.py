"""The registry-wide contract of claims (optax's `_common_test.py` habit: one
parametrized test over everything registered): every claim of every
experiment says `reproduced` on its passing case and never on its negative
control, and its run-time baseline, where it has one, is read from the same
results the run writes."""

import pytest

import experiments
from common.experiment import VERDICTS, Claim, evaluate

CLAIMS = [(name, i, claim) for name, module in experiments.all_experiments().items()
          for i, claim in enumerate(module.CLAIMS)]


def _id(entry) -> str:
    name, i, claim = entry
    return f"{name}[{i}]"


@pytest.mark.parametrize("entry", CLAIMS, ids=[_id(e) for e in CLAIMS])
def test_claim_rejects_its_control_and_accepts_its_passing_case(entry):
    name, _, claim = entry
    assert isinstance(claim, Claim)
    assert claim.control.name, f"{name}: a claim names its control"
    control = evaluate(claim, claim.control.results())
    assert control.verdict != "reproduced", f"{name}: '{claim.statement}' passes its control {claim.control.name}"
    passing = evaluate(claim, claim.passing())
    assert passing.verdict == "reproduced", (f"{name}: '{claim.statement}' rejects its passing case "
                                             f"({passing.measured}, {passing.interval}, {passing.how})")
    assert passing.verdict in VERDICTS


def test_every_experiment_has_claims():
    assert all(module.CLAIMS for module in experiments.all_experiments().values())

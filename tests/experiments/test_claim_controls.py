"""The registry-wide contract of claims (optax's `_common_test.py` habit: one
parametrized test over everything registered): every claim of every
experiment says `reproduced` on its passing case and never on its negative
control. Parametrized by module path (imported inside the test), so
`-k <module>` checks one experiment."""

import importlib

import pytest

import experiments
from common.experiment import Claim, evaluate

MODULES = experiments.module_paths()


def test_every_study_package_holds_experiments():
    assert len(MODULES) >= 17 and {path.split(".")[1] for path in MODULES} == set(experiments.STUDY_ORDER)


@pytest.mark.parametrize("module_path", MODULES)
def test_every_claim_rejects_its_control_and_accepts_its_passing_case(module_path):
    module = importlib.import_module(module_path)
    if not hasattr(module, "NAME"):
        pytest.skip("not an experiment")
    assert module.CLAIMS, f"{module.NAME} has no claims"
    problems = []
    for claim in module.CLAIMS:
        assert isinstance(claim, Claim) and claim.control.name, claim
        control = evaluate(claim, claim.control.results())
        if control.verdict == "reproduced":
            problems.append(f"'{claim.statement}' passes its control ({claim.control.name}): {control.measured} "
                            f"{control.interval}")
        passing = evaluate(claim, claim.passing())
        if passing.verdict != "reproduced":
            problems.append(f"'{claim.statement}' says {passing.verdict} on its passing case: {passing.measured} "
                            f"{passing.interval} ({passing.how})")
    assert not problems, "\n".join(problems)

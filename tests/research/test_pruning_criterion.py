"""The pruning study's training criterion (research/pruning/criterion.py): the curve it reads and
each of its three conditions, with the arm, its value and the criterion in the reason."""

import numpy as np
import pytest

from common.experiment import Undecided
from research.pruning.criterion import Criterion, Curve, read_curve, stack

RULE = Criterion(chance=0.1, above_chance=0.1, within=0.02)
STEPS = (100, 200, 300, 400)


def test_read_curve_takes_the_used_point_the_best_and_the_last_quarters_rise():
    validation = np.array([[0.3, 0.5], [0.5, 0.7], [0.6, 0.8], [0.62, 0.8]])  # (points, seeds)
    curve = read_curve(validation, STEPS, used=1)
    assert curve == pytest.approx(Curve(0.6, 0.71, 0.71 - 0.7))  # last quarter: from step 300 on
    assert stack([curve, read_curve(validation, STEPS, -1)]).used == pytest.approx([0.6, 0.71])


@pytest.mark.parametrize("curve, says", [
    (Curve(0.15, 0.15, 0.0), "validation accuracy 0.150; the training criterion asks at least chance 0.1 + 0.1"),
    (Curve(0.5, 0.6, 0.0), "0.100 below its curve's best; the training criterion asks at most 0.02 below it"),
    (Curve(0.6, 0.6, 0.05), "still rising: +0.050 over its curve's last quarter")])
def test_each_condition_names_the_arm_its_value_and_the_criterion(curve, says):
    assert RULE.failure(Curve(0.6, 0.61, 0.01)) is None
    with pytest.raises(Undecided, match="undertrained") as caught:
        RULE.require("scratch-E", curve)
    assert str(caught.value).startswith("scratch-E: " + says)


def test_the_first_failing_setting_is_named():
    with pytest.raises(Undecided, match=r"^fine-tuned \(setting 2 of 3\): validation accuracy 0.120"):
        RULE.require("fine-tuned", stack([Curve(0.6, 0.6, 0.0), Curve(0.12, 0.12, 0.0), Curve(0.11, 0.11, 0.0)]))

"""selu-training on a shrunk config: a learning-rate grid per network (one fit, the lrs its sweep members)
chosen on validation, a diverged grid point reported (not a crash), best-vs-best claims measured, the figure
written."""

import dataclasses

import numpy as np
import pytest

from common import records
from common.experiment import evaluate, evaluate_claims
from common.runs import Session
from experiments.selu import training as E
from research.selu import training_study as study


@pytest.mark.filterwarnings("error::RuntimeWarning")  # an all-diverged lr is NaN, not "Mean of empty slice"
def test_selu_training_shrunk_run(tmp_path):
    # One depth, narrow layers, one fit per network whose members are the lrs; lr 50 diverges for SELU, so its
    # choice must be 0.05.
    config = dataclasses.replace(E.PRESETS["quick"], seeds=3, depths=(4,), width=16, steps=40, chunk=20,
                                 eval_every=20, learning_rates=(0.05, 50.0), max_widenings=0, baselines=("ReLU", "tanh"),
                                 dropout_rate=0.1, dropout_depth=4)
    results = E.run(config, Session(None))
    names = [study.SNN, study.BATCHNORM, "ReLU", "tanh", study.ALPHA_DROPOUT, study.PLAIN_DROPOUT]
    assert records.get(results, study.arm_name(4, study.SNN), study.Arm).step.tolist() == [20, 40]
    grid = {(row["network"], row["lr"]): row for row in next(iter(results.tables.values()))}
    assert grid[(study.SNN, "50")]["diverged seeds"] == 3 and grid[(study.SNN, "0.05")]["chosen"] == "<-"
    selu = records.get(results, study.arm_name(4, study.SNN), study.Arm)
    assert selu.chosen_lr == pytest.approx(0.05) and selu.on_edge  # the lowest lr, no widening allowed
    assert np.all(np.isnan(selu.final_val_by_lr[1]))  # diverged: NaN, no crash
    assert selu.diverged_by_lr.tolist() == [[False] * 3, [True] * 3]
    for name in names:
        curve = records.get(results, study.arm_name(4, name), study.Arm).train_loss
        assert curve.shape == (2, 3) and np.all(np.isfinite(curve))
    outcomes = {o.statement.split(" SELU")[0]: o for o in evaluate_claims(E.CLAIMS, results)}
    assert outcomes["at depth 32"].verdict == "not run at this preset"  # no depth-32 networks here
    E.figures(results, tmp_path)
    assert (tmp_path / "training_loss.png").exists()


@pytest.mark.parametrize("field, value", [("learning_rates", ()), ("learning_rates", (0.1, -0.1)),
                                          ("dropout_depth", 7), ("validation_fraction", 0.0),
                                          ("baselines", ("ReLU", "ReLU")), ("baselines", ("sigmoid",))])
def test_impossible_grid_or_split_is_rejected(field, value):
    with pytest.raises(ValueError):
        dataclasses.replace(E.PRESETS["paper"], **{field: value})


def test_quick_trains_figure_1s_pair_and_the_paper_presets_every_network():
    quick, paper = E.PRESETS["quick"], E.PRESETS["paper"]
    assert list(E.networks(quick, 16, 40, 10)) == [study.SNN, study.BATCHNORM]
    assert list(E.networks(paper, 16, 784, 10)) == [study.SNN, study.BATCHNORM, "ReLU", "tanh", study.ALPHA_DROPOUT,
                                                    study.PLAIN_DROPOUT]


@pytest.mark.parametrize("change, reason", [({"train_loss": 2.2}, "did not train"), ({"on_edge": 1.0}, "end of its")])
def test_an_untrained_or_edge_arm_makes_the_comparison_inconclusive(change, reason):
    results = study.paired_case(-0.2)
    bn = records.get(results, study.arm_name(32, study.BATCHNORM), study.Arm)
    changed = {field: np.full_like(getattr(bn, field), value) if field == "train_loss" else value
               for field, value in change.items()}
    records.put(results, study.arm_name(32, study.BATCHNORM), bn._replace(**changed))
    outcome = evaluate(E.CLAIMS[0], results)
    assert outcome.verdict == "inconclusive" and reason in outcome.how and study.BATCHNORM in outcome.how

"""The pure pieces of the pruning experiments (research/pruning/*_study.py): records assembled from
their parts, report rows in the order the report shows them, settings grouped by kind."""

import types

import numpy as np
import pytest

from research.pruning import lottery_study, rethink_study
from research.pruning.criterion import Curve
from research.pruning.pruned import Large, Setting


def test_collect_puts_each_lrs_chain_and_barriers_together():
    seeds, rounds, points = 3, 2, 5
    imps = [lottery_study.Imp(np.full((3, rounds + 1, seeds), acc), np.array([0.0, 0.5, 0.75]), np.full(seeds, acc))
            for acc in (0.4, 0.6)]
    copies = np.zeros((2, 2, points, seeds))  # (rewind steps, lrs, points, seeds)
    copies[0, 1, points // 2] = 0.1  # the larger lr's first rewind step: a bump of 0.1 mid-line
    independent = np.zeros((2, seeds, points))
    config = types.SimpleNamespace(high_sparsity=0.6, learning_rates=(0.01, 0.1), trained_within=0.03)
    chains, axes = lottery_study.collect(imps, lottery_study.Lines(copies, independent), np.array([[0.5] * seeds,
                                         [0.7] * seeds]), config, [0, 100], np.linspace(0, 1, points))
    assert list(chains) == list(lottery_study.LRS)
    assert chains["small_lr"].ticket == pytest.approx(np.full((rounds + 1, seeds), 0.4))
    assert chains["large_lr"].lmc_barrier[0] == pytest.approx(np.full(seeds, 0.1))
    assert chains["large_lr"].lmc_barrier[1] == pytest.approx(np.zeros(seeds))
    assert chains["large_lr"].dense_validation == pytest.approx(np.full(seeds, 0.7))
    assert list(axes.high) == [False, False, True]


def test_high_gap_averages_the_high_rounds_only():
    axes, chains = lottery_study.synthetic({"small_lr": 0.05})
    gap = lottery_study.high_gap(axes, chains["small_lr"], "random_reinit")
    assert gap.shape == (5,) and np.mean(gap) == pytest.approx(0.05)
    assert np.mean(lottery_study.high_gap(axes, chains["large_lr"], "random_reinit")) == pytest.approx(0.0)


def test_the_large_models_row_comes_first_in_the_reports_column_order():
    large = Large("mlp", None, {}, np.array([0.6, 0.62, 0.64]), {}, [], 1.0, Curve(0.6, 0.6, 0.0))
    row = rethink_study.large_row(large, 0.01, 600, 1000)
    assert list(row)[:6] == ["model", "pruning", "variant", "lr", "steps", "FLOPs % of large"]
    assert row["test accuracy"] == pytest.approx(0.62) and row["FLOPs % of large"] == 100.0


def test_the_highest_unstructured_sparsity_is_its_own_kind():
    def retrained(kind, amount):
        return rethink_study.Retrained(types.SimpleNamespace(setting=Setting("mlp", kind, amount)), {}, None)
    all_ = [retrained("structured", 0.5), retrained("unstructured", 0.5), retrained("unstructured", 0.9)]
    kinds = rethink_study.by_kind(all_, (0.5, 0.9))
    assert [len(kinds[k]) for k in rethink_study.KINDS] == [1, 2, 1]
    assert kinds["high"][0].pruned.setting.amount == 0.9

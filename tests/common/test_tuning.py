"""common.tuning: the split, choose on validation (never test), edges widened then reported;
common.records: named records through Results; Undecided claims are inconclusive with the reason."""

import json
from typing import NamedTuple

import numpy as np
import pytest

from common import records, tuning
from common.experiment import Claim, Control, Results, Undecided, above, evaluate, scalars


def peaked(values, peak, seeds=3, steps=(100, 200)):
    """Validation accuracy peaked at log10(value) = log10(peak); test the opposite, to catch a test-set choice."""
    v = np.log10(np.asarray(values, float))[:, None, None]
    val = 1.0 - (v - np.log10(peak)) ** 2 + np.zeros((1, len(steps), seeds)) + np.arange(len(steps))[None, :, None] * 1e-3
    return tuning.Scores(values, steps, validation=val, test=-val)


def test_split_holds_out_a_seeded_fraction_and_keeps_the_test_set():
    x, y = np.arange(100.0)[:, None], np.arange(100)
    split = tuning.split_arrays(x, y, x[:7], y[:7], fraction=0.2, seed=3)
    assert len(split.x_fit) == 80 and len(split.x_val) == 20 and len(split.x_test) == 7
    assert sorted(np.concatenate([split.y_fit, split.y_val]).tolist()) == list(range(100))
    assert tuning.split_arrays(x, y, x, y, 0.2, 3).y_val.tolist() == split.y_val.tolist()
    with pytest.raises(ValueError, match="must be in"):
        tuning.split_arrays(x, y, x, y, 1.0)


def test_choose_reads_validation_never_test():
    tuned = tuning.choose(peaked((1e-3, 1e-2, 1e-1), peak=1e-2))
    assert (tuned.value, tuned.step, tuned.edge) == (1e-2, 200, None)
    assert tuned.test_at_choice().shape == (3,) and tuned.budget == 3 * 200
    assert [r["chosen"] for r in tuned.rows("adam")] == ["", "yes", ""]


def test_an_edge_choice_widens_the_grid_until_interior():
    asked = []

    def scores_on(values):
        asked.append(values)
        return peaked(values, peak=1.0)

    tuned = tuning.tune(scores_on, (1e-3, 1e-2, 1e-1))
    assert asked == [(1e-3, 1e-2, 1e-1), (pytest.approx(1.0),), (pytest.approx(10.0),)]
    assert tuned.value == pytest.approx(1.0) and tuned.edge is None and tuned.widenings == 2
    tuned.require_interior("adam")  # no exception


def test_a_choice_still_on_the_edge_makes_the_comparison_undecided():
    tuned = tuning.tune(lambda values: peaked(values, peak=1e3), (1e-3, 1e-2), max_widenings=1)
    assert tuned.edge == "highest" and tuned.widenings == 1 and tuned.value == pytest.approx(0.1)
    with pytest.raises(Undecided, match="adam's learning_rate 0.1 is the highest of its grid"):
        tuned.require_interior("adam")

    def measure(results):
        tuned.require_interior("adam")
        return 1.0

    claim = Claim(
        statement="adam beats sgd",
        paper="paper",
        measure=measure,
        region=above(0.0),
        control=Control(name="none", results=scalars({})),
        passing=scalars({}),
    )
    outcome = evaluate(claim, Results())
    assert outcome.verdict == "inconclusive" and "highest of its grid" in outcome.how and outcome.value is None


def test_records_round_trip_and_name_missing_keys():
    class Arm(NamedTuple):
        accuracy: np.ndarray
        learning_rate: float
        steps: int

    results = Results()
    records.put(results, "finetune", Arm(np.array([0.5, 0.6]), 0.01, 300))
    assert set(results.arrays) == {"finetune/accuracy"} and results.scalars["finetune/steps"] == 300.0
    back = records.get(results, "finetune", Arm)
    assert back.accuracy.tolist() == [0.5, 0.6] and back.learning_rate == 0.01 and back.steps == 300
    assert isinstance(back.steps, int)
    with pytest.raises(KeyError, match="scratch/accuracy"):
        records.get(results, "scratch", Arm)


def test_one_interval_format_one_hull_one_beats():
    from common import stats

    assert f"{stats.Measurement(0.5, (0.25, 0.75)):.2f}" == "0.50 [0.25, 0.75]"
    assert f"{stats.Measurement(2.0)}" == "2"
    per_rate = [stats.mean([0.9, 1.0, 1.1], "repeats"), stats.mean([1.2, 1.3, 1.4], "repeats")]
    hull = stats.hull(per_rate, target=1.0, what="rates")
    assert hull.value == pytest.approx(1.3) and hull.interval[0] == per_rate[0].interval[0]
    assert hull.interval[1] == per_rate[1].interval[1] and hull.how.startswith("hull of 2 rates'")
    margin = stats.beats([0.9, 0.92, 0.91], [0.8, 0.83, 0.8], margin=0.05)
    plain = stats.paired_difference([0.9, 0.92, 0.91], [0.8, 0.83, 0.8])
    assert margin.value == pytest.approx(plain.value - 0.05) and margin.interval[0] == pytest.approx(
        plain.interval[0] - 0.05
    )


def test_summary_carries_the_grid_the_scores_and_the_edge():
    values, steps = (1e-3, 1e-2, 1e-1), (10, 20)
    validation = np.zeros((3, 2, 2))
    validation[2, 1] = 1.0  # the largest rate, longest length wins: the highest edge
    tuned = tuning.choose(tuning.Scores(values, steps, validation, validation))
    summary = tuned.summary()
    assert summary["grid"] == list(values) and summary["chosen"] == 0.1 and summary["edge"] == "highest"
    assert summary["validation"] == [0.0, 0.0, 1.0] and summary["budget"] == 3 * 20 and summary["at_step"] == 20
    json.dumps(summary)


def test_split_by_size_in_drawn_order_holds_out_the_first_drawn():
    x, y = np.arange(10.0), np.arange(10)
    split = tuning.split_arrays(x, y, x[:2], y[:2], size=3, seed=0, drawn_order=True)
    order = np.random.default_rng(0).permutation(10)
    np.testing.assert_array_equal(split.x_val, x[order[:3]])
    np.testing.assert_array_equal(split.x_fit, x[order[3:]])
    sorted_split = tuning.split_arrays(x, y, x[:2], y[:2], size=3, seed=0)
    np.testing.assert_array_equal(sorted_split.x_val, np.sort(x[order[:3]]))
    with pytest.raises(ValueError):
        tuning.split_arrays(x, y, x, y, 0.1, size=3)
    with pytest.raises(ValueError):
        tuning.split_arrays(x, y, x, y, size=10)


def test_split_of_a_dataset_is_disjoint_seeded_and_complete():
    from common.data import Dataset

    x = np.arange(50, dtype=np.float32)[:, None]
    data = Dataset("toy", x, np.arange(50) % 10, x[:5], np.arange(5), 10)
    split = tuning.split(data, 0.2, seed=3)
    assert split.x_fit.shape == (40, 1) and split.x_val.shape == (10, 1) and split.x_test.shape == (5, 1)
    together = np.sort(np.concatenate([split.x_fit[:, 0], split.x_val[:, 0]]))
    assert np.array_equal(together, x[:, 0])
    assert np.array_equal(tuning.split(data, 0.2, seed=3).x_val, split.x_val)
    assert not np.array_equal(tuning.split(data, 0.2, seed=4).x_val, split.x_val)
    with pytest.raises(ValueError):
        tuning.split(data, 1.0)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_rate_where_every_seed_diverged_is_never_chosen_and_warns_nothing():
    validation = np.array([[[1.0, 2.0]], [[np.nan, np.nan]]])  # 2 values, 1 length, 2 seeds
    tuned = tuning.choose(tuning.Scores((0.1, 10.0), (5,), validation, validation, higher_is_better=False))
    assert tuned.value == 0.1 and np.isnan(tuned.validation_means()[1, 0])
    np.testing.assert_array_equal(tuning.mean_over_seeds(np.array([[1.0, np.inf], [np.nan, 3.0]])), [np.inf, 3.0])


def test_budget_rows_state_each_arms_grid_choice_edge_and_budget():
    interior = tuning.choose(peaked((1e-3, 1e-2, 1e-1), peak=1e-2))
    on_edge = tuning.choose(peaked((1e-3, 1e-2), peak=1.0))
    rows = tuning.budget_rows({"fine-tuning": interior, "scratch": on_edge})
    assert [r["arm"] for r in rows] == ["fine-tuning", "scratch"]
    assert rows[0]["grid"] == "0.001, 0.01, 0.1" and rows[0]["chosen"] == "0.01" and rows[0]["edge"] == "interior"
    assert rows[0]["budget (trials x steps)"] == "3 x 200 = 600"
    assert rows[1]["edge"] == "highest" and rows[1]["budget (trials x steps)"] == "2 x 200 = 400"

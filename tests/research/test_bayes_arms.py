"""research.bayes.arms: every method tuned together in rounds (`tune_together`), each round training
only the settings the tuning asks for; a choice on an edge widens the grid, up to the stated limit."""

import math

import numpy as np
import pytest

from common.experiment import Results, Undecided
from research.bayes import arms as A


def _round_on(pool: A.Pool, best: dict[str, float], trained_rounds: list):
    """A training round whose validation error is |log10(value / best)| per method (two seeds)."""
    def train_round(values: dict[str, tuple[float, ...]]) -> None:
        trained_rounds.append(values)
        for method, grid in values.items():
            error = np.array([[abs(math.log10(v / best[method]))] * 2 for v in grid])
            pool.settings.setdefault(method, {}).update(
                {v: {"validation_error": e, "test_error": e} for v, e in zip(grid, error)})
        pool.rounds += 1
    return train_round


def test_every_method_widens_in_the_same_rounds_up_to_the_limit():
    pool, rounds = A.Pool(length=100), []
    sweeps = {"inside": A.Sweep.of("kl_scale", (0.1, 10.0), 1.0),       # best 1: interior at once
              "one_step": A.Sweep.of("kl_scale", (0.1, 10.0), 1.0),     # best 10: one widening
              "far": A.Sweep.of("learning_rate", (1e-3, 1e-2), 3e-3),   # best 1e-9: still on the edge
              "single": A.Sweep.of("kl_scale", (), 1.0)}                # one setting: no tuning
    best = {"inside": 1.0, "one_step": 10.0, "far": 1e-9, "single": 1.0}
    tuned = A.tune_together(sweeps, _round_on(pool, best, rounds), pool, max_widenings=2)
    # Round 0 trains every grid; rounds 1 and 2 only the widenings asked for, one value per method.
    assert rounds[0] == {name: sweep.values for name, sweep in sweeps.items()}
    assert rounds[1] == {"one_step": (100.0,), "far": (pytest.approx(1e-3 * 1e-3 / 3e-3),)}
    assert rounds[2] == {"far": (pytest.approx(1e-3 / 9),)} and len(rounds) == 3
    assert tuned["inside"].value == 1.0 and tuned["inside"].edge is None and tuned["inside"].widenings == 0
    assert tuned["one_step"].value == 10.0 and tuned["one_step"].edge is None and tuned["one_step"].widenings == 1
    assert tuned["far"].edge == "lowest" and tuned["far"].widenings == 2 and len(tuned["far"].scores.values) == 5
    assert tuned["single"].value == 1.0 and tuned["single"].edge is None
    assert tuned["far"].budget == 5 * 100 and tuned["inside"].budget == 3 * 100


def test_an_arm_on_the_edge_is_undecided_in_the_claims():
    grid, validation = np.array([0.1, 1.0, 10.0]), np.array([[3.0, 3.0], [2.0, 2.0], [1.0, 1.0]])
    results = Results(arrays={"m/grid": grid, "m/validation_error_MxS": validation}, scalars={"m/widenings": 2.0})
    with pytest.raises(Undecided, match="highest of its grid .* after 2 widening"):
        A.require_interior(results, "m", "kl_scale")
    results.arrays["m/validation_error_MxS"] = validation[[1, 2, 0]]
    A.require_interior(results, "m", "kl_scale")


def test_self_gap_is_an_a_a_pair_centred_on_zero():
    results = A.synthetic_sweeps({"m": 1.0}, {"m": 2.0}, spread=0.1)
    gap = A.self_gap(results, "chosen", "m", "test_error")
    assert gap.value == pytest.approx(0.0) and gap.interval[0] < 0 < gap.interval[1]
    worse = A.folded_error_gap(results, "protocol", "m", np.full(5, 4.0))
    assert worse.value == pytest.approx(3.0) and worse.interval[0] > 2.5

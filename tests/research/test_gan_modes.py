"""gan-mixture's coverage summary, share-of-seeds measure and hopping rows (research/gan), on constructed finals."""

import numpy as np
import pytest

from common.experiment import NotRunAtPreset, Undecided
from research.gan.hopping import hop_rows
from research.gan.metrics import mode_hopping
from research.gan.mode_claims import around, collapses, share_of_seeds
from research.gan.modes import Finals, collapsed, summary


def test_collapse_needs_few_modes_and_mostly_high_quality_samples():
    covered, high_quality = np.array([1, 2, 3, 1]), np.array([0.9, 0.5, 0.9, 0.4])
    np.testing.assert_array_equal(collapsed(covered, high_quality), [True, True, False, False])
    row = summary(Finals(covered[None], high_quality[None], np.zeros((1, 4))), modes=8)
    assert row["covered modes per seed"] == "1, 2, 3, 1"
    assert row["collapsed seeds"].startswith("0.5 ")  # 2 of 4 seeds


def test_share_of_seeds_is_not_run_without_the_method_and_undecided_when_untrained():
    with pytest.raises(NotRunAtPreset):
        share_of_seeds("ring", ("gan",), collapses)(around("ring", {"unrolled": (7.0, 0.5)}))
    with pytest.raises(Undecided):
        share_of_seeds("ring", ("gan",), collapses)(around("ring", {"gan": (1.0, 0.02)}))
    assert share_of_seeds("ring", ("gan",), collapses)(around("ring", {"gan": (1.0, 0.95)})).value == 1.0


def test_hop_rows_list_each_seeds_held_modes_and_switches():
    hits = np.zeros((3, 2, 8))
    hits[0, 0, 1], hits[1, 0, 4], hits[2, 0, 4] = 1000, 1000, 1000  # seed 0: mode 1, then 4; seed 1 holds none
    rows = hop_rows("ring", mode_hopping(hits, 2500, 0.01), np.array([10, 20, 30]))
    assert [r["switches"] for r in rows] == [1, 0]
    assert rows[0]["held mode @ step (share of samples)"] == "1@10 (40%) 4@20 (40%) 4@30 (40%)"
    assert rows[1]["held mode @ step (share of samples)"] == "none"

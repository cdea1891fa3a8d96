"""Validation split and grid choice: carved from the training data only, chosen on validation only."""

import numpy as np
import pytest

from common.data.dataset import Dataset
from research.pruning.tuning import Grid, carve_validation


def _dataset(n=100):
    x = np.arange(n, dtype=np.float32)[:, None]
    return Dataset("toy", x, np.arange(n) % 10, -np.ones((7, 1), np.float32), np.zeros(7, int), 10)


def test_validation_is_carved_from_training_data_disjointly():
    split = carve_validation(_dataset(), 0.2, seed=3)
    assert len(split.y_val) == 20 and len(split.y_train) == 80
    assert not set(split.x_val[:, 0]) & set(split.x_train[:, 0])
    assert set(split.x_val[:, 0]) | set(split.x_train[:, 0]) == set(range(100))
    np.testing.assert_array_equal(split.x_test, -np.ones((7, 1)))  # the test set untouched


@pytest.mark.parametrize("fraction", [0.0, 1.0, 0.001])
def test_impossible_fractions_are_refused(fraction):
    with pytest.raises(ValueError, match="validation"):
        carve_validation(_dataset(), fraction)


def test_choice_follows_validation_not_test():
    values, steps = np.array([0.1, 1.0]), np.array([100, 200, 300])
    val = np.zeros((2, 3, 4))
    val[1, 1] = 0.9  # lr 1.0 at 200 steps is best on validation
    test = np.zeros((2, 3, 4))
    test[0, 2] = 1.0  # the test set would prefer lr 0.1 at 300 steps: never looked at
    grid = Grid(values, steps, val, test)
    c = grid.choose()
    assert (c.value, c.step) == (1.0, 200)
    np.testing.assert_array_equal(grid.test_at(c), np.zeros(4))
    fixed = grid.choose(last_point_only=True)
    assert fixed.step == 300
    assert grid.at(0.1, 300).index == 0 and float(grid.test_at(grid.at(0.1, 300))[0]) == 1.0

"""Fair budgets for pruning comparisons: a validation split carved from the
training data, and grid points chosen on it (never on the test set).

Liu et al. (2019) fine-tune at the final lr of the large model's schedule; a
comparison of fine-tuning with Scratch-E/B is only about the methods when each
side gets its own best lr and length. A `Grid` holds one method's validation
and test accuracy at every grid value (lr) and evaluation point (length), per
seed; `choose` picks the grid value and point with the best mean validation
accuracy over seeds, and the test accuracy is read there.
"""

from typing import NamedTuple

import numpy as np

from common.data import validation_split


class Split(NamedTuple):
    """Training data with a validation part held out; the test set untouched."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def carve_validation(dataset, fraction: float, seed: int = 0) -> Split:
    """`common.data.validation_split` (round(fraction * n_train) seeded training examples held
    out) with the test set carried beside it."""
    held = validation_split(dataset, fraction, seed)
    return Split(held.x_fit, held.y_fit, held.x_validation, held.y_validation, dataset.x_test, dataset.y_test)


class Choice(NamedTuple):
    value: float  # the chosen grid value (an lr)
    step: int  # the chosen evaluation point (a length in steps)
    index: int
    point: int


class Grid(NamedTuple):
    """One method's accuracy over a grid: `values` (V,), `steps` (P,), `val`/`test` (V, P, seeds)."""

    values: np.ndarray
    steps: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def choose(self, last_point_only: bool = False) -> Choice:
        """The (value, point) with the best mean validation accuracy over seeds; ties go to the
        earlier value and the shorter length. `last_point_only`: the length is fixed."""
        mean_val = np.nanmean(self.val, axis=-1)  # (V, P)
        if last_point_only:
            mean_val = np.where(np.arange(mean_val.shape[1]) == mean_val.shape[1] - 1, mean_val, -np.inf)
        mean_val = np.where(np.isfinite(mean_val), mean_val, -np.inf)
        index, point = np.unravel_index(int(np.argmax(mean_val)), mean_val.shape)
        return Choice(float(self.values[index]), int(self.steps[point]), int(index), int(point))

    def test_at(self, choice: Choice) -> np.ndarray:
        """Per-seed test accuracy at a choice, (seeds,)."""
        return self.test[choice.index, choice.point]

    def at(self, value: float, step: int) -> Choice:
        """The grid point of a given value and length (e.g. the paper's protocol)."""
        index = int(np.flatnonzero(np.isclose(self.values, value))[0])
        point = int(np.flatnonzero(self.steps == step)[0])
        return Choice(float(self.values[index]), int(self.steps[point]), index, point)

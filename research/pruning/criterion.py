"""The pruning study's training criterion: a comparison counts only when every arm it compares
trained (a baseline that did not train decides nothing: the claim is inconclusive, with the arm,
its measured value and the criterion as the reason). prune-lottery compares its two lrs' dense nets
(lottery_measures.require_trained); prune-rethink reads every arm's own validation curve (`Criterion`)."""

from typing import NamedTuple

import numpy as np

from common.experiment import Undecided
from common.tuning import mean_over_seeds

LATE = 0.75  # the curve's last quarter: the step schedule's last phase (lr x0.01 after 75% of the steps)


def undertrained(arm: str, measured: str, criterion: str) -> Undecided:
    """The one form of the reason: which arm, what it measured, what the criterion asks."""
    return Undecided(f"{arm}: {measured}; the training criterion asks {criterion}: undertrained, so the "
                     "comparison decides nothing")


class Curve(NamedTuple):
    """What the criterion reads of an arm's validation accuracy curve (mean over seeds), one value per
    setting (or a float for one arm)."""

    used: np.ndarray  # at the evaluation the comparison uses (the last; a tuned length: the chosen one)
    best: np.ndarray  # the best evaluation of the curve
    rise: np.ndarray  # the last evaluation minus the first at or after LATE of the steps: still rising?


def read_curve(validation: np.ndarray, steps, used: int) -> Curve:
    """`validation` (points, seeds) evaluated at `steps` (points,); `used`: the point the comparison reads."""
    mean, steps = mean_over_seeds(np.asarray(validation)), np.asarray(steps)
    late = int(np.searchsorted(steps, LATE * steps[-1]))
    return Curve(float(mean[used]), float(np.nanmax(mean)), float(mean[-1] - mean[late]))


def stack(curves: list[Curve]) -> Curve:
    """Per-arm curves into one with a value per setting."""
    return Curve(*[np.array([getattr(c, f) for c in curves]) for f in Curve._fields])


class Criterion(NamedTuple):
    """An arm trained when, at the point used, its mean validation accuracy is `above_chance` over
    chance and within `within` of its curve's best, and its curve rose by at most `within` over its
    last quarter (flat at the end)."""

    chance: float  # 1 / classes
    above_chance: float
    within: float

    def describe(self) -> str:
        return (f"validation accuracy (mean over seeds) at least chance {self.chance:.2g} + {self.above_chance:g}, "
                f"within {self.within:g} of its curve's best, and a rise of at most {self.within:g} over the "
                f"curve's last quarter")

    def failure(self, curve: Curve) -> "Failure | None":
        """The first setting of `curve` (one value per setting, or floats) that did not train, None if all did."""
        used, best, rise = (np.atleast_1d(np.asarray(getattr(curve, f), float)) for f in Curve._fields)
        checks = [(used < self.chance + self.above_chance, used, "validation accuracy {:.3f}",
                   f"at least chance {self.chance:.2g} + {self.above_chance:g}"),
                  (best - used > self.within, best - used, "{:.3f} below its curve's best",
                   f"at most {self.within:g} below it"),
                  (rise > self.within, rise, "still rising: {:+.3f} over its curve's last quarter",
                   f"a rise of at most {self.within:g} there")]
        for failed, values, measured, asks in checks:
            if failed.any():
                i = int(np.argmax(failed))  # the first setting that fails
                return Failure(i, used.size, measured.format(values[i]), asks)
        return None

    def require(self, arm: str, curve: Curve, unit: str = "setting") -> None:
        """Undecided, naming the arm (and the `unit` where `curve` holds several), unless every one trained."""
        failed = self.failure(curve)
        if failed is not None:
            where = f" ({unit} {failed.setting + 1} of {failed.settings})" if failed.settings > 1 else ""
            raise undertrained(arm + where, failed.measured, failed.asks)


class Failure(NamedTuple):
    setting: int  # the index of the first setting that did not train
    settings: int
    measured: str
    asks: str

"""What gan-mixture keeps of each method's mode coverage: its records and a table row's summary of the final
metrics (rates of seeds, bounded means, KL)."""

from typing import NamedTuple

import numpy as np

from common import stats

MODE_COUNT = {"ring": 8, "grid": 25}
COLLAPSE_MODES, COLLAPSE_HQ = 2, 0.5  # "few modes AND most samples high quality"
COLLAPSE = f"covers <= {COLLAPSE_MODES} modes AND >= {COLLAPSE_HQ:.0%} of its samples are high quality"
TRAINED_HQ = 0.05  # a method whose mean final HQ share is below this is "not trained at this budget"


class MethodRun(NamedTuple):
    """One method on one data set: the mode metrics at each evaluation, seed 0's final samples, divergence."""

    eval_step: np.ndarray  # (points,)
    modes: np.ndarray  # (points, seeds): VEEGAN's count, >= 1 HQ sample
    high_quality: np.ndarray
    covered: np.ndarray
    kl: np.ndarray
    hits: np.ndarray  # (points, seeds, modes)
    samples: np.ndarray  # (eval_samples, 2)
    diverged_at: np.ndarray  # (seeds,), -1 where never


class Finals(NamedTuple):
    """What the claims and the tables read: covered modes, HQ share and KL at each evaluation (points, seeds)."""

    covered: np.ndarray
    high_quality: np.ndarray
    kl: np.ndarray


class Centers(NamedTuple):
    centers: np.ndarray  # (modes, 2)


def collapsed(covered: np.ndarray, high_quality: np.ndarray) -> np.ndarray:
    """Per seed: covers <= COLLAPSE_MODES modes AND >= COLLAPSE_HQ of its samples are high quality."""
    return (covered <= COLLAPSE_MODES) & (high_quality >= COLLAPSE_HQ)


def summary(finals, modes: int) -> dict:
    """A table row's final metrics: rates of seeds (Wilson), bounded means (bootstrap), KL (geometric)."""
    covered, high_quality, kl = finals.covered[-1], finals.high_quality[-1], finals.kl[-1]
    kl = kl[np.isfinite(kl)]
    return {"covered modes per seed": ", ".join(f"{c:.0f}" for c in covered),
            f"seeds covering all {modes}": f"{stats.proportion(int((covered == modes).sum()), covered.size):.2g}",
            "% HQ": f"{stats.bootstrap_mean(100 * high_quality):.3g}",
            "collapsed seeds": f"{stats.proportion(int(collapsed(covered, high_quality).sum()), covered.size):.2g}",
            "KL to uniform": f"{stats.geometric_mean(np.maximum(kl, 1e-6)):.3g}" if kl.size else "no HQ sample"}

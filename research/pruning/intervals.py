"""The interval of a mean test accuracy: a proportion of a finite test set, averaged over seeds."""

import numpy as np

from common import stats


def accuracy_interval(per_seed, n_test: int) -> stats.Measurement:
    """Mean accuracy over seeds with a 95% interval whose half-width adds, in quadrature, the seeds'
    t half-width and the test set's Wilson half-width (its examples are one sample, shared by every
    seed, so their noise does not average out over seeds)."""
    seeds = stats.mean(per_seed)
    test = stats.proportion(round(float(np.mean(per_seed)) * n_test), n_test, "examples")
    half = float(np.hypot(np.diff(seeds.interval)[0], np.diff(test.interval)[0])) / 2
    return stats.Measurement(seeds.value, (seeds.value - half, seeds.value + half),
                             f"{seeds.how} and Wilson over {n_test} test examples", seeds.n)

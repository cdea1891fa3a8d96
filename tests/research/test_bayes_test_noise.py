"""The test set's sampling noise widens a paired difference of error rates by the examples the two
classifiers disagree on, and the folded interval of |A - B| is that of A - B folded at 0."""

import numpy as np

from common import stats
from research.bayes import test_noise


def test_agreeing_classifiers_add_no_test_noise_and_disagreement_adds_its_standard_error():
    seeds = stats.Measurement(2.0, (1.0, 3.0), "t, 3 seeds", 3)
    wrong = np.random.default_rng(0).random((3, 400)) < 0.1
    assert test_noise.with_test_noise(seeds, wrong, wrong).interval == (1.0, 3.0)
    a, b = np.zeros((1, 400)), np.zeros((1, 400))
    a[0, :40] = 1  # A errs on 40 examples B gets right: 10 points, per-example sd 0.3
    widened = test_noise.with_test_noise(seeds, a, b)
    half = np.hypot(1.0, 1.96 * 100 * np.std(a[0], ddof=1) / np.sqrt(400))
    np.testing.assert_allclose(widened.interval, (2.0 - half, 2.0 + half))
    assert widened.value == 2.0 and "400 test examples" in widened.how


def test_folded_interval():
    assert test_noise.folded(stats.Measurement(-2.0, (-3.0, -1.0))).interval == (1.0, 3.0)
    assert test_noise.folded(stats.Measurement(0.5, (-1.0, 2.0))).interval == (0.0, 2.0)

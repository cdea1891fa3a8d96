"""Calibration metrics against hand-computed cases."""

import jax.numpy as jnp
import numpy as np
import pytest

from research.bayes import calibration as C


def test_ece_by_hand():
    # Two bins used (K = 2): confidences 0.9 (bin 1) and 0.6 (bin 1), 0.4 can't occur for 2 classes.
    probs = jnp.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    labels = jnp.array([0, 1, 1, 1])
    # All four confidences (0.9, 0.9, 0.6, 0.6) fall in bin (0.5, 1]: accuracy 2/4, confidence 0.75.
    assert float(C.expected_calibration_error(probs, labels, bins=2)) == pytest.approx(0.25)
    # With 10 bins: bin 0.9 holds 2 (acc 0.5, conf 0.9), bin 0.6 holds 2 (acc 0.5, conf 0.6).
    assert float(C.expected_calibration_error(probs, labels, bins=10)) == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)


def test_a_perfectly_calibrated_predictor_has_small_ece():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 200_000)
    labels = (rng.uniform(size=p.size) > p).astype(np.int32)  # class 0 with probability p
    probs = jnp.stack([p, 1 - p], axis=1)
    assert float(C.expected_calibration_error(probs, jnp.asarray(labels))) < 0.01
    overconfident = jnp.stack([jnp.minimum(p + 0.2, 1.0), 1 - jnp.minimum(p + 0.2, 1.0)], axis=1)
    assert float(C.expected_calibration_error(overconfident, jnp.asarray(labels))) > 0.1


def test_nll_and_entropy_closed_forms():
    uniform = jnp.full((3, 4), 0.25)
    assert float(C.negative_log_likelihood(uniform, jnp.array([0, 1, 3]))) == pytest.approx(np.log(4))
    assert np.allclose(C.entropy(uniform), np.log(4))
    assert np.allclose(C.entropy(jnp.array([[1.0, 0.0]])), 0.0)
    r = C.reliability(uniform, jnp.array([0, 1, 3]), bins=4)
    assert float(r.count_K.sum()) == 3 and float(r.count_K[0]) == 3  # confidence 0.25 is in (0, 0.25]

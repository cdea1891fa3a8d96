"""How well a classifier's probabilities mean what they say: expected
calibration error and its reliability diagram (Guo et al. 2017, eq. 3 with
equal-width confidence bins), the negative log likelihood, and the predictive
entropy (on out-of-distribution inputs a Bayesian predictive should be less
certain than a point estimate)."""

from typing import NamedTuple

import jax.numpy as jnp


class Reliability(NamedTuple):
    """Per confidence bin (equal width on [0, 1]): examples, mean confidence, accuracy."""

    count_K: jnp.ndarray
    confidence_K: jnp.ndarray  # NaN in empty bins
    accuracy_K: jnp.ndarray


def reliability(probs_NxC, labels_N, bins: int = 15) -> Reliability:
    confidence = probs_NxC.max(axis=-1)
    correct = (probs_NxC.argmax(axis=-1) == labels_N).astype(probs_NxC.dtype)
    # Bin k holds confidences in (k/K, (k+1)/K]; a confidence of exactly 0 goes to bin 0.
    index = jnp.clip(jnp.ceil(confidence * bins).astype(jnp.int32) - 1, 0, bins - 1)
    count = jnp.zeros(bins).at[index].add(1.0)
    conf_sum = jnp.zeros(bins).at[index].add(confidence)
    acc_sum = jnp.zeros(bins).at[index].add(correct)
    safe = jnp.where(count > 0, count, jnp.nan)
    return Reliability(count, conf_sum / safe, acc_sum / safe)


def expected_calibration_error(probs_NxC, labels_N, bins: int = 15):
    """ECE = sum_k |B_k| / N * |acc(B_k) - conf(B_k)| (Guo et al. 2017, eq. 3)."""
    r = reliability(probs_NxC, labels_N, bins)
    gaps = jnp.where(r.count_K > 0, jnp.abs(r.accuracy_K - r.confidence_K), 0.0)
    return jnp.sum(r.count_K * gaps) / labels_N.shape[0]


def negative_log_likelihood(probs_NxC, labels_N, floor: float = 1e-12):
    """Mean -log p(y | x) of the predictive probabilities."""
    picked = jnp.take_along_axis(probs_NxC, labels_N[:, None], axis=-1)[:, 0]
    return -jnp.mean(jnp.log(jnp.maximum(picked, floor)))


def entropy(probs_NxC, floor: float = 1e-12):
    """Predictive entropy -sum_c p_c log p_c per example, in nats."""
    return -jnp.sum(probs_NxC * jnp.log(jnp.maximum(probs_NxC, floor)), axis=-1)

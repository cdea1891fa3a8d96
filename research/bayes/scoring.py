"""Scoring trained classifiers in one program a model family: the error of the predicted classes,
the predictive's NLL, calibration (`calibration`) and entropy on the validation split, the test
set and noise inputs; for Bayes by Backprop also pruning by signal-to-noise ratio (Blundell et
al. 2015, Sec. 5.1) against removing as many weights at random, and every weight's SNR."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from research.bayes import bbb as bayes
from research.bayes import calibration as C
from research.bayes import train as bayes_train


def plateau_gain(validation_loss_PxS: np.ndarray) -> np.ndarray:
    """Per seed, the relative drop of the best validation loss in the last third of training below
    the best before it: under a small gain (1%), training has reached its plateau (the stated criterion)."""
    third = validation_loss_PxS.shape[0] // 3
    if third < 1:  # fewer than three evaluations: too short to tell
        return np.full(validation_loss_PxS.shape[1], np.nan)
    before = np.nanmin(validation_loss_PxS[:-third], axis=0)
    last = np.nanmin(validation_loss_PxS[-third:], axis=0)
    return (before - last) / before


def bayes_probabilities(params, x, key, num_samples: int):
    """The posterior predictive p(y | x): softmax averaged over weight draws."""
    return jax.nn.softmax(bayes.predictive_samples(params, x, key, num_samples, "plain"), axis=-1).mean(0)


def plain_probabilities(model):
    return lambda params, model_state, x: jax.nn.softmax(model.apply(params, model_state, x, train=False)[0], -1)


def random_masks_like(params, key, fraction: float):
    """Keep-masks removing the same share of weights as `bayes.snr_masks`, chosen at random
    (the SNR ranking of uniform noise, one draw over all weights)."""
    sizes = [layer.w_mu.size for layer in params]
    noise = jnp.split(jax.random.uniform(key, (sum(sizes),)), np.cumsum(sizes)[:-1])
    return bayes.snr_masks(tuple(layer._replace(w_mu=u.reshape(layer.w_mu.shape), w_rho=jnp.zeros_like(layer.w_rho))
                                 for layer, u in zip(params, noise)), fraction)


class Inputs(NamedTuple):
    """What every trained network is scored on: the validation split (the choice), the test set
    and noise inputs (out of distribution)."""

    x_validation: jax.Array
    y_validation: jax.Array
    x_test: jax.Array
    y_test: jax.Array
    x_noise: jax.Array

    def points(self) -> jax.Array:
        """The three inputs one after the other: a network is applied to them in one pass."""
        return jnp.concatenate([self.x_validation, self.x_test, self.x_noise])

    def split(self, values_RxN) -> dict:
        """Per-run values at `points` (runs, points, ...) split back into the three inputs."""
        first, second = len(self.x_validation), len(self.x_validation) + len(self.x_test)
        return {"validation": values_RxN[:, :first], "test": values_RxN[:, first:second],
                "noise": values_RxN[:, second:]}


def prediction_scores(probs_R: dict, predicted_R: dict, inputs: Inputs) -> dict:
    """Per run: test and validation error (%) of its predicted classes and which test examples it gets
    wrong (the test set's sampling noise); from its probabilities the NLL
    on both, the test set's ECE, reliability bins and entropy, and the entropy on noise inputs."""
    error = lambda labels, y: 100 * jnp.mean(labels != y, axis=1)
    nll = jax.vmap(C.negative_log_likelihood, in_axes=(0, None))
    mean_entropy = jax.vmap(lambda p: C.entropy(p).mean())
    bins = jax.vmap(C.reliability, in_axes=(0, None))(probs_R["test"], inputs.y_test)
    return {"validation_error": error(predicted_R["validation"], inputs.y_validation),
            "test_error": error(predicted_R["test"], inputs.y_test),
            "test_wrong": predicted_R["test"] != inputs.y_test,
            "validation_nll": nll(probs_R["validation"], inputs.y_validation),
            "test_nll": nll(probs_R["test"], inputs.y_test),
            "test_ece": jax.vmap(C.expected_calibration_error, in_axes=(0, None))(probs_R["test"], inputs.y_test),
            "test_entropy": mean_entropy(probs_R["test"]), "ood_entropy": mean_entropy(probs_R["noise"]),
            "reliability_count": bins.count_K, "reliability_confidence": bins.confidence_K,
            "reliability_accuracy": bins.accuracy_K}


def plain_scores(model, params_R, model_state_R, inputs: Inputs) -> dict:
    """Every plain or dropout network (runs leading) scored in one program: `prediction_scores` of its
    softmax (dropout off)."""
    probs = inputs.split(jax.vmap(plain_probabilities(model), in_axes=(0, 0, None))(
        params_R, model_state_R, inputs.points()))
    return prediction_scores(probs, {k: jnp.argmax(p, -1) for k, p in probs.items()}, inputs)


def bayes_scores(params: tuple, control_keys_S, inputs: Inputs, draw_key, num_samples: int,
                 fractions: tuple[float, ...], control_fraction: float) -> dict:
    """Every Bayesian network of the fits' `params` (runs leading, members x seeds; concatenated in
    order) scored in one program: `prediction_scores` with the classes of the posterior mean (as the
    pruning table) and the predictive's probabilities, the test error after removing each of `fractions`
    of the weights by SNR (F, runs) and `control_fraction` at random (with seed s's key of
    `control_keys_S` for every member's seed s), and every weight's SNR |mu| / sigma."""
    params_R = jax.tree.map(lambda *leaves: jnp.concatenate(leaves), *params)
    control_keys_R = jnp.tile(control_keys_S, jax.tree.leaves(params_R)[0].shape[0] // control_keys_S.shape[0])
    points = inputs.points()
    probs = inputs.split(lax.map(lambda p: bayes_probabilities(p, points, draw_key, num_samples), params_R))
    mean_logits = inputs.split(jax.vmap(lambda p: bayes.mlp_apply(p, points, None, "mean"))(params_R))
    on_test = lambda p, masks: 100 * (1 - bayes_train.mean_accuracy(
        bayes.prune(p, masks), inputs.x_test, inputs.y_test))
    by_snr = jax.vmap(jax.vmap(lambda p, f: on_test(p, bayes.snr_masks(p, f)), in_axes=(0, None)),
                      in_axes=(None, 0))(params_R, jnp.array(fractions))
    at_random = jax.vmap(lambda p, k: on_test(p, random_masks_like(p, k, control_fraction)))(params_R, control_keys_R)
    snr = jax.vmap(lambda p: jnp.concatenate([s.ravel() for s in bayes.signal_to_noise(p)]))(params_R)
    return {**prediction_scores(probs, {k: jnp.argmax(v, -1) for k, v in mean_logits.items()}, inputs),
            "prune_error": by_snr, "random_95_error": at_random, "snr": snr}


def score_fits(model, plain_state, bayes_params: tuple, inputs: Inputs, control_keys_S, draw_key, *,
               num_samples: int, fractions: tuple[float, ...], control_fraction: float) -> tuple[dict, dict]:
    """`plain_scores` of the plain-and-dropout fit's final state and `bayes_scores` of the Bayesian fits'
    parameters (concatenated in the order given), each one compiled program; None for a side without fits
    (a widening round of some methods only)."""
    plain = None if plain_state is None else jax.jit(partial(plain_scores, model))(
        plain_state.params, plain_state.model_state, inputs)
    score_bayes = jax.jit(bayes_scores, static_argnames=("num_samples", "fractions", "control_fraction"))
    bayes = None if not bayes_params else score_bayes(bayes_params, control_keys_S, inputs, draw_key, num_samples=num_samples,
                                                      fractions=fractions, control_fraction=control_fraction)
    return plain, bayes

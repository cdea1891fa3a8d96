"""The notes' basics (REFERENCES section 0) as checks against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from common.models import CNN
from common.nn import (
    conv_output_size, cross_entropy, dropout, he_normal, lecun_normal, selu, softmax_cross_entropy, xavier_normal,
)


def test_notes_cross_entropy_example():
    # Two predictions, one-hot targets on the last class, mean of -sum t log p.
    probs = np.array([[0.25, 0.25, 0.25, 0.25], [0.01, 0.01, 0.01, 0.96]])
    targets = np.array([[0, 0, 0, 1], [0, 0, 0, 1]])
    with jax.enable_x64(True):
        value = cross_entropy(jnp.asarray(probs), jnp.asarray(targets, jnp.float64))
    assert float(value) == pytest.approx(0.71355817782, abs=1e-10)
    # softmax_cross_entropy renormalizes: on normalized probabilities it agrees.
    normalized = probs / probs.sum(axis=1, keepdims=True)
    with jax.enable_x64(True):
        via_logits = softmax_cross_entropy(jnp.log(jnp.asarray(normalized)), jnp.array([3, 3]))
        direct = cross_entropy(jnp.asarray(normalized), jnp.asarray(targets, jnp.float64))
    assert float(via_logits) == pytest.approx(float(direct), abs=1e-12)


def test_softmax_cross_entropy_gradient_is_o_minus_t():
    with jax.enable_x64(True):
        logits = jax.random.normal(jax.random.key(0), (5, 7), jnp.float64)
        labels = jnp.array([0, 3, 6, 2, 2])
        grad = jax.grad(softmax_cross_entropy)(logits, labels)
        expected = (jax.nn.softmax(logits) - jax.nn.one_hot(labels, 7)) / 5  # mean over the batch
        np.testing.assert_allclose(grad, expected, atol=1e-14)


def test_dense_layer_gradient_is_y_times_o_minus_t():
    # dE/dw_ij = y_i (o_j - t_j) for logits z = y W.
    with jax.enable_x64(True):
        y = jax.random.normal(jax.random.key(1), (1, 4), jnp.float64)
        w = jax.random.normal(jax.random.key(2), (4, 3), jnp.float64)
        label = jnp.array([1])
        grad = jax.grad(lambda w: softmax_cross_entropy(y @ w, label))(w)
        o = jax.nn.softmax(y @ w)[0]
        np.testing.assert_allclose(grad, np.outer(y[0], o - jax.nn.one_hot(1, 3)), atol=1e-14)


@pytest.mark.parametrize("length,kernel,padding,stride", [(40, 5, 1, 2), (28, 3, 1, 1), (32, 3, 0, 2), (19, 5, 1, 2)])
def test_conv_output_size_matches_real_convolution(length, kernel, padding, stride):
    cnn = CNN((4,), num_outputs=2, kernel=kernel, stride=stride, padding=padding)
    x = jnp.ones((1, length, 1))
    params, _ = cnn.init_variables(jax.random.key(0), x)
    h = cnn._conv(x, params["layers"][0]["w"])
    assert h.shape[1] == conv_output_size(length, kernel, padding, stride)
    x2 = jnp.ones((1, length, length, 1))
    params2, _ = cnn.init_variables(jax.random.key(0), x2)
    assert cnn._conv(x2, params2["layers"][0]["w"]).shape[1:3] == (conv_output_size(length, kernel, padding, stride),) * 2


@pytest.mark.parametrize("init,variance", [
    (lecun_normal, lambda i, o: 1 / i), (xavier_normal, lambda i, o: 2 / (i + o)), (he_normal, lambda i, o: 2 / i),
])
def test_initializer_variances(init, variance):
    fan_in, fan_out = 300, 200
    w = np.asarray(init(jax.random.key(0), (fan_in, fan_out)))
    # 60000 draws: the sample variance has relative std sqrt(2/60000) ~ 0.6%.
    assert w.var() == pytest.approx(variance(fan_in, fan_out), rel=0.03)
    assert abs(w.mean()) < 4 * np.sqrt(variance(fan_in, fan_out) / w.size)
    conv = np.asarray(init(jax.random.key(1), (5, 5, 12, 16)))  # fans count the receptive field
    assert conv.var() == pytest.approx(variance(5 * 5 * 12, 5 * 5 * 16), rel=0.05)


def test_selu_values():
    lam, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    with jax.enable_x64(True):
        x = jnp.array([-2.0, -0.5, 0.0, 0.3, 4.0])
        expected = lam * np.where(x > 0, x, alpha * (np.exp(x) - 1))
        np.testing.assert_allclose(selu(x), expected, rtol=1e-15)


def test_gradient_descent_and_adam_match_hand_updates():
    with jax.enable_x64(True):
        w = jnp.array([1.0, -2.0, 0.5])
        g = jnp.array([0.3, -0.1, 2.0])
        sgd = optax.sgd(0.1)
        updates, _ = sgd.update(g, sgd.init(w))
        np.testing.assert_allclose(optax.apply_updates(w, updates), w - 0.1 * g, atol=1e-15)
        # Adam (Kingma & Ba 2015, Algorithm 1), two steps by hand.
        lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
        adam = optax.adam(lr, b1, b2, eps)
        state, params, m, v = adam.init(w), w, 0.0, 0.0
        hand = w
        for t, grad in enumerate([g, 2 * g], start=1):
            updates, state = adam.update(grad, state)
            params = optax.apply_updates(params, updates)
            m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
            hand = hand - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(params, hand, rtol=1e-12)


def test_l2_weight_decay_adds_lambda_w_to_the_gradient():
    with jax.enable_x64(True):
        w, g, lam = jnp.array([1.0, -3.0]), jnp.array([0.5, 0.5]), 1e-2
        decayed = optax.chain(optax.add_decayed_weights(lam), optax.sgd(1.0))
        updates, _ = decayed.update(g, decayed.init(w), w)
        # d/dw (loss + lam/2 ||w||^2) = g + lam w
        np.testing.assert_allclose(-updates, g + lam * w, atol=1e-15)


def test_dropout_keeps_the_mean_and_drops_the_rate():
    x = jnp.ones((200_000,))
    y = np.asarray(dropout(jax.random.key(0), x, 0.3))
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.005)
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    survivors = y[y != 0]
    np.testing.assert_allclose(survivors, 1 / 0.7, rtol=1e-6)


def test_cnn_1d_patches_equal_xla_convolution():
    cnn = CNN((6,), num_outputs=2, kernel=5, stride=2, padding=1)
    with jax.enable_x64(True):
        h = jax.random.normal(jax.random.key(0), (3, 19, 4), jnp.float64)
        w = jax.random.normal(jax.random.key(1), (5, 4, 6), jnp.float64)
        reference = jax.lax.conv_general_dilated(h, w, (2,), [(1, 1)], dimension_numbers=("NWC", "WIO", "NWC"))
        np.testing.assert_allclose(cnn._conv(h, w), reference, atol=1e-12)

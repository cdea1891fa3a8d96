"""The MLP's initializers: orthogonal weights times the gain (the unrolled-GAN notebook's init)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.models import MLP


@pytest.mark.parametrize("fan_in", [16, 32, 2])  # tall or square first layer (W^T W), and wide (W W^T)
def test_orthogonal_mlp_weights_are_orthogonal_times_the_gain(fan_in):
    model = MLP((32, 32), 2, activation="tanh", init="orthogonal", gain=1.4)
    params, _ = model.init_variables(jax.random.key(0), jnp.zeros((1, fan_in)))
    for layer in params["layers"]:  # (fan_in, 32), (32, 32), (32, 2): every weight, the output layer too
        w = np.asarray(layer["w"], np.float64)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, 1.4**2 * np.eye(min(w.shape)), atol=1e-5)
        np.testing.assert_array_equal(layer["b"], 0.0)


def test_the_gain_scales_any_initializer_and_one_leaves_it_unchanged():
    x = jnp.zeros((1, 5))
    plain, _ = MLP((8,), 3, init="he").init_variables(jax.random.key(1), x)
    doubled, _ = MLP((8,), 3, init="he", gain=2.0).init_variables(jax.random.key(1), x)
    for a, b in zip(plain["layers"], doubled["layers"]):
        np.testing.assert_allclose(b["w"], 2.0 * a["w"], rtol=1e-7)
    orthogonal, _ = MLP((8,), 3, init="orthogonal").init_variables(jax.random.key(1), x)
    assert not np.allclose(orthogonal["layers"][0]["w"], plain["layers"][0]["w"])  # a different draw

"""FLOP counts against hand counts, the traced program and XLA's cost analysis."""

import jax
import jax.numpy as jnp
import numpy as np

from research.pruning.flops import layer_flops, network_flops, weight_positions
from research.pruning.masks import magnitude_masks
from research.pruning.structured import l1_keep_indices, prune_units
from tests.research.flop_oracles import jaxpr_flops, xla_flops


def _mlp(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [{"w": jnp.asarray(rng.normal(size=(a, b)), jnp.float32), "b": jnp.zeros(b)}
            for a, b in zip(sizes[:-1], sizes[1:])]


def _mlp_apply(layers, x):
    for layer in layers[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def _cnn_apply(layers, x_NHWC):
    """Two 3x3 convs (SAME, the second with stride 2), flatten, dense."""
    x = x_NHWC
    for layer, stride in zip(layers[:-1], (1, 2)):
        x = jax.lax.conv_general_dilated(x, layer["w"], (stride, stride), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        x = jax.nn.relu(x + layer["b"])
    return x.reshape(x.shape[0], -1) @ layers[-1]["w"] + layers[-1]["b"]


def test_mlp_hand_count():
    # 40-100-100-10: 2 * (4000 + 10000 + 1000) = 30000 FLOPs per example
    layers = _mlp([40, 100, 100, 10])
    assert network_flops(layers, [1, 1, 1]) == 30_000
    x = jnp.zeros((3, 40))
    assert jaxpr_flops(_mlp_apply, layers, x) == 3 * 30_000


def test_cnn_hand_count_matches_traced_program():
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 3, 8), (3, 3, 8, 16), (4 * 4 * 16, 10)]
    layers = [{"w": jnp.asarray(rng.normal(size=s), jnp.float32), "b": jnp.zeros(s[-1])}
              for s in shapes]
    # conv1: 8x8 outputs x 27 x 8; conv2 (stride 2): 4x4 outputs x 72 x 16; dense 256 x 10
    hand = 2 * (64 * 27 * 8 + 16 * 72 * 16 + 256 * 10)
    assert network_flops(layers, [64, 16, 1]) == hand == 69_632
    assert jaxpr_flops(_cnn_apply, layers, jnp.zeros((2, 8, 8, 3))) == 2 * hand
    assert weight_positions(_cnn_apply, layers, jnp.zeros((1, 8, 8, 3))) == [64, 16, 1]


def test_xla_agrees_on_a_linear_chain():
    """Without biases and activations XLA counts exactly the matmuls."""
    layers = _mlp([40, 64, 10])
    x = jnp.zeros((5, 40))

    def chain(ws, x):
        for w in ws:
            x = x @ w
        return x

    ws = [layer["w"] for layer in layers]
    assert xla_flops(chain, ws, x) == 5 * network_flops(ws, [1, 1]) == 5 * 2 * (40 * 64 + 64 * 10)


def test_structured_pruning_flops_follow_the_smaller_arrays():
    layers = _mlp([40, 100, 100, 10])
    small = prune_units(layers, l1_keep_indices(layers, 0.5))
    # 40-50-50-10: 2 * (2000 + 2500 + 500)
    assert network_flops(small, [1, 1, 1]) == 10_000
    assert jaxpr_flops(_mlp_apply, small, jnp.zeros((1, 40))) == 10_000


def test_unstructured_flops_count_kept_weights():
    layers = _mlp([40, 100, 100, 10])
    masks = jax.jit(magnitude_masks, static_argnums=1)(layers, 0.9)
    # 10% of each layer kept: 400 + 1000 + 100 weights
    assert network_flops(layers, [1, 1, 1], masks) == 2 * (400 + 1000 + 100)
    assert layer_flops((3, 3, 8, 16), positions=16, nnz=100) == 3200


def test_foundation_cnn_positions_follow_the_conv_arithmetic():
    """MNIST-1D CNN (k=5, s=2, p=1): lengths 40 -> 19 -> 9 -> 4 (Dumoulin & Visin rel. 6)."""
    from common.models import CNN

    model = CNN((25, 25, 25), 10)
    x = jnp.zeros((1, 40))
    params, _ = jax.jit(model.init_variables)(jax.random.key(0), x)
    apply = lambda p, x: model.apply(p, {}, x)[0]  # noqa: E731
    assert weight_positions(apply, params, x) == [19, 9, 4, 1]
    hand = 2 * (19 * 5 * 1 * 25 + 9 * 5 * 25 * 25 + 4 * 5 * 25 * 25 + 100 * 10)
    assert network_flops(params, [19, 9, 4, 1]) == hand == jaxpr_flops(apply, params, x)

"""Structured L1 pruning: the small network computes the masked large network's function."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.pruning.masked import apply_masks
from research.pruning.structured import l1_keep_indices, prune_units, unit_l1_norms


def unit_masks(layers, keep) -> list[dict]:
    """The reference: masks zeroing, inside the large network, every unit `prune_units` removes
    (its incoming weights, its unit arrays such as the bias, and its outgoing rows), so the
    masked network must equal the small one for any activation (also f(0) != 0)."""
    masks = [jax.tree.map(lambda p: jnp.ones(jnp.shape(p), dtype=bool), dict(layer)) for layer in layers]
    for i, idx in enumerate(keep):
        n_out = layers[i]["w"].shape[-1]
        alive = jnp.zeros(n_out, dtype=bool).at[idx].set(True)
        masks[i] = {name: m & alive if jnp.ndim(m) >= 1 and jnp.shape(m)[-1] == n_out else m
                    for name, m in masks[i].items()}
        w_next = masks[i + 1]["w"]
        rows = jnp.tile(alive, w_next.shape[-2] // n_out)  # flattened NHWC: channel fastest
        masks[i + 1] = dict(masks[i + 1], w=w_next & rows[:, None])
    return masks


def widths(layers) -> list[int]:
    return [layer["w"].shape[-1] for layer in layers]


def _mlp(rng, sizes):
    return [
        {"w": rng.normal(size=(a, b)) / np.sqrt(a), "b": rng.normal(size=b)}
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def _mlp_apply(layers, x, act):
    for layer in layers[:-1]:
        x = act(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def _cnn(rng, channels, length, n_classes):
    """1-D conv stack (NWC, SAME) with a per-channel scale, then flatten and a dense head."""
    layers, c_in = [], 1
    for c in channels:
        layers.append({"w": rng.normal(size=(5, c_in, c)) / np.sqrt(5 * c_in),
                       "b": rng.normal(size=c), "scale": rng.normal(size=c)})
        c_in = c
    layers.append({"w": rng.normal(size=(length // 2 ** len(channels) * c_in, n_classes)),
                   "b": rng.normal(size=n_classes)})
    return layers


def _cnn_apply(layers, x_NL):
    x = x_NL[..., None]
    for layer in layers[:-1]:
        x = jax.lax.conv_general_dilated(x, layer["w"], (1,), "SAME",
                                         dimension_numbers=("NWC", "WIO", "NWC"))
        x = jax.nn.sigmoid(layer["scale"] * x + layer["b"])  # sigmoid(0) != 0
        x = jnp.max(x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2]), axis=2)  # max pool 2
    x = x.reshape(x.shape[0], -1)  # channel fastest
    return x @ layers[-1]["w"] + layers[-1]["b"]


@pytest.mark.parametrize("act", [jax.nn.relu, jax.nn.sigmoid], ids=["relu", "sigmoid"])
def test_pruned_mlp_equals_masked_mlp(act):
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        rng = np.random.default_rng(0)
        layers = jax.tree.map(jnp.asarray, _mlp(rng, [10, 32, 24, 4]))
        x = jnp.asarray(rng.normal(size=(7, 10)))

        @jax.jit
        def outputs(layers):
            keep = l1_keep_indices(layers, [0.5, 0.25])
            small = prune_units(layers, keep)
            masked = apply_masks(layers, unit_masks(layers, keep))
            outs = [_mlp_apply(net, x, act) for net in (small, masked, layers)]
            return small, *outs

        small, got, want, dense = outputs(layers)
        assert widths(small) == [16, 18, 4]
        assert small[1]["w"].shape == (16, 18) and small[0]["b"].shape == (16,)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)
        # and pruning really changed the function of the dense network
        assert not np.allclose(np.asarray(dense), np.asarray(want))


def test_pruned_cnn_equals_masked_cnn_through_flatten():
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        rng = np.random.default_rng(1)
        layers = jax.tree.map(jnp.asarray, _cnn(rng, [8, 12], 16, 3))
        x = jnp.asarray(rng.normal(size=(5, 16)))

        @jax.jit
        def outputs(layers):
            keep = l1_keep_indices(layers, 0.5)
            small = prune_units(layers, keep)
            masked = apply_masks(layers, unit_masks(layers, keep))
            return small, _cnn_apply(small, x), _cnn_apply(masked, x)

        small, got, want = outputs(layers)
        assert widths(small) == [4, 6, 3]
        assert small[1]["w"].shape == (5, 4, 6) and small[1]["scale"].shape == (6,)
        assert small[2]["w"].shape == (4 * 6, 3)  # 4 positions x 6 channels
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)


def test_kept_units_have_the_largest_l1_norms():
    rng = np.random.default_rng(2)
    layers = _mlp(rng, [6, 20, 3])
    keep = np.asarray(l1_keep_indices(jax.tree.map(jnp.asarray, layers), 0.3)[0])
    norms = np.abs(layers[0]["w"]).sum(axis=0)
    np.testing.assert_allclose(np.asarray(unit_l1_norms({"w": jnp.asarray(layers[0]["w"])})),
                               norms, rtol=1e-6)
    assert keep.size == 14 and np.all(np.diff(keep) > 0)
    dropped = np.setdiff1d(np.arange(20), keep)
    assert norms[keep].min() >= norms[dropped].max()


def test_structured_pruning_vmaps_over_seeds():
    """Per-seed kept units differ, but the small shapes agree, so seeds stay one program."""
    stacked = jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x, jnp.float32) for x in xs]),
                           *[_mlp(np.random.default_rng(s), [6, 20, 3]) for s in range(3)])
    small = jax.jit(jax.vmap(lambda ls: prune_units(ls, l1_keep_indices(ls, 0.5))))(stacked)
    assert small[0]["w"].shape == (3, 6, 10) and small[1]["w"].shape == (3, 10, 3)
    assert not np.allclose(np.asarray(small[0]["w"][0]), np.asarray(small[0]["w"][1]))


def test_wrong_ratio_count_is_refused():
    layers = jax.tree.map(jnp.asarray, _mlp(np.random.default_rng(0), [4, 8, 8, 2]))
    with pytest.raises(ValueError):
        l1_keep_indices(layers, [0.5])


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_foundation_models_pruned_equal_masked(kind):
    """The same identity on common.models' MLP and strided 1-D CNN (MNIST-1D shapes)."""
    from common.models import CNN, MLP

    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        x = jnp.asarray(np.random.default_rng(3).normal(size=(4, 40)))
        big = MLP((32, 32), 10) if kind == "mlp" else CNN((12, 12, 12), 10)
        small_model = MLP((16, 16), 10) if kind == "mlp" else CNN((6, 6, 6), 10)
        params, _ = jax.jit(big.init_variables)(jax.random.key(0), x)
        assert {a.dtype for a in jax.tree.leaves(params)} == {jnp.dtype(jnp.float64)}

        @jax.jit
        def outputs(params):
            keep = l1_keep_indices(params["layers"], 0.5)
            small = {"layers": prune_units(params["layers"], keep)}
            masked = {"layers": apply_masks(params["layers"], unit_masks(params["layers"], keep))}
            return small_model.apply(small, {}, x)[0], big.apply(masked, {}, x)[0]

        got, want = outputs(params)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)

"""Magnitude and random masks prune exactly the requested number of the right entries."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.pruning.masks import magnitude_masks as _magnitude_masks
from research.pruning.masks import (
    magnitude_masks_of_counts,
    n_pruned,
    pruned_counts,
    random_masks_like,
    sparsity,
)

SHAPES = [(7, 13), (3, 3, 5, 11), (13, 1)]  # odd sizes: 91, 495, 13 entries


def _params(seed):
    """numpy draws: no per-shape XLA compiles for eager random ops on a shared CPU."""
    rng = np.random.default_rng(seed)
    return [
        {"w": jnp.asarray(rng.normal(size=s), jnp.float32),
         "b": jnp.asarray(rng.normal(size=s[-1:]), jnp.float32)}
        for s in SHAPES
    ]


magnitude_masks = jax.jit(_magnitude_masks, static_argnums=(1, 2))


def layer_sparsities(masks) -> list[float]:
    """Fraction pruned of each weight matrix, in tree order."""
    return [1.0 - float(np.mean(np.asarray(m))) for m in jax.tree.leaves(masks) if np.ndim(m) >= 2]


@pytest.mark.parametrize("s", [0.0, 0.37, 0.95, 1.0])
def test_layer_scope_exact_count_and_magnitude_order(s):
    params = _params(0)
    masks = magnitude_masks(params, s, "layer")
    for layer, m in zip(params, masks):
        w, mw = np.asarray(layer["w"]), np.asarray(m["w"])
        assert (~mw).sum() == int(np.floor(s * w.size + 0.5))
        if 0 < mw.sum() < w.size:
            assert np.abs(w[mw]).min() >= np.abs(w[~mw]).max()
        assert np.all(np.asarray(m["b"]))  # biases are never pruned


@pytest.mark.parametrize("s", [0.3, 0.9])
def test_global_scope_matches_numpy_threshold(s):
    params = _params(1)
    masks = magnitude_masks(params, s, "global")
    all_w = np.concatenate([np.abs(np.asarray(layer["w"])).ravel() for layer in params])
    k = n_pruned(s, all_w.size)
    threshold = np.sort(all_w)[k]  # continuous weights: no ties, so |w| >= threshold is kept
    for layer, m in zip(params, masks):
        want = np.abs(np.asarray(layer["w"])) >= threshold
        np.testing.assert_array_equal(np.asarray(m["w"]), want)
    np.testing.assert_allclose(float(sparsity(masks)), k / all_w.size, rtol=0, atol=1e-7)
    # Global pruning gives different layers different rates.
    assert len({round(float(x), 3) for x in layer_sparsities(masks)}) > 1


def test_ties_do_not_change_the_count():
    params = [{"w": jnp.ones((10, 10))}, {"w": jnp.zeros((4, 5))}]
    masks = magnitude_masks(params, 0.37)
    assert [int((~np.asarray(m["w"])).sum()) for m in masks] == [37, 7]


def test_iterative_masks_are_nested_even_when_pruned_weights_are_large():
    """Entries pruned before stay pruned although their (stale) magnitude is the largest."""
    params = _params(2)
    first = magnitude_masks(params, 0.5)
    inflated = [dict(layer, w=jnp.where(m["w"], layer["w"], 100.0))
                for layer, m in zip(params, first)]
    second = magnitude_masks(inflated, 0.8, masks=first)
    for a, b in zip(first, second):
        assert not np.any(np.asarray(b["w"]) & ~np.asarray(a["w"]))
    np.testing.assert_allclose([float(x) for x in layer_sparsities(second)],
                               [n_pruned(0.8, int(np.prod(s))) / np.prod(s) for s in SHAPES])


def test_random_masks_like_keeps_layer_counts():
    params = _params(4)
    masks = magnitude_masks(params, 0.8, "global")
    shuffled = random_masks_like(jax.random.key(5), masks)
    for m, r in zip(masks, shuffled):
        assert np.asarray(m["w"]).sum() == np.asarray(r["w"]).sum()
        assert not np.array_equal(np.asarray(m["w"]), np.asarray(r["w"]))


def test_masks_vmap_over_seeds():
    params = jax.tree.map(lambda *xs: jnp.stack(xs), *[_params(i) for i in range(3)])
    masks = jax.jit(jax.vmap(lambda p: _magnitude_masks(p, 0.9, "global")))(params)
    for i in range(3):
        one = magnitude_masks(jax.tree.map(lambda x: x[i], params), 0.9, "global")
        for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(masks)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[i])


def test_sparsity_out_of_range_is_refused():
    with pytest.raises(ValueError):
        _magnitude_masks(_params(0), 1.2)


@pytest.mark.parametrize("s", [0.3, 0.9])
def test_global_dense_classifier_leaves_the_last_layer_dense(s):
    """Liu et al.'s weight-level protocol: one threshold over every weight matrix but the last."""
    params = _params(3)
    masks = magnitude_masks(params, s, "global-dense-classifier")
    assert np.all(np.asarray(masks[-1]["w"]))
    hidden = np.concatenate([np.abs(np.asarray(layer["w"])).ravel() for layer in params[:-1]])
    threshold = np.sort(hidden)[n_pruned(s, hidden.size)]
    for layer, m in zip(params[:-1], masks[:-1]):
        np.testing.assert_array_equal(np.asarray(m["w"]), np.abs(np.asarray(layer["w"])) >= threshold)
    # The control: plain global pruning does prune the last layer at this sparsity.
    assert not np.all(np.asarray(magnitude_masks(params, s, "global")[-1]["w"]))


def test_layerwise_masks_prune_each_layer_to_its_own_rate():
    """Frankle & Carbin: the output layer at half the others' rate."""
    params = _params(4)
    rates = [0.2, 0.2, 0.1]
    masks = magnitude_masks(params, tuple(rates), "layer")
    for layer, m, rate in zip(params, masks, rates):
        w, mw = np.asarray(layer["w"]), np.asarray(m["w"])
        assert (~mw).sum() == n_pruned(rate, w.size)
        assert np.abs(w[mw]).min() >= np.abs(w[~mw]).max()
    with pytest.raises(ValueError, match="sparsities"):
        _magnitude_masks(params, [0.2, 0.2])
    with pytest.raises(ValueError, match="sparsities"):
        _magnitude_masks(params, [0.2, 0.2, 0.1], "global")


@pytest.mark.parametrize("scope", ["layer", "global", "global-dense-classifier"])
def test_traced_counts_give_the_static_masks_from_one_program(scope):
    """Iterative pruning's rounds: the counts are inputs of one compiled program."""
    params = _params(5)
    of_counts = jax.jit(lambda p, counts: magnitude_masks_of_counts(p, counts, scope))
    for s in (0.3, 0.75):
        counts = np.array(pruned_counts(params, s, scope))
        assert len(counts) == (3 if scope == "layer" else 1)
        want = magnitude_masks(params, s, scope)
        got = of_counts(params, counts)
        for a, b in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert of_counts._cache_size() == 1

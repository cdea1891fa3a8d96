"""The optax wrapper keeps pruned weights exactly zero under SGD+momentum and AdamW."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from research.pruning.masked import apply_masks, masked, set_masks
from research.pruning.masks import magnitude_masks


def _params(seed):
    """numpy draws (eager jax.random ops each compile: slow on a shared CPU)."""
    rng = np.random.default_rng(seed)
    f32 = lambda *shape: jnp.asarray(rng.normal(size=shape), jnp.float32)  # noqa: E731
    return {"layers": [{"w": f32(6, 5), "b": f32(5)}, {"w": f32(5, 3), "b": jnp.zeros(3)}]}


X = jnp.asarray(np.random.default_rng(7).normal(size=(8, 6)), jnp.float32)
masks_at = jax.jit(magnitude_masks, static_argnums=1)


def _steps(inner, params, state, count, masks=None):
    """`count` jitted steps of `inner` on _loss; with `masks`, gradients and params are
    masked by hand (the control: no -w update)."""

    @jax.jit
    def step(p, s):
        g = jax.grad(_loss)(p, X)
        g = g if masks is None else apply_masks(g, masks)
        u, s = inner.update(g, s, p)
        p = optax.apply_updates(p, u)
        return p, s

    for _ in range(count):
        params, state = step(params, state)
    return params, state


def _loss(params, x):
    """A loss whose gradient is non-zero at every weight (so pruned entries are pushed)."""
    h = jnp.tanh(x @ params["layers"][0]["w"] + params["layers"][0]["b"])
    out = h @ params["layers"][1]["w"] + params["layers"][1]["b"]
    return jnp.sum((out - 1.0) ** 2)


def _train(tx, params, masks, steps, warmup=5):
    """`warmup` dense steps (moments fill up), then set the masks and keep training."""
    params, state = _steps(tx, params, tx.init(params), warmup)
    state = set_masks(state, masks)  # params deliberately not zeroed: the first step must do it
    return _steps(tx, params, state, steps)


@pytest.mark.parametrize(
    "inner",
    [optax.adamw(1e-2, weight_decay=0.1), optax.sgd(1e-2, momentum=0.9), optax.adam(1e-2)],
    ids=["adamw", "sgd_momentum", "adam"],
)
def test_pruned_weights_exactly_zero_and_kept_weights_train(inner):
    params = _params(0)
    masks = masks_at(params, 0.6)
    trained, state = _train(masked(inner), params, masks, steps=20)
    for p, m, p0 in zip(jax.tree.leaves(trained), jax.tree.leaves(masks), jax.tree.leaves(params)):
        assert np.all(np.asarray(p)[~np.asarray(m)] == 0.0)
        assert np.all(np.asarray(p)[np.asarray(m)] != np.asarray(p0)[np.asarray(m)])
    assert jax.tree.all(jax.tree.map(jnp.array_equal, state.masks, masks))


def test_gradient_mask_alone_lets_adamw_and_momentum_move_pruned_weights():
    """The control: masking gradients only (no -w update) leaves pruned weights non-zero."""
    params = _params(0)
    masks = masks_at(params, 0.6)
    for inner in (optax.adamw(1e-2, weight_decay=0.1), optax.sgd(1e-2, momentum=0.9)):
        p, state = _steps(inner, params, inner.init(params), 5)  # dense warm-up fills the moments
        p, _ = _steps(inner, apply_masks(p, masks), state, 5, masks=masks)
        w, m = np.asarray(p["layers"][0]["w"]), np.asarray(masks["layers"][0]["w"])
        assert np.any(w[~m] != 0.0)


def test_sgd_momentum_kept_weights_match_hand_recursion():
    """Kept entries follow v <- g + mu v, w <- w - lr v on the masked gradients (numpy)."""
    lr, mu = 0.05, 0.9
    params = _params(1)
    masks = masks_at(params, 0.5)
    params = apply_masks(params, masks)
    tx = masked(optax.sgd(lr, momentum=mu))
    state = set_masks(tx.init(params), masks)
    grad = jax.jit(jax.grad(_loss))
    ref = jax.tree.map(np.asarray, params)
    vel = jax.tree.map(np.zeros_like, ref)
    m_np = jax.tree.map(np.asarray, masks)
    for _ in range(6):
        g = jax.tree.map(np.asarray, grad(jax.tree.map(jnp.asarray, ref), X))
        vel = jax.tree.map(lambda v, gi, m: np.where(m, gi, 0.0) + mu * v, vel, g, m_np)
        ref = jax.tree.map(lambda w, v, m: np.where(m, w - lr * v, 0.0), ref, vel, m_np)
    p, _ = _steps(tx, params, state, 6)
    for got, want in zip(jax.tree.leaves(p), jax.tree.leaves(ref)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)


def test_masks_vmap_over_seeds_inside_scan():
    """Per-seed masks live in a vmapped optimizer state; a scanned loop keeps them exact."""
    tx = masked(optax.adamw(1e-2, weight_decay=0.5))
    params = jax.tree.map(lambda *xs: jnp.stack(xs), *[_params(s) for s in range(4)])

    def run(params):
        masks = magnitude_masks(params, 0.75)
        state = set_masks(tx.init(params), masks)

        def body(carry, _):
            p, s = carry
            u, s = tx.update(jax.grad(_loss)(p, X), s, p)
            return (optax.apply_updates(p, u), s), None

        return jax.lax.scan(body, (params, state), length=10)[0][0], masks

    p, masks = jax.jit(jax.vmap(run))(params)
    w, m = np.asarray(p["layers"][0]["w"]), np.asarray(masks["layers"][0]["w"])
    assert w.shape == (4, 6, 5)
    assert np.all(w[~m] == 0.0) and np.all(w[m] != 0.0)
    # Masks differ across seeds (they come from each seed's own weights).
    assert not np.array_equal(m[0], m[1])


def test_update_without_params_is_refused():
    tx = masked(optax.sgd(0.1))
    params = _params(0)
    with pytest.raises(ValueError):
        tx.update(params, tx.init(params))

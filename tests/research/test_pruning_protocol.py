"""Per-run step-decay schedules in the optimizer state, and starting runs from given states."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from research.pruning import masked, set_masks
from research.pruning_protocol import pick_run, scale_by_step_decay, set_schedule, step_decay_lr


def test_step_decay_values():
    counts = jnp.arange(12)
    lr = step_decay_lr(counts, jnp.float32(0.1), jnp.int32(10), jnp.array(True))
    want = [0.1] * 5 + [0.01] * 2 + [0.001] * 3 + [0.0] * 2  # milestones at steps 5 and 7
    np.testing.assert_allclose(np.asarray(lr), want, rtol=1e-6)
    flat = step_decay_lr(counts, jnp.float32(1e-3), jnp.int32(4), jnp.array(False))
    np.testing.assert_allclose(np.asarray(flat), [1e-3] * 4 + [0.0] * 8, rtol=1e-6)


def test_runs_with_different_budgets_in_one_vmapped_program():
    """Plain SGD: w_T = w_0 - sum_t lr_t * g with a constant gradient g = 1."""
    tx = masked(optax.chain(optax.identity(), scale_by_step_decay()))
    params = jnp.zeros((3, 2))
    budgets = jnp.array([4, 8, 2])
    state = jax.vmap(lambda p, b: set_schedule(tx.init(p), 1.0, b, False))(params, budgets)

    def run(p, s):
        def body(carry, _):
            p, s = carry
            u, s = tx.update(jnp.ones_like(p), s, p)
            return (optax.apply_updates(p, u), s), None
        return jax.lax.scan(body, (p, s), length=10)[0][0]

    out = jax.jit(jax.vmap(run))(params, state)
    np.testing.assert_allclose(np.asarray(out), -np.asarray(budgets)[:, None] * np.ones((3, 2)))


def test_schedule_and_masks_compose():
    tx = masked(optax.chain(optax.scale_by_adam(), scale_by_step_decay()))
    p = jnp.ones((4,))
    state = set_masks(set_schedule(tx.init(p), 0.1, 5), jnp.array([True, False, True, False]))
    for _ in range(3):
        u, state = tx.update(jnp.ones(4), state, p)
        p = optax.apply_updates(p, u)
    assert np.all(np.asarray(p)[[1, 3]] == 0.0) and np.all(np.asarray(p)[[0, 2]] < 1.0)


def test_pick_run_finds_each_runs_row():
    keys = jax.random.split(jax.random.key(0), 5)
    stacked = {"w": jnp.arange(5.0)[:, None] * jnp.ones((5, 3))}
    picked = jax.jit(jax.vmap(lambda k: pick_run(keys, k, stacked)))(keys[::-1])
    np.testing.assert_array_equal(np.asarray(picked["w"][:, 0]), [4, 3, 2, 1, 0])

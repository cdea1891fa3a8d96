"""Per-run step-decay schedules in the optimizer state, and starting runs from given states."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from research.pruning.masked import masked, set_masks
from common.models import MLP
from common.train import EpochBatches, Loop, fit, supervised_step
from research.pruning.protocol import (continue_init, continued_members, initial_states, protocol_optimizer, run_init,
                                      run_members, scale_by_step_decay, set_schedule, step_decay_lr)


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


def test_each_run_starts_from_its_own_params_and_mask():
    """Runs as members, one key each: a run with budget 0 keeps its masked start exactly;
    a run with a budget moves, its pruned weights staying at zero; a continued run is its state."""
    model = MLP((4,), 2)
    x, y = np.ones((8, 3), np.float32), np.array([0, 1] * 4, np.int32)
    keys = jax.random.split(jax.random.key(0), 2)
    start = jax.vmap(lambda k: model.init_variables(k, x[:1])[0])(keys)
    masks = jax.tree.map(lambda a: jax.random.bernoulli(jax.random.key(1), 0.5, a.shape), start)
    optimizer = protocol_optimizer("sgd")
    members = run_members(start, masks, [0.1, 0.1], [0, 5], [False, False])
    loop = Loop(steps=5, chunk=5)
    out = fit("runs", init=run_init(optimizer), step=supervised_step(model, optimizer),
              sample_batch=EpochBatches(4), data=(x, y), loop=loop, keys=keys[:, None], members=members)
    w = np.asarray(out.state.params["layers"][0]["w"])
    want = np.asarray(start["layers"][0]["w"] * masks["layers"][0]["w"])
    np.testing.assert_array_equal(w[0], want[0])
    assert not np.allclose(w[1], want[1])
    np.testing.assert_array_equal(w[1][~np.asarray(masks["layers"][0]["w"][1])], 0.0)
    np.testing.assert_array_equal(np.asarray(initial_states(run_init(optimizer), keys, members).params["layers"][0]["w"]),
                                  want)
    again = fit("continued", init=continue_init, step=supervised_step(model, optimizer),
                sample_batch=EpochBatches(4), data=(x, y), loop=Loop(steps=1, chunk=1), keys=keys[:, None],
                members=continued_members(out.state))
    assert np.asarray(again.state.step).tolist() == [6, 6]

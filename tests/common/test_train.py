"""The trainer: learning, determinism, seeds, minibatch order, divergence."""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from common.models import MLP
from common.train import (
    EpochBatches, Loop, apply_gradients, classifier_evaluation, fit, new_state, seed_keys, supervised_step,
)


def blobs(n=256, classes=3, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, dim))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(0, 1, (n, dim))
    return x.astype(np.float32), y.astype(np.int32)


class SmallClassifier(NamedTuple):
    x: np.ndarray
    y: np.ndarray
    optimizer: optax.GradientTransformation
    model: MLP
    init: Callable


def small_classifier() -> SmallClassifier:
    """Blobs, SGD 0.05 and a one-hidden-layer MLP with its init(key): the divergence tests' setup."""
    x, y = blobs()
    optimizer = optax.sgd(0.05)
    model = MLP((8,), 3)

    def init(key):
        params, state = model.init_variables(key, x[:1])
        return new_state(params, optimizer.init(params), key, state)

    return SmallClassifier(x, y, optimizer, model, init)


def train(steps=60, seeds=3, chunk=20, lr=0.05, model=None):
    x, y = blobs()
    model = model or MLP((16,), 3)
    optimizer = optax.sgd(lr)

    def init(key):
        params, state = model.init_variables(key, x[:1])
        return new_state(params, optimizer.init(params), key, state)

    return fit("blobs", init=init, step=supervised_step(model, optimizer), sample_batch=EpochBatches(32),
               data=(x, y), loop=Loop(steps=steps, chunk=chunk, eval_every=chunk), keys=seed_keys(0, seeds),
               evaluate=classifier_evaluation(model, batch_size=100), eval_data=(x, y))


def test_training_reduces_loss_and_logs_norms():
    out = train()
    loss = out.curve("train/loss")
    assert loss.shape == (3, 3)
    assert np.all(loss[-1] < 0.5 * loss[0])
    assert np.all(out.curve("eval/accuracy")[-1] > 0.9)
    for name in ("train/grad_norm", "train/param_norm", "train/update_norm"):
        assert np.all(np.isfinite(out.curve(name))) and np.all(out.curve(name) > 0)
    assert np.all(out.diverged_at == -1)


def test_same_keys_same_numbers_and_seeds_differ():
    a, b = train(steps=40), train(steps=40)
    np.testing.assert_array_equal(a.curve("train/loss"), b.curve("train/loss"))
    assert len(set(a.curve("train/loss")[-1].round(7))) == 3


def test_seed_key_does_not_depend_on_the_number_of_seeds():
    few, many = seed_keys(7, 2), seed_keys(7, 5)
    np.testing.assert_array_equal(jax.random.key_data(few), jax.random.key_data(many[:2]))


def test_chunk_size_does_not_change_the_result():
    a, b = train(steps=60, chunk=20), train(steps=60, chunk=30)
    np.testing.assert_allclose(
        jax.tree.leaves(a.state.params)[0], jax.tree.leaves(b.state.params)[0], rtol=1e-6, atol=1e-7)


def test_epoch_batches_visit_every_example_once_per_epoch():
    sampler = EpochBatches(10)
    index = np.asarray(sampler.plan(jax.random.key(3), 0, 12, 50))  # 5 steps per epoch
    assert sorted(index[:5].ravel()) == list(range(50))
    assert sorted(index[5:10].ravel()) == list(range(50))
    assert not np.array_equal(index[:5], index[5:10])
    # The plan of a later chunk agrees with the per-step batches.
    later = np.asarray(sampler.plan(jax.random.key(3), 7, 4, 50))
    np.testing.assert_array_equal(later, index[7:11])
    data = jnp.arange(50)
    np.testing.assert_array_equal(sampler(data, jax.random.key(3), 8), index[8])


def test_a_diverging_seed_stops_while_the_others_go_on():
    x, y, optimizer, model, init = small_classifier()

    def step(state, batch):
        # Seed 1 (identified by its key) gets a NaN loss from step 13 on.
        state, metrics = supervised_step(model, optimizer)(state, batch)
        poisoned = (jax.random.key_data(state.key)[-1] == jax.random.key_data(seed_keys(0, 3)[1])[-1]) & (
            state.step >= 13)
        return state, {**metrics, "loss": jnp.where(poisoned, jnp.nan, metrics["loss"])}

    out = fit("nan", init=init, step=step, sample_batch=EpochBatches(32), data=(x, y),
              loop=Loop(steps=40, chunk=10), keys=seed_keys(0, 3))
    np.testing.assert_array_equal(out.diverged_at, [-1, 13, -1])
    loss = out.curve("train/loss")
    assert np.all(np.isfinite(loss[:, [0, 2]]))
    assert np.isfinite(loss[1, 1]) and np.all(np.isnan(loss[2:, 1]))  # chunk 2 still had 3 good steps
    # The dead seed's parameters are frozen at their last finite values.
    assert np.all(np.isfinite(np.asarray(out.state.params["layers"][0]["w"][1])))


def test_apply_gradients_norms():
    optimizer = optax.sgd(0.5)
    params = {"w": jnp.array([3.0, 4.0])}
    state = new_state(params, optimizer.init(params), jax.random.key(0))
    new, norms = apply_gradients(state, {"w": jnp.array([0.0, 2.0])}, optimizer)
    np.testing.assert_allclose(new.params["w"], [3.0, 3.0])
    assert float(norms["grad_norm"]) == pytest.approx(2.0)
    assert float(norms["update_norm"]) == pytest.approx(1.0)
    assert float(norms["param_norm"]) == pytest.approx(np.hypot(3, 3))


def test_loop_rejects_bad_values():
    with pytest.raises(ValueError):
        Loop(steps=0)
    with pytest.raises(ValueError):
        Loop(steps=100, chunk=30, eval_every=40)


def test_batchnorm_normalizes_in_training_and_tracks_statistics():
    model = MLP((6,), 2, batchnorm=True)
    x = jax.random.normal(jax.random.key(0), (512, 4)) * 3 + 1
    params, state = model.init_variables(jax.random.key(1), x)
    h = x @ params["layers"][0]["w"] + params["layers"][0]["b"]
    _, new = model.apply(params, state, x, train=True)
    np.testing.assert_allclose(new["bn"][0]["mean"], 0.1 * h.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(new["bn"][0]["var"], 0.9 + 0.1 * h.var(0), rtol=1e-4)
    # Test mode uses the running statistics: identical output for any batch split.
    full, _ = model.apply(params, new, x, train=False)
    half, _ = model.apply(params, new, x[:7], train=False)
    np.testing.assert_allclose(full[:7], half, rtol=1e-5, atol=1e-6)


def test_a_weakly_typed_init_compiles_the_chunk_once():
    """`jnp.full(shape, 0.5)` in an init is weakly typed; a chunk returns it strong. Unsettled,
    every chunk that changes an input's type compiles again (two programs here, three for
    Bayes by Backprop); settled up front, one, and the numbers are the same."""
    from common.train import compile_chunk, settle_weak_types

    x, y = blobs()
    model = MLP((16,), 3)
    optimizer = optax.adam(0.01)

    def init(key):
        params, state = model.init_variables(key, x[:1])
        params["layers"][0]["b"] = jnp.full((16,), 0.5)  # weak
        return new_state(params, optimizer.init(params), key, state)

    step, sampler = supervised_step(model, optimizer), EpochBatches(32)
    out = fit("weak", init=init, step=step, sample_batch=sampler, data=(x, y),
              loop=Loop(steps=60, chunk=20), keys=seed_keys(0, 2))
    assert compile_chunk(step, sampler, 20, None).scan._cache_size() == 1

    from common.train import init_states
    states = init_states(init, seed_keys(0, 2), "seeds")
    assert states.params["layers"][0]["b"].weak_type
    settled = settle_weak_types(compile_chunk(step, sampler, 20, None), states, (x, y))
    assert not settled.params["layers"][0]["b"].weak_type
    unsettled_chunk = compile_chunk(supervised_step(model, optimizer), sampler, 20, None)  # a fresh jit
    unsettled = init_states(init, seed_keys(0, 2), "seeds")
    for _ in range(3):
        unsettled, _ = unsettled_chunk(unsettled, (x, y))
    assert unsettled_chunk.scan._cache_size() >= 2  # what settling saves
    for a, b in zip(jax.tree.leaves(unsettled.params), jax.tree.leaves(out.state.params)):
        np.testing.assert_array_equal(a, b)


def test_a_non_finite_metric_other_than_the_loss_stops_the_run_at_that_step():
    """The guard keeps or drops the update from the loss and gradient norm (so its selects
    fuse into the update); a later metric going non-finite still stops the run there."""
    x, y, optimizer, model, init = small_classifier()

    def step(state, batch):
        state, metrics = supervised_step(model, optimizer)(state, batch)
        return state, {**metrics, "param_norm": jnp.where(state.step >= 7, jnp.inf, metrics["param_norm"])}

    out = fit("late", init=init, step=step, sample_batch=EpochBatches(32), data=(x, y),
              loop=Loop(steps=20, chunk=10), keys=seed_keys(0, 2))
    np.testing.assert_array_equal(out.diverged_at, [7, 7])
    assert np.all(np.isnan(out.curve("train/loss")[1])) and np.all(np.asarray(out.state.step) == 20)


def test_observe_runs_on_the_host_at_the_evaluation_points_and_is_recorded():
    setup = small_classifier()
    seen = []

    def observe(states, eval_data):
        seen.append(int(states.step[0]))
        w = np.asarray(states.params["layers"][0]["w"])  # a host-side computation on every run's state
        return {"first_weight": w[:, 0, 0], "evaluated_on": np.full(w.shape[0], eval_data)}

    out = fit("observed", init=setup.init, step=supervised_step(setup.model, setup.optimizer),
              sample_batch=EpochBatches(32), data=(setup.x, setup.y), loop=Loop(steps=60, chunk=20, eval_every=40),
              keys=seed_keys(0, 3), observe=observe, eval_data=7.0)
    assert seen == [40, 60] and out.history["eval_step"] == [40, 60]
    np.testing.assert_array_equal(out.curve("eval/first_weight")[-1], out.state.params["layers"][0]["w"][:, 0, 0])
    np.testing.assert_array_equal(out.curve("eval/evaluated_on"), np.full((2, 3), 7.0))

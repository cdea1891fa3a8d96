"""Sweeps: members beside seeds in one program, the same numbers as one fit per
member, each member stopped alone, labelled, and resumed where it would end."""

import json
import shutil

import jax
import numpy as np
import optax
import pytest

from common.members import Members, learning_rate_sweep, with_hyperparams
from common.models import MLP
from common.runs import Session
from common.train import EpochBatches, Loop, classifier_evaluation, fit, new_state, seed_keys, supervised_step
from tests.common.test_train import blobs

MODEL = MLP((8,), 3)
X, Y = blobs()


def sweep_fit(rates, seeds=2, steps=40, chunk=10, session=None, name="sweep", checkpoint_every=None):
    sweep = learning_rate_sweep(optax.sgd, rates, momentum=0.5)

    def init(key, member):
        params, model_state = MODEL.init_variables(key, X[:1])
        return new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)

    return fit(name, init=init, step=supervised_step(MODEL, sweep.optimizer), sample_batch=EpochBatches(32),
               data=(X, Y), loop=Loop(steps=steps, chunk=chunk, eval_every=chunk, checkpoint_every=checkpoint_every),
               keys=seed_keys(0, seeds), members=sweep.members, evaluate=classifier_evaluation(MODEL, 100),
               eval_data=(X, Y), session=session)


def test_a_sweep_in_one_program_equals_one_fit_per_member():
    rates = [0.01, 0.05, 0.2]
    together = sweep_fit(rates)
    assert together.grid("train/loss").shape == (4, 3, 2)
    for m, rate in enumerate(rates):
        alone = sweep_fit([rate])
        np.testing.assert_allclose(together.grid("train/loss")[:, m], alone.grid("train/loss")[:, 0],
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(together.grid("eval/accuracy")[:, m], alone.grid("eval/accuracy")[:, 0])
    # the members differ, and a larger rate learns faster here
    final = together.grid("train/loss")[-1].mean(axis=1)
    assert final[0] > final[1] > final[2]


def test_the_traced_learning_rate_matches_a_fixed_one():
    swept = sweep_fit([0.05], seeds=1)
    optimizer = optax.sgd(0.05, momentum=0.5)

    def init(key):
        params, model_state = MODEL.init_variables(key, X[:1])
        return new_state(params, optimizer.init(params), key, model_state)

    plain = fit("plain", init=init, step=supervised_step(MODEL, optimizer), sample_batch=EpochBatches(32),
                data=(X, Y), loop=Loop(steps=40, chunk=10), keys=seed_keys(0, 1))
    np.testing.assert_allclose(swept.curve("train/loss"), plain.curve("train/loss"), rtol=1e-5)


def test_a_diverging_member_stops_alone():
    out = sweep_fit([0.05, 1e4], seeds=3)
    diverged = out.diverged_at.reshape(out.shape)
    assert np.all(diverged[0] == -1) and np.all(diverged[1] >= 0)
    loss = out.grid("train/loss")
    assert np.all(np.isfinite(loss[:, 0])) and np.all(np.isnan(loss[-1, 1]))
    assert np.all(np.isfinite(np.asarray(out.state.params["layers"][0]["w"])))  # frozen at finite values


def test_members_are_labelled_in_the_result_the_history_and_metrics_jsonl(tmp_path):
    out = sweep_fit([0.01, 0.1], seeds=2, session=Session(tmp_path))
    expected = [{"member": m, "seed": s, "learning_rate": r}
                for m, r in enumerate([0.01, 0.1]) for s in range(2)]
    assert out.members == out.history["members"] == expected
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and all(line["members"] == expected for line in lines)
    assert all(len(line["train/loss"]) == 4 for line in lines)


def test_a_resumed_sweep_ends_where_an_uninterrupted_one_ends(tmp_path):
    plain = sweep_fit([0.01, 0.1], session=Session(tmp_path / "a"), checkpoint_every=10)
    sweep_fit([0.01, 0.1], session=Session(tmp_path / "b"), checkpoint_every=10)
    # Forget the last checkpoint, as if killed after step 30: the resume redoes the last chunk.
    shutil.rmtree(tmp_path / "b" / "checkpoints" / "sweep" / "40")
    resumed = sweep_fit([0.01, 0.1], session=Session(tmp_path / "b", resume=True), checkpoint_every=10)
    for a, b in zip(jax.tree.leaves(plain.state.params), jax.tree.leaves(resumed.state.params)):
        np.testing.assert_array_equal(a, b)
    assert plain.history == resumed.history
    assert (tmp_path / "a" / "metrics.jsonl").read_text() == (tmp_path / "b" / "metrics.jsonl").read_text()


@pytest.mark.parametrize("grid, message", [
    ({"learning_rate": []}, "at least one value"),
    ({"learning_rate": [0.1, -0.01]}, "must be positive"),
    ({"learning_rate": [float("inf")]}, "not finite"),
    ({"weight_decay": [float("nan")]}, "not finite"),
    ({}, "at least one value"),
])
def test_impossible_grid_values_are_one_line_errors(grid, message):
    with pytest.raises(ValueError, match=message) as error:
        Members.grid(**grid)
    assert "\n" not in str(error.value)


def test_grid_crosses_every_value_and_per_seed_inputs_are_checked():
    members = Members.grid(learning_rate=[0.1, 0.2], weight_decay=[0.0, 1e-4, 1e-3])
    assert members.count == 6 and members.labels[1] == {"learning_rate": 0.1, "weight_decay": 1e-4}
    with pytest.raises(ValueError, match="leading axes"):
        Members({"w": np.zeros((3, 2))}, labels=({}, {}))
    with pytest.raises(ValueError, match="seeds on its second axis"):
        Members({"w": np.zeros((2, 3))}, labels=({}, {}), per_seed=True).for_runs(4)


def test_a_batched_point_gets_its_own_part_and_a_name_fitted_twice_is_two_fits(tmp_path):
    """common.sweep_batch: point 1 of a batch of two rates gets the runs its own fit would train; a
    second fit of the same name (here longer) is trained anew, not read from the first."""
    from common.sweep_batch import Batch, Slot

    batch = Batch(("learning_rate",), ({"learning_rate": 0.01}, {"learning_rate": 0.1}), tmp_path / "batch")
    (tmp_path / "point").mkdir()  # the run folder, as runs.execute makes it
    session = Session(tmp_path / "point")
    session.slot = Slot(batch, 1, tmp_path)
    short, long = sweep_fit([0.1], steps=20, session=session), sweep_fit([0.1], steps=40, session=session)
    for part, steps in ((short, 20), (long, 40)):
        alone = sweep_fit([0.1], steps=steps)
        np.testing.assert_allclose(part.curve("train/loss"), alone.curve("train/loss"), rtol=1e-6, atol=1e-7)
        assert part.members == alone.members and part.shape == alone.shape
    assert sorted(batch.fits) == ["sweep", "sweep.2"]
    assert sorted(p.name for p in (tmp_path / "batch" / "checkpoints").iterdir()) == ["sweep", "sweep.2"]
    # a fit whose member is not this point's value trains alone
    assert not session.slot.covers(learning_rate_sweep(optax.sgd, [0.01]).members, seed_keys(0, 2))

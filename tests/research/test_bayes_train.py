"""Bayes by Backprop on the trainer: a KL scale or minibatch KL weights swept as a member input are
the ones the loss uses."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common.members import Members
from common.train import Loop, epoch_batches, fit, seed_keys
from research.bayes import bbb as bayes
from research.bayes import train as bayes_train

SIZES = (5, 8, 3)
BATCH, EXAMPLES = 16, 64


def _data():
    x = jax.random.normal(jax.random.key(3), (EXAMPLES, SIZES[0]))
    return x, (jnp.arange(EXAMPLES) % SIZES[-1]).astype(jnp.int32)


def _fit(kl_scale, members=None, kl_schedule="uniform"):
    optimizer = optax.adam(1e-2)
    step = bayes_train.elbo_step(optimizer, num_batches=EXAMPLES // BATCH, prior=bayes.GaussianPrior(1.0),
                                 mode="local", kl_estimator="closed_form", kl_scale=kl_scale, kl_schedule=kl_schedule)
    return fit("bbb", init=bayes_train.init_fn(SIZES, optimizer, 0.05), step=step, sample_batch=epoch_batches(BATCH),
               data=_data(), loop=Loop(steps=20, chunk=10), keys=seed_keys(0, 2), members=members)


def test_a_swept_kl_scale_matches_a_fit_with_that_scale_as_a_python_float():
    """Members (KL scale 0.1 and 1) x 2 seeds in one program against a separate fit whose step holds
    0.1 as a Python float: the same seeds give the same parameters and losses; the two members
    differ (the scale is used, not dropped)."""
    swept = _fit("kl_scale", Members.grid(kl_scale=[0.1, 1.0]))
    assert swept.shape == (2, 2)
    flat = jax.tree.map(lambda leaf: np.asarray(leaf).reshape(2, 2, *leaf.shape[1:]), swept.state.params)
    loss = swept.grid("train/loss")
    single = _fit(0.1)
    for got, want in zip(jax.tree.leaves(flat), jax.tree.leaves(single.state.params)):
        np.testing.assert_allclose(got[0], np.asarray(want), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(loss[:, 0], single.curve("train/loss"), rtol=1e-4)
    # The KL term is most of the loss here (about 450 weights for 64 examples): scale 1 is far above 0.1.
    assert np.all(loss[-1, 1] > loss[-1, 0] + 1.0)


def test_a_swept_kl_schedule_matches_fits_with_each_schedule_by_name():
    """Members (uniform, Blundell) x 2 seeds in one program: each member's losses are those of the fit
    that names its schedule."""
    members = Members({"schedule": jnp.arange(2, dtype=jnp.int32)}, ({"schedule": "uniform"}, {"schedule": "blundell"}))
    swept = _fit(1.0, members, kl_schedule="schedule").grid("train/loss")
    for index, name in enumerate(bayes_train.KL_SCHEDULES):
        np.testing.assert_allclose(swept[:, index], _fit(1.0, kl_schedule=name).curve("train/loss"), rtol=1e-4)
    assert not np.allclose(swept[:, 0], swept[:, 1])

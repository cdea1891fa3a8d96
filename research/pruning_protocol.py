"""Training-protocol pieces that let many pruning runs share one compiled program.

Liu et al. (2019, Sec. 4) train the large model and Scratch-E/B with a step
schedule (lr x 0.1 at 50% and 75% of the run) and fine-tune at the final,
constant learning rate. Scratch-B differs from Scratch-E only in its budget.
To run fine-tuning, Scratch-E and Scratch-B of one architecture (and every seed)
as one vmapped program, each run carries its own schedule in the optimizer
state: `scale_by_step_decay` reads (peak lr, total steps, decay on/off) from its
state, and a run whose budget is spent gets lr = 0 (its weights stay frozen
while longer runs in the same program go on).

`pick_run` lets a trainer that builds every run's state from its key (vmapped
`init(key)`) start run i from given stacked arrays: the run finds its index by
matching its key against the list of keys.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

MILESTONES = (0.5, 0.75)  # fractions of the run where lr is divided by 10 (Liu et al. 2019)
DECAY = 0.1


class StepDecayState(NamedTuple):
    count: jax.Array  # steps taken by this run
    peak_lr: jax.Array  # lr before the first milestone
    total_steps: jax.Array  # the run's budget; lr = 0 from there on
    decays: jax.Array  # bool: step schedule (training) or constant (fine-tuning)


def step_decay_lr(count, peak_lr, total_steps, decays):
    """lr at step `count`: peak, x0.1 at 50% and x0.01 at 75% of `total_steps`, 0 after it."""
    factor = jnp.ones_like(peak_lr)
    for fraction in MILESTONES:
        passed = count >= jnp.floor(fraction * total_steps)
        factor = jnp.where(decays & passed, factor * DECAY, factor)
    return jnp.where(count < total_steps, peak_lr * factor, 0.0)


def scale_by_step_decay() -> optax.GradientTransformation:
    """Multiply updates by -lr(count) with the run's own schedule held in the state.

    The state starts as lr = 0, budget 0; set it per run with `set_schedule`.
    """

    def init_fn(params):
        del params
        return StepDecayState(count=jnp.zeros((), jnp.int32), peak_lr=jnp.zeros(()),
                              total_steps=jnp.zeros((), jnp.int32), decays=jnp.array(True))

    def update_fn(updates, state, params=None):
        del params
        lr = step_decay_lr(state.count, state.peak_lr, state.total_steps, state.decays)
        updates = jax.tree.map(lambda u: -lr.astype(u.dtype) * u, updates)
        return updates, state._replace(count=state.count + 1)

    return optax.GradientTransformation(init_fn, update_fn)


def set_schedule(opt_state, peak_lr, total_steps, decays=True):
    """Every StepDecayState inside `opt_state` reset to count 0 with this schedule."""

    def replace(s):
        if not isinstance(s, StepDecayState):
            return s
        return StepDecayState(count=jnp.zeros((), jnp.int32),
                              peak_lr=jnp.asarray(peak_lr, jnp.float32),
                              total_steps=jnp.asarray(total_steps, jnp.int32),
                              decays=jnp.asarray(decays, bool))

    return jax.tree.map(replace, opt_state, is_leaf=lambda s: isinstance(s, StepDecayState))


def pick_run(all_keys, key, stacked):
    """`stacked[i]` (a pytree with a leading run axis) for the run whose key is all_keys[i]."""
    match = jnp.all(jax.random.key_data(all_keys) == jax.random.key_data(key)[None], axis=-1)
    index = jnp.argmax(match)
    return jax.tree.map(lambda a: a[index], stacked)

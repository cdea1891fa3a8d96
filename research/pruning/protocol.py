"""Training-protocol pieces that let many pruning runs share one compiled program.

Liu et al. (2019, Sec. 4) train the large model and Scratch-E/B with a step
schedule (lr x 0.1 at 50% and 75% of the run) and fine-tune at the final,
constant learning rate. Scratch-B differs from Scratch-E only in its budget.
To run fine-tuning, Scratch-E and Scratch-B of one architecture (and every seed)
as one vmapped program, each run carries its own schedule in the optimizer
state: `scale_by_step_decay` reads (peak lr, total steps, decay on/off) from its
state, and a run whose budget is spent gets lr = 0 (its weights stay frozen
while longer runs in the same program go on).

`protocol_optimizer` is the masked optimizer with that schedule. Each run is a
sweep member of `common.train.fit` (`run_members`: its starting parameters,
masks and schedule as member inputs; `run_init`: the `init(key, member)` that
builds its state), so no run has to find its inputs by its key. A run that
continues another's state (late rewinding, mode connectivity) is a member
whose input is that state (`continued_members`, `continue_init`).
"""

import functools
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from common.members import Members
from common.train import new_state
from research.pruning.masked import apply_masks, masked, set_masks

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


def protocol_optimizer(kind: Literal["sgd", "adam"], weight_decay: float = 0.0,
                       momentum: float = 0.9) -> optax.GradientTransformation:
    """Masked SGD (momentum, L2 weight decay added to the gradient, as in Liu et al.'s
    PyTorch setup) or Adam, each scaled by the run's own step-decay schedule."""
    if kind == "sgd":
        inner = optax.chain(optax.add_decayed_weights(weight_decay), optax.trace(momentum),
                            scale_by_step_decay())
    elif kind == "adam":
        inner = optax.chain(optax.add_decayed_weights(weight_decay), optax.scale_by_adam(),
                            scale_by_step_decay())
    else:
        raise ValueError(f"unknown optimizer {kind!r}")
    return masked(inner)


def run_members(params, masks, peak_lr, total_steps, decays) -> Members:
    """Runs as sweep members: run i starts from `params[i]` masked by `masks[i]` with its
    own schedule (`peak_lr[i]`, `total_steps[i]`, `decays[i]`). Fit them with keys of
    shape (runs, 1): one seed each, the run's own key."""
    peak_lr = np.asarray(peak_lr, np.float32)
    inputs = {"params": params, "masks": masks, "peak_lr": peak_lr,  # host arrays: no compile
              "total_steps": np.asarray(total_steps, np.int32), "decays": np.asarray(decays, bool)}
    return Members(inputs, tuple({"run": i, "peak_lr": float(lr)} for i, lr in enumerate(peak_lr)))


@functools.cache
def run_init(optimizer):
    """`init(key, member)` for `run_members`: masked starting params, masks in the
    optimizer state, the run's own schedule. One function per optimizer, so a trainer
    that caches its init program by function reuses it."""

    def init(key, member):
        p = apply_masks(member["params"], member["masks"])
        opt_state = set_masks(optimizer.init(p), member["masks"])
        opt_state = set_schedule(opt_state, member["peak_lr"], member["total_steps"], member["decays"])
        return new_state(p, opt_state, key)

    return init


def continued_members(states) -> Members:
    """Runs that continue the given states (runs leading): params, moments, schedule, step.
    The arrays go in as host copies (keys stay as they are), which `fit` spreads over the
    seeds without compiling a program per array shape."""
    runs = jax.tree.leaves(states)[0].shape[0]
    host = jax.tree.map(lambda a: a if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key) else np.asarray(a), states)
    return Members({"state": host}, tuple({"run": i} for i in range(runs)))


def continue_init(key, member):
    """`init(key, member)` for `continued_members`: the state as it was."""
    return member["state"]


def initial_states(init, keys, members: Members):
    """The states `fit` would start the runs from (keys (runs,), one per member)."""
    return jax.jit(jax.vmap(init))(keys, members.inputs)

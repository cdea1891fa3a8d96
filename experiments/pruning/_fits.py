"""The pruning experiments' fits: runs (a start, its masks and its own step schedule,
research/pruning/protocol.py) crossed with the seeds as members of one compiled program."""

from dataclasses import dataclass
from typing import NamedTuple

import jax
import numpy as np

from common.members import Members
from common.train import Loop, classifier_evaluation, epoch_batches, fit, supervised_step
from research.pruning.protocol import run_init, run_members


class Run(NamedTuple):
    """One training run for every seed: start and masks (seeds leading) and schedule."""

    params: dict
    masks: dict
    lr: float
    steps: int
    decays: bool  # the step schedule (training) or a constant lr (fine-tuning)


@dataclass(frozen=True)
class Trainer:
    """What every fit of one architecture shares (one step and evaluation: one compiled program)."""

    step: object
    evaluate: object
    optimizer: object
    data: tuple  # (x, y) to train on
    eval_data: tuple  # what `evaluate` reads
    batch_size: int
    chunk: int
    session: object


def evaluation(model, names: tuple[str, ...]):
    """evaluate(state, data) -> {name: accuracy on data[i]} (e.g. validation and test)."""
    plain = classifier_evaluation(model)
    return lambda state, data: {name: plain(state, d)["accuracy"] for name, d in zip(names, data)}


def trainer(model, optimizer, data, eval_data: dict, batch_size: int, chunk: int, session) -> Trainer:
    """A Trainer that reports accuracy on each of `eval_data` ({metric name: (x, y)})."""
    return Trainer(supervised_step(model, optimizer), evaluation(model, tuple(eval_data)), optimizer, data,
                   tuple(eval_data.values()), batch_size, chunk, session)


def members_of(runs: list[Run], seeds: int) -> Members:
    """The runs as sweep members, run-major, each repeated over its seeds."""
    stack = lambda *xs: np.concatenate([np.asarray(x) for x in xs])
    return run_members(jax.tree.map(stack, *[r.params for r in runs]), jax.tree.map(stack, *[r.masks for r in runs]),
                       np.repeat([r.lr for r in runs], seeds), np.repeat([r.steps for r in runs], seeds),
                       np.repeat([r.decays for r in runs], seeds))


def fit_members(trainer: Trainer, name: str, members: Members, keys, steps: int, eval_every: int | None = None,
                init=None):
    """`common.train.fit` of the members, member i with key `keys[i]`; init: `run_init` unless given."""
    return fit(name, init=init or run_init(trainer.optimizer), step=trainer.step,
               sample_batch=epoch_batches(trainer.batch_size), data=trainer.data,
               loop=Loop(steps=steps, chunk=trainer.chunk, eval_every=eval_every), keys=keys[:, None],
               members=members, evaluate=trainer.evaluate, eval_data=trainer.eval_data, session=trainer.session)

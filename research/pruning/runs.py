"""Training runs of the pruning experiments as members of one compiled program: a start, its masks
and its own step schedule (research/pruning/protocol.py), crossed with the seeds."""

from typing import NamedTuple

import jax
import numpy as np

from common.members import Members
from common.train import classifier_evaluation
from research.pruning.protocol import run_members


class Run(NamedTuple):
    """One training run for every seed: start and masks (seeds leading) and schedule."""

    params: dict
    masks: dict
    lr: float
    steps: int
    decays: bool  # the step schedule (training) or a constant lr (fine-tuning)


def members_of(runs: list[Run], seeds: int) -> Members:
    """The runs as sweep members, run-major, each repeated over its seeds."""
    stack = lambda *xs: np.concatenate([np.asarray(x) for x in xs])
    return run_members(jax.tree.map(stack, *[r.params for r in runs]), jax.tree.map(stack, *[r.masks for r in runs]),
                       np.repeat([r.lr for r in runs], seeds), np.repeat([r.steps for r in runs], seeds),
                       np.repeat([r.decays for r in runs], seeds))


def evaluation(model, names: tuple[str, ...]):
    """evaluate(state, data) -> {name: accuracy on data[i]} (e.g. validation and test)."""
    plain = classifier_evaluation(model)
    return lambda state, data: {name: plain(state, d)["accuracy"] for name, d in zip(names, data)}

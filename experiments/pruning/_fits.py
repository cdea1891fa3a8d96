"""The pruning experiments' fits: runs (research/pruning/runs.py) crossed with the seeds as members of
one compiled program, one Trainer (one compiled step and evaluation) per architecture."""

from dataclasses import dataclass

from common.members import Members
from common.train import Loop, epoch_batches, fit, supervised_step
from research.pruning.protocol import run_init
from research.pruning.runs import evaluation


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


def trainers(optimizer, split, batch_size: int, chunk: int, session):
    """trainer_of(model): one Trainer per model object, made at its first use, training on the split's
    fit set and reporting accuracy on its validation and test sets."""
    made, eval_data = {}, {"val_accuracy": (split.x_val, split.y_val), "accuracy": (split.x_test, split.y_test)}

    def trainer_of(model) -> Trainer:
        if id(model) not in made:
            made[id(model)] = Trainer(supervised_step(model, optimizer), evaluation(model, tuple(eval_data)),
                                      optimizer, (split.x_fit, split.y_fit), tuple(eval_data.values()), batch_size,
                                      chunk, session)
        return made[id(model)]

    return trainer_of


def fit_members(trainer: Trainer, name: str, members: Members, keys, steps: int, eval_every: int | None = None,
                init=None):
    """`common.train.fit` of the members, member i with key `keys[i]`; init: `run_init` unless given."""
    return fit(name, init=init or run_init(trainer.optimizer), step=trainer.step,
               sample_batch=epoch_batches(trainer.batch_size), data=trainer.data,
               loop=Loop(steps=steps, chunk=trainer.chunk, eval_every=eval_every), keys=keys[:, None],
               members=members, evaluate=trainer.evaluate, eval_data=trainer.eval_data, session=trainer.session)

"""A worked example of an experiment (common/API.md): does an MLP beat logistic
regression on MNIST-1D when each gets its own learning rate, chosen on a
validation split? Greydanus (2020) reports 68% against 32%.

It uses the tuning stage (common/tuning.py: the split, a grid of learning rates
run as members of one compiled program, the choice on validation, an edge choice
widened and then reported), named records (common/records.py) and claims by
keyword. It is not registered with run.py; tests/test_example_experiment.py runs
it through `common.runs.execute` as run.py would.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import optax

from common import records, stats, tuning
from common.config import require_at_least_one, require_positive
from common.experiment import Claim, Control, Results, Undecided, above
from common.members import learning_rate_sweep, with_hyperparams
from common.models import MLP, Linear
from common.train import Loop, classifier_evaluation, epoch_batches, fit, new_state, seed_keys, supervised_step

NAME = "example-tuned-baselines"
STUDY = "foundation"
PAPER = "Greydanus 2020, Scaling down deep learning (MNIST-1D)"
REPRODUCES = "the MLP beats logistic regression on MNIST-1D (paper: 68% against 32%), each at its tuned lr"


@dataclass(frozen=True)
class Config:
    seeds: int = 3
    """Independent seeds, crossed with the learning rates in one compiled program."""
    steps: int = 1000
    """Adam steps per fit."""
    learning_rates: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    """The starting grid of each arm (widened past an edge choice, up to max_widenings)."""
    max_widenings: int = 2
    validation_fraction: float = 0.2
    batch_size: int = 100
    eval_every: int = 250
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "steps", "batch_size", "eval_every"))
        require_positive(self, ("validation_fraction",))


PRESETS = {"quick": Config(), "paper": Config(steps=6000, seeds=5)}


class Arm(NamedTuple):
    """What the tuning stage hands the claims: per-seed test accuracy at the choice, the choice, its edge."""

    test_accuracy: np.ndarray  # (seeds,)
    learning_rate: float
    step: int
    on_edge: bool


def both_splits(model):
    """Validation accuracy (the choice) and test accuracy (read only at the choice), at every evaluation."""
    score = classifier_evaluation(model)

    def evaluate(state, data):
        x_val, y_val, x_test, y_test = data
        return {"val_accuracy": score(state, (x_val, y_val))["accuracy"],
                "test_accuracy": score(state, (x_test, y_test))["accuracy"]}
    return evaluate


def scores_on(config: Config, split: tuning.Split, name: str, model, session):
    """An arm's Scores at the given learning rates: one fit, rates x seeds as members."""
    def scores(rates: tuple[float, ...]) -> tuning.Scores:
        sweep = learning_rate_sweep(optax.adam, rates)

        def init(key, member):
            params, model_state = model.init_variables(key, split.x_fit[:1])
            return new_state(params, with_hyperparams(sweep.optimizer.init(params), member), key, model_state)

        out = fit(f"{name}-{len(rates)}", init=init, step=supervised_step(model, sweep.optimizer),
                  sample_batch=epoch_batches(config.batch_size), data=(split.x_fit, split.y_fit),
                  loop=Loop(steps=config.steps, chunk=config.eval_every, eval_every=config.eval_every),
                  keys=seed_keys(config.seed, config.seeds), members=sweep.members, evaluate=both_splits(model),
                  eval_data=(split.x_val, split.y_val, split.x_test, split.y_test), session=session)
        as_grid = lambda metric: np.moveaxis(out.grid(metric), 0, 1)  # noqa: E731  (rates, points, seeds)
        return tuning.Scores(rates, out.history["eval_step"], as_grid("eval/val_accuracy"),
                             as_grid("eval/test_accuracy"))
    return scores


def run(config: Config, session) -> Results:
    data = session.dataset("mnist1d")
    split = tuning.split(data, config.validation_fraction, config.seed)
    results = Results()
    for name, model in {"logistic": Linear(data.num_classes),
                        "mlp": MLP((100, 100), data.num_classes, activation="relu", init="he")}.items():
        tuned = tuning.tune(scores_on(config, split, name, model, session), config.learning_rates,
                            max_widenings=config.max_widenings)
        records.put(results, name, Arm(tuned.test_at_choice(), tuned.value, tuned.step, tuned.edge is not None))
        results.tables[f"{name}: learning rates tried (budget {tuned.budget} steps per seed)"] = tuned.rows(name)
    return results


def figures(results: Results, directory) -> None:
    """No figure: the tables show the grids and the choices."""


def mlp_beats_logistic(results: Results) -> stats.Measurement:
    arms = {name: records.get(results, name, Arm) for name in ("mlp", "logistic")}
    for name, arm in arms.items():
        if arm.on_edge:
            raise Undecided(f"{name}'s learning rate {arm.learning_rate:g} is on the edge of its widened grid")
    return stats.beats(arms["mlp"].test_accuracy, arms["logistic"].test_accuracy, margin=0.2)


def arms(mlp: float, logistic: float, on_edge: bool = False) -> Results:
    """Synthetic tuned arms (the contract's cases): per-seed accuracies around the given means."""
    results, spread = Results(), np.array([-0.01, 0.0, 0.01])
    for name, value in (("mlp", mlp), ("logistic", logistic)):
        records.put(results, name, Arm(value + spread, 0.01, 1000, on_edge))
    return results


CLAIMS = [
    Claim(statement="the MLP beats logistic regression by more than 20 points of test accuracy, each at its "
                    "validation-chosen lr (paired over seeds, less the margin)",
          paper="0.68 - 0.32 = 0.36", measure=mlp_beats_logistic, region=above(0.0),
          control=Control(name="two equal models (A/A)", results=lambda: arms(0.5, 0.5)),
          passing=lambda: arms(0.68, 0.32), fmt="{:+.3f}"),
]

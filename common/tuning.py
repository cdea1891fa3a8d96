"""The tuning stage every experiment that tunes goes through: a `Split` of the
training data (fit / validation; the test set untouched until the choice is
made), a grid of per-member hyperparameters run as members of one compiled
program (`common.members.Members.grid`, crossed with the seeds by
`common.train.fit`), and `choose` / `tune`, which pick on the validation split
and return a named `Tuned` record: the grid, the scores, the choice, the budget,
and whether the choice sits on an edge of the grid.

A choice on the edge of its grid means the grid, not the method, decided it:
`tune` widens the grid one point beyond that edge (by the grid's own ratio), up to
`max_widenings` times, and a choice still on the edge is reported as such
(`Tuned.edge`); a claim that compares tuned arms reads `Tuned.require_interior()`,
which raises `Undecided`, so the comparison is inconclusive with that reason
(the fair-budget rule of MLCommons AlgoPerf: each arm its own grid and the same
number of trials x steps, stated).

    split = tuning.split(dataset, fraction=0.1, seed=0)
    def scores_on(rates):                      # one compiled program: rates x seeds as members
        out = fit(..., members=Members.grid(learning_rate=rates))
        return tuning.Scores(rates, steps, validation=out.grid("val/accuracy"), test=out.grid("eval/accuracy"))
    tuned = tuning.tune(scores_on, (1e-3, 3e-3, 1e-2), name="learning_rate")
    tuned.value, tuned.step, tuned.test_at_choice()     # the choice and its per-seed test score
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from common.experiment import Undecided


class Split(NamedTuple):
    """Training examples cut in two (`fit` trains, `val` chooses), and the test set beside them."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split_arrays(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, fraction: float | None = None,
                 seed: int = 0, *, size: int | None = None, drawn_order: bool = False) -> Split:
    """Hold out round(fraction * n) training examples (or exactly `size`), drawn by a seeded permutation:
    the first ones drawn are held out. Both sides keep the training set's order, or with `drawn_order`
    the permutation's (a training stream in the order drawn)."""
    n = len(x)
    if (fraction is None) == (size is None):
        raise ValueError("give a validation fraction or a size, not both")
    if size is None:
        if not 0 < fraction < 1:
            raise ValueError(f"validation fraction must be in (0, 1) (got {fraction})")
        size = round(fraction * n)
    if size < 1 or size >= n:
        raise ValueError(f"a validation set of {size} leaves no examples on one side of {n}")
    order = np.random.default_rng(seed).permutation(n)
    fit, val = order[size:], order[:size]
    if not drawn_order:
        fit, val = np.sort(fit), np.sort(val)
    return Split(x[fit], y[fit], x[val], y[val], x_test, y_test)


def split(dataset, fraction: float, seed: int = 0) -> Split:
    """`split_arrays` on a `common.data.Dataset`'s training and test arrays."""
    return split_arrays(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test, fraction, seed)


@dataclass(frozen=True)
class Scores:
    """One arm's scores over its grid: `values` (V,) of the tuned hyperparameter,
    `steps` (P,) the evaluation points (lengths), `validation` and `test` (V, P, seeds)."""

    values: tuple[float, ...]
    steps: tuple[int, ...]
    validation: np.ndarray
    test: np.ndarray
    higher_is_better: bool = True

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        for name in ("validation", "test"):
            array = np.asarray(getattr(self, name), float)
            if array.ndim != 3 or array.shape[:2] != (len(self.values), len(self.steps)):
                raise ValueError(f"{name} scores of shape {array.shape} do not fit {len(self.values)} values x "
                                 f"{len(self.steps)} steps x seeds")
            object.__setattr__(self, name, array)

    def merged(self, other: "Scores") -> "Scores":
        """Both grids' values in one, in increasing order (the same steps and seeds)."""
        if other.steps != self.steps or other.validation.shape[2] != self.validation.shape[2]:
            raise ValueError("scores with other steps or seeds cannot be merged")
        values = self.values + other.values
        order = np.argsort(values)
        stack = lambda a, b: np.concatenate([a, b])[order]
        return Scores(tuple(np.asarray(values)[order]), self.steps, stack(self.validation, other.validation),
                      stack(self.test, other.test), self.higher_is_better)


@dataclass(frozen=True)
class Tuned:
    """An arm's choice on the validation split: the chosen `value` of hyperparameter
    `name` and length `step` (their indices into the grid), the grid and scores it was
    chosen from, the widenings it took, and `edge`: "lowest" / "highest" when the
    choice is still an end of the grid, else None."""

    name: str
    scores: Scores
    value: float
    step: int
    index: int
    point: int
    widenings: int
    edge: str | None

    @property
    def budget(self) -> int:
        """Trials x steps per seed: the grid's size times its longest length."""
        return len(self.scores.values) * max(self.scores.steps)

    def test_at_choice(self) -> np.ndarray:
        """The per-seed test score at the chosen value and length, (seeds,)."""
        return self.scores.test[self.index, self.point]

    def validation_means(self) -> np.ndarray:
        """Mean validation score over seeds, (V, P)."""
        return mean_over_seeds(self.scores.validation)

    def require_interior(self, arm: str) -> None:
        """Raise `Undecided` when the choice sits on an edge of its grid."""
        if self.edge is not None:
            raise Undecided(f"{arm}'s {self.name} {self.value:g} is the {self.edge} of its grid "
                            f"({', '.join(f'{v:g}' for v in self.scores.values)}) after {self.widenings} "
                            "widening(s): the grid decides the comparison")

    def summary(self) -> dict:
        """What results.json keeps of the choice (e.g. in `results.scalars` or a table's notes): the grid,
        the mean validation score per value (best length), the choice, its edge, widenings and budget."""
        means = self.validation_means()
        best = [float(means[i, _best(means[i : i + 1], self.scores.higher_is_better)[1]])
                for i in range(len(self.scores.values))]
        return {"name": self.name, "grid": list(self.scores.values), "validation": best, "chosen": self.value,
                "at_step": self.step, "edge": self.edge, "widenings": self.widenings, "budget": self.budget}

    def rows(self, arm: str) -> list[dict]:
        """A report table: one row per grid value, its best mean validation score and length, the choice marked."""
        means = self.validation_means()
        rows = []
        for i, value in enumerate(self.scores.values):
            best = _best(means[i : i + 1], self.scores.higher_is_better)[1]
            rows.append({"arm": arm, self.name: value, "best validation (mean over seeds)": float(means[i, best]),
                         "at step": self.scores.steps[best], "chosen": "yes" if i == self.index else ""})
        return rows


BUDGET_TABLE = "Tuning of each arm: grid, choice, edge and budget (trials x steps per seed)"
"""The table every tuned experiment writes (`results.tables[BUDGET_TABLE] = budget_rows(...)`);
the study's claims page (scripts/claims_docs.py) copies it from the runs it names."""


def budget_rows(tuned: dict[str, "Tuned"]) -> list[dict]:
    """One row per arm (its name -> its Tuned): the hyperparameter, its grid, the choice and its
    length, the edge it is on (if any) after the widenings, and the budget (trials x steps)."""
    return [{"arm": arm, "tunes": t.name, "grid": ", ".join(f"{v:g}" for v in t.scores.values),
             "chosen": f"{t.value:g}", "at step": t.step, "edge": t.edge or "interior", "widenings": t.widenings,
             "budget (trials x steps)": f"{len(t.scores.values)} x {max(t.scores.steps)} = {t.budget}"}
            for arm, t in tuned.items()]


def mean_over_seeds(scores: np.ndarray) -> np.ndarray:
    """Mean over the last axis leaving NaN out (an infinite score stays), NaN where every seed is NaN
    (a rate at which every seed diverged), without numpy's "Mean of empty slice" warning."""
    kept = ~np.isnan(scores)
    counts = kept.sum(axis=-1)
    totals = np.where(kept, scores, 0.0).sum(axis=-1)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def _best(means: np.ndarray, higher_is_better: bool) -> tuple[int, int]:
    """(value index, point index) of the best finite mean; ties go to the smaller value and the shorter length."""
    score = means if higher_is_better else -means
    score = np.where(np.isfinite(score), score, -np.inf)
    index, point = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(index), int(point)


def choose(scores: Scores, name: str = "learning_rate", *, fixed_length: bool = False,
           widenings: int = 0) -> Tuned:
    """The value and length with the best mean validation score over seeds
    (`fixed_length`: the last evaluation point only)."""
    means = mean_over_seeds(scores.validation)
    if fixed_length:
        means = np.where(np.arange(means.shape[1]) == means.shape[1] - 1, means, np.nan)
    if not np.isfinite(means).any():
        raise Undecided(f"no finite validation score at any {name} of the grid")
    index, point = _best(means, scores.higher_is_better)
    edge = None
    if len(scores.values) > 1 and index in (0, len(scores.values) - 1):
        edge = "lowest" if index == 0 else "highest"
    return Tuned(name, scores, scores.values[index], scores.steps[point], index, point, widenings, edge)


def tune(scores_on: Callable[[tuple[float, ...]], Scores], grid: Sequence[float], *, name: str = "learning_rate",
         max_widenings: int = 2, fixed_length: bool = False) -> Tuned:
    """`choose` on `scores_on(grid)`; while the choice sits on an edge and widenings
    remain, score one more value beyond that edge (the grid's outermost ratio) and
    choose again over the union. A geometric grid of positive values is assumed."""
    values = tuple(sorted(float(v) for v in grid))
    if len(values) < 2 or values[0] <= 0 or len(set(values)) != len(values):
        raise ValueError(f"a tuning grid needs two or more distinct positive values (got {grid})")
    scores = scores_on(values)
    tuned = choose(scores, name, fixed_length=fixed_length)
    for widening in range(1, max_widenings + 1):
        if tuned.edge is None:
            break
        low, high = scores.values[:2], scores.values[-2:]
        beyond = low[0] * low[0] / low[1] if tuned.edge == "lowest" else high[1] * high[1] / high[0]
        if not math.isfinite(beyond) or beyond <= 0:
            break
        scores = scores.merged(scores_on((beyond,)))
        tuned = choose(scores, name, fixed_length=fixed_length, widenings=widening)
    return tuned

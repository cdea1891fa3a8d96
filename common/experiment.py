"""What an experiment returns and how its claims are checked.

An experiment module exports NAME, STUDY, PAPER, REPRODUCES, QUICK_SECONDS,
a frozen `Config` dataclass, PRESETS = {"quick": ..., "paper": ...},
`run(config, session) -> Results`, `figures(results, directory)` and CLAIMS.
A Config that trains on a named data set says so with `data_use() -> DataUse`.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Results:
    """Everything a run measured.

    tables: name -> rows (dicts of plain numbers/strings), shown in the report;
    scalars: headline numbers the claims read;
    arrays: the data behind the figures (saved to results.npz);
    notes: sentences for the report (what came out and why).
    """

    tables: dict[str, list[dict]] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DataUse:
    """What a config reads: the data set by name, and the sizes that must fit in its
    training split (e.g. {"batch_size": 100}), checked before any run folder exists."""

    dataset: str
    train_sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A paper's statement as a check on the results.

    `measure(results)` gives the measured number; `check(value)` says whether
    the statement held; `paper` is the paper's number or statement, as text.
    """

    statement: str
    paper: str
    measure: Callable[[Results], float]
    check: Callable[[float], bool]
    fmt: str = "{:.4g}"


@dataclass(frozen=True)
class ClaimOutcome:
    statement: str
    paper: str
    measured: str
    value: float | None
    reproduced: bool | None  # None: could not be measured (NaN, missing)

    @property
    def verdict(self) -> str:
        return {True: "reproduced", False: "not reproduced", None: "not measured"}[self.reproduced]


def evaluate_claims(claims: list[Claim], results: Results) -> list[ClaimOutcome]:
    outcomes = []
    for claim in claims:
        try:
            value = float(claim.measure(results))
        except (KeyError, IndexError, ValueError, TypeError):
            value = float("nan")
        if math.isnan(value):
            outcomes.append(ClaimOutcome(claim.statement, claim.paper, "n/a", None, None))
        else:
            outcomes.append(ClaimOutcome(
                claim.statement, claim.paper, claim.fmt.format(value), value, bool(claim.check(value)),
            ))
    return outcomes

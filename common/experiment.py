"""What an experiment returns and how its claims are checked.

An experiment module exports NAME, STUDY, PAPER, REPRODUCES,
a frozen `Config` dataclass, PRESETS = {"quick": ..., "paper": ...},
`run(config, session) -> Results`, `figures(results, directory)` and CLAIMS.

A claim is a check that can fail: its measure gives a value and, over seeds
or timing rounds, a 95% interval (`common.stats`); its region is the side of
the threshold the paper's statement puts the value on. The verdict is
`reproduced` when the interval lies inside the region, `not reproduced` when
it lies outside, `inconclusive` when it straddles the edge (or nothing could
be measured). Every claim names a negative control, a degenerate case under
which it must not say `reproduced`, and a passing case under which it must:
`tests/experiments/test_claim_controls.py` runs both for every claim.

A Config that trains on a named data set says so with `data_use() -> DataUse`.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from common.stats import Measurement

VERDICTS = ("reproduced", "not reproduced", "inconclusive")
NOT_MEASURED = "not measured"
NOT_RUN = "not run at this preset"
OUTCOMES = (*VERDICTS, NOT_MEASURED, NOT_RUN)
"""What a claim can come out as: a verdict, or no verdict (nothing could be
measured, or this preset does not produce what the claim reads)."""


class NotRunAtPreset(Exception):
    """Raised by a measure whose data only another preset produces: `needs`
    names it (e.g. trainer-bench's 64-seed claim at the quick preset's 8 seeds)."""

    def __init__(self, needs: str, why: str = ""):
        super().__init__(f"{why + '; ' if why else ''}needs --preset {needs}")
        self.needs = needs


class Undecided(Exception):
    """Raised by a measure when the run cannot decide the claim for a stated reason
    (e.g. a tuned arm's choice on the edge of its grid, an arm that did not train):
    the verdict is inconclusive, with the reason in `how`."""


class MissingResult(Exception):
    """A measure read a key the results do not have: a bug in the claim (a typo'd
    key) or in the experiment, never a verdict."""


@dataclass
class Results:
    """Everything a run measured.

    tables: name -> rows (dicts of plain numbers/strings), shown in the report;
    scalars: headline numbers the claims read;
    arrays: the data behind the figures and the per-seed / per-round samples
    the claims' intervals come from (saved to results.npz);
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
class Region:
    """Where the paper's statement puts the measured value: [low, high], or
    (low, high) when `strict` (a strict comparison such as "A beats B": a
    difference of exactly 0, e.g. a method against itself, is not inside)."""

    low: float = -math.inf
    high: float = math.inf
    strict: bool = False

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"empty region [{self.low}, {self.high}]")

    def describe(self) -> str:
        lt, gt = ("<", ">") if self.strict else ("<=", ">=")
        if self.high == math.inf:
            return f"{gt} {self.low:.4g}"
        if self.low == -math.inf:
            return f"{lt} {self.high:.4g}"
        digits = 4 if f"{self.low:.4g}" != f"{self.high:.4g}" else 17  # a tight region shows its width
        low, high = f"{self.low:.{digits}g}", f"{self.high:.{digits}g}"
        return f"in {'(' if self.strict else '['}{low}, {high}{')' if self.strict else ']'}"

    def verdict(self, measurement: Measurement) -> str:
        """Inside: reproduced; outside: not reproduced; across an edge: inconclusive."""
        if math.isnan(measurement.value):
            return "inconclusive"
        lo, hi = measurement.interval or (measurement.value, measurement.value)
        if self.strict:
            inside = self.low < lo and hi < self.high
            outside = hi <= self.low or lo >= self.high
        else:
            inside = self.low <= lo and hi <= self.high
            outside = hi < self.low or lo > self.high
        return "reproduced" if inside else "not reproduced" if outside else "inconclusive"


def at_least(threshold: float) -> Region:
    return Region(low=threshold)


def at_most(threshold: float) -> Region:
    return Region(high=threshold)


def above(threshold: float) -> Region:
    """Strictly greater: "A beats B" is above(0) on A - B."""
    return Region(low=threshold, strict=True)


def below(threshold: float) -> Region:
    return Region(high=threshold, strict=True)


def within(low: float, high: float) -> Region:
    return Region(low, high)


def near(target: float, tolerance: float) -> Region:
    """An exact quantity: target +- tolerance."""
    return Region(target - tolerance, target + tolerance)


@dataclass(frozen=True, kw_only=True)
class Control:
    """A claim's negative control: a named degenerate case (zero estimator,
    linear network, untrained noise generator, a method against itself) and
    the results it gives, built cheaply without training. The claim must not
    say `reproduced` on them."""

    name: str
    results: Callable[[], Results]


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A paper's statement as a check on the results.

    measure(results) -> Measurement (or a float: an exact quantity);
    region: where the statement puts the value;
    control: the degenerate case it must reject; passing(): results of a case
    it must accept (the contract test runs both);
    baseline(results), optional: the control as measured in this very run
    (e.g. the noise generator's modes), shown beside the claim; a claim whose
    run-time control also lands inside the region cannot be `reproduced`;
    where: the place in the paper that makes the statement (section, table,
    figure or equation, e.g. "Liu et al. 2019, Sec. 4.1, Table 1"), shown in
    the study's claims page.
    """

    statement: str
    paper: str
    measure: Callable[[Results], Measurement | float]
    region: Region
    control: Control
    passing: Callable[[], Results]
    baseline: Callable[[Results], Measurement | float] | None = None
    fmt: str = "{:.4g}"
    where: str = ""


RECALLED = " (location recalled, not checked against the PDF)"
"""The suffix of a `Claim.where` written from memory of the paper, not checked against it: one wording."""


@dataclass(frozen=True)
class ControlOutcome:
    name: str
    value: float | None = None  # None: not measured at run time
    interval: list[float] | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class ClaimOutcome:
    statement: str
    paper: str
    region: str
    measured: str
    value: float | None
    interval: list[float] | None  # [lo, hi] 95%, None for an exact quantity
    how: str
    verdict: str
    control: ControlOutcome
    note: str = ""


def _measure(fn: Callable, results: Results, statement: str) -> Measurement:
    """The measure's Measurement; NotRunAtPreset passes through; a missing key is a
    MissingResult naming it; a computation that fails on these numbers is NaN with the reason."""
    try:
        value = fn(results)
    except KeyError as error:
        raise MissingResult(f"claim '{statement}' reads {error}, which the results do not have") from None
    except (IndexError, ValueError, TypeError, ZeroDivisionError) as error:
        return Measurement(float("nan"), None, f"could not be computed ({type(error).__name__}: {error})")
    return value if isinstance(value, Measurement) else Measurement(float(value))


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _interval(m: Measurement) -> list[float] | None:
    return None if m.interval is None else [float(m.interval[0]), float(m.interval[1])]


def run_time_control(claim: Claim, results: Results) -> ControlOutcome:
    """The claim's control as measured in this run (`baseline`), or just its name where it has none
    or the results lack it (a test's synthetic case)."""
    if claim.baseline is None:
        return ControlOutcome(claim.control.name)
    try:
        b = _measure(claim.baseline, results, claim.statement)
    except (MissingResult, NotRunAtPreset, Undecided):
        b = Measurement(float("nan"))
    return ControlOutcome(claim.control.name, _finite_or_none(b.value), _interval(b), claim.region.verdict(b))


def evaluate(claim: Claim, results: Results) -> ClaimOutcome:
    """The claim's outcome on `results`: a verdict, or NOT_RUN / NOT_MEASURED with the reason in `how`;
    the run-time control is shown wherever the run measured it, an undecided claim's included."""
    region = claim.region.describe()
    try:
        m = _measure(claim.measure, results, claim.statement)
    except NotRunAtPreset as not_run:
        return ClaimOutcome(claim.statement, claim.paper, region, "not run", None, None, str(not_run), NOT_RUN,
                            ControlOutcome(claim.control.name))
    except Undecided as undecided:
        return ClaimOutcome(claim.statement, claim.paper, region, "undecided", None, None, str(undecided),
                            "inconclusive", run_time_control(claim, results))
    verdict = NOT_MEASURED if math.isnan(m.value) else claim.region.verdict(m)
    control, note = run_time_control(claim, results), ""
    if control.verdict == "reproduced" and verdict == "reproduced":
        verdict = "inconclusive"
        note = f"the control ({claim.control.name}) passes this check too in this run"
    measured = "not measured" if math.isnan(m.value) else claim.fmt.format(m.value)
    interval = None if verdict == NOT_MEASURED else _interval(m)
    return ClaimOutcome(claim.statement, claim.paper, region, measured, _finite_or_none(m.value),
                        interval, m.how or ("no finite value" if verdict == NOT_MEASURED else ""), verdict,
                        control, note)


def evaluate_claims(claims: list[Claim], results: Results) -> list[ClaimOutcome]:
    return [evaluate(claim, results) for claim in claims]


def scalars(values: dict[str, float]) -> Callable[[], Results]:
    """A control's or passing case's results that hold just these scalars."""
    return lambda: Results(scalars=dict(values))


def arrays(values: dict) -> Callable[[], Results]:
    """A control's or passing case's results that hold just these arrays."""
    return lambda: Results(arrays={k: np.asarray(v, float) for k, v in values.items()})

"""Finished runs as one table (pandas): a row per claim or per scalar per run,
for `python run.py export` and `experiments.table`, and that table as CSV,
JSON or LaTeX.

Claim rows: experiment, run (its folder), preset, the config fields whose
values differ between the gathered runs of that experiment (lists and objects
as JSON text), statement, value, interval_low, interval_high (both equal to
value for an exact quantity, -inf/inf for an unbounded end, empty where the
claim has no interval or no value), verdict, control (in words). Scalar rows:
experiment, run, preset, name, value (null as empty, true/false as 1/0).
"""

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from common.config import UsageError
from common.report import control_text
from common.run_records import FinishedRun, Skipped, read_finished, scan

WHATS = ("claims", "scalars")
FORMATS = ("csv", "json", "latex")
NAN = float("nan")


@dataclass(frozen=True)
class Gathered:
    """The distinct finished runs named or found under the roots, and the run folders passed over."""

    runs: list[FinishedRun]
    skipped: list[Skipped]


def table(*runs_or_roots: str | Path, what: str = "claims") -> pd.DataFrame:
    """One row per claim (what="claims") or per scalar ("scalars") of each run: a path that
    is a finished run folder is that run, any other folder a root whose finished runs at any
    depth are gathered. Run folders under a root that cannot be read are named on stderr,
    one line each; bad input (no path, a path that is neither, a root without a finished,
    readable run, an unknown `what`) is a UsageError."""
    if what not in WHATS:
        raise UsageError(f"what= must be one of {', '.join(WHATS)} (got {what!r})")
    gathered = gather(runs_or_roots)
    for skipped in gathered.skipped:
        print(f"skipped {skipped.folder}: {skipped.reason}", file=sys.stderr)
    return claims_frame(gathered.runs) if what == "claims" else scalars_frame(gathered.runs)


def gather(runs_or_roots) -> Gathered:
    """The runs at these paths, each once (however spelled), in the order named and found."""
    if not runs_or_roots:
        raise UsageError("name at least one run folder or folder of runs")
    runs, skipped = [], []
    for path in map(Path, runs_or_roots):
        if os.path.lexists(path / "results.json"):
            runs.append(read_finished(path))  # named on its own: a run that cannot be read is an error
            continue
        if not path.is_dir():
            problem = "does not exist" if not os.path.lexists(path) else "is not a folder"
            raise UsageError(f"{path} {problem}, so neither a run folder nor a folder of runs")
        found = scan(path)
        if not found.runs:
            counts = f"{len(found.skipped)} unreadable, {len(found.unfinished)} unfinished"
            raise UsageError(f"no finished, readable runs under {path} ({counts})")
        runs += found.runs
        skipped += found.skipped
    seen, distinct = set(), []
    for run in runs:
        if os.path.realpath(run.folder) not in seen:
            seen.add(os.path.realpath(run.folder))
            distinct.append(run)
    return Gathered(distinct, skipped)


def claims_frame(runs: list[FinishedRun]) -> pd.DataFrame:
    """One row per claim per run (the module docstring lists the columns)."""
    differing = differing_fields(runs)
    config_columns = list(dict.fromkeys(field for fields in differing.values() for field in fields))
    rows = []
    for run in runs:
        config = {field: _cell(run.saved.config.get(field)) for field in differing[run.experiment]}
        for claim in run.results.get("claims", []):
            low, high = interval_ends(claim)
            rows.append({**_run_columns(run), **config, "statement": claim["statement"],
                         "value": _number(claim.get("value")), "interval_low": low, "interval_high": high,
                         "verdict": claim["verdict"], "control": control_text(claim.get("control"))})
    columns = ["experiment", "run", "preset", *config_columns,
               "statement", "value", "interval_low", "interval_high", "verdict", "control"]
    return pd.DataFrame(rows, columns=columns)


def scalars_frame(runs: list[FinishedRun]) -> pd.DataFrame:
    """One row per scalar per run: experiment, run, preset, name, value."""
    rows = [{**_run_columns(run), "name": name, "value": _number(value)}
            for run in runs for name, value in run.results.get("scalars", {}).items()]
    return pd.DataFrame(rows, columns=["experiment", "run", "preset", "name", "value"])


def differing_fields(runs: list[FinishedRun]) -> dict[str, list[str]]:
    """Per experiment, the config fields (in config order) whose values are not the same in all
    its runs; a field that some runs lack counts as differing."""
    by_experiment: dict[str, list[FinishedRun]] = {}
    for run in runs:
        by_experiment.setdefault(run.experiment, []).append(run)
    differing = {}
    for experiment, group in by_experiment.items():
        fields = dict.fromkeys(field for run in group for field in run.saved.config)
        differing[experiment] = [field for field in fields
                                 if len({_json(run.saved.config, field) for run in group}) > 1]
    return differing


def interval_ends(claim: dict) -> tuple[float, float]:
    """The claim's 95% interval as two numbers: (value, value) for an exact quantity, -inf/inf
    for an unbounded end, (nan, nan) when it has no value or recorded no interval."""
    value = _number(claim.get("value"))
    if math.isnan(value) or "interval" not in claim:
        return NAN, NAN
    if claim["interval"] is None:
        return value, value
    low, high = claim["interval"]
    return (-math.inf if low is None else float(low)), (math.inf if high is None else float(high))


def render(frame: pd.DataFrame, form: str) -> str:
    """The table as CSV (no index), JSON (a list of row objects; NaN and infinities as null)
    or a LaTeX tabular (values to 4 significant digits, special characters escaped)."""
    if form == "csv":
        return frame.to_csv(index=False)
    if form == "json":
        return frame.to_json(orient="records", indent=1, double_precision=15) + "\n"
    if form == "latex":
        try:
            return frame.to_latex(index=False, escape=True, na_rep="", float_format="{:.4g}".format)
        except ImportError as error:
            raise UsageError(f"--format latex needs jinja2 (pip install -e .): {error}") from None
    raise UsageError(f"unknown format {form!r} (one of {', '.join(FORMATS)})")


def _json(config: dict, field: str) -> str | None:
    """The field's value as canonical JSON text; None where the config lacks the field."""
    return json.dumps(config[field], sort_keys=True) if field in config else None


def _run_columns(run: FinishedRun) -> dict:
    return {"experiment": run.experiment, "run": str(run.folder), "preset": run.preset}


def _cell(value):
    """A config value for one cell: lists and objects as JSON text."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _number(value) -> float:
    """A saved number as a float: null as nan, true/false as 1/0."""
    return NAN if value is None else float(value)

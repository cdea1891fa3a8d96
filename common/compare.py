"""Finished runs of one experiment side by side, labelled A, B, C, ...: their claims
(verdict, measured value, interval where the claim has one) and scalars, one column
per run, then for each run after the first its difference from the first
(common.differences), and a line for each claim whose verdict differs from the first run's."""

import os
from pathlib import Path

from common.config import UsageError
from common.differences import METHOD, claim_difference, scalar_difference
from common.report import claim_cell, markdown_table
from common.run_records import FinishedRun, format_overrides


def compare(*runs: FinishedRun) -> str:
    """The runs side by side; a UsageError when there are fewer than two, when two of them
    are one run (however spelled), or when they are runs of more than one experiment."""
    _check(runs)
    labels = [run_label(index) for index in range(len(runs))]
    first = labels[0]
    parts = [f"# {runs[0].experiment}: {first} against {', '.join(labels[1:])}\n"]
    for label, run in zip(labels, runs):
        parts.append(f"{label}: `{run.folder}`, preset {run.preset or 'not recorded'}, "
                     f"overrides {format_overrides(run.overrides)}, {_seconds(run)}\n")
    claims = {label: {c["statement"]: c for c in run.results.get("claims", [])} for label, run in zip(labels, runs)}
    statements = _in_order_of_appearance(list(c) for c in claims.values())
    parts += ["## Claims\n", markdown_table(_claim_rows(statements, claims)), METHOD + "\n"]
    changed = _verdict_changes(statements, claims)
    if changed:
        parts.append(f"Verdicts that differ from {first}'s:\n\n" + "\n".join(changed) + "\n")
    parts += ["## Scalars\n", markdown_table(_scalar_rows(runs, labels))]
    return "\n".join(parts)


def run_label(index: int) -> str:
    """A, B, ..., Z, AA, AB, ... for the run at `index` (from 0)."""
    label, number = "", index + 1
    while number:
        number, letter = divmod(number - 1, 26)
        label = chr(ord("A") + letter) + label
    return label


def _check(runs: tuple[FinishedRun, ...]) -> None:
    if len(runs) < 2:
        raise UsageError(f"compare takes at least two runs (got {len(runs)})")
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            if _same_folder(a.folder, b.folder):
                raise UsageError(f"compare takes different runs; {a.folder} and {b.folder} are the same run "
                                 f"({a.folder.resolve()})")
    others = [run for run in runs if run.experiment != runs[0].experiment]
    if others:
        raise UsageError(f"compare takes runs of one experiment ({runs[0].folder} is {runs[0].experiment}, "
                         f"{others[0].folder} is {others[0].experiment})")


def _in_order_of_appearance(lists) -> list[str]:
    seen: dict[str, None] = {}
    for names in lists:
        seen.update(dict.fromkeys(names))
    return list(seen)


def _claim_rows(statements: list[str], claims: dict[str, dict]) -> list[dict]:
    """One row per claim: each run's cell, then each later run's difference from the first."""
    first, *later = claims
    rows = []
    for s in statements:
        row = {"claim": s, **{label: claim_cell(claims[label].get(s)) for label in claims}}
        for label in later:
            difference = claim_difference(claims[first].get(s), claims[label].get(s))
            row[f"{label} - {first}"] = difference.text() if difference else "n/a"
        rows.append(row)
    return rows


def _verdict_changes(statements: list[str], claims: dict[str, dict]) -> list[str]:
    """For each claim whose verdict in some later run differs from the first run's: the
    verdicts, values and intervals of the first run and of each run that differs."""
    first, *later = claims
    lines = []
    for s in statements:
        base = claims[first].get(s)
        differ = [label for label in later if base and s in claims[label]
                  and claims[label][s]["verdict"] != base["verdict"]]
        if differ:
            needs = f" (needs {base['region']})" if base.get("region") else ""
            cells = "; ".join(f"{label} {claim_cell(claims[label][s])}" for label in (first, *differ))
            lines.append(f"- {s}{needs}: {cells}")
    return lines


def _scalar_rows(runs: tuple[FinishedRun, ...], labels: list[str]) -> list[dict]:
    """One row per scalar: each run's value, then each later run's difference from the first."""
    scalars = [run.results.get("scalars", {}) for run in runs]
    rows = []
    for name in _in_order_of_appearance(scalars):
        values = [s.get(name, "absent") for s in scalars]
        rows.append({"scalar": name, **{label: _number(v) for label, v in zip(labels, values)},
                     **{f"{label} - {labels[0]}": scalar_difference(values[0], value)
                        for label, value in zip(labels[1:], values[1:])}})
    return rows


def _number(value) -> str:
    if value is None:
        return "nan"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _same_folder(a: Path, b: Path) -> bool:
    """One folder under two spellings (relative, through a symlink, a bind mount)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _seconds(run: FinishedRun) -> str:
    seconds = run.results.get("seconds")
    return f"{seconds:.1f} s" if isinstance(seconds, (int, float)) else "time not recorded"

"""Two finished runs of one experiment side by side: their claims (verdict,
measured value, interval where the claim has one) and their scalars."""

import os
from pathlib import Path

from common.config import UsageError
from common.report import claim_cell, markdown_table
from common.run_records import FinishedRun, format_overrides


def compare(a: FinishedRun, b: FinishedRun) -> str:
    """The two runs side by side; a UsageError when they are one run (however spelled)
    or runs of two experiments."""
    if _same_folder(a.folder, b.folder):
        raise UsageError(f"compare takes two different runs; {a.folder} and {b.folder} are the same run "
                         f"({a.folder.resolve()})")
    if a.experiment != b.experiment:
        raise UsageError(f"compare takes two runs of one experiment ({a.folder} is {a.experiment}, "
                         f"{b.folder} is {b.experiment})")
    parts = [f"# {a.experiment}: A against B\n"]
    for label, run in (("A", a), ("B", b)):
        parts.append(f"{label}: `{run.folder}`, preset {run.preset or 'not recorded'}, "
                     f"overrides {format_overrides(run.overrides)}, {_seconds(run)}\n")
    parts += ["## Claims\n", markdown_table(_claim_rows(a, b)), "## Scalars\n", markdown_table(_scalar_rows(a, b))]
    return "\n".join(parts)


def _claim_rows(a: FinishedRun, b: FinishedRun) -> list[dict]:
    claims = {label: {c["statement"]: c for c in run.results.get("claims", [])} for label, run in (("A", a), ("B", b))}
    statements = list(claims["A"]) + [s for s in claims["B"] if s not in claims["A"]]
    return [{"claim": s, **{label: claim_cell(claims[label].get(s)) for label in ("A", "B")}} for s in statements]


def _scalar_rows(a: FinishedRun, b: FinishedRun) -> list[dict]:
    scalars_a, scalars_b = a.results.get("scalars", {}), b.results.get("scalars", {})
    names = list(scalars_a) + [n for n in scalars_b if n not in scalars_a]
    return [{"scalar": n, "A": _number(scalars_a.get(n, "absent")), "B": _number(scalars_b.get(n, "absent"))}
            for n in names]


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

"""Reports: one run's report.md, and runs/REPORT.md gathering the newest
finished run of each experiment."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from common.experiment import NOT_MEASURED, NOT_RUN, OUTCOMES, VERDICTS, ClaimOutcome
from common.run_records import FinishedRun, Scan, format_overrides, scan

MARK = {"reproduced": "yes", "not reproduced": "**no**", "inconclusive": "inconclusive",
        NOT_MEASURED: NOT_MEASURED, NOT_RUN: NOT_RUN}


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "(empty)\n"
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None:
        return "nan"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def number_text(value) -> str:
    """A saved number (None: NaN or an infinity that JSON could not hold)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else str(value)
    return f"{value:.4g}"


def interval_text(claim: dict) -> str:
    """The claim's 95% interval as the report shows it: "exact" only for a measured
    exact quantity; an end saved as null is unbounded."""
    if claim.get("verdict") in (NOT_MEASURED, NOT_RUN):
        return "none"
    if "interval" not in claim:
        return "not recorded"
    interval = claim["interval"]
    if interval is None:
        return "exact"
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return "unreadable"
    lo, hi = interval
    return f"[{'-inf' if lo is None else number_text(lo)}, {'inf' if hi is None else number_text(hi)}]"


def measured_text(claim: dict) -> str:
    """The measured value, or why there is none: the preset it needs, or the reason nothing was measured."""
    verdict, how = claim.get("verdict"), claim.get("how") or ""
    if verdict == NOT_RUN:
        return f"{NOT_RUN} ({how})" if how else NOT_RUN
    if verdict == NOT_MEASURED or claim.get("measured") == "n/a":  # "n/a": runs written before "not measured"
        return f"{NOT_MEASURED} ({how})" if how else NOT_MEASURED
    return str(claim.get("measured", number_text(claim.get("value"))))


def claim_cell(claim: dict | None) -> str:
    """One claim in one cell: `verdict: value [lo, hi]` (compare's columns)."""
    if claim is None:
        return "absent"
    verdict = claim.get("verdict", "?")
    if verdict in (NOT_MEASURED, NOT_RUN):
        return measured_text(claim)
    interval = interval_text(claim)
    return f"{verdict}: {measured_text(claim)}" + (f" {interval}" if interval.startswith("[") else "")


def control_text(control) -> str:
    """A claim's negative control in words: its name, and its value, interval and verdict where the run measured it."""
    if not isinstance(control, dict) or not control.get("name"):
        return "not recorded"
    if control.get("value") is None:
        return str(control["name"])
    return (f"{control['name']}: {number_text(control['value'])} {interval_text(control)}"
            f" ({control.get('verdict', '?')})")


def claims_table(outcomes: list[dict]) -> str:
    """Each claim: the paper's number, the region it needs, the measured value (or why there
    is none), its 95% interval and how it was made, the verdict, and the negative control
    (with its value where this run measured it). Runs written before intervals existed show
    "not recorded"."""
    rows = []
    for o in outcomes:
        verdict = MARK.get(o.get("verdict"), str(o.get("verdict", "?"))) + (f" ({o['note']})" if o.get("note") else "")
        how = o.get("how") if o.get("verdict") not in (NOT_MEASURED, NOT_RUN) else ""
        rows.append({"claim": o.get("statement", "?"), "paper": o.get("paper", "?"),
                     "needs": o.get("region", "not recorded"), "measured": measured_text(o),
                     "95% interval": interval_text(o) + (f", {how}" if how else ""),
                     "verdict": verdict, "control": control_text(o.get("control"))})
    return markdown_table(rows)


def verdict_counts(outcomes: list[dict]) -> dict[str, int]:
    """How many claims came out reproduced, not reproduced and inconclusive, and how many
    gave no verdict (not measured, not run at this preset)."""
    verdicts = [o.get("verdict") for o in outcomes]
    return {verdict: verdicts.count(verdict) for verdict in OUTCOMES}


def counts_text(counts: dict[str, int]) -> str:
    """"3 reproduced, 0 not reproduced, 1 inconclusive" and the no-verdict kinds where there are any."""
    shown = [f"{n} {v}" for v, n in counts.items() if v in VERDICTS or n]
    return ", ".join(shown)


def run_report(module, config, results, outcomes: list[ClaimOutcome], folder: Path, timing,
               figure_names: list[str]) -> str:
    outcome_dicts = [dataclasses.asdict(o) for o in outcomes]
    counts = verdict_counts(outcome_dicts)
    parts = [
        f"# {module.NAME}\n",
        f"{module.REPRODUCES}\n",
        f"Paper: {module.PAPER}. Run folder `{folder}`, {timing.seconds:.1f} s "
        f"({timing.compile_seconds:.1f} s of it tracing and compiling).\n",
        "## Claims\n",
        counts_text(counts) + f" of {len(outcomes)}.\n",
        claims_table(outcome_dicts),
    ]
    for name, rows in results.tables.items():
        parts += [f"## {name}\n", markdown_table(rows)]
    if results.notes:
        parts += ["## Notes\n", "\n".join(f"- {n}" for n in results.notes) + "\n"]
    if figure_names:
        parts += ["## Figures\n"] + [f"![{n}](figures/{n}.png)\n" for n in figure_names]
    parts += ["## Config\n", "```\n" + repr(config) + "\n```\n"]
    return "\n".join(parts)


def newest_finished_runs(root: Path, preset: str | None = "quick") -> dict[str, FinishedRun]:
    """Per experiment (results.json's "experiment", at any depth under `root`),
    the newest finished run of `preset`, or the newest of any preset when it
    has none. By the time results.json (written last) was written, not by name,
    since `--out` names need not be timestamps. Unreadable runs are passed over."""
    return newest(scan(root).runs, preset)


def newest(runs: list[FinishedRun], preset: str | None) -> dict[str, FinishedRun]:
    """Per experiment, the newest of `runs` of `preset`, else the newest of any preset."""
    chosen: dict[str, FinishedRun] = {}
    for run in runs:
        rank = (run.preset == preset, run.finished_ns, str(run.folder))
        best = chosen.get(run.experiment)
        if best is None or rank > (best.preset == preset, best.finished_ns, str(best.folder)):
            chosen[run.experiment] = run
    return chosen


@dataclass(frozen=True)
class Failure:
    """An experiment that raised during `run.py all`: the error's one line and where its log is."""

    error: str
    log: Path | None


def collect(root: Path, order: list[str], preset: str | None = "quick",
            failures: dict[str, Failure] | None = None, found: Scan | None = None) -> str:
    """REPORT.md: per experiment (in registry order) which run it used, that
    run's preset and overrides, its claims table and figures; an experiment in
    `failures` is marked failed (its error and log) instead; run folders that
    could not be read are named at the end with the reason. `found` is the
    scan of `root` when the caller made it already."""
    failures = failures or {}
    found = found if found is not None else scan(root)
    runs = {n: r for n, r in newest(found.runs, preset).items() if n not in failures}
    names = [n for n in order if n in runs or n in failures] + sorted(n for n in runs if n not in order)
    parts = ["# theory-lab reproduction report\n",
             f"The newest finished run of each experiment under `{root}`, preferring preset `{preset}`.\n"]
    summary = []
    for name in names:
        if name in failures:
            summary.append({"experiment": name, "run": f"**failed**: {failures[name].error}"})
            continue
        run = runs[name]
        claims = run.results.get("claims", [])
        summary.append({
            "experiment": name, "run": str(run.folder.relative_to(root)),
            "preset": run.preset or "not recorded", "overrides": format_overrides(run.overrides),
            **verdict_counts(claims), "claims": len(claims), "seconds": run.results.get("seconds"),
            "compile seconds": run.results.get("compile_seconds", "not recorded"),
        })
    parts += [markdown_table(summary)] if summary else [f"No finished runs under {root}.\n"]
    for name in names:
        if name in failures:
            failure = failures[name]
            log = f"; its log: `{failure.log}`" if failure.log else ""
            parts += [f"## {name}\n", f"**Failed** in this run of every experiment: {failure.error}{log}.\n"]
            continue
        run, env = runs[name], runs[name].env
        parts += [
            f"## {name}\n",
            f"Run `{run.folder}`, preset {run.preset or 'not recorded'}, overrides "
            f"{format_overrides(run.overrides)}; on {env.get('backend', '?')} "
            f"({', '.join(sorted(set(map(str, env.get('devices', [])))))}), jax {env.get('jax', '?')}.\n",
            claims_table(run.results.get("claims", [])),
        ]
        if run.results.get("notes"):
            parts.append("\n".join(f"- {n}" for n in run.results["notes"]) + "\n")
        for png in _pngs(run.folder / "figures"):
            parts.append(f"![{name}/{png.stem}]({png.relative_to(root)})\n")
    if found.skipped:
        parts += ["## Skipped run folders\n", "These could not be read as finished runs:\n",
                  "\n".join(f"- `{s.folder}`: {s.reason}" for s in found.skipped) + "\n"]
    return "\n".join(parts)


def _pngs(figures: Path) -> list[Path]:
    """The figures a run drew; none where figures/ is not a readable folder."""
    try:
        return sorted(p for p in figures.iterdir() if p.suffix == ".png") if figures.is_dir() else []
    except OSError:
        return []


def skipped_lines(found: Scan) -> list[str]:
    """One line per run folder a report passes over: unreadable ones with the reason, unfinished ones."""
    return ([f"skipped {s.folder}: {s.reason}" for s in found.skipped]
            + [f"skipped {folder}: unfinished (config.json, no results.json)" for folder in found.unfinished])

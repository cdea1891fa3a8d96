"""Reports: one run's report.md, and runs/REPORT.md gathering the newest
finished run of each experiment."""

import dataclasses
from pathlib import Path

from common.experiment import VERDICTS, ClaimOutcome
from common.run_records import FinishedRun, finished_runs, format_overrides

MARK = {"reproduced": "yes", "not reproduced": "**no**", "inconclusive": "inconclusive"}


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
    return str(value)


def _interval_text(interval) -> str:
    return "exact" if interval is None else f"[{interval[0]:.4g}, {interval[1]:.4g}]"


def _control_text(control: dict | None) -> str:
    if not control:
        return "not recorded"
    if control.get("value") is None:
        return control["name"]
    return (f"{control['name']}: {control['value']:.4g} {_interval_text(control.get('interval'))}"
            f" ({control['verdict']})")


def claims_table(outcomes: list[dict]) -> str:
    """Each claim: the paper's number, the region it needs, the measured value, its 95%
    interval and how it was made, the verdict, and the negative control (with its value
    where this run measured it). Runs written before intervals existed show "not recorded"."""
    rows = []
    for o in outcomes:
        verdict = MARK.get(o["verdict"], o["verdict"]) + (f" ({o['note']})" if o.get("note") else "")
        interval = _interval_text(o["interval"]) if "interval" in o else "not recorded"
        rows.append({"claim": o["statement"], "paper": o["paper"], "needs": o.get("region", "not recorded"),
                     "measured": o["measured"], "95% interval": interval + (f", {o['how']}" if o.get("how") else ""),
                     "verdict": verdict, "control": _control_text(o.get("control"))})
    return markdown_table(rows)


def verdict_counts(outcomes: list[dict]) -> dict[str, int]:
    """How many claims came out reproduced, not reproduced and inconclusive."""
    verdicts = [o["verdict"] for o in outcomes]
    return {verdict: verdicts.count(verdict) for verdict in VERDICTS}


def run_report(module, config, results, outcomes: list[ClaimOutcome], folder: Path, seconds: float,
               figure_names: list[str]) -> str:
    outcome_dicts = [dataclasses.asdict(o) for o in outcomes]
    counts = verdict_counts(outcome_dicts)
    parts = [
        f"# {module.NAME}\n",
        f"{module.REPRODUCES}\n",
        f"Paper: {module.PAPER}. Run folder `{folder}`, {seconds:.1f} s.\n",
        "## Claims\n",
        ", ".join(f"{n} {v}" for v, n in counts.items()) + f" of {len(outcomes)}.\n",
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
    since `--out` names need not be timestamps."""
    newest: dict[str, FinishedRun] = {}
    for run in finished_runs(root):
        rank = (run.preset == preset, run.finished_ns, str(run.folder))
        best = newest.get(run.experiment)
        if best is None or rank > (best.preset == preset, best.finished_ns, str(best.folder)):
            newest[run.experiment] = run
    return newest


def collect(root: Path, order: list[str], preset: str | None = "quick") -> str:
    """REPORT.md: per experiment (in registry order) which run it used, that
    run's preset and overrides, its claims table and figures."""
    runs = newest_finished_runs(root, preset)
    names = [n for n in order if n in runs] + sorted(n for n in runs if n not in order)
    parts = ["# theory-lab reproduction report\n",
             f"The newest finished run of each experiment under `{root}`, preferring preset `{preset}`.\n"]
    summary = []
    for name in names:
        run = runs[name]
        claims = run.results.get("claims", [])
        summary.append({
            "experiment": name, "run": str(run.folder.relative_to(root)),
            "preset": run.preset or "not recorded", "overrides": format_overrides(run.overrides),
            **verdict_counts(claims), "claims": len(claims), "seconds": run.results.get("seconds"),
        })
    parts += [markdown_table(summary)] if summary else [f"No finished runs under {root}.\n"]
    for name in names:
        run, env = runs[name], runs[name].env
        parts += [
            f"## {name}\n",
            f"Run `{run.folder}`, preset {run.preset or 'not recorded'}, overrides "
            f"{format_overrides(run.overrides)}; on {env.get('backend', '?')} "
            f"({', '.join(sorted(set(env.get('devices', []))))}), jax {env.get('jax', '?')}.\n",
            claims_table(run.results.get("claims", [])),
        ]
        if run.results.get("notes"):
            parts.append("\n".join(f"- {n}" for n in run.results["notes"]) + "\n")
        for png in sorted((run.folder / "figures").glob("*.png")):
            parts.append(f"![{name}/{png.stem}]({png.relative_to(root)})\n")
    return "\n".join(parts)

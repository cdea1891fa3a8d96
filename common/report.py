"""Reports: one run's report.md, and runs/REPORT.md gathering the newest
finished run of each experiment."""

import json
from pathlib import Path

from common.experiment import ClaimOutcome

MARK = {"reproduced": "yes", "not reproduced": "**no**", "not measured": "n/a"}


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


def claims_table(outcomes: list[dict]) -> str:
    rows = [
        {"claim": o["statement"], "paper": o["paper"], "measured": o["measured"],
         "reproduced": MARK[o["verdict"]]}
        for o in outcomes
    ]
    return markdown_table(rows)


def run_report(module, config, results, outcomes: list[ClaimOutcome], folder: Path, seconds: float,
               figure_names: list[str]) -> str:
    outcome_dicts = [{**o.__dict__, "verdict": o.verdict} for o in outcomes]
    parts = [
        f"# {module.NAME}\n",
        f"{module.REPRODUCES}\n",
        f"Paper: {module.PAPER}. Run folder `{folder}`, {seconds:.1f} s.\n",
        "## Claims\n",
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


def newest_finished_runs(root: Path) -> dict[str, Path]:
    """Per experiment folder, the run whose results.json (written last) is newest: by time,
    not by name, since `--out` names need not be timestamps."""
    newest = {}
    if not root.is_dir():
        return newest
    for experiment in sorted(p for p in root.iterdir() if p.is_dir()):
        finished = [f for f in experiment.iterdir() if (f / "results.json").exists()]
        if finished:
            written = lambda f: ((f / "results.json").stat().st_mtime_ns, f.name)  # noqa: E731
            newest[experiment.name] = max(finished, key=written)
    return newest


def collect(root: Path, order: list[str]) -> str:
    """runs/REPORT.md: per experiment (in registry order) its claims table and
    figures, from its newest finished run."""
    runs = newest_finished_runs(root)
    names = [n for n in order if n in runs] + [n for n in runs if n not in order]
    parts = ["# theory-lab reproduction report\n"]
    summary = []
    for name in names:
        results = json.loads((runs[name] / "results.json").read_text())
        verdicts = [c["verdict"] for c in results["claims"]]
        summary.append({
            "experiment": name, "run": runs[name].name,
            "claims reproduced": f"{verdicts.count('reproduced')}/{len(verdicts)}",
            "seconds": results.get("seconds"),
        })
    parts += [markdown_table(summary)] if summary else ["No finished runs under runs/.\n"]
    for name in names:
        folder = runs[name]
        results = json.loads((folder / "results.json").read_text())
        env = json.loads((folder / "env.json").read_text()) if (folder / "env.json").exists() else {}
        parts += [
            f"## {name}\n",
            f"Run `{folder}` on {env.get('backend', '?')} ({', '.join(sorted(set(env.get('devices', []))))}),"
            f" jax {env.get('jax', '?')}.\n",
            claims_table(results["claims"]),
        ]
        if results.get("notes"):
            parts.append("\n".join(f"- {n}" for n in results["notes"]) + "\n")
        for png in sorted((folder / "figures").glob("*.png")):
            parts.append(f"![{name}/{png.stem}]({png.relative_to(root)})\n")
    return "\n".join(parts)
